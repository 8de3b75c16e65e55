// The sandbox's starting world, written through the real APIs (the Kubernetes client and Consul's
// HTTP API) so that every object reaches the server the way it would in production: admission
// reviews from the API server, EndpointSlices from the controller, an ingress address from the
// load balancer controller a moment later, watch deliveries from Consul.
import type { CoreV1Api, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { ANNOTATION_SERVICE_SYNC } from '../../src/translate/keys.js';

export const SHOP = 'shop';
/** Addresses from the documentation ranges (RFC 5737) and private ranges: nothing real. */
export const NODES = [
  { name: 'node-a', internalIP: '10.0.0.11', externalIP: '192.0.2.11', podCIDR: '10.244.1.0/24' },
  { name: 'node-b', internalIP: '10.0.0.12', podCIDR: '10.244.2.0/24' },
  { name: 'node-c', internalIP: '10.0.0.13', podCIDR: '10.244.3.0/24' },
] as const;
/** The load balancer controller hands out 198.51.100.1, .2, … in order of creation. */
export const LB_IP_PREFIX = '198.51.100.';

export interface PodSpec {
  name: string;
  namespace: string;
  app: string;
  node: string;
  ip: string;
  ready?: boolean;
  port?: number;
}

export function nodeObject(n: {
  name: string;
  internalIP: string;
  externalIP?: string;
  podCIDR?: string;
}): V1Node {
  const addresses = [{ type: 'InternalIP', address: n.internalIP }];
  if (n.externalIP) addresses.push({ type: 'ExternalIP', address: n.externalIP });
  addresses.push({ type: 'Hostname', address: n.name });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } },
    // the range its pods' IPs come from (SEED_PODS use it; the emulator's kubelet allocates in it)
    spec: n.podCIDR ? { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] } : {},
    status: {
      addresses,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
    },
  };
}

/** The readiness gate of a pod seeded not ready: its condition stays False. */
export const NOT_READY_GATE = 'sandbox.example.com/ready';

/**
 * A running pod, created already placed on its node with its IP (so the catalog is predictable);
 * the emulator's kubelet reports it running. A pod seeded not ready carries a readiness gate whose
 * condition is False, so the kubelet keeps it not Ready, as on a cluster.
 */
export function podObject(p: PodSpec): V1Pod {
  const notReady = p.ready === false;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.namespace, labels: { app: p.app } },
    spec: {
      ...(notReady ? { readinessGates: [{ conditionType: NOT_READY_GATE }] } : {}),
      nodeName: p.node,
      containers: [
        {
          name: p.app,
          image: 'registry.k8s.io/pause:3.10',
          ports: [{ name: 'http', containerPort: p.port ?? 8080 }],
        },
      ],
    },
    status: {
      phase: 'Running',
      podIP: p.ip,
      podIPs: [{ ip: p.ip }],
      conditions: [
        ...(notReady ? [{ type: NOT_READY_GATE, status: 'False' }] : []),
        { type: 'Ready', status: notReady ? 'False' : 'True' },
      ],
    },
  };
}

export const SEED_PODS: PodSpec[] = [
  { name: 'web-7d4b9-1', namespace: SHOP, app: 'web', node: 'node-a', ip: '10.244.1.10' },
  { name: 'web-7d4b9-2', namespace: SHOP, app: 'web', node: 'node-b', ip: '10.244.2.10' },
  { name: 'checkout-5c8f-1', namespace: SHOP, app: 'checkout', node: 'node-c', ip: '10.244.3.10' },
  { name: 'search-0', namespace: SHOP, app: 'search', node: 'node-b', ip: '10.244.2.11' },
  {
    name: 'admin-6f1c-1',
    namespace: SHOP,
    app: 'internal-admin',
    node: 'node-a',
    ip: '10.244.1.11',
  },
  {
    name: 'dashboard-9b2d-1',
    namespace: 'kube-system',
    app: 'dashboard',
    node: 'node-c',
    ip: '10.244.3.11',
  },
];

export const SEED_SERVICES: V1Service[] = [
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: SHOP },
    spec: {
      type: 'NodePort',
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }],
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'checkout', namespace: SHOP },
    spec: {
      type: 'LoadBalancer',
      selector: { app: 'checkout' },
      ports: [{ name: 'https', port: 443, targetPort: 8080 }],
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'search', namespace: SHOP },
    spec: {
      type: 'ClusterIP',
      selector: { app: 'search' },
      externalIPs: ['192.0.2.50'],
      ports: [{ name: 'http', port: 9200, targetPort: 8080 }],
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'internal-admin',
      namespace: SHOP,
      annotations: { [ANNOTATION_SERVICE_SYNC]: 'false' },
    },
    spec: {
      type: 'NodePort',
      selector: { app: 'internal-admin' },
      ports: [{ name: 'http', port: 8080, targetPort: 8080 }],
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'dashboard', namespace: 'kube-system' },
    spec: {
      type: 'NodePort',
      selector: { app: 'dashboard' },
      ports: [{ name: 'https', port: 443, targetPort: 8080 }],
    },
  },
];

/** PUT /v1/catalog/register bodies: services registered in Consul by others. */
export const SEED_CONSUL_REGISTRATIONS: Record<string, unknown>[] = [
  {
    Node: 'db-1',
    Address: '10.1.0.5',
    Service: { ID: 'billing-db-1', Service: 'billing-db', Tags: ['primary'], Port: 5432 },
    Check: {
      CheckID: 'service:billing-db-1',
      Name: 'TCP 5432',
      Status: 'passing',
      ServiceID: 'billing-db-1',
    },
  },
  {
    // An external node (a VM outside any agent), as registered for consul-esm.
    Node: 'legacy-vm-1',
    Address: '192.0.2.80',
    NodeMeta: { 'external-node': 'true', 'external-probe': 'true' },
    Service: { ID: 'legacy-api', Service: 'legacy-api', Tags: ['v1'], Port: 8080 },
  },
  {
    // Registered by another cluster's sync: tagged k8s, so never synced back to Kubernetes.
    Node: 'k8s-sync-eu',
    Address: '127.0.0.1',
    NodeMeta: { 'external-source': 'kubernetes' },
    Service: {
      ID: 'inventory-3f9a1c2b4d5e',
      Service: 'inventory',
      Tags: ['k8s'],
      Address: '10.2.0.7',
      Port: 8080,
      Meta: {
        'external-source': 'kubernetes',
        'external-k8s-ns': 'stock',
        'external-k8s-name': 'inventory',
        'external-k8s-sync-id': 'eu-west-cluster',
      },
    },
  },
];

/** A Consul HTTP write; throws with Consul's message on an error status. */
export async function consulPut(consulUrl: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${consulUrl}${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
}

export async function seedKubernetes(core: CoreV1Api): Promise<void> {
  await core.createNamespace({
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SHOP } },
  });
  for (const n of NODES) await core.createNode({ body: nodeObject(n) });
  for (const p of SEED_PODS) {
    await core.createNamespacedPod({ namespace: p.namespace, body: podObject(p) });
  }
  for (const s of SEED_SERVICES) {
    await core.createNamespacedService({ namespace: s.metadata!.namespace!, body: s });
  }
}

export async function seedConsul(consulUrl: string): Promise<void> {
  for (const r of SEED_CONSUL_REGISTRATIONS) await consulPut(consulUrl, '/v1/catalog/register', r);
}
