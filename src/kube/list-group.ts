// Grouped reads of one namespace's objects by a label (the EndpointSlices of several Services,
// by `kubernetes.io/service-name`). While one list of a namespace is in flight, the names asked
// for meanwhile wait for it and are then read together in one list with a set-based selector
// (`key in (a,b,c)`). The API server reads a namespace's objects once per list whatever the
// selector, so a burst of EndpointSlice reviews in one namespace (a rollout) costs it one list
// instead of one per Service. A quiet path lists at once, by equality, as before.
//
// Every answer is read after its name was asked for, so it is never older than a list made
// alone at that moment. A failed list fails every name it carried, as each would have failed.

/** Lists a namespace's objects whose label `key` is one of `values`. */
export type ListByLabel<T> = (namespace: string, selector: string) => Promise<T[]>;

interface Waiting<T> {
  name: string;
  resolve(items: T[]): void;
  reject(err: unknown): void;
}

interface Lane<T> {
  waiting: Waiting<T>[];
  busy: boolean;
}

/** Names read in one list at most (a selector stays well within a URL's length). */
export const MAX_NAMES_PER_LIST = 50;

export class GroupedLabelLists<T> {
  private readonly lanes = new Map<string, Lane<T>>();

  constructor(
    private readonly key: string,
    private readonly list: ListByLabel<T>,
    private readonly labelOf: (item: T) => string | undefined,
    private readonly maxNames = MAX_NAMES_PER_LIST,
  ) {}

  /** The namespace's objects whose label is `name`, read in the next list of that namespace. */
  read(namespace: string, name: string): Promise<T[]> {
    return new Promise<T[]>((resolve, reject) => {
      let lane = this.lanes.get(namespace);
      if (!lane) {
        lane = { waiting: [], busy: false };
        this.lanes.set(namespace, lane);
      }
      lane.waiting.push({ name, resolve, reject });
      if (!lane.busy) void this.drain(namespace, lane);
    });
  }

  private async drain(namespace: string, lane: Lane<T>): Promise<void> {
    lane.busy = true;
    while (lane.waiting.length > 0) {
      // The first `maxNames` distinct names, with everyone waiting for one of them.
      const names = new Set<string>();
      const batch: Waiting<T>[] = [];
      const rest: Waiting<T>[] = [];
      for (const w of lane.waiting) {
        if (names.has(w.name) || names.size < this.maxNames) {
          names.add(w.name);
          batch.push(w);
        } else rest.push(w);
      }
      lane.waiting = rest;
      await this.settle(namespace, [...names], batch);
    }
    lane.busy = false;
    this.lanes.delete(namespace);
  }

  private async settle(namespace: string, names: string[], batch: Waiting<T>[]): Promise<void> {
    let items: T[];
    try {
      items = await this.list(namespace, selectorFor(this.key, names));
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    const byName = new Map<string, T[]>(names.map((n) => [n, []]));
    for (const item of items) byName.get(this.labelOf(item) ?? '')?.push(item);
    for (const w of batch) w.resolve([...byName.get(w.name)!]);
  }
}

/** `key=value` for one name (as a list made alone), `key in (a,b)` for several. */
export function selectorFor(key: string, names: readonly string[]): string {
  if (names.length === 1) return `${key}=${names[0]!}`;
  return `${key} in (${names.join(',')})`;
}
