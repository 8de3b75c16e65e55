// Blocking queries (api-docs/features/blocking) and ACL behaviour (api-docs/index: tokens;
// acl/errors.go for the texts) of the emulator.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startConsulEmulator, type ConsulEmulator } from '../../../dev/emulators/consul/index.js';
import { client, get, put, registerService, sleep } from './helpers.js';

describe('consul emulator: blocking queries', () => {
  let emu: ConsulEmulator;
  before(async () => {
    emu = await startConsulEmulator();
  });
  after(async () => {
    await emu.close();
  });

  it('returns when the index passes ?index, with the new data and index', async () => {
    const first = await get(emu, '/v1/catalog/services');
    const index = Number(first.headers.get('x-consul-index'));
    const started = Date.now();
    const pending = get(emu, `/v1/catalog/services?index=${index}&wait=5s`);
    await sleep(100);
    await registerService(emu, 'n1', { Service: 'late', Port: 1 });
    const res = await pending;
    assert.ok(Date.now() - started < 2000, 'woke up on the change, not at the timeout');
    assert.ok(Number(res.headers.get('x-consul-index')) > index);
    assert.deepEqual(res.json, { consul: [], late: [] });
  });

  it('returns at the wait timeout with the unchanged index', async () => {
    const first = await get(emu, '/v1/catalog/service/late');
    const index = first.headers.get('x-consul-index');
    const started = Date.now();
    const res = await get(emu, `/v1/catalog/service/late?index=${index}&wait=300ms`);
    const took = Date.now() - started;
    assert.ok(took >= 280, `returned after ${took} ms`);
    assert.ok(took < 3000, `returned after ${took} ms`);
    assert.equal(res.headers.get('x-consul-index'), index);
    assert.equal((res.json as unknown[]).length, 1);
  });

  it('a blocking query on one service is not woken by unrelated writes to the node table only', async () => {
    const first = await get(emu, '/v1/catalog/service/late');
    const index = first.headers.get('x-consul-index');
    const pending = get(emu, `/v1/catalog/service/late?index=${index}&wait=400ms`);
    await sleep(50);
    await put(emu, '/v1/catalog/register', { Node: 'unrelated', Address: '10.0.0.2' });
    const res = await pending;
    assert.equal(res.headers.get('x-consul-index'), index);
  });

  it('wakes health/service queries when a check of the service changes', async () => {
    await put(emu, '/v1/catalog/register', {
      Node: 'n1',
      Address: '10.0.0.1',
      Check: { CheckID: 'late-check', Name: 'c', ServiceID: 'late', Status: 'passing' },
    });
    const first = await get(emu, '/v1/health/service/late');
    const index = Number(first.headers.get('x-consul-index'));
    const pending = get(emu, `/v1/health/service/late?index=${index}&wait=5s`);
    await sleep(50);
    await put(emu, '/v1/catalog/register', {
      Node: 'n1',
      Address: '10.0.0.1',
      Check: { CheckID: 'late-check', Name: 'c', ServiceID: 'late', Status: 'critical' },
    });
    const res = await pending;
    assert.ok(Number(res.headers.get('x-consul-index')) > index);
    const checks = (res.json as { Checks: { Status: string }[] }[])[0]?.Checks ?? [];
    assert.equal(checks[0]?.Status, 'critical');
  });

  it('rejects a bad ?wait or ?index with 400', async () => {
    const wait = await get(emu, '/v1/catalog/services?index=1&wait=soon');
    assert.equal(wait.status, 400);
    assert.equal(wait.text, 'Invalid wait time');
    const index = await get(emu, '/v1/catalog/services?index=abc');
    assert.equal(index.status, 400);
    assert.equal(index.text, 'Invalid index');
  });

  it('close() releases pending blocking queries', async () => {
    const other = await startConsulEmulator();
    const first = await get(other, '/v1/catalog/services');
    const index = first.headers.get('x-consul-index');
    const started = Date.now();
    const pending = get(other, `/v1/catalog/services?index=${index}&wait=1m`).then(
      () => 'answered',
      () => 'dropped',
    );
    await sleep(50);
    await other.close();
    const outcome = await pending;
    assert.ok(['answered', 'dropped'].includes(outcome));
    assert.ok(Date.now() - started < 5000, 'close did not wait for the blocking query');
  });
});

describe('consul emulator: ACLs', () => {
  const token = 'root-secret';
  let emu: ConsulEmulator;
  before(async () => {
    emu = await startConsulEmulator({ token });
    await put(
      emu,
      '/v1/catalog/register',
      { Node: 'n1', Address: '10.0.0.1', Service: { Service: 'web' } },
      {
        'X-Consul-Token': token,
      },
    );
  });
  after(async () => {
    await emu.close();
  });

  it('accepts the token as X-Consul-Token, Authorization: Bearer and ?token=', async () => {
    const variants: Record<string, string>[] = [
      { 'X-Consul-Token': token },
      { Authorization: `Bearer ${token}` },
    ];
    for (const headers of variants) {
      const res = await get(emu, '/v1/catalog/services', headers);
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { consul: [], web: [] });
    }
    const viaQuery = await get(emu, `/v1/catalog/services?token=${token}`);
    assert.deepEqual(viaQuery.json, { consul: [], web: [] });
    const consul = client(emu, token);
    try {
      assert.deepEqual(await consul.catalog.service.list(), { consul: [], web: [] });
    } finally {
      consul.destroy();
    }
  });

  it('answers an unknown token with 403 "ACL not found", reads and writes alike', async () => {
    for (const res of [
      await get(emu, '/v1/catalog/services', { 'X-Consul-Token': 'wrong' }),
      await get(emu, '/v1/agent/self', { Authorization: 'Bearer wrong' }),
      await put(emu, '/v1/txn', [], { 'X-Consul-Token': 'wrong' }),
      await put(
        emu,
        '/v1/catalog/register',
        { Node: 'n2', Address: '1.1.1.1' },
        { 'X-Consul-Token': 'wrong' },
      ),
    ]) {
      assert.equal(res.status, 403);
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.equal(res.text, 'ACL not found');
    }
  });

  it('without a token (anonymous, default deny): writes get 403 Permission denied', async () => {
    const res = await put(emu, '/v1/catalog/register', {
      Node: 'n2',
      Address: '1.1.1.1',
      Service: { Service: 'api' },
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.match(
      res.text,
      /^Permission denied: anonymous token lacks permission 'service:write' on "api"/,
    );
    const dereg = await put(emu, '/v1/catalog/deregister', { Node: 'n1' });
    assert.equal(dereg.status, 403);
    assert.match(dereg.text, /^Permission denied: .*'node:write' on "n1"/);
    assert.ok(emu.snapshot().nodes.some((n) => n.Node === 'n1'));
  });

  it('without a token: reads are filtered to nothing, flagged by X-Consul-Results-Filtered-By-ACLs', async () => {
    const services = await get(emu, '/v1/catalog/services');
    assert.equal(services.status, 200);
    assert.deepEqual(services.json, {});
    assert.equal(services.headers.get('x-consul-results-filtered-by-acls'), 'true');
    const nodes = await get(emu, '/v1/catalog/service/web');
    assert.deepEqual(nodes.json, []);
    assert.equal(nodes.headers.get('x-consul-results-filtered-by-acls'), 'true');
    const self = await get(emu, '/v1/agent/self');
    assert.equal(self.status, 403);
    assert.match(self.text, /^Permission denied: .*'agent:read'/);
    // status endpoints need no token
    assert.equal((await get(emu, '/v1/status/leader')).status, 200);
  });

  it('without a token: txn write ops fail one by one (409), nothing applied', async () => {
    const res = await put(emu, '/v1/txn', [
      { Node: { Verb: 'set', Node: { Node: 'n3', Address: '1.1.1.1' } } },
      { Service: { Verb: 'set', Node: 'n3', Service: { Service: 'api' } } },
    ]);
    assert.equal(res.status, 409);
    const errors = (res.json as { Errors: { OpIndex: number; What: string }[] }).Errors;
    assert.deepEqual(
      errors.map((e) => e.OpIndex),
      [0, 1],
    );
    for (const e of errors) assert.match(e.What, /^Permission denied/);
    assert.equal(
      emu.snapshot().nodes.some((n) => n.Node === 'n3'),
      false,
    );
  });
});
