// The Consul → Kubernetes event path with its in-process guards: one view converge at a time,
// the newest view (highest X-Consul-Index) wins over older and waiting ones, a delivery older
// than the newest applied is acknowledged and skipped, and a circuit breaker stops deliveries
// from waiting on an API server that is down, converging the current view when it is back.
import type { ServicesView } from '../translate/types.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { describeError, isSyncError } from '../errors.js';
import { CircuitBreaker } from './breaker.js';
import { LatestPerKey } from './latest.js';
import type { SyncDeps } from './deps.js';
import { convergeServicesView, type ViewConvergeResult } from './to-k8s.js';
import { ViewTracker } from './view-tracker.js';
import { mirrorNameOf } from '../translate/index.js';
import { convergeChecks, type ChecksConvergeResult } from './checks.js';
import { createLimiter, type Limiter } from '../concurrency.js';
import type { CheckState } from '../translate/types.js';

export interface ViewEventsOptions {
  breakerFailures: number;
  probeIntervalMs: number;
}

export interface Delivery {
  view: ServicesView;
  /** X-Consul-Index of the delivery; undefined when the sender gave none. */
  index: number | undefined;
}

export type DeliveryOutcome =
  | { outcome: 'converged'; result: ViewConvergeResult }
  /** Older than the newest view already applied: acknowledged, nothing done. */
  | { outcome: 'stale'; newest: number }
  /** A newer delivery arrived while this one waited: only the newer one is applied. */
  | { outcome: 'coalesced' }
  /** The Kubernetes breaker is open: the newest view is converged when the API server is back. */
  | { outcome: 'deferred' };

const VIEW = 'view';
const CHECKS = 'checks';

/** A `checks` watch delivery (endpoints mode). */
export interface ChecksDelivery {
  checks: readonly CheckState[];
  index: number | undefined;
}

export type ChecksOutcome =
  | { outcome: 'converged'; result: ChecksConvergeResult }
  /** A newer delivery arrived while this one waited: only the newer one is applied. */
  | { outcome: 'coalesced' }
  /** The Kubernetes breaker is open: its recovery converges the current view, slices included. */
  | { outcome: 'deferred' };

/** Newest wins: the higher index, or the later arrival when either has none. */
function newer<T extends { index: number | undefined }>(older: T, incoming: T): T {
  if (older.index !== undefined && incoming.index !== undefined && incoming.index < older.index)
    return older;
  return incoming;
}

export function isKubeOutage(err: unknown): boolean {
  return isSyncError(err) && err.code === 'KUBE_UNAVAILABLE';
}

export class ViewEvents {
  private readonly mailbox: LatestPerKey<Delivery, DeliveryOutcome>;
  private readonly checksMailbox: LatestPerKey<ChecksDelivery, ChecksOutcome>;
  /** Services and checks deliveries write the same Kubernetes objects: one at a time. */
  private readonly writes: Limiter = createLimiter(1);
  /** Index of the newest view applied in full; undefined after a start or an index reset. */
  private applied: number | undefined;
  /** The newest view that arrived while the breaker was open. */
  private remembered: Delivery | undefined;
  /** The previous delivery's view: a delivery plans only what changed (serve, with the mirrors' watch). */
  private tracker: ViewTracker | undefined;
  readonly breaker: CircuitBreaker;

  constructor(
    private readonly deps: () => Promise<SyncDeps>,
    options: ViewEventsOptions,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.mailbox = new LatestPerKey(
      (_key, delivery) => this.writes(() => this.run(delivery)),
      newer,
    );
    this.checksMailbox = new LatestPerKey(
      (_key, delivery) => this.writes(() => this.runChecks(delivery)),
      newer,
    );
    this.breaker = new CircuitBreaker({
      target: 'kubernetes',
      threshold: options.breakerFailures,
      probeIntervalMs: options.probeIntervalMs,
      probe: async () => (await this.deps()).kube.ping(),
      recover: () => this.recover(),
      onTransition: (state) => {
        // A view delivered between the recovery and the close: converge it now.
        const late = this.remembered;
        if (state !== 'closed' || !late) return;
        this.remembered = undefined;
        this.publishRemembered();
        void this.deliver(late).catch(() => undefined);
      },
      logger,
      metrics,
    });
    this.publishRemembered();
  }

  /** The newest index applied (tests and logs). */
  get newestApplied(): number | undefined {
    return this.applied;
  }

  async deliver(delivery: Delivery): Promise<DeliveryOutcome> {
    if (await this.isStale(delivery)) return { outcome: 'stale', newest: this.applied! };
    if (!this.breaker.closed) {
      this.remembered = this.remembered ? newer(this.remembered, delivery) : delivery;
      this.publishRemembered();
      return { outcome: 'deferred' };
    }
    const epoch = this.breaker.epoch;
    try {
      const submitted = await this.mailbox.submit(VIEW, delivery);
      return submitted.ran ? submitted.result : { outcome: 'coalesced' };
    } catch (err) {
      if (isKubeOutage(err)) {
        this.breaker.failure(err, epoch);
        this.remembered = this.remembered ? newer(this.remembered, delivery) : delivery;
        this.publishRemembered();
      }
      throw err;
    }
  }

  /**
   * A `checks` watch delivery: converged in turn with the services deliveries (never at the
   * same time), the newest of a burst only.
   */
  async deliverChecks(delivery: ChecksDelivery): Promise<ChecksOutcome> {
    if (!this.breaker.closed) return { outcome: 'deferred' };
    const epoch = this.breaker.epoch;
    try {
      const submitted = await this.checksMailbox.submit(CHECKS, delivery);
      return submitted.ran ? submitted.result : { outcome: 'coalesced' };
    } catch (err) {
      if (isKubeOutage(err)) this.breaker.failure(err, epoch);
      throw err;
    }
  }

  close(): void {
    this.breaker.stop();
  }

  private async runChecks(delivery: ChecksDelivery): Promise<ChecksOutcome> {
    const epoch = this.breaker.epoch;
    const result = await convergeChecks(await this.deps(), delivery.checks);
    if (result.unavailable)
      this.breaker.failure(new Error(result.errors[0] ?? 'unavailable'), epoch);
    else this.breaker.success();
    return { outcome: 'converged', result };
  }

  /**
   * Older than the newest applied view. Consul's index only moves forward, except when a
   * cluster is restored from a snapshot or rebuilt: then the index Consul holds now is below
   * ours, and we start over from this delivery.
   */
  private async isStale(delivery: Delivery): Promise<boolean> {
    if (delivery.index === undefined || this.applied === undefined) return false;
    if (delivery.index >= this.applied) return false;
    let current: number | undefined;
    try {
      const deps = await this.deps();
      current = (await deps.consul.readServicesView(deps.settings.writeTimeoutMs)).index;
    } catch {
      current = undefined; // cannot tell: keep the newest we know
    }
    if (current !== undefined && current < this.applied) {
      this.logger.warn(
        { event: 'consul-index-reset', applied: this.applied, current },
        'consul index went backwards (restore or rebuild): applying deliveries afresh',
      );
      this.applied = undefined;
      return false;
    }
    return true;
  }

  private async run(delivery: Delivery): Promise<DeliveryOutcome> {
    // A view that waited may have been overtaken by one applied meanwhile.
    if (
      delivery.index !== undefined &&
      this.applied !== undefined &&
      delivery.index < this.applied
    ) {
      return { outcome: 'stale', newest: this.applied };
    }
    const epoch = this.breaker.epoch;
    const deps = await this.deps();
    // With namespaces a watch delivers one namespace's view: the delivery is the signal, and
    // every namespace's view is read to converge (docs/reference.md "Consul namespaces").
    const view = deps.consul.namespacesEnabled
      ? (await deps.consul.readServicesView(deps.settings.writeTimeoutMs)).view
      : delivery.view;
    this.tracker ??= new ViewTracker((name) => mirrorNameOf(name, deps.settings));
    const result = await convergeServicesView(deps, view, { tracker: this.tracker });
    if (result.unavailable)
      this.breaker.failure(new Error(result.errors[0] ?? 'unavailable'), epoch);
    else this.breaker.success();
    if (result.summary.failed === 0 && delivery.index !== undefined) {
      this.applied = Math.max(this.applied ?? 0, delivery.index);
    }
    return { outcome: 'converged', result };
  }

  /** Converges the current view, read from Consul now (else the newest remembered one). */
  private async recover(): Promise<boolean> {
    const remembered = this.remembered;
    if (!remembered) return true;
    const deps = await this.deps();
    let delivery = remembered;
    try {
      const read = await deps.consul.readServicesView(deps.settings.writeTimeoutMs);
      if (!read.filtered) delivery = { view: read.view, index: read.index };
    } catch (err) {
      this.logger.warn(
        { event: 'breaker-recover', target: 'kubernetes', err: describeError(err) },
        'could not read the current services view: converging the newest delivered one',
      );
    }
    try {
      const outcome = await this.mailbox.submit(VIEW, delivery);
      const result =
        outcome.ran && outcome.result.outcome === 'converged' ? outcome.result.result : undefined;
      if (result?.unavailable) return false;
      if (this.remembered === remembered) this.remembered = undefined;
      this.publishRemembered();
      return true;
    } catch (err) {
      if (isKubeOutage(err)) return false;
      throw err;
    }
  }

  private publishRemembered(): void {
    this.metrics.breakerRemembered.set({ target: 'kubernetes' }, this.remembered ? 1 : 0);
  }
}
