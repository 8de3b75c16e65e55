// The one string order of the product: by UTF-16 code unit, as `<` compares. Never
// localeCompare: plans, IDs and listings must sort the same on every host and locale.

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
