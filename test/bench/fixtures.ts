// Deterministic worlds for the benchmarks: the reconcile-scale cluster (services, EndpointSlices,
// nodes, foreign Consul services) and the event-path pool with its AdmissionReview sequence.
// Everything is a pure function of its size parameters, so the emulator process and the load
// generator build the same objects without shipping them over IPC.
import { ANNOTATION_SERVICE_META_PREFIX, LABEL_SERVICE_NAME } from '../../src/translate/keys.js';

export const BENCH_SYNC_ID = 'bench-cluster';
/** Annotation whose value every benchmark update changes (meta key `revision`). */
export const REVISION_ANNOTATION = `${ANNOTATION_SERVICE_META_PREFIX}revision`;

export type Obj = Record<string, unknown>;

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
const ip = (a: number, b: number, c: number, d: number): number =>
  ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;

/** mulberry32: a tiny seeded PRNG, so every run builds the same cluster. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function node(name: string, internal: string, external?: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: {
      addresses: [
        { type: 'InternalIP', address: internal },
        ...(external ? [{ type: 'ExternalIP', address: external }] : []),
        { type: 'Hostname', address: name },
      ],
    },
  };
}

export interface EndpointSpec {
  ip: string;
  node: string;
  ready: boolean;
}

export function endpointSlice(
  namespace: string,
  service: string,
  endpoints: readonly EndpointSpec[],
): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-bench`,
      namespace,
      labels: {
        [LABEL_SERVICE_NAME]: service,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
    },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready, serving: e.ready, terminating: false },
      nodeName: e.node,
      targetRef: { kind: 'Pod', namespace, name: `${service}-${e.ip.replaceAll('.', '-')}` },
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

// ---------------------------------------------------------------------------------------------
// Reconcile scale: 40% NodePort, 30% LoadBalancer, 20% ClusterIP, 10% externalIPs.

export type WorldKind = 'nodeport' | 'loadbalancer' | 'clusterip' | 'externalips';

export interface WorldSize {
  services: number;
  endpointsPerService: number;
  nodes: number;
  consulServices: number;
  /** Share of services the "1% changed" step changes. */
  changedFraction: number;
}

/** Sizes of issue 10 times `scale` (1 = 10,000 services, 50,000 endpoints, 100 nodes, 2,000 Consul services). */
export function worldSize(scale: number): WorldSize {
  const services = Math.max(10, Math.round(10_000 * scale));
  return {
    services,
    endpointsPerService: 5,
    nodes: Math.max(4, Math.round(100 * scale)),
    consulServices: Math.max(2, Math.round(2_000 * scale)),
    changedFraction: 0.01,
  };
}

export interface WorldService {
  index: number;
  kind: WorldKind;
  namespace: string;
  name: string;
  externalIPs: string[];
  ingress: string[];
  endpoints: EndpointSpec[];
}

export interface WorldNode {
  name: string;
  internal: string;
  external?: string;
}

export function worldKind(i: number): WorldKind {
  const d = i % 10;
  return d < 4 ? 'nodeport' : d < 7 ? 'loadbalancer' : d < 9 ? 'clusterip' : 'externalips';
}

export function worldNodes(size: WorldSize): WorldNode[] {
  return Array.from({ length: size.nodes }, (_, n) => ({
    name: `node-${String(n).padStart(3, '0')}`,
    internal: intToIp(ip(10, 0, 0, 10) + n),
    // Every other node has a public address: ExternalFirst picks it, the others fall back.
    ...(n % 2 === 0 ? { external: intToIp(ip(100, 64, 0, 10) + n) } : {}),
  }));
}

/** One service of the world, with its endpoints; `changed` gives the 1%-changed variant. */
export function worldService(size: WorldSize, i: number, changed = false): WorldService {
  const kind = worldKind(i);
  const namespaces = Math.max(1, Math.ceil(size.services / 200));
  const random = prng(i + 1);
  const endpoints: EndpointSpec[] = Array.from({ length: size.endpointsPerService }, (_, j) => ({
    ip: intToIp(ip(10, 128, 0, 0) + i * size.endpointsPerService + j),
    node: `node-${String(Math.floor(random() * size.nodes)).padStart(3, '0')}`,
    ready: random() < 0.9,
  }));
  const svc: WorldService = {
    index: i,
    kind,
    namespace: `bench-${String(i % namespaces).padStart(2, '0')}`,
    name: `${kind === 'nodeport' ? 'np' : kind === 'loadbalancer' ? 'lb' : kind === 'clusterip' ? 'cip' : 'ext'}-${String(i).padStart(5, '0')}`,
    externalIPs:
      kind === 'externalips'
        ? Array.from({ length: i % 20 === 9 ? 2 : 1 }, (_, j) =>
            intToIp(ip(100, 112, 0, 0) + 2 * i + j),
          )
        : [],
    ingress: kind === 'loadbalancer' ? [intToIp(ip(100, 96, 0, 0) + 2 * i)] : [],
    endpoints,
  };
  if (changed) {
    // The kinds of change a cluster sees: an address moves, pods go unready, an annotation edit.
    if (kind === 'loadbalancer') svc.ingress = [intToIp(ip(100, 96, 0, 0) + 2 * i + 1)];
    else if (kind === 'clusterip') svc.endpoints = endpoints.map((e) => ({ ...e, ready: false }));
  }
  return svc;
}

/** Last digits in an order that spreads consecutive picks over the kinds (kind = i % 10). */
const KIND_SPREAD = [0, 4, 7, 9, 1, 5, 8, 2, 6, 3];

/** The services changed by the "1% changed" step: evenly spread, every kind in proportion. */
export function changedIndexes(size: WorldSize): number[] {
  const count = Math.max(1, Math.round(size.services * size.changedFraction));
  const step = size.services / count;
  const out = new Set<number>();
  for (let k = 0; k < count; k++) {
    const i = Math.floor((step * k) / 10) * 10 + KIND_SPREAD[k % 10]!;
    if (i < size.services) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

export function serviceObject(s: WorldService, changed = false): Obj {
  const type =
    s.kind === 'nodeport' ? 'NodePort' : s.kind === 'loadbalancer' ? 'LoadBalancer' : 'ClusterIP';
  const annotations =
    changed && (s.kind === 'nodeport' || s.kind === 'externalips')
      ? { [REVISION_ANNOTATION]: '2' }
      : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: s.name,
      namespace: s.namespace,
      labels: { app: s.name },
      ...(annotations ? { annotations } : {}),
    },
    spec: {
      type,
      selector: { app: s.name },
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      ...(s.externalIPs.length ? { externalIPs: s.externalIPs } : {}),
    },
    status: {
      loadBalancer: s.ingress.length ? { ingress: s.ingress.map((a) => ({ ip: a })) } : {},
    },
  };
}

/** Node ports the world needs: a NodePort or (allocating) LoadBalancer service takes one. */
export function nodePortsNeeded(size: WorldSize): number {
  let n = 0;
  for (let i = 0; i < size.services; i++) {
    const k = worldKind(i);
    if (k === 'nodeport' || k === 'loadbalancer') n++;
  }
  return n;
}

export interface ConsulSeedService {
  node: string;
  address: string;
  id: string;
  name: string;
  port: number;
  tags: string[];
}

/** Services registered in Consul by other tools (not tagged k8s): synced to Kubernetes. */
export function consulServices(size: WorldSize): ConsulSeedService[] {
  return Array.from({ length: size.consulServices }, (_, j) => ({
    node: `legacy-${String(j % 20).padStart(2, '0')}`,
    address: intToIp(ip(10, 200, 0, 10) + (j % 20)),
    id: `legacy-${String(j).padStart(5, '0')}`,
    name: `legacy-${String(j).padStart(5, '0')}`,
    port: 8080,
    tags: ['v1'],
  }));
}

/** The world's objects in Kubernetes (nodes, services, slices), built lazily in batches. */
export function* worldObjects(size: WorldSize, changed?: ReadonlySet<number>): Generator<Obj> {
  for (const n of worldNodes(size)) yield node(n.name, n.internal, n.external);
  for (let i = 0; i < size.services; i++) {
    const isChanged = changed?.has(i) ?? false;
    const s = worldService(size, i, isChanged);
    yield serviceObject(s, isChanged);
    yield endpointSlice(s.namespace, s.name, s.endpoints);
  }
}

// ---------------------------------------------------------------------------------------------
// Event path: a pool of LoadBalancer, externalIPs and NodePort services, and a sequence of
// AdmissionReviews where every event after the first round changes something.

export const EVENT_NAMESPACE = 'bench-events';
export const EVENT_NODES = 8;
export const EVENT_ENDPOINTS = 4;

export type EventKind = 'lb' | 'ext' | 'np';
export const EVENT_KINDS: readonly EventKind[] = ['lb', 'ext', 'np'];

export interface EventPool {
  /** Services of each kind. */
  perKind: number;
  /** The kinds of review sent, in turn (default all three; BENCH_EVENT_KINDS narrows them). */
  kinds?: readonly EventKind[];
}

/** Pool size: every service sees several generations of events, at most 1,000 per kind. */
export function eventPool(events: number): EventPool {
  return { perKind: Math.min(1000, Math.max(6, Math.floor(events / 12))) };
}

export function eventNodes(): WorldNode[] {
  return Array.from({ length: EVENT_NODES }, (_, n) => ({
    name: `ev-node-${n}`,
    internal: intToIp(ip(10, 20, 0, 1) + n),
    ...(n % 2 === 0 ? { external: intToIp(ip(100, 70, 0, 1) + n) } : {}),
  }));
}

export const eventServiceName = (kind: EventKind, k: number): string =>
  `${kind}-${String(k).padStart(4, '0')}`;
export const npNodePort = (k: number): number => 30000 + k;
export const lbIngress = (k: number): string => intToIp(ip(100, 80, 0, 0) + k);
export const extIps = (k: number): string[] => [
  intToIp(ip(100, 90, 0, 0) + 2 * k),
  intToIp(ip(100, 90, 0, 0) + 2 * k + 1),
];

/** Endpoint j of NodePort service k: one per node, on nodes k..k+3 (mod 8). */
export function npEndpoints(k: number, gen: number | null): EndpointSpec[] {
  return Array.from({ length: EVENT_ENDPOINTS }, (_, j) => ({
    ip: intToIp(ip(10, 129, 0, 0) + EVENT_ENDPOINTS * k + j),
    node: `ev-node-${(k + j) % EVENT_NODES}`,
    // Generation g takes endpoint g % 4 out of service: each event flips two nodes' checks.
    ready: gen === null ? true : j !== gen % EVENT_ENDPOINTS,
  }));
}

export function npService(k: number): Obj {
  const name = eventServiceName('np', k);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: EVENT_NAMESPACE, labels: { app: name } },
    spec: {
      type: 'NodePort',
      selector: { app: name },
      ports: [
        { name: 'http', port: 80, targetPort: 8080, nodePort: npNodePort(k), protocol: 'TCP' },
      ],
    },
    status: { loadBalancer: {} },
  };
}

/** What the Kubernetes emulator stores for the event path: nodes, NodePort services, slices. */
export function eventPoolObjects(pool: EventPool): Obj[] {
  const out: Obj[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: EVENT_NAMESPACE } },
    ...eventNodes().map((n) => node(n.name, n.internal, n.external)),
  ];
  for (let k = 0; k < pool.perKind; k++) {
    out.push(npService(k));
    out.push(endpointSlice(EVENT_NAMESPACE, eventServiceName('np', k), npEndpoints(k, null)));
  }
  return out;
}

function lbService(k: number, gen: number): Obj {
  const name = eventServiceName('lb', k);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: EVENT_NAMESPACE,
      labels: { app: name },
      ...(gen >= 2 ? { annotations: { [REVISION_ANNOTATION]: String(gen) } } : {}),
    },
    spec: {
      type: 'LoadBalancer',
      selector: { app: name },
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    },
    status: { loadBalancer: gen >= 1 ? { ingress: [{ ip: lbIngress(k) }] } : {} },
  };
}

function extService(k: number, gen: number): Obj {
  const name = eventServiceName('ext', k);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: EVENT_NAMESPACE,
      labels: { app: name },
      ...(gen >= 1 ? { annotations: { [REVISION_ANNOTATION]: String(gen) } } : {}),
    },
    spec: {
      type: 'ClusterIP',
      selector: { app: name },
      externalIPs: extIps(k),
      ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }],
    },
    status: { loadBalancer: {} },
  };
}

export interface BenchEvent {
  /** Events for one key are never in flight together (their order matters). */
  key: string;
  kind: EventKind;
  k: number;
  gen: number;
  uid: string;
  body: string;
}

/** Which service and generation event `i` is about. */
export function eventCoordinates(
  pool: EventPool,
  i: number,
): { kind: EventKind; k: number; gen: number } {
  const kinds = pool.kinds ?? EVENT_KINDS;
  const kind = kinds[i % kinds.length]!;
  const k = Math.floor(i / kinds.length) % pool.perKind;
  const gen = Math.floor(i / (kinds.length * pool.perKind));
  return { kind, k, gen };
}

/** The last generation each service reaches after `events` events. */
export function finalGeneration(
  pool: EventPool,
  events: number,
  kind: EventKind,
  k: number,
): number | null {
  const kinds = pool.kinds ?? EVENT_KINDS;
  if (!kinds.includes(kind)) return null;
  let last: number | null = null;
  const base = kinds.indexOf(kind) + kinds.length * k;
  for (let i = base; i < events; i += kinds.length * pool.perKind)
    last = eventCoordinates(pool, i).gen;
  return last;
}

const USER_INFO = {
  username: 'system:serviceaccount:kube-system:endpointslice-controller',
  uid: '2a7c1f0e-bench',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
};

/** The AdmissionReview the API server sends for event `i` (uid unique per `tag` and `i`). */
export function eventAt(pool: EventPool, i: number, tag: string): BenchEvent {
  const { kind, k, gen } = eventCoordinates(pool, i);
  const name = eventServiceName(kind, k);
  const uid = `${tag}-${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`;
  let request: Obj;
  const gvkService = { group: '', version: 'v1', kind: 'Service' };
  const gvrService = { group: '', version: 'v1', resource: 'services' };
  const common = {
    uid,
    userInfo: USER_INFO,
    dryRun: false,
    namespace: EVENT_NAMESPACE,
    name,
  };
  if (kind === 'np') {
    const gvk = { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice' };
    const gvr = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };
    const old = endpointSlice(EVENT_NAMESPACE, name, npEndpoints(k, gen === 0 ? null : gen - 1));
    const cur = endpointSlice(EVENT_NAMESPACE, name, npEndpoints(k, gen));
    request = {
      ...common,
      name: `${name}-bench`,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      operation: 'UPDATE',
      object: cur,
      oldObject: old,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'UpdateOptions' },
    };
  } else {
    const make = kind === 'lb' ? lbService : extService;
    const create = gen === 0;
    // A LoadBalancer's ingress arrives through the status subresource (the cloud controller).
    const status = kind === 'lb' && gen === 1;
    request = {
      ...common,
      kind: gvkService,
      resource: gvrService,
      requestKind: gvkService,
      requestResource: gvrService,
      ...(status ? { subResource: 'status', requestSubResource: 'status' } : {}),
      operation: create ? 'CREATE' : 'UPDATE',
      object: make(k, gen),
      oldObject: create ? null : make(k, gen - 1),
      options: {
        apiVersion: 'meta.k8s.io/v1',
        kind: create ? 'CreateOptions' : 'UpdateOptions',
      },
    };
  }
  const body = JSON.stringify({
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request,
  });
  return { key: `${kind}/${k}`, kind, k, gen, uid, body };
}
