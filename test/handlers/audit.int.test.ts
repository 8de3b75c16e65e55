// The audit endpoint answers 503 only for what a resend can fix (issue 17). The API server's audit
// webhook backend resends a failed batch whatever the answer, a 4xx included (k8s.io/apiserver
// plugin/pkg/audit/webhook: retryOnError), with backoff: a failure only an operator can fix (RBAC,
// ACL) is acknowledged 200 with the failures in the body, logged and counted.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startWorld, type World } from '../support/world.js';
import { auditEvent, eventList, service } from '../fixtures/reviews.js';

let w: World;

before(async () => {
  w = await startWorld({
    flags: ['--sync-id=cluster-a', '--confirm-after=', '--breaker-failures=0'],
  });
  w.kubeEmu.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }]);
  for (const [name, ip] of [
    ['rbac', '192.0.2.41'],
    ['acl', '192.0.2.42'],
    ['down', '192.0.2.43'],
  ] as const)
    await w.core.createNamespacedService({
      namespace: 'shop',
      body: service('shop', name, { type: 'ClusterIP', externalIPs: [ip], ports: [{ port: 80 }] }),
    });
});
after(async () => {
  await w.close();
});
beforeEach(() => {
  w.consulEmu.faults.clear();
  w.kubeEmu.faults.clear();
});

const batch = (...names: string[]) =>
  eventList(
    names.map((name) =>
      auditEvent({ verb: 'update', resource: 'services', namespace: 'shop', name }),
    ),
  );

async function auditOutcomes(): Promise<Record<string, number>> {
  const metric = await w.metrics.events.get();
  return Object.fromEntries(
    metric.values
      .filter((v) => v.labels.source === 'audit')
      .map((v) => [String(v.labels.outcome), v.value]),
  );
}

const logged = (event: string): Record<string, unknown>[] =>
  w.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === event);

test('Kubernetes RBAC refusing the read (403): 200 with the failure reported, logged and counted', async () => {
  w.kubeEmu.faults.add({
    method: 'GET',
    path: '/api/v1/namespaces/shop/services/rbac',
    status: 403,
  });
  const before = await auditOutcomes();
  const res = await request(w.app).post('/k8s/audit').send(batch('rbac')).expect(200);
  assert.deepEqual(res.body, {
    processed: 1,
    ignored: 0,
    failed: 1,
    failures: [{ service: 'shop/rbac', code: 'KUBE_REJECTED' }],
  });
  const after = await auditOutcomes();
  assert.equal((after.error ?? 0) - (before.error ?? 0), 1);
  const line = logged('audit').find((l) => l['namespace/name'] === 'shop/rbac');
  assert.equal(line?.code, 'KUBE_REJECTED');
  assert.equal(line?.retryable, false);
  assert.ok(logged('audit-not-retried').length > 0);
});

test('Consul ACL refusing the write (403): 200 with the failure reported', async () => {
  w.consulEmu.faults.add({
    method: 'PUT',
    path: '/v1/txn',
    status: 403,
    body: 'Permission denied: token with AccessorID lacks permission "service:write"',
  });
  const res = await request(w.app).post('/k8s/audit').send(batch('acl')).expect(200);
  assert.equal(res.body.failed, 1);
  assert.deepEqual(res.body.failures, [{ service: 'shop/acl', code: 'CONSUL_REJECTED' }]);
  assert.deepEqual(await w.registrations(), [], 'nothing registered');
});

test('a failure a resend can fix still answers 503, even next to one it cannot', async () => {
  w.kubeEmu.faults.add({
    method: 'GET',
    path: '/api/v1/namespaces/shop/services/rbac',
    status: 403,
  });
  w.consulEmu.faults.add({ method: 'PUT', path: '/v1/txn', status: 500, body: 'no leader' });
  const res = await request(w.app).post('/k8s/audit').send(batch('rbac', 'down')).expect(503);
  assert.equal(res.body.error.code, 'WRITE_FAILED');
  assert.match(res.body.error.message, /1 service\(s\): shop\/down \(CONSUL_UNAVAILABLE\)/);

  // The causes gone, the resent batch converges both.
  w.kubeEmu.faults.clear();
  w.consulEmu.faults.clear();
  await request(w.app)
    .post('/k8s/audit')
    .send(batch('rbac', 'down'))
    .expect(200, { processed: 2, ignored: 0 });
  const services = (await w.registrations()).map((r) => r.Meta['external-k8s-name']).sort();
  assert.deepEqual(services, ['down', 'rbac']);
});
