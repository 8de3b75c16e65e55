// Kubernetes Events on synced Services, as plain data (src/plan/events.ts): which Event each
// outcome earns (issue 19 item 11), and the aggregation that keeps a busy Service to one write
// per reason per interval, with series updates for repeats as events.k8s.io/v1 does them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EVENT_NOTE_MAX,
  EventAggregator,
  eventsOfOutcome,
  failureEvent,
  type ServiceEvent,
  type ServiceOutcome,
} from '../../src/plan/events.js';
import type { RegistrationChange } from '../../src/plan/index.js';
import type { Registration, Service } from '../../src/translate/types.js';

const REF = { namespace: 'shop', name: 'web' };
const service = (annotations: Record<string, string> = {}): Service => ({
  metadata: { name: 'web', namespace: 'shop', uid: 'uid-web', annotations },
  spec: { type: 'NodePort' },
});

function reg(id: string, name = 'web', syncId?: string): Registration {
  return {
    node: 'k8s-sync',
    id,
    service: name,
    address: '10.0.0.1',
    port: 80,
    tags: [],
    meta: syncId ? { 'external-k8s-sync-id': syncId } : {},
    weights: { passing: 1, warning: 1 },
  };
}

function change(op: RegistrationChange['op'], id: string, name = 'web'): RegistrationChange {
  return {
    target: 'consul',
    op,
    registration: reg(id, name),
    writeService: true,
    writeCheck: null,
    source: REF,
    reason: 'test',
  };
}

function outcome(o: Partial<ServiceOutcome>): ServiceOutcome {
  return { ref: REF, service: service(), changes: [], unchanged: 0, conflicts: [], ...o };
}

describe('eventsOfOutcome', () => {
  const cases: [string, Partial<ServiceOutcome>, Partial<ServiceEvent>[]][] = [
    ['an unchanged, synced Service: none', { unchanged: 3 }, []],
    [
      'written: Synced with the Consul name and the instance count',
      { changes: [change('create', 'a'), change('update', 'b')], unchanged: 1 },
      [
        {
          reason: 'Synced',
          action: 'Register',
          type: 'Normal',
          note: 'Consul service web: 3 instance(s) (1 created, 1 updated, 0 deregistered)',
        },
      ],
    ],
    [
      'renamed: the old name is said',
      { changes: [change('create', 'a', 'shop-web'), change('delete', 'b', 'web')] },
      [
        {
          reason: 'Synced',
          action: 'Register',
          note: 'Consul service shop-web: 1 instance(s) (1 created, 0 updated, 1 deregistered); deregistered from web',
        },
      ],
    ],
    [
      'the last instance gone: Synced, Deregister',
      { changes: [change('delete', 'a')] },
      [
        {
          reason: 'Synced',
          action: 'Deregister',
          note: 'Consul service web: 0 instance(s) (0 created, 0 updated, 1 deregistered)',
        },
      ],
    ],
    [
      'no longer eligible: SyncSkipped with why, Deregister',
      { skipReason: 'namespace shop is denied', changes: [change('delete', 'a')] },
      [
        {
          reason: 'SyncSkipped',
          action: 'Deregister',
          type: 'Normal',
          note: 'Not synced (namespace shop is denied): deregistered 1 instance(s) of Consul service web',
        },
      ],
    ],
    [
      'ineligible and nothing to remove: none (a ClusterIP among thousands)',
      { skipReason: 'type ClusterIP is not synced (--sync-clusterip-services=false)' },
      [],
    ],
    [
      'ineligible although the annotation asks for sync: SyncSkipped, Warning',
      {
        service: service({ 'consul.hashicorp.com/service-sync': 'true' }),
        skipReason: 'namespace shop is denied',
      },
      [
        {
          reason: 'SyncSkipped',
          action: 'Register',
          type: 'Warning',
          note: 'Not synced to Consul although consul.hashicorp.com/service-sync is true: namespace shop is denied',
        },
      ],
    ],
    [
      'a desired ID held by another installation: ConflictWithForeign, and Synced for the rest',
      { conflicts: [reg('x', 'web', 'cluster-b')], changes: [change('create', 'a')] },
      [
        {
          reason: 'ConflictWithForeign',
          action: 'Register',
          type: 'Warning',
          note: 'Consul service web: 1 instance ID(s) already registered by sync id cluster-b, left alone: x',
        },
        { reason: 'Synced' },
      ],
    ],
    [
      'owned by no installation',
      { conflicts: [reg('x'), reg('y')] },
      [
        {
          reason: 'ConflictWithForeign',
          note: 'Consul service web: 2 instance ID(s) already registered by no installation, left alone: x, y',
        },
      ],
    ],
    [
      'a deleted Service: none (nothing to describe)',
      { service: null, changes: [change('delete', 'a')] },
      [],
    ],
  ];
  for (const [name, o, expected] of cases) {
    it(name, () => {
      const events = eventsOfOutcome(outcome(o));
      assert.equal(events.length, expected.length, JSON.stringify(events));
      expected.forEach((e, i) => {
        const got = events[i]!;
        assert.deepEqual(got.regarding, { ...REF, uid: 'uid-web' });
        for (const [k, v] of Object.entries(e)) assert.equal(got[k as keyof ServiceEvent], v, k);
      });
    });
  }

  it('a Service being deleted gets none', () => {
    const s = service();
    (s.metadata as Record<string, unknown>).deletionTimestamp = '2025-01-01T00:00:00Z';
    assert.deepEqual(
      eventsOfOutcome(outcome({ service: s, changes: [change('delete', 'a')] })),
      [],
    );
  });

  it('notes stay within the API limit and name a few objects, not all', () => {
    const conflicts = Array.from({ length: 500 }, (_, i) => reg(`id-${'x'.repeat(40)}-${i}`));
    const [event] = eventsOfOutcome(outcome({ conflicts }));
    assert.ok(event!.note.length <= EVENT_NOTE_MAX);
    assert.match(event!.note, /and 497 more/);
  });

  it('failureEvent: Register for a Service, Deregister for a deleted one, uid when known', () => {
    assert.deepEqual(failureEvent(REF, service(), 'why'), {
      regarding: { ...REF, uid: 'uid-web' },
      reason: 'SyncFailed',
      action: 'Register',
      type: 'Warning',
      note: 'why',
    });
    assert.equal(failureEvent(REF, null, 'why').action, 'Deregister');
    assert.deepEqual(failureEvent(REF, undefined, 'why', 'u2').regarding, { ...REF, uid: 'u2' });
    assert.deepEqual(failureEvent(REF, undefined, 'why').regarding, REF);
  });
});

describe('EventAggregator', () => {
  const ev = (note = 'n', reason: ServiceEvent['reason'] = 'Synced'): ServiceEvent => ({
    regarding: { ...REF, uid: 'u' },
    reason,
    action: 'Register',
    type: 'Normal',
    note,
  });
  let seq = 0;
  const agg = (): EventAggregator =>
    new EventAggregator({ intervalMs: 1000, seriesIdleMs: 5000, newName: (n) => `${n}.${seq++}` });

  it('the first occurrence is written at once; repeats within the interval fold into one patch', () => {
    const a = agg();
    const first = a.observe(ev(), 0);
    assert.equal(first?.op, 'create');
    assert.equal(first?.series, undefined);
    for (let t = 100; t <= 900; t += 100) assert.equal(a.observe(ev(), t), undefined);
    assert.equal(a.nextDue(), 1000);
    assert.deepEqual(a.due(999), []);
    const [patch, ...rest] = a.due(1000);
    assert.equal(rest.length, 0);
    assert.deepEqual(patch, {
      op: 'patch',
      name: first.name,
      event: ev(),
      eventTime: 0,
      series: { count: 10, lastObservedTime: 900 },
    });
    assert.equal(a.nextDue(), undefined);
    // After the interval a repeat is written at once, on the same Event.
    const again = a.observe(ev(), 2500);
    assert.deepEqual(again?.series, { count: 11, lastObservedTime: 2500 });
    assert.equal(again?.name, first.name);
  });

  it('a different note is a new Event (notes are immutable), standing for its own repeats', () => {
    const a = agg();
    const first = a.observe(ev('one'), 0)!;
    a.observe(ev('two'), 100);
    a.observe(ev('three'), 200);
    a.observe(ev('three'), 300);
    const [write] = a.due(1000);
    assert.equal(write?.op, 'create');
    assert.notEqual(write?.name, first.name);
    assert.equal(write?.event.note, 'three');
    assert.equal(write?.eventTime, 200);
    assert.deepEqual(write?.series, { count: 2, lastObservedTime: 300 });
  });

  it('reasons and Services aggregate apart', () => {
    const a = agg();
    assert.equal(a.observe(ev('n', 'Synced'), 0)?.op, 'create');
    assert.equal(a.observe(ev('n', 'ConflictWithForeign'), 0)?.op, 'create');
    const other: ServiceEvent = { ...ev(), regarding: { namespace: 'shop', name: 'api' } };
    assert.equal(a.observe(other, 0)?.op, 'create');
    assert.equal(a.size, 3);
  });

  it('a series ends after seriesIdleMs without a repeat: the next occurrence is a new Event', () => {
    const a = agg();
    const first = a.observe(ev(), 0)!;
    const later = a.observe(ev(), 6000)!;
    assert.equal(later.op, 'create');
    assert.notEqual(later.name, first.name);
    a.due(20_000);
    assert.equal(a.size, 0, 'ended series are forgotten');
  });

  it('a burst of any size makes at most one write per interval', () => {
    const a = agg();
    let writes = 0;
    for (let t = 0; t < 10_000; t += 7) {
      if (a.observe(ev(`n${t % 3}`), t)) writes++;
      writes += a.due(t).length;
    }
    writes += a.drain(10_000).length;
    assert.ok(writes <= 11, `${writes} writes`);
  });

  it('drain writes every folded repeat, due or not; the key limit forgets the oldest', () => {
    const a = new EventAggregator({ intervalMs: 1000, maxKeys: 2 });
    a.observe(ev(), 0);
    a.observe(ev(), 10);
    assert.equal(a.drain(20).length, 1);
    a.observe({ ...ev(), regarding: { namespace: 'a', name: 'b' } }, 0);
    a.observe({ ...ev(), regarding: { namespace: 'c', name: 'd' } }, 0);
    assert.equal(a.size, 2);
  });
});
