// The Kubernetes edge for Events: creates an events.k8s.io/v1 Event about a Service and
// updates its series (src/kube/rest.ts, with the kubeconfig's credentials). Every call is
// bounded by `timeoutMs` (KUBE_UNAVAILABLE past it); failures keep the API server's status
// (kubeError).
import { SyncError, isSyncError } from '../errors.js';
import { kubeError } from './errors.js';
import { DeadlinePassed, EVENTS, resourcePath, withDeadline, type KubeRest } from './rest.js';

/** reportingController of every Event this product records. */
export const REPORTING_CONTROLLER = 'k8s-consul-sync';

export interface KubeEventRecord {
  /** The Service's namespace, where the Event lives. */
  namespace: string;
  name: string;
  regarding: { name: string; uid?: string };
  reason: string;
  action: string;
  type: 'Normal' | 'Warning';
  note: string;
  /** Unix ms. */
  eventTime: number;
  series?: { count: number; lastObservedTime: number };
}

export interface KubeEventsOptions {
  /** reportingInstance: this process (the pod name). */
  reportingInstance: string;
  /** Bound on one call (--write-timeout). */
  timeoutMs: number;
}

/** MicroTime as the API server decodes it: RFC 3339 with exactly six fractional digits. */
const microTime = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, '000Z');

export class KubeEvents {
  /** `rest`: the process's Kubernetes requests (KubeHandle.rest), with its kept-alive agents. */
  constructor(
    private readonly rest: KubeRest,
    private readonly options: KubeEventsOptions,
  ) {}

  private async call(what: string, fn: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
    try {
      // The answer (the Event as stored) is not needed.
      await withDeadline(this.options.timeoutMs, fn);
    } catch (err) {
      if (err instanceof DeadlinePassed)
        throw new SyncError(
          'KUBE_UNAVAILABLE',
          `kubernetes ${what} timed out after ${this.options.timeoutMs} ms`,
          { cause: err.cause },
        );
      throw kubeError(err, what);
    }
  }

  /** Creates the Event; an Event of that name that exists already is not an error. */
  async create(record: KubeEventRecord): Promise<'created' | 'exists'> {
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: record.name, namespace: record.namespace },
      eventTime: microTime(record.eventTime),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.options.reportingInstance,
      action: record.action,
      reason: record.reason,
      regarding: {
        apiVersion: 'v1',
        kind: 'Service',
        namespace: record.namespace,
        name: record.regarding.name,
        ...(record.regarding.uid ? { uid: record.regarding.uid } : {}),
      },
      note: record.note,
      type: record.type,
      ...(record.series
        ? {
            series: {
              count: record.series.count,
              lastObservedTime: microTime(record.series.lastObservedTime),
            },
          }
        : {}),
    };
    const what = `create event ${record.namespace}/${record.name}`;
    try {
      await this.call(what, (signal) =>
        this.rest.request({
          method: 'POST',
          path: resourcePath(EVENTS, record.namespace),
          body,
          signal,
        }),
      );
      return 'created';
    } catch (err) {
      if (isSyncError(err) && err.upstreamStatus === 409) return 'exists';
      throw err;
    }
  }

  /**
   * Sets the Event's series (a JSON merge patch of `series` only, the one field an
   * events.k8s.io/v1 Event may change). 'gone' when the Event no longer exists (the API
   * server's TTL removed it, or its create failed).
   */
  async patchSeries(
    namespace: string,
    name: string,
    series: { count: number; lastObservedTime: number },
  ): Promise<'patched' | 'gone'> {
    const body = {
      series: { count: series.count, lastObservedTime: microTime(series.lastObservedTime) },
    };
    const what = `patch event ${namespace}/${name}`;
    try {
      await this.call(what, (signal) =>
        this.rest.request({
          method: 'PATCH',
          path: resourcePath(EVENTS, namespace, name),
          body,
          contentType: 'application/merge-patch+json',
          signal,
        }),
      );
      return 'patched';
    } catch (err) {
      if (isSyncError(err) && err.upstreamStatus === 404) return 'gone';
      throw err;
    }
  }
}
