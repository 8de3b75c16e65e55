// Parent side of the emulator process (emulator-host.ts): fork it, send requests over IPC, get
// typed answers. Also the shared message types.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FaultRule } from '../../dev/emulators/faults.js';
import type { AdmissionCallRecord } from '../../dev/emulators/kube/index.js';
import type { Obj, WorldSize } from './fixtures.js';

export interface HostOptions {
  /** Widen the NodePort range to 30000-nodePortMax (kube-apiserver --service-node-port-range). */
  nodePortMax?: number;
  /** Put a recording proxy in front of Consul (clientConsulAddress) that logs txn operations. */
  recordTxns?: boolean;
}

export interface HostStarted {
  /** The Consul emulator itself ("127.0.0.1:PORT"). */
  consulAddress: string;
  consulUrl: string;
  /** What the system under test should use: the recorder when recording, else consulAddress. */
  clientConsulAddress: string;
  kubeUrl: string;
  kubeconfigPath: string;
  pid: number;
}

export interface RegistrationRow {
  ID: string;
  Service: string;
  Address: string;
  Port: number;
  Tags: string[];
  Meta: Record<string, string>;
  ModifyIndex: number;
  Check?: { CheckID: string; Status: string; ModifyIndex: number };
}

export interface TxnOpRecord {
  type: string;
  verb: string;
  /** Service ID, CheckID or node name. */
  id: string;
  /** Service name (Service ops) or ServiceID (Check ops). */
  service: string;
  /** "namespace/name" from the registration's meta (Service set ops). */
  ref?: string;
}

export interface CatalogDiff {
  servicesSet: number;
  servicesDeleted: number;
  checksSet: number;
  checksDeleted: number;
  /** The Kubernetes services ("namespace/name") whose registrations changed. */
  refs: string[];
}

/** A Consul fault rule that survives IPC (a string path, no RegExp). */
export type ConsulFault = Omit<FaultRule, 'path'> & { path?: string };

/** The Kubernetes emulator's webhook calls from index `from` on, and how many there are in all. */
export interface AdmissionCalls {
  total: number;
  records: AdmissionCallRecord[];
}

export type RequestCounts = { consul: Record<string, number>; kube: Record<string, number> };

export type HostRequest =
  | { type: 'start'; options: HostOptions }
  | { type: 'seed-world'; size: WorldSize; changed?: number[]; consul: boolean }
  | { type: 'seed-changed'; size: WorldSize; changed: number[] }
  | { type: 'seed-events'; perKind: number }
  | { type: 'seed-objects'; objects: Obj[] }
  | { type: 'wire'; serveUrl: string }
  | { type: 'reset-counts' }
  | { type: 'counts' }
  | { type: 'txn-log' }
  | { type: 'registrations'; node: string }
  | { type: 'mark'; node: string }
  | { type: 'diff'; node: string }
  | { type: 'deliveries' }
  | { type: 'consul-fault'; rule: ConsulFault }
  | { type: 'consul-faults-clear' }
  | { type: 'admission-calls'; from: number }
  | { type: 'memory' }
  | { type: 'close' };

export type HostReply =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export class EmulatorHost {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private exited = false;

  private constructor(
    readonly child: ChildProcess,
    public started: HostStarted,
  ) {}

  /** `nodeArgs`: extra node options for the emulator process, e.g. --cpu-prof. */
  static async start(options: HostOptions = {}, nodeArgs: string[] = []): Promise<EmulatorHost> {
    const child = fork(join(import.meta.dirname, 'emulator-host.ts'), [], {
      execArgv: [...nodeArgs, '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // The emulators hold the whole 10,000-service cluster: give them room.
      env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=4096' },
    });
    const host = new EmulatorHost(child, undefined as unknown as HostStarted);
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
    host.started = (await host.call({ type: 'start', options })) as HostStarted;
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

  async counts(): Promise<RequestCounts> {
    return (await this.call({ type: 'counts' })) as RequestCounts;
  }

  async resetCounts(): Promise<void> {
    await this.call({ type: 'reset-counts' });
  }

  async registrations(node: string): Promise<RegistrationRow[]> {
    return (await this.call({ type: 'registrations', node })) as RegistrationRow[];
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    // SIGTERM-free shutdown (the host exits by itself), so --cpu-prof profiles get written.
    await this.call({ type: 'close' }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
