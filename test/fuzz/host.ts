// The fuzz suite's emulator process: the Consul and Kubernetes API emulators side by side (their
// own process, so their CPU never delays the driver's clock or the healthz poller), driven over
// IPC by the driver (host-client.ts): seed the world, read-and-reset the request counters, diff
// both catalogs against a mark (which registrations and Services a request changed), inject and
// clear faults. No webhook and no watch is wired: the driver is the only caller of `serve`, so
// every write either emulator sees is attributable to the request in flight.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startConsulEmulator, type ConsulEmulator } from '../../dev/emulators/consul/index.js';
import { startKubeEmulator, type KubeEmulator } from '../../dev/emulators/kube/index.js';
import type { FaultRule } from '../../dev/emulators/faults.js';
import type {
  Change,
  Counts,
  HostFault,
  HostReply,
  HostRequest,
  HostStarted,
  SeedWorld,
} from './host-client.js';

const META_SOURCE = 'external-source';
const META_NS = 'external-k8s-ns';
const META_NAME = 'external-k8s-name';
const META_SYNC_ID = 'external-k8s-sync-id';

let consul: ConsulEmulator;
let kube: KubeEmulator;
let tempDir = '';
/** Settings the ownership rules need: the sync node, our sync id, the write namespace. */
let owner = { node: 'k8s-sync', syncId: '', writeNamespace: 'default' };

interface ConsulEntry {
  node: string;
  id: string;
  service: string;
  ref: string;
  owned: boolean;
  modifyIndex: number;
  kind: 'service' | 'check';
}
interface KubeEntry {
  resource: 'services' | 'endpointslices';
  namespace: string;
  name: string;
  resourceVersion: string;
  owned: boolean;
}

let consulMark = new Map<string, ConsulEntry>();
let kubeMark = new Map<string, KubeEntry>();

function consulEntries(): Map<string, ConsulEntry> {
  const snap = consul.snapshot();
  const out = new Map<string, ConsulEntry>();
  const serviceOwned = new Map<string, ConsulEntry>();
  for (const s of snap.services) {
    const meta = s.Meta ?? {};
    const entry: ConsulEntry = {
      node: s.Node,
      id: s.ID,
      service: s.Service,
      ref: `${meta[META_NS] ?? ''}/${meta[META_NAME] ?? ''}`,
      owned:
        s.Node === owner.node &&
        meta[META_SOURCE] === 'kubernetes' &&
        meta[META_SYNC_ID] === owner.syncId,
      modifyIndex: s.ModifyIndex,
      kind: 'service',
    };
    out.set(`service ${s.Node}/${s.ID}`, entry);
    serviceOwned.set(`${s.Node}/${s.ID}`, entry);
  }
  for (const c of snap.checks) {
    const parent = c.ServiceID ? serviceOwned.get(`${c.Node}/${c.ServiceID}`) : undefined;
    out.set(`check ${c.Node}/${c.CheckID}`, {
      node: c.Node,
      id: c.CheckID,
      service: parent?.service ?? '',
      ref: parent?.ref ?? '/',
      owned: parent?.owned ?? false,
      modifyIndex: c.ModifyIndex,
      kind: 'check',
    });
  }
  return out;
}

interface KubeItem {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
}

async function kubeEntries(): Promise<Map<string, KubeEntry>> {
  const out = new Map<string, KubeEntry>();
  for (const [resource, path] of [
    // The marker keeps the suite's own reads out of the injected faults (suite.ts FAULTS).
    ['services', '/api/v1/services?fuzz-host=1'],
    ['endpointslices', '/apis/discovery.k8s.io/v1/endpointslices?fuzz-host=1'],
  ] as const) {
    const res = await fetch(`${kube.url}${path}`);
    if (res.status !== 200) throw new Error(`list ${resource}: ${res.status}`);
    const list = (await res.json()) as { items?: KubeItem[] };
    for (const item of list.items ?? []) {
      const namespace = item.metadata?.namespace ?? '';
      const name = item.metadata?.name ?? '';
      out.set(`${resource} ${namespace}/${name}`, {
        resource,
        namespace,
        name,
        resourceVersion: item.metadata?.resourceVersion ?? '',
        owned:
          resource === 'services' &&
          namespace === owner.writeNamespace &&
          item.metadata?.labels?.consul === 'true',
      });
    }
  }
  return out;
}

function consulDiff(before: Map<string, ConsulEntry>, after: Map<string, ConsulEntry>): Change[] {
  const changes: Change[] = [];
  for (const [key, now] of after) {
    const was = before.get(key);
    if (was && was.modifyIndex === now.modifyIndex) continue;
    changes.push({
      system: 'consul',
      op: was ? 'modify' : 'add',
      what: key,
      ref: now.ref,
      name: now.service,
      ownedBefore: was?.owned ?? true,
      ownedAfter: now.owned,
    });
  }
  for (const [key, was] of before) {
    if (after.has(key)) continue;
    changes.push({
      system: 'consul',
      op: 'delete',
      what: key,
      ref: was.ref,
      name: was.service,
      ownedBefore: was.owned,
      ownedAfter: true,
    });
  }
  return changes;
}

function kubeDiff(before: Map<string, KubeEntry>, after: Map<string, KubeEntry>): Change[] {
  const changes: Change[] = [];
  for (const [key, now] of after) {
    const was = before.get(key);
    if (was && was.resourceVersion === now.resourceVersion) continue;
    changes.push({
      system: 'kubernetes',
      op: was ? 'modify' : 'add',
      what: key,
      ref: `${now.namespace}/${now.name}`,
      name: now.name,
      ownedBefore: was?.owned ?? true,
      ownedAfter: now.owned,
    });
  }
  for (const [key, was] of before) {
    if (after.has(key)) continue;
    changes.push({
      system: 'kubernetes',
      op: 'delete',
      what: key,
      ref: `${was.namespace}/${was.name}`,
      name: was.name,
      ownedBefore: was.owned,
      ownedAfter: true,
    });
  }
  return changes;
}

async function consulPut(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${consul.url}${path}`, { method: 'PUT', body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
}

function faultRule(f: HostFault): FaultRule {
  const { pathRegex, ...rest } = f;
  return pathRegex === undefined ? rest : { ...rest, path: new RegExp(pathRegex) };
}

async function seed(world: SeedWorld): Promise<null> {
  kube.seed(world.kube);
  for (const r of world.consul) await consulPut('/v1/catalog/register', r);
  return null;
}

async function handle(msg: HostRequest): Promise<unknown> {
  switch (msg.type) {
    case 'seed':
      owner = msg.owner;
      return seed(msg.world);
    case 'take-counts': {
      const counts: Counts = { consul: consul.requestCounts(), kube: kube.requestCounts() };
      consul.resetRequestCounts();
      kube.resetRequestCounts();
      return counts;
    }
    case 'mark':
      consulMark = consulEntries();
      kubeMark = await kubeEntries();
      return null;
    case 'diff': {
      const changes: Change[] = [];
      if (msg.consul) {
        const now = consulEntries();
        changes.push(...consulDiff(consulMark, now));
        consulMark = now;
      }
      if (msg.kube) {
        const now = await kubeEntries();
        changes.push(...kubeDiff(kubeMark, now));
        kubeMark = now;
      }
      return changes;
    }
    case 'consul-services-index': {
      const res = await fetch(`${consul.url}/v1/catalog/services?fuzz-host=1`);
      await res.arrayBuffer();
      return Number(res.headers.get('x-consul-index') ?? 0);
    }
    case 'untagged-names': {
      const names = new Set<string>();
      for (const s of consul.snapshot().services)
        if (!(s.Tags ?? []).includes('k8s')) names.add(s.Service);
      return [...names];
    }
    case 'fault':
      for (const f of msg.consul ?? []) consul.faults.add(faultRule(f));
      for (const f of msg.kube ?? []) kube.faults.add(faultRule(f));
      return null;
    case 'faults-clear':
      consul.faults.clear();
      kube.faults.clear();
      return null;
    case 'memory':
      return process.memoryUsage().rss;
    case 'close':
      await Promise.all([consul.close(), kube.close()]);
      rmSync(tempDir, { recursive: true, force: true });
      setImmediate(() => process.exit(0));
      return null;
    case 'start':
      throw new Error('already started');
  }
}

async function start(): Promise<HostStarted> {
  tempDir = mkdtempSync(join(tmpdir(), 'fuzz-emulators-'));
  const kubeconfigPath = join(tempDir, 'kubeconfig');
  [consul, kube] = await Promise.all([
    startConsulEmulator(),
    startKubeEmulator({ kubeconfigOut: kubeconfigPath }),
  ]);
  return {
    consulAddress: consul.address,
    consulUrl: consul.url,
    kubeUrl: kube.url,
    kubeconfigPath,
    kubeSystemUid: kube.kubeSystemUid,
    pid: process.pid,
  };
}

process.on('message', (raw: unknown) => {
  const msg = raw as HostRequest & { id: number };
  const run = msg.type === 'start' ? start() : handle(msg);
  run.then(
    (result) => process.send?.({ id: msg.id, ok: true, result } satisfies HostReply),
    (err: unknown) =>
      process.send?.({
        id: msg.id,
        ok: false,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      } satisfies HostReply),
  );
});
process.on('disconnect', () => process.exit(0));
