// Consul namespaces (Consul Enterprise; docs/reference.md "Consul namespaces"; issue 15), with
// the real clients against the Consul emulator answering as Enterprise and the Kubernetes
// emulator: namespace creation with Meta and policy defaults, registrations in the mirrored or
// destination namespace through admission, audit and reconcile, two sync ids sharing one Consul
// across namespaces, a namespace that cannot be created, and Consul → Kubernetes across
// namespaces with the naming rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startConsulEmulator, type ConsulEmulator } from '../../dev/emulators/consul/index.js';
import { consulCall } from '../support/consul-http.js';
import { startWorld, type World } from '../support/world.js';
import { reconcile } from '../../src/sync/reconcile.js';
import { admissionReview, auditEvent, eventList, service } from '../fixtures/reviews.js';

const call = consulCall;

interface Listed {
  ID: string;
  Service: string;
  Namespace?: string;
  Meta: Record<string, string>;
}

/** Every service on the sync node, in every namespace: [namespace, service, sync id]. */
async function onNode(emu: ConsulEmulator): Promise<[string, string, string][]> {
  const r = await call(emu.url, 'GET', '/v1/catalog/node-services/k8s-sync?ns=*');
  const services = ((r.json as { Services: Listed[] | null } | null)?.Services ?? []).map(
    (s) =>
      [s.Namespace ?? '', s.Service, s.Meta['external-k8s-sync-id'] ?? ''] as [
        string,
        string,
        string,
      ],
  );
  return services.sort((a, b) => a.join('/').localeCompare(b.join('/')));
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const lb = (ns: string, name: string, ip: string) =>
  service(ns, name, { type: 'LoadBalancer', externalIPs: [ip], ports: [{ port: 80 }] });

async function seedNamespaces(w: World, names: string[]): Promise<void> {
  w.kubeEmu.seed(
    names.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
  );
}

const run = (w: World, dryRun = false) =>
  w.runtime
    .deps()
    .then((deps) =>
      reconcile(deps, { direction: 'both', dryRun, force: false, maxDeleteRatio: 1 }),
    );

test('mirroring: namespaces are created with meta and policy defaults; admission, audit and reconcile register into them', async () => {
  const consulEmu = await startConsulEmulator({ enterprise: true });
  const w = await startWorld({
    consulEmu,
    flags: [
      '--sync-id=cluster-a',
      '--to-k8s=false',
      '--enable-namespaces',
      '--enable-k8s-namespace-mirroring',
      '--k8s-namespace-mirroring-prefix=k8s-',
      '--consul-cross-namespace-acl-policy=cross-namespace-read',
    ],
  });
  try {
    await seedNamespaces(w, ['shop', 'pay']);
    // Admission: the stored Service is confirmed and registered in k8s-shop.
    const web = lb('shop', 'web', '192.0.2.1');
    await w.core.createNamespacedService({ namespace: 'shop', body: web });
    const res = await request(w.app)
      .post('/k8s/admission')
      .send(admissionReview({ operation: 'CREATE', namespace: 'shop', name: 'web', object: web }))
      .expect(200);
    assert.equal(res.body.response.allowed, true);
    await until(
      async () => (await onNode(consulEmu)).some(([ns]) => ns === 'k8s-shop'),
      'web in k8s-shop',
    );
    const created = (await call(consulEmu.url, 'GET', '/v1/namespace/k8s-shop')).json as {
      Name: string;
      Description: string;
      Meta: Record<string, string>;
      ACLs: { PolicyDefaults: { Name?: string }[] };
    };
    assert.equal(created.Name, 'k8s-shop');
    assert.deepEqual(created.Meta, { 'external-source': 'kubernetes' });
    assert.deepEqual(
      created.ACLs.PolicyDefaults.map((p) => p.Name),
      ['cross-namespace-read'],
    );
    assert.match(created.Description, /k8s-consul-sync/);

    // Audit: a Service in pay goes to k8s-pay.
    await w.core.createNamespacedService({
      namespace: 'pay',
      body: lb('pay', 'ledger', '192.0.2.2'),
    });
    await request(w.app)
      .post('/k8s/audit')
      .send(
        eventList([
          auditEvent({ verb: 'create', resource: 'services', namespace: 'pay', name: 'ledger' }),
        ]),
      )
      .expect(200, { processed: 1, ignored: 0 });
    assert.deepEqual(await onNode(consulEmu), [
      ['k8s-pay', 'ledger', 'cluster-a'],
      ['k8s-shop', 'web', 'cluster-a'],
    ]);

    // Reconcile: converged already; then a Service created with no event is repaired.
    assert.deepEqual((await run(w, true)).changes, [], 'nothing to change');
    await w.core.createNamespacedService({ namespace: 'pay', body: lb('pay', 'fx', '192.0.2.3') });
    const report = await run(w);
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.deepEqual(await onNode(consulEmu), [
      ['k8s-pay', 'fx', 'cluster-a'],
      ['k8s-pay', 'ledger', 'cluster-a'],
      ['k8s-shop', 'web', 'cluster-a'],
    ]);

    // A namespace the sync created is never deleted, even when its last service goes.
    await w.core.deleteNamespacedService({ namespace: 'shop', name: 'web' });
    assert.equal((await run(w)).ok, true);
    assert.equal((await call(consulEmu.url, 'GET', '/v1/namespace/k8s-shop')).status, 200);
    assert.ok(!(await onNode(consulEmu)).some(([ns]) => ns === 'k8s-shop'));
  } finally {
    await w.close();
    await consulEmu.close();
  }
});

test('two sync ids share one Consul across namespaces; a flag change moves services and never touches the other', async () => {
  const consulEmu = await startConsulEmulator({ enterprise: true });
  const a = await startWorld({
    consulEmu,
    flags: [
      '--sync-id=cluster-a',
      '--to-k8s=false',
      '--enable-namespaces',
      '--enable-k8s-namespace-mirroring',
    ],
  });
  const b = await startWorld({
    consulEmu,
    flags: [
      '--sync-id=cluster-b',
      '--to-k8s=false',
      '--enable-namespaces',
      '--consul-destination-namespace=team-b',
    ],
  });
  try {
    await seedNamespaces(a, ['shop']);
    await seedNamespaces(b, ['shop']);
    await a.core.createNamespacedService({
      namespace: 'shop',
      body: lb('shop', 'web', '192.0.2.1'),
    });
    await b.core.createNamespacedService({
      namespace: 'shop',
      body: lb('shop', 'api', '192.0.2.9'),
    });
    assert.equal((await run(b)).ok, true);
    assert.equal((await run(a)).ok, true);
    assert.deepEqual(await onNode(consulEmu), [
      ['shop', 'web', 'cluster-a'],
      ['team-b', 'api', 'cluster-b'],
    ]);
    // a's Service disappears with no event; a's reconcile deletes only its own.
    await a.core.deleteNamespacedService({ namespace: 'shop', name: 'web' });
    const report = await run(a);
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.deepEqual(await onNode(consulEmu), [['team-b', 'api', 'cluster-b']]);

    // b switches to mirroring: its next reconcile moves api from team-b to shop, in that order.
    const moved = await startWorld({
      consulEmu,
      flags: [
        '--sync-id=cluster-b',
        '--to-k8s=false',
        '--enable-namespaces',
        '--enable-k8s-namespace-mirroring',
      ],
    });
    try {
      await seedNamespaces(moved, ['shop']);
      await moved.core.createNamespacedService({
        namespace: 'shop',
        body: lb('shop', 'api', '192.0.2.9'),
      });
      const plan = await run(moved, true);
      assert.deepEqual(
        plan.changes.map((c) => [
          c.op,
          c.target === 'consul' ? c.registration.namespace : '',
          c.reason,
        ]),
        [
          ['create', 'shop', 'new instance 192.0.2.9:80 of k8s service shop/api'],
          ['delete', 'team-b', 'k8s service shop/api moved to Consul namespace shop'],
        ],
      );
      assert.equal((await run(moved)).ok, true);
      assert.deepEqual(await onNode(consulEmu), [['shop', 'api', 'cluster-b']]);

      // Purge is per sync id across namespaces: b's go, a's (back in shop) stay.
      await a.core.createNamespacedService({
        namespace: 'shop',
        body: lb('shop', 'web', '192.0.2.1'),
      });
      assert.equal((await run(a)).ok, true);
      const purge = await reconcile(await moved.runtime.deps(), {
        direction: 'to-consul',
        dryRun: false,
        force: true,
        maxDeleteRatio: 1,
        purge: true,
      });
      assert.equal(purge.ok, true, JSON.stringify(purge));
      assert.deepEqual(await onNode(consulEmu), [['shop', 'web', 'cluster-a']]);
    } finally {
      await moved.close();
    }
  } finally {
    await a.close();
    await b.close();
    await consulEmu.close();
  }
});

test('a namespace that cannot be created skips only its services, logged and counted', async () => {
  const consulEmu = await startConsulEmulator({ enterprise: true });
  assert.equal((await call(consulEmu.url, 'PUT', '/v1/namespace', { Name: 'ok' })).status, 200);
  const w = await startWorld({
    consulEmu,
    flags: [
      '--sync-id=cluster-a',
      '--to-k8s=false',
      '--enable-namespaces',
      '--enable-k8s-namespace-mirroring',
    ],
  });
  try {
    await seedNamespaces(w, ['ok', 'denied']);
    await w.core.createNamespacedService({ namespace: 'ok', body: lb('ok', 'web', '192.0.2.1') });
    await w.core.createNamespacedService({
      namespace: 'denied',
      body: lb('denied', 'api', '192.0.2.2'),
    });
    consulEmu.faults.add({
      method: 'PUT',
      path: '/v1/namespace',
      status: 403,
      body: 'Permission denied',
    });
    const report = await run(w);
    assert.equal(report.ok, false);
    assert.equal(report.toConsul?.failed, 1);
    assert.match(report.toConsul?.error ?? '', /namespace create.*403/);
    assert.deepEqual(await onNode(consulEmu), [['ok', 'web', 'cluster-a']]);
    assert.ok(
      w.logs.some((l) => l.includes('consul-namespace-unavailable') && l.includes('"denied"')),
    );
    const skipped = await w.metrics.registry.getSingleMetricAsString(
      'k8s_consul_sync_skipped_total',
    );
    assert.match(skipped, /reason="consul-namespace"\} 1/);

    // Once Consul lets it, the next run creates the namespace and registers the service.
    consulEmu.faults.clear();
    assert.equal((await run(w)).ok, true);
    assert.deepEqual(await onNode(consulEmu), [
      ['denied', 'api', 'cluster-a'],
      ['ok', 'web', 'cluster-a'],
    ]);
  } finally {
    await w.close();
    await consulEmu.close();
  }
});

test('Consul → Kubernetes reads every namespace; names never collide and DNS names the namespace', async () => {
  const consulEmu = await startConsulEmulator({ enterprise: true });
  for (const ns of ['team-a', 'team-b'])
    assert.equal((await call(consulEmu.url, 'PUT', '/v1/namespace', { Name: ns })).status, 200);
  for (const [ns, name] of [
    ['default', 'db'],
    ['team-a', 'db'],
    ['team-b', 'cache'],
    ['default', 'db-team-a'],
  ] as const) {
    const r = await call(consulEmu.url, 'PUT', `/v1/catalog/register?ns=${ns}`, {
      Node: 'vm-1',
      Address: '10.9.0.1',
      Service: { ID: `${name}-1`, Service: name, Port: 5432 },
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  }
  const w = await startWorld({
    consulEmu,
    flags: ['--sync-id=cluster-a', '--to-consul=false', '--enable-namespaces'],
  });
  try {
    const report = await run(w);
    assert.equal(report.ok, true, JSON.stringify(report));
    const mirrors = (await w.core.listNamespacedService({ namespace: 'default' })).items
      .filter((s) => s.metadata?.labels?.consul === 'true')
      .map((s) => [s.metadata?.name, s.spec?.externalName])
      .sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    assert.deepEqual(mirrors, [
      ['cache-team-b', 'cache.service.team-b.ns.consul'],
      ['consul', 'consul.service.consul'],
      ['db', 'db.service.consul'],
      // default's db-team-a keeps its name; team-a's db, which maps to it too, is skipped.
      ['db-team-a', 'db-team-a.service.consul'],
    ]);
    assert.ok(report.warnings.some((l) => /team-a\/db skipped: db-team-a already maps/.test(l)));

    // A watch delivery (one namespace's view) converges every namespace: team-b's cache goes.
    assert.equal(
      (
        await call(consulEmu.url, 'PUT', '/v1/catalog/deregister?ns=team-b', {
          Node: 'vm-1',
          ServiceID: 'cache-1',
        })
      ).status,
      200,
    );
    const view = (await call(consulEmu.url, 'GET', '/v1/catalog/services')).json;
    await request(w.app)
      .post('/consul/services')
      .send(view as object)
      .expect(200);
    const after = (await w.core.listNamespacedService({ namespace: 'default' })).items
      .filter((s) => s.metadata?.labels?.consul === 'true')
      .map((s) => s.metadata?.name)
      .sort();
    assert.deepEqual(after, ['consul', 'db', 'db-team-a']);
  } finally {
    await w.close();
    await consulEmu.close();
  }
});

test('--enable-namespaces against Consul CE: the run fails with what Consul said, nothing written', async () => {
  const w = await startWorld({
    flags: ['--sync-id=cluster-a', '--to-k8s=false', '--enable-namespaces'],
  });
  try {
    await seedNamespaces(w, ['shop']);
    await w.core.createNamespacedService({
      namespace: 'shop',
      body: lb('shop', 'web', '192.0.2.1'),
    });
    const report = await run(w);
    assert.equal(report.ok, false);
    assert.match(report.toConsul?.error ?? '', /Namespaces are a Consul Enterprise feature/);
    assert.equal(w.consulEmu.requestCounts()['PUT /v1/txn'] ?? 0, 0);
  } finally {
    await w.close();
  }
});
