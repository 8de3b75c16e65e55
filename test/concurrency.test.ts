// The concurrency bound of confirmations and recovery.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLimiter, Foreground } from '../src/concurrency.js';

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

test('Foreground.quiet: at once when idle; when the last piece of work leaves; or at the bound', async () => {
  const fg = new Foreground();
  const order: string[] = [];
  await fg.quiet(10_000).then(() => order.push('idle'));
  const leaveA = fg.enter();
  const leaveB = fg.enter();
  assert.equal(fg.busy, true);
  const waited = fg.quiet(10_000).then(() => order.push('quiet'));
  await new Promise((r) => setTimeout(r, 20));
  leaveA();
  leaveA(); // a second call is a no-op: B is still in flight
  await new Promise((r) => setTimeout(r, 20));
  order.push('B leaves');
  leaveB();
  await waited;
  assert.deepEqual(order, ['idle', 'B leaves', 'quiet']);
  assert.equal(fg.busy, false);

  const stuck = fg.enter();
  const started = Date.now();
  const alive = setTimeout(() => undefined, 1000); // quiet's own timer does not hold the process
  await fg.quiet(50);
  clearTimeout(alive);
  assert.ok(Date.now() - started >= 45, 'waited for the bound while work stayed in flight');
  stuck();
});
