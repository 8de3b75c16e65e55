// Indexed object storage with one global resourceVersion counter (like etcd's revision), a
// per-resource sorted key order for paginated lists, a bounded change log (consistent continue
// tokens and watch-from-resourceVersion) and watch fan-out.
import type { ResourceDef } from './resource-def.js';
import {
  matchesFields,
  matchesLabels,
  type FieldSelector,
  type FieldValue,
  type LabelSelector,
} from './selectors.js';
import type { KubeObject } from './util.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeEvent {
  rv: number;
  type: WatchEventType;
  key: string;
  /** new state (for DELETED: the last state, carrying the deletion resourceVersion) */
  obj: KubeObject;
  /** state before the change */
  prev?: KubeObject;
}

export interface WatchFilter {
  namespace?: string;
  labels: LabelSelector;
  fields: FieldSelector;
  /** how `fields` read an object (ResourceDef.fieldValue) */
  fieldValue?: FieldValue;
}

export interface Watcher {
  filter: WatchFilter;
  send(type: WatchEventType, obj: KubeObject): void;
}

/** Change-log entries kept per resource; older continue tokens / watches get 410 Expired. */
const LOG_LIMIT = 50_000;

export function keyFor(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function matchesFilter(f: WatchFilter, obj: KubeObject): boolean {
  if (f.namespace && obj.metadata.namespace !== f.namespace) return false;
  if (f.labels.length && !matchesLabels(f.labels, obj.metadata.labels)) return false;
  if (f.fields.length && !matchesFields(f.fields, obj, f.fieldValue)) return false;
  return true;
}

/** Binary search: index of the first key >= k. */
export function lowerBound(keys: string[], k: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class ResourceStore {
  readonly items = new Map<string, KubeObject>();
  /** sorted keys (namespace/name), the etcd key order */
  readonly keys: string[] = [];
  readonly log: ChangeEvent[] = [];
  /** changes with rv <= compactedRv are no longer in the log */
  compactedRv = 0;
  readonly watchers = new Set<Watcher>();

  constructor(readonly def: ResourceDef) {}

  get(key: string): KubeObject | undefined {
    return this.items.get(key);
  }

  /** Latest rv of any change to this resource (0 if never changed). */
  lastChangeRv(): number {
    return this.log.length ? (this.log[this.log.length - 1] as ChangeEvent).rv : this.compactedRv;
  }

  apply(ev: ChangeEvent): void {
    if (ev.type === 'DELETED') {
      this.items.delete(ev.key);
      const idx = lowerBound(this.keys, ev.key);
      if (this.keys[idx] === ev.key) this.keys.splice(idx, 1);
    } else {
      if (!this.items.has(ev.key)) {
        const idx = lowerBound(this.keys, ev.key);
        this.keys.splice(idx, 0, ev.key);
      }
      this.items.set(ev.key, ev.obj);
    }
    this.log.push(ev);
    if (this.log.length > LOG_LIMIT) {
      const drop = this.log.splice(0, LOG_LIMIT / 2);
      this.compactedRv = (drop[drop.length - 1] as ChangeEvent).rv;
    }
    for (const w of this.watchers) deliver(w, ev);
  }

  /** Changes after `rv` (undefined when the log no longer reaches back that far). */
  changesSince(rv: number): ChangeEvent[] | undefined {
    if (rv < this.compactedRv) return undefined;
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.log[mid] as ChangeEvent).rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.log.slice(lo);
  }

  /** The oldest resourceVersion a watch or continue token can start from. */
  oldestRv(): number {
    return this.compactedRv;
  }
}

/** Send one change to a watcher, turning it into ADDED/DELETED when it enters/leaves the filter. */
export function deliver(w: Watcher, ev: ChangeEvent): void {
  const now = matchesFilter(w.filter, ev.obj);
  if (ev.type === 'ADDED') {
    if (now) w.send('ADDED', ev.obj);
  } else if (ev.type === 'DELETED') {
    if (now) w.send('DELETED', ev.obj);
  } else {
    const before = ev.prev ? matchesFilter(w.filter, ev.prev) : false;
    if (now && before) w.send('MODIFIED', ev.obj);
    else if (now) w.send('ADDED', ev.obj);
    else if (before) w.send('DELETED', ev.obj);
  }
}

export class Store {
  private rv = 1;
  readonly resources = new Map<string, ResourceStore>();

  constructor(defs: readonly ResourceDef[]) {
    for (const d of defs) {
      // a resource served from another's storage (ResourceDef.fromStorage) has none of its own
      if (!d.fromStorage) this.resources.set(d.resource, new ResourceStore(d));
    }
  }

  currentRv(): number {
    return this.rv;
  }

  nextRv(): number {
    return ++this.rv;
  }

  resource(name: string): ResourceStore {
    const r = this.resources.get(name);
    if (!r) throw new Error(`unknown resource ${name}`);
    return r;
  }
}
