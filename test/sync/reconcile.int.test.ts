// Reconcile against the emulators: drift in both directions repaired by one run, dry run and
// failed reads write nothing, the delete-ratio guard, two installations sharing one Consul.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startWorld, type World } from '../support/world.js';
import { reconcile, type ReconcileOptions } from '../../src/sync/reconcile.js';
import { endpointSlice, service } from '../fixtures/reviews.js';
import type { Service } from '../../src/translate/types.js';

const both: ReconcileOptions = {
  direction: 'both',
  dryRun: false,
  force: false,
  maxDeleteRatio: 0.5,
  // These worlds are small: the ratio guard is tested on them as if every deletion counted.
  deleteGuardMin: 0,
};

async function seedKube(w: World): Promise<void> {
  w.kubeEmu.seed([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1' },
      status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
    },
  ]);
  const create = (body: Record<string, unknown>) =>
    w.core.createNamespacedService({ namespace: 'shop', body: body });
  await create(
    service('shop', 'web', {
      type: 'NodePort',
      ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }],
    }),
  );
  await create(
    service('shop', 'api', {
      type: 'ClusterIP',
      externalIPs: ['192.0.2.1', '192.0.2.2'],
      ports: [{ port: 8080 }],
    }),
  );
  await create(service('shop', 'db', { type: 'ClusterIP', ports: [{ port: 5432 }] })); // not synced
  await create(
    service('shop', 'cache', {
      type: 'ClusterIP',
      externalIPs: ['192.0.2.9'],
      ports: [{ port: 6379 }],
    }),
  );
  await w.discovery.createNamespacedEndpointSlice({
    namespace: 'shop',
    body: endpointSlice('shop', 'web', 'web-1', [
      { ip: '10.1.0.1', node: 'n1', ready: true },
    ]) as never,
  });
}

async function seedConsul(w: World): Promise<void> {
  for (const name of ['billing-db', 'legacy-api']) {
    await w.consul.catalog.register({
      node: 'legacy',
      address: '10.9.0.1',
      service: { id: name, service: name, port: 1 },
    } as never);
  }
}

/** What a full, correct sync looks like, read back from both systems. */
async function state(w: World) {
  const regs = (await w.registrations())
    .filter((r) => r.Meta['external-k8s-sync-id'] === w.config.syncId)
    .map((r) => `${r.Service} ${r.Address}:${r.Port} ${r.Check?.Status ?? '-'}`)
    .sort();
  const k8s = ((await w.core.listNamespacedService({ namespace: 'default' })).items as Service[])
    .filter((s) => s.metadata?.labels?.consul === 'true')
    .map((s) => `${s.metadata?.name} → ${s.spec?.externalName}`)
    .sort();
  return { regs, k8s };
}

const expected = {
  regs: [
    'api 192.0.2.1:8080 -',
    'api 192.0.2.2:8080 -',
    'cache 192.0.2.9:6379 -',
    'web 10.0.0.1:30080 passing',
  ],
  k8s: [
    'billing-db → billing-db.service.consul',
    'consul → consul.service.consul',
    'legacy-api → legacy-api.service.consul',
  ],
};

test('one reconcile makes both catalogs exact, and repairs drift of every kind', async () => {
  const w = await startWorld({ flags: ['--sync-id=cluster-a'] });
  try {
    await seedKube(w);
    await seedConsul(w);
    const deps = await w.runtime.deps();
    const first = await reconcile(deps, both);
    assert.ok(first.ok, JSON.stringify(first));
    assert.deepEqual(await state(w), expected);
    assert.equal(first.toConsul?.created, 4);
    assert.equal(first.toK8s?.created, 3);

    const second = await reconcile(deps, both);
    assert.deepEqual(
      [second.toConsul?.unchanged, second.changes.length],
      [4, 0],
      'a converged world plans nothing',
    );

    // Drift: a registration edited, one deleted, an orphan with our markers, a foreign one.
    const regs = (await w.registrations()).filter(
      (r) => r.Meta['external-k8s-sync-id'] === 'cluster-a',
    );
    const api1 = regs.find((r) => r.Address === '192.0.2.1')!;
    const cache = regs.find((r) => r.Service === 'cache')!;
    await w.consul.catalog.register({
      node: 'k8s-sync',
      address: '127.0.0.1',
      service: {
        id: api1.ID,
        service: 'api',
        address: '192.0.2.1',
        port: 9999,
        meta: api1.Meta,
        tags: ['k8s'],
      },
    } as never);
    await w.consul.catalog.deregister({ node: 'k8s-sync', serviceid: cache.ID } as never);
    await w.consul.catalog.register({
      node: 'k8s-sync',
      address: '127.0.0.1',
      service: {
        id: 'ghost-1',
        service: 'ghost',
        address: '192.0.2.99',
        port: 1,
        tags: ['k8s'],
        meta: { ...api1.Meta, 'external-k8s-name': 'ghost' },
      },
    } as never);
    await w.consul.catalog.register({
      node: 'k8s-sync',
      address: '127.0.0.1',
      service: { id: 'hand-made', service: 'hand', address: '192.0.2.98', port: 1, tags: ['k8s'] },
    } as never);
    // Kubernetes drift: an owned service deleted, one edited, a user service with our label absent.
    await w.core.deleteNamespacedService({ namespace: 'default', name: 'billing-db' });
    const legacy = await w.core.readNamespacedService({ namespace: 'default', name: 'legacy-api' });
    legacy.spec!.externalName = 'elsewhere.example.com';
    await w.core.replaceNamespacedService({
      namespace: 'default',
      name: 'legacy-api',
      body: legacy,
    });
    await w.core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'mine' }, spec: { type: 'ClusterIP', ports: [{ port: 1 }] } },
    });

    const repair = await reconcile(deps, both);
    assert.ok(repair.ok, JSON.stringify(repair));
    assert.deepEqual(await state(w), expected);
    assert.ok(
      (await w.registrations()).some((r) => r.ID === 'hand-made'),
      'a registration without our markers is never touched',
    );
    assert.ok(await w.core.readNamespacedService({ namespace: 'default', name: 'mine' }));
    const reasons = repair.changes.map((c) => c.reason).join('\n');
    assert.match(reasons, /port 9999 → 8080/);
  } finally {
    await w.close();
  }
});

test('dry run and failed reads write nothing; the endpoint answers 503 when the API server fails a read', async () => {
  const w = await startWorld({ flags: ['--sync-id=cluster-a'] });
  try {
    await seedKube(w);
    await seedConsul(w);
    const deps = await w.runtime.deps();
    w.consulEmu.resetRequestCounts();
    w.kubeEmu.resetRequestCounts();
    const dry = await reconcile(deps, { ...both, dryRun: true });
    assert.equal(dry.changes.length, 7);
    assert.equal(w.consulEmu.requestCounts()['PUT /v1/txn'] ?? 0, 0);
    assert.deepEqual(
      Object.keys(w.kubeEmu.requestCounts()).filter((k) => !/^(list|get|watch)/.test(k)),
      [],
    );
    assert.deepEqual(await state(w), { regs: [], k8s: [] });

    // A failed Kubernetes list aborts the to-consul direction before any write; the answer
    // keeps the edge's code.
    w.kubeEmu.faults.add({ method: 'GET', path: /\/api\/v1\/services/, status: 500 });
    const res = await request(w.app).post('/reconcile?direction=to-consul').expect(503);
    assert.equal(res.body.error.code, 'KUBE_UNAVAILABLE');
    assert.equal(w.consulEmu.requestCounts()['PUT /v1/txn'] ?? 0, 0);
    w.kubeEmu.faults.clear();

    // A failed Consul read aborts both directions' writes that depend on it.
    w.consulEmu.faults.add({ method: 'GET', path: /\/v1\/catalog\/(node|services)/, status: 500 });
    const failed = await reconcile(deps, both);
    assert.equal(failed.ok, false);
    assert.ok(failed.toConsul?.error && failed.toK8s?.error);
    assert.equal(w.consulEmu.requestCounts()['PUT /v1/txn'] ?? 0, 0);
    assert.deepEqual(await state(w), { regs: [], k8s: [] });
    w.consulEmu.faults.clear();

    const ok = await request(w.app).post('/reconcile').expect(200);
    assert.equal(ok.body.toConsul.created, 4);
    assert.equal(ok.body.toK8s.created, 3);
    await request(w.app).post('/reconcile?direction=sideways').expect(400);
    await request(w.app).post('/reconcile?dryRun=maybe').expect(400);
  } finally {
    await w.close();
  }
});

test('a reconcile that would delete more than --max-delete-ratio of owned objects is refused unless forced', async () => {
  const w = await startWorld({ flags: ['--sync-id=cluster-a', '--delete-guard-min=0'] });
  try {
    await seedKube(w);
    const deps = await w.runtime.deps();
    await reconcile(deps, { ...both, direction: 'to-consul' });
    for (const name of ['web', 'api'])
      await w.core.deleteNamespacedService({ namespace: 'shop', name });
    const refused = await reconcile(deps, { ...both, direction: 'to-consul' });
    assert.equal(refused.ok, false);
    assert.match(refused.toConsul?.error ?? '', /refusing to delete 3 of 4 .*--force/);
    assert.equal((await state(w)).regs.length, 4, 'nothing was deleted');
    const res = await request(w.app).post('/reconcile?direction=to-consul').expect(409);
    assert.equal(res.body.error.code, 'DELETE_RATIO_EXCEEDED');
    const forced = await reconcile(deps, { ...both, direction: 'to-consul', force: true });
    assert.ok(forced.ok);
    assert.deepEqual((await state(w)).regs, ['cache 192.0.2.9:6379 -']);
  } finally {
    await w.close();
  }
});

test('two installations sharing one Consul never delete each other’s registrations', async () => {
  const a = await startWorld({ flags: ['--sync-id=cluster-a'] });
  const b = await startWorld({ flags: ['--sync-id=cluster-b'], consulEmu: a.consulEmu });
  try {
    await seedKube(a);
    await seedKube(b);
    await reconcile(await a.runtime.deps(), { ...both, direction: 'to-consul' });
    await reconcile(await b.runtime.deps(), { ...both, direction: 'to-consul' });
    const mine = async (id: string) =>
      (await a.registrations())
        .filter((r) => r.Meta['external-k8s-sync-id'] === id)
        .map((r) => r.Address)
        .sort();
    // Same namespace, names and addresses: B's identical IDs are conflicts, never overwritten.
    assert.deepEqual(await mine('cluster-a'), ['10.0.0.1', '192.0.2.1', '192.0.2.2', '192.0.2.9']);
    // Cluster B's services get their own registrations only where IDs differ; here every ID is
    // taken by A, so B registers nothing and reports conflicts instead of overwriting.
    for (const name of ['web', 'api', 'cache'])
      await a.core.deleteNamespacedService({ namespace: 'shop', name });
    const report = await reconcile(await a.runtime.deps(), {
      ...both,
      direction: 'to-consul',
      force: true,
    });
    assert.ok(report.ok);
    assert.deepEqual(await mine('cluster-a'), []);
    const afterB = await reconcile(await b.runtime.deps(), { ...both, direction: 'to-consul' });
    assert.ok(afterB.ok);
    assert.deepEqual(
      await mine('cluster-b'),
      ['10.0.0.1', '192.0.2.1', '192.0.2.2', '192.0.2.9'],
      'B takes over once A is gone',
    );
  } finally {
    await b.close();
    await a.close();
  }
});

test('two installations on different sync nodes keep both sets through each other’s reconciles', async () => {
  const a = await startWorld({ flags: ['--sync-id=cluster-a', '--consul-node-name=k8s-a'] });
  const b = await startWorld({
    flags: ['--sync-id=cluster-b', '--consul-node-name=k8s-b'],
    consulEmu: a.consulEmu,
  });
  try {
    await seedKube(a);
    await seedKube(b);
    for (let i = 0; i < 2; i++) {
      await reconcile(await a.runtime.deps(), { ...both, direction: 'to-consul', force: true });
      await reconcile(await b.runtime.deps(), { ...both, direction: 'to-consul', force: true });
    }
    assert.equal((await a.registrations('k8s-a')).length, 4);
    assert.equal((await a.registrations('k8s-b')).length, 4);
    for (const name of ['web', 'api', 'cache'])
      await a.core.deleteNamespacedService({ namespace: 'shop', name });
    await reconcile(await a.runtime.deps(), { ...both, direction: 'to-consul', force: true });
    assert.equal((await a.registrations('k8s-a')).length, 0);
    assert.equal((await a.registrations('k8s-b')).length, 4, 'cluster B is untouched');
  } finally {
    await b.close();
    await a.close();
  }
});

test('reconciles sharded by namespace (--allow-k8s-namespace) never delete each other’s registrations', async () => {
  const a = await startWorld({ flags: ['--sync-id=cluster-a', '--allow-k8s-namespace=shop'] });
  try {
    await seedKube(a);
    a.kubeEmu.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'blog' } }]);
    await a.core.createNamespacedService({
      namespace: 'blog',
      body: service('blog', 'posts', {
        type: 'ClusterIP',
        externalIPs: ['192.0.2.77'],
        ports: [{ port: 80 }],
      }),
    });
    // The other shard (same sync id, namespace blog) runs on the same cluster and Consul.
    const kubeConfigB = ['--sync-id=cluster-a', '--allow-k8s-namespace=blog'];
    const b = await startWorld({ flags: kubeConfigB, consulEmu: a.consulEmu });
    try {
      // Shard B reads the same cluster: point its runtime at A's Kubernetes emulator.
      const { createRuntime } = await import('../../src/sync/runtime.js');
      const { parseConfig } = await import('../../src/config/index.js');
      const { KubeConfig } = await import('@kubernetes/client-node');
      const kc = new KubeConfig();
      kc.loadFromString(a.kubeEmu.kubeconfig);
      const shardB = createRuntime(
        parseConfig(['reconcile', `--consul-http-addr=${a.consulEmu.address}`, ...kubeConfigB], {}),
        { logger: b.logger, metrics: b.metrics, kubeConfig: kc },
      );
      const options = { ...both, direction: 'to-consul' as const };
      for (let i = 0; i < 2; i++) {
        assert.ok((await reconcile(await a.runtime.deps(), options)).ok);
        assert.ok((await reconcile(await shardB.deps(), options)).ok);
      }
      const regs = (await a.registrations())
        .map((r) => `${r.Meta['external-k8s-ns']}/${r.Service}`)
        .sort();
      assert.deepEqual(regs, ['blog/posts', 'shop/api', 'shop/api', 'shop/cache', 'shop/web']);
      shardB.close();
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
});

test('a guard refusal in one direction leaves both systems untouched, and the answer says what was planned', async () => {
  const w = await startWorld({ flags: ['--sync-id=cluster-a', '--delete-guard-min=0'] });
  try {
    await seedKube(w);
    await seedConsul(w);
    assert.ok((await reconcile(await w.runtime.deps(), both)).ok);
    for (const name of ['web', 'api'])
      await w.core.deleteNamespacedService({ namespace: 'shop', name });
    await w.consul.catalog.register({
      node: 'legacy',
      address: '10.9.0.1',
      service: { id: 'ledger', service: 'ledger', port: 1 },
    } as never);
    const res = await request(w.app).post('/reconcile').expect(409);
    assert.equal(res.body.error.code, 'DELETE_RATIO_EXCEEDED');
    assert.ok(res.body.error.details, JSON.stringify(res.body));
    assert.equal(res.body.error.details.toConsul.deleted, 3);
    assert.equal(res.body.error.details.toK8s.created, 1);
    assert.match(res.body.error.details.toK8s.error, /not applied/);
    const k8s = (await state(w)).k8s;
    assert.ok(!k8s.some((l) => l.startsWith('ledger')), 'the other direction wrote nothing either');
    assert.equal((await state(w)).regs.length, 4);
  } finally {
    await w.close();
  }
});

test('reconcile --purge: plans, is guarded, then removes everything this sync id made, both ways, and nothing else', async () => {
  const a = await startWorld({ flags: ['--sync-id=cluster-a'] });
  // Cluster B shares the Consul: its registrations must survive A's purge.
  const b = await startWorld({ flags: ['--sync-id=cluster-b'], consulEmu: a.consulEmu });
  try {
    await seedKube(a);
    await seedConsul(a);
    await b.core.createNamespacedService({
      namespace: 'default',
      body: service('default', 'other', {
        type: 'ClusterIP',
        externalIPs: ['198.51.100.7'],
        ports: [{ port: 443 }],
      }),
    });
    // A Service of A's write namespace that A did not make.
    await a.core.createNamespacedService({
      namespace: 'default',
      body: service('default', 'handmade', { type: 'ClusterIP', ports: [{ port: 1 }] }),
    });
    await reconcile(await a.runtime.deps(), both);
    await reconcile(await b.runtime.deps(), { ...both, direction: 'to-consul' });
    const ours = async () =>
      (await a.registrations()).filter((r) => r.Meta['external-k8s-sync-id'] === 'cluster-a');
    const mirrors = async () =>
      (await a.core.listNamespacedService({ namespace: 'default' })).items
        .filter((s) => s.metadata?.labels?.consul === 'true')
        .map((s) => s.metadata?.name)
        .sort();
    assert.equal((await ours()).length, 4);
    assert.deepEqual(await mirrors(), ['billing-db', 'consul', 'legacy-api']);

    const purge = { ...both, purge: true };
    // The plan first: every registration of cluster-a and every mirror, nothing else.
    const dry = await reconcile(await a.runtime.deps(), { ...purge, dryRun: true });
    const deletes = dry.changes.filter((c) => c.op === 'delete');
    assert.equal(deletes.length, dry.changes.length, 'a purge only deletes');
    assert.deepEqual(
      deletes
        .filter((c) => c.target === 'consul')
        .map((c) => (c as { registration: { address: string } }).registration.address)
        .sort(),
      ['10.0.0.1', '192.0.2.1', '192.0.2.2', '192.0.2.9'],
    );
    assert.deepEqual(
      deletes
        .filter((c) => c.target === 'kubernetes')
        .map((c) => (c as { name: string }).name)
        .sort(),
      ['billing-db', 'consul', 'legacy-api'],
    );
    assert.equal((await ours()).length, 4, 'the dry run wrote nothing');
    // The delete guard refuses it unforced.
    const refused = await reconcile(await a.runtime.deps(), purge);
    assert.equal(refused.ok, false);
    assert.equal((await ours()).length, 4);
    // Forced: everything of cluster-a goes, cluster-b's registration and the hand-made Service stay.
    const done = await reconcile(await a.runtime.deps(), { ...purge, force: true });
    assert.equal(done.ok, true, JSON.stringify(done));
    assert.deepEqual(await ours(), []);
    assert.deepEqual(await mirrors(), []);
    assert.ok(
      (await a.core.readNamespacedService({ namespace: 'default', name: 'handmade' })).metadata,
    );
    assert.deepEqual(
      (await a.registrations())
        .filter((r) => r.Meta['external-k8s-sync-id'] === 'cluster-b')
        .map((r) => r.Address),
      ['198.51.100.7'],
    );
    // The Consul services of the VMs are Consul's, untouched.
    const view = await a.consul.catalog.service.list();
    assert.ok('billing-db' in (view as Record<string, unknown>));
  } finally {
    await b.close();
    await a.close();
  }
});

test('consul-k8s registrations on the sync node: named as skipped, left alone; --adopt-consul-k8s takes them over', async () => {
  const w = await startWorld({ flags: ['--sync-id=cluster-a'] });
  try {
    await seedKube(w);
    // What consul-k8s's sync-catalog wrote for shop/api (its IDs: name-sha1("name-addr")[:12];
    // its meta: external-source and external-k8s-ns, no name, no sync id), plus one for a
    // Service that no longer exists.
    const consulK8s = [
      { id: 'api-1b2c3d4e5f60', address: '192.0.2.1' },
      { id: 'api-0a1b2c3d4e5f', address: '192.0.2.2' },
      { id: 'gone-9f8e7d6c5b4a', address: '192.0.2.50', service: 'gone' },
    ];
    for (const r of consulK8s) {
      await w.consul.catalog.register({
        node: 'k8s-sync',
        address: '127.0.0.1',
        service: {
          id: r.id,
          service: r.service ?? 'api',
          address: r.address,
          port: 8080,
          tags: ['k8s'],
          meta: { 'external-source': 'kubernetes', 'external-k8s-ns': 'shop' },
        },
      } as never);
    }
    const ids = async () => (await w.registrations()).map((r) => r.ID).sort();
    const plan = await reconcile(await w.runtime.deps(), {
      ...both,
      direction: 'to-consul',
      dryRun: true,
    });
    assert.deepEqual(
      plan.skipped
        .filter((s) => /consul-k8s/.test(s.reason))
        .map((s) => s.object)
        .sort(),
      consulK8s.map((r) => r.id).sort(),
      'each consul-k8s registration is named',
    );
    assert.ok(
      !plan.changes.some((c) =>
        consulK8s.some((r) => r.id === (c as { registration: { id: string } }).registration.id),
      ),
    );

    // Without the option: ours are registered beside them, theirs untouched.
    await reconcile(await w.runtime.deps(), { ...both, direction: 'to-consul' });
    for (const r of consulK8s) assert.ok((await ids()).includes(r.id), `${r.id} left alone`);

    // Adopted: consul-k8s's are gone, ours (stamped with the sync id) remain, with the reason.
    const dry = await reconcile(await w.runtime.deps(), {
      ...both,
      direction: 'to-consul',
      dryRun: true,
      adoptConsulK8s: true,
    });
    const adopted = dry.changes.filter((c) => c.reason.startsWith('adopted from consul-k8s: '));
    assert.deepEqual(
      adopted.map((c) => [c.op, (c as { registration: { id: string } }).registration.id]).sort(),
      consulK8s.map((r) => ['delete', r.id]).sort(),
    );
    const run = await reconcile(await w.runtime.deps(), {
      ...both,
      direction: 'to-consul',
      adoptConsulK8s: true,
      force: true,
    });
    assert.equal(run.ok, true, JSON.stringify(run));
    const after = await w.registrations();
    assert.deepEqual(
      after.filter((r) => consulK8s.some((c) => c.id === r.ID)),
      [],
    );
    assert.ok(
      after.length > 0 && after.every((r) => r.Meta['external-k8s-sync-id'] === 'cluster-a'),
    );
  } finally {
    await w.close();
  }
});
