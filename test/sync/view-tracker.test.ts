// When a delivery plans only what changed, and when it plans the whole view
// (src/sync/view-tracker.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ViewTracker } from '../../src/sync/view-tracker.js';

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
