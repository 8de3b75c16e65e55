import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlinePassed, withDeadline } from '../../src/kube/rest.js';

test('withDeadline: the value of a call that settles in time, its signal never aborted', async () => {
  let seen: AbortSignal | undefined;
  const value = await withDeadline(1000, (signal) => {
    seen = signal;
    return Promise.resolve(42);
  });
  assert.equal(value, 42);
  assert.equal(seen?.aborted, false);
  // The timer is cleared: the signal stays unaborted past the deadline.
  await new Promise((r) => setTimeout(r, 20));
  const after = await withDeadline(5, (signal) => Promise.resolve(signal));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(after.aborted, false);
});

test('withDeadline: past the deadline the signal aborts and the failure is DeadlinePassed', async () => {
  const failure = await withDeadline(
    10,
    (signal) =>
      new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () => reject(new Error('aborted by the signal'))),
      ),
  ).catch((err: unknown) => err);
  assert.ok(failure instanceof DeadlinePassed);
  assert.equal((failure.cause as Error).message, 'aborted by the signal');
});

test('withDeadline: a failure before the deadline is passed on as it is', async () => {
  const own = new Error('refused');
  const failure = await withDeadline(1000, () => Promise.reject(own)).catch((err: unknown) => err);
  assert.equal(failure, own);
});
