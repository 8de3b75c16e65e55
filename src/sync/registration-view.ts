// What Consul holds on the sync node, per Kubernetes service, kept by serve so that an admission
// plans against it instead of reading Consul before its write (issue 18). A cache, never the
// truth: every write it plans is a check-and-set against the ModifyIndex it holds, so a stale
// entry makes the write fail (409) and the converge reads afresh; confirmations, audit events,
// the reconcile and the standalone handlers always read.
//
// It is filled by a blocking query of the node (all Kubernetes-sourced registrations and their
// checks), at most once per `intervalMs`, and by this process's own writes, from what the
// transaction answered. Each entry carries a stamp of a local clock taken when it became known
// (a write: when Consul answered it; a refresh: when its read was sent), so an answer to a
// refresh sent before a write never replaces what the write left. A failed write or a lost
// check-and-set forgets the service until the next refresh; a failed refresh makes the whole view
// unusable until one succeeds; so does a read Consul filtered by ACLs.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsulCatalog, RegistrationsRead } from '../consul/catalog.js';
import { registrationSource } from '../plan/index.js';
import type { Registration, ServiceRef } from '../translate/types.js';
import type { Logger } from '../telemetry/logger.js';
import { describeError } from '../errors.js';

/**
 * How long one blocking query waits for a change (Consul adds up to 1/16). Shorter than
 * Consul's 5-minute default, so that a connection a Consul outage left dead is given up within
 * about a minute: one request a minute on an idle catalog.
 */
const WAIT_MS = 60_000;

/** A whole-node read without a wait may take longer than one write: the reconcile's factor. */
const READ_TIMEOUT_FACTOR = 4;

/**
 * Registrations on the sync node above which no view is kept. The view costs about 0.7 KiB a
 * registration, and a refresh holds the answer, its parse and the new view at once: at this
 * size about 25 MiB, and a refresh's parse blocks the event loop for tens of milliseconds;
 * above it, admissions read as before.
 */
export const REGISTRATION_VIEW_MAX = 10_000;

interface Entry {
  /** undefined: not known (forgotten after a failed write); read before writing. */
  registrations: readonly Registration[] | undefined;
  stamp: number;
}

const keyOf = (ref: ServiceRef): string => `${ref.namespace}/${ref.name}`;

export interface RegistrationViewOptions {
  /** Least time between two refreshes (the blocking query answers on every catalog change). */
  intervalMs: number;
  /** Pause after a failed refresh before the next. */
  retryMs?: number;
  /** Read timeout of a refresh, on top of the blocking wait. */
  timeoutMs: number;
  waitMs?: number;
  /** See REGISTRATION_VIEW_MAX. */
  maxRegistrations?: number;
}

export class RegistrationView {
  private entries = new Map<string, Entry>();
  /** The last refresh succeeded with a complete answer: a service absent from it has none. */
  private complete = false;
  private clock = 0;
  private running: Promise<void> | undefined;
  private readonly stopper = new AbortController();
  /** Registrations held (the sum over entries). */
  private size = 0;
  /** Past the bound once: no view for the rest of the process. */
  private off = false;
  private readonly max: number;

  constructor(
    private readonly catalog: Pick<ConsulCatalog, 'readAll'>,
    private readonly logger: Logger,
    private readonly options: RegistrationViewOptions,
  ) {
    this.max = options.maxRegistrations ?? REGISTRATION_VIEW_MAX;
  }

  /** A stamp of now, to pass to `record` for a state Consul answered now. */
  stamp(): number {
    return ++this.clock;
  }

  /**
   * What Consul holds on the sync node for one Kubernetes service, or undefined when the view
   * cannot tell (not refreshed yet, the last refresh failed or was filtered, the service forgotten).
   */
  get(ref: ServiceRef): RegistrationsRead | undefined {
    if (!this.complete) return undefined;
    const entry = this.entries.get(keyOf(ref));
    if (entry === undefined) return { registrations: [], filtered: false };
    if (entry.registrations === undefined) return undefined;
    return { registrations: [...entry.registrations], filtered: false };
  }

  /** What Consul held for the service as of `stamp` (a write's answer). */
  record(ref: ServiceRef, registrations: readonly Registration[], stamp: number): void {
    this.set(keyOf(ref), { registrations, stamp });
  }

  /** The service's state is not known any more (a failed or refused write): read it next time. */
  forget(ref: ServiceRef): void {
    this.set(keyOf(ref), { registrations: undefined, stamp: this.stamp() });
  }

  private set(key: string, entry: Entry): void {
    if (this.off) return;
    const known = this.entries.get(key);
    if (known !== undefined && known.stamp > entry.stamp) return;
    this.entries.set(key, entry);
    this.size += (entry.registrations?.length ?? 0) - (known?.registrations?.length ?? 0);
    if (this.size > this.max) this.turnOff(this.size);
  }

  /**
   * The node holds more registrations than the view may (REGISTRATION_VIEW_MAX), seen by a
   * refresh or by the view growing with our writes: no view for the rest of this process.
   */
  private turnOff(registrations: number): void {
    if (this.off) return;
    this.off = true;
    this.unusable();
    this.stopper.abort();
    this.logger.info(
      { event: 'registration-view-off', registrations, max: this.max },
      `the sync node holds more than ${this.max} registrations: no registration view, every admission reads before its write`,
    );
  }

  /**
   * A refresh's answer, read from `stamp` on: it replaces every entry older than that; the
   * newer ones (writes answered, services forgotten, after the read was sent) stay.
   */
  replace(read: RegistrationsRead, stamp: number): void {
    if (this.off) return;
    if (read.filtered) {
      this.unusable();
      return;
    }
    if (read.registrations.length > this.max) {
      this.turnOff(read.registrations.length);
      return;
    }
    const next = new Map<string, Entry>();
    const grouped = new Map<string, Registration[]>();
    for (const r of read.registrations) {
      const ref = registrationSource(r);
      if (ref === undefined) continue;
      const key = keyOf(ref);
      const list = grouped.get(key);
      if (list) list.push(r);
      else grouped.set(key, [r]);
    }
    for (const [key, registrations] of grouped) next.set(key, { registrations, stamp });
    for (const [key, entry] of this.entries) if (entry.stamp > stamp) next.set(key, entry);
    let size = 0;
    for (const entry of next.values()) size += entry.registrations?.length ?? 0;
    if (size > this.max) {
      this.turnOff(size);
      return;
    }
    this.entries = next;
    this.size = size;
    this.complete = true;
  }

  /** Nothing is known until the next refresh succeeds. */
  private unusable(): void {
    this.complete = false;
    this.entries = new Map();
    this.size = 0;
  }

  /** Starts the refresh loop (serve). */
  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { signal } = this.stopper;
    const waitMs = this.options.waitMs ?? WAIT_MS;
    let index: number | undefined;
    while (!signal.aborted) {
      const started = performance.now();
      const stamp = this.stamp();
      let pause = this.options.intervalMs;
      try {
        const read =
          index !== undefined
            ? await this.catalog.readAll(this.options.timeoutMs + waitMs + waitMs / 16, {
                index,
                waitMs,
              })
            : await this.catalog.readAll(this.options.timeoutMs * READ_TIMEOUT_FACTOR);
        if (signal.aborted) break;
        this.replace(read, stamp);
        // Consul's index only grows; one that went back (a restored snapshot) starts over.
        index = read.index !== undefined && read.index >= (index ?? 0) ? read.index : undefined;
        if (read.filtered)
          this.logger.warn(
            { event: 'registration-view-filtered' },
            'consul filtered the read of the sync node by ACLs: every admission reads before its write',
          );
      } catch (err) {
        if (signal.aborted) break;
        this.unusable();
        index = undefined;
        pause = Math.max(pause, this.options.retryMs ?? 1000);
        this.logger.debug(
          { event: 'registration-view-failed', err: describeError(err) },
          'could not refresh the view of the sync node: admissions read before writing until it works',
        );
      }
      const left = pause - (performance.now() - started);
      if (left > 0) await sleep(left, undefined, { signal }).catch(() => undefined);
    }
  }
}
