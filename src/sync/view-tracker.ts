// The previous delivery's view, kept by serve so that a services-view delivery plans only what
// changed (src/plan/view-scope.ts; issue 18). A cache of work, never of state: a full plan runs
// on the first delivery, whenever the mirrors' watch is not running or listed afresh, after any
// delivery that failed a write or withheld a deletion, and at least every FULL_PLAN_EVERY_MS.
// The standalone handlers and the reconcile never use it.
import type { ServicesView } from '../translate/types.js';
import {
  addToIndex,
  diffViews,
  mirrorIndex,
  removeFromIndex,
  scopeOf,
  type ViewDiff,
  type ViewScope,
} from '../plan/view-scope.js';

/** A delivery plans the whole view at least this often. */
export const FULL_PLAN_EVERY_MS = 30_000;

interface Known {
  tags: Map<string, unknown>;
  shared: ReadonlySet<string>;
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
  epoch: number;
  /** How the view differs from the known one; undefined: this delivery plans the whole view. */
  diff?: ViewDiff;
}

export class ViewTracker {
  private known: Known | undefined;
  private pending: Pending | undefined;

  constructor(
    private readonly mirrorNameOf: (consulName: string) => string,
    private readonly fullEveryMs = FULL_PLAN_EVERY_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The scope of this delivery, or undefined to plan the whole view. `changedMirrors` is what
   * the mirrors' watch reported since the previous delivery (undefined: it is not running).
   */
  scope(
    view: ServicesView,
    shared: ReadonlySet<string>,
    changedMirrors: { epoch: number; names: ReadonlySet<string> } | undefined,
  ): ViewScope | undefined {
    const known = this.known;
    if (
      changedMirrors === undefined ||
      known === undefined ||
      known.epoch !== changedMirrors.epoch ||
      this.now() - known.fullAt >= this.fullEveryMs
    ) {
      this.known = undefined;
      this.pending =
        changedMirrors === undefined ? undefined : { view, shared, epoch: changedMirrors.epoch };
      return undefined;
    }
    const diff = diffViews(known, view, shared);
    for (const name of diff.removed) removeFromIndex(known.byMirror, name, this.mirrorNameOf(name));
    for (const name of diff.added) addToIndex(known.byMirror, name, this.mirrorNameOf(name));
    const scope = scopeOf(
      diff,
      [...changedMirrors.names, ...known.retry],
      known.byMirror,
      this.mirrorNameOf,
    );
    this.pending = { view, shared, epoch: changedMirrors.epoch, diff };
    return scope;
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
      const tags = new Map<string, unknown>(Object.entries(pending.view));
      this.known = {
        tags,
        shared: pending.shared,
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
    known.shared = pending.shared;
    known.retry = retry;
  }
}
