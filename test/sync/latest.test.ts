// LatestPerKey (issue 14): one converge per key at a time, the newest input wins, an older input
// is never applied after a newer one, and waiting inputs are merged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LatestPerKey } from '../../src/sync/latest.js';
import { mergeIntents } from '../../src/sync/service-events.js';

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

test('inputs for one key never overlap; waiting ones collapse to the newest', async () => {
  const applied: number[] = [];
  let running = 0;
  const gates: { resolve: () => void }[] = [];
  const q = new LatestPerKey<number, number>(async (_key, n) => {
    running++;
    assert.equal(running, 1, 'never two at once for one key');
    const gate = deferred();
    gates.push(gate);
    await gate.promise;
    applied.push(n);
    running--;
    return n * 10;
  });
  const first = q.submit('a', 1);
  const second = q.submit('a', 2);
  const third = q.submit('a', 3);
  assert.deepEqual(await second, { ran: false }, 'replaced while waiting: answered at once');
  gates.shift()!.resolve();
  assert.deepEqual(await first, { ran: true, result: 10 });
  await new Promise((r) => setImmediate(r));
  gates.shift()!.resolve();
  assert.deepEqual(await third, { ran: true, result: 30 });
  assert.deepEqual(applied, [1, 3]);
  await q.idle();
  assert.equal(q.busy, 0);
});

test('different keys run at once; a failure reaches only its caller and the next input still runs', async () => {
  const q = new LatestPerKey<string, string>(async (key, input) => {
    if (input === 'boom') throw new Error('boom');
    return `${key}:${input}`;
  });
  const [a, b] = await Promise.allSettled([q.submit('a', 'boom'), q.submit('b', 'ok')]);
  assert.equal(a.status, 'rejected');
  assert.deepEqual(b, { status: 'fulfilled', value: { ran: true, result: 'b:ok' } });
  assert.deepEqual(await q.submit('a', 'again'), { ran: true, result: 'a:again' });
});

test('the merge decides what replaces a waiting input', async () => {
  const gate = deferred();
  const seen: number[][] = [];
  const q = new LatestPerKey<number[], void>(
    async (_k, input) => {
      seen.push(input);
      if (seen.length === 1) await gate.promise;
    },
    (older, newer) => [...older, ...newer],
  );
  const first = q.submit('k', [1]);
  const rest = [q.submit('k', [2]), q.submit('k', [3]), q.submit('k', [4])];
  gate.resolve();
  await first;
  await Promise.all(rest);
  assert.deepEqual(seen, [[1], [2, 3, 4]]);
});

test('property: with any arrival order and durations, the last input submitted is the last applied', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 })), {
        minLength: 1,
        maxLength: 12,
      }),
      async (ops) => {
        const applied = new Map<string, number[]>();
        const q = new LatestPerKey<{ seq: number; delay: number }, void>(async (key, input) => {
          await new Promise((r) => setTimeout(r, input.delay));
          applied.set(key, [...(applied.get(key) ?? []), input.seq]);
        });
        const lastOf = new Map<string, number>();
        await Promise.all(
          ops.map(([k, delay], seq) => {
            lastOf.set(`k${k}`, seq);
            return q.submit(`k${k}`, { seq, delay });
          }),
        );
        await q.idle();
        for (const [key, seqs] of applied) {
          assert.deepEqual(
            [...seqs].sort((x, y) => x - y),
            seqs,
            'applied in submission order',
          );
          assert.equal(seqs.at(-1), lastOf.get(key), 'the newest input is applied last');
        }
      },
    ),
    { numRuns: 200 },
  );
});

const ref = { namespace: 'shop', name: 'web' };
const svc = (ip: string) => ({
  metadata: { name: 'web', namespace: 'shop' },
  spec: { externalIPs: [ip] },
});

test('a newer admission replaces the service and keeps the slices both carry', () => {
  const older = {
    ref,
    service: svc('192.0.2.1'),
    slices: new Map([['web-a', null]]),
    names: new Set(['web']),
    exhaustive: false,
  };
  const newer = {
    ref,
    service: undefined,
    slices: new Map([['web-b', null]]),
    names: new Set<string>(),
    exhaustive: false,
  };
  const merged = mergeIntents(older, newer);
  assert.deepEqual(merged.service, svc('192.0.2.1'), 'a slice review keeps the admitted service');
  assert.deepEqual([...merged.slices.keys()], ['web-a', 'web-b']);
  const replaced = mergeIntents(older, {
    ...older,
    service: svc('192.0.2.2'),
    names: new Set(['api']),
  });
  assert.deepEqual(replaced.service, svc('192.0.2.2'));
  assert.deepEqual([...replaced.names].sort(), ['api', 'web'], 'every admitted name is read');
});

test('a confirmation never displaces a waiting admission (that admission confirms itself later)', () => {
  const admission = {
    ref,
    service: svc('192.0.2.1'),
    slices: new Map(),
    names: new Set(['web']),
    exhaustive: false,
  };
  const confirmation = {
    ref,
    service: undefined,
    slices: new Map(),
    names: new Set(['old-web']),
    exhaustive: true,
  };
  const merged = mergeIntents(admission, confirmation);
  assert.deepEqual(merged.service, admission.service);
  assert.deepEqual([...merged.names].sort(), ['old-web', 'web']);
  assert.equal(merged.exhaustive, true);
  assert.equal(mergeIntents(confirmation, admission).service, admission.service);
});
