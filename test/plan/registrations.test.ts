// Planning of Consul registrations (docs/reference.md "Ownership and safety"): ownership by external-source + sync id,
// conflicts never written, sets before deletes, unchanged instances not rewritten.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  planAllRegistrations,
  planServiceRegistrations,
  type RegistrationChange,
} from '../../src/plan/index.js';
import type { ConsulTranslation } from '../../src/translate/to-consul.js';
import type { Registration, RegistrationCheck } from '../../src/translate/types.js';

const SYNC = 'sync-123';
const REF = { namespace: 'shop', name: 'web' };

function reg(
  id: string,
  o: Partial<Registration> & {
    owner?: 'ours' | 'foreign-sync' | 'none';
    ns?: string;
    k8sName?: string;
  } = {},
): Registration {
  const owner = o.owner ?? 'ours';
  const meta: Record<string, string> =
    owner === 'none'
      ? {}
      : {
          'external-source': 'kubernetes',
          'external-k8s-ns': o.ns ?? 'shop',
          'external-k8s-name': o.k8sName ?? 'web',
          'external-k8s-sync-id': owner === 'ours' ? SYNC : 'someone-else',
        };
  const r: Registration = {
    node: o.node ?? 'k8s-sync',
    id,
    service: o.service ?? 'web',
    address: o.address ?? '10.0.0.7',
    port: o.port ?? 30080,
    tags: o.tags ?? ['k8s'],
    meta: o.meta ?? meta,
    weights: o.weights ?? { passing: 1, warning: 1 },
  };
  if (o.check) r.check = o.check;
  return r;
}

const check = (id: string, status: RegistrationCheck['status']): RegistrationCheck => ({
  checkId: `shop/${id}`,
  name: 'Kubernetes Readiness Check',
  status,
});

function translation(
  registrations: Registration[],
  extra: Partial<ConsulTranslation> = {},
): ConsulTranslation {
  return { ref: REF, eligible: true, registrations, warnings: [], ...extra };
}

const ops = (changes: RegistrationChange[]): string[] =>
  changes.map((c) => `${c.op} ${c.registration.id}`);

describe('planServiceRegistrations', () => {
  it('creates every desired instance when Consul holds none, with the check set', () => {
    const a = reg('web-a', { check: check('web-a', 'passing') });
    const b = reg('web-b', { address: '10.0.0.8' });
    const plan = planServiceRegistrations({
      translation: translation([a, b]),
      current: [],
      syncId: SYNC,
    });
    assert.deepEqual(ops(plan.changes), ['create web-a', 'create web-b']);
    assert.equal(plan.changes[0]!.writeService, true);
    assert.equal(plan.changes[0]!.writeCheck, 'set');
    assert.equal(plan.changes[1]!.writeCheck, null);
    assert.equal(plan.changes[0]!.reason, 'new instance 10.0.0.7:30080 of k8s service shop/web');
    assert.deepEqual(plan.changes[0]!.source, REF);
    assert.equal(plan.unchanged, 0);
  });

  it('leaves an unchanged instance untouched', () => {
    const a = reg('web-a', { check: check('web-a', 'passing') });
    const current = structuredClone(a);
    current.check!.output = 'Kubernetes health checks passing'; // output is not compared
    const plan = planServiceRegistrations({
      translation: translation([a]),
      current: [current],
      syncId: SYNC,
    });
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.unchanged, 1);
  });

  for (const [name, foreign] of [
    ['a foreign sync id', reg('web-a', { owner: 'foreign-sync', port: 1 })],
    ['no meta at all', reg('web-a', { owner: 'none', port: 1 })],
    ['only the consul-k8s tag', reg('web-a', { owner: 'none', tags: ['k8s'], port: 1 })],
    [
      'external-source=kubernetes without sync id',
      reg('web-a', {
        meta: {
          'external-source': 'kubernetes',
          'external-k8s-ns': 'shop',
          'external-k8s-name': 'web',
        },
        port: 1,
      }),
    ],
    [
      'our sync id without external-source',
      reg('web-a', {
        meta: {
          'external-k8s-sync-id': SYNC,
          'external-k8s-ns': 'shop',
          'external-k8s-name': 'web',
        },
        port: 1,
      }),
    ],
  ] as const) {
    it(`a desired ID held by a registration with ${name} is a conflict, never written`, () => {
      const plan = planServiceRegistrations({
        translation: translation([reg('web-a')]),
        current: [foreign],
        syncId: SYNC,
      });
      assert.deepEqual(plan.changes, []);
      assert.deepEqual(plan.conflicts, [foreign]);
    });
    it(`a registration with ${name} that is not desired is never deleted`, () => {
      for (const t of [translation([]), { ref: REF, deleted: true as const }]) {
        const plan = planServiceRegistrations({ translation: t, current: [foreign], syncId: SYNC });
        assert.deepEqual(plan.changes, []);
        assert.deepEqual(plan.conflicts, []);
      }
    });
  }

  it('deletes our instances when the Kubernetes service is deleted', () => {
    const plan = planServiceRegistrations({
      translation: { ref: REF, deleted: true },
      current: [reg('web-a'), reg('web-b', { owner: 'foreign-sync' })],
      syncId: SYNC,
    });
    assert.deepEqual(ops(plan.changes), ['delete web-a']);
    assert.equal(plan.changes[0]!.reason, 'k8s service shop/web deleted');
    assert.equal(plan.changes[0]!.writeService, true);
    assert.equal(plan.changes[0]!.writeCheck, null, 'deregistering the service removes its check');
  });

  it('deletes our instances when the service is no longer eligible, saying why', () => {
    const t = translation([], {
      eligible: false,
      skipReason: 'annotation consul.hashicorp.com/service-sync is false',
    });
    const plan = planServiceRegistrations({
      translation: t,
      current: [reg('web-a')],
      syncId: SYNC,
    });
    assert.deepEqual(ops(plan.changes), ['delete web-a']);
    assert.equal(
      plan.changes[0]!.reason,
      'k8s service shop/web no longer synced: annotation consul.hashicorp.com/service-sync is false',
    );
  });

  it('puts sets before deletes so the service never passes through zero instances', () => {
    const plan = planServiceRegistrations({
      translation: translation([reg('web-z', { address: '10.0.0.9' })]),
      current: [reg('web-a'), reg('web-b', { address: '10.0.0.8' })],
      syncId: SYNC,
    });
    assert.deepEqual(ops(plan.changes), ['create web-z', 'delete web-a', 'delete web-b']);
    assert.match(plan.changes[1]!.reason, /instance 10\.0\.0\.7:30080 of k8s service shop\/web/);
  });

  it('a rename creates the new name and deletes the old one', () => {
    const plan = planServiceRegistrations({
      translation: translation([reg('billing-a', { service: 'billing' })]),
      current: [reg('web-a')],
      syncId: SYNC,
    });
    assert.deepEqual(ops(plan.changes), ['create billing-a', 'delete web-a']);
    assert.match(plan.changes[1]!.reason, /renamed.*web → billing/);
  });

  it('a check-only change writes only the check', () => {
    const plan = planServiceRegistrations({
      translation: translation([reg('web-a', { check: check('web-a', 'passing') })]),
      current: [reg('web-a', { check: check('web-a', 'critical') })],
      syncId: SYNC,
    });
    assert.equal(plan.changes.length, 1);
    const c = plan.changes[0]!;
    assert.equal(c.op, 'update');
    assert.equal(c.writeService, false);
    assert.equal(c.writeCheck, 'set');
    assert.equal(c.reason, 'health critical → passing');
    assert.equal(c.previous?.check?.status, 'critical');
    assert.equal(c.registration.check?.status, 'passing');
  });

  it('a check that must go is deleted', () => {
    const plan = planServiceRegistrations({
      translation: translation([reg('web-a')]),
      current: [reg('web-a', { check: check('web-a', 'passing') })],
      syncId: SYNC,
    });
    assert.equal(plan.changes[0]!.writeCheck, 'delete');
    assert.equal(plan.changes[0]!.writeService, false);
  });

  const serviceFieldCases: [
    string,
    Partial<Registration>,
    Partial<Registration>,
    string | RegExp,
  ][] = [
    ['port', { port: 80 }, { port: 8080 }, 'port 80 → 8080'],
    ['address', { address: '10.0.0.1' }, { address: '10.0.0.2' }, 'address 10.0.0.1 → 10.0.0.2'],
    ['tags', { tags: ['k8s'] }, { tags: ['k8s', 'primary'] }, /tags/],
    ['tag order', { tags: ['a', 'k8s'] }, { tags: ['k8s', 'a'] }, /tags/],
    [
      'weights',
      { weights: { passing: 1, warning: 1 } },
      { weights: { passing: 5, warning: 1 } },
      /weights 1\/1 → 5\/1/,
    ],
  ];
  for (const [field, before, after, reason] of serviceFieldCases) {
    it(`a ${field} change rewrites the service only`, () => {
      const plan = planServiceRegistrations({
        translation: translation([reg('web-a', after)]),
        current: [reg('web-a', before)],
        syncId: SYNC,
      });
      assert.equal(plan.changes.length, 1);
      const c = plan.changes[0]!;
      assert.equal(c.op, 'update');
      assert.equal(c.writeService, true);
      assert.equal(c.writeCheck, null);
      if (typeof reason === 'string') assert.equal(c.reason, reason);
      else assert.match(c.reason, reason);
    });
  }

  it('a meta change rewrites the service and names the keys', () => {
    const desired = reg('web-a');
    desired.meta = { ...desired.meta, team: 'payments' };
    const plan = planServiceRegistrations({
      translation: translation([desired]),
      current: [reg('web-a')],
      syncId: SYNC,
    });
    assert.equal(plan.changes[0]!.writeService, true);
    assert.match(plan.changes[0]!.reason, /meta.*\+team/);
  });

  it('meta is compared by keys and values, not by key order', () => {
    const plan = (current: Record<string, string>, desired: Record<string, string>) => {
      const d = reg('web-a');
      d.meta = { ...d.meta, ...desired };
      const c = reg('web-a');
      c.meta = { ...c.meta, ...current };
      return planServiceRegistrations({
        translation: translation([d]),
        current: [c],
        syncId: SYNC,
      });
    };
    // The same pairs in another order: nothing to write.
    const reordered = reg('web-a').meta;
    const unchanged = planServiceRegistrations({
      translation: translation([reg('web-a')]),
      current: [reg('web-a', { meta: Object.fromEntries(Object.entries(reordered).reverse()) })],
      syncId: SYNC,
    });
    assert.deepEqual(unchanged.changes, []);
    // As many keys, one of them another: both named.
    const swapped = plan({ team: 'a' }, { owner: 'a' });
    assert.equal(swapped.changes.length, 1);
    assert.match(swapped.changes[0]!.reason, /meta changed \(\+owner -team\)/);
    // The same keys, one value changed.
    const changed = plan({ team: 'a' }, { team: 'b' });
    assert.match(changed.changes[0]!.reason, /meta changed \(~team\)/);
  });

  it('only deletes current entries that name this Kubernetes service', () => {
    const other = reg('api-a', { service: 'api', k8sName: 'api' });
    const plan = planServiceRegistrations({
      translation: translation([]),
      current: [other],
      syncId: SYNC,
    });
    assert.deepEqual(plan.changes, []);
  });

  it('the same ID on another Consul node is another instance', () => {
    const plan = planServiceRegistrations({
      translation: translation([reg('web-a', { node: 'new-node' })]),
      current: [reg('web-a', { node: 'old-node' })],
      syncId: SYNC,
    });
    assert.deepEqual(
      plan.changes.map((c) => `${c.op} ${c.registration.node}`),
      ['create new-node', 'delete old-node'],
    );
  });
});

describe('planAllRegistrations', () => {
  it('plans every service, deletes owned groups without a translation, leaves foreign ones', () => {
    const current = [
      reg('web-a'),
      reg('gone-a', { service: 'gone', k8sName: 'gone' }),
      reg('gone-b', { service: 'gone', k8sName: 'gone', address: '10.0.0.8' }),
      reg('theirs-a', { service: 'theirs', k8sName: 'theirs', owner: 'foreign-sync' }),
      reg('manual-a', { service: 'manual', owner: 'none' }),
    ];
    const plan = planAllRegistrations({
      translations: [translation([reg('web-a'), reg('web-b', { address: '10.0.0.8' })])],
      current,
      syncId: SYNC,
    });
    assert.deepEqual(ops(plan.changes), ['create web-b', 'delete gone-a', 'delete gone-b']);
    assert.equal(plan.changes[1]!.reason, 'k8s service shop/gone deleted');
    assert.deepEqual(plan.changes[1]!.source, { namespace: 'shop', name: 'gone' });
    assert.equal(plan.unchanged, 1);
    assert.equal(plan.owned, 3);
    assert.deepEqual(plan.conflicts, []);
  });

  it('plans one service with more instances than a spread call can pass (150,000)', () => {
    // --max-instances-per-service=0 lets one Service (111,729 externalIPs fit in one object,
    // times its ports) register this many; appending them by spread threw RangeError.
    const many = Array.from({ length: 150_000 }, (_, i) => reg(`web-${i}`));
    const plan = planAllRegistrations({
      translations: [translation(many)],
      current: [],
      syncId: SYNC,
    });
    assert.equal(plan.changes.length, 150_000);
    assert.equal(plan.changes[149_999]!.op, 'create');
  });

  it('collects conflicts across services', () => {
    const plan = planAllRegistrations({
      translations: [translation([reg('web-a')])],
      current: [reg('web-a', { owner: 'foreign-sync' })],
      syncId: SYNC,
    });
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.conflicts.length, 1);
    assert.equal(plan.owned, 0);
  });

  it('deletes owned registrations that name no Kubernetes service', () => {
    const orphan = reg('orphan-a', {
      meta: { 'external-source': 'kubernetes', 'external-k8s-sync-id': SYNC },
    });
    const plan = planAllRegistrations({ translations: [], current: [orphan], syncId: SYNC });
    assert.deepEqual(ops(plan.changes), ['delete orphan-a']);
    assert.match(plan.changes[0]!.reason, /orphan/);
  });

  it('nothing desired and nothing owned → no changes', () => {
    const plan = planAllRegistrations({
      translations: [],
      current: [reg('x', { owner: 'none' })],
      syncId: SYNC,
    });
    assert.deepEqual(plan, { changes: [], unchanged: 0, conflicts: [], owned: 0 });
  });
});
