import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TXN_OPS, opsForChange, packTransactions } from '../../src/consul/txn.js';
import type { RegistrationChange } from '../../src/plan/index.js';
import type { Registration } from '../../src/translate/types.js';

function reg(id: string, check = false): Registration {
  return {
    node: 'k8s-sync',
    id,
    service: id.split('-')[0]!,
    address: '10.0.0.1',
    port: 80,
    tags: ['k8s'],
    meta: { 'external-source': 'kubernetes' },
    weights: { passing: 1, warning: 1 },
    ...(check
      ? {
          check: {
            checkId: `ns/${id}`,
            name: 'Kubernetes Readiness Check',
            status: 'passing' as const,
          },
        }
      : {}),
  };
}

function change(
  op: 'create' | 'update' | 'delete',
  id: string,
  ns = 'shop',
  name = 'web',
): RegistrationChange {
  return {
    target: 'consul',
    op,
    registration: reg(id),
    writeService: op !== 'delete',
    writeCheck: null,
    source: { namespace: ns, name },
    reason: 'test',
  };
}

test('one service: one transaction, node first, sets before deletes; deletes carry ID and name', () => {
  const chains = packTransactions(
    [[change('delete', 'web-old'), change('create', 'web-new')]],
    'k8s-sync',
  );
  assert.equal(chains.length, 1);
  assert.deepEqual(chains[0]!.ordered, []);
  const [txn] = chains[0]!.sets;
  assert.deepEqual(Object.keys(txn![0]!), ['Node']);
  assert.equal((txn![1] as { Service: { Verb: string } }).Service.Verb, 'set');
  assert.deepEqual(txn![2], {
    Service: { Verb: 'delete', Node: 'k8s-sync', Service: { ID: 'web-old', Service: 'web' } },
  });
});

test('a check-only change writes only the check; a check removal deletes the old check ID', () => {
  const c: RegistrationChange = {
    ...change('update', 'web-1'),
    registration: reg('web-1', true),
    writeService: false,
    writeCheck: 'set',
  };
  assert.deepEqual(
    opsForChange(c).sets.map((o) => Object.keys(o)[0]),
    ['Check'],
  );
  const removal: RegistrationChange = {
    ...change('update', 'web-1'),
    previous: reg('web-1', true),
    writeService: true,
    writeCheck: 'delete',
  };
  const ops = opsForChange(removal);
  assert.deepEqual(ops.deletes, [
    { Check: { Verb: 'delete', Check: { Node: 'k8s-sync', CheckID: 'ns/web-1' } } },
  ]);
});

test('a service past the limit: its sets in transactions within the limit, then its deletes', () => {
  const group = Array.from({ length: 130 }, (_, i) => change('create', `web-${i}`));
  const chains = packTransactions([group], 'k8s-sync');
  assert.equal(chains.length, 1);
  assert.deepEqual(
    chains[0]!.sets.map((t) => t.length),
    [64, 64, 5],
  );
  assert.deepEqual(chains[0]!.ordered, []);
});

test('past the limit, a registration and its check are never split; deletes come after every set', () => {
  // 40 registrations with a check (2 ops each) and 70 deletes: 63 ops of room per transaction.
  const sets = Array.from({ length: 40 }, (_, i): RegistrationChange => {
    const c = change('create', `web-${i}`);
    return { ...c, registration: reg(`web-${i}`, true), writeCheck: 'set' };
  });
  const deletes = Array.from({ length: 70 }, (_, i) => change('delete', `web-old-${i}`));
  const [chain] = packTransactions([[...deletes, ...sets]], 'k8s-sync');
  // 31 whole registrations (62 ops) fit in 63; then the other 9.
  assert.deepEqual(
    chain!.sets.map((t) => t.length),
    [1 + 62, 1 + 18],
  );
  for (const t of chain!.sets) {
    const services = t.flatMap((o) =>
      'Service' in o ? [(o as { Service: { Service: { ID: string } } }).Service.Service.ID] : [],
    );
    const checks = t.flatMap((o) =>
      'Check' in o
        ? [(o as { Check: { Check: { ServiceID: string } } }).Check.Check.ServiceID]
        : [],
    );
    assert.deepEqual(checks, services, 'each check travels with its service');
  }
  assert.deepEqual(
    chain!.ordered.map((t) => t.length),
    [64, 8],
  );
  assert.ok(
    chain!.ordered
      .flat()
      .every((o) => Object.keys(o)[0] === 'Node' || /delete/.test(JSON.stringify(o))),
    'only deletes are ordered',
  );
});

test('many services pack first-fit decreasing into about ceil(ops / 64) transactions, never splitting a service', () => {
  const sizes = [40, 40, 20, 20, 10, 30, 3, 1];
  const groups = sizes.map((n, g) =>
    Array.from({ length: n }, (_, i) => change('create', `s${g}-${i}`, 'shop', `s${g}`)),
  );
  const total = sizes.reduce((a, b) => a + b, 0);
  const chains = packTransactions(groups, 'k8s-sync', { ensureNode: false });
  assert.equal(chains.length, Math.ceil(total / MAX_TXN_OPS));
  for (const {
    sets: [txn],
    ordered,
  } of chains) {
    assert.deepEqual(ordered, []);
    assert.ok(txn!.length <= MAX_TXN_OPS);
    const services = new Set(
      txn!.map(
        (o) => (o as { Service: { Service: { ID: string } } }).Service.Service.ID.split('-')[0],
      ),
    );
    for (const s of services) {
      const inTxn = txn!.filter((o) =>
        (o as { Service: { Service: { ID: string } } }).Service.Service.ID.startsWith(`${s}-`),
      ).length;
      assert.equal(inTxn, sizes[Number(s!.slice(1))], `service ${s} is whole in one transaction`);
    }
  }
});

// Check-and-set (issue 14): Consul's txn verbs `cas` (ModifyIndex 0 = only if absent) and
// `delete-cas` compare against the index the plan read.
test('with cas, a create sets only if absent, an update and a delete compare the index read', () => {
  const created = opsForChange(change('create', 'web-new'), true);
  assert.deepEqual(created.sets, [
    {
      Service: {
        Verb: 'cas',
        Node: 'k8s-sync',
        Service: {
          ID: 'web-new',
          Service: 'web',
          Tags: ['k8s'],
          Address: '10.0.0.1',
          Port: 80,
          Meta: { 'external-source': 'kubernetes' },
          Weights: { Passing: 1, Warning: 1 },
          ModifyIndex: 0,
        },
      },
    },
  ]);
  const updated = opsForChange(
    { ...change('update', 'web-1'), previous: { ...reg('web-1'), modifyIndex: 41 } },
    true,
  );
  assert.equal((updated.sets[0] as { Service: { Verb: string } }).Service.Verb, 'cas');
  assert.equal(
    (updated.sets[0] as { Service: { Service: { ModifyIndex: number } } }).Service.Service
      .ModifyIndex,
    41,
  );
  const deleted = opsForChange(
    { ...change('delete', 'web-2'), registration: { ...reg('web-2'), modifyIndex: 7 } },
    true,
  );
  assert.deepEqual(deleted.deletes, [
    {
      Service: {
        Verb: 'delete-cas',
        Node: 'k8s-sync',
        Service: { ID: 'web-2', Service: 'web', ModifyIndex: 7 },
      },
    },
  ]);
});

test('with cas, checks compare their own index: 0 for a new check, the read one otherwise', () => {
  const withIndex = (r: Registration, service: number, check: number): Registration => ({
    ...r,
    modifyIndex: service,
    check: { ...r.check!, modifyIndex: check },
  });
  const statusOnly: RegistrationChange = {
    ...change('update', 'web-1'),
    registration: reg('web-1', true),
    previous: withIndex(reg('web-1', true), 10, 12),
    writeService: false,
    writeCheck: 'set',
  };
  const ops = opsForChange(statusOnly, true);
  assert.equal(ops.sets.length, 1);
  assert.deepEqual(
    (ops.sets[0] as { Check: { Verb: string; Check: { ModifyIndex: number } } }).Check.Verb,
    'cas',
  );
  assert.equal(
    (ops.sets[0] as { Check: { Check: { ModifyIndex: number } } }).Check.Check.ModifyIndex,
    12,
  );
  const added = opsForChange(
    { ...statusOnly, previous: { ...reg('web-1'), modifyIndex: 10 } },
    true,
  );
  assert.equal(
    (added.sets[0] as { Check: { Check: { ModifyIndex: number } } }).Check.Check.ModifyIndex,
    0,
  );
  const removed = opsForChange(
    {
      ...change('update', 'web-1'),
      previous: withIndex(reg('web-1', true), 10, 12),
      writeService: false,
      writeCheck: 'delete',
    },
    true,
  );
  assert.deepEqual(removed.deletes, [
    {
      Check: {
        Verb: 'delete-cas',
        Check: { Node: 'k8s-sync', CheckID: 'ns/web-1', ModifyIndex: 12 },
      },
    },
  ]);
});

test('without an index read (or without cas) writes are plain sets and deletes', () => {
  const plain = opsForChange({ ...change('update', 'web-1'), previous: reg('web-1') }, true);
  assert.equal((plain.sets[0] as { Service: { Verb: string } }).Service.Verb, 'set');
  const noCas = opsForChange(change('create', 'web-new'));
  assert.equal((noCas.sets[0] as { Service: { Verb: string } }).Service.Verb, 'set');
});
