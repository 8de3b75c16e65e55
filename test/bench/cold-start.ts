// Scenario cold-start (issue 18): how long a new `serve` process takes, as a serverless platform
// or a rolling Deployment starts it, to answer its first `GET /healthz` and its first
// authenticated admission review (a real Consul write), against a bare express app spawned the
// same way (node on a compiled file, no tsx) that answers `/healthz` and the same review with one
// PUT /v1/txn. Each run is a fresh process polled from the moment it is spawned; runs alternate
// ours / floor so both see the same machine noise. Then serve's RSS: idle 5 s after start, and
// after 1,000 admissions.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import jwt from 'jsonwebtoken';
import { EmulatorHost } from './emulators.js';
import { BENCH_SYNC_ID, eventAt, eventPool } from './fixtures.js';
import { runLoad } from './load.js';
import {
  BUNDLE_DIR,
  BUNDLE_ENTRY,
  buildCompiled,
  cleanEnv,
  imageNodeOptions,
  memoryOf,
  REPO_ROOT,
  startServe,
  waitFor200,
} from './procs.js';
import { atMost, mb, ms, ratio, type Row, type ScenarioResult, type Target } from './report.js';

export interface ColdStartOptions {
  /** Runs of each kind (fresh processes): issue 18 asks for at least 10. */
  runs: number;
  /** Admissions before the second RSS figure (issue 18: 1,000). */
  admissions?: number;
  /** How long serve sits idle before the idle RSS is read (issue 18: 5 s). */
  idleMs?: number;
}

const RATIO_TARGET = 2;
const IDLE_RSS_TARGET = 80 * 1024 * 1024;
const LOADED_RSS_TARGET = 120 * 1024 * 1024;
const POLL_MS = 2;

/** A port nothing listens on now (the OS's next ephemeral one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One request on a fresh connection; rejects when nothing listens yet. */
function attempt(
  port: number,
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Started {
  /** From spawn() to the first 200, ms. */
  ms: number;
  child: ChildProcess;
}

/** Spawns `args` and sends the request every POLL_MS until it is answered 200. */
async function timeToFirst200(
  args: string[],
  port: number,
  request: { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string },
): Promise<Started> {
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    // Both as the image runs node: with its NODE_OPTIONS (the floor too, so only the code differs).
    env: { ...cleanEnv(), NODE_OPTIONS: imageNodeOptions() },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  for (;;) {
    if (exited !== undefined) throw new Error(`${args.join(' ')} exited ${exited}: ${stderr}`);
    if (performance.now() - started > 30_000) {
      child.kill('SIGKILL');
      throw new Error(`${args.join(' ')}: no 200 within 30 s: ${stderr}`);
    }
    try {
      const status = await attempt(
        port,
        request.method,
        request.path,
        request.headers,
        request.body,
      );
      if (status === 200) return { ms: performance.now() - started, child };
    } catch {
      // not listening yet
    }
    await sleep(POLL_MS);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

function summary(values: readonly number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)! };
}

const spread = (s: { median: number; min: number; max: number }): string =>
  `${ms(s.median)} (${ms(s.min)}–${ms(s.max)})`;

export async function runColdStart(options: ColdStartOptions): Promise<ScenarioResult> {
  const runs = options.runs;
  const admissions = options.admissions ?? 1000;
  const idleMs = options.idleMs ?? 5000;
  const dir = await buildCompiled();
  const host = await EmulatorHost.start();
  const keyDir = mkdtempSync(join(tmpdir(), 'bench-cold-'));
  const secretFile = join(keyDir, 'jwt-hmac-key');
  const secret = randomBytes(32).toString('hex');
  writeFileSync(secretFile, secret, { mode: 0o600 });
  const token = jwt.sign(
    { iss: 'k8s-consul-sync', aud: 'k8s-consul-sync', sub: 'bench', scope: 'k8s:admission' },
    secret,
    { algorithm: 'HS256' },
  );
  const pool = eventPool(Math.max(admissions, 60));
  const times = { oursHealthz: [] as number[], floorHealthz: [] as number[] };
  const admit = { ours: [] as number[], floor: [] as number[] };
  let idleRss = 0;
  let loadedRss = 0;
  let loadFailures = 0;
  try {
    await host.call({ type: 'seed-events', perKind: pool.perKind });
    const consul = host.started.clientConsulAddress;
    const ours = (port: number): string[] => [
      join(dir, BUNDLE_DIR, BUNDLE_ENTRY),
      'serve',
      '--insecure-http',
      `--listen=127.0.0.1:${port}`,
      `--auth-jwt-secret-file=${secretFile}`,
      `--consul-http-addr=${consul}`,
      `--kubeconfig=${host.started.kubeconfigPath}`,
      `--sync-id=${BENCH_SYNC_ID}`,
      '--confirm-after=',
      '--log-level=warn',
    ];
    const floor = (port: number): string[] => [
      join(dir, 'dist', 'test', 'bench', 'baseline-server.js'),
      `--listen=127.0.0.1:${port}`,
      `--consul=${consul}`,
    ];
    const healthz = { method: 'GET' as const, path: '/healthz', headers: {} };
    for (let i = -1; i < runs; i++) {
      // One unmeasured round warms the file cache. Then the review of a service of the seeded
      // pool (a real write: each run a new generation of it).
      const review = eventAt(pool, i + 1, 'c0ld0000');
      const post = {
        method: 'POST' as const,
        path: '/k8s/admission',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
        },
        body: review.body,
      };
      for (const [name, argsOf] of [
        ['ours', ours],
        ['floor', floor],
      ] as const) {
        const port1 = await freePort();
        const first = await timeToFirst200(argsOf(port1), port1, healthz);
        await stop(first.child);
        const port2 = await freePort();
        const second = await timeToFirst200(argsOf(port2), port2, post);
        await stop(second.child);
        if (i < 0) continue;
        (name === 'ours' ? times.oursHealthz : times.floorHealthz).push(first.ms);
        admit[name].push(second.ms);
      }
    }
    // RSS: idle, then after the admissions (authentication off: the figure is the event path's).
    const serve = await startServe({
      consulAddress: consul,
      kubeconfigPath: host.started.kubeconfigPath,
      flags: [`--sync-id=${BENCH_SYNC_ID}`, '--confirm-after=', '--log-level=warn'],
      compiledDir: dir,
    });
    try {
      await waitFor200(`${serve.url}/readyz`);
      await sleep(idleMs);
      idleRss = memoryOf(serve.pid)?.rss ?? 0;
      const res = await runLoad(
        `${serve.url}/k8s/admission`,
        (i) => eventAt(pool, i, 'c0ld1000'),
        0,
        admissions,
        16,
        (_i, status) => (status === 200 ? undefined : `status ${status}`),
      );
      loadFailures = res.failures.length;
      await sleep(1000);
      loadedRss = memoryOf(serve.pid)?.rss ?? 0;
    } finally {
      await serve.stop();
    }
  } finally {
    await host.close();
    rmSync(keyDir, { recursive: true, force: true });
  }
  const oh = summary(times.oursHealthz);
  const fh = summary(times.floorHealthz);
  const oa = summary(admit.ours);
  const fa = summary(admit.floor);
  const ratios = { healthz: ratio(oh.median, fh.median), admission: ratio(oa.median, fa.median) };
  const targets: Target[] = [
    atMost('spawn → first /healthz, median / floor', ratios.healthz, RATIO_TARGET),
    atMost('spawn → first answered admission, median / floor', ratios.admission, RATIO_TARGET),
    atMost('idle RSS, built (bytes; 80 MiB)', idleRss, IDLE_RSS_TARGET),
    atMost(`RSS after ${admissions} admissions (bytes; 120 MiB)`, loadedRss, LOADED_RSS_TARGET),
  ];
  const rows: Row[] = [
    {
      metric: `spawn → first authenticated admission answered (a Consul write), median (min–max) of ${runs} fresh processes; floor: a bare express app on a compiled file answering the same review with one PUT /v1/txn`,
      ours: spread(oa),
      baseline: spread(fa),
      ratio: ratios.admission,
      target: `<= ${RATIO_TARGET}×`,
      met: ratios.admission <= RATIO_TARGET,
    },
    {
      metric: `spawn → first \`/healthz\` 200, median (min–max) of ${runs}`,
      ours: spread(oh),
      baseline: spread(fh),
      ratio: ratios.healthz,
      target: `<= ${RATIO_TARGET}×`,
      met: ratios.healthz <= RATIO_TARGET,
    },
    {
      metric: `serve RSS idle (built, ${idleMs / 1000} s after start)`,
      ours: mb(idleRss),
      target: '<= 80 MiB',
      met: idleRss <= IDLE_RSS_TARGET,
    },
    {
      metric: `serve RSS after ${admissions} admissions (16 in flight)${loadFailures ? `, ${loadFailures} failed` : ''}`,
      ours: mb(loadedRss),
      target: '<= 120 MiB',
      met: loadedRss <= LOADED_RSS_TARGET,
    },
  ];
  return {
    scenario: 'cold-start',
    params: { runs, admissions, idleMs, pollMs: POLL_MS },
    figures: {
      healthzMs: { ours: times.oursHealthz, floor: times.floorHealthz },
      admissionMs: admit,
      idleRssBytes: idleRss,
      loadedRssBytes: loadedRss,
      loadFailures,
    },
    ratios,
    targets,
    rows,
    checks: { loadFailures },
  };
}
