// Planning of Kubernetes services made from Consul (docs/reference.md "Consul → Kubernetes", "Ownership and safety"): only Services labelled
// consul=true in the write namespace are ours; a same-named Service without it is a conflict.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { planK8sServices } from '../../src/plan/index.js';
import type { DesiredK8sService, Service, ToK8sSettings } from '../../src/translate/types.js';

const settings: ToK8sSettings = {
  consulK8sTag: 'k8s',
  k8sServicePrefix: '',
  k8sWriteNamespace: 'default',
  consulDomain: 'consul',
};

function desired(name: string, consulName = name): DesiredK8sService {
  return {
    namespace: 'default',
    name,
    consulName,
    externalName: `${consulName.toLowerCase()}.service.consul`,
    labels: { consul: 'true' },
    annotations: {
      'consul.hashicorp.com/synced': 'true',
      'consul.hashicorp.com/service-sync': 'false',
    },
  };
}

function ours(
  name: string,
  o: {
    externalName?: string;
    type?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  } = {},
): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      resourceVersion: '42',
      labels: o.labels ?? { consul: 'true' },
      annotations: o.annotations ?? {
        'consul.hashicorp.com/synced': 'true',
        'consul.hashicorp.com/service-sync': 'false',
      },
    },
    spec: {
      type: o.type ?? 'ExternalName',
      externalName: o.externalName ?? `${name}.service.consul`,
    },
  };
}

function theirs(name: string): Service {
  return {
    metadata: { name, namespace: 'default', resourceVersion: '7', labels: { app: name } },
    spec: { type: 'ClusterIP', ports: [{ port: 80 }] },
  };
}

describe('planK8sServices', () => {
  it('creates a desired service that does not exist', () => {
    const plan = planK8sServices({ desired: [desired('billing-db')], current: [], settings });
    assert.equal(plan.changes.length, 1);
    const c = plan.changes[0]!;
    assert.deepEqual(
      { op: c.op, target: c.target, namespace: c.namespace, name: c.name, reason: c.reason },
      {
        op: 'create',
        target: 'kubernetes',
        namespace: 'default',
        name: 'billing-db',
        reason: 'consul service billing-db added',
      },
    );
    assert.deepEqual(c.desired, desired('billing-db'));
    assert.equal(plan.owned, 0);
  });

  it('never touches a same-named service without label consul=true', () => {
    const plan = planK8sServices({ desired: [desired('web')], current: [theirs('web')], settings });
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.conflicts.length, 1);
    assert.equal(plan.conflicts[0]!.name, 'web');
    assert.match(plan.conflicts[0]!.reason, /consul=true/);
    assert.equal(plan.unchanged, 0);
  });

  it('leaves an owned service that is as desired', () => {
    const plan = planK8sServices({ desired: [desired('web')], current: [ours('web')], settings });
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.unchanged, 1);
    assert.equal(plan.owned, 1);
  });

  it('tolerates extra labels and annotations on an owned service', () => {
    const svc = ours('web', {
      labels: { consul: 'true', team: 'x' },
      annotations: {
        'consul.hashicorp.com/synced': 'true',
        'consul.hashicorp.com/service-sync': 'false',
        note: 'y',
      },
    });
    const plan = planK8sServices({ desired: [desired('web')], current: [svc], settings });
    assert.deepEqual(plan.changes, []);
  });

  it('restores an externalName edited by hand', () => {
    const current = ours('web', { externalName: 'evil.example.com' });
    const plan = planK8sServices({ desired: [desired('web')], current: [current], settings });
    assert.equal(plan.changes.length, 1);
    const c = plan.changes[0]!;
    assert.equal(c.op, 'update');
    assert.equal(c.reason, 'externalName edited by hand: restored');
    assert.equal(c.current, current, 'carries the current object (resourceVersion)');
    assert.deepEqual(c.desired, desired('web'));
  });

  const restoreCases: [string, Service, RegExp][] = [
    ['type changed', ours('web', { type: 'ClusterIP' }), /type ClusterIP → ExternalName/],
    [
      'synced annotation removed',
      ours('web', { annotations: { 'consul.hashicorp.com/service-sync': 'false' } }),
      /consul\.hashicorp\.com\/synced/,
    ],
    [
      'service-sync annotation changed',
      ours('web', {
        annotations: {
          'consul.hashicorp.com/synced': 'true',
          'consul.hashicorp.com/service-sync': 'true',
        },
      }),
      /service-sync/,
    ],
  ];
  for (const [name, current, reason] of restoreCases) {
    it(`restores an owned service: ${name}`, () => {
      const plan = planK8sServices({ desired: [desired('web')], current: [current], settings });
      assert.equal(plan.changes.length, 1);
      assert.equal(plan.changes[0]!.op, 'update');
      assert.match(plan.changes[0]!.reason, reason);
    });
  }

  it('deletes an owned service that is no longer desired', () => {
    const current = ours('legacy-api');
    const plan = planK8sServices({ desired: [], current: [current, theirs('app')], settings });
    assert.equal(plan.changes.length, 1);
    const c = plan.changes[0]!;
    assert.equal(c.op, 'delete');
    assert.equal(c.name, 'legacy-api');
    assert.equal(c.reason, 'consul service legacy-api removed');
    assert.equal(c.current, current);
    assert.equal(plan.owned, 1);
  });

  it('names the Consul service without the k8s-service-prefix in a delete reason', () => {
    const plan = planK8sServices({
      desired: [],
      current: [ours('consul-redis')],
      settings: { ...settings, k8sServicePrefix: 'consul-' },
    });
    assert.equal(plan.changes[0]!.reason, 'consul service redis removed');
  });

  it('ignores services in other namespaces, labelled or not', () => {
    const plan = planK8sServices({
      desired: [desired('web')],
      current: [
        ours('web', { namespace: 'other', externalName: 'x' }),
        ours('old', { namespace: 'other' }),
      ],
      settings,
    });
    assert.deepEqual(
      plan.changes.map((c) => `${c.op} ${c.name}`),
      ['create web'],
    );
    assert.equal(plan.owned, 0);
  });

  it('orders creates and updates before deletes, each by name', () => {
    const plan = planK8sServices({
      desired: [desired('zeta'), desired('alpha'), desired('mid')],
      current: [ours('mid', { externalName: 'x' }), ours('aaa-old'), ours('zzz-old')],
      settings,
    });
    assert.deepEqual(
      plan.changes.map((c) => `${c.op} ${c.name}`),
      ['create alpha', 'update mid', 'create zeta', 'delete aaa-old', 'delete zzz-old'],
    );
  });
});
