// The concurrency bound of confirmations and recovery.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLimiter } from '../src/concurrency.js';

test('never more than the limit at once, every task runs, failures reach their caller only', async () => {
  const limit = createLimiter(3);
  let running = 0;
  let peak = 0;
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) =>
      limit(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 1 + (i % 4)));
        running--;
        if (i === 7) throw new Error('seven');
        return i;
      }),
    ),
  );
  assert.equal(peak, 3);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 19);
  assert.equal((results[7] as PromiseRejectedResult).reason.message, 'seven');
  assert.deepEqual(await limit(async () => 'after'), 'after', 'a failure frees its slot');
});
