// Consul → Kubernetes end to end: the Consul emulator's own watch delivery (as an agent with
// handler_type "http" does it) drives the real handler against the Kubernetes emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { startWorld, type World } from '../support/world.js';
import type { Service } from '../../src/translate/types.js';

let w: World;
let server: http.Server;
let url: string;

before(async () => {
  w = await startWorld({ flags: ['--sync-id=cluster-a', '--k8s-service-prefix=ext-'] });
  server = http.createServer(w.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await w.close();
});

async function register(name: string, tags: string[] = [], node = 'legacy-1'): Promise<void> {
  await w.consul.catalog.register({
    node,
    address: '10.9.0.1',
    service: { id: name, service: name, port: 5432, tags },
  } as never);
}

async function ownedServices(): Promise<Service[]> {
  const list = await w.core.listNamespacedService({ namespace: 'default' });
  return list.items;
}

async function until(what: string, check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const byName = async (name: string): Promise<Service | undefined> =>
  (await ownedServices()).find((s) => s.metadata?.name === name);

test('watch deliveries create, restore and delete ExternalName services; user services are untouched', async () => {
  // A user's Service holding a name a Consul service maps to: never touched.
  await w.core.createNamespacedService({
    namespace: 'default',
    body: { metadata: { name: 'ext-taken' }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } },
  });
  await register('Billing-DB');
  await register('taken');
  await register('web', ['k8s']); // synced from Kubernetes: never back
  await register('bad_name'); // not a DNS-1035 label
  w.consulEmu.addWatch({
    type: 'services',
    url: `${url}/consul/services`,
    headers: { 'Content-Type': ['application/json'] },
  });

  await until('billing-db', async () => Boolean(await byName('ext-billing-db')));
  const billing = (await byName('ext-billing-db'))!;
  assert.equal(billing.spec?.type, 'ExternalName');
  assert.equal(billing.spec?.externalName, 'billing-db.service.consul');
  assert.equal(billing.metadata?.labels?.consul, 'true');
  assert.equal(billing.metadata?.annotations?.['consul.hashicorp.com/synced'], 'true');
  assert.equal(billing.metadata?.annotations?.['consul.hashicorp.com/service-sync'], 'false');
  assert.ok(await byName('ext-consul'), 'the consul service itself is synced too');
  assert.equal(await byName('ext-web'), undefined);
  assert.equal(await byName('ext-bad_name'), undefined);
  const taken = (await byName('ext-taken'))!;
  assert.equal(taken.spec?.type, 'ClusterIP');
  assert.equal(taken.metadata?.labels?.consul, undefined);

  // An edited externalName is restored by the next delivery.
  const edited = (await byName('ext-billing-db'))!;
  edited.spec!.externalName = 'evil.example.com';
  await w.core.replaceNamespacedService({
    namespace: 'default',
    name: 'ext-billing-db',
    body: edited as never,
  });
  await register('legacy-api');
  await until(
    'restore',
    async () =>
      (await byName('ext-billing-db'))?.spec?.externalName === 'billing-db.service.consul',
  );
  assert.ok(await byName('ext-legacy-api'));

  // Removal from Consul deletes only ours.
  await w.consul.catalog.deregister({ node: 'legacy-1', serviceid: 'legacy-api' } as never);
  await w.consul.catalog.deregister({ node: 'legacy-1', serviceid: 'taken' } as never);
  await until('legacy-api deleted', async () => !(await byName('ext-legacy-api')));
  assert.ok(await byName('ext-taken'), 'a Service we do not own is never deleted');
  assert.ok(
    w.consulEmu.deliveries.every((d) => d.status === 200),
    JSON.stringify(w.consulEmu.deliveries),
  );
});

test('empty view deletes nothing; malformed views are refused with nothing written', async () => {
  const before = (await ownedServices()).map((s) => s.metadata?.name).sort();
  const res = await request(w.app).post('/consul/services').send({}).expect(200);
  assert.equal(res.body.deleted, 0);
  assert.ok(w.logs.some((l) => l.includes('empty-services-view')));
  for (const bad of [[], { web: 'x' }, { web: [1] }, { web: [null] }]) {
    const r = await request(w.app)
      .post('/consul/services')
      .set('content-type', 'application/json')
      .send(JSON.stringify(bad))
      .expect(400);
    assert.equal(r.body.error.code, 'INVALID_SERVICES_VIEW');
  }
  assert.deepEqual((await ownedServices()).map((s) => s.metadata?.name).sort(), before);
});

test('a Kubernetes outage answers 503 and loses nothing after the next delivery', async () => {
  w.kubeEmu.faults.add({
    method: 'POST',
    path: /\/api\/v1\/namespaces\/default\/services/,
    status: 500,
  });
  const view = { consul: [], 'billing-db': [], 'new-one': [] };
  const res = await request(w.app)
    .post('/consul/services')
    .set('X-Consul-Index', '42')
    .send(view)
    .expect(503);
  assert.equal(res.body.error.code, 'WRITE_FAILED');
  assert.equal(await byName('ext-new-one'), undefined);
  w.kubeEmu.faults.clear();
  const ok = await request(w.app)
    .post('/consul/services')
    .set('X-Consul-Index', '43')
    .send(view)
    .expect(200);
  assert.equal(ok.body.index, '43');
  assert.ok(await byName('ext-new-one'));
});
