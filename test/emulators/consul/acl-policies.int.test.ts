// Policy-scoped ACL tokens (the `tokens` option): rule precedence as acl/policy_authorizer.go
// decides it, read filtering as agent/structs/aclfilter does it, write vetting as Catalog.Register
// / Deregister and Txn.preCheck do it, through the real `consul` client where it has the call.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Consul from 'consul';
import {
  accessorIdOf,
  startConsulEmulator,
  watchesFromAgentConfig,
  type AclPolicy,
  type AclRule,
  type AclRules,
  type ConsulEmulator,
} from '../../../dev/emulators/consul/index.js';
import { client, get, put, sleep } from './helpers.js';

const ROOT = 'root-secret';
const rule = (policy: AclPolicy): AclRule => ({ policy });

/** Discovery of web* only, on every node. */
const WEB_READER: AclRules = {
  service_prefix: { web: rule('read') },
  node_prefix: { '': rule('read') },
};
/** Every service, but only node n1. */
const N1_ONLY: AclRules = { service_prefix: { '': rule('read') }, node: { n1: rule('read') } };
/** The product's shape (infra/consul/acl-policy.hcl), narrowed to web* for writes. */
const WRITER: AclRules = {
  node: { 'k8s-sync': rule('write') },
  node_prefix: { '': rule('read') },
  service_prefix: { '': rule('read'), web: rule('write') },
};

interface WithResponse<T> {
  body: T;
  /** X-Consul-Results-Filtered-By-ACLs, undefined when absent. */
  filtered: string | undefined;
}

/** Calls the client with ctx.includeResponse (as src/consul/catalog.ts does) to see headers. */
async function withResponse<T>(
  call: (ctx: EventEmitter) => Promise<unknown>,
): Promise<WithResponse<T>> {
  const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
  const [res, body] = (await call(ctx)) as [{ headers: Record<string, string | undefined> }, T];
  return { body, filtered: res.headers['x-consul-results-filtered-by-acls'] };
}

interface TxnError {
  statusCode?: number;
  response?: { body?: { Errors?: { OpIndex: number; What: string }[] | null } };
}

const asRoot = { 'X-Consul-Token': ROOT };

async function register(emu: ConsulEmulator, body: Record<string, unknown>): Promise<void> {
  const res = await put(emu, '/v1/catalog/register', body, asRoot);
  if (res.status !== 200) throw new Error(`register failed: ${res.status} ${res.text}`);
}

/** n1: web, db and a node check; n2: a second web instance; each service with a check. */
async function seed(emu: ConsulEmulator): Promise<void> {
  await register(emu, {
    Node: 'n1',
    Address: '10.0.0.1',
    Service: { ID: 'web', Service: 'web', Tags: ['v1'] },
    Checks: [
      { CheckID: 'n1-alive', Name: 'alive', Status: 'passing' },
      { CheckID: 'web-check', Name: 'web', ServiceID: 'web', Status: 'passing' },
    ],
  });
  await register(emu, {
    Node: 'n1',
    Address: '10.0.0.1',
    Service: { ID: 'db', Service: 'db' },
    Check: { CheckID: 'db-check', Name: 'db', ServiceID: 'db', Status: 'critical' },
  });
  await register(emu, {
    Node: 'n2',
    Address: '10.0.0.2',
    Service: { ID: 'web-2', Service: 'web', Tags: ['v2'] },
    Check: { CheckID: 'web-2-check', Name: 'web', ServiceID: 'web-2', Status: 'passing' },
  });
}

describe('consul emulator: policy-scoped tokens, reads', () => {
  let emu: ConsulEmulator;
  let root: Consul;
  let webReader: Consul;
  let n1Only: Consul;
  before(async () => {
    emu = await startConsulEmulator({
      token: ROOT,
      tokens: { 'web-reader': WEB_READER, 'n1-only': N1_ONLY },
    });
    await seed(emu);
    root = client(emu, ROOT);
    webReader = client(emu, 'web-reader');
    n1Only = client(emu, 'n1-only');
  });
  after(async () => {
    for (const c of [root, webReader, n1Only]) c.destroy();
    await emu.close();
  });

  it('/v1/catalog/services lists only the names with service read, flagged by the header', async () => {
    const all = await withResponse<Record<string, string[]>>((ctx) =>
      root.catalog.service.list({ ctx } as never),
    );
    assert.deepEqual(Object.keys(all.body).sort(), ['consul', 'db', 'web']);
    assert.equal(all.filtered, undefined);

    const web = await withResponse<Record<string, string[]>>((ctx) =>
      webReader.catalog.service.list({ ctx } as never),
    );
    assert.deepEqual(web.body, { web: ['v1', 'v2'] });
    assert.equal(web.filtered, 'true');
  });

  it('the services listing needs no node read: a token blind to n2 still lists web', async () => {
    const n1 = await withResponse<Record<string, string[]>>((ctx) =>
      n1Only.catalog.service.list({ ctx } as never),
    );
    // filterServices checks the name only, and the tags still come from every instance
    assert.deepEqual(n1.body, { consul: [], db: [], web: ['v1', 'v2'] });
    assert.equal(n1.filtered, undefined);
  });

  it('answers without the header when the token hid nothing', async () => {
    const nodes = await withResponse<{ Node: string }[]>((ctx) =>
      webReader.catalog.service.nodes({ service: 'web', ctx } as never),
    );
    assert.deepEqual(
      nodes.body.map((n) => n.Node),
      ['n1', 'n2'],
    );
    assert.equal(nodes.filtered, undefined);
    // ?filter runs before the ACL filter: what the query leaves out anyway is not "hidden"
    const onlyWeb = await withResponse<Record<string, string[]>>((ctx) =>
      webReader.catalog.service.list({ filter: 'ServiceName == "web"', ctx } as never),
    );
    assert.deepEqual(onlyWeb.body, { web: ['v1', 'v2'] });
    assert.equal(onlyWeb.filtered, undefined);
  });

  it('/v1/catalog/service/:name drops instances on nodes without node read', async () => {
    const web = await withResponse<{ Node: string }[]>((ctx) =>
      n1Only.catalog.service.nodes({ service: 'web', ctx } as never),
    );
    assert.deepEqual(
      web.body.map((n) => n.Node),
      ['n1'],
    );
    assert.equal(web.filtered, 'true');
    const db = await withResponse<unknown[]>((ctx) =>
      webReader.catalog.service.nodes({ service: 'db', ctx } as never),
    );
    assert.deepEqual(db.body, []);
    assert.equal(db.filtered, 'true');
  });

  it('/v1/catalog/node/:node is null for a node without node read, and keeps only readable services', async () => {
    const n2 = await withResponse<unknown>((ctx) =>
      n1Only.catalog.node.services({ node: 'n2', ctx } as never),
    );
    assert.equal(n2.body, null);
    assert.equal(n2.filtered, 'true');
    const missing = await withResponse<unknown>((ctx) =>
      n1Only.catalog.node.services({ node: 'nowhere', ctx } as never),
    );
    assert.equal(missing.body, null);
    assert.equal(missing.filtered, undefined, 'a node that does not exist was not hidden');

    const n1 = await withResponse<{ Node: { Node: string }; Services: Record<string, unknown> }>(
      (ctx) => webReader.catalog.node.services({ node: 'n1', ctx } as never),
    );
    assert.equal(n1.body.Node.Node, 'n1');
    assert.deepEqual(Object.keys(n1.body.Services), ['web']);
    assert.equal(n1.filtered, 'true');

    const list = await get(emu, '/v1/catalog/node-services/n2', { 'X-Consul-Token': 'n1-only' });
    assert.deepEqual(list.json, { Node: null, Services: null });
    assert.equal(list.headers.get('x-consul-results-filtered-by-acls'), 'true');
  });

  it('health/service of a hidden service is empty with the header; of a visible one, unreadable nodes drop out', async () => {
    const db = await withResponse<unknown[]>((ctx) =>
      webReader.health.service({ service: 'db', ctx } as never),
    );
    assert.deepEqual(db.body, []);
    assert.equal(db.filtered, 'true');
    const nothing = await withResponse<unknown[]>((ctx) =>
      webReader.health.service({ service: 'nope', ctx } as never),
    );
    assert.deepEqual(nothing.body, []);
    assert.equal(nothing.filtered, undefined);

    const web = await withResponse<{ Node: { Node: string }; Checks: { CheckID: string }[] }[]>(
      (ctx) => n1Only.health.service({ service: 'web', ctx } as never),
    );
    assert.deepEqual(
      web.body.map((e) => e.Node.Node),
      ['n1'],
    );
    assert.deepEqual(
      web.body[0]?.Checks.map((c) => c.CheckID),
      ['n1-alive', 'web-check'],
    );
    assert.equal(web.filtered, 'true');
  });

  it('?passing applies after the ACL filter: a hidden critical instance still sets the header', async () => {
    const res = await get(emu, '/v1/health/service/db?passing', { 'X-Consul-Token': 'web-reader' });
    assert.deepEqual(res.json, []);
    assert.equal(res.headers.get('x-consul-results-filtered-by-acls'), 'true');
    const asRootRes = await get(emu, '/v1/health/service/db?passing', asRoot);
    assert.deepEqual(asRootRes.json, []);
    assert.equal(asRootRes.headers.get('x-consul-results-filtered-by-acls'), null);
  });

  it('health/node, health/state and catalog/nodes filter by node read, service checks by service read', async () => {
    const checks = await withResponse<{ CheckID: string }[]>((ctx) =>
      webReader.health.node({ node: 'n1', ctx } as never),
    );
    assert.deepEqual(
      checks.body.map((c) => c.CheckID),
      ['n1-alive', 'web-check'],
    );
    assert.equal(checks.filtered, 'true');

    const hiddenNode = await withResponse<unknown[]>((ctx) =>
      n1Only.health.node({ node: 'n2', ctx } as never),
    );
    assert.deepEqual(hiddenNode.body, []);
    assert.equal(hiddenNode.filtered, 'true');

    const any = await withResponse<{ Node: string; CheckID: string }[]>((ctx) =>
      n1Only.health.state({ state: 'any', ctx } as never),
    );
    assert.deepEqual(
      any.body.map((c) => `${c.Node}/${c.CheckID}`),
      ['n1/db-check', 'n1/n1-alive', 'n1/web-check'],
    );
    assert.equal(any.filtered, 'true');

    const nodes = await withResponse<{ Node: string }[]>((ctx) =>
      n1Only.catalog.node.list({ ctx } as never),
    );
    assert.deepEqual(
      nodes.body.map((n) => n.Node),
      ['n1'],
    );
    assert.equal(nodes.filtered, 'true');
    const allNodes = await withResponse<{ Node: string }[]>((ctx) =>
      webReader.catalog.node.list({ ctx } as never),
    );
    assert.deepEqual(
      allNodes.body.map((n) => n.Node),
      ['consul-server', 'n1', 'n2'],
    );
    assert.equal(allNodes.filtered, undefined);
  });

  it('read-only txns drop results the token cannot read and say so', async () => {
    const res = await put(
      emu,
      '/v1/txn',
      [
        { Service: { Verb: 'get', Node: 'n1', Service: { ID: 'web' } } },
        { Service: { Verb: 'get', Node: 'n1', Service: { ID: 'db' } } },
      ],
      { 'X-Consul-Token': 'web-reader' },
    );
    assert.equal(res.status, 200);
    const results = (res.json as { Results: { Service: { ID: string } }[] }).Results;
    assert.deepEqual(
      results.map((r) => r.Service.ID),
      ['web'],
    );
    assert.equal(res.headers.get('x-consul-results-filtered-by-acls'), 'true');
  });

  it('a policy-scoped token has no agent rights', async () => {
    const res = await get(emu, '/v1/agent/self', { 'X-Consul-Token': 'web-reader' });
    assert.equal(res.status, 403);
    assert.equal(
      res.text,
      `Permission denied: token with AccessorID '${accessorIdOf('web-reader')}' lacks permission 'agent:read' on "consul-server"`,
    );
    assert.equal((await get(emu, '/v1/agent/self', asRoot)).status, 200);
  });
});

describe('consul emulator: policy-scoped tokens, the service ID quirk of /v1/catalog/node/:node', () => {
  let emu: ConsulEmulator;
  before(async () => {
    emu = await startConsulEmulator({ token: ROOT, tokens: { 'web-reader': WEB_READER } });
    // an ID that reads as web on a db service, and a web service whose ID does not start with web
    await register(emu, {
      Node: 'n1',
      Address: '10.0.0.1',
      Service: { ID: 'web-looking-db', Service: 'db' },
    });
    await register(emu, {
      Node: 'n1',
      Address: '10.0.0.1',
      Service: { ID: 'frontend-1', Service: 'web' },
    });
  });
  after(async () => {
    await emu.close();
  });

  it('node/:node checks service read on the map key (the service ID), node-services on the name', async () => {
    const headers = { 'X-Consul-Token': 'web-reader' };
    const asMap = await get(emu, '/v1/catalog/node/n1', headers);
    assert.deepEqual(Object.keys((asMap.json as { Services: object }).Services), [
      'web-looking-db',
    ]);
    assert.equal(asMap.headers.get('x-consul-results-filtered-by-acls'), 'true');
    const asList = await get(emu, '/v1/catalog/node-services/n1', headers);
    assert.deepEqual(
      (asList.json as { Services: { ID: string }[] }).Services.map((s) => s.ID),
      ['frontend-1'],
    );
    assert.equal(asList.headers.get('x-consul-results-filtered-by-acls'), 'true');
  });
});

describe('consul emulator: policy-scoped tokens, writes', () => {
  let emu: ConsulEmulator;
  let writer: Consul;
  const denied = (resource: string, name: string): string =>
    `Permission denied: token with AccessorID '${accessorIdOf('writer')}' lacks permission '${resource}:write' on "${name}"`;
  const asWriter = { 'X-Consul-Token': 'writer' };
  before(async () => {
    emu = await startConsulEmulator({ token: ROOT, tokens: { writer: WRITER } });
    await seed(emu);
    writer = client(emu, 'writer');
  });
  after(async () => {
    writer.destroy();
    await emu.close();
  });

  const txnOps = (services: string[]): unknown[] => [
    { Node: { Verb: 'set', Node: { Node: 'k8s-sync', Address: '127.0.0.1' } } },
    ...services.map((name) => ({
      Service: { Verb: 'set', Node: 'k8s-sync', Service: { ID: `${name}-1`, Service: name } },
    })),
  ];

  it('a txn writing a service the token may not write fails with 409, the op named, nothing applied', async () => {
    const before = emu.index();
    // the package's ResponseError carries the response, as src/consul/errors.ts reads it
    const err = await writer.transaction.create(txnOps(['web', 'db']) as never).then(
      () => assert.fail('the txn was applied'),
      (e: unknown) => e as TxnError,
    );
    assert.equal(err.statusCode, 409);
    assert.deepEqual(err.response?.body?.Errors, [{ OpIndex: 2, What: denied('service', 'db') }]);
    assert.equal(emu.index(), before, 'no raft index was taken');
    const snap = emu.snapshot();
    assert.equal(
      snap.nodes.some((n) => n.Node === 'k8s-sync'),
      false,
    );
    assert.equal(
      snap.services.some((s) => s.ID === 'web-1'),
      false,
    );

    // the same txn without db is within the token's rights
    await writer.transaction.create(txnOps(['web']) as never);
    assert.ok(emu.snapshot().services.some((s) => s.Node === 'k8s-sync' && s.ID === 'web-1'));
  });

  it('txn node and check ops need node write (node-level) or service write (service checks)', async () => {
    const res = await put(
      emu,
      '/v1/txn',
      [
        { Node: { Verb: 'set', Node: { Node: 'n1', Address: '10.9.9.9' } } },
        {
          Check: {
            Verb: 'set',
            Check: {
              Node: 'k8s-sync',
              CheckID: 'db-1-check',
              ServiceID: 'db-1',
              ServiceName: 'db',
            },
          },
        },
        {
          Check: {
            Verb: 'set',
            Check: {
              Node: 'k8s-sync',
              CheckID: 'web-1-check',
              ServiceID: 'web-1',
              ServiceName: 'web',
            },
          },
        },
      ],
      asWriter,
    );
    assert.equal(res.status, 409);
    assert.deepEqual((res.json as { Errors: unknown }).Errors, [
      { OpIndex: 0, What: denied('node', 'n1') },
      { OpIndex: 1, What: denied('service', 'db') },
    ]);
    assert.equal(emu.snapshot().nodes.find((n) => n.Node === 'n1')?.Address, '10.0.0.1');
  });

  it('catalog register: service write on the name, node write only when the node changes', async () => {
    const db = await put(
      emu,
      '/v1/catalog/register',
      { Node: 'k8s-sync', Address: '127.0.0.1', Service: { ID: 'db-2', Service: 'db' } },
      asWriter,
    );
    assert.equal(db.status, 403);
    assert.equal(db.text, denied('service', 'db'));

    const moved = await put(
      emu,
      '/v1/catalog/register',
      { Node: 'n1', Address: '10.9.9.9', Service: { ID: 'web-9', Service: 'web' } },
      asWriter,
    );
    assert.equal(moved.status, 403);
    assert.equal(moved.text, denied('node', 'n1'));

    // re-posting n1 exactly as it is needs no node write (vetRegisterWithACL)
    const same = await put(
      emu,
      '/v1/catalog/register',
      { Node: 'n1', Address: '10.0.0.1', Service: { ID: 'web-9', Service: 'web' } },
      asWriter,
    );
    assert.equal(same.status, 200, same.text);
    assert.ok(emu.snapshot().services.some((s) => s.Node === 'n1' && s.ID === 'web-9'));

    // taking over an ID that holds another service needs write on that one too
    const takeover = await put(
      emu,
      '/v1/catalog/register',
      { Node: 'n1', Address: '10.0.0.1', Service: { ID: 'db', Service: 'web' } },
      asWriter,
    );
    assert.equal(takeover.status, 403);
    assert.equal(takeover.text, 'Permission denied');
    assert.equal(emu.snapshot().services.find((s) => s.ID === 'db')?.Service, 'db');
  });

  it('catalog deregister: node write covers the node, else service write on the service', async () => {
    const db = await put(emu, '/v1/catalog/deregister', { Node: 'n1', ServiceID: 'db' }, asWriter);
    assert.equal(db.status, 403);
    assert.equal(db.text, denied('service', 'db'));
    const node = await put(emu, '/v1/catalog/deregister', { Node: 'n1' }, asWriter);
    assert.equal(node.status, 403);
    assert.equal(node.text, denied('node', 'n1'));
    const web = await put(
      emu,
      '/v1/catalog/deregister',
      { Node: 'n1', ServiceID: 'web-9' },
      asWriter,
    );
    assert.equal(web.status, 200, web.text);

    // a db instance on the token's own node goes with node write alone
    await register(emu, {
      Node: 'k8s-sync',
      Address: '127.0.0.1',
      Service: { ID: 'db-7', Service: 'db' },
    });
    const own = await put(
      emu,
      '/v1/catalog/deregister',
      { Node: 'k8s-sync', ServiceID: 'db-7' },
      asWriter,
    );
    assert.equal(own.status, 200, own.text);
    const snap = emu.snapshot();
    assert.equal(
      snap.services.some((s) => s.ID === 'db-7' || s.ID === 'web-9'),
      false,
    );
    assert.ok(snap.services.some((s) => s.Node === 'n1' && s.ID === 'db'));
  });
});

describe('consul emulator: policy-scoped tokens, rule precedence', () => {
  let emu: ConsulEmulator;
  let consul: Consul;
  const names = [
    'api-v1',
    'api-v2',
    'db-public',
    'db-private',
    'metrics',
    'metrics-v2',
    'web-ok-1',
    'web-x',
    'internal-x',
    'other',
    'wx',
  ];
  before(async () => {
    emu = await startConsulEmulator({
      token: ROOT,
      tokens: {
        precedence: {
          node_prefix: { '': rule('write') },
          service: { 'api-v1': rule('deny'), 'db-public': rule('read'), metrics: rule('deny') },
          service_prefix: {
            '': rule('read'),
            api: rule('read'),
            db: rule('deny'),
            internal: rule('deny'),
            w: rule('write'),
            web: rule('deny'),
            'web-ok': rule('read'),
          },
        },
      },
    });
    for (const name of names) {
      await register(emu, { Node: 'n1', Address: '10.0.0.1', Service: { Service: name } });
    }
    consul = client(emu, 'precedence');
  });
  after(async () => {
    consul.destroy();
    await emu.close();
  });

  it('exact beats prefix, the longest prefix wins, a longer deny beats a shorter read', async () => {
    const seen = await withResponse<Record<string, string[]>>((ctx) =>
      consul.catalog.service.list({ ctx } as never),
    );
    assert.deepEqual(Object.keys(seen.body).sort(), [
      'api-v2', // service_prefix "api" read
      'consul', // service_prefix "" read
      'db-public', // exact read over service_prefix "db" deny
      'metrics-v2', // an exact rule covers its own name only
      'other',
      'web-ok-1', // "web-ok" read is longer than "web" deny
      'wx', // "w" write implies read
    ]);
    assert.equal(seen.filtered, 'true');
  });

  it('the longest prefix decides writes too: a longer read takes a shorter write away', async () => {
    const op = (name: string): unknown => ({
      Service: { Verb: 'set', Node: 'n1', Service: { ID: `${name}-2`, Service: name } },
    });
    const res = await put(emu, '/v1/txn', [op('wx'), op('web-ok'), op('web-x')], {
      'X-Consul-Token': 'precedence',
    });
    assert.equal(res.status, 409);
    const errors = (res.json as { Errors: { OpIndex: number; What: string }[] }).Errors;
    assert.deepEqual(
      errors.map((e) => e.OpIndex),
      [1, 2],
    );
    assert.match(errors[0]?.What ?? '', /lacks permission 'service:write' on "web-ok"$/);
    const ok = await put(emu, '/v1/txn', [op('wx')], { 'X-Consul-Token': 'precedence' });
    assert.equal(ok.status, 200, ok.text);
  });
});

describe('consul emulator: policy-scoped tokens, token resolution', () => {
  let emu: ConsulEmulator;
  before(async () => {
    // ACLs on through `tokens` alone: there is no management token
    emu = await startConsulEmulator({ tokens: { 'web-reader': WEB_READER } });
  });
  after(async () => {
    await emu.close();
  });

  it('an unknown token is 403 "ACL not found"; no token is the anonymous token', async () => {
    const unknown = await get(emu, '/v1/catalog/services', { 'X-Consul-Token': ROOT });
    assert.equal(unknown.status, 403);
    assert.equal(unknown.text, 'ACL not found');
    const reader = await get(emu, '/v1/catalog/services', { 'X-Consul-Token': 'web-reader' });
    assert.equal(reader.status, 200);
    assert.deepEqual(reader.json, {});
    assert.equal(reader.headers.get('x-consul-results-filtered-by-acls'), 'true');
    const anonymous = await get(emu, '/v1/catalog/services');
    assert.equal(anonymous.status, 200);
    assert.deepEqual(anonymous.json, {});
    assert.equal(anonymous.headers.get('x-consul-results-filtered-by-acls'), 'true');
    const denied = await put(emu, '/v1/catalog/register', {
      Node: 'n1',
      Address: '10.0.0.1',
      Service: { Service: 'web' },
    });
    assert.equal(denied.status, 403);
    assert.match(
      denied.text,
      /^Permission denied: anonymous token lacks permission 'service:write' on "web"\. The anonymous token/,
    );
  });
});

describe('consul emulator: policy-scoped tokens, watches', () => {
  let emu: ConsulEmulator;
  let server: Server;
  let url = '';
  before(async () => {
    emu = await startConsulEmulator({ token: ROOT, tokens: { 'web-reader': WEB_READER } });
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    await seed(emu);
  });
  after(async () => {
    await emu.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const bodies = (who: string): unknown[] =>
    emu.deliveries
      .filter((d) => d.url.endsWith(`who=${who}`))
      .map((d) => JSON.parse(d.body ?? 'null') as unknown);
  async function waitFor(cond: () => boolean, what: string): Promise<void> {
    const until = Date.now() + 3000;
    while (!cond()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }

  it('a watch naming a token sees what that token reads; an unknown one delivers nothing', async () => {
    emu.addWatch({ type: 'services', url: `${url}?who=reader`, token: 'web-reader' });
    emu.addWatch({ type: 'services', url: `${url}?who=nobody`, token: 'nobody' });
    emu.addWatch({ type: 'services', url: `${url}?who=management` });
    await waitFor(
      () => bodies('reader').length > 0 && bodies('management').length > 0,
      'the first deliveries',
    );
    assert.deepEqual(bodies('reader'), [{ web: ['v1', 'v2'] }]);
    assert.deepEqual(bodies('management'), [{ consul: [], db: [], web: ['v1', 'v2'] }]);

    // a change to db only reaches the watch that can see db
    await register(emu, {
      Node: 'n2',
      Address: '10.0.0.2',
      Service: { ID: 'db-2', Service: 'db', Tags: ['replica'] },
    });
    await waitFor(() => bodies('management').length === 2, 'the db change');
    await register(emu, {
      Node: 'n2',
      Address: '10.0.0.2',
      Service: { ID: 'web-3', Service: 'web', Tags: ['v3'] },
    });
    await waitFor(() => bodies('reader').length === 2, 'the web change');
    assert.deepEqual(bodies('reader'), [{ web: ['v1', 'v2'] }, { web: ['v1', 'v2', 'v3'] }]);
    assert.deepEqual(bodies('nobody'), []);
  });

  it('reads the watch token from the agent config', () => {
    const [watch] = watchesFromAgentConfig(
      {
        watches: [
          {
            type: 'services',
            token: 'web-reader',
            handler_type: 'http',
            http_handler_config: { path: '/consul/services' },
          },
        ],
      },
      'http://127.0.0.1:1',
    );
    assert.equal(watch?.token, 'web-reader');
  });
});

describe('consul emulator: the tokens option is validated', () => {
  it('rejects rule kinds and policies it does not enforce, and a reused management token', async () => {
    await assert.rejects(
      startConsulEmulator({ tokens: { t: { services: {} } as unknown as AclRules } }),
      /unsupported rule kind "services"/,
    );
    await assert.rejects(
      startConsulEmulator({
        tokens: { t: { service_prefix: { '': { policy: 'list' } } } as unknown as AclRules },
      }),
      /invalid service_prefix policy for "": "list"/,
    );
    await assert.rejects(
      startConsulEmulator({ token: ROOT, tokens: { [ROOT]: WEB_READER } }),
      /cannot reuse the management token/,
    );
  });
});
