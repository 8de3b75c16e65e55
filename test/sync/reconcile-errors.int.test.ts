// Reconcile failures say what they are (issue 17): each direction keeps the code of what failed,
// the answer is the most severe one with its own status (a refusal by an upstream is no 503),
// and every read is bounded: a hanging API server or Consul fails the direction with
// *_UNAVAILABLE (timed out) within RECONCILE_TIMEOUT_FACTOR × --write-timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startWorld, type World } from '../support/world.js';
import { reconcile } from '../../src/sync/reconcile.js';
import { service } from '../fixtures/reviews.js';

async function seed(w: World): Promise<void> {
  w.kubeEmu.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }]);
  await w.core.createNamespacedService({
    namespace: 'shop',
    body: service('shop', 'api', {
      type: 'ClusterIP',
      externalIPs: ['192.0.2.1'],
      ports: [{ port: 8080 }],
    }),
  });
  await w.consul.catalog.register({
    node: 'legacy',
    address: '10.9.0.1',
    service: { id: 'billing-db', service: 'billing-db', port: 5432 },
  } as never);
}

const txns = (w: World): number => w.consulEmu.requestCounts()['PUT /v1/txn'] ?? 0;

test('Consul refusing a read (403, ACL) is 502 CONSUL_REJECTED, not a retryable 503', async () => {
  const w = await startWorld({ flags: ['--sync-id=cluster-a'] });
  try {
    await seed(w);
    w.consulEmu.faults.add({
      method: 'GET',
      path: /^\/v1\/catalog\/node\//,
      status: 403,
      body: 'Permission denied: token lacks node:read',
    });
    const res = await request(w.app).post('/reconcile?direction=to-consul').expect(502);
    assert.equal(res.body.error.code, 'CONSUL_REJECTED');
    assert.match(res.body.error.message, /^to-consul: consul refused .*\(403\)/);
    assert.equal(res.body.error.details.toConsul.errorCode, 'CONSUL_REJECTED');
    assert.equal(txns(w), 0, 'nothing written');
  } finally {
    await w.close();
  }
});

test('the Kubernetes API server down is 503 KUBE_UNAVAILABLE; the other direction is applied', async () => {
  const w = await startWorld({ flags: ['--sync-id=cluster-a'] });
  try {
    await seed(w);
    // Every list of the to-consul direction: the connection is reset.
    w.kubeEmu.faults.add({ method: 'GET', path: /^\/api\/v1\/(services|nodes)/, reset: true });
    const res = await request(w.app).post('/reconcile').expect(503);
    assert.equal(res.body.error.code, 'KUBE_UNAVAILABLE');
    assert.equal(res.body.error.details.toConsul.errorCode, 'KUBE_UNAVAILABLE');
    assert.equal(res.body.error.details.toK8s.error, undefined);
    assert.ok(res.body.error.details.toK8s.created >= 1);
    const mirror = await w.core.readNamespacedService({ namespace: 'default', name: 'billing-db' });
    assert.equal(mirror.spec?.externalName, 'billing-db.service.consul', 'mirrored all the same');
    assert.equal(txns(w), 0, 'the failed direction wrote nothing');
  } finally {
    await w.close();
  }
});

test('the delete guard is 409; with a refusal by Consul in the other direction, the refusal by Consul wins', async () => {
  const w = await startWorld({ flags: ['--sync-id=cluster-a', '--delete-guard-min=0'] });
  try {
    await seed(w);
    for (const name of ['web', 'cache'])
      await w.core.createNamespacedService({
        namespace: 'shop',
        body: service('shop', name, {
          type: 'ClusterIP',
          externalIPs: [`192.0.2.${name.length}`],
          ports: [{ port: 80 }],
        }),
      });
    await request(w.app).post('/reconcile').expect(200);
    for (const name of ['api', 'web'])
      await w.core.deleteNamespacedService({ namespace: 'shop', name });

    const guarded = await request(w.app).post('/reconcile?direction=to-consul').expect(409);
    assert.equal(guarded.body.error.code, 'DELETE_RATIO_EXCEEDED');

    // Both directions fail, differently: the one that needs an operator to fix a token comes
    // first (SEVERITY), and both codes travel in the details.
    w.consulEmu.faults.add({ method: 'GET', path: '/v1/catalog/services', status: 403 });
    const both = await request(w.app).post('/reconcile').expect(502);
    assert.equal(both.body.error.code, 'CONSUL_REJECTED');
    assert.equal(both.body.error.details.toConsul.errorCode, 'DELETE_RATIO_EXCEEDED');
    assert.equal(both.body.error.details.toK8s.errorCode, 'CONSUL_REJECTED');
    assert.match(
      both.body.error.message,
      /to-consul: .*refusing to delete.*; to-k8s: consul refused/,
    );
  } finally {
    await w.close();
  }
});

test('a hanging API server or Consul fails the read at 4 × --write-timeout (KUBE_UNAVAILABLE / CONSUL_UNAVAILABLE, timed out)', async () => {
  const w = await startWorld({ flags: ['--sync-id=cluster-a', '--write-timeout=100ms'] });
  try {
    await seed(w);
    const deps = await w.runtime.deps();
    w.kubeEmu.faults.add({ method: 'GET', path: '/api/v1/services', delayMs: 3000 });
    let started = Date.now();
    const kubeSlow = await reconcile(deps, {
      direction: 'to-consul',
      dryRun: false,
      force: false,
      maxDeleteRatio: 0.5,
    });
    assert.ok(Date.now() - started < 2000, `answered after ${Date.now() - started} ms`);
    assert.equal(kubeSlow.toConsul?.errorCode, 'KUBE_UNAVAILABLE');
    assert.match(kubeSlow.toConsul?.error ?? '', /list services timed out after 400 ms/);
    w.kubeEmu.faults.clear();

    w.consulEmu.faults.add({ method: 'GET', path: /^\/v1\/catalog\/node\//, delayMs: 3000 });
    started = Date.now();
    const res = await request(w.app).post('/reconcile?direction=to-consul').expect(503);
    assert.ok(Date.now() - started < 2000, `answered after ${Date.now() - started} ms`);
    assert.equal(res.body.error.code, 'CONSUL_UNAVAILABLE');
    assert.equal(txns(w), 0);
  } finally {
    w.kubeEmu.faults.clear();
    w.consulEmu.faults.clear();
    await w.close();
  }
});

test('a failed write is WRITE_FAILED when a retry can fix it, else the refusal’s own code', async () => {
  const w = await startWorld({ flags: ['--sync-id=cluster-a'] });
  try {
    await seed(w);
    const cases = [
      { target: 'consul', status: 500, code: 'WRITE_FAILED', http: 503 },
      { target: 'consul', status: 403, code: 'CONSUL_REJECTED', http: 502 },
      { target: 'kubernetes', status: 503, code: 'WRITE_FAILED', http: 503 },
      { target: 'kubernetes', status: 403, code: 'KUBE_REJECTED', http: 502 },
    ] as const;
    for (const c of cases) {
      if (c.target === 'consul')
        w.consulEmu.faults.add({ method: 'PUT', path: '/v1/txn', status: c.status });
      else
        w.kubeEmu.faults.add({
          method: 'POST',
          path: '/api/v1/namespaces/default/services',
          status: c.status,
        });
      const direction = c.target === 'consul' ? 'to-consul' : 'to-k8s';
      const res = await request(w.app).post(`/reconcile?direction=${direction}`).expect(c.http);
      assert.equal(res.body.error.code, c.code, `${c.target} ${c.status}`);
      w.consulEmu.faults.clear();
      w.kubeEmu.faults.clear();
    }
    await request(w.app).post('/reconcile').expect(200);
  } finally {
    await w.close();
  }
});
