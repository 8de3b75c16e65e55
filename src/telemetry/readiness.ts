// Readiness: ready while both Consul and Kubernetes answered within the last 30 s (docs/reference.md "HTTP API").
// The edges report every successful call; a background probe covers quiet periods.

export const READY_WINDOW_MS = 30_000;

export type Dependency = 'consul' | 'kubernetes';

export interface ReadinessState {
  ready: boolean;
  consul: { lastOkAgoMs: number | null };
  kubernetes: { lastOkAgoMs: number | null };
}

export class Readiness {
  private readonly lastOk: Record<Dependency, number | null> = { consul: null, kubernetes: null };

  constructor(private readonly now: () => number = Date.now) {}

  /** A call to `dep` just succeeded. */
  ok(dep: Dependency): void {
    this.lastOk[dep] = this.now();
  }

  sinceOk(dep: Dependency): number | null {
    const t = this.lastOk[dep];
    return t === null ? null : this.now() - t;
  }

  state(): ReadinessState {
    const consul = this.sinceOk('consul');
    const kubernetes = this.sinceOk('kubernetes');
    const fresh = (age: number | null): boolean => age !== null && age <= READY_WINDOW_MS;
    return {
      ready: fresh(consul) && fresh(kubernetes),
      consul: { lastOkAgoMs: consul },
      kubernetes: { lastOkAgoMs: kubernetes },
    };
  }
}

/** Pings each dependency that has not answered recently; stops when `stop()` is called. */
export function startReadinessProbe(
  readiness: Readiness,
  probes: Record<Dependency, () => Promise<void>>,
  intervalMs = 10_000,
): { stop: () => void; probeNow: () => Promise<void> } {
  const probeNow = async (): Promise<void> => {
    await Promise.all(
      (Object.keys(probes) as Dependency[]).map(async (dep) => {
        const age = readiness.sinceOk(dep);
        if (age !== null && age < intervalMs) return;
        try {
          await probes[dep]();
          readiness.ok(dep);
        } catch {
          // Not ready; the state says so and the next tick tries again.
        }
      }),
    );
  };
  const timer = setInterval(() => void probeNow(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), probeNow };
}
