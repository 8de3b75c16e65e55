// Reconcile's safety nets against what they exist for (issue 14): the delete guard stops mass
// deletions but not the removal of the last few synced services, and a read that Consul filtered
// by ACLs never counts as "these services are gone".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import Consul from 'consul';
import { startWorld } from '../support/world.js';
import { startConsulEmulator } from '../../dev/emulators/consul/index.js';
import { reconcile, type ReconcileOptions } from '../../src/sync/reconcile.js';
import { serviceInstanceId } from '../../src/translate/to-consul.js';
import { service } from '../fixtures/reviews.js';

/** The defaults of the CLI and the CronJob: --max-delete-ratio 0.5, --delete-guard-min 10. */
const defaults: ReconcileOptions = {
  direction: 'both',
  dryRun: false,
  force: false,
  maxDeleteRatio: 0.5,
  deleteGuardMin: 10,
};

test('deleting the only synced Service: the reconcile converges (exit 0, 200) and removes it', async () => {
  const w = await startWorld({ flags: ['--sync-id=cluster-a'] });
  try {
    w.kubeEmu.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }]);
    await w.core.createNamespacedService({
      namespace: 'shop',
      body: service('shop', 'only', {
        type: 'ClusterIP',
        externalIPs: ['192.0.2.7'],
        ports: [{ port: 80 }],
      }),
    });
    const deps = await w.runtime.deps();
    assert.ok((await reconcile(deps, { ...defaults, direction: 'to-consul' })).ok);
    assert.equal((await w.registrations()).length, 1);
    await w.core.deleteNamespacedService({ namespace: 'shop', name: 'only' });
    // 1 of 1 owned is 100 %, far past the ratio, but one deletion is no mass deletion.
    const report = await reconcile(deps, { ...defaults, direction: 'to-consul', dryRun: true });
    assert.ok(report.ok, JSON.stringify(report));
    assert.equal(report.toConsul?.deleted, 1);
    const res = await request(w.app).post('/reconcile?direction=to-consul').expect(200);
    assert.equal(res.body.toConsul.deleted, 1);
    assert.deepEqual(await w.registrations(), []);
  } finally {
    await w.close();
  }
});

test('past --delete-guard-min the ratio guard still refuses a mass deletion', async () => {
  const w = await startWorld({ flags: ['--sync-id=cluster-a', '--delete-guard-min=2'] });
  try {
    w.kubeEmu.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }]);
    for (const n of [1, 2, 3, 4])
      await w.core.createNamespacedService({
        namespace: 'shop',
        body: service('shop', `s${n}`, {
          type: 'ClusterIP',
          externalIPs: [`192.0.2.${n}`],
          ports: [{ port: 80 }],
        }),
      });
    const deps = await w.runtime.deps();
    assert.ok((await reconcile(deps, { ...defaults, direction: 'to-consul' })).ok);
    for (const n of [1, 2, 3])
      await w.core.deleteNamespacedService({ namespace: 'shop', name: `s${n}` });
    const res = await request(w.app).post('/reconcile?direction=to-consul').expect(409);
    assert.equal(res.body.error.code, 'DELETE_RATIO_EXCEEDED');
    assert.equal((await w.registrations()).length, 4, 'nothing deleted');
  } finally {
    await w.close();
  }
});

test('a token that sees part of the catalog: reconcile deletes nothing, applies creates and updates, and says why', async () => {
  const root = 'root-token';
  const partial = 'partial-token';
  const consulEmu = await startConsulEmulator({
    token: root,
    tokens: {
      [partial]: {
        service_prefix: {
          '': { policy: 'write' },
          // What an operator's too narrow policy hides from the sync.
          'secret-': { policy: 'deny' },
          'hidden-': { policy: 'deny' },
        },
        node_prefix: { '': { policy: 'write' } },
      },
    },
  });
  const admin = new Consul({ host: '127.0.0.1', port: consulEmu.port, defaults: { token: root } });
  const w = await startWorld({ flags: ['--sync-id=cluster-a', `--token=${partial}`], consulEmu });
  try {
    w.kubeEmu.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }]);
    // Consul: two services of other nodes, one the token cannot see; one new one.
    for (const name of ['billing-db', 'secret-db', 'new-db'])
      await admin.catalog.register({
        node: 'legacy',
        address: '10.9.0.1',
        service: { id: name, service: name, port: 5432 },
      } as never);
    // Kubernetes: the mirrors an earlier reconcile (with a full token) made of the first two.
    for (const name of ['billing-db', 'secret-db'])
      await w.core.createNamespacedService({
        namespace: 'default',
        body: {
          metadata: {
            name,
            labels: { consul: 'true' },
            annotations: {
              'consul.hashicorp.com/synced': 'true',
              'consul.hashicorp.com/service-sync': 'false',
            },
          },
          spec: { type: 'ExternalName', externalName: `${name}.service.consul` },
        },
      });
    // Our registrations of two Kubernetes services deleted since: one hidden from the token.
    for (const [consulName, k8sName, address] of [
      ['hidden-api', 'hidden-api', '192.0.2.80'],
      ['old-api', 'old-api', '192.0.2.81'],
    ] as const)
      await admin.catalog.register({
        node: 'k8s-sync',
        address: '127.0.0.1',
        nodemeta: { 'external-source': 'kubernetes' },
        service: {
          id: serviceInstanceId(consulName, 'shop', k8sName, address),
          service: consulName,
          address,
          port: 80,
          tags: ['k8s'],
          meta: {
            'external-source': 'kubernetes',
            'external-k8s-ns': 'shop',
            'external-k8s-name': k8sName,
            'external-k8s-sync-id': 'cluster-a',
          },
        },
      } as never);
    // And a Kubernetes service still to register.
    await w.core.createNamespacedService({
      namespace: 'shop',
      body: service('shop', 'new-api', {
        type: 'ClusterIP',
        externalIPs: ['192.0.2.90'],
        ports: [{ port: 80 }],
      }),
    });

    const report = await reconcile(await w.runtime.deps(), defaults);
    assert.equal(report.ok, false, 'a partial view is an error the operator must see');
    assert.equal(report.toK8s?.errorCode, 'CONSUL_READ_FILTERED');
    assert.equal(report.toConsul?.errorCode, 'CONSUL_READ_FILTERED');
    assert.match(report.toK8s?.error ?? '', /filtered .*by ACLs/);
    assert.equal(report.toK8s?.created, 2, 'new-db and consul (the server agent’s service)');
    assert.ok((report.toK8s?.withheldDeletes ?? 0) >= 1, JSON.stringify(report.toK8s));
    assert.equal(report.toConsul?.created, 1, 'new-api is registered');
    assert.equal(report.toK8s?.deleted, 0);
    assert.equal(report.toConsul?.deleted, 0);

    const mirrors = (await w.core.listNamespacedService({ namespace: 'default' })).items
      .map((s) => s.metadata!.name!)
      .sort();
    assert.ok(mirrors.includes('secret-db'), 'the mirror of a service the token cannot see stays');
    assert.ok(mirrors.includes('new-db'));
    const ours = consulEmu
      .snapshot()
      .services.filter((s) => s.Node === 'k8s-sync')
      .map((s) => s.Service)
      .sort();
    assert.deepEqual(ours, ['hidden-api', 'new-api', 'old-api'], 'no deletion from a partial read');

    const withheld = await w.metrics.registry
      .getSingleMetric('k8s_consul_sync_deletes_withheld_total')
      ?.get();
    assert.ok((withheld?.values ?? []).some((v) => v.value > 0));
    const res = await request(w.app).post('/reconcile').expect(502);
    assert.equal(res.body.error.code, 'CONSUL_READ_FILTERED');
  } finally {
    await w.close();
    await consulEmu.close();
  }
});

test('a bare ?dryRun is a dry run; conflicts are listed apart from the changes, never as creates', async () => {
  const w = await startWorld({ flags: ['--sync-id=cluster-a'] });
  try {
    // A Consul service whose Kubernetes name a user's Service holds, and one that is free.
    for (const name of ['billing-db', 'ledger'])
      await w.consul.catalog.register({
        node: 'legacy',
        address: '10.9.0.1',
        service: { id: name, service: name, port: 5432 },
      } as never);
    await w.core.createNamespacedService({
      namespace: 'default',
      body: {
        metadata: { name: 'billing-db' },
        spec: { type: 'ClusterIP', ports: [{ port: 5432 }] },
      },
    });
    const before = w.kubeEmu.requestCounts()['create services'] ?? 0;
    const dry = await request(w.app).post('/reconcile?dryRun&direction=to-k8s').expect(200);
    assert.equal(dry.body.dryRun, true);
    assert.equal(w.kubeEmu.requestCounts()['create services'] ?? 0, before, 'nothing written');
    assert.deepEqual(
      dry.body.changes.filter((c: string) => c.includes('billing-db')),
      [],
    );
    assert.ok(
      dry.body.changes.some((c: string) => c.startsWith('create kubernetes default/ledger')),
    );
    assert.deepEqual(dry.body.skipped, [
      'skip kubernetes default/billing-db (service default/billing-db exists without label consul=true; consul service billing-db not synced)',
    ]);
    await request(w.app).post('/reconcile?dryRun=yes').expect(400);
    await request(w.app).post('/reconcile?dryRun=true&dryRun=false').expect(400);
    const real = await request(w.app).post('/reconcile?direction=to-k8s').expect(200);
    assert.equal(real.body.dryRun, false);
    assert.equal(real.body.toK8s.skipped, 1);
    assert.equal(real.body.skipped.length, 1);
  } finally {
    await w.close();
  }
});

test('a Service held by a finalizer while being deleted is deregistered by reconcile, as by events', async () => {
  const w = await startWorld({ flags: ['--sync-id=cluster-a'] });
  try {
    w.kubeEmu.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }]);
    await w.core.createNamespacedService({
      namespace: 'shop',
      body: {
        metadata: { name: 'held', finalizers: ['example.com/hold'] },
        spec: { type: 'ClusterIP', externalIPs: ['192.0.2.44'], ports: [{ port: 80 }] },
      },
    });
    const deps = await w.runtime.deps();
    assert.ok((await reconcile(deps, { ...defaults, direction: 'to-consul' })).ok);
    assert.equal((await w.registrations()).length, 1);
    await w.core.deleteNamespacedService({ namespace: 'shop', name: 'held' });
    const stored = await w.core.readNamespacedService({ namespace: 'shop', name: 'held' });
    assert.ok(stored.metadata?.deletionTimestamp, 'still stored, being deleted');
    const report = await reconcile(deps, { ...defaults, direction: 'to-consul' });
    assert.equal(report.toConsul?.deleted, 1);
    assert.deepEqual(await w.registrations(), []);
    assert.equal(
      (await reconcile(deps, { ...defaults, direction: 'to-consul' })).changes.length,
      0,
    );
  } finally {
    await w.close();
  }
});
