// One converge per key at a time, newest input wins: inputs for a key that arrive while its
// converge runs wait, merged into one; an older input is never applied after a newer one.
// Used per Kubernetes service (admission, confirmations) and for the Consul services view.

/** What became of a submitted input. */
export type Submitted<R> =
  | { ran: true; result: R }
  /** A newer input for the same key arrived before this one ran; it carries this one's intent. */
  | { ran: false };

interface Pending<I, R> {
  input: I;
  resolve: (outcome: Submitted<R>) => void;
  reject: (err: unknown) => void;
}

interface Slot<I, R> {
  running: boolean;
  pending?: Pending<I, R>;
}

export class LatestPerKey<I, R> {
  private readonly slots = new Map<string, Slot<I, R>>();
  private readonly idleWaiters = new Set<() => void>();

  /**
   * @param work converges one key to one input.
   * @param merge the input that replaces `older` when `newer` arrives while `older` waits; by
   *   default the newer one alone.
   */
  constructor(
    private readonly work: (key: string, input: I) => Promise<R>,
    private readonly merge: (older: I, newer: I) => I = (_older, newer) => newer,
  ) {}

  /**
   * Runs `input` now if nothing runs for `key`, else after the running converge, merged with
   * anything else waiting. A waiting input that a newer one replaces resolves `{ ran: false }`
   * at once.
   */
  submit(key: string, input: I): Promise<Submitted<R>> {
    return new Promise((resolve, reject) => {
      let slot = this.slots.get(key);
      if (!slot) {
        slot = { running: false };
        this.slots.set(key, slot);
      }
      if (!slot.running) {
        this.start(key, slot, { input, resolve, reject });
        return;
      }
      const waiting = slot.pending;
      if (waiting) {
        waiting.resolve({ ran: false });
        slot.pending = { input: this.merge(waiting.input, input), resolve, reject };
      } else {
        slot.pending = { input, resolve, reject };
      }
    });
  }

  /** Keys with a converge running or waiting. */
  get busy(): number {
    return this.slots.size;
  }

  /** Resolves when no converge runs or waits (tests, shutdown). */
  idle(): Promise<void> {
    if (this.slots.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.add(resolve));
  }

  private start(key: string, slot: Slot<I, R>, job: Pending<I, R>): void {
    slot.running = true;
    // An async wrapper turns a synchronous throw of `work` into a rejection.
    const work = (async () => this.work(key, job.input))();
    work.then(
      (result) => job.resolve({ ran: true, result }),
      (err: unknown) => job.reject(err),
    );
    void work
      .catch(() => undefined)
      .then(() => {
        const next = slot.pending;
        slot.pending = undefined;
        if (next) {
          this.start(key, slot, next);
          return;
        }
        slot.running = false;
        this.slots.delete(key);
        if (this.slots.size === 0) {
          for (const wake of this.idleWaiters) wake();
          this.idleWaiters.clear();
        }
      });
  }
}
