// Consul → Kubernetes deliveries (issue 14): the newest view wins (X-Consul-Index), bursts are
// coalesced, a name held by a Service that is not ours costs no write attempt, and a down API
// server opens the Kubernetes breaker until the current view can be converged.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startWiredWorld, waitFor, type WiredWorld } from '../support/wired.js';
import { ViewEvents } from '../../src/sync/view-events.js';

let w: WiredWorld;

before(async () => {
  w = await startWiredWorld({
    flags: ['--sync-id=cluster-a', '--breaker-failures=2', '--breaker-probe-interval=100ms'],
  });
  await w.runtime.deps();
});
after(async () => {
  await w.close();
});
beforeEach(() => {
  w.kubeEmu.faults.clear();
  w.kubeEmu.resetRequestCounts();
});

async function register(name: string): Promise<number> {
  await w.consul.catalog.register({
    node: 'legacy',
    address: '10.9.0.1',
    service: { id: name, service: name, port: 5432 },
  } as never);
  return w.consulEmu.index();
}

async function deregister(name: string): Promise<number> {
  await w.consul.catalog.deregister({ node: 'legacy', serviceID: name } as never);
  return w.consulEmu.index();
}

/** The view as Consul holds it now, with its index, as the agent's watch would deliver it. */
async function currentView(): Promise<{ view: Record<string, string[]>; index: number }> {
  const res = await fetch(`${w.consulEmu.url}/v1/catalog/services`);
  return {
    view: (await res.json()) as Record<string, string[]>,
    index: Number(res.headers.get('x-consul-index')),
  };
}

function deliver(view: Record<string, string[]>, index: number | undefined) {
  return w.served.post(
    '/consul/services',
    view,
    index === undefined ? {} : { 'X-Consul-Index': String(index) },
  );
}

async function mirrored(name: string): Promise<boolean> {
  const list = await w.core.listNamespacedService({ namespace: 'default' });
  return list.items.some((s) => s.metadata?.name === name && s.metadata.labels?.consul === 'true');
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const m = await w.metrics.registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

test('an older delivery after a newer one changes nothing', async () => {
  await register('ledger');
  const withLedger = await currentView();
  const idx = await deregister('ledger');
  assert.ok(idx > withLedger.index);
  const without = await currentView();
  // The newer view (ledger gone) arrives first, the agent's late retry of the older one after.
  assert.equal((await deliver(without.view, without.index)).status, 200);
  w.kubeEmu.resetRequestCounts();
  const stale = await deliver(withLedger.view, withLedger.index);
  assert.equal(stale.status, 200, stale.text);
  assert.deepEqual(stale.json, {
    index: String(withLedger.index),
    stale: true,
    newest: without.index,
  });
  assert.equal(await mirrored('ledger'), false, 'the older view was not applied');
  assert.equal(w.kubeEmu.requestCounts()['create services'] ?? 0, 0);
  assert.ok(
    (await metric('k8s_consul_sync_events_total', { source: 'consul-watch', outcome: 'stale' })) >=
      1,
  );
  // The same index again is applied (idempotent): only older ones are skipped.
  const again = await deliver(without.view, without.index);
  assert.equal(again.status, 200);
  assert.equal((again.json as { stale?: boolean }).stale, undefined);
});

test('a burst of deliveries is coalesced to the newest view', async () => {
  const views: { view: Record<string, string[]>; index: number }[] = [];
  for (const name of ['burst-a', 'burst-b', 'burst-c', 'burst-d']) {
    await register(name);
    views.push(await currentView());
  }
  // The first converge is held up (its list of the write namespace is slow): the others arrive
  // while it runs and wait, and only the newest of them is applied.
  w.kubeEmu.faults.add({
    method: 'GET',
    path: '/api/v1/namespaces/default/services',
    delayMs: 200,
    times: 1,
  });
  const answers = await Promise.all(views.map((v) => deliver(v.view, v.index)));
  for (const a of answers) assert.equal(a.status, 200, a.text);
  const coalesced = answers.filter((a) => (a.json as { coalesced?: boolean }).coalesced === true);
  assert.ok(coalesced.length >= 1, JSON.stringify(answers.map((a) => a.json)));
  for (const name of ['burst-a', 'burst-b', 'burst-c', 'burst-d'])
    assert.ok(await mirrored(name), name);
  for (const name of ['burst-a', 'burst-b', 'burst-c', 'burst-d']) await deregister(name);
  const last = await currentView();
  await deliver(last.view, last.index);
});

test('a Consul index that went backwards (snapshot restore) is applied, not skipped forever', async () => {
  await register('restored');
  const now = await currentView();
  // A delivery from before the restore carried a much higher index than Consul holds now.
  await deliver({ ...now.view, 'from-before': [] }, now.index + 1_000_000);
  assert.ok(await mirrored('from-before'));
  const answer = await deliver(now.view, now.index);
  assert.equal((answer.json as { stale?: boolean }).stale, undefined, answer.text);
  assert.equal(await mirrored('from-before'), false, 'the restored view was applied');
  assert.ok(w.logs.some((l) => l.includes('"event":"consul-index-reset"')));
  await deregister('restored');
});

test('after a restart the first delivery is applied as is, whatever its index', async () => {
  const fresh = new ViewEvents(
    () => w.runtime.deps(),
    { breakerFailures: 3, probeIntervalMs: 100 },
    w.logger,
    w.metrics,
  );
  try {
    await register('first-after-restart');
    const v = await currentView();
    const outcome = await fresh.deliver({ view: v.view, index: 1 });
    assert.equal(outcome.outcome, 'converged');
    assert.ok(await mirrored('first-after-restart'));
  } finally {
    fresh.close();
    await deregister('first-after-restart');
    const last = await currentView();
    await deliver(last.view, last.index);
  }
});

test('a name held by a Service that is not ours: no write attempt, over several deliveries, logged once', async () => {
  await w.core.createNamespacedService({
    namespace: 'default',
    body: {
      metadata: { name: 'billing-db' },
      spec: { type: 'ClusterIP', ports: [{ port: 5432 }] },
    },
  });
  await register('billing-db');
  const conflictsBefore = await metric('k8s_consul_sync_skipped_total', { reason: 'conflict' });
  w.kubeEmu.resetRequestCounts();
  for (let i = 0; i < 3; i++) {
    const v = await currentView();
    const answer = await deliver(v.view, v.index);
    assert.equal(answer.status, 200, answer.text);
  }
  const counts = w.kubeEmu.requestCounts();
  assert.equal(counts['create services'] ?? 0, 0, JSON.stringify(counts));
  assert.equal(counts['update services'] ?? 0, 0, JSON.stringify(counts));
  const user = await w.core.readNamespacedService({ namespace: 'default', name: 'billing-db' });
  assert.equal(user.spec?.type, 'ClusterIP', 'the user’s Service is untouched');
  assert.equal(
    (await metric('k8s_consul_sync_skipped_total', { reason: 'conflict' })) - conflictsBefore,
    3,
    'counted on every delivery',
  );
  const lines = w.logs.filter(
    (l) => l.includes('"event":"k8s-conflict"') && l.includes('default/billing-db'),
  );
  assert.equal(lines.length, 1, 'logged once per name');
  assert.match(lines[0]!, /exists without label consul=true/);
  await deregister('billing-db');
});

test('Kubernetes down: deliveries answer at once once the breaker is open, and the current view is converged on its return', async () => {
  const state = (s: string) =>
    metric('k8s_consul_sync_breaker_state', { target: 'kubernetes', state: s });
  w.kubeEmu.faults.add({ status: 503 });
  for (let i = 0; i < 2; i++) {
    const v = await currentView();
    assert.equal((await deliver(v.view, v.index)).status, 503);
  }
  await waitFor('the kubernetes breaker to open', async () => (await state('open')) === 1);
  await register('while-down');
  const v = await currentView();
  const answer = await deliver(v.view, v.index);
  assert.equal(answer.status, 503);
  assert.equal((answer.json as { error: { code: string } }).error.code, 'KUBE_UNAVAILABLE');
  assert.equal(await metric('k8s_consul_sync_breaker_remembered', { target: 'kubernetes' }), 1);
  w.kubeEmu.faults.clear();
  await waitFor('the view converged without a new delivery', () => mirrored('while-down'), 5000);
  await waitFor('the breaker to close', async () => (await state('closed')) === 1);
  await deregister('while-down');
});

test('a Kubernetes service joining a VM service by name never removes the VM service’s mirror', async () => {
  w.kubeEmu.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }]);
  await register('ledger-db');
  let v = await currentView();
  await deliver(v.view, v.index);
  assert.ok(await mirrored('ledger-db'));
  // shop/ledger joins it (consul.hashicorp.com/service-name): the view's tags now include k8s.
  await w.core.createNamespacedService({
    namespace: 'shop',
    body: {
      metadata: {
        name: 'ledger',
        namespace: 'shop',
        annotations: { 'consul.hashicorp.com/service-name': 'ledger-db' },
      },
      spec: { type: 'ClusterIP', externalIPs: ['192.0.2.60'], ports: [{ port: 5432 }] },
    },
  });
  await waitFor(
    'the Kubernetes instance in Consul',
    async () => (await currentView()).view['ledger-db']?.includes('k8s') === true,
  );
  v = await currentView();
  assert.equal((await deliver(v.view, v.index)).status, 200);
  assert.ok(await mirrored('ledger-db'), 'the VM instance still needs its mirror');
  // Once only Kubernetes instances are left, it is a Kubernetes service: no mirror.
  await deregister('ledger-db');
  v = await currentView();
  assert.ok(v.view['ledger-db'], 'the Kubernetes instance is still there');
  await deliver(v.view, v.index);
  assert.equal(await mirrored('ledger-db'), false);
  await w.core.deleteNamespacedService({ namespace: 'shop', name: 'ledger' });
});

test('when it cannot tell whether a k8s-tagged name is shared, a delivery deletes nothing', async () => {
  await register('cache-db');
  let v = await currentView();
  await deliver(v.view, v.index);
  assert.ok(await mirrored('cache-db'));
  await deregister('cache-db');
  // A k8s-tagged service is in the view, and the read that tells shared names apart fails.
  w.consulEmu.faults.add({
    method: 'GET',
    path: /\/v1\/catalog\/services\?.*filter=/,
    status: 500,
    times: 1,
  });
  v = await currentView();
  await deliver({ ...v.view, 'web-from-k8s': ['k8s'] }, v.index);
  assert.ok(await mirrored('cache-db'), 'not deleted on a partial picture');
  w.consulEmu.faults.clear();
  await deliver(v.view, v.index);
  assert.equal(await mirrored('cache-db'), false, 'deleted once the picture is whole');
});

test('a delivery that does not show a service Consul still has (a narrow watch token) deletes no mirror', async () => {
  await register('orders-db');
  let v = await currentView();
  await deliver(v.view, v.index);
  assert.ok(await mirrored('orders-db'));
  // The agent's watch token cannot read orders-db: its deliveries leave it out, with no header.
  v = await currentView();
  const partial = Object.fromEntries(Object.entries(v.view).filter(([n]) => n !== 'orders-db'));
  const answer = await deliver(partial, v.index + 1);
  assert.equal(answer.status, 200, answer.text);
  assert.ok(await mirrored('orders-db'), 'Consul, read with our token, still has it');
  // Once it is really gone, the next delivery removes the mirror.
  await deregister('orders-db');
  v = await currentView();
  await deliver(v.view, v.index);
  assert.equal(await mirrored('orders-db'), false);
});
