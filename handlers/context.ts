// What a handler needs from the process: the use-case dependencies and telemetry.
import type { SyncDeps } from '../src/sync/deps.js';
import type { Runtime } from '../src/sync/runtime.js';
import type { Logger } from '../src/telemetry/logger.js';
import type { Metrics } from '../src/telemetry/metrics.js';
import { SyncError } from '../src/errors.js';

export interface HandlerContext {
  deps(): Promise<SyncDeps>;
  /** The event paths: per-service ordering, confirmations and breakers. */
  events: Runtime['events'];
  logger: Logger;
  metrics: Metrics;
  settings: {
    toConsul: boolean;
    toK8s: boolean;
    writeTimeoutMs: number;
    /** Bound on one audit batch's converges. */
    auditDeadlineMs: number;
    /** Converges in flight at once for one request (audit batches). */
    concurrency: number;
  };
}

/** The one handler shape, declared by the app that mounts handlers. */
export type { Handler } from '../src/http/app.js';

/**
 * Resolves with the work's result, or rejects at the deadline while the work goes on; its late
 * outcome is reported through `late` so that nothing is lost silently.
 */
export function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  late: (outcome: { ok: boolean; err?: unknown }) => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new SyncError('WRITE_FAILED', `write did not finish within ${ms} ms`));
    }, ms);
  });
  work.then(
    () => {
      if (timedOut) late({ ok: true });
    },
    (err: unknown) => {
      if (timedOut) late({ ok: false, err });
    },
  );
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export function elapsedSeconds(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}
