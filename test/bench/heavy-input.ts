// Scenario 6 (issue 20's bounds): a Service of the API server's maximum object size through the
// admission webhook, with /healthz polled meanwhile, and audit batches of 400 events.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { FLAGS, parseDuration } from '../../src/config/index.js';
import { LABEL_SERVICE_NAME, META_K8S_NAME, META_K8S_NAMESPACE } from '../../src/translate/keys.js';
import { request } from './e2e-lag.js';
import { EmulatorHost, type RegistrationRow, type RequestCounts } from './emulators.js';
import {
  BENCH_SYNC_ID,
  endpointSlice,
  intToIp,
  node,
  prng,
  serviceObject,
  worldKind,
  worldNodes,
  worldService,
  type Obj,
  type WorldService,
  type WorldSize,
} from './fixtures.js';
import { summarize, type LatencySummary } from './load.js';
import { buildCompiled, sampleRss, startServe, waitFor200, type ServeProcess } from './procs.js';
import { atMost, mb, ms, ratio, type ScenarioResult } from './report.js';

export interface HeavyInputOptions {
  /** Big-Service rounds, each a CREATE and an UPDATE review (issue 20: max(5, 20 × scale)). */
  rounds: number;
  /** Audit batches (issue 20: max(10, 50 × scale)). */
  batches: number;
  /** Services in the audit world (externalIPs, LoadBalancer, NodePort; issue 20: ~2,000). */
  services: number;
  /**
   * At most this many externalIPs on the big Service (default: as many as fit in the API
   * server's maximum object size). Issue 20 also names a 40,000-address Service.
   */
  maxExternalIPs?: number;
  /** Events per audit batch (kube-apiserver --audit-webhook-batch-max-size default: 400). */
  eventsPerBatch?: number;
  /** serve flags (`--name=value`) on top of the shipped defaults; `npm run bench` passes none. */
  serveFlags?: string[];
  serveNodeArgs?: string[];
  /** Run serve compiled, as the Dockerfile does (default), rather than through tsx. */
  compiled?: boolean;
  emulatorNodeArgs?: string[];
  inspect?: (ctx: HeavyInputContext) => Promise<void>;
}

export interface HeavyInputContext {
  host: EmulatorHost;
  serve: ServeProcess;
  /** Every big Service as stored after its UPDATE: name → externalIPs. */
  bigStored: Map<string, string[]>;
  /** The sync node's registrations at the end. */
  registrations: RegistrationRow[];
}

export const HEAVY_NAMESPACE = 'bench-heavy';
/** kube-apiserver's default etcd request limit (--max-request-bytes of etcd): 1.5 MiB. */
export const MAX_OBJECT_BYTES = 1_572_864;
const SYNC_NODE = 'k8s-sync';
const HEALTHZ_EVERY_MS = 10;
/** Idle /healthz polling before the big reviews start (the idle figures). */
const IDLE_MS = 2000;

/** A serve setting: the value given in `flags`, else the shipped default. */
function setting(name: string, flags: readonly string[]): string {
  const given = flags.findLast((f) => f.startsWith(`--${name}=`));
  if (given) return given.slice(name.length + 3);
  const def = FLAGS.find((f) => f.name === name)?.default;
  if (def === undefined) throw new Error(`no flag --${name}`);
  return typeof def === 'string' ? def : def.join(',');
}

const durationMs = (text: string): number => {
  const v = parseDuration(text);
  if (v === undefined) throw new Error(`not a duration: ${text}`);
  return v;
};

const lat = (s: LatencySummary): Record<string, number> => ({
  count: s.count,
  p50Ms: s.p50,
  p99Ms: s.p99,
  maxMs: s.max,
  meanMs: s.mean,
});

/** Wall-clock milliseconds, comparable between this thread and the poller's worker. */
const now = (): number => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------
// Timed POSTs to serve: one keep-alive connection, the body serialized before the clock starts.

const serveAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

interface Answer {
  status: number;
  text: string;
  start: number;
  end: number;
}

function post(base: string, path: string, body: Buffer): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const start = now();
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent: serveAgent,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            start,
            end: now(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------
// The /healthz poller: a worker thread (its own event loop, its own connection), so the load
// generator's work on megabyte bodies never delays a poll.

const POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const url = new URL('/healthz', workerData.url);
const samples = [];
let running = true;
parentPort.on('message', () => { running = false; });
const get = () => new Promise((resolve) => {
  const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, agent }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode));
  });
  req.on('error', () => resolve(0));
  req.end();
});
(async () => {
  while (running) {
    const t0 = performance.now();
    const status = await get();
    const t1 = performance.now();
    samples.push(performance.timeOrigin + t0, t1 - t0, status);
    const wait = workerData.everyMs - (t1 - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  parentPort.postMessage(samples);
})();
`;

interface HealthSample {
  start: number;
  ms: number;
  status: number;
}

function startPoller(serveUrl: string): { stop(): Promise<HealthSample[]> } {
  const worker = new Worker(POLLER, {
    eval: true,
    workerData: { url: serveUrl, everyMs: HEALTHZ_EVERY_MS },
  });
  const done = new Promise<number[]>((resolve, reject) => {
    worker.once('message', (m: number[]) => resolve(m));
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      worker.postMessage('stop');
      const flat = await done;
      await worker.terminate();
      const out: HealthSample[] = [];
      for (let i = 0; i < flat.length; i += 3)
        out.push({ start: flat[i]!, ms: flat[i + 1]!, status: flat[i + 2]! });
      return out;
    },
  };
}

/**
 * serve's own time per admission of a namespace (its `admission` log lines' durationMs: from the
 * parsed body to the answer, so without reading and parsing the body).
 */
function handlerDurations(logFile: string, namespace: string): number[] {
  const out: number[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"event":"admission"') || !line.includes(`"${namespace}/`)) continue;
    try {
      const entry = JSON.parse(line) as { durationMs?: number; 'namespace/name'?: string };
      if (entry['namespace/name']?.startsWith(`${namespace}/`) && entry.durationMs !== undefined)
        out.push(entry.durationMs);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** The samples whose request was in flight at some moment of one of the intervals. */
function during(samples: readonly HealthSample[], intervals: readonly Answer[]): number[] {
  return samples
    .filter((s) => intervals.some((a) => s.start < a.end && s.start + s.ms > a.start))
    .map((s) => s.ms);
}

// ---------------------------------------------------------------------------------------------
// Part 1: the big Service.

/** The i-th externalIP of a big Service: 11.0.0.1 on, valid and not special, all distinct. */
const bigIp = (i: number): string => intToIp(((11 << 24) >>> 0) + 1 + i);
/** The addresses an UPDATE puts in place of some (12.0.0.0/16, never in the 11/8 list). */
const movedIp = (round: number, j: number): string =>
  intToIp(((12 << 24) >>> 0) + (round << 8) + j);
/** Positions an UPDATE changes: inside the 1,000 registered and past them. */
const MOVED_AT = (count: number): number[] =>
  [0, 1, 2, 3, 4, 500, 501, 502, 998, 999, 5000, 50_000, count - 1].filter((i) => i < count);

function bigService(namespace: string, name: string, externalIPs: string[]): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      type: 'ClusterIP',
      selector: { app: name },
      ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }],
      externalIPs,
    },
  };
}

const USER_INFO = {
  username: 'kubernetes-admin',
  groups: ['system:masters', 'system:authenticated'],
};

function admissionBody(
  uid: string,
  operation: 'CREATE' | 'UPDATE',
  object: Obj,
  oldObject: Obj | null,
): Buffer {
  const meta = object.metadata as { name: string; namespace: string };
  const gvk = { group: '', version: 'v1', kind: 'Service' };
  const gvr = { group: '', version: 'v1', resource: 'services' };
  return Buffer.from(
    JSON.stringify({
      kind: 'AdmissionReview',
      apiVersion: 'admission.k8s.io/v1',
      request: {
        uid,
        kind: gvk,
        resource: gvr,
        requestKind: gvk,
        requestResource: gvr,
        name: meta.name,
        namespace: meta.namespace,
        operation,
        userInfo: USER_INFO,
        object,
        oldObject,
        dryRun: false,
        options: {
          apiVersion: 'meta.k8s.io/v1',
          kind: operation === 'CREATE' ? 'CreateOptions' : 'UpdateOptions',
        },
      },
    }),
  );
}

async function kubeWrite(
  kubeUrl: string,
  method: 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Obj> {
  const res = await request(kubeUrl, method, path, body);
  if (res.status >= 300)
    throw new Error(`${method} ${path}: ${res.status} ${res.text.slice(0, 300)}`);
  return JSON.parse(res.text) as Obj;
}

const servicesPath = (ns: string): string => `/api/v1/namespaces/${ns}/services`;

/**
 * How many externalIPs fit in a Service of MAX_OBJECT_BYTES as the API server stores it: a
 * probe with one address is stored, its size measured, and the list filled up to the limit
 * (less a margin for the longer addresses an UPDATE puts in).
 */
async function ipsThatFit(kubeUrl: string, name: string): Promise<number> {
  const stored = await kubeWrite(
    kubeUrl,
    'POST',
    servicesPath(HEAVY_NAMESPACE),
    bigService(HEAVY_NAMESPACE, name, [bigIp(0)]),
  );
  await kubeWrite(kubeUrl, 'DELETE', `${servicesPath(HEAVY_NAMESPACE)}/${name}`);
  // resourceVersion and timestamps may grow by a few characters between objects.
  let budget = MAX_OBJECT_BYTES - 256 - (JSON.stringify(stored).length - bigIp(0).length - 2);
  let count = 0;
  for (; ; count++) {
    const cost = bigIp(count).length + 3; // quotes and comma
    if (cost > budget) break;
    budget -= cost;
  }
  return count;
}

interface BigRun {
  big: Answer[];
  floor: Answer[];
  bigCreate: number[];
  bigUpdate: number[];
  failures: string[];
  warned: number;
  stored: Map<string, string[]>;
  objectBytes: number[];
  reviewBytes: { create: number; update: number };
}

async function runBig(
  kubeUrl: string,
  serveUrl: string,
  floorNamespace: string,
  rounds: number,
  count: number,
): Promise<BigRun> {
  const run: BigRun = {
    big: [],
    floor: [],
    bigCreate: [],
    bigUpdate: [],
    failures: [],
    warned: 0,
    stored: new Map(),
    objectBytes: [],
    reviewBytes: { create: 0, update: 0 },
  };
  const baseIps = Array.from({ length: count }, (_, i) => bigIp(i));
  const moved = MOVED_AT(count);
  let uid = 0;
  const send = async (
    isBig: boolean,
    operation: 'CREATE' | 'UPDATE',
    object: Obj,
    old: Obj | null,
  ): Promise<void> => {
    const body = admissionBody(
      `heavy-${String(uid++).padStart(6, '0')}-0000-4000-8000-000000000000`,
      operation,
      object,
      old,
    );
    run.reviewBytes[operation === 'CREATE' ? 'create' : 'update'] = body.length;
    const a = await post(serveUrl, '/k8s/admission', body);
    const where = `${isBig ? 'big' : 'floor'} ${operation} ${(object.metadata as { name: string }).name}`;
    if (a.status !== 200) run.failures.push(`${where}: ${a.status} ${a.text.slice(0, 200)}`);
    else {
      const answer = JSON.parse(a.text) as {
        response?: { allowed?: boolean; warnings?: string[] };
      };
      if (answer.response?.allowed !== true) run.failures.push(`${where}: not allowed`);
      if (
        isBig &&
        answer.response?.warnings?.some((w) => /only the first \d+ are registered/.test(w))
      )
        run.warned++;
    }
    (isBig ? run.big : run.floor).push(a);
    if (isBig) (operation === 'CREATE' ? run.bigCreate : run.bigUpdate).push(a.end - a.start);
  };
  for (let k = 0; k < rounds; k++) {
    const name = `big-${String(k).padStart(2, '0')}`;
    // Each object is stored first (no webhook is wired: the emulator does not call serve), so
    // the confirmations that follow every admission read exactly what was admitted.
    const created = new Map<boolean, Obj>();
    for (const isBig of [true, false]) {
      const ns = isBig ? HEAVY_NAMESPACE : floorNamespace;
      const stored = await kubeWrite(
        kubeUrl,
        'POST',
        servicesPath(ns),
        bigService(ns, name, baseIps),
      );
      run.objectBytes.push(JSON.stringify(stored).length);
      created.set(isBig, stored);
    }
    // Alternate which goes first, so both see the same noise.
    const order = k % 2 === 0 ? [true, false] : [false, true];
    for (const isBig of order) await send(isBig, 'CREATE', created.get(isBig)!, null);
    const updated = new Map<boolean, Obj>();
    const ips = [...baseIps];
    moved.forEach((at, j) => (ips[at] = movedIp(k, j)));
    for (const isBig of [true, false]) {
      const old = created.get(isBig)!;
      const next = structuredClone(old) as { spec: { externalIPs: string[] } } & Obj;
      next.spec.externalIPs = ips;
      const ns = isBig ? HEAVY_NAMESPACE : floorNamespace;
      const stored = await kubeWrite(kubeUrl, 'PUT', `${servicesPath(ns)}/${name}`, next);
      run.objectBytes.push(JSON.stringify(stored).length);
      updated.set(isBig, stored);
    }
    for (const isBig of order)
      await send(isBig, 'UPDATE', updated.get(isBig)!, created.get(isBig)!);
    run.stored.set(name, ips);
  }
  return run;
}

// ---------------------------------------------------------------------------------------------
// Part 2: audit batches.

/** The audit world: `services` of the reconcile-scale world's kinds, without the ClusterIP ones. */
function auditWorld(services: number): { size: WorldSize; list: WorldService[] } {
  const size: WorldSize = {
    services: Math.ceil((services * 10) / 8),
    endpointsPerService: 5,
    nodes: Math.max(4, Math.round(services / 80)),
    consulServices: 0,
    changedFraction: 0,
  };
  const list: WorldService[] = [];
  for (let i = 0; i < size.services && list.length < services; i++)
    if (worldKind(i) !== 'clusterip') list.push(worldService(size, i));
  return { size, list };
}

interface Stored {
  services: Map<string, Obj>;
  slices: Map<string, Obj>;
}

async function listStored(kubeUrl: string): Promise<Stored> {
  const key = (o: Obj): string => {
    const m = o.metadata as { namespace: string; name: string; labels?: Record<string, string> };
    return `${m.namespace}/${m.labels?.[LABEL_SERVICE_NAME] ?? m.name}`;
  };
  const out: Stored = { services: new Map(), slices: new Map() };
  for (const [path, into, label] of [
    ['/api/v1/services', out.services, false],
    ['/apis/discovery.k8s.io/v1/endpointslices', out.slices, true],
  ] as const) {
    const res = await request(kubeUrl, 'GET', path);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
    for (const item of (JSON.parse(res.text) as { items: Obj[] }).items) {
      const m = item.metadata as { labels?: Record<string, string> };
      if (label && !m.labels?.[LABEL_SERVICE_NAME]) continue;
      into.set(key(item), item);
    }
  }
  return out;
}

type EventShape =
  | 'service-update'
  | 'service-patch'
  | 'service-create'
  | 'status-patch'
  | 'slice-update'
  | 'slice-patch'
  | 'conflict'
  | 'invalid'
  | 'dry-run';

const IGNORED_SHAPES: ReadonlySet<EventShape> = new Set(['conflict', 'invalid', 'dry-run']);

let auditSeq = 0;

/** One audit.k8s.io/v1 Event as kube-apiserver's webhook backend sends it (RequestResponse). */
function auditEvent(shape: EventShape, s: WorldService, stored: Stored): Obj {
  const ns = s.namespace;
  const svcObj = stored.services.get(`${ns}/${s.name}`) ?? serviceObject(s);
  const sliceObj = stored.slices.get(`${ns}/${s.name}`) ?? endpointSlice(ns, s.name, s.endpoints);
  const sliceName = (sliceObj.metadata as { name: string }).name;
  const isSlice = shape === 'slice-update' || shape === 'slice-patch';
  const resource = isSlice ? 'endpointslices' : 'services';
  const base = isSlice
    ? `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`
    : `/api/v1/namespaces/${ns}/services`;
  const name = isSlice ? sliceName : s.name;
  const subresource = shape === 'status-patch' ? 'status' : '';
  const verb =
    shape === 'service-update' || shape === 'slice-update' || shape === 'conflict'
      ? 'update'
      : shape === 'service-create' || shape === 'invalid'
        ? 'create'
        : 'patch';
  const code =
    shape === 'conflict' ? 409 : shape === 'invalid' ? 422 : verb === 'create' ? 201 : 200;
  const requestURI =
    verb === 'create'
      ? base
      : `${base}/${name}${subresource ? `/${subresource}` : ''}${shape === 'dry-run' ? '?dryRun=All' : ''}`;
  const object = isSlice ? sliceObj : svcObj;
  const requestObject =
    verb === 'patch'
      ? shape === 'status-patch'
        ? { status: (svcObj as { status?: unknown }).status ?? {} }
        : isSlice
          ? { endpoints: (sliceObj as { endpoints?: unknown }).endpoints ?? [] }
          : { metadata: { annotations: { 'example.com/touched': String(auditSeq) } } }
      : object;
  const failed = code >= 300;
  const responseObject = failed
    ? {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        reason: code === 409 ? 'Conflict' : 'Invalid',
        code,
      }
    : object;
  const at = new Date(Date.UTC(2025, 0, 1) + auditSeq * 3).toISOString().replace('Z', '000Z');
  const auditID = `a0d1${String(auditSeq++).padStart(8, '0')}-0000-4000-8000-000000000000`;
  return {
    level: 'RequestResponse',
    auditID,
    stage: 'ResponseComplete',
    requestURI,
    verb,
    user: isSlice
      ? {
          username: 'system:serviceaccount:kube-system:endpointslice-controller',
          groups: ['system:serviceaccounts', 'system:authenticated'],
        }
      : shape === 'status-patch'
        ? { username: 'system:serviceaccount:kube-system:service-controller', groups: [] }
        : USER_INFO,
    sourceIPs: ['10.0.0.2'],
    userAgent: isSlice ? 'kube-controller-manager/v1.32.0' : 'kubectl/v1.32.0',
    objectRef: {
      resource,
      namespace: ns,
      name,
      ...(isSlice ? { apiGroup: 'discovery.k8s.io' } : {}),
      apiVersion: 'v1',
      ...(subresource ? { subresource } : {}),
    },
    responseStatus: failed
      ? { metadata: {}, status: 'Failure', reason: responseObject.reason, code }
      : { metadata: {}, code },
    requestObject,
    responseObject,
    requestReceivedTimestamp: at,
    stageTimestamp: at,
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
  };
}

/**
 * The real changes behind a batch: a few services of each kind are changed in the emulator
 * (an externalIP moves, a load balancer's ingress moves, an endpoint's readiness flips), and the
 * batch carries their events; every other event is about a random service, some repeated.
 */
async function changeForReal(
  kubeUrl: string,
  s: WorldService,
  generation: number,
  stored: Stored,
): Promise<EventShape> {
  const path = `/api/v1/namespaces/${s.namespace}/services/${s.name}`;
  const patch = async (p: string, body: unknown): Promise<void> => {
    const res = await request(kubeUrl, 'PATCH', p, body, 'application/merge-patch+json');
    if (res.status !== 200) throw new Error(`PATCH ${p}: ${res.status} ${res.text.slice(0, 200)}`);
    const obj = JSON.parse(res.text) as Obj;
    if (p.includes('endpointslices')) stored.slices.set(`${s.namespace}/${s.name}`, obj);
    else stored.services.set(`${s.namespace}/${s.name}`, obj);
  };
  const odd = generation % 2 === 1;
  if (s.kind === 'externalips') {
    await patch(path, {
      spec: {
        externalIPs: s.externalIPs.map((ip) => (odd ? ip.replace(/^100\.112\./, '100.113.') : ip)),
      },
    });
    return 'service-patch';
  }
  if (s.kind === 'loadbalancer') {
    await patch(`${path}/status`, {
      status: {
        loadBalancer: {
          ingress: s.ingress.map((ip) => ({ ip: odd ? ip.replace(/^100\.96\./, '100.97.') : ip })),
        },
      },
    });
    return 'status-patch';
  }
  const slice = stored.slices.get(`${s.namespace}/${s.name}`);
  const sliceName = (slice?.metadata as { name: string } | undefined)?.name ?? `${s.name}-bench`;
  const endpoints = s.endpoints.map((e, j) => ({
    addresses: [e.ip],
    // Generation by generation, the first endpoint goes unready and ready again.
    conditions: {
      ready: j === 0 && odd ? !e.ready : e.ready,
      serving: j === 0 && odd ? !e.ready : e.ready,
      terminating: false,
    },
    nodeName: e.node,
  }));
  await patch(`/apis/discovery.k8s.io/v1/namespaces/${s.namespace}/endpointslices/${sliceName}`, {
    endpoints,
  });
  return 'slice-update';
}

interface Batch {
  body: Buffer;
  events: number;
  ignored: number;
  distinct: number;
  changed: number;
}

async function buildBatch(
  kubeUrl: string,
  b: number,
  world: WorldService[],
  generations: Map<number, number>,
  stored: Stored,
  eventsPerBatch: number,
): Promise<Batch> {
  const random = prng(20_000 + b);
  const pick = (): WorldService => world[Math.floor(random() * world.length)]!;
  const events: Obj[] = [];
  const refs = new Set<string>();
  const recent: WorldService[] = [];
  const add = (shape: EventShape, s: WorldService): void => {
    events.push(auditEvent(shape, s, stored));
    if (!IGNORED_SHAPES.has(shape)) refs.add(`${s.namespace}/${s.name}`);
    recent.push(s);
    if (recent.length > 40) recent.shift();
  };
  // 5 % of the events are about a change made for real just before the batch.
  const changed = new Set<WorldService>();
  while (changed.size < Math.max(1, Math.round(eventsPerBatch / 20))) changed.add(pick());
  for (const s of changed) {
    const generation = (generations.get(s.index) ?? 0) + 1;
    generations.set(s.index, generation);
    add(await changeForReal(kubeUrl, s, generation, stored), s);
  }
  let ignored = 0;
  while (events.length < eventsPerBatch) {
    // A quarter repeat a service the batch already names (controllers write in bursts).
    const s =
      recent.length > 0 && random() < 0.25 ? recent[Math.floor(random() * recent.length)]! : pick();
    const r = random();
    let shape: EventShape;
    if (r < 0.02) shape = 'conflict';
    else if (r < 0.035) shape = 'invalid';
    else if (r < 0.05) shape = 'dry-run';
    else if (r < 0.1) shape = 'service-create';
    else if (r < 0.3) shape = 'service-update';
    else if (r < 0.5) shape = 'service-patch';
    else if (r < 0.6) shape = s.kind === 'loadbalancer' ? 'status-patch' : 'service-patch';
    else shape = r < 0.8 ? 'slice-update' : 'slice-patch';
    if (IGNORED_SHAPES.has(shape)) ignored++;
    add(shape, s);
  }
  // Interleave the real changes with the rest, as the API server's buffer would.
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  return {
    body: Buffer.from(
      JSON.stringify({
        kind: 'EventList',
        apiVersion: 'audit.k8s.io/v1',
        metadata: {},
        items: events,
      }),
    ),
    events: events.length,
    ignored,
    distinct: refs.size,
    changed: changed.size,
  };
}

/** Request counts by kind: min–max over the batches, "kind ×n" or "kind ×min–max". */
function countRange(perBatch: readonly Record<string, number>[]): string {
  const keys = [...new Set(perBatch.flatMap((c) => Object.keys(c)))].sort();
  return keys
    .map((k) => {
      const values = perBatch.map((c) => c[k] ?? 0);
      const lo = Math.min(...values);
      const hi = Math.max(...values);
      return `${k} ×${lo === hi ? lo : `${lo}–${hi}`}`;
    })
    .join(', ');
}

interface AuditRun {
  answers: Answer[];
  codes: Record<string, number>;
  failures: string[];
  batches: (Omit<Batch, 'body'> & { bytes: number })[];
  consul: Record<string, number>[];
  kube: Record<string, number>[];
}

async function runAudit(
  host: EmulatorHost,
  serveUrl: string,
  world: WorldService[],
  batches: number,
  eventsPerBatch: number,
): Promise<AuditRun> {
  const { kubeUrl } = host.started;
  const stored = await listStored(kubeUrl);
  const generations = new Map<number, number>();
  const run: AuditRun = { answers: [], codes: {}, failures: [], batches: [], consul: [], kube: [] };
  for (let b = 0; b < batches; b++) {
    const { body, ...batch } = await buildBatch(
      kubeUrl,
      b,
      world,
      generations,
      stored,
      eventsPerBatch,
    );
    run.batches.push({ ...batch, bytes: body.length });
    await host.resetCounts();
    const a = await post(serveUrl, '/k8s/audit', body);
    const counts: RequestCounts = await host.counts();
    run.consul.push(counts.consul);
    run.kube.push(counts.kube);
    run.answers.push(a);
    run.codes[a.status] = (run.codes[a.status] ?? 0) + 1;
    if (a.status !== 200) run.failures.push(`batch ${b}: ${a.status} ${a.text.slice(0, 200)}`);
    else {
      const answer = JSON.parse(a.text) as { processed: number; ignored: number };
      if (answer.ignored !== batch.ignored || answer.processed !== batch.events - batch.ignored)
        run.failures.push(
          `batch ${b}: processed ${answer.processed} / ignored ${answer.ignored}, sent ${batch.events} with ${batch.ignored} to ignore`,
        );
    }
  }
  return run;
}

// ---------------------------------------------------------------------------------------------

export async function runHeavyInput(options: HeavyInputOptions): Promise<ScenarioResult> {
  const { rounds, batches, services } = options;
  const eventsPerBatch = options.eventsPerBatch ?? 400;
  const serveFlags = [`--sync-id=${BENCH_SYNC_ID}`, ...(options.serveFlags ?? [])];
  const maxInstances = Number(setting('max-instances-per-service', serveFlags));
  const floorNamespace = setting('deny-k8s-namespace', serveFlags).split(',')[0]!;
  const confirmAfter = setting('confirm-after', serveFlags);
  const quietMs = Math.max(0, ...confirmAfter.split(',').filter(Boolean).map(durationMs)) + 1000;
  if (!(maxInstances > 0)) throw new Error('heavy-input needs --max-instances-per-service > 0');
  if (!floorNamespace) throw new Error('heavy-input needs a denied namespace for its floor');

  const { size, list: world } = auditWorld(services);
  const portsNeeded = world.filter((s) => s.kind !== 'externalips').length;
  const compiledDir = (options.compiled ?? true) ? await buildCompiled() : undefined;
  const host = await EmulatorHost.start(
    portsNeeded > 2000 ? { nodePortMax: 30000 + portsNeeded + 500 } : {},
    options.emulatorNodeArgs,
  );
  let serve: ServeProcess | undefined;
  try {
    const { kubeUrl, clientConsulAddress, kubeconfigPath } = host.started;
    const namespaces = [...new Set(world.map((s) => s.namespace))];
    const objects: Obj[] = [
      ...[HEAVY_NAMESPACE, ...namespaces].map((name) => ({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name },
      })),
      ...worldNodes(size).map((n) => node(n.name, n.internal, n.external)),
    ];
    for (const s of world)
      objects.push(serviceObject(s), endpointSlice(s.namespace, s.name, s.endpoints));
    for (let i = 0; i < objects.length; i += 2000)
      await host.call({ type: 'seed-objects', objects: objects.slice(i, i + 2000) });
    serve = await startServe({
      consulAddress: clientConsulAddress,
      kubeconfigPath,
      flags: serveFlags,
      ...(options.serveNodeArgs ? { nodeArgs: options.serveNodeArgs } : {}),
      ...(compiledDir ? { compiledDir } : {}),
    });
    process.stderr.write(
      `[bench] heavy-input pids: serve ${serve.pid}, emulators ${host.started.pid}\n`,
    );
    await waitFor200(`${serve.url}/readyz`);

    // The audit world registered in Consul by one reconcile (Kubernetes → Consul).
    const reconcileStarted = performance.now();
    const rec = await request(serve.url, 'POST', '/reconcile?direction=to-consul');
    const reconcileMs = performance.now() - reconcileStarted;
    if (rec.status !== 200) throw new Error(`reconcile: ${rec.status} ${rec.text.slice(0, 300)}`);
    const registered = (JSON.parse(rec.text) as { toConsul: { created: number } }).toConsul.created;

    // Part 2 (run first, so its reads of the sync node do not carry the big Services).
    const audit = await runAudit(host, serve.url, world, batches, eventsPerBatch);
    const after = await request(serve.url, 'POST', '/reconcile?direction=to-consul&dryRun=true');
    const leftOver =
      after.status === 200
        ? (() => {
            const t = (JSON.parse(after.text) as { toConsul: Record<string, number> }).toConsul;
            return (t.created ?? 0) + (t.updated ?? 0) + (t.deleted ?? 0);
          })()
        : NaN;

    // Part 1: the big Services, /healthz polled throughout.
    const count = Math.min(
      await ipsThatFit(kubeUrl, 'big-pr'),
      options.maxExternalIPs ?? Number.POSITIVE_INFINITY,
    );
    const poller = startPoller(serve.url);
    await sleep(IDLE_MS);
    const idleEnd = now();
    const rss = sampleRss(serve.pid, 50);
    const big = await runBig(kubeUrl, serve.url, floorNamespace, rounds, count);
    const bigEnd = now();
    // The last confirmations (--confirm-after) read the big Services from the API server.
    await sleep(quietMs);
    const peakRss = rss.stop();
    const samples = await poller.stop();
    const registrations = await host.registrations(SYNC_NODE);
    const bigHandler = summarize(handlerDurations(serve.logFile, HEAVY_NAMESPACE));
    const floorHandler = summarize(handlerDurations(serve.logFile, floorNamespace));
    await options.inspect?.({ host, serve, bigStored: big.stored, registrations });

    // Consul against what the API server stored: the first --max-instances-per-service of each.
    const byService = new Map<string, string[]>();
    for (const r of registrations) {
      const key = `${r.Meta[META_K8S_NAMESPACE]}/${r.Meta[META_K8S_NAME]}`;
      byService.set(key, [...(byService.get(key) ?? []), r.Address]);
    }
    const wrongBig: string[] = [];
    const instanceCounts: number[] = [];
    for (const [name, ips] of big.stored) {
      const have = (byService.get(`${HEAVY_NAMESPACE}/${name}`) ?? []).sort();
      instanceCounts.push(have.length);
      const want = ips.slice(0, maxInstances).sort();
      if (JSON.stringify(have) !== JSON.stringify(want)) wrongBig.push(name);
    }
    const floorRegistered = registrations.filter(
      (r) => r.Meta[META_K8S_NAMESPACE] === floorNamespace,
    ).length;

    const bg = summarize(big.big.map((a) => a.end - a.start));
    const fl = summarize(big.floor.map((a) => a.end - a.start));
    const bc = summarize(big.bigCreate);
    const bu = summarize(big.bigUpdate);
    const idle = summarize(samples.filter((s) => s.start + s.ms <= idleEnd).map((s) => s.ms));
    const hBig = summarize(during(samples, big.big));
    const hFloor = summarize(during(samples, big.floor));
    const hAll = summarize(samples.filter((s) => s.start + s.ms > idleEnd).map((s) => s.ms));
    const healthFailures = samples.filter((s) => s.status !== 200).length;
    const au = summarize(audit.answers.map((a) => a.end - a.start));
    const distinct = summarize(audit.batches.map((b) => b.distinct));
    const batchBytes = summarize(audit.batches.map((b) => b.bytes));
    const p99Ratio = ratio(bg.p99, fl.p99);
    const codes = Object.entries(audit.codes)
      .map(([c, n]) => `${c} ×${n}`)
      .join(', ');
    const objectBytes = Math.max(...big.objectBytes);
    const movedRegistered = MOVED_AT(count).filter((i) => i < maxInstances).length;
    const allCounts = instanceCounts.every((c) => c === maxInstances);
    return {
      scenario: 'heavy-input',
      params: {
        rounds,
        batches,
        services,
        eventsPerBatch,
        serveFlags: options.serveFlags ?? [],
        maxInstancesPerService: maxInstances,
        floorNamespace,
        confirmAfter,
        externalIPs: count,
        healthzEveryMs: HEALTHZ_EVERY_MS,
      },
      figures: {
        objectBytesMax: objectBytes,
        reviewBytes: big.reviewBytes,
        bigAdmission: lat(bg),
        bigCreate: lat(bc),
        bigUpdate: lat(bu),
        floorAdmission: lat(fl),
        bigHandler: lat(bigHandler),
        floorHandler: lat(floorHandler),
        healthzIdle: lat(idle),
        healthzDuringBig: lat(hBig),
        healthzDuringFloor: lat(hFloor),
        healthzWholeRun: lat(hAll),
        healthzFailures: healthFailures,
        servePeakRssBytes: peakRss,
        bigPhaseMs: bigEnd - idleEnd,
        instancesPerBigService: instanceCounts,
        reconcileMs,
        registered,
        audit: lat(au),
        auditCodes: audit.codes,
        auditDistinctServices: lat(distinct),
        auditBatchBytes: audit.batches.map((b) => b.bytes),
        auditChangedPerBatch: audit.batches[0]?.changed ?? 0,
        auditIgnoredPerBatch: audit.batches.map((b) => b.ignored),
        auditConsulRequests: audit.consul,
        auditKubeRequests: audit.kube,
      },
      ratios: { bigP99OverFloor: p99Ratio, bigP50OverFloor: ratio(bg.p50, fl.p50) },
      targets: [
        atMost('big Service admission p99 (ms)', bg.p99, 200),
        atMost('/healthz max while big admissions run (ms)', hBig.max, 100),
        atMost('audit batch p99 (ms)', au.p99, 5000),
      ],
      rows: [
        {
          metric: `big Service admission (${count.toLocaleString('en-US')} externalIPs, stored object ${objectBytes.toLocaleString('en-US')} bytes; AdmissionReview ${mb(big.reviewBytes.create)} CREATE / ${mb(big.reviewBytes.update)} UPDATE; ${rounds} × CREATE + UPDATE sent to serve, one at a time; baseline: the same reviews for a Service in ${floorNamespace}, denied): p50 / p99 / max`,
          ours: `${ms(bg.p50)} / ${ms(bg.p99)} / ${ms(bg.max)}`,
          baseline: `${ms(fl.p50)} / ${ms(fl.p99)} / ${ms(fl.max)}`,
          ratio: p99Ratio,
          target: 'p99 <= 200 ms',
          met: bg.p99 <= 200,
        },
        {
          metric: `big Service admission p50 / p99: CREATE (${maxInstances} registrations written) / UPDATE (${2 * movedRegistered} registrations changed)`,
          ours: `${ms(bc.p50)} / ${ms(bc.p99)}; ${ms(bu.p50)} / ${ms(bu.p99)}`,
        },
        {
          metric:
            "of which serve's handler (its log's durationMs: after the body is read and parsed): p50 / p99 / max",
          ours: `${ms(bigHandler.p50)} / ${ms(bigHandler.p99)} / ${ms(bigHandler.max)}`,
          baseline: `${ms(floorHandler.p50)} / ${ms(floorHandler.p99)} / ${ms(floorHandler.max)}`,
          ratio: ratio(bigHandler.p99, floorHandler.p99),
        },
        {
          metric: `/healthz every ${HEALTHZ_EVERY_MS} ms on its own connection, while a big review is in flight: max / p99 (${hBig.count} polls)`,
          ours: `${ms(hBig.max)} / ${ms(hBig.p99)}`,
          baseline: `${ms(idle.max)} / ${ms(idle.p99)}`,
          ratio: ratio(hBig.max, idle.max),
          target: 'max <= 100 ms',
          met: hBig.max <= 100,
        },
        {
          metric: `/healthz while a floor review is in flight / over the whole big phase with its confirmations: max / p99`,
          ours: `${ms(hFloor.max)} / ${ms(hFloor.p99)}; ${ms(hAll.max)} / ${ms(hAll.p99)}`,
        },
        {
          metric: `Consul instances per big Service after the last confirmation (--max-instances-per-service ${maxInstances}); floor Services registered`,
          ours: `${instanceCounts.length} × ${[...new Set(instanceCounts)].join(', ')}, ${wrongBig.length === 0 ? 'exactly the first ' + maxInstances + ' stored' : wrongBig.length + ' differ'}; ${floorRegistered}`,
          target: `= ${maxInstances}`,
          met: allCounts && wrongBig.length === 0,
        },
        {
          metric: 'serve peak RSS during the big phase',
          ours: mb(peakRss),
        },
        {
          metric: `audit world: ${world.length} Services (${world.filter((s) => s.kind === 'nodeport').length} NodePort with slices, ${world.filter((s) => s.kind === 'loadbalancer').length} LoadBalancer with ingress, ${world.filter((s) => s.kind === 'externalips').length} externalIPs) registered by one reconcile`,
          ours: `${registered} instances, ${ms(reconcileMs)}`,
        },
        {
          metric: `audit batch (${batches} batches of ${eventsPerBatch} events, ${mb(batchBytes.p50)} each (p50): ${audit.batches[0]?.changed ?? 0} real changes, ${distinct.p50} distinct services (p50), ~${Math.round(audit.batches.reduce((a, b) => a + b.ignored, 0) / Math.max(1, audit.batches.length))} non-2xx / dry-run events; sent one at a time): p50 / p99 / max`,
          ours: `${ms(au.p50)} / ${ms(au.p99)} / ${ms(au.max)}`,
          target: 'p99 <= 5 s',
          met: au.p99 <= 5000,
        },
        { metric: 'audit answer codes', ours: codes },
        {
          metric: 'audit requests per batch (min–max)',
          ours: `consul: ${countRange(audit.consul)}; kube: ${countRange(audit.kube)}`,
        },
      ],
      checks: {
        failures: [...big.failures, ...audit.failures].slice(0, 20),
        failureCount: big.failures.length + audit.failures.length,
        bigAnswered: big.big.length,
        floorAnswered: big.floor.length,
        bigWarned: big.warned,
        instanceCounts,
        wrongBig,
        floorRegistered,
        objectBytesMax: objectBytes,
        healthzPolls: samples.length,
        healthzDuringBig: hBig.count,
        healthzFailures: healthFailures,
        registered,
        auditBatches: audit.answers.length,
        auditCodes: audit.codes,
        auditNodeReadsPerBatch: audit.consul.map((c) => c['GET /v1/catalog/node/:node'] ?? 0),
        reconcileLeftOver: leftOver,
      },
    };
  } finally {
    await serve?.stop();
    await host.close();
  }
}
