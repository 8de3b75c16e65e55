// Which Consul names a services-view delivery needs to plan (issue 18: Consul → Kubernetes lag
// independent of the number of services). A mirror depends only on its own Consul name's entry
// in the view (its tags), on whether that name also has instances not registered from
// Kubernetes (the shared-name read), on its own Service as stored, and on the other Consul names
// that map to the same Kubernetes name (the first in order wins). So a delivery whose view and
// mirrors are known to equal the previous delivery's, but for a few names, needs to plan only
// those names, their mirrors, and the names sharing a mirror with them. Pure.
import type { ServicesView } from '../translate/types.js';
import { sameTags } from '../translate/to-k8s.js';

export { sameTags };

/** What the previous planned delivery saw. */
export interface PlannedView {
  /** Each Consul name's tags, as delivered. */
  tags: ReadonlyMap<string, unknown>;
  /** Names with instances not registered from Kubernetes. */
  shared: ReadonlySet<string>;
}

export interface ViewDiff {
  /** Consul names added, removed, or whose tags or shared status changed. */
  changed: Set<string>;
  added: string[];
  removed: string[];
}

/** The Consul names whose entry or shared status differs between two deliveries. */
export function diffViews(
  previous: PlannedView,
  view: ServicesView,
  shared: ReadonlySet<string>,
): ViewDiff {
  return withSharedFlips(diffEntries(previous.tags, view), previous.shared, shared);
}

/** The Consul names added, removed or retagged between two deliveries' views. */
export function diffEntries(previous: ReadonlyMap<string, unknown>, view: ServicesView): ViewDiff {
  const diff: ViewDiff = { changed: new Set(), added: [], removed: [] };
  let kept = 0;
  for (const name in view) {
    if (!Object.hasOwn(view, name)) continue;
    const before = previous.get(name);
    if (before === undefined && !previous.has(name)) {
      diff.added.push(name);
      diff.changed.add(name);
      continue;
    }
    kept++;
    if (!sameTags(before, view[name])) diff.changed.add(name);
  }
  // Every previous name still in the view was counted: look for the removed only if some are.
  if (kept < previous.size)
    for (const name of previous.keys())
      if (!Object.hasOwn(view, name)) {
        diff.removed.push(name);
        diff.changed.add(name);
      }
  return diff;
}

/** Adds to a diff of entries the names whose shared status flipped. */
export function withSharedFlips(
  diff: ViewDiff,
  previous: ReadonlySet<string>,
  shared: ReadonlySet<string>,
): ViewDiff {
  for (const name of shared) if (!previous.has(name)) diff.changed.add(name);
  for (const name of previous) if (!shared.has(name)) diff.changed.add(name);
  return diff;
}

/**
 * The previous delivery's shared names, when this delivery's view cannot have changed them as
 * far as the view tells: no name whose entry changed carries the tag now (only a name carrying
 * it can be shared). Those names, less the changed ones (gone or no longer tagged); undefined
 * when the shared-name read has to be made again.
 */
export function sharedStillKnown(
  diff: ViewDiff,
  view: ServicesView,
  previous: ReadonlySet<string>,
  tag: string,
): Set<string> | undefined {
  if (tag === '') return new Set();
  for (const name of diff.changed)
    if (Object.hasOwn(view, name) && carries(view[name], tag)) return undefined;
  const out = new Set<string>();
  for (const name of previous) if (!diff.changed.has(name)) out.add(name);
  return out;
}

/** The names to plan and the mirrors they may touch. */
export interface ViewScope {
  /** Consul names to translate (some may have left the view: their mirror is then deleted). */
  names: Set<string>;
  /** Kubernetes names of the mirrors to plan against. */
  mirrors: Set<string>;
}

/**
 * The scope of a delivery: the changed names, the mirrors changed since the previous delivery
 * (by hand, by a reconcile, or left in conflict), the mirrors of the changed names, and every
 * Consul name that maps to one of those mirrors (`byMirror`, as of this delivery's view), so the
 * first-in-order rule between names sharing a mirror is decided as a full plan decides it.
 */
export function scopeOf(
  diff: ViewDiff,
  changedMirrors: Iterable<string>,
  byMirror: ReadonlyMap<string, ReadonlySet<string>>,
  mirrorNameOf: (consulName: string) => string,
): ViewScope {
  const mirrors = new Set(changedMirrors);
  for (const name of diff.changed) mirrors.add(mirrorNameOf(name));
  const names = new Set(diff.changed);
  for (const mirror of mirrors) for (const name of byMirror.get(mirror) ?? []) names.add(name);
  return { names, mirrors };
}

/** Consul names by the Kubernetes name of their mirror (a full plan builds it). */
export function mirrorIndex(
  names: Iterable<string>,
  mirrorNameOf: (consulName: string) => string,
): Map<string, Set<string>> {
  const byMirror = new Map<string, Set<string>>();
  for (const name of names) addToIndex(byMirror, name, mirrorNameOf(name));
  return byMirror;
}

export function addToIndex(index: Map<string, Set<string>>, name: string, mirror: string): void {
  const set = index.get(mirror);
  if (set) set.add(name);
  else index.set(mirror, new Set([name]));
}

export function removeFromIndex(
  index: Map<string, Set<string>>,
  name: string,
  mirror: string,
): void {
  const set = index.get(mirror);
  if (!set) return;
  set.delete(name);
  if (set.size === 0) index.delete(mirror);
}

/** The part of a view in scope (names that left it are simply absent). */
export function viewInScope(view: ServicesView, scope: ViewScope): ServicesView {
  const out: ServicesView = {};
  for (const name of scope.names) if (Object.hasOwn(view, name)) out[name] = view[name]!;
  return out;
}

/**
 * Whether the view has no name. Consul always lists `consul` itself, which answers at once;
 * otherwise the names are enumerated (for-in lists them all before the first).
 */
export function isEmptyView(view: ServicesView): boolean {
  if (Object.hasOwn(view, 'consul')) return false;
  for (const name in view) if (Object.hasOwn(view, name)) return false;
  return true;
}

/** Whether a name of the view carries the tag: stops at the first (no copy of the view). */
export function hasTaggedName(view: ServicesView, tag: string): boolean {
  if (tag === '') return false;
  for (const name in view) if (Object.hasOwn(view, name) && carries(view[name], tag)) return true;
  return false;
}

/** The names that carry the tag in the view, of those given. */
export function taggedAmong(names: Iterable<string>, view: ServicesView, tag: string): Set<string> {
  const out = new Set<string>();
  if (tag === '') return out;
  for (const name of names)
    if (Object.hasOwn(view, name) && carries(view[name], tag)) out.add(name);
  return out;
}

function carries(tags: unknown, tag: string): boolean {
  return Array.isArray(tags) && tags.includes(tag);
}
