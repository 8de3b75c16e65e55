// When a delivery plans only what changed, and when it plans the whole view
// (src/sync/view-tracker.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ViewTracker, noteDeliveredDiff } from '../../src/sync/view-tracker.js';

const mirrorOf = (n: string): string => n.toLowerCase();
const none = (epoch = 1) => ({ epoch, names: new Set<string>() });

function tracker(now = { t: 0 }) {
  return { tracker: new ViewTracker(mirrorOf, 30_000, () => now.t), now };
}

test('the first delivery plans the whole view; the next only what changed', () => {
  const { tracker: t } = tracker();
  assert.equal(t.scope({ web: [], api: [] }, new Set(), none()), undefined);
  t.settled(true);
  const scope = t.scope({ web: ['v2'], api: [] }, new Set(), none());
  assert.deepEqual([...(scope?.names ?? [])], ['web']);
  t.settled(true);
  assert.deepEqual([...(t.scope({ web: ['v2'], api: [] }, new Set(), none())?.names ?? [])], []);
});

test('mirrors changed by others and names left in conflict are planned next time', () => {
  const { tracker: t } = tracker();
  t.scope({ web: [], api: [] }, new Set(), none());
  t.settled(true, ['api']);
  const scope = t.scope({ web: [], api: [] }, new Set(), { epoch: 1, names: new Set(['web']) });
  assert.deepEqual([...(scope?.names ?? [])].sort(), ['api', 'web']);
});

test('a full plan again: without a watch, after a new list, after a failure, and every 30 s', () => {
  const { tracker: t, now } = tracker();
  const view = { web: [] };
  t.scope(view, new Set(), none());
  t.settled(true);
  assert.equal(t.scope(view, new Set(), undefined), undefined, 'no watch running');
  t.settled(true);
  assert.equal(t.scope(view, new Set(), none()), undefined, 'nothing known after that');
  t.settled(true);
  assert.notEqual(t.scope(view, new Set(), none()), undefined);
  t.settled(true);
  assert.equal(t.scope(view, new Set(), none(2)), undefined, 'the mirrors were listed afresh');
  t.settled(true);
  assert.notEqual(t.scope(view, new Set(), none(2)), undefined);
  t.settled(false);
  assert.equal(t.scope(view, new Set(), none(2)), undefined, 'the previous delivery failed');
  t.settled(true);
  now.t = 30_000;
  assert.equal(t.scope(view, new Set(), none(2)), undefined, '30 s since the last full plan');
});

test('a view remembered only once its delivery settled cleanly', () => {
  const { tracker: t } = tracker();
  t.scope({ web: [] }, new Set(), none());
  t.settled(true);
  // Planned from memory, then a write failed: the next plans the whole view.
  assert.notEqual(t.scope({ web: [], api: [] }, new Set(), none()), undefined);
  t.settled(false);
  assert.equal(t.scope({ web: [], api: [] }, new Set(), none()), undefined);
});

/** The names a `sharedNames` answer keeps (fails on any other answer). */
function kept(answer: ReturnType<ViewTracker['sharedNames']>): string[] {
  assert.ok(answer && 'kept' in answer, `kept: ${JSON.stringify(answer)}`);
  return [...answer.kept];
}

test('the shared names are kept while no k8s-tagged name changes, and read on every full plan', () => {
  const { tracker: t, now } = tracker();
  const view = { web: ['k8s'], db: ['k8s', 'v1'], api: [] };
  // The first delivery plans in full: read.
  assert.equal(t.sharedNames(view, 'k8s', none()), undefined);
  t.scope(view, new Set(['db']), none());
  t.settled(true);
  // An untagged name added: kept.
  const next = { ...view, fresh: ['v1'] };
  assert.deepEqual(kept(t.sharedNames(next, 'k8s', none())), ['db']);
  assert.deepEqual([...(t.scope(next, new Set(['db']), none())?.names ?? [])], ['fresh']);
  t.settled(true);
  // A k8s-tagged name retagged, or added: read, and the view is known to have a tagged name.
  assert.deepEqual(t.sharedNames({ ...next, web: ['k8s', 'v2'] }, 'k8s', none()), {
    tagged: true,
  });
  assert.deepEqual(t.sharedNames({ ...next, other: ['k8s'] }, 'k8s', none()), { tagged: true });
  // A shared name that left the view or lost the tag: kept, without it.
  assert.deepEqual(kept(t.sharedNames({ web: ['k8s'], api: [] }, 'k8s', none())), []);
  assert.deepEqual(kept(t.sharedNames({ ...next, db: ['v1'] }, 'k8s', none())), []);
  // Whenever the delivery plans in full: read.
  assert.equal(t.sharedNames(next, 'k8s', undefined), undefined, 'no watch running');
  assert.equal(t.sharedNames(next, 'k8s', none(2)), undefined, 'the mirrors listed afresh');
  now.t = 30_000;
  assert.equal(t.sharedNames(next, 'k8s', none()), undefined, '30 s since the last full plan');
});

test('shared names from a read filtered by ACLs are read again', () => {
  const { tracker: t } = tracker();
  const view = { web: ['k8s'], api: [] };
  t.scope(view, new Set(), none(), true);
  t.settled(true);
  assert.equal(t.sharedNames({ ...view, fresh: [] }, 'k8s', none()), undefined);
  t.scope({ ...view, fresh: [] }, new Set(), none(), false);
  t.settled(true);
  assert.deepEqual(kept(t.sharedNames({ ...view, more: [] }, 'k8s', none())), []);
});

test('a scope after sharedNames plans the names whose shared answer flipped', () => {
  const { tracker: t } = tracker();
  const view = { web: ['k8s'], db: ['k8s'] };
  t.scope(view, new Set(['db']), none());
  t.settled(true);
  const next = { web: ['k8s', 'v1'], db: ['k8s'] };
  assert.deepEqual(t.sharedNames(next, 'k8s', none()), { tagged: true });
  // The read says web is now shared and db no longer is.
  assert.deepEqual([...(t.scope(next, new Set(['web']), none())?.names ?? [])].sort(), [
    'db',
    'web',
  ]);
});

test('a diff noted by the read of a delivery is taken when its base is the known view, else compared', () => {
  const { tracker: t } = tracker();
  const first = { web: [], api: [], db: [] };
  t.scope(first, new Set(), none());
  t.settled(true);
  // The read noted `api` (a retag it parsed); the tracker takes its word for it, without
  // comparing entries (which would find `web` too: a note is trusted, so it must be exact).
  const second = { web: ['not-noted'], api: ['v2'], db: [] };
  noteDeliveredDiff(second, first, { added: [], removed: [], changed: new Set(['api']) });
  assert.deepEqual([...(t.scope(second, new Set(), none())?.names ?? [])], ['api']);
  t.settled(true);
  // A note against another base (a delivery in between was not planned) is not taken: the
  // entries are compared, and both changes are found.
  const other = { web: ['x'], api: ['v2'], db: [] };
  const third = { web: ['v3'], api: ['v2'], db: ['v1'] };
  noteDeliveredDiff(third, other, { added: [], removed: [], changed: new Set(['db']) });
  assert.deepEqual([...(t.scope(third, new Set(), none())?.names ?? [])].sort(), ['db', 'web']);
  t.settled(true);
  // And the known view moved on: a note against `second` no longer applies either.
  const fourth = { web: ['v3'], api: [], db: ['v1'] };
  noteDeliveredDiff(fourth, second, { added: [], removed: [], changed: new Set(['web']) });
  assert.deepEqual([...(t.scope(fourth, new Set(), none())?.names ?? [])], ['api']);
});
