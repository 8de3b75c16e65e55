// The authenticated event routes and their scopes, and how their paths appear in logs.
import type { Scope } from '../auth/scopes.js';
import { scrubSecrets } from '../telemetry/logger.js';

export type RouteName = 'admission' | 'audit' | 'consulServices' | 'consulChecks' | 'reconcile';

export interface RouteDef {
  name: RouteName;
  path: string;
  scope: Scope;
  /** The handler gets the body's bytes (a Buffer) and parses them itself. */
  rawBody?: true;
}

export const ROUTES: readonly RouteDef[] = [
  { name: 'admission', path: '/k8s/admission', scope: 'k8s:admission' },
  { name: 'audit', path: '/k8s/audit', scope: 'k8s:audit' },
  // Read against the previous delivery where it can be (src/events/view-delta.ts).
  { name: 'consulServices', path: '/consul/services', scope: 'consul:watch', rawBody: true },
  { name: 'consulChecks', path: '/consul/checks', scope: 'consul:watch' },
  { name: 'reconcile', path: '/reconcile', scope: 'reconcile' },
];

/** Paths that carry nothing after them and are logged as they are. */
const PLAIN_PATHS = new Set(['/healthz', '/readyz', '/metrics', ...ROUTES.map((r) => r.path)]);

/**
 * A request path for logs: whatever follows an event path (a raw JWT, or the base32 segments of
 * a path token, which no JWT pattern would catch) is never written out, and neither is anything
 * after the first segment of a path that is not ours (a path token sent to a mistyped path,
 * `/k8s/admissions/<token>`, is still a token). Express matches routes case-insensitively, so
 * this does too.
 */
export function redactPath(path: string): string {
  const lower = path.toLowerCase();
  for (const route of ROUTES) {
    if (lower.startsWith(route.path + '/') && path.length > route.path.length + 1) {
      return `${path.slice(0, route.path.length)}/[REDACTED]`;
    }
  }
  if (PLAIN_PATHS.has(lower)) return path;
  const second = path.indexOf('/', 1);
  const first = scrubSecrets(second === -1 ? path : path.slice(0, second)).slice(0, 64);
  return second === -1 || second === path.length - 1 ? first : `${first}/[REDACTED]`;
}
