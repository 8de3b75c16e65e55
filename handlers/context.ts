// What a handler needs from the process: the use-case dependencies and telemetry.
import type { SyncDeps } from '../src/sync/deps.js';
import type { Runtime } from '../src/sync/runtime.js';
import type { Logger } from '../src/telemetry/logger.js';
import type { Metrics } from '../src/telemetry/metrics.js';
import type { Handler } from '../src/http/app.js';
import { SyncError, isSyncError } from '../src/errors.js';

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
    /** --enable-ingress: Ingress events converge the Services they name (absent: off). */
    enableIngress?: boolean;
  };
}

/** The one handler shape, declared by the app that mounts handlers. */
export type { Handler } from '../src/http/app.js';

export type EventSource = 'admission' | 'audit' | 'consul-watch' | 'reconcile';

/** Counts the request's outcome; only the first call of a request counts. */
export interface Count {
  (outcome: string): void;
  /** The outcome is counted by the use case from here on (reconcile counts its own runs). */
  handOff(): void;
}

/**
 * A handler whose every path counts its outcome in k8s_consul_sync_events_total exactly once
 * (and its duration, but for reconcile): the handler counts through `count`; a path that throws
 * before counting is counted here, `bad-request` for a request refused with a 4xx (a body or
 * query that is not an event), else `error` (the sync id could not be resolved, a bug, …).
 */
export function counted(
  ctx: HandlerContext,
  source: EventSource,
  handler: (
    req: Parameters<Handler>[0],
    res: Parameters<Handler>[1],
    count: Count,
  ) => Promise<void>,
): Handler {
  return async (req, res) => {
    const start = process.hrtime.bigint();
    let done = false;
    const count = Object.assign(
      (outcome: string): void => {
        if (done) return;
        done = true;
        ctx.metrics.events.inc({ source, outcome });
        if (source !== 'reconcile')
          ctx.metrics.eventDuration.observe({ source }, elapsedSeconds(start));
      },
      {
        handOff: (): void => {
          done = true;
        },
      },
    );
    try {
      await handler(req, res, count);
    } catch (err) {
      count(isSyncError(err) && err.status >= 400 && err.status < 500 ? 'bad-request' : 'error');
      throw err;
    }
  };
}

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

/** X-Consul-Index as a number; anything else is treated as absent (applied in arrival order). */
export function indexOf(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d{1,15}$/.test(header)) return undefined;
  return Number(header);
}

/**
 * The frame both Consul watch handlers share: with --to-k8s=false the delivery is answered
 * `ignored` and `undefined` returned; else a `done(outcome, fields)` that counts the outcome and
 * logs one line with the delivery's index, size and duration.
 */
export function watchDelivery(
  ctx: HandlerContext,
  req: Parameters<Handler>[0],
  res: Parameters<Handler>[1],
  count: Count,
  line: { event: string; message: string; size: Record<string, number | string>; start: bigint },
): ((outcome: string, fields?: Record<string, unknown>) => void) | undefined {
  const { start } = line;
  const index = req.get('X-Consul-Index') ?? null;
  if (!ctx.settings.toK8s) {
    count('ignored');
    res.json({ index, ignored: true });
    return undefined;
  }
  return (outcome, fields = {}) => {
    count(outcome);
    ctx.logger.info(
      {
        event: line.event,
        source: 'consul-watch',
        index,
        outcome,
        ...line.size,
        ...fields,
        durationMs: elapsedSeconds(start) * 1000,
      },
      line.message,
    );
  };
}
