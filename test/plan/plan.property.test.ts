// Convergence properties of the planners: applying plan(desired, current) to current yields
// desired for the entries we own and leaves every foreign entry as it was; planning again
// then gives no changes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import {
  planAllRegistrations,
  planK8sServices,
  planServiceRegistrations,
  type K8sServiceChange,
  type RegistrationChange,
} from '../../src/plan/index.js';
import type { ConsulTranslation } from '../../src/translate/to-consul.js';
import { desiredServiceObject } from '../../src/translate/to-k8s.js';
import type {
  DesiredK8sService,
  Registration,
  Service,
  ToK8sSettings,
} from '../../src/translate/types.js';

const RUNS = 300;
const SYNC = 'sync-1';
const REFS = [
  { namespace: 'shop', name: 'web' },
  { namespace: 'shop', name: 'api' },
];
const IDS = ['a', 'b', 'c', 'd', 'e'];

type Owner = 'ours' | 'foreign' | 'none';

function regArb(owner: fc.Arbitrary<Owner>): fc.Arbitrary<Registration> {
  return fc
    .record({
      ref: fc.constantFrom(...REFS),
      id: fc.constantFrom(...IDS),
      node: fc.constantFrom('k8s-sync', 'k8s-sync', 'other-node'),
      port: fc.constantFrom(80, 8080),
      tags: fc.constantFrom<string[]>(['k8s'], ['k8s', 'x'], ['x', 'k8s']),
      team: fc.constantFrom(undefined, 'a', 'b'),
      passing: fc.constantFrom(1, 3),
      warning: fc.constantFrom(1, 1, 2),
      check: fc.constantFrom<'passing' | 'critical' | undefined>(undefined, 'passing', 'critical'),
      owner,
    })
    .map((o) => {
      const meta: Record<string, string> = {};
      if (o.owner !== 'none') {
        meta['external-source'] = 'kubernetes';
        meta['external-k8s-ns'] = o.ref.namespace;
        meta['external-k8s-name'] = o.ref.name;
        meta['external-k8s-sync-id'] = o.owner === 'ours' ? SYNC : 'other-sync';
      }
      if (o.team !== undefined) meta.team = o.team;
      const id = `${o.ref.name}-${o.id}`;
      const r: Registration = {
        node: o.node,
        id,
        service: o.ref.name,
        address: `10.0.0.${IDS.indexOf(o.id)}`,
        port: o.port,
        tags: o.tags,
        meta,
        weights: { passing: o.passing, warning: o.warning },
      };
      if (o.check !== undefined)
        r.check = {
          checkId: `${o.ref.namespace}/${id}`,
          name: 'Kubernetes Readiness Check',
          status: o.check,
        };
      return r;
    });
}

const key = (r: Registration): string => `${r.node}/${r.id}`;

function uniqueByKey(regs: Registration[]): Registration[] {
  const seen = new Map<string, Registration>();
  for (const r of regs) if (!seen.has(key(r))) seen.set(key(r), r);
  return [...seen.values()];
}

/** What a Consul txn applying the changes does to the node's catalog. */
function applyToConsul(
  current: Registration[],
  changes: readonly RegistrationChange[],
): Registration[] {
  const state = new Map(current.map((r) => [key(r), structuredClone(r)]));
  for (const c of changes) {
    const k = key(c.registration);
    if (c.op === 'delete') {
      state.delete(k);
      continue;
    }
    const before = state.get(k);
    let next: Registration;
    if (c.op === 'create' || !before) {
      next = structuredClone(c.registration);
      delete next.check;
    } else {
      next = c.writeService ? { ...structuredClone(c.registration), check: before.check } : before;
      if (next.check === undefined) delete next.check;
    }
    if (c.writeCheck === 'set') next.check = structuredClone(c.registration.check);
    if (c.writeCheck === 'delete') delete next.check;
    state.set(k, next);
  }
  return [...state.values()];
}

const isOurs = (r: Registration): boolean =>
  r.meta['external-source'] === 'kubernetes' && r.meta['external-k8s-sync-id'] === SYNC;
const byKey = (rs: Registration[]): Registration[] =>
  [...rs].sort((a, b) => (key(a) < key(b) ? -1 : 1));

describe('registration planning properties', () => {
  const ownerArb = fc.constantFrom<Owner>('ours', 'ours', 'foreign', 'none');

  it('planServiceRegistrations converges owned entries and leaves foreign ones', () => {
    fc.assert(
      fc.property(
        fc.array(regArb(fc.constant<Owner>('ours')), { maxLength: 6 }),
        fc.array(regArb(ownerArb), { maxLength: 8 }),
        fc.boolean(),
        (desiredRaw, currentRaw, deleted) => {
          const ref = REFS[0]!;
          const desired = byKey(
            uniqueByKey(desiredRaw.filter((r) => r.meta['external-k8s-name'] === ref.name)),
          );
          const current = uniqueByKey(currentRaw);
          const translation: ConsulTranslation | { ref: typeof ref; deleted: true } = deleted
            ? { ref, deleted: true }
            : { ref, eligible: true, registrations: desired, warnings: [] };
          const plan = planServiceRegistrations({ translation, current, syncId: SYNC });

          // sets before deletes
          const firstDelete = plan.changes.findIndex((c) => c.op === 'delete');
          if (firstDelete >= 0)
            assert.ok(plan.changes.slice(firstDelete).every((c) => c.op === 'delete'));
          // never touches what is not ours
          for (const c of plan.changes) {
            const before = current.find((r) => key(r) === key(c.registration));
            if (before)
              assert.ok(isOurs(before), `changes only ours: ${c.op} ${key(c.registration)}`);
          }

          const after = applyToConsul(current, plan.changes);
          const foreignBefore = current.filter((r) => !isOurs(r));
          const foreignAfter = after.filter((r) => !isOurs(r));
          assert.deepEqual(byKey(foreignAfter), byKey(foreignBefore));

          const conflictKeys = new Set(plan.conflicts.map(key));
          const wanted = deleted ? [] : desired.filter((d) => !conflictKeys.has(key(d)));
          const oursForRef = after.filter(
            (r) =>
              isOurs(r) &&
              r.meta['external-k8s-ns'] === ref.namespace &&
              r.meta['external-k8s-name'] === ref.name,
          );
          assert.deepEqual(byKey(oursForRef), byKey(wanted));

          const again = planServiceRegistrations({ translation, current: after, syncId: SYNC });
          assert.deepEqual(again.changes, []);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('planAllRegistrations converges every service and counts what is owned', () => {
    fc.assert(
      fc.property(
        fc.array(regArb(fc.constant<Owner>('ours')), { maxLength: 8 }),
        fc.array(regArb(ownerArb), { maxLength: 10 }),
        fc.subarray(REFS),
        (desiredRaw, currentRaw, present) => {
          const desired = uniqueByKey(desiredRaw);
          const current = uniqueByKey(currentRaw);
          const translations: ConsulTranslation[] = present.map((ref) => ({
            ref,
            eligible: true,
            warnings: [],
            registrations: byKey(desired.filter((r) => r.meta['external-k8s-name'] === ref.name)),
          }));
          const plan = planAllRegistrations({ translations, current, syncId: SYNC });
          assert.equal(plan.owned, current.filter(isOurs).length);
          const after = applyToConsul(current, plan.changes);
          assert.deepEqual(
            byKey(after.filter((r) => !isOurs(r))),
            byKey(current.filter((r) => !isOurs(r))),
          );
          const conflictKeys = new Set(plan.conflicts.map(key));
          const wanted = translations
            .flatMap((t) => t.registrations)
            .filter((d) => !conflictKeys.has(key(d)));
          assert.deepEqual(byKey(after.filter(isOurs)), byKey(wanted));
          assert.deepEqual(
            planAllRegistrations({ translations, current: after, syncId: SYNC }).changes,
            [],
          );
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('Kubernetes service planning properties', () => {
  const settings: ToK8sSettings = {
    consulK8sTag: 'k8s',
    k8sServicePrefix: '',
    k8sWriteNamespace: 'default',
    consulDomain: 'consul',
  };
  const NAMES = ['a', 'b', 'c', 'd'];
  const desiredOf = (name: string, target: string): DesiredK8sService => ({
    namespace: 'default',
    name,
    consulName: name,
    externalName: `${target}.service.consul`,
    labels: { consul: 'true' },
    annotations: {
      'consul.hashicorp.com/synced': 'true',
      'consul.hashicorp.com/service-sync': 'false',
    },
  });
  const currentArb: fc.Arbitrary<Service> = fc
    .record({
      name: fc.constantFrom(...NAMES),
      namespace: fc.constantFrom('default', 'default', 'other'),
      labelled: fc.boolean(),
      type: fc.constantFrom('ExternalName', 'ClusterIP'),
      target: fc.constantFrom('a', 'b', 'x'),
    })
    .map((o): Service => ({
      metadata: {
        name: o.name,
        namespace: o.namespace,
        resourceVersion: '1',
        labels: o.labelled ? { consul: 'true' } : { app: o.name },
      },
      spec: { type: o.type, externalName: `${o.target}.service.consul` },
    }));

  function apply(current: Service[], changes: readonly K8sServiceChange[]): Service[] {
    const state = new Map(current.map((s) => [`${s.metadata!.namespace}/${s.metadata!.name}`, s]));
    for (const c of changes) {
      const k = `${c.namespace}/${c.name}`;
      if (c.op === 'delete') state.delete(k);
      else state.set(k, desiredServiceObject(c.desired!));
    }
    return [...state.values()];
  }

  it('planK8sServices converges owned services and never touches others', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...NAMES)).map((names) => names.map((n) => desiredOf(n, n))),
        fc.uniqueArray(currentArb, {
          selector: (s) => `${s.metadata!.namespace}/${s.metadata!.name}`,
        }),
        (desired, current) => {
          const plan = planK8sServices({ desired, current, settings });
          const after = apply(current, plan.changes);
          const inNs = (s: Service): boolean => s.metadata!.namespace === 'default';
          const owned = (s: Service): boolean => inNs(s) && s.metadata!.labels?.consul === 'true';
          // foreign (unlabelled or other namespace) untouched
          const foreign = (list: Service[]): Service[] => list.filter((s) => !owned(s));
          assert.deepEqual(
            foreign(after)
              .map((s) => JSON.stringify(s))
              .sort(),
            foreign(current)
              .map((s) => JSON.stringify(s))
              .sort(),
          );
          const conflictNames = new Set(plan.conflicts.map((c) => c.name));
          const ownedAfter = after
            .filter(owned)
            .map((s) => `${s.metadata!.name}=${s.spec!.externalName}`)
            .sort();
          const wanted = desired
            .filter((d) => !conflictNames.has(d.name))
            .map((d) => `${d.name}=${d.externalName}`)
            .sort();
          assert.deepEqual(ownedAfter, wanted);
          assert.deepEqual(planK8sServices({ desired, current: after, settings }).changes, []);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
