// Parent side of the fuzz suite's emulator process (host.ts): fork it, send requests over IPC,
// get typed answers. Also the shared message types.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FaultRule } from '../../dev/emulators/faults.js';

export interface HostStarted {
  /** "127.0.0.1:PORT", for --consul-http-addr. */
  consulAddress: string;
  consulUrl: string;
  kubeUrl: string;
  kubeconfigPath: string;
  kubeSystemUid: string;
  pid: number;
}

/** Requests by kind since the last take, as the emulators count them. */
export interface Counts {
  consul: Record<string, number>;
  kube: Record<string, number>;
}

/** One registration, check or Kubernetes object that changed between two marks. */
export interface Change {
  system: 'consul' | 'kubernetes';
  op: 'add' | 'modify' | 'delete';
  /** `service NODE/ID`, `check NODE/CHECKID`, `services NS/NAME`, `endpointslices NS/NAME`. */
  what: string;
  /** Consul: the registration's Kubernetes service (meta), "ns/name"; Kubernetes: the object. */
  ref: string;
  /** Consul service name, or the Kubernetes object's name. */
  name: string;
  /** Whether the product owned it before / after (docs/reference.md ownership rules; true when absent). */
  ownedBefore: boolean;
  ownedAfter: boolean;
}

/** A fault rule that survives IPC (a RegExp travels as its source). */
export type HostFault = Omit<FaultRule, 'path'> & { path?: string; pathRegex?: string };

export interface SeedWorld {
  kube: unknown[];
  /** PUT /v1/catalog/register bodies. */
  consul: unknown[];
}

export interface Owner {
  node: string;
  syncId: string;
  writeNamespace: string;
}

export type HostRequest =
  | { type: 'start' }
  | { type: 'seed'; world: SeedWorld; owner: Owner }
  | { type: 'take-counts' }
  | { type: 'mark' }
  | { type: 'diff'; consul: boolean; kube: boolean }
  | { type: 'consul-services-index' }
  /** Consul service names with at least one instance without the `k8s` tag. */
  | { type: 'untagged-names' }
  | { type: 'fault'; consul?: HostFault[]; kube?: HostFault[] }
  | { type: 'faults-clear' }
  | { type: 'memory' }
  | { type: 'close' };

export type HostReply =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

const CONSUL_WRITE = /^(PUT|POST|DELETE|PATCH) /;
const KUBE_WRITE = /^(create|update|patch|delete|deletecollection) /;

/** The write requests among counts, as `consul PUT /v1/txn ×2`. */
export function writesOf(counts: Counts): { consul: string[]; kube: string[] } {
  const consul: string[] = [];
  const kube: string[] = [];
  for (const [k, n] of Object.entries(counts.consul))
    if (n > 0 && CONSUL_WRITE.test(k)) consul.push(`consul ${k} ×${n}`);
  for (const [k, n] of Object.entries(counts.kube))
    if (n > 0 && KUBE_WRITE.test(k)) kube.push(`kubernetes ${k} ×${n}`);
  return { consul, kube };
}

export class EmulatorHost {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private exited = false;
  started!: HostStarted;

  private constructor(readonly child: ChildProcess) {}

  static async start(): Promise<EmulatorHost> {
    const child = fork(join(import.meta.dirname, 'host.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const host = new EmulatorHost(child);
    child.on('message', (raw: unknown) => {
      const reply = raw as HostReply;
      const p = host.pending.get(reply.id);
      if (!p) return;
      host.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.result);
      else p.reject(new Error(`emulator host: ${reply.error}`));
    });
    child.on('exit', (code) => {
      host.exited = true;
      for (const p of host.pending.values())
        p.reject(new Error(`emulator host exited (${code ?? 'signal'})`));
      host.pending.clear();
    });
    host.started = (await host.call({ type: 'start' })) as HostStarted;
    return host;
  }

  call(msg: HostRequest): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error('emulator host is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...msg, id });
    });
  }

  async takeCounts(): Promise<Counts> {
    return (await this.call({ type: 'take-counts' })) as Counts;
  }

  async diff(consul: boolean, kube: boolean): Promise<Change[]> {
    return (await this.call({ type: 'diff', consul, kube })) as Change[];
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    await this.call({ type: 'close' }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
