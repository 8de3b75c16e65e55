// A keyed work queue as client-go's controllers use one: a key queued twice is worked once, keys
// are worked one at a time (so a controller sees its own writes before its next decision), and a
// failed key is retried with exponential backoff.
export class WorkQueue {
  private readonly queue = new Set<string>();
  private readonly retries = new Map<string, number>();
  private running = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  /** `work` answers whether the key is done (false: try again later). */
  constructor(
    private readonly name: string,
    private readonly work: (key: string) => Promise<boolean>,
    private readonly log: (line: string) => void,
    /** Retry delay base (ms): backoffMs × 2^failures, at most 5 s. */
    private readonly backoffMs = 20,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.queue.add(key);
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.drain());
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Resolves when nothing is queued or being worked (retries waiting on backoff excepted). */
  idle(): Promise<void> {
    if (!this.running && this.queue.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    while (this.queue.size && !this.stopped) {
      const key = this.queue.values().next().value as string;
      this.queue.delete(key);
      try {
        if (await this.work(key)) this.retries.delete(key);
        else this.retry(key);
      } catch (e) {
        this.log(`${this.name}: ${key}: ${(e as Error).message}`);
        this.retry(key);
      }
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private retry(key: string): void {
    const n = (this.retries.get(key) ?? 0) + 1;
    if (n > 15) {
      this.retries.delete(key);
      return;
    }
    this.retries.set(key, n);
    setTimeout(() => this.add(key), Math.min(this.backoffMs * 2 ** n, 5000)).unref();
  }
}
