// Kubernetes API server emulator: a real HTTP server on loopback that answers like
// kube-apiserver v1.32 for namespaces, services, endpointslices, nodes, pods,
// validatingwebhookconfigurations, events (events.k8s.io/v1, readable as core/v1 too) and
// networking.k8s.io/v1 ingresses and ingressclasses, with validating admission webhooks, an
// audit webhook backend and optional EndpointSlice / LoadBalancer controllers. Used by integration tests, the sandbox and the benchmarks through
// the real @kubernetes/client-node and kubectl.
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import {
  AdmissionDispatcher,
  type AdmissionCallRecord,
  type AdmissionOptions,
} from './admission.js';
import type { AfterAdmissionInjector, AfterAdmissionRule } from './after-admission.js';
import { KubeApi } from './api.js';
import { AuditBackend, type AuditDelivery, type AuditOptions } from './audit.js';
import {
  EndpointSliceController,
  LoadBalancerController,
  NodeIpamController,
} from './controllers.js';
import { Faults, type FaultInjector, type FaultRule } from '../faults.js';
import { createResourceDefs } from './resources.js';
import { Kubelets } from './kubelet.js';
import { Scheduler } from './scheduler.js';
import { HttpFront } from './server.js';
import { ServiceAllocators } from './services.js';
import { Store } from './store.js';
import { selfSignedCertificate } from './tls.js';
import { isObject } from './util.js';

export type { AdmissionCallRecord, AdmissionOptions } from './admission.js';
export type {
  AfterAdmissionInjector,
  AfterAdmissionRefusal,
  AfterAdmissionRule,
} from './after-admission.js';
export type { AuditDelivery, AuditOptions } from './audit.js';
export type { FaultInjector, FaultRule } from '../faults.js';
export { DEFAULT_POLICY as DEFAULT_AUDIT_POLICY } from './audit.js';
export { LB_CLEANUP_FINALIZER, MANAGED_BY_CONTROLLER } from './controllers.js';

/** uid of namespace kube-system: fixed, so a default --sync-id is stable across runs. */
export const KUBE_SYSTEM_UID = '5f0c2f3a-8c1e-4d2b-9a57-6b3e0c9d1a42';

export interface KubeEmulatorOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (any free port) */
  port?: number;
  /** write the kubeconfig file here */
  kubeconfigOut?: string;
  /** if set, require `Authorization: Bearer <token>` (401 Status otherwise); the kubeconfig carries it */
  token?: string;
  admission?: AdmissionOptions;
  audit?: AuditOptions;
  controllers?: {
    endpointSlices?: boolean;
    loadBalancer?: { delayMs?: number; ipPrefix?: string };
    /** ownerReference garbage collection; default: on when endpointSlices is on */
    garbageCollector?: boolean;
    /**
     * The node side of a cluster: a scheduler binds pods to Nodes, node IPAM gives each Node a
     * pod CIDR and a kubelet behind every Node runs the pods bound to it (Running, a pod IP,
     * Ready unless a readiness gate's condition is not True); default: on when endpointSlices is
     * on. Without Nodes (see `nodes`) pods stay Pending, Unschedulable.
     */
    pods?: boolean;
  };
  /** Nodes registered at start, as their kubelets would register them: Ready, with addresses. */
  nodes?: EmulatorNode[];
  /** kube-apiserver's --service-node-port-range; default 30000-32767 (2768 ports) */
  serviceNodePortRange?: string;
  logger?: (line: string) => void;
}

export interface EmulatorNode {
  name: string;
  /** the node's InternalIP: pods' hostIP */
  internalIP: string;
  /** spec.podCIDR; default: the next free /24 of 10.244.0.0/16 (node IPAM) */
  podCIDR?: string;
  labels?: Record<string, string>;
}

/** The Node object a kubelet registers (kubectl get nodes: Ready, VERSION v1.32.4). */
export function nodeObject(n: EmulatorNode): Record<string, unknown> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        ...n.labels,
      },
    },
    spec: n.podCIDR ? { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] } : {},
    status: {
      capacity: { cpu: '4', 'ephemeral-storage': '102626232Ki', memory: '16303964Ki', pods: '110' },
      allocatable: {
        cpu: '4',
        'ephemeral-storage': '102626232Ki',
        memory: '16303964Ki',
        pods: '110',
      },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
        },
      ],
      addresses: [
        { type: 'InternalIP', address: n.internalIP },
        { type: 'Hostname', address: n.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: '6.1.0-emulated',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        containerRuntimeVersion: 'containerd://1.7.24',
        kubeletVersion: 'v1.32.4',
        kubeProxyVersion: 'v1.32.4',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

export interface KubeEmulator {
  url: string;
  port: number;
  kubeconfigPath?: string;
  /**
   * kubeconfig YAML: cluster with insecure-skip-tls-verify (client-node refuses plain http
   * otherwise), server http://HOST:PORT, or https://HOST:PORT when a token is set (kubectl
   * sends bearer tokens only over TLS; the same port serves both).
   */
  kubeconfig: string;
  kubeSystemUid: string;
  faults: FaultInjector;
  /**
   * What the API server does to a write after every matching validating webhook answered
   * allowed: `add(rule)` / `clear()`. The first rule (in the order added, with `times` left)
   * matching a write's resource, subresource, namespace, name and admission operation is taken,
   * once per request:
   * - `delayMs` holds the store step (after admission, before storing and answering) without
   *   blocking other requests, which meanwhile read and write the old state. Storage then
   *   compare-and-swaps as etcd does: a create whose name was taken meanwhile gets 409
   *   AlreadyExists; an update, patch or delete whose object changed meanwhile goes round again
   *   on the current object (admitted again, rules not consulted again), so one that carried a
   *   resourceVersion gets 409 Conflict (the optimistic-lock message), one that did not is
   *   re-applied, and one whose object is gone gets 404.
   * - `refuse` then fails the request with the Status a real API server sends for the cause
   *   (a webhook's denial, ResourceQuota's 403, 422 Invalid, 409 Conflict, 504 Timeout); nothing
   *   is stored, no resourceVersion is used, no watch event is sent, and the audit
   *   ResponseComplete event carries the code. A `timeout` with `committed` stores the write and
   *   still answers 504.
   * Dry-run requests match only rules with `dryRun: true`. Every write that goes through the
   * pipeline is subject to the rules: HTTP clients and the built-in controllers (EndpointSlice,
   * LoadBalancer, garbage collector, the namespace controller's deletes) alike; `seed()` and the
   * final removal of a terminated namespace are not.
   */
  afterAdmission: AfterAdmissionInjector;
  /** HTTP requests by `<verb> <resource>[/<subresource>]`, e.g. 'list services', 'patch services/status' */
  requestCounts(): Record<string, number>;
  resetRequestCounts(): void;
  admissionCalls: AdmissionCallRecord[];
  auditDeliveries: AuditDelivery[];
  setWebhooks(webhooks: unknown[]): void;
  /**
   * Store objects directly (no admission, no audit): defaulting, allocation and validation
   * apply, status is kept as given, missing namespaces are created, existing objects replaced.
   * resourceVersion is bumped and watches are notified.
   */
  seed(objects: unknown[]): void;
  /** Resolves when the built-in controllers have no queued work. */
  idle(): Promise<void>;
  /**
   * Ends every open watch cleanly, as the API server does when a watch's timeout runs out (or
   * it restarts): clients resume from the last version they saw.
   */
  endWatches(): void;
  close(): Promise<void>;
}

function kubeconfigYaml(url: string, token: string | undefined): string {
  const user = token === undefined ? '  user: {}' : `  user:\n    token: ${JSON.stringify(token)}`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- cluster:',
    '    insecure-skip-tls-verify: true',
    `    server: ${url}`,
    '  name: kube-emulator',
    'contexts:',
    '- context:',
    '    cluster: kube-emulator',
    '    namespace: default',
    '    user: kube-emulator-admin',
    '  name: kube-emulator',
    'current-context: kube-emulator',
    'preferences: {}',
    'users:',
    '- name: kube-emulator-admin',
    user,
    '',
  ].join('\n');
}

export async function startKubeEmulator(opts: KubeEmulatorOptions = {}): Promise<KubeEmulator> {
  const log = opts.logger ?? ((): void => {});
  const defs = createResourceDefs(new ServiceAllocators(opts.serviceNodePortRange));
  const store = new Store(defs);
  const auditDeliveries: AuditDelivery[] = [];
  const audit = opts.audit ? new AuditBackend(opts.audit, auditDeliveries, log) : undefined;
  const admission = new AdmissionDispatcher(
    opts.admission,
    () => [...store.resource('validatingwebhookconfigurations').items.values()],
    log,
  );
  const api = new KubeApi(store, defs, admission, audit, log);
  api.seedObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  api.seedObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-node-lease' } });
  api.seedObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-public' } });
  api.seedObject({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'kube-system', uid: KUBE_SYSTEM_UID },
  });

  for (const n of opts.nodes ?? []) api.seedObject(nodeObject(n));

  const c = opts.controllers ?? {};
  api.gcEnabled = c.garbageCollector ?? Boolean(c.endpointSlices);
  const slices = c.endpointSlices ? new EndpointSliceController(api, log) : undefined;
  const lb = c.loadBalancer ? new LoadBalancerController(api, c.loadBalancer, log) : undefined;
  const nodeSide = c.pods ?? Boolean(c.endpointSlices);
  const ipam = nodeSide ? new NodeIpamController(api, log) : undefined;
  const scheduler = nodeSide ? new Scheduler(api, log) : undefined;
  const kubelets = nodeSide ? new Kubelets(api, log) : undefined;
  const controllers = [slices, lb, ipam, scheduler, kubelets].filter((x) => x !== undefined);
  if (controllers.length) {
    api.hooks.onChange = (resource, type, obj): void => {
      for (const controller of controllers) controller.onChange(resource, type, obj);
    };
  }

  const faults = new Faults('prefix');
  const counts = new Map<string, number>();
  let address = '';
  const front = new HttpFront({
    api,
    faults,
    counts,
    token: opts.token,
    log,
    serverAddress: () => address,
  });
  // One port, two protocols: plain HTTP (the `url`, client-node, fetch) and, sniffed from the
  // first byte of a TLS ClientHello, HTTPS with a throwaway self-signed certificate. kubectl
  // sends a kubeconfig's bearer token only to https servers, so with `token` the kubeconfig
  // points at https:// (insecure-skip-tls-verify) on the same port.
  const handler = (req: IncomingMessage, res: ServerResponse): void => void front.handle(req, res);
  const server: Server = createServer(handler);
  server.keepAliveTimeout = 30_000;
  let tlsServer: Server | undefined;
  const sockets = new Set<Socket>();
  const listener = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      try {
        if (first[0] === 0x16) {
          tlsServer ??= createHttpsServer(selfSignedCertificate(), handler);
          tlsServer.emit('connection', socket);
        } else {
          server.emit('connection', socket);
        }
      } catch (e) {
        log(`connection setup failed: ${(e as Error).message}`);
        socket.destroy();
        return;
      }
      process.nextTick(() => socket.resume());
    });
    socket.on('error', () => socket.destroy());
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(opts.port ?? 0, host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const port = (listener.address() as AddressInfo).port;
  address = `${host}:${port}`;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const url = `http://${hostPart}:${port}`;
  const kubeconfigServer = opts.token === undefined ? url : `https://${hostPart}:${port}`;
  const kubeconfig = kubeconfigYaml(kubeconfigServer, opts.token);
  if (opts.kubeconfigOut) writeFileSync(opts.kubeconfigOut, kubeconfig, { mode: 0o600 });

  let closed = false;
  return {
    url,
    port,
    kubeconfigPath: opts.kubeconfigOut,
    kubeconfig,
    kubeSystemUid: KUBE_SYSTEM_UID,
    faults: {
      add: (rule: FaultRule) => faults.add(rule),
      clear: () => faults.clear(),
    },
    afterAdmission: {
      add: (rule: AfterAdmissionRule) => api.afterAdmission.add(rule),
      clear: () => api.afterAdmission.clear(),
    },
    requestCounts: () => Object.fromEntries(counts),
    resetRequestCounts: () => counts.clear(),
    admissionCalls: admission.calls,
    auditDeliveries,
    setWebhooks: (webhooks) => admission.setWebhooks(webhooks),
    seed(objects) {
      for (const o of objects) {
        if (
          isObject(o) &&
          Array.isArray(o.items) &&
          typeof o.kind === 'string' &&
          o.kind.endsWith('List')
        ) {
          for (const item of o.items) api.seedObject(item);
        } else {
          api.seedObject(o);
        }
      }
    },
    idle: async () => {
      // one controller's write is another's event: settle until none has work left
      const queues = [ipam, scheduler, kubelets, slices].filter((x) => x !== undefined);
      for (let round = 0; round < 20; round++) {
        await Promise.all(queues.map((q) => q.idle()));
        const busy = await Promise.race([
          Promise.all(queues.map((q) => q.idle())).then(() => false),
          new Promise<boolean>((r) => setImmediate(() => r(true))),
        ]);
        if (!busy) break;
      }
    },
    endWatches: () => front.closeWatches(),
    async close() {
      if (closed) return;
      closed = true;
      api.stopped = true;
      slices?.stop();
      lb?.stop();
      ipam?.stop();
      scheduler?.stop();
      kubelets?.stop();
      front.closeWatches();
      await new Promise<void>((resolve) => {
        listener.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      await audit?.close();
    },
  };
}
