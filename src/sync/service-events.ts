// The Kubernetes → Consul event path with its in-process guards (issue "admission is intent"):
// converges of one Kubernetes service never overlap and the newest input wins; every admitted
// write is confirmed later from what the API server stored; and a circuit breaker stops the
// admission path from waiting on a Consul that is down, remembering what it skipped.
// Everything here is a cache of work, never of state: a restart loses only confirmations that
// the next audit event or reconcile repairs.
import type { EndpointSlice, Ingress, Service, ServiceRef } from '../translate/types.js';
import { consulNameOf, isEligible, translateService } from '../translate/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { describeError, isSyncError } from '../errors.js';
import { CircuitBreaker } from './breaker.js';
import { LatestPerKey } from './latest.js';
import { createLimiter, type Foreground, type Limiter } from '../concurrency.js';
import type { SyncDeps } from './deps.js';
import type { RegistrationsRead } from '../consul/catalog.js';
import { convergeService, type ServiceConvergeResult } from './to-consul.js';
import { eventsOfOutcome, failureEvent } from '../plan/events.js';
import { isConsulFailure, recordEvents } from './event-recorder.js';

export interface ServiceEventsOptions {
  /** Delays after an admission at which the stored state is confirmed (empty = never). */
  confirmAfterMs: readonly number[];
  /**
   * Admission reviews in flight: a due confirmation waits until none is (at most
   * CONFIRM_YIELD_MAX_MS), so reading and translating a large stored object never lengthens
   * an answer the API server is waiting for.
   */
  foreground?: Foreground;
  /** Consecutive Consul outages that open the breaker. */
  breakerFailures: number;
  /** Pause between Consul probes while the breaker is open. */
  probeIntervalMs: number;
  /** Timeout of one probe. */
  probeTimeoutMs: number;
  /** Confirmations and recovery converges at once (a burst of many services must not become
   * as many simultaneous reads of both systems). */
  concurrency: number;
}

/** What to converge one service to; see `mergeIntents`. */
interface Intent {
  ref: ServiceRef;
  /** The admitted Service (null: deleted), or undefined: read what the API server stored. */
  service: Service | null | undefined;
  /** Admitted slices (null: deleted) that override the stored ones of the same name. */
  slices: Map<string, EndpointSlice | null>;
  /** Admitted Ingresses (null: deleted) that override the listed ones of the same name. */
  ingresses?: Map<string, Ingress | null>;
  /** Consul names admitted objects mapped to: they may hold instances to remove. */
  names: Set<string>;
  /** Read the sync node by the service's meta instead of by name (audit). */
  exhaustive: boolean;
  /** Registrations already read for this service (an audit batch's one read of the node). */
  current?: RegistrationsRead;
}

export type AdmitOutcome =
  /** Converged to the admitted object now. */
  | { outcome: 'converged'; result: ServiceConvergeResult }
  /** A newer admission for the same service arrived first and carries this one. */
  | { outcome: 'superseded' }
  /** The Consul breaker is open: remembered, converged from stored state when Consul is back. */
  | { outcome: 'deferred' };

export interface AdmissionInput {
  ref: ServiceRef;
  /** Service reviews: the admitted object (null for DELETE) and the one it replaces. */
  service?: Service | null;
  previous?: Service | null;
  /** EndpointSlice reviews: the admitted slice (null for DELETE). */
  slice?: { name: string; object: EndpointSlice | null };
  /** Ingress reviews (--enable-ingress): the admitted Ingress (null for DELETE). */
  ingress?: { name: string; object: Ingress | null };
}

const keyOf = (ref: ServiceRef): string => `${ref.namespace}/${ref.name}`;

/** Services remembered (uid, eligibility) for the Events of converges that fail before a read. */
const KNOWN_SERVICES_MAX = 10_000;

/**
 * The longest a due confirmation yields to admission reviews in flight: under a steady stream
 * of reviews it runs anyway, a little late (its delays are a floor, not a schedule).
 */
export const CONFIRM_YIELD_MAX_MS = 2_000;

function isConfirmation(intent: Intent): boolean {
  return (
    intent.service === undefined && intent.slices.size === 0 && (intent.ingresses?.size ?? 0) === 0
  );
}

/**
 * The intent that replaces a waiting one when a newer arrives. A newer admission wins (its
 * object, plus the slices both carry). A confirmation never displaces a waiting admission: that
 * admission is not stored yet, and it schedules its own confirmation.
 */
export function mergeIntents(older: Intent, newer: Intent): Intent {
  const names = new Set([...older.names, ...newer.names]);
  const exhaustive = older.exhaustive || newer.exhaustive;
  // A read made for one input is not the read of the merged one: read afresh.
  if (isConfirmation(newer)) return { ...older, names, exhaustive, current: undefined };
  return {
    ref: newer.ref,
    service: newer.service !== undefined ? newer.service : older.service,
    slices: new Map([...older.slices, ...newer.slices]),
    ingresses: new Map([...(older.ingresses ?? []), ...(newer.ingresses ?? [])]),
    names,
    exhaustive,
  };
}

/** A Consul failure that a later attempt can fix: the breaker counts these. */
export function isConsulOutage(err: unknown): boolean {
  return isSyncError(err) && err.code === 'CONSUL_UNAVAILABLE';
}

interface Scheduled {
  ref: ServiceRef;
  names: Set<string>;
  /** Per confirmation delay: when it is due, or undefined when it has run. */
  due: (number | undefined)[];
  timer?: NodeJS.Timeout;
}

export class ServiceEvents {
  private readonly mailbox: LatestPerKey<Intent, ServiceConvergeResult>;
  private readonly scheduled = new Map<string, Scheduled>();
  private readonly remembered = new Map<string, { ref: ServiceRef; names: Set<string> }>();
  /** Per service last seen (admitted or read): whom a failed converge's Event is about. */
  private readonly known = new Map<string, { uid?: string; eligible: boolean }>();
  readonly breaker: CircuitBreaker;
  private readonly limit: Limiter;

  constructor(
    private readonly deps: () => Promise<SyncDeps>,
    private readonly options: ServiceEventsOptions,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.limit = createLimiter(options.concurrency);
    this.mailbox = new LatestPerKey(
      (_key, intent) => this.run(intent),
      (older, newer) => mergeIntents(older, newer),
    );
    this.breaker = new CircuitBreaker({
      target: 'consul',
      threshold: options.breakerFailures,
      probeIntervalMs: options.probeIntervalMs,
      probe: async () => (await this.deps()).consul.ping(options.probeTimeoutMs),
      recover: () => this.recover(),
      onTransition: (state) => {
        if (state === 'closed') this.flushRemembered();
      },
      logger,
      metrics,
    });
    this.publishRemembered();
  }

  /**
   * An admission review (not dry-run): converge Consul to the admitted object now, unless the
   * breaker is open, and confirm from stored state later either way.
   */
  async admit(input: AdmissionInput): Promise<AdmitOutcome> {
    const { settings } = await this.deps();
    const names = new Set<string>();
    for (const s of [input.service, input.previous]) if (s) names.add(consulNameOf(s, settings));
    this.scheduleConfirmation(input.ref, names);
    if (!this.breaker.closed) {
      this.remember(input.ref, names);
      this.recordFailure(
        await this.deps(),
        input.ref,
        input.service,
        'Consul is unavailable (circuit breaker open): remembered, synced from stored state when Consul answers again',
      );
      return { outcome: 'deferred' };
    }
    const intent: Intent = {
      ref: input.ref,
      service: input.service,
      slices: new Map(input.slice ? [[input.slice.name, input.slice.object]] : []),
      ingresses: new Map(input.ingress ? [[input.ingress.name, input.ingress.object]] : []),
      names,
      exhaustive: false,
    };
    const submitted = await this.submit(input.ref, intent);
    return submitted.ran
      ? { outcome: 'converged', result: submitted.result }
      : { outcome: 'superseded' };
  }

  /**
   * Converge one service from what the API server stored (audit events, confirmations), in
   * turn with the other inputs for it. `undefined`: a newer input for the service carried it.
   */
  async converge(
    ref: ServiceRef,
    options: { exhaustive?: boolean; names?: Iterable<string>; current?: RegistrationsRead } = {},
  ): Promise<ServiceConvergeResult | undefined> {
    const submitted = await this.submit(ref, {
      ref,
      service: undefined,
      slices: new Map(),
      ingresses: new Map(),
      names: new Set(options.names ?? []),
      exhaustive: options.exhaustive ?? false,
      ...(options.current ? { current: options.current } : {}),
    });
    return submitted.ran ? submitted.result : undefined;
  }

  /** Warnings of an admitted Service, without I/O (for answers that did not converge). */
  async warningsOf(service: Service | null | undefined): Promise<string[]> {
    if (!service) return [];
    return translateService({ service }, (await this.deps()).settings).warnings;
  }

  /** Resolves when no converge runs or waits (tests). Scheduled confirmations are not waited for. */
  idle(): Promise<void> {
    return this.mailbox.idle();
  }

  /** Services with a confirmation still to run. */
  get pendingConfirmations(): number {
    return this.scheduled.size;
  }

  close(): void {
    this.breaker.stop();
    for (const s of this.scheduled.values()) if (s.timer) clearTimeout(s.timer);
    this.scheduled.clear();
  }

  private async submit(ref: ServiceRef, intent: Intent) {
    const epoch = this.breaker.epoch;
    try {
      const submitted = await this.mailbox.submit(keyOf(ref), intent);
      if (submitted.ran) {
        this.breaker.success();
        this.forget(ref);
      }
      return submitted;
    } catch (err) {
      if (isConsulOutage(err)) {
        this.breaker.failure(err, epoch);
        // Remembered until a converge of the service succeeds: by the recovery if the breaker
        // is (or gets) open, else by a confirmation (a failure below the threshold, or a call
        // that hung through an outage that is over).
        this.remember(ref, intent.names);
        if (this.breaker.closed) this.scheduleConfirmation(ref, intent.names);
      }
      throw err;
    }
  }

  /**
   * Every converge of the path runs here (admissions, audit events, confirmations, recovery),
   * so each records its Kubernetes Events here, aggregated and written after the answer.
   */
  private async run(intent: Intent): Promise<ServiceConvergeResult> {
    const deps = await this.deps();
    try {
      const result = await convergeService(deps, {
        ref: intent.ref,
        service: intent.service,
        slices: [...intent.slices].map(([name, object]) => ({ name, object })),
        ingresses: [...(intent.ingresses ?? [])].map(([name, object]) => ({ name, object })),
        names: [...intent.names],
        exhaustive: intent.exhaustive,
        ...(intent.current ? { current: intent.current } : {}),
        // An admission plans against the registration view; what the API server stored
        // (confirmations, audit events, recovery) is converged from a read.
        fromView: !isConfirmation(intent),
      });
      if (result.service)
        this.know(intent.ref, result.service.metadata?.uid, result.skipReason === undefined);
      recordEvents(deps, eventsOfOutcome(result));
      return result;
    } catch (err) {
      // A Kubernetes read that failed earns no Event (writing one would likely fail as well).
      if (isConsulFailure(err))
        this.recordFailure(
          deps,
          intent.ref,
          intent.service,
          `Consul write failed: ${describeError(err)} (a confirmation or the next reconcile retries)`,
        );
      throw err;
    }
  }

  /**
   * SyncFailed for a Service that is synced: the admitted object, else the one last seen. A
   * deleted Service (nothing to describe) and an ineligible one (a ClusterIP converged during
   * an outage) get none, nor one never seen (a later converge reports it).
   */
  private recordFailure(
    deps: SyncDeps,
    ref: ServiceRef,
    service: Service | null | undefined,
    why: string,
  ): void {
    if (service === null) return;
    if (service) this.know(ref, service.metadata?.uid, isEligible(service, deps.settings).eligible);
    const known = this.known.get(keyOf(ref));
    if (!known?.eligible) return;
    recordEvents(deps, [failureEvent(ref, service, why, known.uid)]);
  }

  private know(ref: ServiceRef, uid: string | undefined, eligible: boolean): void {
    const key = keyOf(ref);
    this.known.delete(key); // re-inserted last: the oldest is forgotten first
    this.known.set(key, { ...(uid ? { uid } : {}), eligible });
    if (this.known.size > KNOWN_SERVICES_MAX) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }

  // ---- confirmations ----------------------------------------------------------------------

  /**
   * Due times per delay: a burst of admissions for one service shares each early confirmation
   * that has not run yet, while the last one always moves to the last delay after the newest
   * admission, so a write committed late is still seen.
   */
  private scheduleConfirmation(ref: ServiceRef, names: Set<string>): void {
    const delays = this.options.confirmAfterMs;
    if (delays.length === 0) return;
    const key = keyOf(ref);
    let entry = this.scheduled.get(key);
    if (!entry) {
      entry = { ref, names: new Set(), due: delays.map(() => undefined) };
      this.scheduled.set(key, entry);
    }
    for (const n of names) entry.names.add(n);
    const now = Date.now();
    delays.forEach((delay, i) => {
      const at = now + delay;
      if (i === delays.length - 1) entry.due[i] = Math.max(entry.due[i] ?? 0, at);
      else entry.due[i] ??= at;
    });
    this.arm(key, entry);
  }

  private arm(key: string, entry: Scheduled): void {
    if (entry.timer) clearTimeout(entry.timer);
    const next = Math.min(...entry.due.filter((d): d is number => d !== undefined));
    entry.timer = setTimeout(() => void this.confirm(key, entry), Math.max(0, next - Date.now()));
    entry.timer.unref();
  }

  private async confirm(key: string, entry: Scheduled): Promise<void> {
    entry.timer = undefined;
    const now = Date.now();
    entry.due = entry.due.map((d) => (d !== undefined && d <= now ? undefined : d));
    const names = new Set(entry.names);
    if (entry.due.some((d) => d !== undefined)) this.arm(key, entry);
    else this.scheduled.delete(key);
    // Open: Consul is down, remember. Half-open: Consul answered the probe and the recovery
    // runs; converging now (in turn with it) beats a second recovery pass.
    if (this.breaker.state === 'open') {
      this.remember(entry.ref, names);
      this.metrics.confirmations.inc({ outcome: 'deferred' });
      return;
    }
    try {
      await this.options.foreground?.quiet(CONFIRM_YIELD_MAX_MS);
      const result = await this.limit(() => this.converge(entry.ref, { names }));
      const corrected = (result?.changes.length ?? 0) > 0;
      this.metrics.confirmations.inc({ outcome: corrected ? 'corrected' : 'unchanged' });
      if (corrected && result) {
        this.metrics.confirmationCorrections.inc();
        this.logger.info(
          {
            event: 'confirmation',
            source: 'admission',
            'namespace/name': key,
            outcome: 'corrected',
            changes: result.changes.map((c) => `${c.op} ${c.registration.id} (${c.reason})`),
          },
          'consul differed from what the API server stored: corrected',
        );
      }
    } catch (err) {
      this.metrics.confirmations.inc({ outcome: 'error' });
      this.logger.error(
        {
          event: 'confirmation',
          source: 'admission',
          'namespace/name': key,
          outcome: 'error',
          err: describeError(err),
        },
        'confirmation from stored state failed (a later confirmation or reconcile repairs it)',
      );
    }
  }

  // ---- breaker ----------------------------------------------------------------------------

  private remember(ref: ServiceRef, names: Iterable<string>): void {
    const key = keyOf(ref);
    const entry = this.remembered.get(key) ?? { ref, names: new Set<string>() };
    for (const n of names) entry.names.add(n);
    this.remembered.set(key, entry);
    this.publishRemembered();
  }

  private forget(ref: ServiceRef): void {
    if (this.remembered.delete(keyOf(ref))) this.publishRemembered();
  }

  private publishRemembered(): void {
    this.metrics.breakerRemembered.set({ target: 'consul' }, this.remembered.size);
  }

  /** Converges every remembered service from stored state; false at the first Consul outage. */
  private async recover(): Promise<boolean> {
    const started = Date.now();
    let converged = 0;
    while (this.remembered.size > 0) {
      const batch = [...this.remembered.values()];
      this.remembered.clear();
      this.publishRemembered();
      let outage = false;
      await Promise.all(
        batch.map((item) =>
          this.limit(async () => {
            if (outage) return;
            try {
              await this.mailbox.submit(keyOf(item.ref), this.recoveryIntent(item.ref, item.names));
              converged++;
            } catch (err) {
              if (isConsulOutage(err)) outage = true;
              // Not a Consul outage (the service's Kubernetes read failed): reconcile repairs it.
              else
                this.logger.error(
                  {
                    event: 'breaker-recover',
                    'namespace/name': keyOf(item.ref),
                    err: describeError(err),
                  },
                  'could not converge a remembered service',
                );
            }
          }),
        ),
      );
      if (outage) {
        // Whatever was not converged is remembered again for the next recovery.
        for (const item of batch) this.remember(item.ref, item.names);
        return false;
      }
    }
    this.logger.info(
      {
        event: 'breaker-recovered',
        target: 'consul',
        services: converged,
        durationMs: Date.now() - started,
      },
      `converged ${converged} remembered service(s) from stored state`,
    );
    return true;
  }

  private recoveryIntent(ref: ServiceRef, names: Set<string>): Intent {
    return {
      ref,
      service: undefined,
      slices: new Map(),
      ingresses: new Map(),
      names,
      exhaustive: false,
    };
  }

  /** Work remembered between the recovery's last pass and the close: converge it now. */
  private flushRemembered(): void {
    for (const { ref, names } of this.remembered.values()) {
      void this.converge(ref, { names }).catch(() => undefined);
    }
    this.remembered.clear();
    this.publishRemembered();
  }
}
