// Every path of every handler counts its outcome in k8s_consul_sync_events_total exactly once
// (issue 17): bodies and queries that are not events (`bad-request`), a sync id that cannot be
// resolved (`error`), and the runs reconcile counts itself, never twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startWorld, type World } from '../support/world.js';

let w: World;

before(async () => {
  // No --sync-id: the sync id is the uid of kube-system, read on first use.
  w = await startWorld({ flags: ['--confirm-after=', '--breaker-failures=0'] });
});
after(async () => {
  await w.close();
});

async function counts(): Promise<Record<string, number>> {
  const metric = await w.metrics.events.get();
  return Object.fromEntries(
    metric.values.map((v) => [`${v.labels.source} ${v.labels.outcome}`, v.value]),
  );
}

/** The counter changes a request made: `source outcome` → increase. */
async function counted(send: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await counts();
  await send();
  const after = await counts();
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, d]) => d !== 0),
  );
}

test('a body that is not an event is counted once as bad-request, on every event endpoint', async () => {
  for (const [path, source, code] of [
    ['/k8s/admission', 'admission', 'INVALID_ADMISSION_REVIEW'],
    ['/k8s/audit', 'audit', 'INVALID_AUDIT_EVENT_LIST'],
    ['/consul/services', 'consul-watch', 'INVALID_SERVICES_VIEW'],
  ] as const) {
    const diff = await counted(async () => {
      const res = await request(w.app).post(path).send([1, 2]).expect(400);
      assert.equal(res.body.error.code, code);
    });
    assert.deepEqual(diff, { [`${source} bad-request`]: 1 }, path);
  }
  const diff = await counted(() =>
    request(w.app).post('/reconcile?direction=sideways').expect(400),
  );
  assert.deepEqual(diff, { 'reconcile bad-request': 1 });
});

test('a sync id that cannot be resolved fails the reconcile with the edge code, counted once', async () => {
  w.kubeEmu.faults.add({ method: 'GET', path: '/api/v1/namespaces/kube-system', status: 503 });
  try {
    const diff = await counted(async () => {
      const res = await request(w.app).post('/reconcile').expect(503);
      assert.equal(res.body.error.code, 'KUBE_UNAVAILABLE');
    });
    assert.deepEqual(diff, { 'reconcile error': 1 });

    // RBAC refusing the read: an operator must act, and the answer says so.
    w.kubeEmu.faults.clear();
    w.kubeEmu.faults.add({ method: 'GET', path: '/api/v1/namespaces/kube-system', status: 403 });
    const refused = await counted(async () => {
      const res = await request(w.app).post('/reconcile').expect(502);
      assert.equal(res.body.error.code, 'KUBE_REJECTED');
    });
    assert.deepEqual(refused, { 'reconcile error': 1 });
  } finally {
    w.kubeEmu.faults.clear();
  }
});

test('a reconcile run is counted once by the run itself, not again by the handler', async () => {
  const diff = await counted(() => request(w.app).post('/reconcile?dryRun').expect(200));
  assert.deepEqual(diff, { 'reconcile ok': 1 });
});
