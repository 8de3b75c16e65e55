// GET /healthz every 50 ms from its own process (its own event loop and CPU share: the driver
// building a 400-event batch never delays a poll), timing each answer. The parent (suite.ts)
// sends the settings first, then switches the target URL (`{ url }`), pauses and resumes it,
// asks for the figures (`{ report: true }`) and stops it (`{ stop: true }`), over IPC.
import http from 'node:http';

export interface PollerData {
  url: string;
  everyMs: number;
  limitMs: number;
}

export interface PollerMessage {
  url?: string;
  pause?: boolean;
  resume?: boolean;
  report?: boolean;
  stop?: boolean;
}

export interface SlowPoll {
  /** performance.timeOrigin + performance.now() when the poll was sent (ms since the epoch). */
  at: number;
  ms: number;
  status: number;
  error?: string;
}

export interface PollerReport {
  polls: number;
  maxMs: number;
  p50Ms: number;
  p99Ms: number;
  /** Polls slower than the limit, or failed: up to the first 200. */
  slow: SlowPoll[];
  slowCount: number;
}

let data: PollerData = { url: 'http://127.0.0.1:1', everyMs: 50, limitMs: 100 };
let target = new URL(data.url);
let started = false;
let agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const times: number[] = [];
const slow: SlowPoll[] = [];
let slowCount = 0;
let stopped = false;
/** No serve to poll (between two serve processes). */
let paused = false;

const now = (): number => performance.timeOrigin + performance.now();

function poll(): Promise<void> {
  return new Promise((resolve) => {
    const at = now();
    const started = performance.now();
    let settled = false;
    const done = (status: number, error?: string): void => {
      if (settled) return;
      settled = true;
      const ms = performance.now() - started;
      times.push(ms);
      if (ms > data.limitMs || status !== 200) {
        slowCount++;
        if (slow.length < 200) slow.push({ at, ms, status, ...(error ? { error } : {}) });
      }
      resolve();
    };
    const req = http.get(
      { host: target.hostname, port: target.port, path: '/healthz', agent, timeout: 2000 },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
        res.on('error', (e) => done(0, e.message));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      done(0, 'timeout (2 s)');
    });
    req.on('error', (e) => done(0, (e as NodeJS.ErrnoException).code ?? e.message));
  });
}

async function loop(): Promise<void> {
  let next = performance.now();
  while (!stopped) {
    if (!paused) await poll();
    next += data.everyMs;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else next = performance.now();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

process.on('message', (msg: PollerMessage & { start?: PollerData }) => {
  if (msg.start) {
    data = msg.start;
    target = new URL(data.url);
    if (!started) {
      started = true;
      void loop();
    }
  }
  if (msg.pause) paused = true;
  if (msg.resume) paused = false;
  if (msg.url) {
    target = new URL(msg.url);
    agent.destroy();
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    paused = false;
  }
  if (msg.stop) stopped = true;
  if (msg.report || msg.stop) {
    const sorted = [...times].sort((a, b) => a - b);
    const report: PollerReport = {
      polls: times.length,
      maxMs: sorted[sorted.length - 1] ?? 0,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      slow,
      slowCount,
    };
    process.send?.(report);
  }
  if (msg.stop) {
    agent.destroy();
    setImmediate(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
