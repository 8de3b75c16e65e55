// The event path's group commit (src/consul/txn-group.ts) against a scripted transaction
// runner: one transaction in flight (another beside it only when a full one waits), later writes
// leave together with the node's `set` once, Consul's op limit holds, a refused group is retried
// member by member, a Consul that does not answer fails every member once, and a member's write
// timeout counts its wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TxnGroupCommit, type RunTxn } from '../../src/consul/txn-group.js';
import type { TxnOp } from '../../src/consul/txn.js';
import { SyncError } from '../../src/errors.js';

const LEAD: TxnOp = { Node: { Verb: 'set', Node: { Node: 'k8s-sync' } } };

/** One Service op named `id`; `bad` makes Consul refuse any transaction holding it. */
const op = (id: string, bad = false): TxnOp => ({
  Service: { Verb: 'cas', Service: { ID: id } },
  bad,
});
const idOf = (o: TxnOp): string =>
  'Node' in o ? 'lead' : (o.Service as { Service: { ID: string } }).Service.ID;

interface Sent {
  ids: string[];
  timeoutMs: number | undefined;
  release(): void;
  fail(err: unknown): void;
}

/** A runner whose transactions stay in flight until the test releases or fails them. */
function held(): { run: RunTxn; sent: Sent[] } {
  const sent: Sent[] = [];
  const run: RunTxn = (ops, timeoutMs) =>
    new Promise<void>((resolve, reject) => {
      sent.push({ ids: ops.map(idOf), timeoutMs, release: resolve, fail: reject });
    });
  return { run, sent };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const refusedErr = (): SyncError =>
  new SyncError('CONSUL_REJECTED', 'consul refused txn (409): op 2: failed', {
    upstreamStatus: 409,
  });
const unavailableErr = (): SyncError =>
  new SyncError('CONSUL_UNAVAILABLE', 'consul txn failed: socket hang up');

test('a write with nothing in flight goes out at once, after the node set', async () => {
  const { run, sent } = held();
  const group = new TxnGroupCommit({ run, lead: LEAD });
  const done = group.submit([op('a-1'), op('a-2')], 3000);
  assert.equal(sent.length, 1, 'sent without waiting for a tick');
  assert.deepEqual(sent[0]!.ids, ['lead', 'a-1', 'a-2']);
  sent[0]!.release();
  await done;
});

test('writes arriving while one is in flight leave together in the next transaction, in order', async () => {
  const { run, sent } = held();
  const group = new TxnGroupCommit({ run, lead: LEAD });
  const first = group.submit([op('a-1')]);
  const rest = [group.submit([op('b-1'), op('b-2')]), group.submit([op('c-1')])];
  await tick();
  assert.equal(sent.length, 1, 'one transaction in flight');
  sent[0]!.release();
  await first;
  await tick();
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[1]!.ids, ['lead', 'b-1', 'b-2', 'c-1']);
  sent[1]!.release();
  await Promise.all(rest);
});

test('beside a transaction in flight, another goes only when a full one is waiting, up to maxInFlight', async () => {
  const { run, sent } = held();
  const group = new TxnGroupCommit({ run, lead: LEAD, maxOps: 5, maxInFlight: 2 });
  const all = [group.submit([op('a-1')]), group.submit([op('b-1'), op('b-2')])];
  assert.equal(sent.length, 1, 'two ops waiting of four: b waits for a');
  all.push(group.submit([op('c-1'), op('c-2')]));
  assert.equal(sent.length, 2, 'a full transaction goes beside the one in flight');
  assert.deepEqual(sent[1]!.ids, ['lead', 'b-1', 'b-2', 'c-1', 'c-2']);
  all.push(group.submit([op('d-1')]), group.submit([op('e-1'), op('e-2'), op('e-3')]));
  assert.equal(sent.length, 2, 'full, but two are in flight already');
  sent[0]!.release();
  await tick();
  assert.deepEqual(sent[2]!.ids, ['lead', 'd-1', 'e-1', 'e-2', 'e-3']);
  sent[1]!.release();
  sent[2]!.release();
  await Promise.all(all);
});

test('a transaction never holds more than the op limit; a member is never split', async () => {
  const { run, sent } = held();
  const group = new TxnGroupCommit({ run, lead: LEAD, maxOps: 5 });
  const all = [group.submit([op('a-1')])];
  for (const s of ['b', 'c', 'd']) all.push(group.submit([op(`${s}-1`), op(`${s}-2`)]));
  sent[0]!.release();
  await tick();
  assert.deepEqual(sent[1]!.ids, ['lead', 'b-1', 'b-2', 'c-1', 'c-2']);
  sent[1]!.release();
  await tick();
  assert.deepEqual(sent[2]!.ids, ['lead', 'd-1', 'd-2']);
  sent[2]!.release();
  await Promise.all(all);
});

test('a grouped transaction Consul refuses is sent again member by member: only the one at fault fails', async () => {
  const { run, sent } = held();
  const group = new TxnGroupCommit({ run, lead: LEAD });
  const first = group.submit([op('a-1')]);
  const b = group.submit([op('b-1')]);
  const c = group.submit([op('c-1')]);
  sent[0]!.release();
  await first;
  await tick();
  sent[1]!.fail(refusedErr());
  await tick();
  assert.deepEqual(
    sent.slice(2).map((s) => s.ids),
    [
      ['lead', 'b-1'],
      ['lead', 'c-1'],
    ],
  );
  const own = refusedErr();
  sent[2]!.fail(own);
  sent[3]!.release();
  await assert.rejects(b, (err) => err === own);
  await c;
});

test('a Consul that does not answer fails every member of the transaction, without sending them again', async () => {
  const { run, sent } = held();
  const group = new TxnGroupCommit({ run, lead: LEAD });
  const first = group.submit([op('a-1')]);
  const b = group.submit([op('b-1')]);
  const c = group.submit([op('c-1')]);
  sent[0]!.release();
  await first;
  await tick();
  const err = unavailableErr();
  sent[1]!.fail(err);
  await assert.rejects(b, (e) => e === err);
  await assert.rejects(c, (e) => e === err);
  assert.equal(sent.length, 2);
});

test('the write timeout counts the wait behind the transaction in flight', async () => {
  let clock = 0;
  const { run, sent } = held();
  const group = new TxnGroupCommit({ run, lead: LEAD, now: () => clock });
  const first = group.submit([op('a-1')], 3000);
  assert.equal(sent[0]!.timeoutMs, 3000);
  const b = group.submit([op('b-1')], 3000);
  clock = 1000;
  const c = group.submit([op('c-1')], 3000);
  clock = 2500;
  sent[0]!.release();
  await first;
  await tick();
  // The transaction gets what is left of its most pressed member: b's 500 ms.
  assert.deepEqual(sent[1]!.ids, ['lead', 'b-1', 'c-1']);
  assert.equal(sent[1]!.timeoutMs, 500);
  const d = group.submit([op('d-1')], 3000);
  clock = 6000;
  sent[1]!.release();
  await Promise.all([b, c]);
  // d waited out its whole timeout behind it: failed without being sent.
  await assert.rejects(
    d,
    (e: unknown) => e instanceof SyncError && e.code === 'CONSUL_UNAVAILABLE',
  );
  assert.equal(sent.length, 2);
});

test('property: every member settles once, resolved exactly when its own ops are good, each op written once, at most maxInFlight grouped transactions in flight', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          ops: fc.integer({ min: 1, max: 6 }),
          bad: fc.boolean(),
          gap: fc.integer({ min: 0, max: 3 }),
        }),
        { minLength: 1, maxLength: 25 },
      ),
      fc.integer({ min: 4, max: 12 }),
      fc.integer({ min: 1, max: 3 }),
      async (members, maxOps, maxInFlight) => {
        const written = new Map<string, number>();
        let inFlightGrouped = 0;
        let peak = 0;
        const run: RunTxn = async (ops) => {
          assert.ok(ops.length <= maxOps, `${ops.length} ops > ${maxOps}`);
          assert.equal(idOf(ops[0]!), 'lead');
          assert.ok(
            ops.slice(1).every((o) => idOf(o) !== 'lead'),
            'the node set once',
          );
          const grouped = new Set(ops.slice(1).map((o) => idOf(o).split('-')[0])).size > 1;
          if (grouped) peak = Math.max(peak, ++inFlightGrouped);
          await new Promise((r) => setTimeout(r, ops.length % 3));
          if (grouped) inFlightGrouped--;
          if (ops.some((o) => (o as { bad?: boolean }).bad)) throw refusedErr();
          for (const o of ops.slice(1)) written.set(idOf(o), (written.get(idOf(o)) ?? 0) + 1);
        };
        const group = new TxnGroupCommit({ run, lead: LEAD, maxOps, maxInFlight });
        const outcomes: Promise<string>[] = [];
        for (const [i, m] of members.entries()) {
          const ops = Array.from({ length: Math.min(m.ops, maxOps - 1) }, (_, k) =>
            op(`m${i}-${k}`, m.bad && k === 0),
          );
          outcomes.push(
            group.submit(ops, 10_000).then(
              () => 'ok',
              () => 'failed',
            ),
          );
          for (let g = 0; g < m.gap; g++) await tick();
        }
        const settled = await Promise.all(outcomes);
        assert.deepEqual(
          settled,
          members.map((m) => (m.bad ? 'failed' : 'ok')),
        );
        for (const [i, m] of members.entries()) {
          const count = Math.min(m.ops, maxOps - 1);
          for (let k = 0; k < count; k++)
            assert.equal(written.get(`m${i}-${k}`) ?? 0, m.bad ? 0 : 1, `m${i}-${k}`);
        }
        assert.ok(peak <= maxInFlight, `${peak} grouped transactions in flight`);
      },
    ),
    { numRuns: 150 },
  );
});

test('onSend is told the services of each transaction sent, retries alone included', async () => {
  const { run, sent } = held();
  const told: number[] = [];
  const group = new TxnGroupCommit({ run, lead: LEAD, onSend: (n) => told.push(n) });
  const first = group.submit([op('a-1')]);
  const b = group.submit([op('b-1')]);
  const c = group.submit([op('c-1')]);
  sent[0]!.release();
  await first;
  await tick();
  sent[1]!.fail(refusedErr());
  await tick();
  sent[2]!.release();
  sent[3]!.release();
  await Promise.all([b, c]);
  assert.deepEqual(told, [1, 2, 1, 1]);
});
