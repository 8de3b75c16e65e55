// Group commit for the event path's writes. Each event writes one small transaction for one
// Kubernetes service; under load many are ready at once. At most one grouped transaction is in
// flight per catalog: the first write goes out at once, and the writes that arrive while it is
// on its way leave together in the next transaction, up to Consul's operation limit. A quiet
// event path waits for nothing; a busy one pays one HTTP exchange and one Raft entry for many
// services instead of one each.
//
// Consul applies a transaction whole or not at all, so one member's refused operation (a
// check-and-set another writer overtook, a permission) would fail its neighbours too: a grouped
// transaction Consul refuses is sent again member by member, and only the member at fault fails.
// A Consul that does not answer fails every member at once, as it would have failed each alone.
import { SyncError, isSyncError } from '../errors.js';
import { MAX_TXN_OPS, type TxnOp } from './txn.js';

export type RunTxn = (ops: TxnOp[], timeoutMs?: number) => Promise<void>;

interface Member {
  ops: TxnOp[];
  /** When the member's write timeout runs out (`Infinity`: none). */
  deadline: number;
  resolve(): void;
  reject(err: unknown): void;
}

export interface TxnGroupOptions {
  /** Runs one transaction (the catalog's `/v1/txn` call, errors already mapped). */
  run: RunTxn;
  /** The operation every transaction starts with, once (the sync node's idempotent `set`). */
  lead: TxnOp;
  maxOps?: number;
  /** Milliseconds on a monotonic clock. */
  now?: () => number;
  /** Told the number of services of each transaction sent (a metric). */
  onSend?: (services: number) => void;
}

export class TxnGroupCommit {
  private readonly queue: Member[] = [];
  private busy = false;
  private readonly run: RunTxn;
  private readonly lead: TxnOp;
  private readonly room: number;
  private readonly now: () => number;
  private readonly onSend: (services: number) => void;

  constructor(options: TxnGroupOptions) {
    this.run = options.run;
    this.lead = options.lead;
    this.room = (options.maxOps ?? MAX_TXN_OPS) - 1;
    this.now = options.now ?? (() => performance.now());
    this.onSend = options.onSend ?? (() => undefined);
  }

  /**
   * Writes one service's operations (without the lead operation) in the next transaction.
   * Resolves when Consul applied them; rejects with the error of the transaction that carried
   * them alone or, when Consul did not answer, of the grouped one. `timeoutMs` counts from now,
   * waiting for the transaction ahead included.
   */
  submit(ops: TxnOp[], timeoutMs?: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const deadline = timeoutMs === undefined ? Infinity : this.now() + timeoutMs;
      this.queue.push({ ops, deadline, resolve, reject });
      if (!this.busy) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.take();
        if (batch.length > 0) await this.commit(batch);
      }
    } finally {
      this.busy = false;
    }
  }

  /** The next members in arrival order that fit one transaction; expired ones are failed. */
  private take(): Member[] {
    const batch: Member[] = [];
    let used = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (this.remaining(next) <= 0) {
        this.queue.shift();
        next.reject(expired());
        continue;
      }
      if (batch.length > 0 && used + next.ops.length > this.room) break;
      this.queue.shift();
      batch.push(next);
      used += next.ops.length;
    }
    return batch;
  }

  private remaining(m: Member): number {
    return m.deadline - this.now();
  }

  private timeoutFor(members: readonly Member[]): number | undefined {
    const left = Math.min(...members.map((m) => this.remaining(m)));
    return Number.isFinite(left) ? Math.max(1, Math.ceil(left)) : undefined;
  }

  private async commit(batch: Member[]): Promise<void> {
    try {
      this.onSend(batch.length);
      await this.run([this.lead, ...batch.flatMap((m) => m.ops)], this.timeoutFor(batch));
    } catch (err) {
      if (batch.length === 1 || !refused(err)) {
        for (const m of batch) m.reject(err);
        return;
      }
      await Promise.all(batch.map((m) => this.alone(m)));
      return;
    }
    for (const m of batch) m.resolve();
  }

  private async alone(m: Member): Promise<void> {
    if (this.remaining(m) <= 0) {
      m.reject(expired());
      return;
    }
    try {
      this.onSend(1);
      await this.run([this.lead, ...m.ops], this.timeoutFor([m]));
    } catch (err) {
      m.reject(err);
      return;
    }
    m.resolve();
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
