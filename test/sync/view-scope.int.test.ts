// Deliveries that plan only what changed (src/sync/view-tracker.ts; issue 18), as serve runs
// them (the mirrors watched): after the first delivery, one plans only the Consul names whose
// entry or shared status changed and the mirrors edited by others, and for any history of
// registrations, hand edits and deliveries the mirrors end as a plan of the whole view wants
// them. Real clients against both emulators.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import request from 'supertest';
import { startWorld, type World } from '../support/world.js';
import { planServicesView } from '../../src/sync/to-k8s.js';
import type { ServicesView } from '../../src/translate/types.js';

let w: World;
const NS = 'default';

before(async () => {
  w = await startWorld({ flags: ['--sync-id=cluster-a', '--to-consul=false'], watchMirrors: true });
});
after(async () => {
  await w.close();
});

async function consul(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${w.consulEmu.url}${path}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  assert.equal(res.status, 200, await res.text());
}

const register = (node: string, name: string, tags: string[]): Promise<void> =>
  consul('PUT', '/v1/catalog/register', {
    Node: node,
    Address: '10.9.0.1',
    Service: { ID: `${name}-${node}`, Service: name, Port: 80, Tags: tags },
  });

const deregister = (node: string, name: string): Promise<void> =>
  consul('PUT', '/v1/catalog/deregister', { Node: node, ServiceID: `${name}-${node}` });

async function currentView(): Promise<ServicesView> {
  return (await (await fetch(`${w.consulEmu.url}/v1/catalog/services`)).json()) as ServicesView;
}

interface DeliveryLine {
  event?: string;
  read?: string;
  planned?: number;
  sharedNames?: string;
}
/** The last delivery's log line. */
let lastLine: DeliveryLine | undefined;

/** Delivers the current view as the watch would; answers the planned count (absent: whole view). */
async function deliver(): Promise<number | undefined> {
  const mark = w.logs.length;
  const res = await request(w.app)
    .post('/consul/services')
    .send(await currentView());
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const line = w.logs
    .slice(mark)
    .map((l) => JSON.parse(l) as DeliveryLine)
    .find((l) => l.event === 'consul-watch');
  lastLine = line;
  return line?.planned;
}

/** The watch's view of the mirrors has caught up with the API server's. */
async function watchCaughtUp(): Promise<void> {
  const mirrors = (await w.runtime.deps()).mirrors!;
  const end = Date.now() + 5000;
  for (;;) {
    const listed = await w.core.listNamespacedService({
      namespace: NS,
      labelSelector: 'consul=true',
    });
    const want = listed.items.map((s) => `${s.metadata?.name}@${s.metadata?.resourceVersion}`);
    const have = (mirrors.snapshot() ?? []).map(
      (s) => `${s.metadata?.name}@${s.metadata?.resourceVersion}`,
    );
    if (JSON.stringify(want.sort()) === JSON.stringify(have.sort())) return;
    if (Date.now() > end)
      assert.fail(`the watch did not catch up: ${want.join()} vs ${have.join()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A change made by hand to a mirror (missing: nothing to do). */
async function handEdit(name: string, how: 'delete' | 'retarget' | 'unlabel'): Promise<void> {
  const current = await w.core
    .readNamespacedService({ name, namespace: NS })
    .catch(() => undefined);
  if (!current) return;
  if (how === 'delete') {
    await w.core.deleteNamespacedService({ name, namespace: NS });
    return;
  }
  if (how === 'retarget') current.spec = { ...current.spec, externalName: 'elsewhere.example' };
  else current.metadata = { ...current.metadata, labels: {} };
  await w.core.replaceNamespacedService({ name, namespace: NS, body: current });
}

/** A plan of the whole current view, made from fresh reads, finds nothing to do. */
async function assertConverged(): Promise<void> {
  const plan = await planServicesView(await w.runtime.deps(), await currentView());
  assert.deepEqual(
    plan.changes.map((c) => `${c.op} ${c.name} (${c.reason})`),
    [],
    'a plan of the whole view finds nothing to change',
  );
}

test('after the first delivery, a delivery plans only the names that changed', async () => {
  await watchCaughtUp();
  for (let i = 0; i < 20; i++) await register('vm-1', `svc-${i}`, ['v1']);
  assert.equal(await deliver(), undefined, 'the first delivery plans the whole view');
  await watchCaughtUp();
  assert.equal(lastLine?.read, 'whole', 'and parses it whole');
  await register('vm-1', 'svc-new', []);
  assert.equal(await deliver(), 1, 'only the new name');
  assert.equal(lastLine?.read, 'delta', 'read against the first body');
  await watchCaughtUp();
  await register('vm-1', 'svc-3', ['v2']);
  assert.equal(await deliver(), 1, 'only the retagged name');
  assert.equal(lastLine?.read, 'delta');
  await assertConverged();
  // An edit by hand, seen through the watch: that mirror is planned and restored.
  await handEdit('svc-5', 'retarget');
  await watchCaughtUp();
  assert.equal(await deliver(), 1, 'only the edited mirror');
  const svc = await w.core.readNamespacedService({ name: 'svc-5', namespace: NS });
  assert.equal(svc.spec?.externalName, 'svc-5.service.consul');
  await assertConverged();
});

test('the shared-name answer is read again when a k8s-tagged name changes in the view, else kept', async () => {
  await watchCaughtUp();
  await register('k8s-sync', 'shared', ['k8s']);
  await deliver();
  await assertConverged();
  // A delivery that deletes nothing reads the services view only for the shared names.
  const reads = (): number => w.consulEmu.requestCounts()['GET /v1/catalog/services'] ?? 0;
  // A VM instance with tags the view already shows: the view does not change (Consul's watch
  // sends nothing for it), and a delivery of another change keeps the previous answer.
  await register('vm-2', 'shared', []);
  assert.deepEqual((await currentView()).shared, ['k8s']);
  await register('vm-1', 'unrelated', ['v1']);
  const before = reads();
  assert.equal(await deliver(), 1, 'only the new name');
  assert.equal(
    reads(),
    before + 1,
    'no shared-name read (the one read is deliver() taking the view)',
  );
  assert.equal(lastLine?.sharedNames, 'kept', 'the log line says so');
  await assert.rejects(w.core.readNamespacedService({ name: 'shared', namespace: NS }));
  // The reconcile reads it (as does the next delivery that plans in full).
  const rec = await request(w.app).post('/reconcile?direction=to-k8s');
  assert.equal(rec.status, 200, JSON.stringify(rec.body));
  const svc = await w.core.readNamespacedService({ name: 'shared', namespace: NS });
  assert.equal(svc.spec?.externalName, 'shared.service.consul');
  await assertConverged();
  // A VM instance whose tags change the view's entry of a k8s-tagged name: read at once.
  await deregister('vm-2', 'shared');
  await register('vm-1', 'shared', ['v1']);
  await watchCaughtUp();
  const readsBefore = reads();
  await deliver();
  assert.equal(reads(), readsBefore + 2, 'the view taken, and the shared-name read');
  assert.equal(lastLine?.sharedNames, undefined);
  await assertConverged();
  // The VM instance leaves: the entry changes back, the answer is read, the mirror goes.
  await deregister('vm-1', 'shared');
  await watchCaughtUp();
  await deliver();
  await assert.rejects(w.core.readNamespacedService({ name: 'shared', namespace: NS }));
  await assertConverged();
});

type Op =
  | { op: 'register'; node: 'vm-1' | 'vm-2' | 'k8s-sync'; name: string; tags: string[] }
  | { op: 'deregister'; node: 'vm-1' | 'vm-2' | 'k8s-sync'; name: string }
  | { op: 'edit'; mirror: string; how: 'delete' | 'retarget' | 'unlabel' }
  | { op: 'deliver' };

const NAMES = ['a', 'A', 'b', 'c', 'secret', 'd'];
const nodeArb = fc.constantFrom<'vm-1' | 'vm-2' | 'k8s-sync'>('vm-1', 'vm-2', 'k8s-sync');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('register' as const),
      node: nodeArb,
      name: fc.constantFrom(...NAMES),
      // Mostly mirrored; sometimes registered from Kubernetes, or opted out.
      tags: fc.constantFrom<string[]>([], ['v1'], ['v1'], ['k8s'], ['k8s-sync-disabled']),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('deregister' as const),
      node: nodeArb,
      name: fc.constantFrom(...NAMES),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('edit' as const),
      mirror: fc.constantFrom('a', 'b', 'c', 'd'),
      how: fc.constantFrom<'delete' | 'retarget' | 'unlabel'>('delete', 'retarget', 'unlabel'),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ op: 'deliver' as const }) },
);

async function apply(op: Op): Promise<void> {
  switch (op.op) {
    case 'register':
      return register(op.node, op.name, op.tags);
    case 'deregister':
      return deregister(op.node, op.name);
    case 'deliver':
      await watchCaughtUp();
      await deliver();
      return;
    case 'edit':
      return handEdit(op.mirror, op.how);
  }
}

let runs = 0;

async function reset(): Promise<void> {
  for (const name of NAMES)
    for (const node of ['vm-1', 'vm-2', 'k8s-sync']) await deregister(node, name);
  for (const name of NAMES.map((n) => n.toLowerCase()))
    await w.core.deleteNamespacedService({ name, namespace: NS }).catch(() => undefined);
  await watchCaughtUp();
  await deliver();
}

test('any history of registrations, hand edits and deliveries ends as a plan of the whole view wants', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), async (ops) => {
      await reset();
      for (const op of ops) await apply(op);
      // A k8s-tagged name retagged: this delivery reads the shared names again, and planning only
      // what changed since the previous one (shared-name flips included) converges everything.
      await register('k8s-sync', 'probe', ['k8s', `run-${++runs}`]);
      await watchCaughtUp();
      await deliver();
      await assertConverged();
    }),
    { numRuns: Number(process.env.VIEW_SCOPE_RUNS ?? 40) },
  );
});
