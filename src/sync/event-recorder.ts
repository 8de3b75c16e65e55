// Records Kubernetes Events about synced Services, fire-and-forget: `record` only aggregates
// and queues (no I/O, never throws), the writes run on later turns of the event loop, a few at a
// time, so they never hold up an admission answer or a reconcile. A full queue drops (counted);
// a failed write is logged and counted, never retried: the next occurrence writes again.
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { describeError, isSyncError } from '../errors.js';
import { EventAggregator, type EventWrite, type ServiceEvent } from '../plan/events.js';
import type { KubeEventRecord } from '../kube/events.js';

/** The Kubernetes edge as the recorder uses it (src/kube/events.ts). */
export interface EventSink {
  create(record: KubeEventRecord): Promise<'created' | 'exists'>;
  patchSeries(
    namespace: string,
    name: string,
    series: { count: number; lastObservedTime: number },
  ): Promise<'patched' | 'gone'>;
}

export interface EventRecorderOptions {
  /** At most one write per Service and reason per interval (default 30 s). */
  intervalMs?: number;
  /** Writes waiting at most; more are dropped (default 4096). */
  maxQueue?: number;
  /** Writes in flight at once (default 2): Events must not compete with the sync's own calls. */
  concurrency?: number;
  /** metadata.name of a new Event (tests); default `<service>.<hex time><hex random>`. */
  newName?: (regarding: string, now: number) => string;
}

export const DEFAULT_EVENT_INTERVAL_MS = 30_000;
export const DEFAULT_EVENT_QUEUE = 4096;
const DEFAULT_EVENT_CONCURRENCY = 2;
/**
 * A folded repeat is written at most this much after its interval ends (and at most a tenth of
 * the interval): each timer scans every series, and with one series per Service, due at times
 * spread over the interval, a timer per due time scanned thousands of series every few
 * milliseconds.
 */
const TIMER_SLACK_MS = 1000;
/** A failing API server (RBAC missing, say) is reported at warn at most this often. */
const WARN_EVERY_MS = 60_000;

/** Codes of a Consul write that did not happen: they earn a SyncFailed Event. */
export function isConsulFailure(err: unknown): boolean {
  return (
    isSyncError(err) &&
    ['CONSUL_UNAVAILABLE', 'CONSUL_REJECTED', 'CONSUL_READ_FILTERED', 'WRITE_FAILED'].includes(
      err.code,
    )
  );
}

function randomName(regarding: string, now: number): string {
  const random = Math.floor(Math.random() * 0x1000000)
    .toString(16)
    .padStart(6, '0');
  return `${regarding}.${now.toString(16)}${random}`;
}

export class EventRecorder {
  private readonly aggregator: EventAggregator;
  private readonly queue: EventWrite[] = [];
  private readonly maxQueue: number;
  private readonly concurrency: number;
  private inFlight = 0;
  private pumpScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastWarn = 0;
  private waiters: (() => void)[] = [];
  private readonly slackMs: number;

  constructor(
    private readonly sink: EventSink,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    options: EventRecorderOptions = {},
  ) {
    const intervalMs = options.intervalMs ?? DEFAULT_EVENT_INTERVAL_MS;
    this.aggregator = new EventAggregator({
      intervalMs,
      newName: options.newName ?? randomName,
    });
    this.slackMs = Math.min(TIMER_SLACK_MS, intervalMs / 10);
    this.maxQueue = options.maxQueue ?? DEFAULT_EVENT_QUEUE;
    this.concurrency = options.concurrency ?? DEFAULT_EVENT_CONCURRENCY;
  }

  /** Aggregates and queues; the writes happen after the caller's turn. Never throws. */
  record(events: readonly ServiceEvent[]): void {
    if (this.closed) return;
    const now = Date.now();
    for (const event of events) {
      const write = this.aggregator.observe(event, now);
      if (write) this.enqueue(write);
      else {
        this.metrics.kubeEvents.inc({ reason: event.reason, outcome: 'folded' });
        this.arm();
      }
    }
  }

  /** Resolves when no write waits or runs (folded repeats not yet due are not waited for). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0 && !this.pumpScheduled)
      return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Writes every folded repeat now and stops the timer; the queue still drains. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const write of this.aggregator.drain(Date.now())) this.enqueue(write);
  }

  private enqueue(write: EventWrite): void {
    if (this.queue.length >= this.maxQueue) {
      this.metrics.kubeEvents.inc({ reason: write.event.reason, outcome: 'dropped' });
      return;
    }
    this.queue.push(write);
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // After the current turn: an admission's answer is written before any Event is.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const write = this.queue.shift()!;
      this.inFlight++;
      void this.send(write).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
    if (this.queue.length === 0 && this.inFlight === 0 && !this.pumpScheduled) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private arm(): void {
    if (this.timer || this.closed) return;
    const next = this.aggregator.nextDue();
    if (next === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        for (const write of this.aggregator.due(Date.now())) this.enqueue(write);
        this.arm();
      },
      // Late rather than early: the interval between two writes of a series stays whole.
      Math.max(next - Date.now(), this.slackMs),
    );
    this.timer.unref();
  }

  private recordOf(write: EventWrite): KubeEventRecord {
    const { event } = write;
    return {
      namespace: event.regarding.namespace,
      name: write.name,
      regarding: {
        name: event.regarding.name,
        ...(event.regarding.uid ? { uid: event.regarding.uid } : {}),
      },
      reason: event.reason,
      action: event.action,
      type: event.type,
      note: event.note,
      eventTime: write.eventTime,
      ...(write.series ? { series: write.series } : {}),
    };
  }

  private async send(write: EventWrite): Promise<void> {
    const { event } = write;
    try {
      let outcome: 'created' | 'patched' = 'created';
      if (write.op === 'patch' && write.series) {
        const patched = await this.sink.patchSeries(
          event.regarding.namespace,
          write.name,
          write.series,
        );
        // Gone (expired by the API server's event TTL, or its create failed): create it with
        // the series it stands for.
        if (patched === 'gone') await this.sink.create(this.recordOf(write));
        else outcome = 'patched';
      } else await this.sink.create(this.recordOf(write));
      this.metrics.kubeEvents.inc({ reason: event.reason, outcome });
    } catch (err) {
      this.metrics.kubeEvents.inc({ reason: event.reason, outcome: 'error' });
      const now = Date.now();
      const warn = now - this.lastWarn >= WARN_EVERY_MS;
      if (warn) this.lastWarn = now;
      this.logger[warn ? 'warn' : 'debug'](
        {
          event: 'k8s-event-failed',
          'namespace/name': `${event.regarding.namespace}/${event.regarding.name}`,
          reason: event.reason,
          err: describeError(err),
        },
        'could not record a Kubernetes Event (the sync itself is not affected; see k8s_consul_sync_kube_events_total)',
      );
    }
  }
}

/** Records `events` unless the run writes nothing (dry run) or Events are off. */
export function recordEvents(
  deps: { settings: { dryRun: boolean }; eventRecorder?: EventRecorder },
  events: readonly ServiceEvent[],
): void {
  if (events.length === 0 || deps.settings.dryRun || !deps.eventRecorder) return;
  deps.eventRecorder.record(events);
}
