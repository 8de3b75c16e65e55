import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendAll } from '../../src/translate/arrays.js';

test('appendAll keeps order and returns the target', () => {
  const target = [1, 2];
  assert.equal(appendAll(target, [3, 4]), target);
  assert.deepEqual(target, [1, 2, 3, 4]);
  assert.deepEqual(appendAll([], []), []);
});

test('appendAll takes more items than a spread call can pass', () => {
  const items = Array.from({ length: 500_000 }, (_, i) => i);
  // The reason it exists: the spread form throws at this size.
  assert.throws(() => [].push(...(items as never[])), RangeError);
  const target = [-1];
  appendAll(target, items);
  assert.equal(target.length, 500_001);
  assert.equal(target[500_000], 499_999);
});
