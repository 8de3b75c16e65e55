// PUT /v1/txn: shapes from Consul's txn API docs (api-docs/txn.mdx) and error texts from its
// source (agent/txn_endpoint.go, agent/consul/txn_endpoint.go, agent/consul/state/txn.go).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Consul from 'consul';
import { startConsulEmulator, type ConsulEmulator } from '../../../dev/emulators/consul/index.js';
import { client, get, put } from './helpers.js';

interface TxnBody {
  Results: Record<string, Record<string, unknown>>[] | null;
  Errors: { OpIndex: number; What: string }[] | null;
}

const nodeSet = (node: string, extra: Record<string, unknown> = {}): unknown => ({
  Node: { Verb: 'set', Node: { Node: node, Address: '127.0.0.1', ...extra } },
});
const serviceOp = (verb: string, node: string, service: Record<string, unknown>): unknown => ({
  Service: { Verb: verb, Node: node, Service: service },
});

describe('consul emulator: /v1/txn', () => {
  let emu: ConsulEmulator;
  let consul: Consul;
  before(async () => {
    emu = await startConsulEmulator();
    consul = client(emu);
  });
  after(async () => {
    consul.destroy();
    await emu.close();
  });

  it('applies node, service and check sets and returns one result each, with indexes', async () => {
    const res = await put(emu, '/v1/txn', [
      nodeSet('k8s-sync', { Meta: { 'external-source': 'kubernetes' } }),
      serviceOp('set', 'k8s-sync', {
        ID: 'web-1',
        Service: 'web',
        Tags: ['k8s'],
        Port: 80,
        Address: '10.0.0.1',
      }),
      {
        Check: {
          Verb: 'set',
          Check: {
            Node: 'k8s-sync',
            CheckID: 'default/web-1',
            Name: 'Kubernetes Readiness Check',
            ServiceID: 'web-1',
            Status: 'passing',
          },
        },
      },
    ]);
    assert.equal(res.status, 200);
    const body = res.json as TxnBody;
    assert.equal(body.Errors, null);
    assert.equal(body.Results?.length, 3);
    const [node, svc, check] = body.Results ?? [];
    assert.equal(node?.Node?.Node, 'k8s-sync');
    assert.equal(svc?.Service?.ID, 'web-1');
    assert.equal(svc?.Service?.Service, 'web');
    assert.deepEqual(svc?.Service?.Weights, { Passing: 1, Warning: 1 });
    assert.equal(check?.Check?.CheckID, 'default/web-1');
    assert.equal(check?.Check?.ServiceName, 'web');
    const idx = emu.index();
    for (const r of [node?.Node, svc?.Service, check?.Check]) {
      assert.equal(r?.CreateIndex, idx);
      assert.equal(r?.ModifyIndex, idx);
    }
    const health = (await consul.health.service('web')) as {
      Checks: { CheckID: string; Status: string }[];
    }[];
    assert.equal(health[0]?.Checks.find((c) => c.CheckID === 'default/web-1')?.Status, 'passing');
  });

  it('works through the consul client (create(ops, opts))', async () => {
    const create = consul.transaction.create.bind(consul.transaction) as unknown as (
      ops: unknown[],
      opts: Record<string, unknown>,
    ) => Promise<TxnBody>;
    const body = await create([serviceOp('get', 'k8s-sync', { ID: 'web-1' })], {});
    assert.equal(body.Results?.[0]?.Service?.Port, 80);
  });

  it('is all-or-nothing: one failing op rolls back the others and answers 409', async () => {
    const before = emu.snapshot().services.length;
    const res = await put(emu, '/v1/txn', [
      serviceOp('set', 'k8s-sync', { ID: 'web-2', Service: 'web', Port: 81 }),
      serviceOp('set', 'no-such-node', { ID: 'x-1', Service: 'x' }),
    ]);
    assert.equal(res.status, 409);
    assert.equal(res.headers.get('content-type'), 'application/json');
    // state.ErrMissingNode
    assert.deepEqual(res.json, {
      Results: null,
      Errors: [{ OpIndex: 1, What: 'Missing node registration' }],
    });
    assert.equal(emu.snapshot().services.length, before);
    assert.deepEqual(
      ((await consul.catalog.service.nodes('web')) as { ServiceID: string }[]).map(
        (s) => s.ServiceID,
      ),
      ['web-1'],
    );
  });

  it('reports every failing op, not just the first', async () => {
    const res = await put(emu, '/v1/txn', [
      serviceOp('set', 'ghost-a', { ID: 'a', Service: 'a' }),
      serviceOp('set', 'ghost-b', { ID: 'b', Service: 'b' }),
    ]);
    assert.equal(res.status, 409);
    assert.deepEqual(
      (res.json as TxnBody).Errors?.map((e) => e.OpIndex),
      [0, 1],
    );
  });

  it('needs the service name with the ID for a delete ("Must provide service name with ID")', async () => {
    const res = await put(emu, '/v1/txn', [serviceOp('delete', 'k8s-sync', { ID: 'web-1' })]);
    assert.equal(res.status, 409);
    assert.deepEqual(res.json, {
      Results: null,
      Errors: [{ OpIndex: 0, What: 'Must provide service name with ID' }],
    });
    assert.equal(emu.snapshot().services.filter((s) => s.ID === 'web-1').length, 1);
  });

  it('adds no result for delete verbs; deleting what is gone is not an error', async () => {
    await put(emu, '/v1/txn', [serviceOp('set', 'k8s-sync', { ID: 'tmp-1', Service: 'tmp' })]);
    const res = await put(emu, '/v1/txn', [
      serviceOp('delete', 'k8s-sync', { ID: 'tmp-1', Service: 'tmp' }),
      serviceOp('delete', 'k8s-sync', { ID: 'never-there', Service: 'tmp' }),
    ]);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { Results: [], Errors: null });
    assert.equal(
      emu.snapshot().services.some((s) => s.ID === 'tmp-1'),
      false,
    );
  });

  it('deletes a service together with its checks', async () => {
    await put(emu, '/v1/txn', [
      serviceOp('set', 'k8s-sync', { ID: 'chk-1', Service: 'chk' }),
      {
        Check: {
          Verb: 'set',
          Check: {
            Node: 'k8s-sync',
            CheckID: 'chk-1-check',
            Name: 'c',
            ServiceID: 'chk-1',
            Status: 'passing',
          },
        },
      },
    ]);
    await put(emu, '/v1/txn', [serviceOp('delete', 'k8s-sync', { ID: 'chk-1', Service: 'chk' })]);
    assert.equal(
      emu.snapshot().checks.some((c) => c.CheckID === 'chk-1-check'),
      false,
    );
  });

  it("rejects more than 128 operations with 413 and Consul's text", async () => {
    const ops = Array.from({ length: 129 }, (_, i) =>
      serviceOp('set', 'k8s-sync', { ID: `s-${i}`, Service: 's' }),
    );
    const res = await put(emu, '/v1/txn', ops);
    assert.equal(res.status, 413);
    assert.equal(res.text, 'Transaction contains too many operations (129 > 128)');
    const ok = await put(emu, '/v1/txn', ops.slice(0, 128));
    assert.equal(ok.status, 200);
    await put(
      emu,
      '/v1/txn',
      ops
        .slice(0, 128)
        .map((_, i) => serviceOp('delete', 'k8s-sync', { ID: `s-${i}`, Service: 's' })),
    );
  });

  it('fails cas and delete-cas on an index mismatch', async () => {
    const current = emu.snapshot().services.find((s) => s.ID === 'web-1');
    assert.ok(current);
    const stale = current.ModifyIndex + 1000;
    const cas = await put(emu, '/v1/txn', [
      {
        Service: {
          Verb: 'cas',
          Node: 'k8s-sync',
          Service: { ID: 'web-1', Service: 'web', Port: 99, ModifyIndex: stale },
        },
      },
    ]);
    assert.equal(cas.status, 409);
    assert.deepEqual((cas.json as TxnBody).Errors, [
      { OpIndex: 0, What: 'failed to set service "web-1" on node "k8s-sync", index is stale' },
    ]);
    const delCas = await put(emu, '/v1/txn', [
      {
        Service: {
          Verb: 'delete-cas',
          Node: 'k8s-sync',
          Service: { ID: 'web-1', Service: 'web', ModifyIndex: stale },
        },
      },
    ]);
    assert.equal(delCas.status, 409);
    assert.equal(
      (delCas.json as TxnBody).Errors?.[0]?.What,
      'failed to delete service "web-1" on node "k8s-sync", index is stale',
    );
    // with the right index the cas applies
    const good = await put(emu, '/v1/txn', [
      {
        Service: {
          Verb: 'cas',
          Node: 'k8s-sync',
          Service: {
            ID: 'web-1',
            Service: 'web',
            Tags: ['k8s'],
            Port: 80,
            Address: '10.0.0.1',
            ModifyIndex: current.ModifyIndex,
          },
        },
      },
    ]);
    assert.equal(good.status, 200);
    const nodeCas = await put(emu, '/v1/txn', [
      { Node: { Verb: 'cas', Node: { Node: 'k8s-sync', Address: 'x', ModifyIndex: 1 } } },
    ]);
    assert.equal(
      (nodeCas.json as TxnBody).Errors?.[0]?.What,
      'failed to set node "k8s-sync", index is stale',
    );
  });

  it('does not bump ModifyIndex for an unchanged node or service set', async () => {
    const first = (
      await put(emu, '/v1/txn', [
        nodeSet('stable-node', { Meta: { a: '1' } }),
        serviceOp('set', 'stable-node', {
          ID: 'st-1',
          Service: 'st',
          Tags: ['x'],
          Port: 1,
          Weights: { Passing: 5, Warning: 1 },
        }),
      ])
    ).json as TxnBody;
    const raftBefore = emu.index();
    const second = (
      await put(emu, '/v1/txn', [
        nodeSet('stable-node', { Meta: { a: '1' } }),
        serviceOp('set', 'stable-node', {
          ID: 'st-1',
          Service: 'st',
          Tags: ['x'],
          Port: 1,
          Weights: { Passing: 5, Warning: 1 },
        }),
      ])
    ).json as TxnBody;
    assert.ok(emu.index() > raftBefore, 'the txn still takes a raft index');
    assert.equal(second.Results?.[0]?.Node?.ModifyIndex, first.Results?.[0]?.Node?.ModifyIndex);
    assert.equal(
      second.Results?.[1]?.Service?.ModifyIndex,
      first.Results?.[1]?.Service?.ModifyIndex,
    );
    assert.deepEqual(second.Results?.[1]?.Service?.Weights, { Passing: 5, Warning: 1 });
    // a real change bumps ModifyIndex and keeps CreateIndex
    const third = (
      await put(emu, '/v1/txn', [
        serviceOp('set', 'stable-node', { ID: 'st-1', Service: 'st', Tags: ['y'], Port: 1 }),
      ])
    ).json as TxnBody;
    const svc = third.Results?.[0]?.Service;
    assert.equal(svc?.CreateIndex, first.Results?.[1]?.Service?.CreateIndex);
    assert.ok(Number(svc?.ModifyIndex) > Number(first.Results?.[1]?.Service?.ModifyIndex));
  });

  it('validates service meta inside the txn (409 with the error in What)', async () => {
    const res = await put(emu, '/v1/txn', [
      serviceOp('set', 'k8s-sync', {
        ID: 'bad-meta',
        Service: 'bad',
        Meta: { 'consul-reserved': 'x' },
      }),
    ]);
    assert.equal(res.status, 409);
    assert.deepEqual((res.json as TxnBody).Errors, [
      {
        OpIndex: 0,
        What: "Invalid Service Meta for node k8s-sync and serviceID bad-meta: Couldn't load metadata pair ('consul-reserved', 'x'): Key prefix 'consul-' is reserved for internal use",
      },
    ]);
  });

  it('answers read-only txns without a raft index, 409 when a get misses', async () => {
    const before = emu.index();
    const res = await put(emu, '/v1/txn', [serviceOp('get', 'k8s-sync', { ID: 'nope' })]);
    assert.equal(res.status, 409);
    assert.deepEqual((res.json as TxnBody).Errors, [
      { OpIndex: 0, What: 'service "nope" on node "k8s-sync" doesn\'t exist' },
    ]);
    assert.equal(res.headers.get('x-consul-knownleader'), 'true');
    assert.equal(emu.index(), before);
  });

  it('supports KV set/get/delete with base64 values', async () => {
    const value = Buffer.from('hello').toString('base64');
    const set = await put(emu, '/v1/txn', [
      { KV: { Verb: 'set', Key: 'sync/lock', Value: value, Flags: 7 } },
    ]);
    assert.equal(set.status, 200);
    const kv = (set.json as TxnBody).Results?.[0]?.KV;
    assert.equal(kv?.Key, 'sync/lock');
    assert.equal(kv?.Value, null); // writes blank the value in the result
    const got = await put(emu, '/v1/txn', [{ KV: { Verb: 'get', Key: 'sync/lock' } }]);
    assert.equal((got.json as TxnBody).Results?.[0]?.KV?.Value, value);
    assert.equal((got.json as TxnBody).Results?.[0]?.KV?.Flags, 7);
    await put(emu, '/v1/txn', [{ KV: { Verb: 'delete', Key: 'sync/lock' } }]);
    const gone = await put(emu, '/v1/txn', [{ KV: { Verb: 'get', Key: 'sync/lock' } }]);
    assert.equal((gone.json as TxnBody).Errors?.[0]?.What, 'key "sync/lock" doesn\'t exist');
  });

  it('rejects bodies that are not a list of operations with 400', async () => {
    const obj = await put(emu, '/v1/txn', { Service: {} });
    assert.equal(obj.status, 400);
    assert.match(obj.text, /^Failed to parse body: /);
    const junk = await put(emu, '/v1/txn', 'nonsense');
    assert.equal(junk.status, 400);
    const badVerb = await put(emu, '/v1/txn', [
      serviceOp('upsert', 'k8s-sync', { ID: 'a', Service: 'a' }),
    ]);
    assert.equal(badVerb.status, 409);
    assert.equal((badVerb.json as TxnBody).Errors?.[0]?.What, 'unknown service operation: upsert');
  });

  it('changes are visible to the catalog endpoints right after the txn', async () => {
    const res = await get(emu, '/v1/catalog/services');
    const services = res.json as Record<string, string[]>;
    assert.deepEqual(services.web, ['k8s']);
    assert.equal(services.tmp, undefined);
  });
});
