// The fuzz run (issue 20): a real `serve` process (spawned as test/bench/procs.ts does, with JWT
// authentication: an HMAC key file, tokens minted with src/auth/mint.ts) against the Consul and
// Kubernetes emulators in their own process, a seeded world, and fast-check-generated hostile
// requests to every endpoint (cases.ts), each checked by the oracle (oracle.ts).
//
// Phase A, attribution: serve with `--confirm-after=` (confirmations off: they read stored state
// and may write 1 s and 5 s after an admission, which would blur attribution), one request at a
// time; the emulators' request counters are read and reset before and after each request, so
// every write is the request's own, and the catalogs are diffed whenever something was written.
// Backend faults are injected in a few windows (which ones: FAULTS); only inside a window may
// audit, view, reconcile and /readyz answer 503, with a backend error code. After each window the
// suite waits for both breakers to close and for the writes of the recovery to finish.
// Phase B, concurrency: a second serve with confirmations on (shortened to 250ms,1s so they run
// within the phase), 8 requests in flight; answers are checked, writes are not attributed.
// Throughout: GET /healthz every 50 ms from a worker thread (healthz-poller.ts), serve's RSS
// sampled every 100 ms, serve's log scanned at the end of each phase.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fork, type ChildProcess } from 'node:child_process';
import {
  buildCompiled,
  memoryOf,
  sampleRss,
  startServe,
  waitFor200,
  type ServeProcess,
} from '../bench/procs.js';
import { validateEndpointSlice, validateService } from '../../src/events/validate.js';
import { encodePathToken } from '../../src/auth/path-token.js';
import {
  ENDPOINTS,
  build,
  generateSpecs,
  type BuildContext,
  type Built,
  type Spec,
} from './cases.js';
import { EmulatorHost, writesOf, type Change, type Counts, type HostFault } from './host-client.js';
import {
  check,
  consulIndexOf,
  expectFor,
  viewMayBeStale,
  type Finding,
  type Observed,
  type ViewState,
} from './oracle.js';
import { createSender, type Sender } from './http.js';
import type { PollerData, PollerMessage, PollerReport } from './healthz-poller.js';
import { INVALID_SERVICE_EDITS, INVALID_SLICE_EDITS } from './invalid.js';
import { createCredentials, type Credentials } from './tokens.js';
import { SYNC_NODE, WRITE_NAMESPACE, consulRegistrations, kubeObjects } from './world.js';

export interface FuzzOptions {
  seed: number;
  count: number;
  /** Run only this request (of the sequence for `seed`) against a fresh world. */
  replay?: number;
  /** Share of `count` run in phase B (concurrent, confirmations on). Default 0.15. */
  concurrentShare?: number;
  concurrency?: number;
  /** Inject backend faults in phase A (default true). */
  faults?: boolean;
  /** Run serve compiled (as the Dockerfile does) instead of through tsx. */
  compiled?: boolean;
  healthzLimitMs?: number;
  /** RSS after the run (idle, after a forced GC) may exceed the idle figure by this share. */
  rssTolerance?: number;
  /** How long serve is left idle before each RSS reading. */
  idleMs?: number;
  /** Extra flags for both serve processes (another configuration, or checking the oracle). */
  serveFlags?: string[];
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
}

export interface Violation {
  class: string;
  index: number;
  phase: 'A' | 'B' | 'run';
  detail: string;
  /** One line that says what was sent (credential and tokens shown by name, not value). */
  request: string;
  /** The request in full (body cut at 4 KiB), for the JSON report. */
  full?: {
    method: string;
    path: string;
    headers: Record<string, string>;
    body?: string;
    bytes?: number;
  };
  replay?: string;
}

export interface RssFigures {
  /**
   * Idle after warm-up, after a forced GC: the baseline. Phase A's warm-up is its first
   * `WARM_UP` requests (every family has been served: JIT code, connection pools and schemas
   * built on first use are not a leak); phase B's is taken at its start.
   */
  idle: number;
  /** Idle right after start, for the record. */
  idleAtStart?: number;
  /** Highest sample during the phase. */
  peak: number;
  /** Idle after the phase, before the forced GC. */
  afterIdle: number;
  /** Idle after the phase, after a forced GC (the figure compared with `idle`). */
  after: number;
}

export interface FuzzReport {
  seed: number;
  count: number;
  serve: 'tsx' | 'compiled';
  durationMs: number;
  phases: {
    A: { requests: number; flags: string[]; faultWindows: FaultWindow[] };
    B: { requests: number; flags: string[]; concurrency: number };
  };
  /** `endpoint status` → count, e.g. `admission 200`. */
  byEndpointStatus: Record<string, number>;
  byFamily: Record<string, number>;
  /** Phase A: requests that wrote to Consul or Kubernetes, by family. */
  wroteByFamily: Record<string, number>;
  /** Writes seen between requests in phase A (breaker recoveries), by kind. */
  backgroundWrites: Record<string, number>;
  healthz: PollerReport & { limitMs: number };
  rss: { A?: RssFigures; B?: RssFigures; tolerance: number };
  log: { A?: LogSummary; B?: LogSummary };
  notes: string[];
  violations: Violation[];
  violationClasses: { class: string; count: number; first: Violation }[];
}

export interface FaultWindow {
  name: string;
  from: number;
  to: number;
  /** Answers with 503 and a backend code during the window (allowed). */
  declared503: number;
}

export interface LogSummary {
  lines: number;
  byLevel: Record<string, number>;
  errorEvents: Record<string, number>;
}

/** Backend faults of phase A, in the order their windows come (cycled). */
const FAULTS: { name: string; consul?: HostFault[]; kube?: HostFault[] }[] = [
  {
    name: 'Consul: PUT /v1/txn answers 500',
    consul: [{ method: 'PUT', path: '/v1/txn', status: 500, body: 'rpc error: leadership lost' }],
  },
  {
    name: 'Kubernetes: every write answers 503',
    kube: ['POST', 'PUT', 'PATCH', 'DELETE'].map((method) => ({
      method,
      path: '/api',
      status: 503,
    })),
  },
  {
    name: 'Consul: every request reset',
    consul: [{ pathRegex: '^/v1/(?!.*[?&]fuzz-host=1)', reset: true }],
  },
  {
    name: 'Kubernetes: every request reset',
    kube: [{ pathRegex: '^/(?!.*[?&]fuzz-host=1)', reset: true }],
  },
];

const GC_HOOK = `data:text/javascript,${encodeURIComponent(
  "process.on('SIGUSR2',()=>{globalThis.gc?.();});",
)}`;

// Kubernetes Events (--emit-events) are written after the answer and would be attributed to a
// later request's writes; the oracle models the sync's writes (Events: test/sync/events.int.test.ts).
const SERVE_FLAGS_A = ['--confirm-after=', '--emit-events=false'];
const SERVE_FLAGS_B = ['--confirm-after=250ms,1s', '--emit-events=false'];
const MAX_VIOLATIONS_KEPT = 2000;
/** Requests served before phase A's idle baseline is taken. */
const WARM_UP = 500;

/** The path as sent, with a token the credential put in it shown by name. */
function shownPath(b: Built): string {
  const q = b.path.indexOf('?');
  const bare = q < 0 ? b.path : b.path.slice(0, q);
  const query = q < 0 ? '' : b.path.slice(q);
  if (b.base === undefined || bare === b.base) return b.path;
  return `${b.base}/<${b.cred}>${query}`;
}

function redactedLine(b: Built): string {
  const path = shownPath(b);
  const auth = b.headers.authorization !== undefined ? ` [authorization: <${b.cred}>]` : '';
  const extra = Object.entries(b.headers)
    .filter(([k]) => k !== 'authorization' && k !== 'content-type')
    .map(([k, v]) => ` [${k}: ${v.slice(0, 40)}]`)
    .join('');
  const type = b.headers['content-type'] ? ` [${b.headers['content-type']}]` : '';
  const size =
    b.announce !== undefined
      ? ` announcing ${b.announce} B, sending ${b.body?.length ?? 0}`
      : b.body
        ? ` ${b.body.length} B`
        : '';
  const excerpt =
    b.text !== undefined && b.text.length > 0
      ? ` ${b.text.slice(0, 240)}${b.text.length > 240 ? '…' : ''}`
      : '';
  return `${b.method} ${path.slice(0, 200)}${auth}${type}${extra}${size} — ${b.label}${excerpt ? ` — body:${excerpt}` : ''}`;
}

function fullRequest(b: Built): NonNullable<Violation['full']> {
  const headers = { ...b.headers };
  if (headers.authorization) headers.authorization = `<${b.cred}>`;
  const path = shownPath(b);
  return {
    method: b.method,
    path,
    headers,
    ...(b.text !== undefined ? { body: b.text.slice(0, 4096) } : {}),
    ...(b.body ? { bytes: b.body.length } : {}),
  };
}

/** A log field as text (objects as JSON). */
const field = (v: unknown): string =>
  v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);

function summarizeLog(
  file: string,
  secrets: string[],
  phase: 'A' | 'B',
  /** The request that sent a path, when the suite sent a token in it. */
  sentPath: (path: string) => Built | undefined,
  seed: number,
): {
  summary: LogSummary;
  findings: Violation[];
} {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { summary: { lines: 0, byLevel: {}, errorEvents: {} }, findings: [] };
  }
  const summary: LogSummary = { lines: 0, byLevel: {}, errorEvents: {} };
  const findings: Violation[] = [];
  const stray: string[] = [];
  const levels: Record<number, string> = {
    10: 'trace',
    20: 'debug',
    30: 'info',
    40: 'warn',
    50: 'error',
    60: 'fatal',
  };
  const leaked = new Map<string, Built | undefined>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    summary.lines++;
    let entry: Record<string, unknown> | undefined;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      entry = undefined;
    }
    if (secrets.some((s) => line.includes(s))) {
      const path = typeof entry?.path === 'string' ? entry.path : '';
      leaked.set(line.slice(0, 300), sentPath(path));
    }
    if (!entry || typeof entry !== 'object') {
      if (!line.startsWith('k8s-consul-sync serving on ')) stray.push(line);
      continue;
    }
    // pino writes the level as a number, or as its label when configured so (this product).
    const raw = entry.level;
    const levelNo =
      typeof raw === 'number'
        ? raw
        : Number(Object.entries(levels).find(([, label]) => label === raw)?.[0] ?? 0);
    const level = levels[levelNo] ?? field(raw);
    summary.byLevel[level] = (summary.byLevel[level] ?? 0) + 1;
    if (levelNo >= 50) {
      const key = `${field(entry.event) || '?'}${entry.code ? ` ${field(entry.code)}` : ''}`;
      summary.errorEvents[key] = (summary.errorEvents[key] ?? 0) + 1;
    }
    if (levelNo >= 60) {
      findings.push({
        class: 'log-fatal',
        index: -1,
        phase,
        detail: line.slice(0, 400),
        request: '(serve log)',
      });
    }
    const msg = `${field(entry.msg)} ${field(entry.err)}`;
    if (/uncaught|unhandled/i.test(msg)) {
      findings.push({
        class: 'uncaught-exception',
        index: -1,
        phase,
        detail: line.slice(0, 400),
        request: '(serve log)',
      });
    }
  }
  if (stray.length > 0) {
    const joined = stray.join('\n');
    findings.push({
      class: /uncaught|unhandled|^\s+at |Error[: ]/im.test(joined)
        ? 'uncaught-exception'
        : 'stderr-output',
      index: -1,
      phase,
      detail: `${stray.length} line(s) outside the JSON log: ${joined.slice(0, 600)}`,
      request: '(serve stdout/stderr)',
    });
  }
  for (const [l, built] of leaked) {
    findings.push({
      class: 'secret-in-log',
      index: built?.index ?? -1,
      phase,
      detail: `a token (or its base32 path form) in serve's log: ${l}`,
      request: built ? redactedLine(built) : '(serve log)',
      ...(built ? { full: fullRequest(built) } : {}),
      ...(built ? { replay: `npm run fuzz -- --seed ${seed} --replay ${built.index}` } : {}),
    });
  }
  return { summary, findings };
}

/** Breaker states from /metrics: `consul closed`, … */
async function breakersClosed(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/metrics`);
    const text = await res.text();
    for (const target of ['consul', 'kubernetes']) {
      const re = new RegExp(
        `k8s_consul_sync_breaker_state\\{[^}]*target="${target}"[^}]*state="closed"[^}]*\\} 1\\b|k8s_consul_sync_breaker_state\\{[^}]*state="closed"[^}]*target="${target}"[^}]*\\} 1\\b`,
      );
      if (!re.test(text)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** The /healthz poller in its own process (healthz-poller.ts). */
class Poller {
  private readonly child: ChildProcess;
  private waiting: ((r: PollerReport) => void) | undefined;
  private exited = false;
  constructor(data: PollerData) {
    this.child = fork(join(import.meta.dirname, 'healthz-poller.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (r: unknown) => {
      this.waiting?.(r as PollerReport);
      this.waiting = undefined;
    });
    this.child.once('exit', () => {
      this.exited = true;
      this.waiting?.({ polls: 0, maxMs: 0, p50Ms: 0, p99Ms: 0, slow: [], slowCount: 0 });
    });
    this.child.send({ start: data });
  }
  post(msg: PollerMessage): void {
    if (!this.exited) this.child.send(msg);
  }
  stop(): Promise<PollerReport> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.post({ stop: true });
    });
  }
}

interface Span {
  index: number;
  phase: 'A' | 'B';
  start: number;
  end: number;
  label: string;
}

const epochNow = (): number => performance.timeOrigin + performance.now();

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const say = options.progress ?? ((): void => undefined);
  const seed = options.seed;
  const replay = options.replay;
  const total = replay !== undefined ? Math.max(options.count, replay + 1) : options.count;
  const share = replay !== undefined ? 0 : (options.concurrentShare ?? 0.15);
  const countB = Math.floor(total * share);
  const countA = total - countB;
  const concurrency = options.concurrency ?? 8;
  const limitMs = options.healthzLimitMs ?? 100;
  const tolerance = options.rssTolerance ?? 0.2;
  const idleMs = options.idleMs ?? 3000;
  const useFaults = (options.faults ?? true) && replay === undefined;

  const dir = mkdtempSync(join(tmpdir(), 'k8s-consul-sync-fuzz-'));
  const creds: Credentials = createCredentials(dir);
  const secrets = [...creds.secrets];
  for (const s of creds.secrets.slice(1)) {
    if (s.split('.').length === 3)
      secrets.push(...encodePathToken(s).filter((x) => x.length >= 16));
  }
  const notes: string[] = [];
  const violations: Violation[] = [];
  let violationCount = 0;
  const classCounts = new Map<string, { count: number; first: Violation }>();
  const record = (v: Violation): void => {
    violationCount++;
    const c = classCounts.get(v.class);
    if (c) c.count++;
    else classCounts.set(v.class, { count: 1, first: v });
    if (violations.length < MAX_VIOLATIONS_KEPT) violations.push(v);
  };

  // The invalid edits must be invalid for the product's validator too (else the oracle and the
  // product disagree on what the API server refuses: noted, the oracle keeps its verdict).
  for (const [edits, validate, base] of [
    [
      INVALID_SERVICE_EDITS,
      validateService,
      () => ({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: 'shop' },
        spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80 }] },
      }),
    ],
    [
      INVALID_SLICE_EDITS,
      validateEndpointSlice,
      () => ({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: 'web-abc12',
          namespace: 'shop',
          labels: { 'kubernetes.io/service-name': 'web' },
        },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.244.1.1'] }],
        ports: [{ name: 'http', port: 8080 }],
      }),
    ],
  ] as const) {
    for (const [name, edit] of edits) {
      const o = base() as Record<string, any>;
      edit(o);
      if (validate(o).length === 0)
        notes.push(`src/events/validate.ts accepts an object the API server refuses: ${name}`);
    }
  }

  const specs: Spec[] = generateSpecs(seed, total);
  const ctx: BuildContext = {
    creds,
    seed,
    maxBodyBytes: 16 * 1024 * 1024,
    viewIndex: { last: 0 },
  };

  const byEndpointStatus: Record<string, number> = {};
  const byFamily: Record<string, number> = {};
  const backgroundWrites: Record<string, number> = {};
  const wroteByFamily: Record<string, number> = {};
  const spans: Span[] = [];
  const faultWindows: FaultWindow[] = [];
  const rss: FuzzReport['rss'] = { tolerance };
  const logs: FuzzReport['log'] = {};

  let host: EmulatorHost | undefined;
  let serve: ServeProcess | undefined;
  let poller: Poller | undefined;
  let sender: Sender | undefined;
  let pollerReport: PollerReport | undefined;
  const compiledDir = options.compiled ? await buildCompiled() : undefined;

  const startOne = async (flags: string[]): Promise<ServeProcess> => {
    const p = await startServe({
      consulAddress: host!.started.consulAddress,
      kubeconfigPath: host!.started.kubeconfigPath,
      flags: [
        '--auth-disabled=false',
        `--auth-jwt-secret-file=${creds.secretFile}`,
        '--log-level=info',
        ...flags,
        ...(options.serveFlags ?? []),
      ],
      nodeArgs: ['--expose-gc', `--import=${GC_HOOK}`],
      ...(compiledDir ? { compiledDir } : {}),
    });
    await waitFor200(`${p.url}/readyz`);
    return p;
  };
  /** Serve's RSS when idle: after `idleMs`, and after a forced GC (the poller paused meanwhile). */
  const idleRss = async (p: ServeProcess): Promise<{ before: number; after: number }> => {
    await sleep(idleMs);
    const before = memoryOf(p.pid)?.rss ?? 0;
    poller?.post({ pause: true });
    await sleep(60);
    p.child.kill('SIGUSR2');
    await sleep(700);
    const after = memoryOf(p.pid)?.rss ?? 0;
    poller?.post({ resume: true });
    return { before, after };
  };
  /** Set when serve exits unasked (a holder: it changes in callbacks). */
  const life: { crashed: string | undefined } = { crashed: undefined };
  const crashedNow = (): string | undefined => life.crashed;
  const watchCrash = (p: ServeProcess, phase: 'A' | 'B'): void => {
    p.child.once('exit', (code, signal) => {
      if (stopping) return;
      life.crashed = `serve (phase ${phase}) exited: code ${code ?? '-'} signal ${signal ?? '-'}`;
    });
  };
  let stopping = false;
  let stopSampler: (() => number) | undefined;
  let inFlight: Built[] = [];

  /** Requests whose path carried a token, by path (to name the request behind a leaked log line). */
  const tokenPaths = new Map<string, Built>();
  const sentPath = (path: string): Built | undefined => tokenPaths.get(path);
  const tally = (b: Built, seen: Observed): void => {
    if (
      b.cred &&
      [
        'path-token',
        'raw-path',
        'expired-path-token',
        'corrupt-path-token',
        'wrong-scope-path-token',
        'uppercase-path-token',
      ].includes(b.cred)
    ) {
      const { body: _body, text: _text, ...light } = b;
      tokenPaths.set(b.path.split('?')[0]!, light);
    }
    const answer = seen.error
      ? b.announce !== undefined
        ? 'no-answer-in-2s'
        : 'no-answer'
      : seen.status;
    const key = `${b.endpoint === 'probe' || b.endpoint === 'route' ? (b.base ?? b.path.split('?')[0]!).slice(0, 40) : b.endpoint} ${answer}`;
    byEndpointStatus[key] = (byEndpointStatus[key] ?? 0) + 1;
    byFamily[b.family] = (byFamily[b.family] ?? 0) + 1;
  };
  const findingsToViolations = (b: Built, found: Finding[], phase: 'A' | 'B'): void => {
    for (const f of found) {
      record({
        class: f.class,
        index: b.index,
        phase,
        detail: f.detail,
        request: redactedLine(b),
        full: fullRequest(b),
        replay: `npm run fuzz -- --seed ${seed} --replay ${b.index}`,
      });
    }
  };

  // Should this process die, its serve must not outlive it.
  const killServe = (): void => void serve?.child.kill('SIGKILL');
  process.once('exit', killServe);
  try {
    host = await EmulatorHost.start();
    await host.call({
      type: 'seed',
      world: { kube: kubeObjects(), consul: consulRegistrations() },
      owner: {
        node: SYNC_NODE,
        syncId: host.started.kubeSystemUid,
        writeNamespace: WRITE_NAMESPACE,
      },
    });

    // ---- phase A ------------------------------------------------------------------------------
    say(`serve (phase A: one request at a time, ${SERVE_FLAGS_A.join(' ')}) …`);
    serve = await startOne(SERVE_FLAGS_A);
    watchCrash(serve, 'A');
    sender = createSender(serve.url);
    poller = new Poller({ url: serve.url, everyMs: 50, limitMs });

    // Warm-up: one forced reconcile so both catalogs hold the world, then the marks.
    const warm = await sender.send(
      {
        index: -1,
        method: 'POST',
        path: `${ENDPOINTS.reconcile.path}?force=true`,
        headers: creds.apply('header', 'reconcile', ENDPOINTS.reconcile.path).headers,
        endpoint: 'reconcile',
        cred: 'header',
        label: 'warm-up reconcile',
        family: 'warm-up',
      },
      30_000,
    );
    if (warm.status !== 200)
      throw new Error(`warm-up reconcile answered ${warm.status}: ${warm.text.slice(0, 300)}`);
    await host.takeCounts();
    await host.call({ type: 'mark' });
    const idleAtStartA = await idleRss(serve);
    let idleA = idleAtStartA;
    const warmUpAt = Math.min(WARM_UP, Math.floor(countA / 10));
    const rssA = sampleRss(serve.pid, 100);
    stopSampler = () => rssA.stop();

    const viewState: ViewState = { applied: undefined };
    const windowLen = Math.max(8, Math.round(countA * 0.01));
    const windowCount = !useFaults || countA < 60 ? 0 : countA >= 2000 ? 4 : 2;
    const windows = Array.from({ length: windowCount }, (_, w) => {
      const from = Math.floor((countA * (w + 1)) / (windowCount + 1));
      return { from, to: from + windowLen, fault: FAULTS[(w + seed) % FAULTS.length]! };
    });
    let activeFault: { name: string; window: FaultWindow } | null = null;

    /** Waits until no write arrives for two consecutive polls; refreshes the marks. */
    const settle = async (why: string): Promise<void> => {
      const deadline = Date.now() + 15_000;
      let quiet = 0;
      let changes: Change[] = [];
      while (quiet < 2 && Date.now() < deadline) {
        await sleep(250);
        const counts = await host!.takeCounts();
        const w = writesOf(counts);
        if (w.consul.length + w.kube.length === 0) quiet++;
        else {
          quiet = 0;
          for (const line of [...w.consul, ...w.kube]) {
            const [kind, n] = line.split(' ×');
            backgroundWrites[`${kind} (${why})`] =
              (backgroundWrites[`${kind} (${why})`] ?? 0) + Number(n);
          }
        }
      }
      changes = await host!.diff(true, true);
      for (const c of changes) {
        if (!c.ownedBefore || !c.ownedAfter) {
          record({
            class: 'ownership',
            index: -1,
            phase: 'A',
            detail: `${why}: ${c.op} ${c.what} (${c.ref}) which is not ours`,
            request: `(background: ${why})`,
          });
        }
      }
    };

    const order = replay !== undefined ? [replay] : Array.from({ length: countA }, (_, i) => i);
    if (replay !== undefined) {
      // The view index sequence up to the replayed request, as the full run numbers it.
      for (let i = 0; i < replay; i++) {
        const s = specs[i]!;
        if (s.k === 'view') build(s, i, ctx);
      }
    }
    say(
      `phase A: ${order.length} request(s)${windows.length ? `, fault windows ${windows.map((w) => `${w.from}-${w.to - 1}`).join(', ')}` : ''}`,
    );
    for (const i of order) {
      if (life.crashed) break;
      if (i === warmUpAt && warmUpAt > 0 && replay === undefined) {
        await settle('warm-up');
        idleA = await idleRss(serve);
      }
      const win = windows.find((w) => w.from === i);
      if (win) {
        activeFault = {
          name: win.fault.name,
          window: { name: win.fault.name, from: win.from, to: win.to - 1, declared503: 0 },
        };
        faultWindows.push(activeFault.window);
        await host.call({
          type: 'fault',
          ...(win.fault.consul ? { consul: win.fault.consul } : {}),
          ...(win.fault.kube ? { kube: win.fault.kube } : {}),
        });
      }
      const ending = windows.find((w) => w.to === i);
      if (ending && activeFault) {
        await host.call({ type: 'faults-clear' });
        const deadline = Date.now() + 20_000;
        while (!(await breakersClosed(serve.url)) && Date.now() < deadline) await sleep(100);
        if (!(await breakersClosed(serve.url)))
          record({
            class: 'breaker-stuck-open',
            index: i,
            phase: 'A',
            detail: `a breaker was still open 20 s after "${activeFault.name}" was cleared`,
            request: '(fault window)',
          });
        await settle(`recovery after "${activeFault.name}"`);
        // The recovery may have applied the current view at Consul's own index: start above it.
        const idx = Number(await host.call({ type: 'consul-services-index' }));
        ctx.viewIndex.last = Math.max(ctx.viewIndex.last, idx) + 1;
        viewState.applied = undefined;
        activeFault = null;
      }

      const built = build(specs[i]!, i, ctx);
      let stale = false;
      if (built.endpoint === 'view' && viewMayBeStale(built, viewState)) {
        const consulIdx = Number(await host.call({ type: 'consul-services-index' }));
        stale = consulIdx >= viewState.applied!;
      }
      let untagged = new Set<string>();
      if (built.endpoint === 'view' && built.text?.includes('"k8s"'))
        untagged = new Set((await host.call({ type: 'untagged-names' })) as string[]);
      const expect = expectFor(built, stale, untagged);
      const pre = writesOf(await host.takeCounts());
      if (pre.consul.length + pre.kube.length > 0) {
        for (const line of [...pre.consul, ...pre.kube]) {
          const [kind, n] = line.split(' ×');
          backgroundWrites[kind!] = (backgroundWrites[kind!] ?? 0) + Number(n);
        }
        await host.diff(true, true);
      }
      const spanStart = epochNow();
      inFlight = [built];
      const seen = await sender.send(built, expect.early ? 2000 : 60_000);
      inFlight = [];
      spans.push({
        index: i,
        phase: 'A',
        start: spanStart,
        end: epochNow(),
        label: built.label.slice(0, 160),
      });
      const counts: Counts = await host.takeCounts();
      const w = writesOf(counts);
      const wrote = w.consul.length + w.kube.length > 0;
      const changes = wrote ? await host.diff(w.consul.length > 0, w.kube.length > 0) : [];
      if (wrote) wroteByFamily[built.family] = (wroteByFamily[built.family] ?? 0) + 1;
      const found = check(built, expect, seen, { ...w, changes }, activeFault?.name ?? null);
      if (activeFault && seen.status === 503) activeFault.window.declared503++;
      findingsToViolations(built, found, 'A');
      tally(built, seen);

      // The view model follows what the product applied.
      if (built.endpoint === 'view' && seen.status === 200) {
        const j = seen.json as Record<string, unknown> | undefined;
        const idx = consulIndexOf(built.consulIndex);
        if (j && !j.stale && !j.coalesced && Number(j.failed ?? 0) === 0 && idx !== undefined) {
          if (viewState.applied !== undefined && idx < viewState.applied && !stale)
            viewState.applied = undefined;
          viewState.applied = Math.max(viewState.applied ?? 0, idx);
        }
      }
      // A request that ran into --write-timeout may still be writing: wait for it.
      if (seen.ms > 2500 || seen.error) await settle(`after #${i} (${Math.round(seen.ms)} ms)`);
      if ((i + 1) % 500 === 0)
        say(
          `  ${i + 1}/${countA}, ${((performance.now() - started) / 1000).toFixed(0)} s (violations so far: ${violationCount})`,
        );
    }
    if (activeFault) {
      await host.call({ type: 'faults-clear' });
      activeFault = null;
    }
    if (life.crashed) {
      record({
        class: 'crash',
        index: -1,
        phase: 'A',
        detail: `${life.crashed}; log tail: ${safeTail(serve.logFile)}`,
        request: inFlight[0] ? redactedLine(inFlight[0]) : '(between requests)',
      });
    }
    const peakA = rssA.stop();
    stopSampler = undefined;
    if (!life.crashed) {
      const afterA = await idleRss(serve);
      rss.A = {
        idle: idleA.after,
        idleAtStart: idleAtStartA.after,
        peak: Math.max(peakA, afterA.before),
        afterIdle: afterA.before,
        after: afterA.after,
      };
    }
    const logA = summarizeLog(serve.logFile, secrets, 'A', sentPath, seed);
    logs.A = logA.summary;
    for (const f of logA.findings) record(f);
    sender.close();
    poller.post({ pause: true });
    await sleep(150); // let a poll in flight finish
    stopping = true;
    await serve.stop();
    stopping = false;
    serve = undefined;
    life.crashed = undefined;

    // ---- phase B ------------------------------------------------------------------------------
    if (countB > 0) {
      say(`serve (phase B: ${concurrency} in flight, ${SERVE_FLAGS_B.join(' ')}) …`);
      serve = await startOne(SERVE_FLAGS_B);
      watchCrash(serve, 'B');
      sender = createSender(serve.url, concurrency + 2);
      poller.post({ url: serve.url });
      const idleB = await idleRss(serve);
      const rssB = sampleRss(serve.pid, 100);
      stopSampler = () => rssB.stop();
      let next = countA;
      const flying = new Set<Built>();
      const worker = async (): Promise<void> => {
        while (!crashedNow()) {
          const i = next++;
          if (i >= total) return;
          const built = build(specs[i]!, i, ctx);
          const expect = expectFor(built, false);
          // Concurrent views are delivered out of order: stale or coalesced is for the product to
          // decide; only the answer is checked.
          flying.add(built);
          const s0 = epochNow();
          const seen = await sender!.send(built, expect.early ? 2000 : 60_000);
          flying.delete(built);
          spans.push({
            index: i,
            phase: 'B',
            start: s0,
            end: epochNow(),
            label: built.label.slice(0, 160),
          });
          findingsToViolations(built, check(built, expect, seen, null, null), 'B');
          tally(built, seen);
        }
      };
      say(`phase B: ${countB} request(s)`);
      await Promise.all(Array.from({ length: concurrency }, worker));
      if (crashedNow()) {
        record({
          class: 'crash',
          index: -1,
          phase: 'B',
          detail: `${crashedNow()}; log tail: ${safeTail(serve.logFile)}`,
          request: [...flying].map(redactedLine).join(' | ').slice(0, 1000) || '(none in flight)',
        });
      }
      // Confirmations fall due 1 s after the last admission: let them run before "idle".
      const peakB = rssB.stop();
      stopSampler = undefined;
      if (!crashedNow()) {
        await sleep(1500);
        const afterB = await idleRss(serve);
        rss.B = {
          idle: idleB.after,
          peak: Math.max(peakB, afterB.before),
          afterIdle: afterB.before,
          after: afterB.after,
        };
      }
      const logB = summarizeLog(serve.logFile, secrets, 'B', sentPath, seed);
      logs.B = logB.summary;
      for (const f of logB.findings) record(f);
      sender.close();
      poller.post({ pause: true });
      await sleep(150); // let a poll in flight finish
      stopping = true;
      await serve.stop();
      serve = undefined;
    }
    pollerReport = await poller.stop();
    poller = undefined;
  } finally {
    stopSampler?.();
    stopping = true;
    sender?.close();
    const leftPoller: Poller | undefined = poller;
    leftPoller?.post({ pause: true });
    if (leftPoller) pollerReport ??= await leftPoller.stop();
    const leftServe: ServeProcess | undefined = serve;
    await leftServe?.stop();
    await host?.close();
    process.off('exit', killServe);
    rmSync(dir, { recursive: true, force: true });
  }

  // ---- whole-run assertions ---------------------------------------------------------------------
  const healthz = {
    ...(pollerReport ?? { polls: 0, maxMs: 0, p50Ms: 0, p99Ms: 0, slow: [], slowCount: 0 }),
    limitMs,
  };
  for (const slow of healthz.slow) {
    const during = spans.filter((s) => s.start <= slow.at + slow.ms && s.end >= slow.at);
    const first = during[0];
    record({
      class: slow.status === 200 ? 'healthz-slow' : 'healthz-failed',
      index: first?.index ?? -1,
      phase: first?.phase ?? 'run',
      detail: `GET /healthz took ${slow.ms.toFixed(1)} ms${slow.status !== 200 ? ` (status ${slow.status}${slow.error ? `, ${slow.error}` : ''})` : ''}, limit ${limitMs} ms; in flight: ${during.map((s) => `#${s.index}`).join(', ') || 'nothing'}`,
      request: first ? first.label : '(no request in flight)',
      ...(first ? { replay: `npm run fuzz -- --seed ${seed} --replay ${first.index}` } : {}),
    });
  }
  for (const [phase, figures] of [
    ['A', rss.A],
    ['B', rss.B],
  ] as const) {
    if (!figures) continue;
    if (figures.after > figures.idle * (1 + tolerance)) {
      record({
        class: 'rss-not-recovered',
        index: -1,
        phase,
        detail: `serve RSS idle ${mib(figures.idle)}, peak ${mib(figures.peak)}, after the run (idle, forced GC) ${mib(figures.after)}: more than ${Math.round(tolerance * 100)} % above idle`,
        request: `(phase ${phase})`,
      });
    }
  }

  return {
    seed,
    count: replay !== undefined ? 1 : total,
    serve: compiledDir ? 'compiled' : 'tsx',
    durationMs: performance.now() - started,
    phases: {
      A: {
        requests: replay !== undefined ? 1 : countA,
        flags: [...SERVE_FLAGS_A, ...(options.serveFlags ?? [])],
        faultWindows,
      },
      B: {
        requests: countB,
        flags: [...SERVE_FLAGS_B, ...(options.serveFlags ?? [])],
        concurrency,
      },
    },
    byEndpointStatus,
    byFamily,
    wroteByFamily,
    backgroundWrites,
    healthz,
    rss,
    log: logs,
    notes,
    violations,
    violationClasses: [...classCounts]
      .map(([cls, c]) => ({ class: cls, count: c.count, first: c.first }))
      .sort((a, b) => b.count - a.count),
  };
}

function safeTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-1500);
  } catch {
    return '(no log)';
  }
}

export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
