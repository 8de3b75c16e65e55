// The benchmark's emulator process: the Consul and Kubernetes API emulators side by side, driven
// over IPC by the load generator (seed, wire the webhooks and watch, inject Consul faults, reset /
// read request counts and webhook calls, inspect the catalog). Started by emulators.ts with
// child_process.fork.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  startConsulEmulator,
  watchesFromAgentConfig,
  type ConsulEmulator,
} from '../../dev/emulators/consul/index.js';
import { startKubeEmulator, type KubeEmulator } from '../../dev/emulators/kube/index.js';
import { META_K8S_NAME, META_K8S_NAMESPACE } from '../../src/translate/keys.js';
import {
  consulServices,
  endpointSlice,
  eventPoolObjects,
  serviceObject,
  worldService,
  worldObjects,
  type EventPool,
  type Obj,
  type WorldSize,
} from './fixtures.js';
import type {
  AdmissionCalls,
  CatalogDiff,
  HostOptions,
  HostReply,
  HostRequest,
  HostStarted,
  RegistrationRow,
  TxnOpRecord,
} from './emulators.js';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

/** A pass-through proxy in front of Consul that records every txn's operations (tests only). */
async function startTxnRecorder(
  target: ConsulEmulator,
  log: TxnOpRecord[][],
): Promise<{ server: Server; address: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'PUT' && req.url?.startsWith('/v1/txn')) {
        try {
          log.push(summarizeTxn(JSON.parse(body.toString('utf8'))));
        } catch {
          log.push([]);
        }
      }
      const upstream = httpRequest(
        {
          host: target.host,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.address },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

function summarizeTxn(ops: unknown): TxnOpRecord[] {
  if (!Array.isArray(ops)) return [];
  return ops.map((raw: Record<string, Record<string, unknown>>) => {
    const [type, op] = Object.entries(raw)[0] ?? ['?', {}];
    const verb = text(op.Verb);
    if (type === 'Service') {
      const s = (op.Service ?? {}) as Record<string, unknown>;
      const meta = (s.Meta ?? {}) as Record<string, string>;
      return {
        type,
        verb,
        id: text(s.ID),
        service: text(s.Service),
        ...(meta[META_K8S_NAMESPACE]
          ? { ref: `${meta[META_K8S_NAMESPACE]}/${meta[META_K8S_NAME] ?? ''}` }
          : {}),
      };
    }
    if (type === 'Check') {
      const c = (op.Check ?? {}) as Record<string, unknown>;
      return {
        type,
        verb,
        id: text(c.CheckID),
        service: text(c.ServiceID),
      };
    }
    const n = (op.Node ?? {}) as Record<string, unknown>;
    return { type, verb, id: text(n.Node), service: '' };
  });
}

let consul: ConsulEmulator;
let kube: KubeEmulator;
let recorder: { server: Server; address: string } | undefined;
const txnLog: TxnOpRecord[][] = [];
let serveUrl = '';
let tempDir = '';
let mark: Map<string, { ref: string; kind: 'service' | 'check'; serviceId?: string }> | undefined;
let markIndex = 0;

async function consulTxn(ops: unknown[]): Promise<void> {
  const res = await fetch(`${consul.url}/v1/txn`, { method: 'PUT', body: JSON.stringify(ops) });
  if (res.status !== 200) throw new Error(`seed txn: ${res.status} ${await res.text()}`);
}

async function seedConsul(size: WorldSize): Promise<number> {
  const all = consulServices(size);
  for (let i = 0; i < all.length; i += 32) {
    const ops: unknown[] = [];
    for (const s of all.slice(i, i + 32)) {
      ops.push({ Node: { Verb: 'set', Node: { Node: s.node, Address: s.address } } });
      ops.push({
        Service: {
          Verb: 'set',
          Node: s.node,
          Service: { ID: s.id, Service: s.name, Port: s.port, Tags: s.tags, Address: s.address },
        },
      });
    }
    await consulTxn(ops);
  }
  return all.length;
}

function seedBatched(objects: Iterable<Obj>): number {
  let n = 0;
  let batch: Obj[] = [];
  for (const o of objects) {
    batch.push(o);
    if (batch.length === 1000) {
      kube.seed(batch);
      n += batch.length;
      batch = [];
    }
  }
  kube.seed(batch);
  return n + batch.length;
}

/**
 * Stores the changed variant of some world services, as `kubectl apply` and the controllers
 * would leave them: allocated node ports and cluster IPs are kept (re-seeding without them would
 * allocate new ones).
 */
async function seedChanged(size: WorldSize, changed: readonly number[]): Promise<number> {
  const objects: Obj[] = [];
  for (const i of changed) {
    const s = worldService(size, i, true);
    const obj = serviceObject(s, true) as { spec: Record<string, unknown> };
    const res = await fetch(`${kube.url}/api/v1/namespaces/${s.namespace}/services/${s.name}`);
    if (res.status !== 200)
      throw new Error(`seed-changed: ${s.namespace}/${s.name}: ${res.status}`);
    const current = (await res.json()) as { spec: Record<string, unknown> };
    for (const key of ['ports', 'clusterIP', 'clusterIPs']) obj.spec[key] = current.spec[key];
    objects.push(obj, endpointSlice(s.namespace, s.name, s.endpoints));
  }
  kube.seed(objects);
  return objects.length;
}

/** The webhook configuration and watch from infra/, pointed at the server under test. */
function wire(url: string): void {
  serveUrl = url;
  const yamlText = readFileSync(
    join(REPO_ROOT, 'infra/kubernetes/base/validating-webhook-configuration.yaml'),
    'utf8',
  );
  kube.setWebhooks([parseYaml(yamlText) as unknown]);
  const watchJson = readFileSync(join(REPO_ROOT, 'infra/consul/watch.json'), 'utf8');
  for (const w of watchesFromAgentConfig(watchJson, url)) consul.addWatch(w);
}

function registrations(node: string): RegistrationRow[] {
  const snap = consul.snapshot();
  const checks = new Map(
    snap.checks.filter((c) => c.Node === node && c.ServiceID).map((c) => [c.ServiceID, c]),
  );
  return snap.services
    .filter((s) => s.Node === node)
    .map((s) => {
      const c = checks.get(s.ID);
      return {
        ID: s.ID,
        Service: s.Service,
        Address: s.Address,
        Port: s.Port,
        Tags: s.Tags ?? [],
        Meta: s.Meta ?? {},
        ModifyIndex: s.ModifyIndex,
        ...(c
          ? { Check: { CheckID: c.CheckID, Status: c.Status, ModifyIndex: c.ModifyIndex } }
          : {}),
      };
    });
}

const refOf = (meta: Record<string, string> | null): string =>
  `${meta?.[META_K8S_NAMESPACE] ?? ''}/${meta?.[META_K8S_NAME] ?? ''}`;

/** Remembers the node's services and checks, to diff a later state against. */
function markCatalog(node: string): number {
  const snap = consul.snapshot();
  const byService = new Map<string, string>();
  mark = new Map();
  for (const s of snap.services) {
    if (s.Node !== node) continue;
    byService.set(s.ID, refOf(s.Meta));
    mark.set(`service:${s.ID}`, { ref: refOf(s.Meta), kind: 'service' });
  }
  for (const c of snap.checks) {
    if (c.Node !== node || !c.ServiceID) continue;
    mark.set(`check:${c.CheckID}`, {
      ref: byService.get(c.ServiceID) ?? '',
      kind: 'check',
      serviceId: c.ServiceID,
    });
  }
  markIndex = consul.index();
  return markIndex;
}

/** What changed on the node since markCatalog: the write operations a minimal sync needs. */
function diffSinceMark(node: string): CatalogDiff {
  if (!mark) throw new Error('diff without mark');
  const snap = consul.snapshot();
  const diff: CatalogDiff = {
    servicesSet: 0,
    servicesDeleted: 0,
    checksSet: 0,
    checksDeleted: 0,
    refs: [],
  };
  const refs = new Set<string>();
  const seen = new Set<string>();
  const byService = new Map<string, string>();
  for (const s of snap.services) {
    if (s.Node !== node) continue;
    byService.set(s.ID, refOf(s.Meta));
    seen.add(`service:${s.ID}`);
    if (s.ModifyIndex > markIndex) {
      diff.servicesSet++;
      refs.add(refOf(s.Meta));
    }
  }
  for (const c of snap.checks) {
    if (c.Node !== node || !c.ServiceID) continue;
    seen.add(`check:${c.CheckID}`);
    if (c.ModifyIndex > markIndex) {
      diff.checksSet++;
      refs.add(byService.get(c.ServiceID) ?? '');
    }
  }
  const deletedServices = new Set<string>();
  for (const [key, was] of mark) {
    if (seen.has(key) || was.kind !== 'service') continue;
    diff.servicesDeleted++;
    deletedServices.add(key.slice('service:'.length));
    refs.add(was.ref);
  }
  for (const [key, was] of mark) {
    // A deleted service takes its checks with it: one operation for both.
    if (seen.has(key) || was.kind !== 'check' || deletedServices.has(was.serviceId ?? '')) continue;
    diff.checksDeleted++;
    refs.add(was.ref);
  }
  diff.refs = [...refs].sort();
  return diff;
}

async function handle(msg: HostRequest): Promise<unknown> {
  switch (msg.type) {
    case 'seed-world': {
      const changed = msg.changed ? new Set(msg.changed) : undefined;
      const started = performance.now();
      const objects = seedBatched(worldObjects(msg.size, changed));
      const consulSeeded = msg.consul ? await seedConsul(msg.size) : 0;
      return { objects, consulServices: consulSeeded, ms: performance.now() - started };
    }
    case 'seed-changed':
      return { objects: await seedChanged(msg.size, msg.changed) };
    case 'seed-events': {
      const pool: EventPool = { perKind: msg.perKind };
      return { objects: seedBatched(eventPoolObjects(pool)) };
    }
    case 'seed-objects':
      return { objects: seedBatched(msg.objects) };
    case 'wire':
      wire(msg.serveUrl);
      return { serveUrl };
    case 'reset-counts':
      consul.resetRequestCounts();
      kube.resetRequestCounts();
      txnLog.length = 0;
      return null;
    case 'counts':
      return { consul: consul.requestCounts(), kube: kube.requestCounts() };
    case 'txn-log':
      return txnLog;
    case 'registrations':
      return registrations(msg.node);
    case 'mark':
      return markCatalog(msg.node);
    case 'diff':
      return diffSinceMark(msg.node);
    case 'deliveries':
      return consul.deliveries.length;
    case 'consul-fault':
      consul.faults.add(msg.rule);
      return null;
    case 'consul-faults-clear':
      consul.faults.clear();
      return null;
    case 'admission-calls': {
      const calls: AdmissionCalls = {
        total: kube.admissionCalls.length,
        records: kube.admissionCalls.slice(msg.from),
      };
      return calls;
    }
    case 'memory':
      return process.memoryUsage().rss;
    case 'close':
      await Promise.all([consul.close(), kube.close()]);
      rmSync(tempDir, { recursive: true, force: true });
      recorder?.server.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

async function start(options: HostOptions): Promise<HostStarted> {
  tempDir = mkdtempSync(join(tmpdir(), 'bench-emulators-'));
  const kubeconfigPath = join(tempDir, 'kubeconfig');
  [consul, kube] = await Promise.all([
    startConsulEmulator(),
    startKubeEmulator({
      kubeconfigOut: kubeconfigPath,
      // kube-apiserver's --service-node-port-range: 4,000 NodePort and 3,000 LoadBalancer
      // services need more than the default 2,768 ports, as a cluster of this size configures.
      ...(options.nodePortMax ? { serviceNodePortRange: `30000-${options.nodePortMax}` } : {}),
      admission: {
        webhooks: [],
        // clientConfig.service of the infra/ webhook → the server under test (on loopback).
        resolveService: () => serveUrl,
      },
    }),
  ]);
  if (options.recordTxns) recorder = await startTxnRecorder(consul, txnLog);
  return {
    consulAddress: consul.address,
    consulUrl: consul.url,
    clientConsulAddress: recorder?.address ?? consul.address,
    kubeUrl: kube.url,
    kubeconfigPath,
    pid: process.pid,
  };
}

process.on('message', (raw: unknown) => {
  const msg = raw as HostRequest & { id: number };
  const reply = (r: HostReply): void => {
    process.send?.(r);
  };
  const run = msg.type === 'start' ? start(msg.options) : handle(msg);
  run.then(
    (result) => reply({ id: msg.id, ok: true, result }),
    (err: unknown) =>
      reply({
        id: msg.id,
        ok: false,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      }),
  );
});
process.on('disconnect', () => process.exit(0));
