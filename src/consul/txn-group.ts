// Group commit for the event path's writes. Each event writes one small transaction for one
// Kubernetes service; under load many are ready at once. The first write goes out at once; the
// writes that arrive while a transaction is in flight wait for it and leave together in the
// next one, up to Consul's operation limit. A quiet event path waits for nothing; a busy one pays
// one HTTP exchange and one Raft entry for many services instead of one each. Only a full
// transaction's worth of waiting writes starts another transaction beside the one in flight (up
// to `maxInFlight`), so a slow Consul never caps the event path at one transaction per round trip.
//
// Consul applies a transaction whole or not at all, so one member's refused operation (a
// check-and-set another writer overtook, a permission) would fail its neighbours too: a grouped
// transaction Consul refuses is sent again member by member, and only the member at fault fails.
// A Consul that does not answer fails every member at once, as it would have failed each alone.
import { SyncError, isSyncError } from '../errors.js';
import { MAX_TXN_OPS, type TxnOp } from './txn.js';

/** Runs one transaction; answers what Consul returned for it (its results), passed to its members. */
export type RunTxn<R = void> = (ops: TxnOp[], timeoutMs?: number) => Promise<R>;

interface Member<R> {
  ops: TxnOp[];
  /** When the member's write timeout runs out (`Infinity`: none). */
  deadline: number;
  resolve(results: R): void;
  reject(err: unknown): void;
}

export interface TxnGroupOptions<R> {
  /** Runs one transaction (the catalog's `/v1/txn` call, errors already mapped). */
  run: RunTxn<R>;
  /** The operation every transaction starts with, once (the sync node's idempotent `set`). */
  lead: TxnOp;
  maxOps?: number;
  /** Milliseconds on a monotonic clock. */
  now?: () => number;
  /** Told the number of services of each transaction sent (a metric). */
  onSend?: (services: number) => void;
  /** Transactions in flight at once, reached only while full ones are waiting (default 1). */
  maxInFlight?: number;
}

export class TxnGroupCommit<R = void> {
  private readonly queue: Member<R>[] = [];
  /** Operations of the members waiting in `queue`. */
  private queuedOps = 0;
  private inFlight = 0;
  private readonly maxInFlight: number;
  private readonly run: RunTxn<R>;
  private readonly lead: TxnOp;
  private readonly room: number;
  private readonly now: () => number;
  private readonly onSend: (services: number) => void;

  constructor(options: TxnGroupOptions<R>) {
    this.run = options.run;
    this.lead = options.lead;
    this.room = (options.maxOps ?? MAX_TXN_OPS) - 1;
    this.now = options.now ?? (() => performance.now());
    this.onSend = options.onSend ?? (() => undefined);
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1);
  }

  /**
   * Writes one service's operations (without the lead operation) in the next transaction.
   * Resolves, once Consul applied them, with the results of the transaction that carried them (a
   * grouped one's hold its other members' too); rejects with the error of the transaction that
   * carried them alone or, when Consul did not answer, of the grouped one. `timeoutMs` counts
   * from now, waiting for the transaction ahead included.
   */
  submit(ops: TxnOp[], timeoutMs?: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const deadline = timeoutMs === undefined ? Infinity : this.now() + timeoutMs;
      this.queue.push({ ops, deadline, resolve, reject });
      this.queuedOps += ops.length;
      this.pump();
    });
  }

  /**
   * Sends what may go now: the next transaction when none is in flight, another beside those in
   * flight only when a full transaction's worth is waiting.
   */
  private pump(): void {
    while (
      this.queue.length > 0 &&
      (this.inFlight === 0 || (this.queuedOps >= this.room && this.inFlight < this.maxInFlight))
    ) {
      const batch = this.take();
      if (batch.length === 0) continue;
      this.inFlight++;
      const done = (): void => {
        this.inFlight--;
        this.pump();
      };
      this.commit(batch).then(done, done);
    }
  }

  /** The next members in arrival order that fit one transaction; expired ones are failed. */
  private take(): Member<R>[] {
    const batch: Member<R>[] = [];
    let used = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (this.remaining(next) <= 0) {
        this.queue.shift();
        this.queuedOps -= next.ops.length;
        next.reject(expired());
        continue;
      }
      if (batch.length > 0 && used + next.ops.length > this.room) break;
      this.queue.shift();
      this.queuedOps -= next.ops.length;
      batch.push(next);
      used += next.ops.length;
    }
    return batch;
  }

  private remaining(m: Member<R>): number {
    return m.deadline - this.now();
  }

  private timeoutFor(members: readonly Member<R>[]): number | undefined {
    const left = Math.min(...members.map((m) => this.remaining(m)));
    return Number.isFinite(left) ? Math.max(1, Math.ceil(left)) : undefined;
  }

  private async commit(batch: Member<R>[]): Promise<void> {
    let results: R;
    try {
      this.onSend(batch.length);
      results = await this.run([this.lead, ...batch.flatMap((m) => m.ops)], this.timeoutFor(batch));
    } catch (err) {
      if (batch.length === 1 || !refused(err)) {
        for (const m of batch) m.reject(err);
        return;
      }
      await Promise.all(batch.map((m) => this.alone(m)));
      return;
    }
    for (const m of batch) m.resolve(results);
  }

  private async alone(m: Member<R>): Promise<void> {
    if (this.remaining(m) <= 0) {
      m.reject(expired());
      return;
    }
    let results: R;
    try {
      this.onSend(1);
      results = await this.run([this.lead, ...m.ops], this.timeoutFor([m]));
    } catch (err) {
      m.reject(err);
      return;
    }
    m.resolve(results);
  }
}

/** Consul answered and refused the transaction (4xx but 429): something in it, not Consul. */
function refused(err: unknown): boolean {
  return isSyncError(err) && err.code === 'CONSUL_REJECTED';
}

function expired(): SyncError {
  return new SyncError(
    'CONSUL_UNAVAILABLE',
    'consul txn failed: the write timeout ran out behind the transaction in flight',
  );
}
