// The sandbox's reading of both catalogs and its comparison with the expected state: which
// registrations are ours (docs/reference.md "Ownership and safety": meta external-source=kubernetes and our sync id), Consul's
// aggregate health, which Consul services become ExternalName services (§5: not those tagged
// k8s; a same-named service without consul=true is left alone), and the diff --once prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buildCatalogs, type Catalogs } from '../../dev/sandbox/catalogs.js';
import {
  diffCatalogs,
  expectedServiceId,
  type ExpectSettings,
  type ExpectedState,
} from '../../dev/sandbox/expected.js';
import type { CatalogSnapshot } from '../../dev/emulators/consul/index.js';
import type { Service } from '../../src/translate/types.js';

const SYNC_ID = 'uid-of-kube-system';
const settings = {
  syncId: SYNC_ID,
  consulNodeName: 'k8s-sync',
  consulK8sTag: 'k8s',
  consulServicePrefix: '',
  addK8sNamespaceSuffix: false,
  k8sDefaultSync: true,
  allowK8sNamespaces: ['*'],
  denyK8sNamespaces: ['kube-system', 'kube-public'],
  syncClusterIPServices: false,
  syncLBServicesEndpoints: false,
  nodePortSyncType: 'ExternalFirst' as const,
  k8sServicePrefix: '',
  k8sWriteNamespace: 'default',
  consulDomain: 'consul',
};

function node(name: string, address: string): CatalogSnapshot['nodes'][number] {
  return {
    ID: '',
    Node: name,
    Address: address,
    Datacenter: 'dc1',
    TaggedAddresses: null,
    Meta: null,
    CreateIndex: 1,
    ModifyIndex: 1,
  };
}

function instance(
  nodeName: string,
  id: string,
  service: string,
  address: string,
  port: number,
  meta: Record<string, string> | null,
  tags: string[] = [],
): CatalogSnapshot['services'][number] {
  return {
    Node: nodeName,
    Kind: '',
    ID: id,
    Service: service,
    Tags: tags,
    Address: address,
    TaggedAddresses: null,
    Meta: meta,
    Port: port,
    Weights: { Passing: 1, Warning: 1 },
    EnableTagOverride: false,
    CreateIndex: 1,
    ModifyIndex: 1,
  };
}

function check(
  nodeName: string,
  checkId: string,
  serviceId: string,
  status: string,
): CatalogSnapshot['checks'][number] {
  return {
    Node: nodeName,
    CheckID: checkId,
    Name: serviceId ? 'Kubernetes Readiness Check' : 'Serf Health Status',
    Status: status,
    Notes: '',
    Output: '',
    ServiceID: serviceId,
    ServiceName: '',
    ServiceTags: null,
    Type: '',
    Interval: '',
    Timeout: '',
    ExposedPort: 0,
    Definition: {},
    CreateIndex: 1,
    ModifyIndex: 1,
  };
}

const ours = (ns: string, name: string, extra: Record<string, string> = {}) => ({
  'external-source': 'kubernetes',
  'external-k8s-ns': ns,
  'external-k8s-name': name,
  'external-k8s-sync-id': SYNC_ID,
  ...extra,
});

const svc = (
  namespace: string,
  name: string,
  spec: Service['spec'],
  meta: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): Service => ({ metadata: { namespace, name, ...meta }, spec });

const snapshot: CatalogSnapshot = {
  nodes: [
    node('k8s-sync', '127.0.0.1'),
    node('db-1', '10.1.0.5'),
    node('consul-server', '127.0.0.1'),
  ],
  services: [
    instance(
      'k8s-sync',
      'web-a',
      'web',
      '192.0.2.11',
      30080,
      ours('shop', 'web', { 'external-k8s-node-name': 'node-a' }),
      ['k8s'],
    ),
    instance(
      'k8s-sync',
      'web-b',
      'web',
      '10.0.0.12',
      30080,
      ours('shop', 'web', { 'external-k8s-node-name': 'node-b' }),
      ['k8s'],
    ),
    instance('k8s-sync', 'lb-1', 'checkout', '198.51.100.1', 443, ours('shop', 'checkout'), [
      'k8s',
    ]),
    // Ours, but its Kubernetes service is gone.
    instance('k8s-sync', 'gone-1', 'gone', '192.0.2.99', 80, ours('shop', 'gone'), ['k8s']),
    // Same node, another installation's sync id: not ours.
    instance(
      'k8s-sync',
      'other-1',
      'inventory',
      '10.2.0.7',
      8080,
      { ...ours('stock', 'inventory'), 'external-k8s-sync-id': 'eu' },
      ['k8s'],
    ),
    // No address on the instance: the node's address is where it is.
    instance('db-1', 'billing-db-1', 'billing-db', '', 5432, null, ['primary']),
    instance('db-1', 'legacy-1', 'legacy-api', '10.1.0.6', 8080, null),
    instance('consul-server', 'consul', 'consul', '', 8300, null),
  ],
  checks: [
    check('k8s-sync', 'shop/web-a', 'web-a', 'passing'),
    check('k8s-sync', 'shop/web-b', 'web-b', 'critical'),
    check('db-1', 'serfHealth', '', 'passing'),
  ],
};

const services: Service[] = [
  svc('shop', 'web', { type: 'NodePort' }),
  svc('shop', 'checkout', { type: 'LoadBalancer' }),
  svc('shop', 'pending-lb', { type: 'LoadBalancer' }),
  svc(
    'shop',
    'admin',
    { type: 'NodePort' },
    { annotations: { 'consul.hashicorp.com/service-sync': 'false' } },
  ),
  svc('kube-system', 'dashboard', { type: 'NodePort' }),
  svc('shop', 'cache', { type: 'ClusterIP' }),
  svc(
    'default',
    'billing-db',
    { type: 'ExternalName', externalName: 'billing-db.service.consul' },
    {
      labels: { consul: 'true' },
      annotations: {
        'consul.hashicorp.com/synced': 'true',
        'consul.hashicorp.com/service-sync': 'false',
      },
    },
  ),
  // Same name as a Consul service, but not ours.
  svc('default', 'legacy-api', { type: 'ClusterIP' }),
  // Ours, but no longer in Consul.
  svc(
    'default',
    'old',
    { type: 'ExternalName', externalName: 'old.service.consul' },
    { labels: { consul: 'true' } },
  ),
];

const catalogs: Catalogs = buildCatalogs({ services, consul: snapshot }, settings);
const left = (ref: string) => catalogs.toConsul.find((s) => `${s.namespace}/${s.name}` === ref);
const right = (name: string) => catalogs.toK8s.find((s) => s.name === name);

test('owned registrations are those with our sync id on our node, with their checks', () => {
  assert.deepEqual(
    catalogs.owned.registrations.map((r) => r.id),
    ['gone-1', 'lb-1', 'web-a', 'web-b'],
  );
  const web = left('shop/web')!;
  assert.deepEqual(
    web.instances.map((i) => [i.address, i.port, i.health, i.k8sNode]),
    [
      ['192.0.2.11', 30080, 'passing', 'node-a'],
      ['10.0.0.12', 30080, 'critical', 'node-b'],
    ],
  );
  // No check: Consul's health API reports the instance passing.
  assert.equal(left('shop/checkout')!.instances[0]!.health, 'passing');
  assert.deepEqual(left('shop/checkout')!.instances[0]!.checks, []);
});

test('Kubernetes services without instances say why', () => {
  assert.match(left('shop/admin')!.note!, /^not synced: .*service-sync.*false/);
  assert.match(left('kube-system/dashboard')!.note!, /^not synced: .*kube-system/);
  assert.match(left('shop/cache')!.note!, /^not synced: .*ClusterIP/);
  assert.match(left('shop/pending-lb')!.note!, /ingress/);
  assert.equal(left('shop/web')!.note, undefined);
  // Registrations of a deleted service are still shown, marked.
  assert.equal(left('shop/gone')!.type, '(deleted)');
  // Our ExternalName services are not Kubernetes → Consul rows.
  assert.equal(left('default/billing-db'), undefined);
});

test('Consul services of others → their ExternalName service, or why not', () => {
  assert.deepEqual(
    catalogs.toK8s.map((s) => s.name),
    ['billing-db', 'consul', 'inventory', 'legacy-api', 'old'],
  );
  assert.equal(right('billing-db')!.mirror?.externalName, 'billing-db.service.consul');
  assert.deepEqual(right('billing-db')!.addresses, ['10.1.0.5:5432']);
  assert.match(right('inventory')!.note!, /tagged k8s/);
  assert.match(right('legacy-api')!.note!, /not ours/);
  assert.match(right('consul')!.note!, /not in Kubernetes yet/);
  assert.match(right('old')!.note!, /no longer in Consul/);
  assert.deepEqual(
    catalogs.owned.k8sServices.map((m) => m.name),
    ['billing-db', 'old'],
  );
});

test('expectedServiceId follows docs/reference.md "Kubernetes → Consul" (sha1 of namespace/name/address, 12 hex)', () => {
  const sha1 = createHash('sha1').update('shop/web/192.0.2.11').digest('hex');
  const id = expectedServiceId({
    service: 'web',
    namespace: 'shop',
    k8sName: 'web',
    address: '192.0.2.11',
    port: 30080,
    ports: {},
  });
  assert.equal(id, `web-${sha1.slice(0, 12)}`);
  assert.match(id, /^web-[0-9a-f]{12}$/);
});

test('diffCatalogs: empty when equal, - expected / + actual lines otherwise', () => {
  const s: ExpectSettings = {
    syncId: SYNC_ID,
    consulK8sTag: 'k8s',
    k8sWriteNamespace: 'default',
    consulDomain: 'consul',
  };
  const expected: ExpectedState = {
    registrations: [
      {
        service: 'search',
        namespace: 'shop',
        k8sName: 'search',
        address: '192.0.2.50',
        port: 9200,
        ports: { http: 9200 },
      },
    ],
    k8sServices: ['billing-db'],
  };
  const make = (port: number): Catalogs => {
    const meta = ours('shop', 'search', { 'port-http': String(port) });
    const id = expectedServiceId(expected.registrations[0]!);
    return buildCatalogs(
      {
        services: [services[6]!],
        consul: {
          nodes: [node('k8s-sync', '127.0.0.1')],
          services: [instance('k8s-sync', id, 'search', '192.0.2.50', port, meta, ['k8s'])],
          checks: [],
        },
      },
      settings,
    );
  };
  assert.deepEqual(diffCatalogs(make(9200), expected, s), []);
  const diff = diffCatalogs(make(9300), expected, s);
  assert.equal(diff[0], 'Consul registrations (ours):');
  assert.ok(diff.some((l) => l.startsWith('  - ') && l.includes('addr=192.0.2.50:9200')));
  assert.ok(diff.some((l) => l.startsWith('  + ') && l.includes('addr=192.0.2.50:9300')));
  // A missing ExternalName service is reported on the Kubernetes side.
  const noMirror = diffCatalogs(
    make(9200),
    { ...expected, k8sServices: ['billing-db', 'ledger'] },
    s,
  );
  assert.deepEqual(noMirror.slice(0, 1), ['Kubernetes services (ours):']);
  assert.match(noMirror[1]!, /^ {2}- default\/ledger ExternalName ledger\.service\.consul /);
});
