// "Did you mean …?": the known names nearest to a mistyped flag or command.

/** Levenshtein distance: insertions, deletions and substitutions, one each. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidates a user most likely meant by `word`, best first, at most `max`: names within a
 * few edits (a third of the word's length, at least two), then names one is a part of the other
 * (`k8s-tag` → `consul-k8s-tag`; three characters or more), that start the same way, or that hold
 * every dash-separated part of the word in order (`consul-addr` → `consul-http-addr`).
 */
export function suggest(word: string, candidates: readonly string[], max = 3): string[] {
  const w = word.toLowerCase();
  if (w.length === 0) return [];
  const limit = Math.max(2, Math.floor(w.length / 3));
  const scored: { name: string; score: number }[] = [];
  for (const name of new Set(candidates)) {
    const n = name.toLowerCase();
    if (n === w) continue;
    const distance = editDistance(w, n);
    let score: number;
    if (distance <= limit) score = distance;
    else if (
      n.startsWith(w) ||
      (w.length >= 3 && (n.includes(w) || w.includes(n))) ||
      holdsParts(n, w)
    )
      score = limit + 1 + Math.abs(n.length - w.length) / 100;
    else continue;
    scored.push({ name, score });
  }
  return scored
    .sort((a, b) => a.score - b.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, max)
    .map((s) => s.name);
}

/** Whether `name` holds every dash-separated part of `word` (two or more), in order. */
function holdsParts(name: string, word: string): boolean {
  const parts = word.split('-').filter((p) => p.length > 0);
  if (parts.length < 2) return false;
  const have = name.split('-');
  let at = 0;
  for (const part of parts) {
    at = have.indexOf(part, at);
    if (at < 0) return false;
    at++;
  }
  return true;
}

/** `; did you mean --a?` / `; did you mean --a or --b?`, or '' when there is nothing near. */
export function didYouMean(names: readonly string[], prefix = ''): string {
  if (names.length === 0) return '';
  const quoted = names.map((n) => `${prefix}${n}`);
  const last = quoted.pop()!;
  return `; did you mean ${quoted.length ? `${quoted.join(', ')} or ${last}` : last}?`;
}
