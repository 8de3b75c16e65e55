// Consul → Kubernetes without CoreDNS (issue 16): --consul-to-k8s-mode=endpoints against both
// emulators with the real clients. Expected objects come from the issue and the Kubernetes API
// (discovery.k8s.io/v1 EndpointSlice: label kubernetes.io/service-name, managed-by, addressType,
// conditions.ready; a headless Service is type ClusterIP with clusterIP None and no selector).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startWorld, type World } from '../support/world.js';
import { translateService } from '../../src/translate/index.js';

let w: World;
const NS = 'default';

before(async () => {
  w = await startWorld({
    kube: { controllers: { endpointSlices: true } },
    flags: [
      '--sync-id=cluster-a',
      '--consul-to-k8s-mode=endpoints',
      '--deny-consul-service=consul',
    ],
  });
  await w.runtime.deps();
});
after(async () => {
  await w.close();
});

interface Check {
  CheckID: string;
  Status: string;
  ServiceID?: string;
}

async function register(body: {
  node: string;
  address: string;
  id: string;
  service: string;
  port: number;
  serviceAddress?: string;
  tags?: string[];
  meta?: Record<string, string>;
  checks?: Check[];
}): Promise<void> {
  const res = await fetch(`${w.consulEmu.url}/v1/catalog/register`, {
    method: 'PUT',
    body: JSON.stringify({
      Node: body.node,
      Address: body.address,
      Service: {
        ID: body.id,
        Service: body.service,
        Port: body.port,
        Address: body.serviceAddress ?? '',
        Tags: body.tags ?? [],
        Meta: body.meta ?? {},
      },
      Checks: (body.checks ?? []).map((c) => ({ Name: c.CheckID, ...c })),
    }),
  });
  assert.equal(res.status, 200, await res.text());
}

async function deregister(node: string, id: string): Promise<void> {
  const res = await fetch(`${w.consulEmu.url}/v1/catalog/deregister`, {
    method: 'PUT',
    body: JSON.stringify({ Node: node, ServiceID: id }),
  });
  assert.equal(res.status, 200);
}

async function consulGet(path: string): Promise<unknown> {
  return (await fetch(`${w.consulEmu.url}${path}`)).json();
}

/** What the `services` watch would deliver now. */
async function deliverServices(): Promise<request.Response> {
  const view = await consulGet('/v1/catalog/services');
  return request(w.app)
    .post('/consul/services')
    .send(view as object);
}

/** What the `checks` watch would deliver now. */
async function deliverChecks(): Promise<request.Response> {
  const checks = await consulGet('/v1/health/state/any');
  return request(w.app)
    .post('/consul/checks')
    .send(checks as object);
}

async function service(name: string) {
  try {
    return await w.core.readNamespacedService({ name, namespace: NS });
  } catch {
    return undefined;
  }
}

async function slicesOf(name: string) {
  const list = await w.discovery.listNamespacedEndpointSlice({
    namespace: NS,
    labelSelector: `kubernetes.io/service-name=${name}`,
  });
  return list.items.sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
}

/** address → ready, over every slice of the service. */
async function endpointsOf(name: string): Promise<Record<string, boolean>> {
  const out: Record<string, boolean> = {};
  for (const s of await slicesOf(name))
    for (const e of s.endpoints ?? [])
      for (const a of e.addresses) out[a] = e.conditions?.ready === true;
  return out;
}

const pass = (id: string, sid: string): Check => ({
  CheckID: id,
  Status: 'passing',
  ServiceID: sid,
});

test('instances appear as ready endpoints of a headless selector-less Service', async () => {
  await register({
    node: 'vm-1',
    address: '10.1.0.1',
    id: 'billing-1',
    service: 'billing',
    port: 5432,
    tags: ['primary', 'a,b'],
    meta: { team: 'payments', version: '1' },
    checks: [pass('billing-1-alive', 'billing-1')],
  });
  await register({
    node: 'vm-2',
    address: '10.1.0.2',
    id: 'billing-2',
    service: 'billing',
    port: 5432,
    meta: { team: 'payments', version: '2' },
    checks: [pass('billing-2-alive', 'billing-2')],
  });
  const res = await deliverServices();
  assert.equal(res.status, 200, JSON.stringify(res.body));

  const svc = (await service('billing'))!;
  assert.ok(svc, 'the Service exists');
  assert.equal(svc.spec?.type, 'ClusterIP');
  assert.equal(svc.spec?.clusterIP, 'None');
  assert.equal(svc.spec?.selector, undefined);
  assert.deepEqual(
    svc.spec?.ports?.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port })),
    [{ name: 'default', protocol: 'TCP', port: 5432 }],
  );
  assert.equal(svc.metadata?.labels?.consul, 'true');
  assert.equal(svc.metadata?.annotations?.['consul.hashicorp.com/synced'], 'true');
  // Tags sorted, a comma escaped; meta shared by every instance only.
  assert.equal(svc.metadata?.annotations?.['consul.hashicorp.com/tags'], 'a\\,b,primary');
  assert.equal(svc.metadata?.annotations?.['consul.hashicorp.com/meta-team'], 'payments');
  assert.equal(svc.metadata?.annotations?.['consul.hashicorp.com/meta-version'], undefined);

  const slices = await slicesOf('billing');
  assert.equal(slices.length, 1);
  const [slice] = slices;
  assert.equal(slice!.addressType, 'IPv4');
  assert.equal(
    slice!.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'],
    'k8s-consul-sync',
  );
  assert.equal(slice!.metadata?.labels?.consul, 'true');
  assert.equal(slice!.metadata?.labels?.['kubernetes.io/service-name'], 'billing');
  assert.equal(slice!.metadata?.ownerReferences?.[0]?.uid, svc.metadata?.uid);
  assert.deepEqual(
    slice!.ports?.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port })),
    [{ name: 'default', protocol: 'TCP', port: 5432 }],
  );
  assert.deepEqual(await endpointsOf('billing'), { '10.1.0.1': true, '10.1.0.2': true });
  assert.equal(await service('consul'), undefined, 'denied by --deny-consul-service');

  // The EndpointSlice controller leaves a selector-less Service's slices alone.
  await w.kubeEmu.idle?.();
  assert.deepEqual(await endpointsOf('billing'), { '10.1.0.1': true, '10.1.0.2': true });

  // A delivery with nothing new writes nothing.
  const again = await deliverServices();
  assert.equal(again.body.created, 0);
  assert.equal(again.body.updated, 0);
});

test('a failing check turns the endpoint not ready within one checks delivery', async () => {
  await register({
    node: 'vm-2',
    address: '10.1.0.2',
    id: 'billing-2',
    service: 'billing',
    port: 5432,
    meta: { team: 'payments', version: '2' },
    checks: [{ CheckID: 'billing-2-alive', Status: 'critical', ServiceID: 'billing-2' }],
  });
  const res = await deliverChecks();
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body.changed, ['billing']);
  assert.deepEqual(await endpointsOf('billing'), { '10.1.0.1': true, '10.1.0.2': false });
  // Nothing changed since: the next delivery reads no instance and writes nothing.
  const again = await deliverChecks();
  assert.deepEqual(again.body.changed, []);

  // A node check counts for the instances on that node.
  await register({
    node: 'vm-1',
    address: '10.1.0.1',
    id: 'billing-1',
    service: 'billing',
    port: 5432,
    tags: ['primary', 'a,b'],
    meta: { team: 'payments', version: '1' },
    checks: [pass('billing-1-alive', 'billing-1'), { CheckID: 'node-health', Status: 'warning' }],
  });
  await deliverChecks();
  assert.deepEqual(await endpointsOf('billing'), { '10.1.0.1': false, '10.1.0.2': false });
});

test('instance removal removes the endpoint', async () => {
  await deregister('vm-1', 'billing-1');
  const res = await deliverChecks();
  assert.equal(res.status, 200);
  assert.deepEqual(await endpointsOf('billing'), { '10.1.0.2': false });
});

test('IPv6 instances get their own slice; a hostname is left out with a warning', async () => {
  await register({
    node: 'vm-6',
    address: '10.1.0.6',
    id: 'cache-1',
    service: 'cache',
    port: 6379,
    serviceAddress: 'fd00::6',
    checks: [pass('c1', 'cache-1')],
  });
  await register({
    node: 'vm-7',
    address: '10.1.0.7',
    id: 'cache-2',
    service: 'cache',
    port: 6380,
    checks: [pass('c2', 'cache-2')],
  });
  await register({
    node: 'vm-8',
    address: '10.1.0.8',
    id: 'cache-3',
    service: 'cache',
    port: 6379,
    serviceAddress: 'cache.example.com',
  });
  const res = await deliverServices();
  assert.equal(res.status, 200);
  assert.ok(res.body.warnings.some((m: string) => m.includes('cache.example.com')));
  const slices = await slicesOf('cache');
  assert.deepEqual(
    slices.map((s) => [s.addressType, s.ports?.[0]?.port, s.endpoints?.map((e) => e.addresses[0])]),
    [
      ['IPv4', 6380, ['10.1.0.7']],
      ['IPv6', 6379, ['fd00::6']],
    ],
  );
  // One Service port: the port most instances in the slices use (6379 and 6380 once each: the lower).
  assert.equal((await service('cache'))?.spec?.ports?.[0]?.port, 6379);
});

test('the opt-out tag removes the Service and its slices', async () => {
  await register({
    node: 'vm-2',
    address: '10.1.0.2',
    id: 'billing-2',
    service: 'billing',
    port: 5432,
    tags: ['k8s-sync-disabled'],
  });
  const res = await deliverServices();
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(await service('billing'), undefined);
  assert.deepEqual(await slicesOf('billing'), []);
});

test('switching modes by meta converges both ways without orphaned slices', async () => {
  await register({
    node: 'vm-9',
    address: '10.1.0.9',
    id: 'ledger-1',
    service: 'ledger',
    port: 7000,
    checks: [pass('l1', 'ledger-1')],
  });
  await deliverServices();
  const before = (await service('ledger'))!;
  assert.equal(before.spec?.type, 'ClusterIP');
  assert.equal((await slicesOf('ledger')).length, 1);

  // → externalname: the Service is updated in place (same uid: never absent), its slices go.
  await register({
    node: 'vm-9',
    address: '10.1.0.9',
    id: 'ledger-1',
    service: 'ledger',
    port: 7000,
    meta: { 'k8s-sync-mode': 'externalname' },
    checks: [pass('l1', 'ledger-1')],
  });
  let rec = await request(w.app).post('/reconcile?direction=to-k8s');
  assert.equal(rec.status, 200, JSON.stringify(rec.body));
  const ext = (await service('ledger'))!;
  assert.equal(ext.metadata?.uid, before.metadata?.uid);
  assert.equal(ext.spec?.type, 'ExternalName');
  assert.equal(ext.spec?.externalName, 'ledger.service.consul');
  assert.equal(ext.metadata?.annotations?.['k8s-consul-sync/mode'], 'externalname');
  assert.deepEqual(await slicesOf('ledger'), []);
  // A services delivery keeps the mode meta chose.
  await deliverServices();
  assert.equal((await service('ledger'))?.spec?.type, 'ExternalName');

  // ← back to endpoints (the flag's mode once the meta is gone).
  await register({
    node: 'vm-9',
    address: '10.1.0.9',
    id: 'ledger-1',
    service: 'ledger',
    port: 7000,
    checks: [pass('l1', 'ledger-1')],
  });
  rec = await request(w.app).post('/reconcile?direction=to-k8s');
  assert.equal(rec.status, 200, JSON.stringify(rec.body));
  const back = (await service('ledger'))!;
  assert.equal(back.metadata?.uid, before.metadata?.uid);
  assert.equal(back.spec?.type, 'ClusterIP');
  assert.equal(back.spec?.clusterIP, 'None');
  assert.equal(back.metadata?.annotations?.['k8s-consul-sync/mode'], undefined);
  assert.deepEqual(await endpointsOf('ledger'), { '10.1.0.9': true });

  // A reconcile right after changes nothing.
  rec = await request(w.app).post('/reconcile?direction=to-k8s&dryRun');
  assert.deepEqual(rec.body.changes, []);
});

test('the Kubernetes → Consul direction ignores our Services and slices (no loop)', async () => {
  // Even with ClusterIP Services synced, a Service of ours translates to no registration.
  const deps = await w.runtime.deps();
  const settings = { ...deps.settings, syncClusterIPServices: true };
  const svc = (await service('cache'))!;
  const slices = await slicesOf('cache');
  assert.ok(slices.length > 0);
  const t = translateService({ service: svc, endpointSlices: slices, nodes: new Map() }, settings);
  assert.deepEqual(t.registrations, []);
  assert.match(t.skipReason ?? '', /created by k8s-consul-sync/);
  const regs = await w.registrations();
  assert.deepEqual(
    regs.filter((r) => ['billing', 'cache', 'ledger'].includes(r.Service)),
    [],
  );
});

test('checks deliveries run in turn with services deliveries; a burst is coalesced to the newest', async () => {
  await register({
    node: 'vm-7',
    address: '10.1.0.7',
    id: 'queue-1',
    service: 'queue',
    port: 5672,
    checks: [pass('queue-1-alive', 'queue-1')],
  });
  assert.equal((await deliverServices()).status, 200);
  assert.deepEqual(await endpointsOf('queue'), { '10.1.0.7': true });
  // The instance's check fails; Kubernetes answers slowly, so the deliveries pile up.
  await register({
    node: 'vm-7',
    address: '10.1.0.7',
    id: 'queue-1',
    service: 'queue',
    port: 5672,
    checks: [{ CheckID: 'queue-1-alive', Status: 'critical', ServiceID: 'queue-1' }],
  });
  w.kubeEmu.faults.add({ path: '/apis/discovery.k8s.io/v1', delayMs: 150, times: 4 });
  const checks = (await consulGet('/v1/health/state/any')) as object;
  const post = (index: number) =>
    request(w.app).post('/consul/checks').set('X-Consul-Index', String(index)).send(checks);
  const [services, ...answers] = await Promise.all([
    deliverServices(),
    post(101),
    post(102),
    post(103),
  ]);
  assert.equal(services.status, 200, JSON.stringify(services.body));
  for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.ok(
    answers.some((a) => a.body.coalesced === true),
    `a waiting delivery was replaced by a newer one: ${JSON.stringify(answers.map((a) => a.body))}`,
  );
  assert.notEqual(answers[2].body.coalesced, true, 'the newest delivery runs');
  assert.deepEqual(await endpointsOf('queue'), { '10.1.0.7': false });
  w.kubeEmu.faults.clear();
});

test('a delivery that creates reads the meta and the Kubernetes name of just those services: no whole-view or whole-namespace read', async () => {
  await register({
    node: 'vm-7',
    address: '10.7.0.1',
    id: 'quiet-1',
    service: 'quiet',
    port: 80,
    meta: { 'k8s-sync': 'false' },
  });
  await register({
    node: 'vm-7',
    address: '10.7.0.1',
    id: 'plain-1',
    service: 'plain',
    port: 80,
    meta: { 'k8s-sync-mode': 'externalname' },
  });
  // The delivery's view is read first, as the watch would have.
  const view = await consulGet('/v1/catalog/services');
  const consulBefore = { ...w.consulEmu.requestCounts() };
  const kubeBefore = { ...w.kubeEmu.requestCounts() };
  assert.equal(
    (
      await request(w.app)
        .post('/consul/services')
        .send(view as object)
    ).status,
    200,
  );
  const consulAfter = { ...w.consulEmu.requestCounts() };
  const kubeAfter = { ...w.kubeEmu.requestCounts() };
  assert.equal(await service('quiet'), undefined, 'opted out by meta: never created');
  const plain = (await service('plain'))!;
  assert.equal(plain.spec?.type, 'ExternalName', 'mode chosen by meta before creating');
  const delta = (now: Record<string, number>, then: Record<string, number>, key: string) =>
    (now[key] ?? 0) - (then[key] ?? 0);
  const consul = (key: string) => delta(consulAfter, consulBefore, key);
  const kube = (key: string) => delta(kubeAfter, kubeBefore, key);
  assert.equal(consul('GET /v1/catalog/service/:name'), 2, 'one meta read per new name');
  assert.equal(consul('GET /v1/catalog/services'), 0, 'no filtered read of the whole view');
  assert.equal(kube('list services'), 1, 'the labelled list only, no list of the namespace');
  assert.equal(kube('get services'), 1, 'the one name to create is read by name');
});
