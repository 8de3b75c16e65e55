// Consul Enterprise namespaces and admin partitions (startConsulEmulator({ enterprise: true })).
// Expected shapes from Consul's API docs (api-docs/namespaces.mdx, admin-partitions.mdx,
// catalog.mdx: "Namespace ... takes precedence over the ns query parameter", ns '*' on
// node-services) and texts from its source (agent/http_ce.go for open source, the
// `Namespace "x" does not exist` RPC error of hashicorp/consul#8123).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Consul from 'consul';
import { startConsulEmulator, type ConsulEmulator } from '../../../dev/emulators/consul/index.js';
import { call, client, get, put } from './helpers.js';

type Obj = Record<string, unknown>;

const POLICY = { ID: '77117cf6-d976-79b0-d63b-5a36ac69c8f1', Name: 'service-read' };

describe('consul emulator (enterprise): namespaces', () => {
  let emu: ConsulEmulator;
  before(async () => {
    emu = await startConsulEmulator({ enterprise: true });
  });
  after(() => emu.close());

  it('creates, reads, lists, updates and deletes a namespace', async () => {
    const created = await put(emu, '/v1/namespace', {
      Name: 'team-1',
      Description: 'Namespace for Team 1',
      ACLs: { PolicyDefaults: [POLICY] },
      Meta: { foo: 'bar' },
    });
    assert.equal(created.status, 200, created.text);
    const ns = created.json as Obj;
    assert.equal(ns.Name, 'team-1');
    assert.equal(ns.Description, 'Namespace for Team 1');
    assert.deepEqual((ns.ACLs as Obj).PolicyDefaults, [POLICY]);
    assert.deepEqual(ns.Meta, { foo: 'bar' });
    assert.equal(ns.Partition, 'default');
    assert.equal(typeof ns.CreateIndex, 'number');
    assert.equal(ns.CreateIndex, ns.ModifyIndex);

    const read = await get(emu, '/v1/namespace/team-1');
    assert.equal(read.status, 200);
    assert.deepEqual(read.json, ns);

    const list = await get(emu, '/v1/namespaces');
    assert.equal(list.status, 200);
    const names = (list.json as Obj[]).map((n) => n.Name);
    assert.deepEqual(names, ['default', 'team-1']);
    const builtin = (list.json as Obj[])[0] ?? {};
    assert.equal(builtin.Description, 'Builtin Default Namespace');
    assert.equal(builtin.ACLs, undefined);
    assert.equal(builtin.Meta, undefined);

    const updated = await put(emu, '/v1/namespace/team-1', {
      Description: 'Team 1, renamed',
      Meta: { foo: 'baz' },
    });
    assert.equal(updated.status, 200, updated.text);
    const u = updated.json as Obj;
    assert.equal(u.Name, 'team-1');
    assert.equal(u.Description, 'Team 1, renamed');
    assert.deepEqual(u.Meta, { foo: 'baz' });
    assert.equal(u.CreateIndex, ns.CreateIndex);
    assert.ok((u.ModifyIndex as number) > (ns.ModifyIndex as number));

    const del = await call(emu, 'DELETE', '/v1/namespace/team-1');
    assert.equal(del.status, 200);
    assert.equal((await get(emu, '/v1/namespace/team-1')).status, 404);
    const after = (await get(emu, '/v1/namespaces')).json as Obj[];
    assert.deepEqual(
      after.map((n) => n.Name),
      ['default'],
    );
  });

  it('registers into a namespace and reads it back only with ?ns=', async () => {
    assert.equal((await put(emu, '/v1/namespace', { Name: 'team-a' })).status, 200);
    const reg = await put(emu, '/v1/catalog/register?ns=team-a', {
      Node: 'node-1',
      Address: '10.0.0.1',
      Service: { ID: 'web-1', Service: 'web', Port: 80 },
      Check: { CheckID: 'web-alive', Name: 'web alive', Status: 'passing', ServiceID: 'web-1' },
    });
    assert.equal(reg.status, 200, reg.text);

    assert.deepEqual((await get(emu, '/v1/catalog/service/web')).json, []);
    const inNs = (await get(emu, '/v1/catalog/service/web?ns=team-a')).json as Obj[];
    assert.equal(inNs.length, 1);
    assert.equal(inNs[0]?.ServiceID, 'web-1');
    assert.equal(inNs[0]?.Namespace, 'team-a');
    assert.equal(inNs[0]?.Partition, 'default');

    // the same name in the default namespace is another service
    await put(emu, '/v1/catalog/register', {
      Node: 'node-1',
      Address: '10.0.0.1',
      Service: { ID: 'web-1', Service: 'web', Port: 8080 },
    });
    const def = (await get(emu, '/v1/catalog/service/web')).json as Obj[];
    assert.equal(def.length, 1);
    assert.equal(def[0]?.ServicePort, 8080);
    assert.equal(def[0]?.Namespace, 'default');

    const services = (await get(emu, '/v1/catalog/services?ns=team-a')).json as Obj;
    assert.deepEqual(services, { web: [] });
    const health = (await get(emu, '/v1/health/service/web?ns=team-a')).json as Obj[];
    assert.equal(health.length, 1);
    const checks = (health[0]?.Checks as Obj[]).filter((c) => c.ServiceID === 'web-1');
    assert.equal(checks[0]?.Namespace, 'team-a');
    assert.equal((health[0]?.Service as Obj).Namespace, 'team-a');
    // the header works as the query parameter does
    const byHeader = await get(emu, '/v1/catalog/service/web', { 'X-Consul-Namespace': 'team-a' });
    assert.equal((byHeader.json as Obj[])[0]?.ServicePort, 80);
  });

  it('lets the body Namespace take precedence over ?ns=', async () => {
    const reg = await put(emu, '/v1/catalog/register?ns=default', {
      Node: 'node-2',
      Address: '10.0.0.2',
      Namespace: 'team-a',
      Service: { ID: 'api-1', Service: 'api' },
    });
    assert.equal(reg.status, 200, reg.text);
    assert.deepEqual((await get(emu, '/v1/catalog/service/api')).json, []);
    assert.equal(((await get(emu, '/v1/catalog/service/api?ns=team-a')).json as Obj[]).length, 1);

    const dereg = await put(emu, '/v1/catalog/deregister', {
      Node: 'node-2',
      ServiceID: 'api-1',
      Namespace: 'team-a',
    });
    assert.equal(dereg.status, 200);
    assert.deepEqual((await get(emu, '/v1/catalog/service/api?ns=team-a')).json, []);
  });

  it('lists every namespace with ns=*', async () => {
    const all = (await get(emu, '/v1/catalog/node-services/node-1?ns=*')).json as Obj;
    const svcs = (all.Services as Obj[]).map((s) => `${String(s.Namespace)}/${String(s.ID)}`);
    assert.deepEqual(svcs.sort(), ['default/web-1', 'team-a/web-1']);
    const one = (await get(emu, '/v1/catalog/node-services/node-1')).json as Obj;
    assert.deepEqual(
      (one.Services as Obj[]).map((s) => s.Namespace),
      ['default'],
    );
    const checks = (await get(emu, '/v1/health/node/node-1?ns=*')).json as Obj[];
    assert.ok(checks.some((c) => c.CheckID === 'web-alive' && c.Namespace === 'team-a'));
    const defChecks = (await get(emu, '/v1/health/node/node-1')).json as Obj[];
    assert.ok(!defChecks.some((c) => c.CheckID === 'web-alive'));
  });

  it('applies txn service ops in the op namespace', async () => {
    const res = await put(emu, '/v1/txn', [
      {
        Service: {
          Verb: 'set',
          Node: 'node-1',
          Service: { ID: 'db-1', Service: 'db', Port: 5432, Namespace: 'team-a' },
        },
      },
    ]);
    assert.equal(res.status, 200, res.text);
    const result = ((res.json as Obj).Results as Obj[])[0]?.Service as Obj;
    assert.equal(result.Namespace, 'team-a');
    assert.equal(result.Partition, 'default');
    assert.deepEqual((await get(emu, '/v1/catalog/service/db')).json, []);
    assert.equal(((await get(emu, '/v1/catalog/service/db?ns=team-a')).json as Obj[]).length, 1);

    const read = await put(emu, '/v1/txn', [
      {
        Service: {
          Verb: 'get',
          Node: 'node-1',
          Service: { ID: 'db-1', Namespace: 'team-a' },
        },
      },
    ]);
    assert.equal(read.status, 200, read.text);
    assert.equal((((read.json as Obj).Results as Obj[])[0]?.Service as Obj).Port, 5432);
  });

  it('refuses a write into a namespace that does not exist', async () => {
    const res = await put(emu, '/v1/catalog/register?ns=nope', {
      Node: 'node-1',
      Address: '10.0.0.1',
      Service: { ID: 'x', Service: 'x' },
    });
    assert.equal(res.status, 500);
    assert.equal(res.text, 'Namespace "nope" does not exist');
    assert.deepEqual((await get(emu, '/v1/catalog/service/x?ns=nope')).json, []);

    const txn = await put(emu, '/v1/txn', [
      { Service: { Verb: 'set', Node: 'node-1', Service: { Service: 'x', Namespace: 'nope' } } },
    ]);
    assert.equal(txn.status, 409);
    assert.deepEqual((txn.json as Obj).Errors, [
      { OpIndex: 0, What: 'Namespace "nope" does not exist' },
    ]);
  });

  it('wakes a blocking query on a write in its namespace', async () => {
    const first = await get(emu, '/v1/catalog/service/cache?ns=team-a');
    const index = Number(first.headers.get('x-consul-index'));
    const pending = get(emu, `/v1/catalog/service/cache?ns=team-a&index=${index}&wait=5s`);
    await put(emu, '/v1/catalog/register?ns=team-a', {
      Node: 'node-1',
      Address: '10.0.0.1',
      Service: { ID: 'cache-1', Service: 'cache' },
    });
    const woke = await pending;
    assert.ok(Number(woke.headers.get('x-consul-index')) > index);
    assert.equal((woke.json as Obj[])[0]?.Namespace, 'team-a');
  });
});

describe('consul emulator (enterprise): admin partitions', () => {
  let emu: ConsulEmulator;
  let consul: Consul;
  before(async () => {
    emu = await startConsulEmulator({ enterprise: true });
    consul = client(emu);
  });
  after(async () => {
    consul.destroy();
    await emu.close();
  });

  it('creates, reads and lists partitions; default always exists', async () => {
    const created = await put(emu, '/v1/partition', {
      Name: 'na-west',
      Description: 'Partition for North America West',
    });
    assert.equal(created.status, 200, created.text);
    const p = created.json as Obj;
    assert.equal(p.Name, 'na-west');
    assert.equal(p.Description, 'Partition for North America West');
    assert.equal(p.CreateIndex, p.ModifyIndex);
    assert.deepEqual((await get(emu, '/v1/partition/na-west')).json, p);
    const list = (await get(emu, '/v1/partitions')).json as Obj[];
    assert.deepEqual(
      list.map((x) => [x.Name, x.Description]),
      [
        ['default', 'Builtin Default Partition'],
        ['na-west', 'Partition for North America West'],
      ],
    );
    assert.equal((await get(emu, '/v1/partition/nope')).status, 404);
    // a new partition has its own default namespace
    const nss = (await get(emu, '/v1/namespaces?partition=na-west')).json as Obj[];
    assert.deepEqual(
      nss.map((n) => [n.Name, n.Partition]),
      [['default', 'na-west']],
    );
  });

  it('keeps nodes and services per partition; the consul client reads with partition', async () => {
    const reg = await put(emu, '/v1/catalog/register?partition=na-west', {
      Node: 'consul-server',
      Address: '10.1.0.1',
      Service: { ID: 'web-1', Service: 'web', Port: 80 },
    });
    assert.equal(reg.status, 200, reg.text);
    // the client sends `partition` (a default option of the consul package) though its
    // typings omit it
    const opts = { service: 'web', partition: 'na-west' };
    const nodes = (await consul.catalog.service.nodes(opts)) as unknown as Obj[];
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0]?.Partition, 'na-west');
    assert.equal(nodes[0]?.Namespace, 'default');
    assert.equal(nodes[0]?.Address, '10.1.0.1');
    assert.deepEqual(await consul.catalog.service.nodes({ service: 'web' }), []);

    // same node name in two partitions: two nodes
    const west = (await get(emu, '/v1/catalog/nodes?partition=na-west')).json as Obj[];
    assert.deepEqual(
      west.map((n) => [n.Node, n.Partition, n.Address]),
      [['consul-server', 'na-west', '10.1.0.1']],
    );
    const def = (await get(emu, '/v1/catalog/nodes')).json as Obj[];
    assert.deepEqual(
      def.map((n) => [n.Node, n.Partition, n.Address]),
      [['consul-server', 'default', '127.0.0.1']],
    );
  });

  it('refuses a write into a partition that does not exist', async () => {
    const res = await put(emu, '/v1/catalog/register', {
      Node: 'n',
      Address: '10.0.0.9',
      Partition: 'nope',
    });
    assert.equal(res.status, 500);
    assert.equal(res.text, 'Partition "nope" does not exist');
  });
});

describe('consul emulator (open source): namespaces are an Enterprise feature', () => {
  let emu: ConsulEmulator;
  before(async () => {
    emu = await startConsulEmulator();
  });
  after(() => emu.close());

  it('rejects ?ns= and ?partition= with 400 and the text of agent/http_ce.go', async () => {
    const ns = await get(emu, '/v1/catalog/services?ns=foo');
    assert.equal(ns.status, 400);
    assert.equal(
      ns.text,
      'Invalid query parameter: "ns" - Namespaces are a Consul Enterprise feature',
    );
    const header = await get(emu, '/v1/health/service/web', { 'X-Consul-Namespace': 'foo' });
    assert.equal(header.status, 400);
    assert.equal(
      header.text,
      'Invalid header: "X-Consul-Namespace" - Namespaces are a Consul Enterprise feature',
    );
    const ap = await get(emu, '/v1/catalog/nodes?partition=foo');
    assert.equal(ap.status, 400);
    assert.equal(
      ap.text,
      'Invalid query parameter: "partition" - Partitions are a Consul Enterprise feature',
    );
    const reg = await put(emu, '/v1/catalog/register?ns=foo', { Node: 'n', Address: '10.0.0.1' });
    assert.equal(reg.status, 400);
  });

  it('has no namespace endpoints and no Namespace/Partition fields', async () => {
    const res = await get(emu, '/v1/namespaces');
    assert.equal(res.status, 404);
    // a Namespace body field is an unknown field to open source: ignored
    const reg = await put(emu, '/v1/catalog/register', {
      Node: 'node-1',
      Address: '10.0.0.1',
      Service: { ID: 'web-1', Service: 'web', Namespace: 'team-a' },
    });
    assert.equal(reg.status, 200, reg.text);
    const svc = ((await get(emu, '/v1/catalog/service/web')).json as Obj[])[0] ?? {};
    assert.equal('Namespace' in svc, false);
    assert.equal('Partition' in svc, false);
    const node = ((await get(emu, '/v1/catalog/nodes')).json as Obj[])[0] ?? {};
    assert.equal('Partition' in node, false);
    const snap = emu.snapshot();
    assert.ok(snap.services.every((s) => !('Namespace' in s)));
  });
});
