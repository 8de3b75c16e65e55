// Agent watches of type "services" with an HTTP handler (docs: agent/watches, "HTTP endpoint"
// handler: POST with the watch result as JSON and the X-Consul-Index header; the plan only fires
// when the result changes) and the emulator's fault injection.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  startConsulEmulator,
  watchesFromAgentConfig,
  type ConsulEmulator,
} from '../../../dev/emulators/consul/index.js';
import { get, put, registerService, sleep } from './helpers.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A tiny watch handler endpoint that records requests and answers with `status` after `delayMs`. */
class Receiver {
  readonly received: Received[] = [];
  status = 200;
  delayMs = 0;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        setTimeout(() => {
          res.writeHead(this.status);
          res.end();
        }, this.delayMs);
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

async function waitFor(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('consul emulator: services watches', () => {
  let emu: ConsulEmulator;
  let rx: Receiver;
  before(async () => {
    rx = new Receiver();
    await rx.start();
    emu = await startConsulEmulator();
  });
  after(async () => {
    await emu.close();
    await rx.stop();
  });

  it('delivers the services view once when added, with index and configured headers', async () => {
    emu.addWatch({
      type: 'services',
      url: `${rx.url}/consul/services`,
      headers: { Authorization: ['Bearer watch-token'], 'X-Extra': ['a', 'b'] },
    });
    await waitFor(() => rx.received.length === 1, 'first delivery');
    const [first] = rx.received;
    assert.ok(first);
    assert.equal(first.method, 'POST');
    assert.equal(first.url, '/consul/services');
    assert.equal(first.headers['content-type'], 'application/json');
    assert.equal(first.headers.authorization, 'Bearer watch-token');
    assert.equal(first.headers['x-extra'], 'a, b');
    assert.deepEqual(JSON.parse(first.body), { consul: [] });
    const current = await get(emu, '/v1/catalog/services');
    assert.equal(first.headers['x-consul-index'], current.headers.get('x-consul-index'));
    // the record is written when the receiver's response ends, after the receiver saw it
    await waitFor(() => emu.deliveries.length === 1, 'first delivery record');
    assert.equal(emu.deliveries[0]?.status, 200);
  });

  it('delivers again when the view changes, not when it stays the same', async () => {
    await registerService(emu, 'n1', { ID: 'web-1', Service: 'web', Tags: ['k8s'] });
    await waitFor(() => rx.received.length === 2, 'delivery after a change');
    assert.deepEqual(JSON.parse(rx.received[1]?.body ?? ''), { consul: [], web: ['k8s'] });
    // another instance with the same name and tags: the view is unchanged
    await registerService(emu, 'n2', { ID: 'web-2', Service: 'web', Tags: ['k8s'] });
    // a check change moves the index but not the view
    await put(emu, '/v1/catalog/register', {
      Node: 'n1',
      Address: '10.0.0.1',
      Check: { Name: 'c', Status: 'passing' },
    });
    await sleep(200);
    assert.equal(rx.received.length, 2);
  });

  it('does not retry a failed delivery', async () => {
    rx.status = 500;
    await registerService(emu, 'n1', { ID: 'db-1', Service: 'db' });
    await waitFor(() => rx.received.length === 3, 'delivery of db');
    await sleep(300);
    assert.equal(rx.received.length, 3);
    assert.equal(emu.deliveries.at(-1)?.status, 500);
    rx.status = 200;
  });

  it('serializes deliveries and coalesces changes made while one is in flight', async () => {
    rx.delayMs = 300;
    const start = rx.received.length;
    await registerService(emu, 'n1', { ID: 'a-1', Service: 'a' });
    await waitFor(() => rx.received.length === start + 1, 'delivery of a');
    // three changes while the handler is still answering
    await registerService(emu, 'n1', { ID: 'b-1', Service: 'b' });
    await registerService(emu, 'n1', { ID: 'c-1', Service: 'c' });
    await registerService(emu, 'n1', { ID: 'd-1', Service: 'd' });
    await waitFor(() => rx.received.length === start + 2, 'the coalesced delivery');
    await sleep(500);
    assert.equal(rx.received.length, start + 2);
    const last = JSON.parse(rx.received.at(-1)?.body ?? '{}') as Record<string, string[]>;
    assert.deepEqual(Object.keys(last).sort(), ['a', 'b', 'c', 'consul', 'd', 'db', 'web']);
    rx.delayMs = 0;
  });

  it('records a delivery that could not connect', async () => {
    const dead = new Receiver();
    await dead.start();
    const url = `${dead.url}/gone`;
    await dead.stop();
    emu.addWatch({ type: 'services', url, timeoutMs: 1000 });
    await waitFor(() => emu.deliveries.some((d) => d.url === url), 'failed delivery record');
    const rec = emu.deliveries.find((d) => d.url === url);
    assert.equal(rec?.status, undefined);
    assert.ok(rec?.error);
  });

  it('runs watches given at start', async () => {
    const other = await startConsulEmulator({
      watches: [{ type: 'services', url: `${rx.url}/at-start` }],
    });
    try {
      await waitFor(
        () => rx.received.some((r) => r.url === '/at-start'),
        'delivery from a start-up watch',
      );
    } finally {
      await other.close();
    }
  });
});

describe('watchesFromAgentConfig', () => {
  const agentConfig = {
    watches: [
      {
        type: 'services',
        handler_type: 'http',
        http_handler_config: {
          path: 'https://k8s-consul-sync.k8s-consul-sync.svc:8443/consul/services',
          method: 'POST',
          header: { Authorization: ['Bearer abc'] },
          timeout: '10s',
        },
      },
      { type: 'key', key: 'x', handler_type: 'script', args: ['/bin/true'] },
    ],
  };

  it('keeps the path and takes scheme/host/port from baseUrl', () => {
    assert.deepEqual(watchesFromAgentConfig(agentConfig, 'http://127.0.0.1:9999'), [
      {
        type: 'services',
        url: 'http://127.0.0.1:9999/consul/services',
        method: 'POST',
        headers: { Authorization: ['Bearer abc'] },
        timeoutMs: 10_000,
      },
    ]);
  });

  it('keeps an absolute path unchanged without a baseUrl, resolves a relative one against it', () => {
    const [abs] = watchesFromAgentConfig(JSON.stringify(agentConfig), '');
    assert.equal(abs?.url, 'https://k8s-consul-sync.k8s-consul-sync.svc:8443/consul/services');
    const [rel] = watchesFromAgentConfig(
      {
        watches: [
          {
            type: 'services',
            handler_type: 'http',
            http_handler_config: { path: '/consul/services' },
          },
        ],
      },
      'http://127.0.0.1:8443',
    );
    assert.equal(rel?.url, 'http://127.0.0.1:8443/consul/services');
  });

  it('rejects an http watch without a path', () => {
    assert.throws(() =>
      watchesFromAgentConfig(
        { watches: [{ type: 'services', handler_type: 'http', http_handler_config: {} }] },
        '',
      ),
    );
  });
});

describe('consul emulator: fault injection', () => {
  let emu: ConsulEmulator;
  before(async () => {
    emu = await startConsulEmulator();
  });
  afterEach(() => emu.faults.clear());
  after(async () => {
    await emu.close();
  });

  it('answers with the given status and body, the given number of times', async () => {
    emu.faults.add({ path: '/v1/catalog/services', status: 500, body: 'boom', times: 2 });
    const a = await get(emu, '/v1/catalog/services');
    const b = await get(emu, '/v1/catalog/services');
    const c = await get(emu, '/v1/catalog/services');
    assert.deepEqual([a.status, a.text, b.status, c.status], [500, 'boom', 500, 200]);
  });

  it('resets the connection', async () => {
    emu.faults.add({ method: 'PUT', path: /^\/v1\/txn/, reset: true, times: 1 });
    await assert.rejects(fetch(`${emu.url}/v1/txn`, { method: 'PUT', body: '[]' }));
    const after = await put(emu, '/v1/txn', []);
    assert.equal(after.status, 200);
  });

  it('delays a request, then handles it normally', async () => {
    emu.faults.add({ path: '/v1/status/leader', delayMs: 300, times: 1 });
    const started = Date.now();
    const res = await get(emu, '/v1/status/leader');
    assert.ok(Date.now() - started >= 290);
    assert.equal(res.status, 200);
  });

  it('matches the method and stays until cleared when times is absent', async () => {
    emu.faults.add({ method: 'PUT', status: 503 });
    assert.equal((await get(emu, '/v1/catalog/services')).status, 200);
    assert.equal((await put(emu, '/v1/txn', [])).status, 503);
    assert.equal((await put(emu, '/v1/txn', [])).status, 503);
    emu.faults.clear();
    assert.equal((await put(emu, '/v1/txn', [])).status, 200);
  });

  it('counts requests by kind', async () => {
    emu.resetRequestCounts();
    await get(emu, '/v1/catalog/service/a');
    await get(emu, '/v1/catalog/service/b');
    await put(emu, '/v1/txn', []);
    assert.deepEqual(emu.requestCounts(), { 'GET /v1/catalog/service/:name': 2, 'PUT /v1/txn': 1 });
  });
});
