// A bound on how many tasks run at once; the rest wait in arrival order.

export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimiter(concurrency: number): Limiter {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    running--;
    waiting.shift()?.();
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      release();
    }
  };
}

/**
 * Work the API server waits on (admission reviews) in flight, so background work that can wait
 * (confirmations from stored state) starts in a quiet moment instead of sharing the event loop
 * with an answer the cluster is waiting for.
 */
export class Foreground {
  private active = 0;
  private readonly waiters = new Set<() => void>();

  /** Marks one piece of foreground work as started; call the returned function once it ends. */
  enter(): () => void {
    this.active++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.active--;
      if (this.active === 0) for (const wake of [...this.waiters]) wake();
    };
  }

  get busy(): boolean {
    return this.active > 0;
  }

  /** Resolves once no foreground work is in flight, or after `maxWaitMs` regardless. */
  quiet(maxWaitMs: number): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, maxWaitMs);
      timer.unref();
      this.waiters.add(wake);
    });
  }
}
