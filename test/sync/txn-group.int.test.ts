// Group commit on the event path (src/consul/txn-group.ts), through the admission webhook
// against the Consul emulator: writes made while a transaction is in flight leave together in
// one, and a grouped transaction that loses a check-and-set to another writer costs only the
// service it concerns.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Service } from '@kubernetes/client-node';
import { startWiredWorld, waitFor, type WiredWorld } from '../support/wired.js';
import { serviceInstanceId } from '../../src/translate/to-consul.js';
import { admissionReview } from '../fixtures/reviews.js';

const NS = 'shop';
let w: WiredWorld;

before(async () => {
  w = await startWiredWorld({ flags: ['--sync-id=cluster-a', '--confirm-after='] });
  await w.runtime.deps();
});
after(async () => {
  await w.close();
});

function svc(name: string, ip: string): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { type: 'ClusterIP', externalIPs: [ip], ports: [{ name: 'http', port: 80 }] },
  };
}

const create = (name: string, ip: string) =>
  w.served.post(
    '/k8s/admission',
    admissionReview({ operation: 'CREATE', namespace: NS, name, object: svc(name, ip) }),
  );

const count = (key: string): number => w.consulEmu.requestCounts()[key] ?? 0;

/** Our registrations of shop/<name>: [ID, address, sync id]. */
async function ours(name: string): Promise<[string, string, string | undefined][]> {
  return (await w.registrations())
    .filter((r) => r.Meta['external-k8s-ns'] === NS && r.Meta['external-k8s-name'] === name)
    .map((r) => [r.ID, r.Address, r.Meta['external-k8s-sync-id']]);
}

test('writes ready while a transaction is in flight go to Consul together in the next one', async () => {
  // The first write is held 300 ms on its way; five more services are admitted meanwhile.
  w.consulEmu.faults.add({ method: 'PUT', path: '/v1/txn', delayMs: 300, times: 1 });
  w.consulEmu.resetRequestCounts();
  const first = create('group-0', '192.0.2.10');
  await waitFor('the first write to be on its way', () => count('PUT /v1/txn') >= 1);
  const rest = [1, 2, 3, 4, 5].map((i) => create(`group-${i}`, `192.0.2.${10 + i}`));
  await waitFor(
    'every service to have read Consul',
    () => count('GET /v1/health/service/:name') >= 6,
  );
  for (const answer of await Promise.all([first, ...rest])) assert.equal(answer.status, 200);
  await w.runtime.events.services.idle();
  assert.equal(count('PUT /v1/txn'), 2, 'the held write, then the five others in one');
  for (let i = 0; i <= 5; i++) {
    const ip = `192.0.2.${10 + i}`;
    assert.deepEqual(await ours(`group-${i}`), [
      [serviceInstanceId(`group-${i}`, NS, `group-${i}`, ip), ip, 'cluster-a'],
    ]);
  }
});

test('a grouped transaction that loses a check-and-set fails only the service it concerns', async () => {
  const taken = serviceInstanceId('taken', NS, 'taken', '192.0.2.30');
  w.consulEmu.faults.add({ method: 'PUT', path: '/v1/txn', delayMs: 300, times: 1 });
  w.consulEmu.resetRequestCounts();
  const first = create('lead', '192.0.2.29');
  await waitFor('the first write to be on its way', () => count('PUT /v1/txn') >= 1);
  const rest = [create('taken', '192.0.2.30'), create('free', '192.0.2.31')];
  await waitFor(
    'both services to have read Consul',
    () => count('GET /v1/health/service/:name') >= 3,
  );
  // Between their read and their write, another cluster registers the ID `taken` will write.
  await w.consul.catalog.register({
    node: 'k8s-sync',
    address: '127.0.0.1',
    service: {
      id: taken,
      service: 'taken',
      address: '192.0.2.30',
      port: 80,
      meta: {
        'external-source': 'kubernetes',
        'external-k8s-ns': NS,
        'external-k8s-name': 'taken',
        'external-k8s-sync-id': 'cluster-b',
      },
    },
  } as never);
  for (const answer of await Promise.all([first, ...rest])) assert.equal(answer.status, 200);
  await w.runtime.events.services.idle();
  // The held one; the group of two, refused (409); each again alone: `free` written, `taken`
  // refused, re-read, and left to cluster B (no further write).
  assert.equal(count('PUT /v1/txn'), 4);
  assert.deepEqual(await ours('free'), [
    [serviceInstanceId('free', NS, 'free', '192.0.2.31'), '192.0.2.31', 'cluster-a'],
  ]);
  assert.deepEqual(await ours('taken'), [[taken, '192.0.2.30', 'cluster-b']]);
  assert.deepEqual(await ours('lead'), [
    [serviceInstanceId('lead', NS, 'lead', '192.0.2.29'), '192.0.2.29', 'cluster-a'],
  ]);
  assert.ok(
    w.logs.some((l) => l.includes('"event":"registration-conflict"') && l.includes(taken)),
    'the re-read found it and left it alone',
  );
});
