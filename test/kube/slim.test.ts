// What a reconcile keeps of listed objects (src/kube/slim.ts, issue 18): the fields translation
// reads, so translating the slim object gives exactly what the whole object gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LAST_APPLIED_ANNOTATION,
  slimEndpointSlice,
  slimIngress,
  slimNode,
  slimService,
} from '../../src/kube/slim.js';
import { translateService } from '../../src/translate/index.js';
import type {
  EndpointSlice,
  Ingress,
  Node,
  Service,
  ToConsulSettings,
} from '../../src/translate/types.js';

const settings: ToConsulSettings = {
  syncId: 'sync-123',
  consulNodeName: 'k8s-sync',
  consulK8sTag: 'k8s',
  consulServicePrefix: '',
  addK8sNamespaceSuffix: false,
  k8sDefaultSync: true,
  allowK8sNamespaces: ['*'],
  denyK8sNamespaces: ['kube-system'],
  syncClusterIPServices: true,
  syncLBServicesEndpoints: false,
  nodePortSyncType: 'ExternalFirst',
};

const managedFields = [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': {} } }];

const meta = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name,
  namespace: 'shop',
  uid: `uid-${name}`,
  resourceVersion: '42',
  creationTimestamp: '2026-01-01T00:00:00Z',
  generation: 3,
  managedFields,
  labels: { app: name },
  annotations: {
    'consul.hashicorp.com/service-tags': 'a,b',
    'consul.hashicorp.com/service-meta-team': 'web',
    [LAST_APPLIED_ANNOTATION]: JSON.stringify({ big: 'x'.repeat(10_000) }),
  },
  ...extra,
});

const fullService = (name: string, spec: Record<string, unknown>, status = {}): Service =>
  ({
    metadata: meta(name),
    spec: {
      clusterIP: '10.0.0.1',
      clusterIPs: ['10.0.0.1'],
      sessionAffinity: 'None',
      ipFamilies: ['IPv4'],
      selector: { app: name },
      ...spec,
    },
    status,
  }) as Service;

const fullSlice = (service: string, n: number): EndpointSlice =>
  ({
    metadata: meta(`${service}-abc`, {
      labels: {
        'kubernetes.io/service-name': service,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
    }),
    addressType: 'IPv4',
    endpoints: Array.from({ length: n }, (_, i) => ({
      addresses: [`10.1.0.${i + 1}`],
      conditions: { ready: i % 3 !== 0, serving: true, terminating: false },
      nodeName: `node-${i % 2}`,
      zone: 'z1',
      hints: { forZones: [{ name: 'z1' }] },
      targetRef: { kind: 'Pod', namespace: 'shop', name: `${service}-${i}`, uid: `pod-${i}` },
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP', appProtocol: 'http' }],
  }) as unknown as EndpointSlice;

const fullNode = (name: string): Node =>
  ({
    metadata: meta(name, { namespace: undefined }),
    status: {
      addresses: [
        { type: 'InternalIP', address: `10.0.9.${name.length}` },
        { type: 'ExternalIP', address: `203.0.113.${name.length}` },
      ],
      images: [{ names: ['registry/image:1'], sizeBytes: 1 }],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  }) as Node;

test('a slim Service keeps what translation and Events read, and drops the rest', () => {
  const full = fullService(
    'web',
    {
      type: 'LoadBalancer',
      ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080, appProtocol: 'h2' }],
      externalIPs: ['198.51.100.1'],
    },
    { loadBalancer: { ingress: [{ ip: '198.51.100.7', ipMode: 'VIP' }] }, conditions: [] },
  );
  const slim = slimService(full) as { metadata: unknown; spec: unknown; status: unknown };
  assert.deepEqual(slim.metadata, {
    name: 'web',
    namespace: 'shop',
    uid: 'uid-web',
    resourceVersion: '42',
    labels: { app: 'web' },
    annotations: {
      'consul.hashicorp.com/service-tags': 'a,b',
      'consul.hashicorp.com/service-meta-team': 'web',
    },
  });
  assert.deepEqual(slim.spec, {
    type: 'LoadBalancer',
    selector: { app: 'web' },
    clusterIP: '10.0.0.1',
    externalIPs: ['198.51.100.1'],
    ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }],
  });
  assert.deepEqual(slim.status, { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } });
  // The original is untouched.
  assert.ok(LAST_APPLIED_ANNOTATION in (full.metadata!.annotations ?? {}));
});

test('a Service being deleted stays one (deletionTimestamp kept)', () => {
  const full = fullService('gone', { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] });
  (full.metadata as Record<string, unknown>).deletionTimestamp = '2026-01-02T00:00:00Z';
  const slim = slimService(full);
  assert.equal(
    (slim.metadata as Record<string, unknown>).deletionTimestamp,
    '2026-01-02T00:00:00Z',
  );
});

test('translating slim objects gives what the whole objects give', () => {
  const nodesFull = new Map(['node-0', 'node-1'].map((n) => [n, fullNode(n)]));
  const nodesSlim = new Map([...nodesFull].map(([n, node]) => [n, slimNode(node)]));
  const cases: { service: Service; slices: EndpointSlice[] }[] = [
    {
      service: fullService('np', {
        type: 'NodePort',
        ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }],
      }),
      slices: [fullSlice('np', 5)],
    },
    {
      service: fullService('cip', { type: 'ClusterIP', ports: [{ name: 'http', port: 80 }] }),
      slices: [fullSlice('cip', 7), fullSlice('cip', 2)],
    },
    {
      service: fullService(
        'lb',
        { type: 'LoadBalancer', ports: [{ port: 443 }] },
        { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }] } },
      ),
      slices: [],
    },
    {
      service: fullService('ext', { type: 'ClusterIP', externalIPs: ['192.0.2.1', '192.0.2.2'] }),
      slices: [],
    },
  ];
  for (const { service, slices } of cases) {
    const whole = translateService(
      { service, endpointSlices: slices, nodes: nodesFull, ingresses: [] },
      settings,
    );
    const slim = translateService(
      {
        service: slimService(service),
        endpointSlices: slices.map(slimEndpointSlice),
        nodes: nodesSlim,
        ingresses: [],
      },
      settings,
    );
    assert.deepEqual(slim, whole, service.metadata?.name);
    assert.ok(whole.registrations.length > 0, `${service.metadata?.name} registers something`);
  }
});

test('a slim EndpointSlice shares its endpoints’ conditions and keeps their pod', () => {
  const slim = slimEndpointSlice(fullSlice('web', 6));
  const eps = slim.endpoints!;
  assert.equal(eps.length, 6);
  assert.equal(eps[1]!.conditions, eps[2]!.conditions, 'one object per distinct value');
  assert.notEqual(eps[0]!.conditions, eps[1]!.conditions);
  assert.ok(Object.isFrozen(eps[0]!.conditions));
  assert.deepEqual(eps[0], {
    addresses: ['10.1.0.1'],
    nodeName: 'node-0',
    zone: 'z1',
    conditions: { ready: false, serving: true, terminating: false },
    targetRef: { kind: 'Pod', name: 'web-0', namespace: 'shop' },
  });
  assert.deepEqual(slim.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.equal(slim.metadata?.labels?.['kubernetes.io/service-name'], 'web');
  assert.equal((slim.metadata as Record<string, unknown>).managedFields, undefined);
});

test('odd values pass through as they are (translation checks every field)', () => {
  assert.equal(slimService(null as unknown as Service), null);
  const odd = slimEndpointSlice({
    metadata: { name: 's' },
    endpoints: null,
    ports: [7 as unknown as { port: number }],
  });
  assert.deepEqual(odd, { metadata: { name: 's' }, endpoints: null, ports: [7] });
  const conditions = { ready: 'yes' } as unknown as { ready: boolean };
  const ep = slimEndpointSlice({ endpoints: [{ addresses: ['10.0.0.1'], conditions }] })
    .endpoints![0]!;
  assert.deepEqual(ep.conditions, { ready: 'yes' });
  assert.deepEqual(slimNode({ metadata: { name: 'n' } }), { metadata: { name: 'n' } });
});

test('a slim Ingress keeps its rules, TLS and load balancer', () => {
  const ingress = {
    metadata: meta('ing'),
    spec: { rules: [{ host: 'a.example.com' }], tls: [{ hosts: ['a.example.com'] }] },
    status: { loadBalancer: { ingress: [{ ip: '198.51.100.9' }] } },
  } as Ingress;
  const slim = slimIngress(ingress);
  assert.equal(slim.spec, ingress.spec);
  assert.equal(slim.status, ingress.status);
  assert.equal((slim.metadata as Record<string, unknown>).managedFields, undefined);
});
