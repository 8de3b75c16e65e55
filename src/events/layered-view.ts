// A delivered services view kept as a plain object (a full parse, or an earlier flattening) plus
// the entries that differ from it, so that a delivery read against the previous body
// (src/events/view-delta.ts) costs what changed, not what the catalog holds (issue 18: at 15,000
// names, copying the view into a new object took ~2 ms a delivery, and enumerating it as much
// again). Consumers still see a ServicesView: a read-only object whose own properties are the
// entries. A lookup (`view[name]`, `Object.hasOwn`, `in`) reads the layers; the first enumeration
// (Object.keys, for-in, a spread) builds the plain object once, entries in body order, exactly as
// JSON.parse would have, and answers from it after. Writing to it throws. Pure: no I/O.
import type { ServicesView } from '../translate/types.js';

/** An entry's tags, or null where the entry was removed from the base. */
type Change = readonly string[] | null;

/**
 * Changes kept over a base before they are folded into a new plain object: a few hundred at
 * tens of thousands of names, so a delivery copies a small map and folding is rare.
 */
export function foldAt(names: number): number {
  return Math.max(64, Math.ceil(4 * Math.sqrt(names)));
}

/** The layers behind each layered view handed out. */
const layersOf = new WeakMap<ServicesView, LayeredView>();

/**
 * The plain object of a view: a layered view's is built once (then kept); any other view is
 * returned as it is. For a consumer about to enumerate a whole view, which through the layers'
 * proxy costs several times more (at 15,000 names, Object.keys took 5.7 ms against 1.5 ms).
 */
export function plainView(view: ServicesView): ServicesView {
  return layersOf.get(view)?.plain() ?? view;
}

export class LayeredView {
  /** The ServicesView consumers get (the base itself when it is this body's own parse). */
  readonly view: ServicesView;
  private plainObject: ServicesView | undefined;

  private constructor(
    private readonly base: ServicesView,
    private readonly changes: ReadonlyMap<string, Change>,
    /** The names in body order (not copied: the caller's IndexedView owns it). */
    private readonly names: readonly string[],
    /** The base is this very body's parse (not an earlier body's: its order may differ). */
    baseIsThisBody = false,
  ) {
    if (baseIsThisBody) {
      this.plainObject = base;
      this.view = base;
    } else {
      this.view = new Proxy<ServicesView>({}, this.handler());
      layersOf.set(this.view, this);
    }
  }

  /** A view a full parse produced, its names in body order. */
  static of(view: ServicesView, names: readonly string[]): LayeredView {
    return new LayeredView(view, new Map(), names, true);
  }

  /** The entry's tags, undefined when the view has no such name. */
  get(name: string): string[] | undefined {
    const change = this.changes.get(name);
    if (change !== undefined) return change === null ? undefined : (change as string[]);
    return Object.hasOwn(this.base, name) ? this.base[name] : undefined;
  }

  /**
   * The next view: these entries set (tags) or removed (null), `names` its names in body order.
   * Folds into a new plain object once the changes outgrow foldAt.
   */
  next(changes: Iterable<readonly [string, Change]>, names: readonly string[]): LayeredView {
    // A view already enumerated is a plain object: the better base, with only these changes.
    // (Even with no change left, the next view is a proxy: a body may list the same entries in
    // another order, and its enumeration follows `names`, as JSON.parse of it would.)
    const onPlain = this.plainObject !== undefined && this.plainObject !== this.base;
    const base = onPlain ? this.plainObject! : this.base;
    const merged = new Map(onPlain ? undefined : this.changes);
    for (const [name, change] of changes) {
      // A name removed that the base never had needs no layer.
      if (change === null && !Object.hasOwn(base, name)) merged.delete(name);
      else merged.set(name, change);
    }
    const next = new LayeredView(base, merged, names);
    return merged.size <= foldAt(names.length) ? next : LayeredView.of(next.plain(), names);
  }

  /** The plain object: every entry in body order (JSON.parse's own order for the same body). */
  plain(): ServicesView {
    if (this.plainObject !== undefined) return this.plainObject;
    const out: ServicesView = {};
    for (const name of this.names) out[name] = this.get(name)!;
    this.plainObject = out;
    return out;
  }

  private handler(): ProxyHandler<ServicesView> {
    const own = (key: string | symbol): key is string =>
      typeof key === 'string' && this.get(key) !== undefined;
    const readOnly = (): boolean => false;
    return {
      get: (target, key, receiver) => {
        if (typeof key === 'string') {
          const tags = this.get(key);
          if (tags !== undefined) return tags;
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
      has: (target, key) => own(key) || Reflect.has(target, key),
      getOwnPropertyDescriptor: (_target, key) => {
        if (this.plainObject !== undefined)
          return Reflect.getOwnPropertyDescriptor(this.plainObject, key);
        return own(key)
          ? { value: this.get(key), writable: true, enumerable: true, configurable: true }
          : undefined;
      },
      ownKeys: () => Reflect.ownKeys(this.plain()),
      set: readOnly,
      defineProperty: readOnly,
      deleteProperty: readOnly,
      setPrototypeOf: readOnly,
      preventExtensions: readOnly,
    };
  }
}
