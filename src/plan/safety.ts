// The delete guard: a plan that removes too large a share of what we own is refused, because
// that is what a broken read or a wrong token looks like (SPEC.md §6).

/** Deleting more than maxRatio of the owned objects is refused; nothing owned → allowed. */
export function checkDeleteRatio(input: { deletes: number; owned: number; maxRatio: number }): {
  allowed: boolean;
  ratio: number;
  message: string;
} {
  const { deletes, owned, maxRatio } = input;
  if (owned <= 0 || deletes <= 0) {
    return {
      allowed: true,
      ratio: 0,
      message: `deleting ${deletes} of ${owned} owned objects`,
    };
  }
  const ratio = deletes / owned;
  const pct = (r: number): string => `${Math.round(r * 1000) / 10}%`;
  const allowed = ratio <= maxRatio;
  return {
    allowed,
    ratio,
    message: allowed
      ? `deleting ${deletes} of ${owned} owned objects (${pct(ratio)}), within the limit of ${pct(maxRatio)}`
      : `refusing to delete ${deletes} of ${owned} owned objects (${pct(ratio)}): more than the limit of ${pct(maxRatio)}`,
  };
}
