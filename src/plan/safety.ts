// The delete guard: a plan that removes too large a share of what we own is refused, because
// that is what a broken read or a wrong token looks like (docs/reference.md "Ownership and safety"). It guards against mass
// deletions only: a plan deleting at most `minDeletes` objects always passes, so removing the
// last few synced services does not need --force.

/** Default of --delete-guard-min: the guard engages only above this many deletions. */
export const DEFAULT_DELETE_GUARD_MIN = 10;

/**
 * Deleting more than maxRatio of the owned objects is refused, when more than minDeletes
 * objects would be deleted; nothing owned → allowed.
 */
export function checkDeleteRatio(input: {
  deletes: number;
  owned: number;
  maxRatio: number;
  minDeletes?: number;
}): {
  allowed: boolean;
  ratio: number;
  message: string;
} {
  const { deletes, owned, maxRatio } = input;
  const minDeletes = input.minDeletes ?? 0;
  if (owned <= 0 || deletes <= 0) {
    return {
      allowed: true,
      ratio: 0,
      message: `deleting ${deletes} of ${owned} owned objects`,
    };
  }
  const ratio = deletes / owned;
  const pct = (r: number): string => `${Math.round(r * 1000) / 10}%`;
  if (deletes <= minDeletes) {
    return {
      allowed: true,
      ratio,
      message: `deleting ${deletes} of ${owned} owned objects (${pct(ratio)}): not more than ${minDeletes}, below the guard's threshold`,
    };
  }
  const allowed = ratio <= maxRatio;
  return {
    allowed,
    ratio,
    message: allowed
      ? `deleting ${deletes} of ${owned} owned objects (${pct(ratio)}), within the limit of ${pct(maxRatio)}`
      : `refusing to delete ${deletes} of ${owned} owned objects (${pct(ratio)}): more than the limit of ${pct(maxRatio)}`,
  };
}

/**
 * A plan made from a read that Consul filtered by ACLs (or any other partial read) keeps its
 * creates and updates but deletes nothing: what the read did not show may well exist.
 */
export function withholdDeletes<C extends { op: 'create' | 'update' | 'delete' }>(
  changes: readonly C[],
): { changes: C[]; withheld: C[] } {
  const kept: C[] = [];
  const withheld: C[] = [];
  for (const c of changes) (c.op === 'delete' ? withheld : kept).push(c);
  return { changes: kept, withheld };
}
