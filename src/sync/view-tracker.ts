// The previous delivery's view, kept by serve so that a services-view delivery plans only what
// changed (src/plan/view-scope.ts; issue 18). A cache of work, never of state: a full plan runs
// on the first delivery, whenever the mirrors' watch is not running or listed afresh, after any
// delivery that failed a write or withheld a deletion, and at least every FULL_PLAN_EVERY_MS.
// It also keeps the last shared-name answer, read again only when a name carrying the k8s tag
// changed in the view and on every full plan. The standalone handlers and the reconcile never
// use it.
import type { ServicesView } from '../translate/types.js';
import { plainView } from '../events/layered-view.js';
import {
  addToIndex,
  diffEntries,
  mirrorIndex,
  removeFromIndex,
  scopeOf,
  sharedStillKnown,
  withSharedFlips,
  type ViewDiff,
  type ViewScope,
} from '../plan/view-scope.js';

/**
 * What a delivery read against the previous body found changed (src/events/view-delta.ts), by
 * the view it produced: a tracker whose known view is that previous one takes it instead of
 * comparing every entry.
 */
const deliveredDiffs = new WeakMap<
  ServicesView,
  {
    /** Weakly: each view noting its base would otherwise keep every earlier view alive. */
    base: WeakRef<ServicesView>;
    added: readonly string[];
    removed: readonly string[];
    changed: ReadonlySet<string>;
  }
>();

/** Notes that `view` differs from `base` by exactly these names (the handler's delta read). */
export function noteDeliveredDiff(
  view: ServicesView,
  base: ServicesView,
  diff: { added: readonly string[]; removed: readonly string[]; changed: ReadonlySet<string> },
): void {
  deliveredDiffs.set(view, {
    base: new WeakRef(base),
    added: diff.added,
    removed: diff.removed,
    changed: diff.changed,
  });
}

/** A delivery plans the whole view at least this often. */
export const FULL_PLAN_EVERY_MS = 30_000;

interface Known {
  /** The view `tags` holds the entries of. */
  view: ServicesView;
  tags: Map<string, unknown>;
  shared: ReadonlySet<string>;
  /** The shared names came from a read filtered by ACLs: read them again next time. */
  sharedPartial: boolean;
  byMirror: Map<string, Set<string>>;
  /** The mirrors' list epoch the view was planned against. */
  epoch: number;
  /** When the last full plan ran. */
  fullAt: number;
  /** Mirrors to plan again next time (their names were in conflict). */
  retry: Set<string>;
}

interface Pending {
  view: ServicesView;
  shared: ReadonlySet<string>;
  sharedPartial: boolean;
  epoch: number;
  /** How the view differs from the known one; undefined: this delivery plans the whole view. */
  diff?: ViewDiff;
}

type MirrorChanges = { epoch: number; names: ReadonlySet<string> } | undefined;

export class ViewTracker {
  private known: Known | undefined;
  private pending: Pending | undefined;
  /** The entries' diff `sharedNames` computed for this view, for `scope` to reuse. */
  private prepared: { view: ServicesView; diff: ViewDiff } | undefined;

  constructor(
    private readonly mirrorNameOf: (consulName: string) => string,
    private readonly fullEveryMs = FULL_PLAN_EVERY_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The previous delivery's shared names (`kept`), when this delivery plans only what changed
   * and its view gives no reason to read them again (src/plan/view-scope.ts sharedStillKnown: no
   * name whose entry changed carries the tag); `tagged`: read them, a changed name carries the
   * tag (so the view has one, and need not be searched for it); undefined: read them. Called
   * before `scope` with the same view and mirror changes.
   */
  sharedNames(
    view: ServicesView,
    tag: string,
    changedMirrors: MirrorChanges,
  ): { kept: Set<string> } | { tagged: true } | undefined {
    const known = this.known;
    this.prepared = undefined;
    if (known === undefined || !this.scoped(known, changedMirrors)) return undefined;
    const diff = this.diffOf(known, view);
    this.prepared = { view, diff };
    if (known.sharedPartial) return undefined;
    const kept = sharedStillKnown(diff, view, known.shared, tag);
    return kept ? { kept } : { tagged: true };
  }

  /**
   * The scope of this delivery, or undefined to plan the whole view. `changedMirrors` is what
   * the mirrors' watch reported since the previous delivery (undefined: it is not running);
   * `sharedPartial`: the shared names come from a read filtered by ACLs.
   */
  scope(
    view: ServicesView,
    shared: ReadonlySet<string>,
    changedMirrors: MirrorChanges,
    sharedPartial = false,
  ): ViewScope | undefined {
    const known = this.known;
    const prepared = this.prepared;
    this.prepared = undefined;
    if (
      changedMirrors === undefined ||
      known === undefined ||
      !this.scoped(known, changedMirrors)
    ) {
      this.known = undefined;
      this.pending =
        changedMirrors === undefined
          ? undefined
          : { view, shared, sharedPartial, epoch: changedMirrors.epoch };
      return undefined;
    }
    const entries = prepared?.view === view ? prepared.diff : this.diffOf(known, view);
    const diff = withSharedFlips(entries, known.shared, shared);
    for (const name of diff.removed) removeFromIndex(known.byMirror, name, this.mirrorNameOf(name));
    for (const name of diff.added) addToIndex(known.byMirror, name, this.mirrorNameOf(name));
    const scope = scopeOf(
      diff,
      [...changedMirrors.names, ...known.retry],
      known.byMirror,
      this.mirrorNameOf,
    );
    this.pending = { view, shared, sharedPartial, epoch: changedMirrors.epoch, diff };
    return scope;
  }

  /** How `view` differs from the known one: as the delivery's read noted it, else compared. */
  private diffOf(known: Known, view: ServicesView): ViewDiff {
    const noted = deliveredDiffs.get(view);
    if (noted !== undefined && noted.base.deref() === known.view) {
      return {
        changed: new Set(noted.changed),
        added: [...noted.added],
        removed: [...noted.removed],
      };
    }
    return diffEntries(known.tags, view);
  }

  /** Whether a delivery may plan only what changed since the known view. */
  private scoped(known: Known, changedMirrors: MirrorChanges): boolean {
    return (
      changedMirrors !== undefined &&
      known.epoch === changedMirrors.epoch &&
      this.now() - known.fullAt < this.fullEveryMs
    );
  }

  /**
   * The delivery's plan was applied: `clean` when every write succeeded and no deletion was
   * withheld; `conflicts` are mirror names left to a Service that is not ours (planned again
   * next time). Anything else forgets the view: the next delivery plans it whole.
   */
  settled(clean: boolean, conflicts: Iterable<string> = []): void {
    const pending = this.pending;
    this.pending = undefined;
    if (!clean || pending === undefined) {
      this.known = undefined;
      return;
    }
    const retry = new Set(conflicts);
    if (pending.diff === undefined) {
      const tags = new Map<string, unknown>(Object.entries(plainView(pending.view)));
      this.known = {
        view: pending.view,
        tags,
        shared: pending.shared,
        sharedPartial: pending.sharedPartial,
        byMirror: mirrorIndex(tags.keys(), this.mirrorNameOf),
        epoch: pending.epoch,
        fullAt: this.now(),
        retry,
      };
      return;
    }
    const known = this.known;
    if (known === undefined) return;
    for (const name of pending.diff.removed) known.tags.delete(name);
    for (const name of pending.diff.changed)
      if (Object.hasOwn(pending.view, name)) known.tags.set(name, pending.view[name]);
    known.view = pending.view;
    known.shared = pending.shared;
    known.sharedPartial = pending.sharedPartial;
    known.retry = retry;
  }
}
