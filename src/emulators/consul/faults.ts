// Fault injection for the emulator's HTTP layer: matching requests get a canned status/body,
// a socket reset or a delay, a given number of times (or until cleared).
import type { IncomingMessage } from 'node:http';

export interface FaultRule {
  /** HTTP method to match (case-insensitive); any when absent. */
  method?: string;
  /** A string matches the URL path exactly; a RegExp is tested against path + query string. */
  path?: string | RegExp;
  /** How many matching requests the rule applies to; forever when absent. */
  times?: number;
  /** Answer with this status (text/plain body `body`, default empty). */
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
  private rules: { rule: FaultRule; remaining: number }[] = [];

  add(rule: FaultRule): void {
    this.rules.push({ rule: { ...rule }, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.rules = [];
  }

  /** The first rule matching the request (consuming one of its `times`), if any. */
  take(req: IncomingMessage, pathname: string): FaultRule | undefined {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? pathname;
    for (let i = 0; i < this.rules.length; i++) {
      const entry = this.rules[i];
      if (entry === undefined) continue;
      const { rule } = entry;
      if (rule.method !== undefined && rule.method.toUpperCase() !== method) continue;
      if (typeof rule.path === 'string' && rule.path !== pathname) continue;
      if (rule.path instanceof RegExp) {
        rule.path.lastIndex = 0;
        if (!rule.path.test(url)) continue;
      }
      entry.remaining--;
      if (entry.remaining <= 0) this.rules.splice(i, 1);
      return rule;
    }
    return undefined;
  }
}
