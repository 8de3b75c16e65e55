// The registration view (src/sync/registration-view.ts) through the admission webhook, the real
// `consul` client and the Consul emulator: an admission plans against it and writes without
// reading first; a view another writer has overtaken loses its check-and-set and the converge
// reads afresh, so nothing is overwritten unseen; a refresh picks up a registration deleted by
// hand. And what a write records is what a read of Consul answers, checks and indexes included.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Service } from '@kubernetes/client-node';
import { startWiredWorld, waitFor, type WiredWorld } from '../support/wired.js';
import { serviceInstanceId } from '../../src/translate/to-consul.js';
import { admissionReview } from '../fixtures/reviews.js';
import type { RegistrationChange } from '../../src/plan/index.js';
import type { Registration, ServiceRef } from '../../src/translate/types.js';
import type { RegistrationView } from '../../src/sync/registration-view.js';

const NS = 'shop';

function svc(name: string, ip: string, port = 80): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { type: 'ClusterIP', externalIPs: [ip], ports: [{ name: 'http', port }] },
  };
}

async function start(interval: string): Promise<{ w: WiredWorld; view: RegistrationView }> {
  const w = await startWiredWorld({
    flags: ['--sync-id=cluster-a', '--confirm-after=', `--registration-view-interval=${interval}`],
    registrationView: true,
  });
  const view = (await w.runtime.deps()).registrations;
  assert.ok(view, 'serve keeps a registration view');
  await waitFor('the first refresh', () => view.get({ namespace: NS, name: 'none' }) !== undefined);
  return { w, view };
}

const admit = (w: WiredWorld, name: string, ip: string, port = 80) =>
  w.served.post(
    '/k8s/admission',
    admissionReview({ operation: 'CREATE', namespace: NS, name, object: svc(name, ip, port) }),
  );

/** Our registrations of shop/<name>: [ID, address, port, sync id]. */
async function ours(w: WiredWorld, name: string): Promise<[string, string, number, string?][]> {
  return (await w.registrations())
    .filter((r) => r.Meta['external-k8s-ns'] === NS && r.Meta['external-k8s-name'] === name)
    .map((r) => [r.ID, r.Address, r.Port, r.Meta['external-k8s-sync-id']]);
}

function register(w: WiredWorld, name: string, ip: string, port: number, syncId: string) {
  return w.consul.catalog.register({
    node: 'k8s-sync',
    address: '127.0.0.1',
    service: {
      id: serviceInstanceId(name, NS, name, ip),
      service: name,
      address: ip,
      port,
      meta: {
        'external-source': 'kubernetes',
        'external-k8s-ns': NS,
        'external-k8s-name': name,
        'external-k8s-sync-id': syncId,
      },
    },
  } as never);
}

describe('without a refresh after the first (--registration-view-interval=1h)', () => {
  let w: WiredWorld;
  before(async () => ({ w } = await start('1h')));
  after(async () => w.close());

  const count = (key: string): number => w.consulEmu.requestCounts()[key] ?? 0;

  test('an admission writes without reading Consul, and one that changes nothing writes nothing', async () => {
    w.consulEmu.resetRequestCounts();
    assert.equal((await admit(w, 'web', '192.0.2.10')).status, 200);
    assert.equal((await admit(w, 'web', '192.0.2.11')).status, 200);
    await w.runtime.events.services.idle();
    const id = (ip: string) => serviceInstanceId('web', NS, 'web', ip);
    assert.deepEqual(await ours(w, 'web'), [[id('192.0.2.11'), '192.0.2.11', 80, 'cluster-a']]);
    assert.equal(count('PUT /v1/txn'), 2);
    assert.equal(count('GET /v1/health/service/:name'), 0, 'no read before the writes');
    assert.equal(count('GET /v1/catalog/node/:node'), 0, 'no refresh either');

    assert.equal((await admit(w, 'web', '192.0.2.11')).status, 200);
    await w.runtime.events.services.idle();
    assert.equal(count('PUT /v1/txn'), 2, 'unchanged: no write');
    assert.equal(
      count('GET /v1/health/service/:name'),
      1,
      'a plan of no change is read to be sure',
    );
    const counted = await w.metrics.registry.getSingleMetricAsString(
      'k8s_consul_sync_registration_view_total',
    );
    assert.match(counted, /outcome="hit"\} 2$/m);
    assert.match(counted, /outcome="unchanged-read"\} 1$/m);
    assert.doesNotMatch(counted, /outcome="miss"/);
  });

  test('a view that says "unchanged" while another replica wrote since is read, and the admitted state written', async () => {
    assert.equal((await admit(w, 'cfg', '192.0.2.60')).status, 200);
    await w.runtime.events.services.idle();
    // The other replica admitted an older version last (port 9090); this one admits port 80 again.
    await register(w, 'cfg', '192.0.2.60', 9090, 'cluster-a');
    assert.equal((await admit(w, 'cfg', '192.0.2.60')).status, 200);
    await w.runtime.events.services.idle();
    const id = serviceInstanceId('cfg', NS, 'cfg', '192.0.2.60');
    assert.deepEqual(await ours(w, 'cfg'), [[id, '192.0.2.60', 80, 'cluster-a']]);
  });

  test('a view another replica overtook loses its check-and-set; the converge reads and writes the admitted state', async () => {
    assert.equal((await admit(w, 'api', '192.0.2.20')).status, 200);
    await w.runtime.events.services.idle();
    // A second replica of this installation writes the same instance with another port.
    await register(w, 'api', '192.0.2.20', 9090, 'cluster-a');
    w.consulEmu.resetRequestCounts();
    assert.equal((await admit(w, 'api', '192.0.2.20', 8080)).status, 200);
    await w.runtime.events.services.idle();
    const id = serviceInstanceId('api', NS, 'api', '192.0.2.20');
    assert.deepEqual(await ours(w, 'api'), [[id, '192.0.2.20', 8080, 'cluster-a']]);
    // The write planned from the view (refused), the read, the write planned from the read.
    assert.equal(count('PUT /v1/txn'), 2);
    assert.equal(count('GET /v1/health/service/:name'), 1);
    assert.ok(w.logs.some((l) => l.includes('"event":"cas-retry"')));
  });

  test("another cluster's registration that appeared after the view was read is never overwritten", async () => {
    // The view holds nothing for `taken`; cluster B registers the ID this admission will write.
    await register(w, 'taken', '192.0.2.30', 80, 'cluster-b');
    assert.equal((await admit(w, 'taken', '192.0.2.30')).status, 200);
    await w.runtime.events.services.idle();
    const id = serviceInstanceId('taken', NS, 'taken', '192.0.2.30');
    assert.deepEqual(await ours(w, 'taken'), [[id, '192.0.2.30', 80, 'cluster-b']]);
    assert.ok(
      w.logs.some((l) => l.includes('"event":"registration-conflict"') && l.includes(id)),
      'the read after the refused create found it and left it alone',
    );
  });

  test('a grouped transaction with one stale member: the others are written, the stale one reads and is written', async () => {
    const names = ['g0', 'g1', 'g2', 'g3'];
    for (const name of names) assert.equal((await admit(w, name, '192.0.2.70')).status, 200);
    await w.runtime.events.services.idle();
    // Another replica changes g2 behind this replica's view.
    await register(w, 'g2', '192.0.2.70', 9090, 'cluster-a');
    // The first write is held on its way, so the three behind it leave together.
    w.consulEmu.faults.add({ method: 'PUT', path: '/v1/txn', delayMs: 300, times: 1 });
    w.consulEmu.resetRequestCounts();
    const lead = admit(w, 'g0', '192.0.2.70', 8080);
    await waitFor('the first write to be on its way', () => count('PUT /v1/txn') >= 1);
    const rest = ['g1', 'g2', 'g3'].map((name) => admit(w, name, '192.0.2.70', 8080));
    for (const answer of await Promise.all([lead, ...rest])) assert.equal(answer.status, 200);
    await w.runtime.events.services.idle();
    for (const name of names) {
      const id = serviceInstanceId(name, NS, name, '192.0.2.70');
      assert.deepEqual(await ours(w, name), [[id, '192.0.2.70', 8080, 'cluster-a']], name);
    }
    // The held one; the group of three, refused; each alone (g2 refused again); g2 after its read.
    assert.equal(count('PUT /v1/txn'), 6);
    assert.equal(count('GET /v1/health/service/:name'), 1, 'only g2 read');
  });
});

describe('with refreshes (--registration-view-interval=20ms)', () => {
  let w: WiredWorld;
  let view: RegistrationView;
  before(async () => ({ w, view } = await start('20ms')));
  after(async () => w.close());

  test('a registration deleted by hand is seen by the next refresh, and the next admission writes it again', async () => {
    const ref: ServiceRef = { namespace: NS, name: 'db' };
    assert.equal((await admit(w, 'db', '192.0.2.40')).status, 200);
    await w.runtime.events.services.idle();
    const id = serviceInstanceId('db', NS, 'db', '192.0.2.40');
    await waitFor('the view to hold db', () => view.get(ref)?.registrations.length === 1);
    await w.consul.catalog.deregister({ node: 'k8s-sync', serviceid: id } as never);
    await waitFor('the refresh to see it gone', () => view.get(ref)?.registrations.length === 0);
    assert.equal((await admit(w, 'db', '192.0.2.40')).status, 200);
    await w.runtime.events.services.idle();
    assert.deepEqual(await ours(w, 'db'), [[id, '192.0.2.40', 80, 'cluster-a']]);
  });

  test('what a write records is what a read of Consul answers, checks and their indexes included', async () => {
    const consul = w.runtime.consul;
    const ref: ServiceRef = { namespace: NS, name: 'checked' };
    const reg = (ip: string, status: 'passing' | 'critical'): Registration => ({
      node: 'k8s-sync',
      id: serviceInstanceId('checked', NS, 'checked', ip),
      service: 'checked',
      address: ip,
      port: 80,
      tags: ['k8s'],
      meta: {
        'external-source': 'kubernetes',
        'external-k8s-ns': NS,
        'external-k8s-name': 'checked',
        'external-k8s-sync-id': 'cluster-a',
      },
      weights: { passing: 1, warning: 1 },
      check: { checkId: `${NS}/${ip}`, name: 'Kubernetes Readiness Check', status, output: status },
    });
    const change = (
      op: RegistrationChange['op'],
      registration: Registration,
      previous: Registration | undefined,
      writeService: boolean,
      writeCheck: RegistrationChange['writeCheck'],
    ): RegistrationChange => ({
      target: 'consul',
      op,
      registration,
      ...(previous ? { previous } : {}),
      writeService,
      writeCheck,
      source: ref,
      reason: 'test',
    });
    const byId = (list: readonly Registration[]) =>
      [...list].sort((a, b) => (a.id < b.id ? -1 : 1));
    const read = async () =>
      byId((await (await consul.readForService(ref)).withChecks()).registrations);

    let current: Registration[] = [];
    const step = async (changes: RegistrationChange[]) => {
      const applied = await consul.apply([changes], 2000, { cas: true });
      const after = consul.registrationsAfter(current, changes, applied);
      assert.ok(after, 'every result is there');
      assert.deepEqual(byId(after), await read());
      current = after;
    };
    const a = reg('192.0.2.50', 'passing');
    const b = reg('192.0.2.51', 'critical');
    await step([
      change('create', a, undefined, true, 'set'),
      change('create', b, undefined, true, 'set'),
    ]);
    const [a1, b1] = byId(current);
    // The check only, then the service only (its check kept), then a check removed.
    await step([
      change('update', { ...a, check: { ...a.check!, status: 'critical' } }, a1, false, 'set'),
    ]);
    const a2 = byId(current)[0]!;
    await step([change('update', { ...a, port: 81, check: a2.check! }, a2, true, null)]);
    const { check: _dropped, ...bare } = b;
    await step([change('update', bare, b1, false, 'delete')]);
    await step([change('delete', byId(current)[1]!, undefined, true, null)]);
    assert.equal(current.length, 1);
  });
});
