// growthOf (test/bench/load.ts): the e2e-lag figure for how the Consul → Kubernetes lag grows with
// the number of services, as a slope through the medians of the ten tenths of the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { growthOf } from './load.js';

test('a lag rising 10 ms over 1,000 changes grows 10 ms per 1,000', () => {
  const lags = Array.from({ length: 1000 }, (_, i) => 8 + i / 100);
  const g = growthOf(lags);
  assert.equal(g.tenthsP50Ms.length, 10);
  assert.ok(Math.abs(g.slopeMsPer1000 - 10) < 0.05, String(g.slopeMsPer1000));
});

test('a flat lag with a burst of noise at the end barely tilts the line', () => {
  // The last 60 of 1,000 samples are 40 ms slower (a neighbour's burst): the last tenth's median
  // moves, the others do not.
  const lags = Array.from({ length: 1000 }, (_, i) => (i >= 940 ? 50 : 10));
  const g = growthOf(lags);
  assert.deepEqual(g.tenthsP50Ms, [10, 10, 10, 10, 10, 10, 10, 10, 10, 50]);
  // A first/last-tenth ratio would read 5x here; the slope reads the line through ten medians.
  assert.ok(g.slopeMsPer1000 < 25, String(g.slopeMsPer1000));
  assert.ok(g.slopeMsPer1000 > 0);
});

test('fewer than ten samples: no figure', () => {
  assert.ok(Number.isNaN(growthOf([1, 2, 3]).slopeMsPer1000));
});
