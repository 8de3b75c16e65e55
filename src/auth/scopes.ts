// The scopes a caller can hold (docs/reference.md "HTTP API"), one per authenticated endpoint, and the parsing of
// the JWT `scope` claim (RFC 8693 §4.2: space-separated; arrays accepted as some issuers send).

export const SCOPES = ['k8s:admission', 'k8s:audit', 'consul:watch', 'reconcile'] as const;
export type Scope = (typeof SCOPES)[number];

const KNOWN = new Set<string>(SCOPES);

export function isScope(value: string): value is Scope {
  return KNOWN.has(value);
}

/**
 * The known scopes granted by a `scope` claim: a space-separated string or an array of strings.
 * Unknown entries are ignored; anything else (missing, number, object) grants nothing.
 */
export function parseScopeClaim(claim: unknown): Scope[] {
  let items: unknown[];
  if (typeof claim === 'string') items = claim.split(/\s+/);
  else if (Array.isArray(claim)) items = claim;
  else return [];
  const scopes: Scope[] = [];
  for (const item of items) {
    if (typeof item === 'string' && isScope(item) && !scopes.includes(item)) scopes.push(item);
  }
  return scopes;
}
