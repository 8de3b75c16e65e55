// Fault injection for the emulators' HTTP layers (tests): matching requests get a canned
// status/body, a socket reset or a delay, a given number of times (or until cleared).

export interface FaultRule {
  /** HTTP method, case-insensitive; absent = any. */
  method?: string;
  /**
   * A string matches the request path (no query): exactly (Consul emulator) or also as a prefix
   * (Kubernetes emulator). A RegExp is tested against path + query string.
   */
  path?: string | RegExp;
  /** How many matching requests the rule applies to; absent = until cleared. */
  times?: number;
  /** Answer with this status (and `body`, or the emulator's own error body for the code). */
  status?: number;
  body?: string;
  /** Destroy the socket without an answer (the client sees ECONNRESET / socket hang up). */
  reset?: boolean;
  /** Wait this long first; then apply reset/status, or handle the request normally. */
  delayMs?: number;
}

export interface FaultInjector {
  add(rule: FaultRule): void;
  clear(): void;
}

export class Faults implements FaultInjector {
  private rules: { rule: FaultRule; left: number }[] = [];

  constructor(private readonly pathMatch: 'exact' | 'prefix') {}

  add(rule: FaultRule): void {
    this.rules.push({ rule: { ...rule }, left: rule.times ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.rules = [];
  }

  /** The first rule matching this request (consuming one of its `times`), if any. */
  take(method: string, url: string): FaultRule | undefined {
    const path = url.split('?')[0] ?? url;
    for (const entry of this.rules) {
      const r = entry.rule;
      if (entry.left <= 0) continue;
      if (r.method && r.method.toUpperCase() !== method.toUpperCase()) continue;
      if (r.path instanceof RegExp) {
        r.path.lastIndex = 0;
        if (!r.path.test(url)) continue;
      } else if (typeof r.path === 'string') {
        const matches = path === r.path || (this.pathMatch === 'prefix' && path.startsWith(r.path));
        if (!matches) continue;
      }
      entry.left--;
      return r;
    }
    return undefined;
  }
}
