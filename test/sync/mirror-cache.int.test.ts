// The mirrors in memory (src/kube/watch-cache.ts; issue 18), as serve runs them: a Consul
// delivery plans against the watch's view instead of listing every mirror, an edit by hand still
// reaches the next delivery (through the watch), and without a running watch the delivery lists
// as before. Real clients against both emulators.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startWorld, type World } from '../support/world.js';

let w: World;
const NS = 'default';

before(async () => {
  w = await startWorld({ flags: ['--sync-id=cluster-a', '--to-consul=false'], watchMirrors: true });
});
after(async () => {
  await w.close();
});

async function register(name: string, tags: string[] = []): Promise<void> {
  const res = await fetch(`${w.consulEmu.url}/v1/catalog/register`, {
    method: 'PUT',
    body: JSON.stringify({
      Node: 'vm-1',
      Address: '10.9.0.1',
      Service: { ID: `${name}-1`, Service: name, Port: 80, Tags: tags },
    }),
  });
  assert.equal(res.status, 200);
}

async function deliver(): Promise<void> {
  const view = await (await fetch(`${w.consulEmu.url}/v1/catalog/services`)).json();
  const res = await request(w.app)
    .post('/consul/services')
    .send(view as object);
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

const mirrors = async (): Promise<string[] | undefined> =>
  (await w.runtime.deps()).mirrors
    ?.snapshot()
    ?.map((s) => s.metadata?.name ?? '')
    .sort();

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const lists = (): number => w.kubeEmu.requestCounts()['list services'] ?? 0;

test('a delivery plans from the watched mirrors: no list of them', async () => {
  await until(async () => (await mirrors()) !== undefined, 'the watch to run');
  await register('billing');
  await deliver();
  await until(
    async () => (await mirrors())?.includes('billing') === true,
    'the watch to see the new mirror',
  );
  // A tag change: an update, planned from memory.
  await register('billing', ['blue']);
  const before = lists();
  await deliver();
  assert.equal(lists(), before, 'no list of the mirrors');
  const svc = await w.core.readNamespacedService({ name: 'billing', namespace: NS });
  assert.equal(svc.metadata?.annotations?.['consul.hashicorp.com/tags'], 'blue');
});

test('a mirror deleted or edited by hand is restored by the next delivery, seen through the watch', async () => {
  await until(async () => (await mirrors())?.includes('billing') === true, 'billing mirrored');
  await w.core.deleteNamespacedService({ name: 'billing', namespace: NS });
  await until(async () => (await mirrors())?.includes('billing') === false, 'the watch to see it');
  await deliver();
  const back = await w.core.readNamespacedService({ name: 'billing', namespace: NS });
  assert.equal(back.spec?.externalName, 'billing.service.consul');

  await until(async () => (await mirrors())?.includes('billing') === true, 'the watch again');
  await w.core.patchNamespacedService({
    name: 'billing',
    namespace: NS,
    body: [{ op: 'replace', path: '/spec/externalName', value: 'elsewhere.example.com' }],
  });
  await until(
    async () =>
      (await w.runtime.deps()).mirrors
        ?.snapshot()
        ?.some((s) => s.spec?.externalName === 'elsewhere.example.com') === true,
    'the watch to see the edit',
  );
  await deliver();
  const restored = await w.core.readNamespacedService({ name: 'billing', namespace: NS });
  assert.equal(restored.spec?.externalName, 'billing.service.consul');
});

test('our own writes are in the view at once: a create and a delete in quick succession leave no mirror', async () => {
  await register('flash');
  await deliver();
  const res = await fetch(`${w.consulEmu.url}/v1/catalog/deregister`, {
    method: 'PUT',
    body: JSON.stringify({ Node: 'vm-1', ServiceID: 'flash-1' }),
  });
  assert.equal(res.status, 200);
  // No wait for the watch: the second delivery must know of the first one's create.
  await deliver();
  await assert.rejects(w.core.readNamespacedService({ name: 'flash', namespace: NS }));
  assert.equal((await mirrors())?.includes('flash'), false);
});

test('without a running watch a delivery lists the mirrors, as the standalone handlers do', async () => {
  const cache = (await w.runtime.deps()).mirrors as { stop(): void } | undefined;
  assert.ok(cache);
  cache.stop();
  assert.equal(await mirrors(), undefined);
  await register('ledger');
  const before = lists();
  await deliver();
  assert.ok(lists() > before, 'listed');
  const svc = await w.core.readNamespacedService({ name: 'ledger', namespace: NS });
  assert.equal(svc.spec?.externalName, 'ledger.service.consul');
});

test('the watch resumes after the API server ends it, and lists again after it fails', async () => {
  const deps = await w.runtime.deps();
  const cache = deps.mirrors as unknown as { start(): void; running: boolean };
  cache.start(); // the previous test stopped it
  await until(async () => cache.running, 'the watch to run');
  // Ended cleanly (the server's timeout): it resumes from the newest version, missing nothing
  // (an edit by hand, which no write of ours put in the view).
  await register('after-end');
  await deliver();
  w.kubeEmu.endWatches();
  await w.core.patchNamespacedService({
    name: 'after-end',
    namespace: NS,
    body: [{ op: 'replace', path: '/spec/externalName', value: 'moved.example.com' }],
  });
  await until(
    async () =>
      (await w.runtime.deps()).mirrors
        ?.snapshot()
        ?.some((s) => s.spec?.externalName === 'moved.example.com') === true,
    'the resumed watch to see the edit',
  );
  // Ended with the next watch refused: no snapshot (deliveries list) until a list and a watch
  // succeed again.
  w.kubeEmu.faults.add({ method: 'GET', path: /[?&]watch=true/, status: 500 });
  w.kubeEmu.endWatches();
  await until(async () => (await mirrors()) === undefined, 'the view to stop answering');
  await w.core.deleteNamespacedService({ name: 'after-end', namespace: NS });
  w.kubeEmu.faults.clear();
  await until(
    async () => (await mirrors())?.includes('after-end') === false,
    'the relisted view, without the Service deleted while it was down',
  );
});
