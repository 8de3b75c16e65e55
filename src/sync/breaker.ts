// A circuit breaker for one target system on an event path: after `threshold` consecutive
// outages the path stops waiting on the target (callers remember their work instead), a probe
// runs in the background, and when the target answers the remembered work is converged before
// the breaker closes. Transitions are logged once, the state is a metric.
import type { Logger } from '../telemetry/logger.js';
import { BREAKER_STATES, type BreakerState, type Metrics } from '../telemetry/metrics.js';
import { describeError } from '../errors.js';

export type { BreakerState };

export interface BreakerOptions {
  target: 'consul' | 'kubernetes';
  /** Consecutive outages that open the breaker (0: never). */
  threshold: number;
  /** Pause between probes while open. */
  probeIntervalMs: number;
  /** One cheap call to the target; resolves when it answered. */
  probe: () => Promise<void>;
  /** Converges the remembered work; resolves false if the target failed again. */
  recover: () => Promise<boolean>;
  /** Called after every transition (the owner may flush work remembered meanwhile). */
  onTransition?: (state: BreakerState) => void;
  logger: Logger;
  metrics: Metrics;
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private closedEpoch = 0;

  constructor(private readonly options: BreakerOptions) {
    this.publish();
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Whether callers should wait on the target now. */
  get closed(): boolean {
    return this.current === 'closed';
  }

  /** A call to the target answered. */
  success(): void {
    if (this.current === 'closed') this.failures = 0;
  }

  /**
   * Which closed period a call belongs to: pass it back to `failure`. A call that was made
   * before the breaker last closed (it hung through the outage and times out only now) says
   * nothing about the target since its return.
   */
  get epoch(): number {
    return this.closedEpoch;
  }

  /** A call to the target failed for a reason a retry could fix (unavailable, timed out). */
  failure(err: unknown, epoch?: number): void {
    if (this.current !== 'closed' || this.options.threshold <= 0) return;
    if (epoch !== undefined && epoch !== this.closedEpoch) return;
    this.failures++;
    if (this.failures >= this.options.threshold) this.open(err);
  }

  /** Stops probing (shutdown). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private open(err: unknown): void {
    this.transition('open');
    this.openedAt = Date.now();
    this.options.logger.warn(
      {
        event: 'breaker-open',
        target: this.options.target,
        failures: this.failures,
        err: describeError(err),
      },
      `${this.options.target} breaker open after ${this.failures} consecutive failures: events are answered without waiting and remembered until it answers again`,
    );
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.probeOnce(), this.options.probeIntervalMs);
    this.timer.unref();
  }

  private async probeOnce(): Promise<void> {
    this.timer = undefined;
    try {
      await this.options.probe();
    } catch {
      this.scheduleProbe();
      return;
    }
    if (this.stopped) return;
    this.transition('half-open');
    this.options.logger.info(
      { event: 'breaker-half-open', target: this.options.target },
      `${this.options.target} answers again: converging what was remembered`,
    );
    let recovered = false;
    try {
      recovered = await this.options.recover();
    } catch {
      recovered = false;
    }
    if (this.stopped) return;
    if (!recovered) {
      this.transition('open');
      this.options.logger.warn(
        { event: 'breaker-open', target: this.options.target },
        `${this.options.target} failed again while recovering: breaker open`,
      );
      this.scheduleProbe();
      return;
    }
    this.failures = 0;
    this.closedEpoch++;
    this.transition('closed');
    this.options.logger.info(
      {
        event: 'breaker-closed',
        target: this.options.target,
        openMs: Date.now() - this.openedAt,
      },
      `${this.options.target} breaker closed: remembered work converged`,
    );
  }

  private transition(state: BreakerState): void {
    this.current = state;
    this.publish();
    this.options.onTransition?.(state);
  }

  private publish(): void {
    for (const s of BREAKER_STATES)
      this.options.metrics.breakerState.set(
        { target: this.options.target, state: s },
        s === this.current ? 1 : 0,
      );
  }
}
