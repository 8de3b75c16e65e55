// Kubernetes Events on synced Services (events.k8s.io/v1), as plain data: which Event an outcome
// of the Kubernetes → Consul direction earns, and how repeats are aggregated so that a busy
// Service does not flood the API server. Pure: no I/O, time is passed in.
import { ANNOTATION_SERVICE_SYNC, META_SYNC_ID } from '../translate/keys.js';
import { isBeingDeleted, parseGoBool } from '../translate/index.js';
import type { Registration, Service, ServiceRef } from '../translate/types.js';
import type { RegistrationChange } from './types.js';

export const EVENT_REASONS = [
  'Synced',
  'SyncSkipped',
  'SyncFailed',
  'ConflictWithForeign',
] as const;
export type EventReason = (typeof EVENT_REASONS)[number];
/** What was done (or tried) about the Service's instances in Consul. */
export type EventAction = 'Register' | 'Deregister';
export type EventType = 'Normal' | 'Warning';

/** The API server refuses a longer note (NoteLengthLimit). */
export const EVENT_NOTE_MAX = 1024;

export interface ServiceEvent {
  /** The Service the Event is about; its uid is what `kubectl describe service` selects on. */
  regarding: ServiceRef & { uid?: string };
  reason: EventReason;
  action: EventAction;
  type: EventType;
  note: string;
}

/** One converge of a Kubernetes service to Consul, as far as Events care. */
export interface ServiceOutcome {
  ref: ServiceRef;
  /** The Service converged to; null or undefined when it is gone (no Event: nothing to describe). */
  service: Service | null | undefined;
  /** Changes written (never a dry run's). */
  changes: readonly RegistrationChange[];
  /** Desired instances Consul already held as desired. */
  unchanged: number;
  /** Registrations of a desired ID that belong to another installation or to no one. */
  conflicts: readonly Registration[];
  /** Why the Service is not synced, when it is not. */
  skipReason?: string;
}

function truncate(note: string): string {
  return note.length <= EVENT_NOTE_MAX ? note : `${note.slice(0, EVENT_NOTE_MAX - 1)}…`;
}

/** A few items and how many more: notes stay short whatever the size of the service. */
function some(items: readonly string[], shown = 3): string {
  const head = items.slice(0, shown).join(', ');
  return items.length > shown ? `${head} and ${items.length - shown} more` : head;
}

function regardingOf(ref: ServiceRef, service: Service): ServiceEvent['regarding'] {
  const uid = service.metadata?.uid;
  return { namespace: ref.namespace, name: ref.name, ...(uid ? { uid } : {}) };
}

/** The Service asks to be synced by its annotation (so a skip is worth telling). */
function asksForSync(service: Service): boolean {
  const value = service.metadata?.annotations?.[ANNOTATION_SERVICE_SYNC];
  return value !== undefined && parseGoBool(value) === true;
}

function distinct(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

function ownerOf(r: Registration): string {
  const id = r.meta[META_SYNC_ID];
  return id ? `sync id ${id}` : 'no installation';
}

/**
 * The Events one converge earns, at most two:
 * - `ConflictWithForeign` (Warning) when a desired instance ID is held by someone else;
 * - `Synced` (Normal) when instances were written for an eligible Service, naming the Consul
 *   service and how many instances it has now;
 * - `SyncSkipped` when the Service is not synced and either its instances were just
 *   deregistered (Normal) or it asks for sync by annotation (Warning): an ordinary ineligible
 *   Service (a ClusterIP among thousands) gets none.
 * An unchanged, synced Service gets none: Events tell what happened, not what is.
 */
export function eventsOfOutcome(outcome: ServiceOutcome): ServiceEvent[] {
  const { service, changes } = outcome;
  if (!service || isBeingDeleted(service)) return [];
  const regarding = regardingOf(outcome.ref, service);
  const out: ServiceEvent[] = [];
  if (outcome.conflicts.length > 0) {
    const names = distinct(outcome.conflicts.map((r) => r.service));
    const owners = distinct(outcome.conflicts.map(ownerOf));
    out.push({
      regarding,
      reason: 'ConflictWithForeign',
      action: 'Register',
      type: 'Warning',
      note: truncate(
        `Consul service ${some(names)}: ${outcome.conflicts.length} instance ID(s) already registered by ${some(owners)}, left alone: ${some(outcome.conflicts.map((r) => r.id))}`,
      ),
    });
  }
  const sets = changes.filter((c) => c.op !== 'delete');
  const deletes = changes.filter((c) => c.op === 'delete');
  if (outcome.skipReason) {
    if (deletes.length > 0) {
      out.push({
        regarding,
        reason: 'SyncSkipped',
        action: 'Deregister',
        type: 'Normal',
        note: truncate(
          `Not synced (${outcome.skipReason}): deregistered ${deletes.length} instance(s) of Consul service ${some(distinct(deletes.map((c) => c.registration.service)))}`,
        ),
      });
    } else if (asksForSync(service)) {
      out.push({
        regarding,
        reason: 'SyncSkipped',
        action: 'Register',
        type: 'Warning',
        note: truncate(
          `Not synced to Consul although ${ANNOTATION_SERVICE_SYNC} is true: ${outcome.skipReason}`,
        ),
      });
    }
    return out;
  }
  if (changes.length === 0) return out;
  const instances = sets.length + outcome.unchanged;
  const current = distinct(sets.map((c) => c.registration.service));
  const name =
    current.length > 0 ? some(current) : some(distinct(deletes.map((c) => c.registration.service)));
  const created = sets.filter((c) => c.op === 'create').length;
  const counts = `${created} created, ${sets.length - created} updated, ${deletes.length} deregistered`;
  const elsewhere = distinct(
    deletes
      .map((c) => c.registration.service)
      .filter((n) => current.length > 0 && !current.includes(n)),
  );
  out.push({
    regarding,
    reason: 'Synced',
    action: instances > 0 ? 'Register' : 'Deregister',
    type: 'Normal',
    note: truncate(
      `Consul service ${name}: ${instances} instance(s) (${counts})${elsewhere.length > 0 ? `; deregistered from ${some(elsewhere)}` : ''}`,
    ),
  });
  return out;
}

/**
 * `SyncFailed` (Warning): Consul could not be written for this Service (`why` says how: a
 * failed write, the breaker open). `service`: the Service, null when it was deleted (the write
 * was a deregistration), undefined when not at hand (`uid` then names it, if known).
 */
export function failureEvent(
  ref: ServiceRef,
  service: Service | null | undefined,
  why: string,
  uid?: string,
): ServiceEvent {
  const known = service?.metadata?.uid ?? uid;
  const deregister = service === null || (service !== undefined && isBeingDeleted(service));
  return {
    regarding: { ...ref, ...(known ? { uid: known } : {}) },
    reason: 'SyncFailed',
    action: deregister ? 'Deregister' : 'Register',
    type: 'Warning',
    note: truncate(why),
  };
}

// ---- aggregation ----------------------------------------------------------------------------

export interface EventSeries {
  count: number;
  /** Unix ms of the last occurrence counted. */
  lastObservedTime: number;
}

/** One write to the API server: a new Event, or a series update of one written before. */
export interface EventWrite {
  op: 'create' | 'patch';
  /** metadata.name of the Event (in the Service's namespace). */
  name: string;
  event: ServiceEvent;
  /** Unix ms of the first occurrence the Event stands for (eventTime). */
  eventTime: number;
  /** Set on every patch, and on a create that stands for repeats already. */
  series?: EventSeries;
}

export interface EventAggregatorOptions {
  /** At most one write per Service and reason per interval; repeats within it are folded. */
  intervalMs: number;
  /** A series ends after this long without a repeat: the next occurrence is a new Event. */
  seriesIdleMs?: number;
  /** Services × reasons remembered; the least recently seen is forgotten first. */
  maxKeys?: number;
  /** metadata.name of a new Event about `regarding` (default `<name>.<time and sequence in hex>`). */
  newName?: (regarding: string, now: number) => string;
}

/** client-go's events library ends a series after 6 minutes without a repeat. */
export const DEFAULT_SERIES_IDLE_MS = 6 * 60_000;
export const DEFAULT_MAX_KEYS = 10_000;

interface Folded {
  event: ServiceEvent;
  /** Occurrences equal to `event` since the last different one. */
  count: number;
  first: number;
  last: number;
}

interface Entry {
  name: string;
  event: ServiceEvent;
  eventTime: number;
  count: number;
  lastObserved: number;
  /** No write for this key before this time; occurrences until then are folded. */
  windowEnds: number;
  folded?: Folded;
}

function sameEvent(a: ServiceEvent, b: ServiceEvent): boolean {
  return a.note === b.note && a.action === b.action && a.type === b.type;
}

/**
 * Per Service (namespace, name, uid) and reason: the first occurrence is written at once as a
 * new Event; later ones within `intervalMs` of the last write are folded and written when the
 * interval ends, as events.k8s.io/v1 does it: a repeat of the same note raises the Event's
 * `series.count` and `series.lastObservedTime` (one patch, however many repeats); a different
 * note is a new Event (notes are immutable), standing for its own repeats. So a Service makes
 * at most one write per reason per interval.
 */
export class EventAggregator {
  private readonly entries = new Map<string, Entry>();
  private readonly intervalMs: number;
  private readonly idleMs: number;
  private readonly maxKeys: number;
  private readonly newName: (regarding: string, now: number) => string;
  private sequence = 0;

  constructor(options: EventAggregatorOptions) {
    this.intervalMs = options.intervalMs;
    this.idleMs = Math.max(options.seriesIdleMs ?? DEFAULT_SERIES_IDLE_MS, options.intervalMs);
    this.maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    this.newName =
      options.newName ??
      ((regarding, now) =>
        `${regarding}.${now.toString(16)}${(this.sequence++ % 0x10000).toString(16).padStart(4, '0')}`);
  }

  /** Keys remembered (tests, metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** An occurrence at `now`: the write to make now, or undefined when it is folded. */
  observe(event: ServiceEvent, now: number): EventWrite | undefined {
    const key = keyOf(event);
    let entry = this.entries.get(key);
    if (entry && !entry.folded && now - entry.lastObserved > this.idleMs) entry = undefined;
    this.entries.delete(key); // re-inserted last: the map's order is least recently seen first
    if (!entry) {
      const created: Entry = {
        name: this.newName(event.regarding.name, now),
        event,
        eventTime: now,
        count: 1,
        lastObserved: now,
        windowEnds: now + this.intervalMs,
      };
      this.remember(key, created);
      return { op: 'create', name: created.name, event, eventTime: now };
    }
    this.remember(key, entry);
    if (!entry.folded && now >= entry.windowEnds) {
      return this.write(entry, { event, count: 1, first: now, last: now }, now);
    }
    if (entry.folded && sameEvent(entry.folded.event, event)) {
      entry.folded.count++;
      entry.folded.last = now;
    } else entry.folded = { event, count: 1, first: now, last: now };
    return undefined;
  }

  /** Writes of folded occurrences whose interval has ended by `now`; forgets ended series. */
  due(now: number): EventWrite[] {
    const out: EventWrite[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.folded && entry.windowEnds <= now) {
        out.push(this.write(entry, entry.folded, now));
      } else if (!entry.folded && now - entry.lastObserved > this.idleMs) {
        this.entries.delete(key);
      }
    }
    return out;
  }

  /** When the next folded occurrence is due, or undefined when none is folded. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const entry of this.entries.values())
      if (entry.folded && (next === undefined || entry.windowEnds < next)) next = entry.windowEnds;
    return next;
  }

  /** Every folded occurrence as a write now, due or not (on shutdown). */
  drain(now: number): EventWrite[] {
    const out: EventWrite[] = [];
    for (const entry of this.entries.values())
      if (entry.folded) out.push(this.write(entry, entry.folded, now));
    return out;
  }

  private remember(key: string, entry: Entry): void {
    this.entries.set(key, entry);
    while (this.entries.size > this.maxKeys) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  private write(entry: Entry, folded: Folded, now: number): EventWrite {
    entry.folded = undefined;
    entry.windowEnds = now + this.intervalMs;
    if (sameEvent(entry.event, folded.event)) {
      entry.count += folded.count;
      entry.lastObserved = folded.last;
      return {
        op: 'patch',
        name: entry.name,
        event: entry.event,
        eventTime: entry.eventTime,
        series: { count: entry.count, lastObservedTime: folded.last },
      };
    }
    entry.name = this.newName(folded.event.regarding.name, now);
    entry.event = folded.event;
    entry.eventTime = folded.first;
    entry.count = folded.count;
    entry.lastObserved = folded.last;
    return {
      op: 'create',
      name: entry.name,
      event: folded.event,
      eventTime: folded.first,
      ...(folded.count > 1
        ? { series: { count: folded.count, lastObservedTime: folded.last } }
        : {}),
    };
  }
}

function keyOf(event: ServiceEvent): string {
  const r = event.regarding;
  return `${r.namespace}/${r.name}/${r.uid ?? ''}/${event.reason}`;
}
