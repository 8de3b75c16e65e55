// Stable ordering and text rendering of plans, so a dry-run plan diffs cleanly (docs/reference.md "Reconcile and plan").
import { compareStrings } from '../translate/order.js';
import type { Change, SkippedObject } from './types.js';

const OP_ORDER = { create: 0, update: 1, delete: 2 } as const;

/**
 * The object a change is about: the Consul service ID (`<Consul namespace>/<ID>` with
 * --enable-namespaces), or namespace/name in Kubernetes.
 */
export function changeObject(change: Change): string {
  if (change.target === 'consul') {
    const r = change.registration;
    return r.namespace !== undefined ? `${r.namespace}/${r.id}` : r.id;
  }
  return change.kind === 'EndpointSlice'
    ? `${change.namespace}/${change.service ?? ''} endpointslice/${change.name}`
    : `${change.namespace}/${change.name}`;
}

/**
 * Sets (create, update) before deletes, so a service never passes through zero instances; then
 * target, then object (ID or namespace/name); ties keep their input order.
 */
export function sortChanges(changes: readonly Change[]): Change[] {
  return changes
    .map((change, index) => ({ change, index }))
    .sort((a, b) => {
      const x = a.change;
      const y = b.change;
      return (
        Number(x.op === 'delete') - Number(y.op === 'delete') ||
        compareStrings(x.target, y.target) ||
        compareStrings(changeObject(x), changeObject(y)) ||
        OP_ORDER[x.op] - OP_ORDER[y.op] ||
        compareStrings(nodeOf(x), nodeOf(y)) ||
        a.index - b.index
      );
    })
    .map((entry) => entry.change);
}

/** 'delete consul web-4f1c2a9b0c1d (k8s service shop/web deleted)'. */
export function formatChange(change: Change): string {
  return `${change.op} ${change.target} ${changeObject(change)} (${change.reason})`;
}

/** Objects left alone by target, then object: the order they are listed in. */
export function sortSkipped(skipped: readonly SkippedObject[]): SkippedObject[] {
  return [...skipped].sort(
    (a, b) => compareStrings(a.target, b.target) || compareStrings(a.object, b.object),
  );
}

/**
 * Aligned columns OP TARGET OBJECT REASON: the changes in sortChanges order, then one `skip` row
 * per object left alone on purpose (a conflict with an owner that is not us), so that the table
 * shows everything the plan decided; 'no changes' when there is neither.
 */
export function formatPlanTable(
  changes: readonly Change[],
  skipped: readonly SkippedObject[] = [],
): string {
  if (changes.length === 0 && skipped.length === 0) return 'no changes';
  const rows = [
    ['OP', 'TARGET', 'OBJECT', 'REASON'],
    ...sortChanges(changes).map((c) => [c.op, c.target, changeObject(c), c.reason]),
    ...sortSkipped(skipped).map((x) => ['skip', x.target, x.object, x.reason]),
  ];
  const widths = [0, 1, 2].map((col) => Math.max(...rows.map((row) => (row[col] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, col) => (col < 3 ? cell.padEnd(widths[col] ?? 0) : cell))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

/** 'skip kubernetes default/billing-db (service default/billing-db exists without label ...)'. */
export function formatSkipped(skipped: SkippedObject): string {
  return `skip ${skipped.target} ${skipped.object} (${skipped.reason})`;
}

function nodeOf(change: Change): string {
  return change.target === 'consul' ? change.registration.node : '';
}
