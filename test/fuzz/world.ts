// The fuzz suite's seeded world: a few namespaces (two synced, the denied kube-system and
// kube-public, the write namespace `default`), three nodes, NodePort / LoadBalancer / externalIPs
// Services with their EndpointSlices, a Service in default that is not ours and shares a name with
// a Consul service, and Consul services on an external node, on a database node and from another
// cluster's sync. Addresses are from documentation and private ranges only.

/** Namespaces whose services are synced (the product's defaults allow every namespace). */
export const ALLOWED_NAMESPACES = ['shop', 'team-a'] as const;
/** The product's default --deny-k8s-namespace. */
export const DENIED_NAMESPACES = ['kube-system', 'kube-public'] as const;
/** --k8s-write-namespace (default). */
export const WRITE_NAMESPACE = 'default';
/** --consul-node-name (default). */
export const SYNC_NODE = 'k8s-sync';

type Obj = Record<string, unknown>;

export const NODES = [
  { name: 'node-a', internalIP: '10.0.0.11', externalIP: '192.0.2.11' },
  { name: 'node-b', internalIP: '10.0.0.12' },
  { name: 'node-c', internalIP: '10.0.0.13' },
] as const;

function node(n: { name: string; internalIP: string; externalIP?: string }): Obj {
  const addresses = [{ type: 'InternalIP', address: n.internalIP }];
  if (n.externalIP) addresses.push({ type: 'ExternalIP', address: n.externalIP });
  addresses.push({ type: 'Hostname', address: n.name });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } },
    status: { addresses, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function namespace(name: string): Obj {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

function service(ns: string, name: string, spec: Obj, status?: Obj, annotations?: Obj): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) },
    spec,
    ...(status ? { status } : {}),
  };
}

export function slice(
  ns: string,
  serviceName: string,
  name: string,
  endpoints: { ip: string; node: string; ready: boolean }[],
  port = 8080,
): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: ns,
      labels: {
        'kubernetes.io/service-name': serviceName,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
    },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      nodeName: e.node,
      conditions: { ready: e.ready },
    })),
    ports: [{ name: 'http', port, protocol: 'TCP' }],
  };
}

/** Services of the world, by namespace: what admissions and audit events most often name. */
export const WORLD_SERVICES: Record<string, string[]> = {
  shop: ['web', 'checkout', 'search', 'internal-admin'],
  'team-a': ['api', 'gateway', 'metrics'],
  'kube-system': ['dashboard'],
  'kube-public': [],
  default: ['billing-db'],
};

export function kubeObjects(): Obj[] {
  const ports = (port: number, nodePort?: number): Obj[] => [
    { name: 'http', port, targetPort: 8080, protocol: 'TCP', ...(nodePort ? { nodePort } : {}) },
  ];
  return [
    ...['shop', 'team-a', 'kube-public'].map(namespace),
    ...NODES.map(node),
    service('shop', 'web', { type: 'NodePort', selector: { app: 'web' }, ports: ports(80, 30080) }),
    slice('shop', 'web', 'web-x7k2p', [
      { ip: '10.244.1.10', node: 'node-a', ready: true },
      { ip: '10.244.2.10', node: 'node-b', ready: true },
      { ip: '10.244.3.10', node: 'node-c', ready: false },
    ]),
    service(
      'shop',
      'checkout',
      { type: 'LoadBalancer', selector: { app: 'checkout' }, ports: ports(443, 30443) },
      { loadBalancer: { ingress: [{ ip: '198.51.100.1', ipMode: 'VIP' }] } },
    ),
    service('shop', 'search', {
      type: 'ClusterIP',
      externalIPs: ['192.0.2.50'],
      ports: ports(9200),
    }),
    service('shop', 'internal-admin', { type: 'NodePort', ports: ports(8081, 30082) }, undefined, {
      'consul.hashicorp.com/service-sync': 'false',
    }),
    service('team-a', 'api', { type: 'NodePort', ports: ports(8080, 30081) }),
    slice('team-a', 'api', 'api-4fz9q', [{ ip: '10.244.3.20', node: 'node-c', ready: true }]),
    service(
      'team-a',
      'gateway',
      { type: 'LoadBalancer', ports: ports(80, 30090) },
      { loadBalancer: { ingress: [{ hostname: 'lb-1.example.com' }] } },
      { 'consul.hashicorp.com/service-tags': 'edge,public' },
    ),
    service('team-a', 'metrics', {
      type: 'ClusterIP',
      externalIPs: ['192.0.2.60', '2001:db8::60'],
      ports: [
        { name: 'http', port: 9090, targetPort: 9090, protocol: 'TCP' },
        { name: 'grpc', port: 9091, targetPort: 9091, protocol: 'TCP' },
      ],
    }),
    service('kube-system', 'dashboard', { type: 'NodePort', ports: ports(443, 30443 + 1) }),
    slice('kube-system', 'dashboard', 'dashboard-kq2mc', [
      { ip: '10.244.3.11', node: 'node-c', ready: true },
    ]),
    // Not ours, and named like the Consul service billing-db: the view path must never touch it.
    service('default', 'billing-db', { type: 'ClusterIP', ports: ports(5432) }),
  ];
}

/** Consul services registered by others (PUT /v1/catalog/register bodies). */
export function consulRegistrations(): Obj[] {
  return [
    {
      Node: 'db-1',
      Address: '10.1.0.5',
      Service: { ID: 'billing-db-1', Service: 'billing-db', Tags: ['primary'], Port: 5432 },
    },
    {
      Node: 'legacy-vm-1',
      Address: '192.0.2.80',
      NodeMeta: { 'external-node': 'true', 'external-probe': 'true' },
      Service: { ID: 'legacy-api', Service: 'legacy-api', Tags: ['v1'], Port: 8080 },
    },
    {
      Node: 'legacy-vm-1',
      Address: '192.0.2.80',
      NodeMeta: { 'external-node': 'true', 'external-probe': 'true' },
      Service: { ID: 'payments', Service: 'payments', Tags: [], Port: 8443 },
    },
    {
      // Another cluster's sync: tagged k8s (never synced back), another sync id (never ours).
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
}

/** The Consul services view of the seeded world (what a watch would deliver first). */
export const WORLD_VIEW: Record<string, string[]> = {
  consul: [],
  'billing-db': ['primary'],
  'legacy-api': ['v1'],
  payments: [],
  inventory: ['k8s'],
};
