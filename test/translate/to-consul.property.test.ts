// Properties of the Kubernetes → Consul translation: it never throws on arbitrary annotation
// strings, keeps Consul's limits, is deterministic (input order does not matter) and idempotent
// (planning desired against itself as current gives no changes).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import { planServiceRegistrations } from '../../src/plan/index.js';
import { translateService } from '../../src/translate/to-consul.js';
import type {
  EndpointSlice,
  Node,
  Service,
  ServicePort,
  ToConsulSettings,
} from '../../src/translate/types.js';

const RUNS = 300;

const KNOWN_KEYS = [
  'consul.hashicorp.com/service-sync',
  'consul.hashicorp.com/service-name',
  'consul.hashicorp.com/service-port',
  'consul.hashicorp.com/service-tags',
  'consul.hashicorp.com/service-weight',
  'consul.hashicorp.com/synced',
  'consul.hashicorp.com/service-meta-team',
  'consul.hashicorp.com/service-meta-external-source',
  'consul.hashicorp.com/service-meta-consul-x',
  'consul.hashicorp.com/service-meta-port-http',
];

const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('true', 'false', '1', 'http', 'grpc', '8080', '0', '5', 'a\\,b,c', ' x ', ''),
  fc.string({ unit: 'grapheme', minLength: 250, maxLength: 700 }),
);

const annotationsArb = fc.dictionary(
  fc.oneof(
    fc.constantFrom(...KNOWN_KEYS),
    fc
      .string({ unit: 'binary', maxLength: 20 })
      .map((k) => `consul.hashicorp.com/service-meta-${k}`),
    fc.string({ maxLength: 20 }),
  ),
  anyString,
  { maxKeys: 8 },
);

const settingsArb: fc.Arbitrary<ToConsulSettings> = fc.record({
  syncId: fc.constant('sync-1'),
  consulNodeName: fc.constant('k8s-sync'),
  consulK8sTag: fc.constantFrom('k8s', 'from-k8s'),
  consulServicePrefix: fc.constantFrom('', 'k8s-'),
  addK8sNamespaceSuffix: fc.boolean(),
  k8sDefaultSync: fc.boolean(),
  allowK8sNamespaces: fc.constantFrom(['*'], ['shop']),
  denyK8sNamespaces: fc.constantFrom(['kube-system'], []),
  syncClusterIPServices: fc.boolean(),
  syncLBServicesEndpoints: fc.boolean(),
  nodePortSyncType: fc.constantFrom('ExternalOnly', 'ExternalFirst', 'InternalOnly'),
});

const PORTS: ServicePort[] = [
  { name: 'http', port: 80, targetPort: 8080, nodePort: 30080 },
  { name: 'grpc', port: 9090, targetPort: 'grpc', nodePort: 30090 },
  { port: 81 },
];

const serviceArb: fc.Arbitrary<Service> = fc
  .record({
    name: fc.constantFrom('web', 'api'),
    namespace: fc.constantFrom('shop', 'kube-system'),
    type: fc.constantFrom(undefined, 'ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
    ports: fc.subarray(PORTS),
    annotations: annotationsArb,
    externalIPs: fc.constantFrom<string[] | undefined>(
      undefined,
      [],
      ['192.0.2.1', '192.0.2.2', '192.0.2.1'],
    ),
    ingress: fc.constantFrom<{ ip?: string; hostname?: string }[] | undefined>(undefined, [
      { ip: '198.51.100.7' },
      { hostname: 'lb.example' },
    ]),
  })
  .map((o) => {
    const s: Service = {
      metadata: { name: o.name, namespace: o.namespace, annotations: o.annotations },
      spec: { ports: o.ports },
    };
    if (o.type !== undefined) s.spec!.type = o.type;
    if (o.externalIPs !== undefined) s.spec!.externalIPs = o.externalIPs;
    if (o.ingress !== undefined) s.status = { loadBalancer: { ingress: o.ingress } };
    return s;
  });

const endpointArb = fc.record({
  addresses: fc.subarray(['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4'], { minLength: 1 }),
  conditions: fc.constantFrom<{ ready?: boolean | null }>(
    {},
    { ready: true },
    { ready: false },
    { ready: null },
  ),
  nodeName: fc.constantFrom<string | undefined>(undefined, 'node-a', 'node-b', 'node-c', 'node-x'),
});

const slicesArb: fc.Arbitrary<EndpointSlice[]> = fc
  .array(
    fc.record({
      endpoints: fc.array(endpointArb, { maxLength: 4 }),
      ports: fc.constantFrom<{ name: string; port: number }[]>(
        [{ name: 'http', port: 8080 }],
        [
          { name: 'grpc', port: 9000 },
          { name: 'http', port: 8081 },
        ],
        [],
      ),
    }),
    { maxLength: 3 },
  )
  .map((slices) =>
    slices.map((s, i) => ({
      metadata: { name: `slice-${i}` },
      endpoints: s.endpoints.map((e) =>
        e.nodeName === undefined ? { addresses: e.addresses, conditions: e.conditions } : e,
      ),
      ports: s.ports,
    })),
  );

const NODES: [string, Node][] = [
  [
    'node-a',
    {
      status: {
        addresses: [
          { type: 'InternalIP', address: '10.0.0.1' },
          { type: 'ExternalIP', address: '203.0.113.1' },
        ],
      },
    },
  ],
  ['node-b', { status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] } }],
  ['node-c', { status: { addresses: [{ type: 'ExternalIP', address: '203.0.113.3' }] } }],
];

const META_KEY = /^[A-Za-z0-9_-]{1,128}$/;

describe('translateService properties', () => {
  it('never throws and keeps the invariants (sorted unique IDs, Consul meta limits, tags, node)', () => {
    fc.assert(
      fc.property(serviceArb, slicesArb, settingsArb, (service, slices, settings) => {
        const t = translateService(
          { service, endpointSlices: slices, nodes: new Map(NODES) },
          settings,
        );
        const ids = t.registrations.map((r) => r.id);
        assert.deepEqual(ids, [...ids].sort());
        assert.equal(new Set(ids).size, ids.length);
        if (!t.eligible) assert.equal(t.registrations.length, 0);
        for (const r of t.registrations) {
          assert.equal(r.node, 'k8s-sync');
          assert.equal(r.tags[0], settings.consulK8sTag);
          assert.equal(new Set(r.tags).size, r.tags.length);
          assert.equal(r.weights.warning, 1);
          assert.ok(Number.isInteger(r.weights.passing) && r.weights.passing >= 1);
          const keys = Object.keys(r.meta);
          assert.ok(keys.length <= 64, `${keys.length} meta keys`);
          for (const k of keys) {
            assert.match(k, META_KEY);
            assert.ok(!k.startsWith('consul-'));
            assert.ok(Buffer.byteLength(r.meta[k]!, 'utf8') <= 512);
          }
          assert.equal(r.meta['external-source'], 'kubernetes');
          assert.equal(r.meta['external-k8s-sync-id'], 'sync-1');
          assert.equal(r.meta['external-k8s-ns'], service.metadata!.namespace);
        }
        for (const w of t.warnings) assert.ok(w.length < 400, 'warnings stay short');
      }),
      { numRuns: RUNS },
    );
  });

  it('is deterministic: the order of slices, nodes and annotations does not matter', () => {
    fc.assert(
      fc.property(serviceArb, slicesArb, settingsArb, (service, slices, settings) => {
        const a = translateService(
          { service, endpointSlices: slices, nodes: new Map(NODES) },
          settings,
        );
        const reordered = structuredClone(service);
        const ann = reordered.metadata!.annotations ?? {};
        reordered.metadata!.annotations = Object.fromEntries(Object.entries(ann).reverse());
        const b = translateService(
          {
            service: reordered,
            endpointSlices: [...slices].reverse(),
            nodes: new Map([...NODES].reverse()),
          },
          settings,
        );
        assert.deepEqual(b, a);
      }),
      { numRuns: RUNS },
    );
  });

  it('is idempotent: desired planned against itself as current gives no changes', () => {
    fc.assert(
      fc.property(serviceArb, slicesArb, settingsArb, (service, slices, settings) => {
        const t = translateService(
          { service, endpointSlices: slices, nodes: new Map(NODES) },
          settings,
        );
        const plan = planServiceRegistrations({
          translation: t,
          current: structuredClone(t.registrations),
          syncId: settings.syncId,
        });
        assert.deepEqual(plan.changes, []);
        assert.deepEqual(plan.conflicts, []);
        assert.equal(plan.unchanged, t.registrations.length);
      }),
      { numRuns: RUNS },
    );
  });
});
