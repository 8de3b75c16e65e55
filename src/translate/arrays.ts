// Appending one array to another without `push(...items)`: a spread passes every item as an
// argument, and V8 throws "Maximum call stack size exceeded" past about 120,000 of them. Plans
// and warnings reach that size in a large reconcile, or for one Service with many instances
// under --max-instances-per-service=0.

/** Appends every item of `items` to `target`, in order; returns `target`. */
export function appendAll<T>(target: T[], items: readonly T[]): T[] {
  for (let i = 0; i < items.length; i++) target.push(items[i]!);
  return target;
}
