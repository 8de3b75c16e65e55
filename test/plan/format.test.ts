// Plan rendering and ordering (docs/reference.md "Reconcile and plan": every change named with op, target, name and why),
// and the delete-ratio guard.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  checkDeleteRatio,
  formatChange,
  formatPlanTable,
  sortChanges,
  type Change,
  type K8sServiceChange,
  type RegistrationChange,
} from '../../src/plan/index.js';
import type { Registration } from '../../src/translate/types.js';

function reg(id: string, node = 'k8s-sync'): Registration {
  return {
    node,
    id,
    service: id.split('-')[0]!,
    address: '10.0.0.7',
    port: 80,
    tags: ['k8s'],
    meta: {},
    weights: { passing: 1, warning: 1 },
  };
}

function consul(
  op: RegistrationChange['op'],
  id: string,
  reason = 'r',
  node?: string,
): RegistrationChange {
  return {
    target: 'consul',
    op,
    registration: reg(id, node),
    writeService: true,
    writeCheck: null,
    source: { namespace: 'shop', name: 'web' },
    reason,
  };
}

function kube(op: K8sServiceChange['op'], name: string, reason = 'r'): K8sServiceChange {
  return { target: 'kubernetes', op, namespace: 'default', name, reason };
}

describe('formatChange', () => {
  it('formats a Consul change', () => {
    assert.equal(
      formatChange(consul('delete', 'web-4f1c2a9b0c1d', 'k8s service shop/web deleted')),
      'delete consul web-4f1c2a9b0c1d (k8s service shop/web deleted)',
    );
  });
  it('formats a Kubernetes change', () => {
    assert.equal(
      formatChange(kube('create', 'billing-db', 'consul service billing-db added')),
      'create kubernetes default/billing-db (consul service billing-db added)',
    );
  });
});

describe('sortChanges', () => {
  const changes: Change[] = [
    kube('delete', 'old'),
    consul('delete', 'web-b'),
    consul('update', 'web-z'),
    kube('create', 'billing-db'),
    consul('create', 'web-a'),
    kube('update', 'alpha'),
    consul('delete', 'web-a', 'r', 'other-node'),
  ];
  const expected = [
    'create consul web-a',
    'update consul web-z',
    'update kubernetes default/alpha',
    'create kubernetes default/billing-db',
    'delete consul web-a',
    'delete consul web-b',
    'delete kubernetes default/old',
  ];
  const key = (c: Change): string => formatChange(c).replace(/ \(.*\)$/, '');

  it('sets before deletes, then target, then object', () => {
    assert.deepEqual(sortChanges(changes).map(key), expected);
  });
  it('gives the same order for any input order', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const shuffled = [...changes].sort(
        (a, b) => ((key(a).length * seed) % 7) - ((key(b).length * seed) % 5),
      );
      assert.deepEqual(sortChanges(shuffled).map(key), expected);
    }
  });
  it('does not modify its input', () => {
    const copy = [...changes];
    sortChanges(changes);
    assert.deepEqual(changes, copy);
  });
});

describe('formatPlanTable', () => {
  it('says no changes when empty', () => {
    assert.equal(formatPlanTable([]), 'no changes');
  });
  it('aligns OP TARGET OBJECT REASON columns, in sorted order', () => {
    const table = formatPlanTable([
      consul('delete', 'web-4f1c2a9b0c1d', 'k8s service shop/web deleted'),
      kube('create', 'billing-db', 'consul service billing-db added'),
    ]);
    assert.equal(
      table,
      [
        'OP       TARGET       OBJECT               REASON',
        'create   kubernetes   default/billing-db   consul service billing-db added',
        'delete   consul       web-4f1c2a9b0c1d     k8s service shop/web deleted',
      ].join('\n'),
    );
  });
});

describe('checkDeleteRatio', () => {
  const cases: [
    string,
    { deletes: number; owned: number; maxRatio: number; minDeletes?: number },
    boolean,
    number,
  ][] = [
    ['nothing owned → allowed', { deletes: 0, owned: 0, maxRatio: 0.5 }, true, 0],
    ['no deletes → allowed', { deletes: 0, owned: 10, maxRatio: 0.5 }, true, 0],
    ['below the limit', { deletes: 2, owned: 10, maxRatio: 0.5 }, true, 0.2],
    ['exactly the limit is allowed', { deletes: 5, owned: 10, maxRatio: 0.5 }, true, 0.5],
    ['above the limit is refused', { deletes: 6, owned: 10, maxRatio: 0.5 }, false, 0.6],
    ['everything with limit 1 is allowed', { deletes: 10, owned: 10, maxRatio: 1 }, true, 1],
    ['everything with limit 0.9 is refused', { deletes: 10, owned: 10, maxRatio: 0.9 }, false, 1],
    ['one of one with limit 0.5 is refused', { deletes: 1, owned: 1, maxRatio: 0.5 }, false, 1],
    // The guard is for mass deletions: at most minDeletes deletions always pass (issue 14).
    [
      'one of one within the minimum passes',
      { deletes: 1, owned: 1, maxRatio: 0.5, minDeletes: 10 },
      true,
      1,
    ],
    [
      'exactly the minimum passes',
      { deletes: 10, owned: 10, maxRatio: 0.5, minDeletes: 10 },
      true,
      1,
    ],
    [
      'one above the minimum engages the ratio',
      { deletes: 11, owned: 12, maxRatio: 0.5, minDeletes: 10 },
      false,
      11 / 12,
    ],
    [
      'above the minimum and within the ratio passes',
      { deletes: 11, owned: 100, maxRatio: 0.5, minDeletes: 10 },
      true,
      0.11,
    ],
  ];
  for (const [name, input, allowed, ratio] of cases) {
    it(name, () => {
      const r = checkDeleteRatio(input);
      assert.equal(r.allowed, allowed);
      assert.equal(r.ratio, ratio);
      assert.ok(
        r.message.includes(String(input.deletes)) && r.message.includes(String(input.owned)),
        r.message,
      );
    });
  }
});
