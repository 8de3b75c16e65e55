// Table-driven tests of the Kubernetes → Consul translation. Expected values come from docs/reference.md "Kubernetes → Consul"
// and the reference text (spec/service-sync.md); IDs are computed here with node:crypto from the
// docs/reference.md formula, never taken from the code under test.
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  isCreatedByUs,
  isEligible,
  parseGoBool,
  parseTags,
  serviceInstanceId,
  sourcesNeeded,
  translateService,
} from '../../src/translate/to-consul.js';
import type {
  CheckStatus,
  EndpointSlice,
  Node,
  Service,
  ServicePort,
  ToConsulSettings,
} from '../../src/translate/types.js';

const base: ToConsulSettings = {
  syncId: 'sync-123',
  consulNodeName: 'k8s-sync',
  consulK8sTag: 'k8s',
  consulServicePrefix: '',
  addK8sNamespaceSuffix: false,
  k8sDefaultSync: true,
  allowK8sNamespaces: ['*'],
  denyK8sNamespaces: ['kube-system', 'kube-public'],
  syncClusterIPServices: false,
  syncLBServicesEndpoints: false,
  nodePortSyncType: 'ExternalFirst',
};

function sha1Id(consulName: string, ns: string, name: string, address: string): string {
  const hex = createHash('sha1').update(`${ns}/${name}/${address}`).digest('hex');
  return `${consulName}-${hex.slice(0, 12)}`;
}

interface SvcOptions {
  name?: string;
  ns?: string;
  type?: string;
  ports?: ServicePort[];
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  externalIPs?: string[];
  ingress?: { ip?: string; hostname?: string }[];
}

const HTTP: ServicePort = { name: 'http', port: 80, targetPort: 8080, nodePort: 30080 };
const GRPC: ServicePort = { name: 'grpc', port: 9090, targetPort: 9000, nodePort: 30090 };

function svc(o: SvcOptions = {}): Service {
  const s: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: o.name ?? 'web', namespace: o.ns ?? 'shop' },
    spec: { ports: o.ports ?? [HTTP] },
  };
  if (o.type !== undefined) s.spec!.type = o.type;
  if (o.annotations) s.metadata!.annotations = o.annotations;
  if (o.labels) s.metadata!.labels = o.labels;
  if (o.externalIPs) s.spec!.externalIPs = o.externalIPs;
  if (o.ingress) s.status = { loadBalancer: { ingress: o.ingress } };
  return s;
}

interface Ep {
  addresses: string[];
  ready?: boolean | null;
  nodeName?: string;
  noConditions?: boolean;
  targetRef?: { kind?: string; name?: string };
  zone?: string;
}

function slice(
  name: string,
  endpoints: Ep[],
  ports: { name?: string; port?: number }[] = [{ name: 'http', port: 8080 }],
  service = 'web',
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => {
      const out: {
        addresses: string[];
        conditions?: { ready?: boolean | null };
        nodeName?: string;
        targetRef?: { kind?: string; name?: string };
        zone?: string;
      } = { addresses: e.addresses };
      if (!e.noConditions) out.conditions = e.ready === undefined ? {} : { ready: e.ready };
      if (e.nodeName !== undefined) out.nodeName = e.nodeName;
      if (e.targetRef !== undefined) out.targetRef = e.targetRef;
      if (e.zone !== undefined) out.zone = e.zone;
      return out;
    }),
    ports,
  };
}

function node(
  name: string,
  addrs: { external?: string; internal?: string; hostname?: string },
): Node {
  const addresses = [];
  if (addrs.hostname) addresses.push({ type: 'Hostname', address: addrs.hostname });
  if (addrs.internal) addresses.push({ type: 'InternalIP', address: addrs.internal });
  if (addrs.external) addresses.push({ type: 'ExternalIP', address: addrs.external });
  return { metadata: { name }, status: { addresses } };
}

const NODES: Record<string, Node> = {
  'node-a': node('node-a', { external: '203.0.113.1', internal: '10.0.0.1', hostname: 'a' }),
  'node-b': node('node-b', { internal: '10.0.0.2' }),
  'node-c': node('node-c', { external: '203.0.113.3' }),
  'node-d': node('node-d', {}),
};

interface ExpectedInstance {
  address: string;
  port: number;
  /** null: no check. */
  check?: CheckStatus | null;
  /** null: no external-k8s-node-name meta. */
  nodeName?: string | null;
}

interface Row {
  name: string;
  service: Service;
  slices?: EndpointSlice[];
  nodes?: Record<string, Node>;
  settings?: Partial<ToConsulSettings>;
  eligible?: boolean;
  skipReason?: string | RegExp;
  instances?: ExpectedInstance[];
  consulName?: string;
  tags?: string[];
  /** Must be contained in every instance's meta. */
  meta?: Record<string, string>;
  /** The exact meta of every instance. */
  metaExact?: Record<string, string>;
  /** The whole meta of the registration at each address. */
  metaByAddress?: Record<string, Record<string, string>>;
  metaAbsent?: string[];
  metaKeyCount?: number;
  weights?: { passing: number; warning: number };
  /** Exactly these warnings (strings equal, regexps match), in order. Default: none. */
  warnings?: (string | RegExp)[];
}

const OWN = (ns = 'shop', name = 'web'): Record<string, string> => ({
  'external-source': 'kubernetes',
  'external-k8s-ns': ns,
  'external-k8s-name': name,
  'external-k8s-sync-id': 'sync-123',
});

const NOT_CLUSTERIP = 'type ClusterIP is not synced (--sync-clusterip-services=false)';
const SYNC_FALSE = 'annotation consul.hashicorp.com/service-sync is false';
const CREATED = 'created by k8s-consul-sync from Consul';
const LB_INGRESS = [{ ip: '198.51.100.7' }];
const lb = (o: SvcOptions = {}): Service =>
  svc({ type: 'LoadBalancer', ingress: LB_INGRESS, ...o });

const rows: Row[] = [
  // ---- eligibility --------------------------------------------------------------------------
  {
    name: 'NodePort with no endpoints yet is eligible, no instances',
    service: svc({ type: 'NodePort' }),
    instances: [],
  },
  {
    name: 'namespace kube-system denied by default',
    service: lb({ ns: 'kube-system' }),
    eligible: false,
    skipReason: 'namespace kube-system is denied',
  },
  {
    name: 'namespace kube-public denied by default',
    service: lb({ ns: 'kube-public' }),
    eligible: false,
    skipReason: 'namespace kube-public is denied',
  },
  {
    name: 'namespace not in allow list',
    service: lb(),
    settings: { allowK8sNamespaces: ['team-a'] },
    eligible: false,
    skipReason: /namespace shop is not allowed/,
  },
  {
    name: 'namespace in allow list',
    service: lb(),
    settings: { allowK8sNamespaces: ['team-a', 'shop'] },
    instances: [{ address: '198.51.100.7', port: 80, check: null }],
  },
  {
    name: 'deny wins over allow',
    service: lb(),
    settings: { allowK8sNamespaces: ['shop'], denyK8sNamespaces: ['shop'] },
    eligible: false,
    skipReason: 'namespace shop is denied',
  },
  {
    name: 'allow * with a custom deny list allows kube-system',
    service: lb({ ns: 'kube-system' }),
    settings: { denyK8sNamespaces: ['secret'] },
    instances: [{ address: '198.51.100.7', port: 80, check: null }],
    meta: OWN('kube-system'),
  },
  {
    name: 'empty deny list and allow * allows everything',
    service: lb({ ns: 'kube-public' }),
    settings: { denyK8sNamespaces: [] },
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'created by us: label consul=true',
    service: lb({ labels: { consul: 'true' } }),
    eligible: false,
    skipReason: CREATED,
  },
  {
    name: 'created by us: annotation synced "true"',
    service: lb({ annotations: { 'consul.hashicorp.com/synced': 'true' } }),
    eligible: false,
    skipReason: CREATED,
  },
  {
    name: 'label consul=false is not ours',
    service: lb({ labels: { consul: 'false' } }),
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'namespace check comes before created-by-us',
    service: lb({ ns: 'kube-system', labels: { consul: 'true' } }),
    eligible: false,
    skipReason: 'namespace kube-system is denied',
  },
  {
    name: 'ClusterIP not synced without the flag',
    service: svc({ type: 'ClusterIP' }),
    eligible: false,
    skipReason: NOT_CLUSTERIP,
  },
  {
    name: 'missing type means ClusterIP',
    service: svc(),
    eligible: false,
    skipReason: NOT_CLUSTERIP,
  },
  {
    name: 'ClusterIP with the flag and no endpoints',
    service: svc({ type: 'ClusterIP' }),
    settings: { syncClusterIPServices: true },
    instances: [],
  },
  {
    name: 'ClusterIP with externalIPs is synced without the flag',
    service: svc({ type: 'ClusterIP', externalIPs: ['192.0.2.10'] }),
    instances: [{ address: '192.0.2.10', port: 80, check: null, nodeName: null }],
  },
  {
    name: 'ExternalName never synced',
    service: svc({ type: 'ExternalName' }),
    settings: { syncClusterIPServices: true },
    eligible: false,
    skipReason: /type ExternalName is not synced/,
  },
  {
    name: 'ExternalName with externalIPs is synced',
    service: svc({ type: 'ExternalName', externalIPs: ['192.0.2.10'] }),
    instances: [{ address: '192.0.2.10', port: 80, check: null }],
  },
  {
    name: 'unknown type is not synced',
    service: svc({ type: 'Bogus' }),
    eligible: false,
    skipReason: /type Bogus/,
  },
  {
    name: 'service-sync "false" disables',
    service: lb({ annotations: { 'consul.hashicorp.com/service-sync': 'false' } }),
    eligible: false,
    skipReason: SYNC_FALSE,
  },
  {
    name: 'no annotation and k8s-default-sync=false',
    service: lb(),
    settings: { k8sDefaultSync: false },
    eligible: false,
    skipReason: /consul\.hashicorp\.com\/service-sync/,
  },
  {
    name: 'service-sync "true" with k8s-default-sync=false',
    service: lb({ annotations: { 'consul.hashicorp.com/service-sync': 'true' } }),
    settings: { k8sDefaultSync: false },
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'service-sync "yes" warns and the default (true) applies',
    service: lb({ annotations: { 'consul.hashicorp.com/service-sync': 'yes' } }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/service-sync "yes"/],
  },
  {
    name: 'service-sync "yes" warns and the default (false) applies',
    service: lb({ annotations: { 'consul.hashicorp.com/service-sync': 'yes' } }),
    settings: { k8sDefaultSync: false },
    eligible: false,
    warnings: [/service-sync "yes"/],
  },
  {
    name: 'service-sync " true" (Go does not trim) warns',
    service: lb({ annotations: { 'consul.hashicorp.com/service-sync': ' true' } }),
    settings: { k8sDefaultSync: false },
    eligible: false,
    warnings: [/service-sync " true"/],
  },
  {
    name: 'service-sync "" warns',
    service: lb({ annotations: { 'consul.hashicorp.com/service-sync': '' } }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/service-sync ""/],
  },
  {
    name: 'service-sync "no" with default true warns, still synced',
    service: lb({ annotations: { 'consul.hashicorp.com/service-sync': 'no' } }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/service-sync "no"/],
  },
  {
    name: 'created-by-us wins over service-sync "true"',
    service: lb({
      labels: { consul: 'true' },
      annotations: { 'consul.hashicorp.com/service-sync': 'true' },
    }),
    eligible: false,
    skipReason: CREATED,
  },
  {
    name: 'service without a name is not synced',
    service: { metadata: { namespace: 'shop' }, spec: { type: 'LoadBalancer' } },
    eligible: false,
    skipReason: /name/,
  },

  // ---- name -----------------------------------------------------------------------------------
  {
    name: 'Consul name defaults to the Kubernetes name',
    service: lb(),
    consulName: 'web',
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'consul-service-prefix is prepended',
    service: lb(),
    settings: { consulServicePrefix: 'k8s-' },
    consulName: 'k8s-web',
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'add-k8s-namespace-suffix appends -<namespace>',
    service: lb(),
    settings: { addK8sNamespaceSuffix: true },
    consulName: 'web-shop',
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'prefix and suffix together',
    service: lb(),
    settings: { consulServicePrefix: 'k8s-', addK8sNamespaceSuffix: true },
    consulName: 'k8s-web-shop',
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'service-name annotation replaces the whole name, trimmed',
    service: lb({ annotations: { 'consul.hashicorp.com/service-name': '  billing  ' } }),
    settings: { consulServicePrefix: 'k8s-', addK8sNamespaceSuffix: true },
    consulName: 'billing',
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'service-name blank is ignored with a warning',
    service: lb({ annotations: { 'consul.hashicorp.com/service-name': '   ' } }),
    consulName: 'web',
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/service-name/],
  },
  {
    name: 'service-name with control characters is ignored with a warning',
    service: lb({ annotations: { 'consul.hashicorp.com/service-name': 'bill\ning' } }),
    consulName: 'web',
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/control characters/],
  },
  {
    name: 'service-name empty is ignored with a warning',
    service: lb({ annotations: { 'consul.hashicorp.com/service-name': '' } }),
    settings: { consulServicePrefix: 'p-' },
    consulName: 'p-web',
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/service-name/],
  },
  {
    name: 'service-name of 255 characters is used',
    service: lb({ annotations: { 'consul.hashicorp.com/service-name': 'a'.repeat(255) } }),
    consulName: 'a'.repeat(255),
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'service-name of 256 characters is ignored with a warning',
    service: lb({ annotations: { 'consul.hashicorp.com/service-name': 'a'.repeat(256) } }),
    consulName: 'web',
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/service-name/],
  },
  {
    name: 'service-name with unicode is used as given',
    service: lb({ annotations: { 'consul.hashicorp.com/service-name': 'café-ü' } }),
    consulName: 'café-ü',
    instances: [{ address: '198.51.100.7', port: 80 }],
  },

  // ---- instances: externalIPs and LoadBalancer --------------------------------------------------
  {
    name: 'one instance per distinct external IP, port = service port',
    service: svc({
      type: 'LoadBalancer',
      externalIPs: ['192.0.2.1', '192.0.2.2', '192.0.2.1'],
      ingress: LB_INGRESS,
    }),
    instances: [
      { address: '192.0.2.1', port: 80, check: null },
      { address: '192.0.2.2', port: 80, check: null },
    ],
  },
  {
    name: 'externalIPs on a NodePort service use port, not nodePort',
    service: svc({ type: 'NodePort', externalIPs: ['192.0.2.1'] }),
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'], nodeName: 'node-a' }])],
    nodes: NODES,
    instances: [{ address: '192.0.2.1', port: 80, check: null, nodeName: null }],
    meta: { 'port-http': '80' },
  },
  {
    name: 'LoadBalancer: one instance per distinct ingress entry, ip else hostname',
    service: svc({
      type: 'LoadBalancer',
      ingress: [
        { ip: '198.51.100.7' },
        { hostname: 'lb.example.com' },
        { ip: '198.51.100.7' },
        {},
        { ip: '198.51.100.8', hostname: 'x.example.com' },
      ],
    }),
    instances: [
      { address: '198.51.100.7', port: 80, check: null },
      { address: 'lb.example.com', port: 80, check: null },
      { address: '198.51.100.8', port: 80, check: null },
    ],
  },
  {
    name: 'LoadBalancer without ingress yet has no instances',
    service: svc({ type: 'LoadBalancer' }),
    instances: [],
  },
  {
    name: 'LoadBalancer ignores endpoints without the endpoints flag',
    service: lb(),
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'] }])],
    instances: [{ address: '198.51.100.7', port: 80, check: null, nodeName: null }],
  },
  {
    name: 'LoadBalancer with sync-lb-services-endpoints registers endpoints',
    service: lb(),
    settings: { syncLBServicesEndpoints: true },
    slices: [
      slice('web-1', [
        { addresses: ['10.1.0.1'], ready: true, nodeName: 'node-a' },
        { addresses: ['10.1.0.2'], ready: false },
      ]),
    ],
    instances: [
      { address: '10.1.0.1', port: 8080, check: 'passing', nodeName: 'node-a' },
      { address: '10.1.0.2', port: 8080, check: 'critical', nodeName: null },
    ],
  },

  // ---- instances: NodePort ----------------------------------------------------------------------
  {
    name: 'NodePort ExternalFirst: ExternalIP when the node has one',
    service: svc({ type: 'NodePort' }),
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'], ready: true, nodeName: 'node-a' }])],
    nodes: NODES,
    instances: [{ address: '203.0.113.1', port: 30080, check: 'passing', nodeName: 'node-a' }],
  },
  {
    name: 'NodePort ExternalFirst: InternalIP when there is no ExternalIP',
    service: svc({ type: 'NodePort' }),
    slices: [slice('web-1', [{ addresses: ['10.1.0.2'], ready: true, nodeName: 'node-b' }])],
    nodes: NODES,
    instances: [{ address: '10.0.0.2', port: 30080, check: 'passing', nodeName: 'node-b' }],
  },
  {
    name: 'NodePort ExternalOnly: node without ExternalIP gives no instance',
    service: svc({ type: 'NodePort' }),
    settings: { nodePortSyncType: 'ExternalOnly' },
    slices: [
      slice('web-1', [
        { addresses: ['10.1.0.1'], nodeName: 'node-a' },
        { addresses: ['10.1.0.2'], nodeName: 'node-b' },
      ]),
    ],
    nodes: NODES,
    instances: [{ address: '203.0.113.1', port: 30080, check: 'passing', nodeName: 'node-a' }],
  },
  {
    name: 'NodePort InternalOnly: InternalIP, node without one skipped',
    service: svc({ type: 'NodePort' }),
    settings: { nodePortSyncType: 'InternalOnly' },
    slices: [
      slice('web-1', [
        { addresses: ['10.1.0.1'], nodeName: 'node-a' },
        { addresses: ['10.1.0.3'], nodeName: 'node-c' },
      ]),
    ],
    nodes: NODES,
    instances: [{ address: '10.0.0.1', port: 30080, check: 'passing', nodeName: 'node-a' }],
  },
  {
    name: 'NodePort: node without addresses gives no instance',
    service: svc({ type: 'NodePort' }),
    slices: [slice('web-1', [{ addresses: ['10.1.0.4'], nodeName: 'node-d' }])],
    nodes: NODES,
    instances: [],
  },
  {
    name: 'NodePort: node missing from the map is skipped',
    service: svc({ type: 'NodePort' }),
    slices: [
      slice('web-1', [
        { addresses: ['10.1.0.9'], nodeName: 'node-gone' },
        { addresses: ['10.1.0.3'], nodeName: 'node-c' },
      ]),
    ],
    nodes: NODES,
    instances: [{ address: '203.0.113.3', port: 30080, check: 'passing' }],
  },
  {
    name: 'NodePort: endpoints without nodeName give no instance',
    service: svc({ type: 'NodePort' }),
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'] }])],
    nodes: NODES,
    instances: [],
  },
  {
    name: 'NodePort: one instance per node, not per endpoint; any ready endpoint → passing',
    service: svc({ type: 'NodePort' }),
    slices: [
      slice('web-1', [{ addresses: ['10.1.0.1'], ready: false, nodeName: 'node-a' }]),
      slice('web-2', [{ addresses: ['10.1.0.5'], ready: true, nodeName: 'node-a' }]),
    ],
    nodes: NODES,
    instances: [{ address: '203.0.113.1', port: 30080, check: 'passing', nodeName: 'node-a' }],
  },
  {
    name: 'NodePort: no ready endpoint on the node → critical',
    service: svc({ type: 'NodePort' }),
    slices: [
      slice('web-1', [
        { addresses: ['10.1.0.1'], ready: false, nodeName: 'node-a' },
        { addresses: ['10.1.0.3'], ready: true, nodeName: 'node-c' },
      ]),
    ],
    nodes: NODES,
    instances: [
      { address: '203.0.113.1', port: 30080, check: 'critical' },
      { address: '203.0.113.3', port: 30080, check: 'passing' },
    ],
  },
  {
    name: 'NodePort: nodes map absent → no instances, no throw',
    service: svc({ type: 'NodePort' }),
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'], nodeName: 'node-a' }])],
    instances: [],
  },
  {
    name: 'NodePort: port-<name> meta carries the nodePort of every named port',
    service: svc({ type: 'NodePort', ports: [HTTP, GRPC] }),
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'], nodeName: 'node-a' }])],
    nodes: NODES,
    instances: [{ address: '203.0.113.1', port: 30080 }],
    metaExact: {
      ...OWN(),
      'external-k8s-node-name': 'node-a',
      'port-http': '30080',
      'port-grpc': '30090',
    },
  },

  // ---- instances: endpoints (ClusterIP flag) --------------------------------------------------
  {
    name: 'ClusterIP: one instance per distinct endpoint address across slices, target port',
    service: svc({ type: 'ClusterIP' }),
    settings: { syncClusterIPServices: true },
    slices: [
      slice('web-a', [
        { addresses: ['10.1.0.1'], ready: true, nodeName: 'node-a' },
        { addresses: ['10.1.0.2'], ready: true },
      ]),
      slice('web-b', [
        { addresses: ['10.1.0.2'], ready: true },
        { addresses: ['10.1.0.3'], ready: true, nodeName: 'node-b' },
      ]),
    ],
    instances: [
      { address: '10.1.0.1', port: 8080, check: 'passing', nodeName: 'node-a' },
      { address: '10.1.0.2', port: 8080, check: 'passing', nodeName: null },
      { address: '10.1.0.3', port: 8080, check: 'passing', nodeName: 'node-b' },
    ],
  },
  {
    name: 'ClusterIP: ready absent (no conditions) is ready',
    service: svc(),
    settings: { syncClusterIPServices: true },
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'], noConditions: true }])],
    instances: [{ address: '10.1.0.1', port: 8080, check: 'passing' }],
  },
  {
    name: 'ClusterIP: ready absent inside conditions is ready',
    service: svc(),
    settings: { syncClusterIPServices: true },
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'] }])],
    instances: [{ address: '10.1.0.1', port: 8080, check: 'passing' }],
  },
  {
    name: 'ClusterIP: ready null is ready',
    service: svc(),
    settings: { syncClusterIPServices: true },
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'], ready: null }])],
    instances: [{ address: '10.1.0.1', port: 8080, check: 'passing' }],
  },
  {
    name: 'ClusterIP: ready false is critical',
    service: svc(),
    settings: { syncClusterIPServices: true },
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'], ready: false }])],
    instances: [{ address: '10.1.0.1', port: 8080, check: 'critical' }],
  },
  {
    name: 'ClusterIP: duplicated address, one ready → passing',
    service: svc(),
    settings: { syncClusterIPServices: true },
    slices: [
      slice('web-1', [
        { addresses: ['10.1.0.1'], ready: false },
        { addresses: ['10.1.0.1'], ready: true },
      ]),
    ],
    instances: [{ address: '10.1.0.1', port: 8080, check: 'passing' }],
  },
  {
    name: 'ClusterIP: endpoints null and ports null → no instances',
    service: svc(),
    settings: { syncClusterIPServices: true },
    slices: [{ metadata: { name: 'web-1', namespace: 'shop' }, endpoints: null, ports: null }],
    instances: [],
  },
  {
    name: 'ClusterIP: port taken from the slice port named like the service port',
    service: svc({ ports: [GRPC, HTTP] }),
    settings: { syncClusterIPServices: true },
    slices: [
      slice(
        'web-1',
        [{ addresses: ['10.1.0.1'] }],
        [
          { name: 'http', port: 8081 },
          { name: 'grpc', port: 9001 },
        ],
      ),
    ],
    instances: [{ address: '10.1.0.1', port: 9001, check: 'passing' }],
    meta: { 'port-http': '8081', 'port-grpc': '9001' },
  },
  {
    // consul-k8s's updateServiceMeta: targetRef kind and name, node and zone of the endpoint.
    name: 'ClusterIP: per-endpoint meta external-k8s-ref-kind/-ref-name/-topology-zone where the endpoint has them',
    service: svc({ ports: [{ port: 80, targetPort: 8080 }] }),
    settings: { syncClusterIPServices: true },
    slices: [
      slice(
        'web-1',
        [
          {
            addresses: ['10.1.0.1'],
            nodeName: 'node-a',
            targetRef: { kind: 'Pod', name: 'web-7d4b9-abcde' },
            zone: 'eu-west-1a',
          },
          { addresses: ['10.1.0.2'], targetRef: { kind: 'Pod' } },
        ],
        [{ name: '', port: 8080 }],
      ),
    ],
    instances: [
      { address: '10.1.0.1', port: 8080 },
      { address: '10.1.0.2', port: 8080 },
    ],
    metaByAddress: {
      '10.1.0.1': {
        ...OWN(),
        'external-k8s-node-name': 'node-a',
        'external-k8s-ref-kind': 'Pod',
        'external-k8s-ref-name': 'web-7d4b9-abcde',
        'external-k8s-topology-zone': 'eu-west-1a',
      },
      // A targetRef without a name names nothing: neither key.
      '10.1.0.2': { ...OWN() },
    },
  },
  {
    name: 'ClusterIP: unnamed single port matches the unnamed slice port',
    service: svc({ ports: [{ port: 80, targetPort: 8080 }] }),
    settings: { syncClusterIPServices: true },
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'] }], [{ name: '', port: 8088 }])],
    instances: [{ address: '10.1.0.1', port: 8088 }],
    metaExact: { ...OWN() },
  },
  {
    name: 'ClusterIP: slice without ports → numeric targetPort',
    service: svc(),
    settings: { syncClusterIPServices: true },
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'] }], [])],
    instances: [{ address: '10.1.0.1', port: 8080 }],
  },
  {
    name: 'ClusterIP: slices of another service are ignored',
    service: svc(),
    settings: { syncClusterIPServices: true },
    slices: [
      slice('web-1', [{ addresses: ['10.1.0.1'] }]),
      slice('api-1', [{ addresses: ['10.1.0.9'] }], undefined, 'api'),
    ],
    instances: [{ address: '10.1.0.1', port: 8080 }],
  },

  // ---- port -------------------------------------------------------------------------------------
  {
    name: 'default port is the first defined port',
    service: lb({ ports: [GRPC, HTTP] }),
    instances: [{ address: '198.51.100.7', port: 9090 }],
    meta: { 'port-grpc': '9090', 'port-http': '80' },
  },
  {
    name: 'service-port naming a port picks it',
    service: lb({
      ports: [HTTP, GRPC],
      annotations: { 'consul.hashicorp.com/service-port': 'grpc' },
    }),
    instances: [{ address: '198.51.100.7', port: 9090 }],
  },
  {
    name: 'service-port naming a port on NodePort picks its nodePort',
    service: svc({
      type: 'NodePort',
      ports: [HTTP, GRPC],
      annotations: { 'consul.hashicorp.com/service-port': 'grpc' },
    }),
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'], nodeName: 'node-c' }])],
    nodes: NODES,
    instances: [{ address: '203.0.113.3', port: 30090 }],
  },
  {
    name: 'service-port number is used exactly (LoadBalancer)',
    service: lb({ annotations: { 'consul.hashicorp.com/service-port': '8443' } }),
    instances: [{ address: '198.51.100.7', port: 8443 }],
    meta: { 'port-http': '80' },
  },
  {
    name: 'service-port number is used exactly (NodePort)',
    service: svc({
      type: 'NodePort',
      annotations: { 'consul.hashicorp.com/service-port': '8443' },
    }),
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'], nodeName: 'node-c' }])],
    nodes: NODES,
    instances: [{ address: '203.0.113.3', port: 8443 }],
  },
  {
    name: 'service-port naming no port warns and uses the first port',
    service: lb({
      ports: [HTTP, GRPC],
      annotations: { 'consul.hashicorp.com/service-port': 'htp' },
    }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: ['service-port "htp" names no port of web; using "http"'],
  },
  {
    name: 'service-port naming no port, first port unnamed',
    service: lb({
      ports: [{ port: 81 }],
      annotations: { 'consul.hashicorp.com/service-port': 'admin' },
    }),
    instances: [{ address: '198.51.100.7', port: 81 }],
    warnings: [/service-port "admin" names no port of web; using port 81/],
  },
  {
    name: 'service-port 0 warns and uses the first port',
    service: lb({ annotations: { 'consul.hashicorp.com/service-port': '0' } }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/service-port "0"/],
  },
  {
    name: 'service-port 70000 warns and uses the first port',
    service: lb({ annotations: { 'consul.hashicorp.com/service-port': '70000' } }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/service-port "70000"/],
  },
  {
    name: 'service-port on ClusterIP picks the endpoint port of that name',
    service: svc({
      ports: [HTTP, GRPC],
      annotations: { 'consul.hashicorp.com/service-port': 'grpc' },
    }),
    settings: { syncClusterIPServices: true },
    slices: [
      slice(
        'web-1',
        [{ addresses: ['10.1.0.1'] }],
        [
          { name: 'http', port: 8080 },
          { name: 'grpc', port: 9000 },
        ],
      ),
    ],
    instances: [{ address: '10.1.0.1', port: 9000 }],
  },
  {
    name: 'no ports at all → Port 0 and no port meta',
    service: lb({ ports: [] }),
    instances: [{ address: '198.51.100.7', port: 0 }],
    metaExact: OWN(),
  },
  {
    name: 'spec.ports missing → Port 0',
    service: {
      metadata: { name: 'web', namespace: 'shop' },
      spec: { type: 'LoadBalancer' },
      status: { loadBalancer: { ingress: LB_INGRESS } },
    },
    instances: [{ address: '198.51.100.7', port: 0 }],
  },
  {
    name: 'unnamed ports get no port- meta',
    service: lb({ ports: [{ port: 80 }, GRPC] }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    metaExact: { ...OWN(), 'port-grpc': '9090' },
  },

  // ---- meta -------------------------------------------------------------------------------------
  {
    name: 'meta: own keys then service-meta annotations',
    service: lb({
      annotations: {
        'consul.hashicorp.com/service-meta-team': 'payments',
        'consul.hashicorp.com/service-meta-tier_1': '',
      },
    }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    metaExact: { ...OWN(), 'port-http': '80', team: 'payments', tier_1: '' },
  },
  {
    name: 'meta: annotations never override external-* keys',
    service: lb({
      annotations: {
        'consul.hashicorp.com/service-meta-external-source': 'evil',
        'consul.hashicorp.com/service-meta-external-k8s-sync-id': 'other',
      },
    }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    metaExact: { ...OWN(), 'port-http': '80' },
    warnings: [/external-k8s-sync-id/, /external-source/],
  },
  {
    name: 'meta: key with a dot is dropped',
    service: lb({
      annotations: {
        'consul.hashicorp.com/service-meta-team.name': 'x',
        'consul.hashicorp.com/service-meta-ok': 'y',
      },
    }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    meta: { ok: 'y' },
    metaAbsent: ['team.name'],
    warnings: [/team\.name/],
  },
  {
    name: 'meta: consul- prefix is reserved',
    service: lb({ annotations: { 'consul.hashicorp.com/service-meta-consul-version': '1' } }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    metaAbsent: ['consul-version'],
    warnings: [/consul-version/],
  },
  {
    name: 'meta: empty key is dropped',
    service: lb({ annotations: { 'consul.hashicorp.com/service-meta-': 'x' } }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    metaExact: { ...OWN(), 'port-http': '80' },
    warnings: [/empty/],
  },
  {
    name: 'meta: key of 128 characters kept, 129 dropped',
    service: lb({
      annotations: {
        [`consul.hashicorp.com/service-meta-${'k'.repeat(128)}`]: 'a',
        [`consul.hashicorp.com/service-meta-${'j'.repeat(129)}`]: 'b',
      },
    }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    meta: { ['k'.repeat(128)]: 'a' },
    metaAbsent: ['j'.repeat(129)],
    warnings: [/128/],
  },
  {
    name: 'meta: value of 512 bytes kept, 513 dropped',
    service: lb({
      annotations: {
        'consul.hashicorp.com/service-meta-a': 'v'.repeat(512),
        'consul.hashicorp.com/service-meta-b': 'v'.repeat(513),
      },
    }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    meta: { a: 'v'.repeat(512) },
    metaAbsent: ['b'],
    warnings: [/512/],
  },
  {
    name: 'meta: value limit counts UTF-8 bytes (300 × é = 600 bytes)',
    service: lb({
      annotations: {
        'consul.hashicorp.com/service-meta-a': 'é'.repeat(256),
        'consul.hashicorp.com/service-meta-b': 'é'.repeat(300),
      },
    }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    meta: { a: 'é'.repeat(256) },
    metaAbsent: ['b'],
    warnings: [/service-meta-b/],
  },
  {
    name: 'meta: at most 64 pairs, own keys first',
    service: lb({
      annotations: Object.fromEntries(
        Array.from({ length: 70 }, (_, i) => [
          `consul.hashicorp.com/service-meta-m${String(i).padStart(2, '0')}`,
          'x',
        ]),
      ),
    }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    meta: { ...OWN(), 'port-http': '80', m00: 'x', m58: 'x' },
    metaAbsent: ['m59', 'm69'],
    metaKeyCount: 64,
    warnings: Array.from({ length: 11 }, (_, i) => new RegExp(`service-meta-m${59 + i}: .*64`)),
  },
  {
    name: 'meta: endpoint instances reserve a place for external-k8s-node-name',
    service: svc({
      annotations: Object.fromEntries(
        Array.from({ length: 70 }, (_, i) => [
          `consul.hashicorp.com/service-meta-m${String(i).padStart(2, '0')}`,
          'x',
        ]),
      ),
    }),
    settings: { syncClusterIPServices: true },
    slices: [slice('web-1', [{ addresses: ['10.1.0.1'], nodeName: 'node-a' }])],
    instances: [{ address: '10.1.0.1', port: 8080, nodeName: 'node-a' }],
    meta: { 'port-http': '8080', m57: 'x' },
    metaAbsent: ['m58'],
    metaKeyCount: 64,
    warnings: Array.from({ length: 12 }, (_, i) => new RegExp(`service-meta-m${58 + i}: .*64`)),
  },
  {
    name: 'meta: a huge value is dropped and the warning stays short',
    service: lb({
      annotations: { 'consul.hashicorp.com/service-meta-big': 'x'.repeat(1_000_000) },
    }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    metaAbsent: ['big'],
    warnings: [/^.{1,300}$/],
  },

  // ---- tags -------------------------------------------------------------------------------------
  {
    name: 'tags default to the k8s tag',
    service: lb(),
    tags: ['k8s'],
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'tags: annotation comma-separated, trimmed, empties dropped',
    service: lb({ annotations: { 'consul.hashicorp.com/service-tags': 'primary, foo ,,bar, ' } }),
    tags: ['k8s', 'primary', 'foo', 'bar'],
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'tags: \\, escapes a comma',
    service: lb({ annotations: { 'consul.hashicorp.com/service-tags': 'a\\,b,c' } }),
    tags: ['k8s', 'a,b', 'c'],
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'tags: duplicates removed including a repeated k8s tag',
    service: lb({ annotations: { 'consul.hashicorp.com/service-tags': 'k8s,foo,foo' } }),
    tags: ['k8s', 'foo'],
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'tags: custom consul-k8s-tag comes first',
    service: lb({ annotations: { 'consul.hashicorp.com/service-tags': 'x' } }),
    settings: { consulK8sTag: 'from-k8s' },
    tags: ['from-k8s', 'x'],
    instances: [{ address: '198.51.100.7', port: 80 }],
  },

  // ---- weights ----------------------------------------------------------------------------------
  {
    name: 'weights default to passing 1 warning 1',
    service: lb(),
    weights: { passing: 1, warning: 1 },
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'weights: service-weight 5',
    service: lb({ annotations: { 'consul.hashicorp.com/service-weight': '5' } }),
    weights: { passing: 5, warning: 1 },
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'weights: service-weight 2 is the smallest taken (consul-k8s: greater than 1)',
    service: lb({ annotations: { 'consul.hashicorp.com/service-weight': '2' } }),
    weights: { passing: 2, warning: 1 },
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'weights: service-weight 1000',
    service: lb({ annotations: { 'consul.hashicorp.com/service-weight': '1000' } }),
    weights: { passing: 1000, warning: 1 },
    instances: [{ address: '198.51.100.7', port: 80 }],
  },
  {
    name: 'weights: service-weight 1 warns, as consul-k8s ignores it',
    service: lb({ annotations: { 'consul.hashicorp.com/service-weight': '1' } }),
    weights: { passing: 1, warning: 1 },
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/service-weight "1" is not an integer greater than 1/],
  },
  {
    name: 'weights: service-weight 0 warns',
    service: lb({ annotations: { 'consul.hashicorp.com/service-weight': '0' } }),
    weights: { passing: 1, warning: 1 },
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/service-weight "0"/],
  },
  {
    name: 'weights: service-weight -3 warns',
    service: lb({ annotations: { 'consul.hashicorp.com/service-weight': '-3' } }),
    weights: { passing: 1, warning: 1 },
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/service-weight "-3"/],
  },
  {
    name: 'weights: service-weight 1.5 warns',
    service: lb({ annotations: { 'consul.hashicorp.com/service-weight': '1.5' } }),
    weights: { passing: 1, warning: 1 },
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/service-weight "1.5"/],
  },
  {
    name: 'weights: service-weight "heavy" warns',
    service: lb({ annotations: { 'consul.hashicorp.com/service-weight': 'heavy' } }),
    weights: { passing: 1, warning: 1 },
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/service-weight "heavy"/],
  },

  // ---- node, odd input ------------------------------------------------------------------------
  {
    name: 'every instance goes on consul-node-name',
    service: svc({
      type: 'LoadBalancer',
      ingress: [{ ip: '198.51.100.7' }, { ip: '198.51.100.8' }],
    }),
    settings: { consulNodeName: 'sync-node-2' },
    instances: [
      { address: '198.51.100.7', port: 80 },
      { address: '198.51.100.8', port: 80 },
    ],
  },
  {
    name: 'missing spec and status does not throw',
    service: { metadata: { name: 'web', namespace: 'shop' } },
    eligible: false,
    skipReason: NOT_CLUSTERIP,
  },
  { name: 'missing metadata does not throw', service: {}, eligible: false },
  {
    name: 'several annotation mistakes give one warning each',
    service: lb({
      annotations: {
        'consul.hashicorp.com/service-sync': 'sure',
        'consul.hashicorp.com/service-port': 'nope',
        'consul.hashicorp.com/service-weight': 'x',
        'consul.hashicorp.com/service-name': ' ',
      },
    }),
    instances: [{ address: '198.51.100.7', port: 80 }],
    warnings: [/service-sync/, /service-name/, /service-port/, /service-weight/],
  },
];

// Every Go ParseBool spelling, both ways.
for (const spelling of ['1', 't', 'T', 'TRUE', 'true', 'True']) {
  rows.push({
    name: `service-sync ${JSON.stringify(spelling)} enables with k8s-default-sync=false`,
    service: lb({ annotations: { 'consul.hashicorp.com/service-sync': spelling } }),
    settings: { k8sDefaultSync: false },
    instances: [{ address: '198.51.100.7', port: 80 }],
  });
}
for (const spelling of ['0', 'f', 'F', 'FALSE', 'false', 'False']) {
  rows.push({
    name: `service-sync ${JSON.stringify(spelling)} disables`,
    service: lb({ annotations: { 'consul.hashicorp.com/service-sync': spelling } }),
    eligible: false,
    skipReason: SYNC_FALSE,
  });
}

function matches(actual: string, expected: string | RegExp): boolean {
  return typeof expected === 'string' ? actual === expected : expected.test(actual);
}

describe('translateService (table)', () => {
  assert.ok(rows.length >= 60, `at least 60 rows, got ${rows.length}`);
  for (const row of rows) {
    it(row.name, () => {
      const settings = { ...base, ...row.settings };
      const nodes = row.nodes ? new Map(Object.entries(row.nodes)) : undefined;
      const input: Parameters<typeof translateService>[0] = { service: row.service };
      if (row.slices) input.endpointSlices = row.slices;
      if (nodes) input.nodes = nodes;
      const t = translateService(input, settings);

      const expectEligible = row.eligible ?? true;
      assert.equal(t.eligible, expectEligible, `eligible (skipReason: ${t.skipReason})`);
      if (!expectEligible) {
        assert.deepEqual(t.registrations, []);
        assert.ok(t.skipReason, 'an ineligible service has a skip reason');
      } else {
        assert.equal(t.skipReason, undefined);
      }
      if (row.skipReason !== undefined)
        assert.ok(matches(t.skipReason ?? '', row.skipReason), `skipReason ${t.skipReason}`);

      const expectedWarnings = row.warnings ?? [];
      assert.equal(
        t.warnings.length,
        expectedWarnings.length,
        `warnings: ${JSON.stringify(t.warnings)}`,
      );
      expectedWarnings.forEach((w, i) =>
        assert.ok(
          matches(t.warnings[i] ?? '', w),
          `warning ${i}: ${t.warnings[i]} !~ ${String(w)}`,
        ),
      );

      const ns = row.service.metadata?.namespace ?? 'default'; // documented choice for a missing namespace
      const k8sName = row.service.metadata?.name ?? '';
      assert.deepEqual(t.ref, { namespace: ns, name: k8sName });
      const consulName = row.consulName ?? 'web';

      if (row.instances) {
        assert.equal(
          t.registrations.length,
          row.instances.length,
          JSON.stringify(t.registrations.map((r) => r.address)),
        );
        const ids = t.registrations.map((r) => r.id);
        assert.deepEqual(ids, [...ids].sort(), 'sorted by id');
        for (const exp of row.instances) {
          const id = sha1Id(consulName, ns, k8sName, exp.address);
          const r = t.registrations.find((x) => x.id === id);
          assert.ok(r, `instance ${exp.address} with id ${id}`);
          assert.equal(r.service, consulName);
          assert.equal(r.address, exp.address);
          assert.equal(r.port, exp.port, `port of ${exp.address}`);
          assert.equal(r.node, settings.consulNodeName);
          if (exp.check === null) assert.equal(r.check, undefined, 'no check');
          else if (exp.check !== undefined) {
            assert.equal(r.check?.status, exp.check);
            assert.equal(r.check?.checkId, `${ns}/${id}`);
            assert.equal(r.check?.name, 'Kubernetes Readiness Check');
          }
          if (exp.nodeName === null) assert.equal(r.meta['external-k8s-node-name'], undefined);
          else if (exp.nodeName !== undefined)
            assert.equal(r.meta['external-k8s-node-name'], exp.nodeName);
        }
      }
      for (const r of t.registrations) {
        for (const [k, v] of Object.entries(OWN(ns, k8sName)))
          assert.equal(r.meta[k], v, `meta ${k}`);
        if (row.tags) assert.deepEqual(r.tags, row.tags);
        if (row.weights) assert.deepEqual(r.weights, row.weights);
        else assert.ok(r.weights.passing >= 1 && r.weights.warning === 1);
        if (row.meta)
          for (const [k, v] of Object.entries(row.meta)) assert.equal(r.meta[k], v, `meta ${k}`);
        if (row.metaExact) assert.deepEqual(r.meta, row.metaExact);
        const byAddress = row.metaByAddress?.[r.address];
        if (byAddress) assert.deepEqual(r.meta, byAddress, `meta of ${r.address}`);
        for (const k of row.metaAbsent ?? [])
          assert.equal(Object.hasOwn(r.meta, k), false, `meta ${k} absent`);
        if (row.metaKeyCount !== undefined)
          assert.equal(Object.keys(r.meta).length, row.metaKeyCount);
        assert.ok(Object.keys(r.meta).length <= 64);
      }
      if ((row.tags || row.weights || row.meta || row.metaExact) && row.instances?.length !== 0)
        assert.ok(
          t.registrations.length > 0,
          'the row checks instance fields, so it needs instances',
        );
    });
  }
});

describe('serviceInstanceId', () => {
  it('is <consul name>-<first 12 hex of sha1("<ns>/<name>/<address>")>', () => {
    const hex = createHash('sha1').update('shop/web/10.0.0.7').digest('hex');
    assert.equal(serviceInstanceId('web', 'shop', 'web', '10.0.0.7'), `web-${hex.slice(0, 12)}`);
    assert.match(serviceInstanceId('billing', 'a', 'b', 'c'), /^billing-[0-9a-f]{12}$/);
  });
  it('differs per namespace, name and address', () => {
    const ids = new Set([
      serviceInstanceId('web', 'shop', 'web', '10.0.0.7'),
      serviceInstanceId('web', 'shop2', 'web', '10.0.0.7'),
      serviceInstanceId('web', 'shop', 'web2', '10.0.0.7'),
      serviceInstanceId('web', 'shop', 'web', '10.0.0.8'),
    ]);
    assert.equal(ids.size, 4);
  });
});

describe('parseGoBool', () => {
  const cases: [string, boolean | undefined][] = [
    ['1', true],
    ['t', true],
    ['T', true],
    ['TRUE', true],
    ['true', true],
    ['True', true],
    ['0', false],
    ['f', false],
    ['F', false],
    ['FALSE', false],
    ['false', false],
    ['False', false],
    ['yes', undefined],
    ['no', undefined],
    ['', undefined],
    [' true', undefined],
    ['tRUE', undefined],
    ['2', undefined],
    ['on', undefined],
  ];
  for (const [input, expected] of cases)
    it(`${JSON.stringify(input)} → ${String(expected)}`, () =>
      assert.equal(parseGoBool(input), expected));
});

describe('parseTags', () => {
  const cases: [string, string[]][] = [
    ['', []],
    ['primary,foo', ['primary', 'foo']],
    [' a , b ', ['a', 'b']],
    ['a,,b,', ['a', 'b']],
    [',', []],
    ['a\\,b,c', ['a,b', 'c']],
    ['\\,', [',']],
    ['a,a,b,a', ['a', 'b']],
    ['back\\slash', ['back\\slash']],
    ['ünï, cödé', ['ünï', 'cödé']],
  ];
  for (const [input, expected] of cases)
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () =>
      assert.deepEqual(parseTags(input), expected));
  it('handles a 1 MB annotation quickly', () => {
    const big = Array.from({ length: 100_000 }, (_, i) => `t${i % 1000}`).join(',');
    assert.equal(parseTags(big).length, 1000);
  });
});

describe('isCreatedByUs', () => {
  const cases: [string, Service, boolean][] = [
    ['label consul=true', svc({ labels: { consul: 'true' } }), true],
    [
      'annotation synced=true',
      svc({ annotations: { 'consul.hashicorp.com/synced': 'true' } }),
      true,
    ],
    ['label consul=false', svc({ labels: { consul: 'false' } }), false],
    [
      'annotation synced=false',
      svc({ annotations: { 'consul.hashicorp.com/synced': 'false' } }),
      false,
    ],
    ['no metadata', {}, false],
  ];
  for (const [name, service, expected] of cases)
    it(name, () => assert.equal(isCreatedByUs(service), expected));
});

describe('isEligible', () => {
  it('agrees with translateService and reports the service-sync warning', () => {
    const s = lb({ annotations: { 'consul.hashicorp.com/service-sync': 'maybe' } });
    const e = isEligible(s, base);
    assert.equal(e.eligible, true);
    assert.equal(e.warnings.length, 1);
    assert.match(e.warnings[0]!, /maybe/);
  });
  it('an unquoted boolean annotation (as in the reference text) is read', () => {
    const s = lb();
    (s.metadata!.annotations as unknown as Record<string, unknown>) = {
      'consul.hashicorp.com/service-sync': false,
    };
    assert.deepEqual(isEligible(s, base), { eligible: false, reason: SYNC_FALSE, warnings: [] });
  });
});

describe('sourcesNeeded', () => {
  const cases: [
    string,
    Service,
    Partial<ToConsulSettings>,
    { endpointSlices: boolean; nodes: boolean },
  ][] = [
    [
      'NodePort needs slices and nodes',
      svc({ type: 'NodePort' }),
      {},
      { endpointSlices: true, nodes: true },
    ],
    [
      'ClusterIP with the flag needs slices',
      svc({ type: 'ClusterIP' }),
      { syncClusterIPServices: true },
      { endpointSlices: true, nodes: false },
    ],
    [
      'ClusterIP without the flag needs nothing',
      svc({ type: 'ClusterIP' }),
      {},
      { endpointSlices: false, nodes: false },
    ],
    ['LoadBalancer needs nothing', lb(), {}, { endpointSlices: false, nodes: false }],
    [
      'LoadBalancer with the endpoints flag needs slices',
      lb(),
      { syncLBServicesEndpoints: true },
      { endpointSlices: true, nodes: false },
    ],
    [
      'externalIPs need nothing, even on NodePort',
      svc({ type: 'NodePort', externalIPs: ['192.0.2.1'] }),
      {},
      { endpointSlices: false, nodes: false },
    ],
    [
      'ineligible NodePort needs nothing',
      svc({ type: 'NodePort', ns: 'kube-system' }),
      {},
      { endpointSlices: false, nodes: false },
    ],
    [
      'ExternalName needs nothing',
      svc({ type: 'ExternalName' }),
      { syncClusterIPServices: true },
      { endpointSlices: false, nodes: false },
    ],
  ];
  for (const [name, service, s, expected] of cases)
    it(name, () => assert.deepEqual(sourcesNeeded(service, { ...base, ...s }), expected));
});

describe('translateService on odd shapes', () => {
  it('never throws on nulls where arrays and objects are expected', () => {
    const odd = [
      { metadata: null, spec: null },
      {
        metadata: { name: 'web', namespace: 'shop', annotations: null, labels: null },
        spec: { type: 'NodePort', ports: null, externalIPs: null },
      },
      {
        metadata: { name: 'web', namespace: 'shop' },
        spec: { type: 'LoadBalancer', ports: [null, { port: 'x' }] },
        status: { loadBalancer: { ingress: [null, { ip: 7 }] } },
      },
      {
        metadata: { name: 'web', namespace: 'shop' },
        spec: { type: 'NodePort', externalIPs: [null, '', 5] },
      },
    ] as unknown as Service[];
    const slices = [
      null,
      { endpoints: [null, { addresses: null }, { addresses: [null, ''], nodeName: 'node-a' }] },
    ] as unknown as EndpointSlice[];
    for (const service of odd)
      for (const s of [
        base,
        { ...base, syncClusterIPServices: true, syncLBServicesEndpoints: true },
      ])
        assert.doesNotThrow(() =>
          translateService(
            { service, endpointSlices: slices, nodes: new Map(Object.entries(NODES)) },
            s,
          ),
        );
  });
});

// Not in docs/reference.md (issue 20): --max-instances-per-service bounds the work of one event.
describe('--max-instances-per-service', () => {
  const ips = (n: number): string[] =>
    Array.from({ length: n }, (_, i) => `192.0.${i >> 8}.${i & 255}`);
  it('keeps the first instances in the order the Service lists them and warns', () => {
    const t = translateService(
      { service: svc({ externalIPs: ips(5), ports: [HTTP] }) },
      { ...base, maxInstancesPerService: 3 },
    );
    assert.deepEqual(t.registrations.map((r) => r.address).sort(), [
      '192.0.0.0',
      '192.0.0.1',
      '192.0.0.2',
    ]);
    assert.deepEqual(t.warnings, [
      'more than 3 instances; only the first 3 are registered (--max-instances-per-service)',
    ]);
  });
  it('at the limit, and with 0 (no limit), nothing is cut and nothing said', () => {
    for (const max of [5, 0]) {
      const t = translateService(
        { service: svc({ externalIPs: ips(5), ports: [HTTP] }) },
        { ...base, maxInstancesPerService: max },
      );
      assert.equal(t.registrations.length, 5);
      assert.deepEqual(t.warnings, []);
    }
  });
  it('a Service with 100,000 externalIPs (a legal one) translates to the limit', () => {
    const t = translateService(
      { service: svc({ externalIPs: ips(100_000), ports: [HTTP] }) },
      { ...base, maxInstancesPerService: 1000 },
    );
    assert.equal(t.registrations.length, 1000);
    assert.equal(new Set(t.registrations.map((r) => r.id)).size, 1000);
  });
});

describe('--port-meta: what port-<name> holds', () => {
  // The reference text: "the value is the externally accessible port" (reachable, the default);
  // consul-k8s writes the Service's port, the nodePort for NodePort instances (service-port).
  const clusterIP = {
    service: svc({ type: 'ClusterIP', ports: [HTTP, GRPC] }),
    endpointSlices: [
      slice(
        'web-1',
        [{ addresses: ['10.1.0.5'], ready: true }],
        [
          { name: 'http', port: 8080 },
          { name: 'grpc', port: 9000 },
        ],
      ),
    ],
  };
  const withClusterIP = { ...base, syncClusterIPServices: true };
  const portMeta = (meta: Record<string, string> | undefined) =>
    [meta?.['port-http'], meta?.['port-grpc']] as const;

  it('reachable (default): the endpoint target ports', () => {
    const [r] = translateService(clusterIP, withClusterIP).registrations;
    assert.equal(r?.port, 8080);
    assert.deepEqual(portMeta(r?.meta), ['8080', '9000']);
  });

  it("service-port: the Service's ports, as consul-k8s writes them", () => {
    const [r] = translateService(clusterIP, {
      ...withClusterIP,
      portMeta: 'service-port',
    }).registrations;
    assert.equal(r?.port, 8080, 'the instance port itself is unchanged');
    assert.deepEqual(portMeta(r?.meta), ['80', '9090']);
  });

  it('service-port on a NodePort instance: the nodePorts', () => {
    const input = {
      service: svc({ type: 'NodePort', ports: [HTTP, GRPC] }),
      endpointSlices: [
        slice('web-1', [{ addresses: ['10.1.0.5'], ready: true, nodeName: 'node-a' }]),
      ],
      nodes: new Map(Object.entries(NODES)),
    };
    const [r] = translateService(input, { ...base, portMeta: 'service-port' }).registrations;
    assert.deepEqual(portMeta(r?.meta), ['30080', '30090']);
  });
});
