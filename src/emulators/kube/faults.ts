// Fault injection for tests: fail, delay or reset matching requests.

export interface FaultRule {
  /** HTTP method, case-insensitive; absent = any */
  method?: string;
  /** a string matches the request path (no query) exactly or as a prefix; a RegExp is tested against path + query */
  path?: string | RegExp;
  /** how many requests the rule applies to; absent = until cleared */
  times?: number;
  /** answer with this status (body: `body`, or a metav1.Status for the code) */
  status?: number;
  body?: string;
  /** destroy the connection without an answer */
  reset?: boolean;
  /** wait this long first; alone, the request then proceeds normally */
  delayMs?: number;
}

export interface FaultInjector {
  add(rule: FaultRule): void;
  clear(): void;
}

export class Faults implements FaultInjector {
  private rules: { rule: FaultRule; left: number }[] = [];

  add(rule: FaultRule): void {
    this.rules.push({ rule, left: rule.times ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.rules = [];
  }

  /** The first rule matching this request (consuming one of its `times`). */
  take(method: string, url: string): FaultRule | undefined {
    const path = url.split('?')[0] ?? url;
    for (const entry of this.rules) {
      const r = entry.rule;
      if (entry.left <= 0) continue;
      if (r.method && r.method.toUpperCase() !== method.toUpperCase()) continue;
      if (r.path instanceof RegExp) {
        r.path.lastIndex = 0;
        if (!r.path.test(url)) continue;
      } else if (typeof r.path === 'string' && !(path === r.path || path.startsWith(r.path))) {
        continue;
      }
      entry.left--;
      return r;
    }
    return undefined;
  }
}
