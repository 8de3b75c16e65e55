// The load generator: POSTs pre-built bodies over keep-alive HTTP (node:http Agent) with a fixed
// number of requests in flight, timing each from the first byte written to the last byte read.
import http from 'node:http';

export interface LoadItem {
  /** Items with the same key are never in flight at once, and run in sequence order. */
  key: string;
  body: string;
}

export interface LoadResult {
  latenciesMs: number[];
  /** The item index of each latency (same order). */
  indexes: number[];
  wallMs: number;
  /** Answers that were not 200 or failed the check. */
  failures: string[];
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

/**
 * How a latency grows along a run whose size grows by one per sample (e2e-lag: one more Consul
 * service per change): the p50 of each tenth of the samples, and the least-squares slope
 * through those ten medians, in ms per 1,000 samples. Medians of tenths keep a burst of machine
 * noise from tilting the line as it tilts a first/last-tenth ratio.
 */
export function growthOf(latenciesMs: readonly number[]): {
  tenthsP50Ms: number[];
  slopeMsPer1000: number;
} {
  const n = latenciesMs.length;
  if (n < 10) return { tenthsP50Ms: [], slopeMsPer1000: NaN };
  const xs: number[] = [];
  const ys: number[] = [];
  for (let d = 0; d < 10; d++) {
    const from = Math.floor((d * n) / 10);
    const to = Math.floor(((d + 1) * n) / 10);
    xs.push((from + to - 1) / 2);
    ys.push(summarize(latenciesMs.slice(from, to)).p50);
  }
  const mx = xs.reduce((a, b) => a + b, 0) / 10;
  const my = ys.reduce((a, b) => a + b, 0) / 10;
  let num = 0;
  let den = 0;
  for (let i = 0; i < 10; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return { tenthsP50Ms: ys, slopeMsPer1000: (num / den) * 1000 };
}

function post(
  agent: http.Agent,
  url: URL,
  body: string,
): Promise<{ status: number; text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Sends items[from..to) to `url` with `concurrency` requests in flight. `check` validates each
 * answer (returns an error text or undefined). A fresh agent per call: no idle socket from an
 * earlier chunk is reused after the server may have timed it out.
 */
export async function runLoad(
  url: string,
  items: (i: number) => LoadItem,
  from: number,
  to: number,
  concurrency: number,
  check: (i: number, status: number, text: string) => string | undefined,
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  const latenciesMs: number[] = [];
  const indexes: number[] = [];
  const failures: string[] = [];
  const busy = new Map<string, Promise<void>>();
  let next = from;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < to) {
      const i = next++;
      const item = items(i);
      // Wait for an earlier event of the same service (its order matters).
      for (let b = busy.get(item.key); b; b = busy.get(item.key)) await b;
      let done!: () => void;
      busy.set(item.key, new Promise<void>((r) => (done = r)));
      try {
        const res = await post(agent, target, item.body);
        latenciesMs.push(res.ms);
        indexes.push(i);
        const problem = check(i, res.status, res.text);
        if (problem) failures.push(`#${i}: ${problem}`);
      } catch (err) {
        failures.push(`#${i}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        busy.delete(item.key);
        done();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - started;
  agent.destroy();
  return { latenciesMs, indexes, wallMs, failures };
}
