// Built-in controllers, standing in for kube-controller-manager and a cloud controller manager:
// the EndpointSlice controller (pkg/controller/endpointslice) and a LoadBalancer controller that
// provisions ingress IPs through services/status. Their writes go through the API pipeline, so
// they are admitted and audited as in a real cluster.
import type { ApiResponse, KubeApi } from './api.js';
import { matchesLabels, type Requirement } from './selectors.js';
import {
  asArray,
  asObject,
  deepEqual,
  isObject,
  orderKeys,
  stringMap,
  type JsonObject,
  type KubeObject,
  type UserInfo,
  str,
} from './util.js';
import { WorkQueue } from './workqueue.js';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY_CONTROLLER = 'endpointslice-controller.k8s.io';
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
export const LB_CLEANUP_FINALIZER = 'service.kubernetes.io/load-balancer-cleanup';
const MAX_ENDPOINTS_PER_SLICE = 100;

const ENDPOINTSLICE_USER: UserInfo = {
  username: 'system:serviceaccount:kube-system:endpointslice-controller',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
};
const ENDPOINTSLICE_UA =
  'kube-controller-manager/v1.32.4 (linux/amd64) kubernetes/59526cd/system:serviceaccount:kube-system:endpointslice-controller';
const SERVICE_CONTROLLER_USER: UserInfo = {
  username: 'system:serviceaccount:kube-system:service-controller',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
};
const SERVICE_CONTROLLER_UA =
  'cloud-controller-manager/v1.32.4 (linux/amd64) kubernetes/59526cd/system:serviceaccount:kube-system:service-controller';

type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Set-valued multimap. */
class Index {
  private readonly m = new Map<string, Set<string>>();
  add(k: string, v: string): void {
    let s = this.m.get(k);
    if (!s) this.m.set(k, (s = new Set()));
    s.add(v);
  }
  remove(k: string, v: string): void {
    const s = this.m.get(k);
    if (!s) return;
    s.delete(v);
    if (!s.size) this.m.delete(k);
  }
  get(k: string): Set<string> | undefined {
    return this.m.get(k);
  }
}

const labelKey = (ns: string, k: string, v: string): string => `${ns}\u0000${k}=${v}`;

function selectorReqs(sel: Record<string, string>): Requirement[] {
  return Object.entries(sel).map(([key, value]) => ({ op: '=' as const, key, value }));
}

function podReady(pod: KubeObject): boolean {
  const cond = asArray(asObject(pod.status).conditions)
    .filter(isObject)
    .find((c) => c.type === 'Ready');
  return cond?.status === 'True';
}

function resolvePort(pod: KubeObject, targetPort: unknown): number | undefined {
  if (typeof targetPort === 'number') return targetPort;
  if (typeof targetPort === 'string' && /^\d+$/.test(targetPort)) return Number(targetPort);
  for (const c of asArray(asObject(pod.spec).containers).filter(isObject)) {
    for (const p of asArray(c.ports).filter(isObject)) {
      if (p.name === targetPort && typeof p.containerPort === 'number') return p.containerPort;
    }
  }
  return undefined;
}

export class EndpointSliceController {
  private readonly svcSelectors = new Map<string, Record<string, string>>();
  private readonly svcByLabel = new Index();
  private readonly podLabels = new Map<string, Record<string, string>>();
  private readonly podsByLabel = new Index();
  private readonly slicesBySvc = new Index();
  private readonly queue: WorkQueue;

  constructor(
    private readonly api: KubeApi,
    private readonly log: (line: string) => void,
  ) {
    this.queue = new WorkQueue('endpointslice controller', (key) => this.sync(key), log, 50);
    for (const resource of ['services', 'pods', 'endpointslices']) {
      for (const obj of api.store.resource(resource).items.values())
        this.onChange(resource, 'ADDED', obj);
    }
  }

  stop(): void {
    this.queue.stop();
  }

  /** Resolves when the work queue is empty (tests, benchmarks). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  onChange(resource: string, type: ChangeType, obj: KubeObject): void {
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    const key = `${ns}/${name}`;
    if (resource === 'services') {
      const old = this.svcSelectors.get(key);
      if (old)
        for (const [k, v] of Object.entries(old)) this.svcByLabel.remove(labelKey(ns, k, v), name);
      this.svcSelectors.delete(key);
      if (type !== 'DELETED') {
        const sel = stringMap(asObject(obj.spec).selector);
        if (Object.keys(sel).length) {
          this.svcSelectors.set(key, sel);
          for (const [k, v] of Object.entries(sel)) this.svcByLabel.add(labelKey(ns, k, v), name);
        }
      }
      this.enqueue(key);
    } else if (resource === 'pods') {
      const before = this.podLabels.get(key) ?? {};
      const after = type === 'DELETED' ? {} : (obj.metadata.labels ?? {});
      for (const [k, v] of Object.entries(before))
        this.podsByLabel.remove(labelKey(ns, k, v), name);
      if (type === 'DELETED') this.podLabels.delete(key);
      else {
        this.podLabels.set(key, { ...after });
        for (const [k, v] of Object.entries(after)) this.podsByLabel.add(labelKey(ns, k, v), name);
      }
      const candidates = new Set<string>();
      for (const labels of [before, after]) {
        for (const [k, v] of Object.entries(labels)) {
          for (const svc of this.svcByLabel.get(labelKey(ns, k, v)) ?? []) candidates.add(svc);
        }
      }
      for (const svc of candidates) {
        const sel = this.svcSelectors.get(`${ns}/${svc}`);
        if (
          sel &&
          (matchesLabels(selectorReqs(sel), before) || matchesLabels(selectorReqs(sel), after))
        ) {
          this.enqueue(`${ns}/${svc}`);
        }
      }
    } else if (resource === 'endpointslices') {
      const labels = obj.metadata.labels ?? {};
      const svc = labels[LABEL_SERVICE_NAME];
      const managed = labels[LABEL_MANAGED_BY] === MANAGED_BY_CONTROLLER;
      if (!svc) return;
      if (type === 'DELETED' || !managed) this.slicesBySvc.remove(`${ns}/${svc}`, name);
      else this.slicesBySvc.add(`${ns}/${svc}`, name);
      if (managed) this.enqueue(`${ns}/${svc}`);
    }
  }

  private enqueue(key: string): void {
    this.queue.add(key);
  }

  private async write(res: Promise<ApiResponse>, what: string): Promise<boolean> {
    const r = await res;
    if (r.status >= 300 && r.status !== 404 && r.status !== 409) {
      this.log(
        `endpointslice controller: ${what}: ${r.status} ${JSON.stringify(asObject(r.body).message ?? '')}`,
      );
      return false;
    }
    return r.status < 300;
  }

  private deleteSlice(def: ReturnType<KubeApi['def']>, ns: string, name: string): Promise<boolean> {
    const request = this.api.internalRequest(
      'delete',
      def,
      ns,
      name,
      undefined,
      ENDPOINTSLICE_USER,
      ENDPOINTSLICE_UA,
    );
    return this.write(this.api.handle(request), `delete ${ns}/${name}`);
  }

  private managedSlices(ns: string, svc: string): KubeObject[] {
    const names = this.slicesBySvc.get(`${ns}/${svc}`) ?? new Set<string>();
    const out: KubeObject[] = [];
    for (const n of names) {
      const s = this.api.get('endpointslices', ns, n);
      if (s) out.push(s);
    }
    return out.sort((a, b) => str(a.metadata.name).localeCompare(str(b.metadata.name)));
  }

  private podsFor(ns: string, sel: Record<string, string>): KubeObject[] {
    let smallest: Set<string> | undefined;
    for (const [k, v] of Object.entries(sel)) {
      const s = this.podsByLabel.get(labelKey(ns, k, v));
      if (!s) return [];
      if (!smallest || s.size < smallest.size) smallest = s;
    }
    const reqs = selectorReqs(sel);
    const out: KubeObject[] = [];
    for (const name of smallest ?? []) {
      const pod = this.api.get('pods', ns, name);
      if (pod && matchesLabels(reqs, pod.metadata.labels)) out.push(pod);
    }
    return out.sort((a, b) => str(a.metadata.name).localeCompare(str(b.metadata.name)));
  }

  private async sync(key: string): Promise<boolean> {
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const def = this.api.def('endpointslices');
    const svc = this.api.get('services', ns, name);
    const existing = this.managedSlices(ns, name);
    const spec = asObject(svc?.spec);
    const selector = stringMap(spec.selector);
    const wanted =
      svc &&
      !svc.metadata.deletionTimestamp &&
      spec.type !== 'ExternalName' &&
      Object.keys(selector).length > 0;
    let ok = true;
    if (!wanted) {
      // a deleted Service's slices go with the garbage collector (ownerReferences)
      if (!svc && this.api.gcEnabled) return true;
      for (const s of existing) ok = (await this.deleteSlice(def, ns, s.metadata.name ?? '')) && ok;
      return ok;
    }
    const svcObj = svc;
    const publishNotReady = spec.publishNotReadyAddresses === true;
    // group endpoints by their resolved port list (pods may name ports differently)
    const groups = new Map<string, { ports: JsonObject[]; endpoints: JsonObject[] }>();
    for (const pod of this.podsFor(ns, selector)) {
      const status = asObject(pod.status);
      const ip = typeof status.podIP === 'string' ? status.podIP : '';
      if (!ip || !ip.includes('.')) continue;
      if (pod.metadata.deletionTimestamp) continue;
      if (!publishNotReady && (status.phase === 'Succeeded' || status.phase === 'Failed')) continue;
      const ports: JsonObject[] = [];
      for (const sp of asArray(spec.ports).filter(isObject)) {
        const port = resolvePort(pod, sp.targetPort);
        if (port === undefined) continue;
        ports.push(
          orderKeys(
            {
              name: sp.name ?? '',
              protocol: sp.protocol ?? 'TCP',
              port,
              appProtocol: sp.appProtocol,
            },
            ['name', 'protocol', 'port', 'appProtocol'],
          ),
        );
      }
      const ready = publishNotReady || podReady(pod);
      const endpoint: JsonObject = {
        addresses: [ip],
        conditions: { ready, serving: ready, terminating: false },
        targetRef: { kind: 'Pod', namespace: ns, name: pod.metadata.name, uid: pod.metadata.uid },
      };
      const nodeName = asObject(pod.spec).nodeName;
      if (typeof nodeName === 'string' && nodeName) endpoint.nodeName = nodeName;
      const gk = JSON.stringify(ports);
      let g = groups.get(gk);
      if (!g) groups.set(gk, (g = { ports, endpoints: [] }));
      g.endpoints.push(endpoint);
    }
    const desired: { ports: JsonObject[] | null; endpoints: JsonObject[] | null }[] = [];
    for (const g of groups.values()) {
      for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) {
        desired.push({
          ports: g.ports.length ? g.ports : null,
          endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE),
        });
      }
    }
    if (desired.length === 0) desired.push({ ports: null, endpoints: null }); // placeholder slice
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(svcObj.metadata.labels ?? {})) {
      if (k !== LABEL_SERVICE_NAME && k !== LABEL_MANAGED_BY && k !== LABEL_HEADLESS) labels[k] = v;
    }
    labels[LABEL_SERVICE_NAME] = name;
    labels[LABEL_MANAGED_BY] = MANAGED_BY_CONTROLLER;
    if (spec.clusterIP === 'None') labels[LABEL_HEADLESS] = '';
    const ownerReferences = [
      {
        apiVersion: 'v1',
        kind: 'Service',
        name,
        uid: svcObj.metadata.uid ?? '',
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
    // reuse slices with the same ports first, then any, then create; delete the rest
    const pool = [...existing];
    const take = (ports: unknown): KubeObject | undefined => {
      let idx = pool.findIndex((s) => deepEqual(s.ports ?? null, ports));
      if (idx < 0) idx = pool.length ? 0 : -1;
      return idx < 0 ? undefined : pool.splice(idx, 1)[0];
    };
    for (const d of desired) {
      const current = take(d.ports);
      if (current) {
        const same =
          deepEqual(current.ports ?? null, d.ports) &&
          deepEqual(current.endpoints ?? null, d.endpoints) &&
          deepEqual(current.metadata.labels ?? {}, labels) &&
          current.addressType === 'IPv4';
        if (same) continue;
        const body = {
          ...current,
          metadata: { ...current.metadata, labels, ownerReferences },
          addressType: 'IPv4',
          endpoints: d.endpoints,
          ports: d.ports,
        };
        ok =
          (await this.write(
            this.api.handle(
              this.api.internalRequest(
                'update',
                def,
                ns,
                current.metadata.name ?? '',
                body,
                ENDPOINTSLICE_USER,
                ENDPOINTSLICE_UA,
              ),
            ),
            `update ${ns}/${current.metadata.name}`,
          )) && ok;
      } else {
        const body = {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { generateName: `${name}-`, namespace: ns, labels, ownerReferences },
          addressType: 'IPv4',
          endpoints: d.endpoints,
          ports: d.ports,
        };
        ok =
          (await this.write(
            this.api.handle(
              this.api.internalRequest(
                'create',
                def,
                ns,
                '',
                body,
                ENDPOINTSLICE_USER,
                ENDPOINTSLICE_UA,
              ),
            ),
            `create slice for ${key}`,
          )) && ok;
      }
    }
    for (const s of pool) ok = (await this.deleteSlice(def, ns, s.metadata.name ?? '')) && ok;
    return ok;
  }
}

export interface LoadBalancerOptions {
  delayMs?: number;
  ipPrefix?: string;
}

export class LoadBalancerController {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly ips = new Map<string, string>();
  private counter = 0;
  private stopped = false;
  private readonly delayMs: number;
  private readonly prefix: string;

  constructor(
    private readonly api: KubeApi,
    opts: LoadBalancerOptions,
    private readonly log: (line: string) => void,
  ) {
    this.delayMs = opts.delayMs ?? 50;
    this.prefix = opts.ipPrefix ?? '203.0.113.';
    for (const obj of api.store.resource('services').items.values())
      this.onChange('services', 'ADDED', obj);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private nextIp(): string {
    this.counter++;
    const octets = 4 - this.prefix.replace(/\.$/, '').split('.').length;
    if (octets <= 1) return `${this.prefix}${((this.counter - 1) % 254) + 1}`;
    const n = this.counter;
    return `${this.prefix}${Math.floor(n / 254) % 256}.${(n % 254) + 1}`;
  }

  onChange(resource: string, type: ChangeType, obj: KubeObject): void {
    if (resource !== 'services' || this.stopped) return;
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
    if (type === 'DELETED') {
      this.ips.delete(key);
      return;
    }
    const spec = asObject(obj.spec);
    const isLB = spec.type === 'LoadBalancer' && !spec.loadBalancerClass;
    const finalizers = obj.metadata.finalizers ?? [];
    const hasFinalizer = finalizers.includes(LB_CLEANUP_FINALIZER);
    if (!obj.metadata.deletionTimestamp && isLB && !hasFinalizer) {
      // the service controller claims the service before provisioning
      void this.patchFinalizers(obj, [...finalizers, LB_CLEANUP_FINALIZER]);
      return;
    }
    const ingress = asArray(asObject(asObject(obj.status).loadBalancer).ingress);
    const needsIngress = !obj.metadata.deletionTimestamp && isLB && ingress.length === 0;
    const needsCleanup = hasFinalizer && (Boolean(obj.metadata.deletionTimestamp) || !isLB);
    if ((needsIngress || needsCleanup) && !this.timers.has(key)) {
      // provisioning takes delayMs; releasing the finalizer is quick, so deletes are not held long
      const delay = needsIngress ? this.delayMs : Math.min(this.delayMs, 20);
      const t = setTimeout(() => {
        this.timers.delete(key);
        void this.sync(key);
      }, delay);
      this.timers.set(key, t);
    }
  }

  private async patchFinalizers(obj: KubeObject, finalizers: string[]): Promise<void> {
    const def = this.api.def('services');
    const req = this.api.internalRequest(
      'patch',
      def,
      obj.metadata.namespace ?? '',
      obj.metadata.name ?? '',
      JSON.stringify({ metadata: { finalizers, resourceVersion: obj.metadata.resourceVersion } }),
      SERVICE_CONTROLLER_USER,
      SERVICE_CONTROLLER_UA,
      '',
      'application/merge-patch+json',
    );
    const res = await this.api.handle(req);
    if (res.status >= 300 && res.status !== 404 && res.status !== 409) {
      this.log(`loadbalancer controller: finalizer ${obj.metadata.name}: ${res.status}`);
    }
  }

  private async sync(key: string): Promise<void> {
    if (this.stopped) return;
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const svc = this.api.get('services', ns, name);
    if (!svc) return;
    const spec = asObject(svc.spec);
    const isLB = spec.type === 'LoadBalancer' && !spec.loadBalancerClass;
    const finalizers = svc.metadata.finalizers ?? [];
    if (svc.metadata.deletionTimestamp || !isLB) {
      if (finalizers.includes(LB_CLEANUP_FINALIZER)) {
        await this.patchFinalizers(
          svc,
          finalizers.filter((f) => f !== LB_CLEANUP_FINALIZER),
        );
      }
      return;
    }
    const ingress = asArray(asObject(asObject(svc.status).loadBalancer).ingress);
    if (ingress.length) return;
    let ip = this.ips.get(key);
    if (!ip) this.ips.set(key, (ip = this.nextIp()));
    const req = this.api.internalRequest(
      'patch',
      this.api.def('services'),
      ns,
      name,
      JSON.stringify({ status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } } }),
      SERVICE_CONTROLLER_USER,
      SERVICE_CONTROLLER_UA,
      'status',
      'application/strategic-merge-patch+json',
    );
    const res = await this.api.handle(req);
    if (res.status >= 300) {
      this.log(`loadbalancer controller: status ${key}: ${res.status}`);
      if (res.status !== 404) {
        setTimeout(() => void this.sync(key), Math.max(this.delayMs, 100)).unref();
      }
    }
  }
}

const NODE_CONTROLLER_USER: UserInfo = {
  username: 'system:serviceaccount:kube-system:node-controller',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
};
const NODE_CONTROLLER_UA =
  'kube-controller-manager/v1.32.4 (linux/amd64) kubernetes/59526cd/system:serviceaccount:kube-system:node-controller';
/** kube-controller-manager --cluster-cidr (kind's default) and --node-cidr-mask-size */
const CLUSTER_CIDR_PREFIX = '10.244.';

/**
 * The node IPAM controller (range allocator, --allocate-node-cidrs): a Node without a pod CIDR
 * gets the first free /24 of 10.244.0.0/16 in spec.podCIDR and spec.podCIDRs. A Node created with
 * one keeps it (and its range is taken).
 */
export class NodeIpamController {
  private readonly queue: WorkQueue;

  constructor(
    private readonly api: KubeApi,
    private readonly log: (line: string) => void,
  ) {
    this.queue = new WorkQueue('node-ipam controller', (name) => this.sync(name), log);
    for (const node of api.store.resource('nodes').items.values())
      this.onChange('nodes', 'ADDED', node);
  }

  stop(): void {
    this.queue.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  onChange(resource: string, type: ChangeType, obj: KubeObject): void {
    if (resource !== 'nodes' || type === 'DELETED') return;
    if (!str(asObject(obj.spec).podCIDR)) this.queue.add(obj.metadata.name ?? '');
  }

  private async sync(name: string): Promise<boolean> {
    const node = this.api.get('nodes', undefined, name);
    if (!node || str(asObject(node.spec).podCIDR)) return true;
    const taken = new Set<string>();
    for (const n of this.api.store.resource('nodes').items.values()) {
      const spec = asObject(n.spec);
      for (const c of [str(spec.podCIDR), ...asArray(spec.podCIDRs).map(str)]) if (c) taken.add(c);
    }
    let cidr = '';
    for (let i = 0; i < 256 && !cidr; i++) {
      const c = `${CLUSTER_CIDR_PREFIX}${i}.0/24`;
      if (!taken.has(c)) cidr = c;
    }
    if (!cidr) {
      this.log(`node-ipam controller: no pod CIDR left for node ${name}`);
      return true;
    }
    const res = await this.api.handle(
      this.api.internalRequest(
        'patch',
        this.api.def('nodes'),
        '',
        name,
        JSON.stringify({ spec: { podCIDR: cidr, podCIDRs: [cidr] } }),
        NODE_CONTROLLER_USER,
        NODE_CONTROLLER_UA,
        '',
        'application/strategic-merge-patch+json',
      ),
    );
    return res.status < 300 || res.status === 404;
  }
}
