// ConsulCatalog.apply against a fake client: at most `concurrency` transactions in flight
// (--concurrency), every chain applied, and no chain started after one failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ConsulCatalog } from '../../src/consul/catalog.js';
import type { ConsulHandle } from '../../src/consul/client.js';
import type { RegistrationChange } from '../../src/plan/index.js';

/** One Kubernetes service's deletes: 40 operations, so no two services share a transaction. */
function group(service: number): RegistrationChange[] {
  return Array.from({ length: 40 }, (_, i) => ({
    target: 'consul',
    op: 'delete',
    registration: {
      node: 'k8s-sync',
      id: `svc${service}-${i}`,
      service: `svc${service}`,
      address: `10.0.${service}.${i}`,
      port: 80,
      tags: [],
      meta: {},
      weights: { passing: 1, warning: 1 },
    },
    writeService: true,
    writeCheck: null,
    source: { namespace: 'shop', name: `svc${service}` },
    reason: 'test',
  }));
}

function fakeConsul(txn: (call: number) => Promise<void>): {
  handle: ConsulHandle;
  stats: { calls: number; running: number; peak: number };
} {
  const stats = { calls: 0, running: 0, peak: 0 };
  const handle = {
    client: {
      transaction: {
        create: async () => {
          const call = stats.calls++;
          stats.running++;
          stats.peak = Math.max(stats.peak, stats.running);
          try {
            await txn(call);
          } finally {
            stats.running--;
          }
          return [];
        },
      },
    },
    opts: () => ({ timeout: 1000 }),
    connection: {},
  } as unknown as ConsulHandle;
  return { handle, stats };
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('apply runs at most `concurrency` transactions at once and applies every chain', async () => {
  const { handle, stats } = fakeConsul(() => pause(2));
  const catalog = new ConsulCatalog(handle, { nodeName: 'k8s-sync', concurrency: 3 });
  const groups = Array.from({ length: 10 }, (_, i) => group(i));
  const result = await catalog.apply(groups, 1000, { ensureNode: false });
  assert.equal(result.transactions, 10);
  assert.equal(result.operations, 400);
  assert.equal(stats.calls, 10);
  assert.equal(stats.peak, 3);
});

test('after a failed transaction no further chain starts; the call rejects', async () => {
  const { handle, stats } = fakeConsul(async (call) => {
    await pause(call === 0 ? 1 : 20);
    if (call === 0) throw new Error('consul said no');
  });
  const catalog = new ConsulCatalog(handle, { nodeName: 'k8s-sync', concurrency: 2 });
  const groups = Array.from({ length: 6 }, (_, i) => group(i));
  await assert.rejects(catalog.apply(groups, 1000, { ensureNode: false }));
  // The failed one and the one in flight beside it; the four waiting never went out.
  assert.equal(stats.calls, 2);
});

test('one service past the limit: its sets at once within the bound, its deletes after them; none after a failed set', async () => {
  const sets: RegistrationChange[] = Array.from({ length: 200 }, (_, i) => ({
    ...group(0)[0]!,
    op: 'create',
    registration: { ...group(0)[0]!.registration, id: `svc0-new-${i}` },
  }));
  const deletes = group(0); // 40 deletes
  const order: string[] = [];
  const { handle, stats } = fakeConsul(async () => {
    await pause(5);
  });
  const create = (handle.client.transaction as unknown as { create: (ops: unknown[]) => unknown })
    .create;
  (handle.client.transaction as unknown as { create: (ops: unknown[]) => unknown }).create = (
    ops: unknown[],
  ) => {
    order.push(JSON.stringify(ops).includes('"delete"') ? 'delete' : 'set');
    return create(ops);
  };
  const catalog = new ConsulCatalog(handle, { nodeName: 'k8s-sync', concurrency: 3 });
  const result = await catalog.apply([[...deletes, ...sets]], 1000, { ensureNode: false });
  // 200 sets in 64-op transactions (4), then 40 deletes in one.
  assert.deepEqual(order, ['set', 'set', 'set', 'set', 'delete']);
  assert.equal(result.operations, 240);
  assert.equal(stats.peak, 3, 'the sets ran at once, within --concurrency');

  const failing = fakeConsul(async (call) => {
    await pause(5);
    if (call === 1) throw new Error('consul said no');
  });
  const seen: string[] = [];
  const createFailing = (
    failing.handle.client.transaction as unknown as { create: (ops: unknown[]) => unknown }
  ).create;
  (failing.handle.client.transaction as unknown as { create: (ops: unknown[]) => unknown }).create =
    (ops: unknown[]) => {
      seen.push(JSON.stringify(ops).includes('"delete"') ? 'delete' : 'set');
      return createFailing(ops);
    };
  const failingCatalog = new ConsulCatalog(failing.handle, {
    nodeName: 'k8s-sync',
    concurrency: 3,
  });
  await assert.rejects(failingCatalog.apply([[...deletes, ...sets]], 1000, { ensureNode: false }));
  assert.ok(!seen.includes('delete'), 'no delete after a set failed: the old instances stay');
});
