// Kubernetes → Consul end to end: AdmissionReviews and audit batches through the real app, the
// real clients and the emulators. Expected registrations are written from docs/reference.md "Kubernetes → Consul".
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { startWorld, type World } from '../support/world.js';
import {
  admissionReview,
  auditEvent,
  endpointSlice,
  eventList,
  service,
} from '../fixtures/reviews.js';

const SYNC_ID = 'cluster-a';
const id = (consulName: string, ns: string, name: string, address: string): string =>
  `${consulName}-${createHash('sha1').update(`${ns}/${name}/${address}`).digest('hex').slice(0, 12)}`;

let w: World;

before(async () => {
  // These reviews are written by hand and never stored by the API server: confirmations from
  // stored state (tested in test/sync/admission-intent.int.test.ts) would undo them, so they
  // are off here and each test sees only the admission path.
  w = await startWorld({
    flags: [
      `--sync-id=${SYNC_ID}`,
      '--write-timeout=1s',
      '--confirm-after=',
      '--breaker-failures=0',
    ],
  });
  w.kubeEmu.seed([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    node('n1', [
      { type: 'InternalIP', address: '10.0.0.1' },
      { type: 'ExternalIP', address: '203.0.113.1' },
    ]),
    node('n2', [{ type: 'InternalIP', address: '10.0.0.2' }]),
    node('n3', [{ type: 'InternalIP', address: '10.0.0.3' }]),
  ]);
});
after(async () => {
  await w.close();
});
beforeEach(() => {
  w.consulEmu.faults.clear();
  w.consulEmu.resetRequestCounts();
});

function node(
  name: string,
  addresses: { type: string; address: string }[],
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { addresses },
  };
}

async function review(
  body: unknown,
): Promise<{ uid: string; allowed: boolean; warnings?: string[] }> {
  const res = await request(w.app)
    .post('/k8s/admission')
    .send(body as object)
    .expect(200);
  assert.equal(res.body.apiVersion, 'admission.k8s.io/v1');
  assert.equal(res.body.kind, 'AdmissionReview');
  assert.equal(res.body.response.uid, (body as { request: { uid: string } }).request.uid);
  assert.equal(res.body.response.allowed, true);
  return res.body.response;
}

const txns = (): number => w.consulEmu.requestCounts()['PUT /v1/txn'] ?? 0;
const ours = async (ns: string, name: string) =>
  (await w.registrations()).filter(
    (r) => r.Meta['external-k8s-ns'] === ns && r.Meta['external-k8s-name'] === name,
  );

test('NodePort: CREATE then its EndpointSlice yields one instance per node with endpoints, in one txn', async () => {
  const web = service('shop', 'web', {
    type: 'NodePort',
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' },
      { name: 'admin', port: 81, targetPort: 9090, nodePort: 30081, protocol: 'TCP' },
    ],
  });
  await review(
    admissionReview({ operation: 'CREATE', namespace: 'shop', name: 'web', object: web }),
  );
  assert.equal(txns(), 0, 'no endpoints yet: nothing to write');
  await w.core.createNamespacedService({ namespace: 'shop', body: web });

  const slice = endpointSlice(
    'shop',
    'web',
    'web-abcde',
    [
      { ip: '10.1.0.5', node: 'n1', ready: true },
      { ip: '10.1.0.6', node: 'n2', ready: false },
    ],
    [
      { name: 'http', port: 8080 },
      { name: 'admin', port: 9090 },
    ],
  );
  await review(
    admissionReview({
      operation: 'CREATE',
      resource: 'endpointslices',
      namespace: 'shop',
      name: 'web-abcde',
      object: slice,
    }),
  );
  assert.equal(txns(), 1, 'all instances in one transaction');

  const regs = await ours('shop', 'web');
  assert.deepEqual(
    regs.map((r) => ({
      ID: r.ID,
      Service: r.Service,
      Address: r.Address,
      Port: r.Port,
      Tags: r.Tags,
      Check: r.Check,
    })),
    [
      {
        ID: id('web', 'shop', 'web', '10.0.0.2'),
        Service: 'web',
        Address: '10.0.0.2', // ExternalFirst: n2 has no ExternalIP
        Port: 30080,
        Tags: ['k8s'],
        Check: {
          CheckID: `shop/${id('web', 'shop', 'web', '10.0.0.2')}`,
          Name: 'Kubernetes Readiness Check',
          Status: 'critical',
        },
      },
      {
        ID: id('web', 'shop', 'web', '203.0.113.1'),
        Service: 'web',
        Address: '203.0.113.1',
        Port: 30080,
        Tags: ['k8s'],
        Check: {
          CheckID: `shop/${id('web', 'shop', 'web', '203.0.113.1')}`,
          Name: 'Kubernetes Readiness Check',
          Status: 'passing',
        },
      },
    ].sort((a, b) => a.ID.localeCompare(b.ID)),
  );
  const meta = regs.find((r) => r.Address === '203.0.113.1')!.Meta;
  assert.equal(meta['external-source'], 'kubernetes');
  assert.equal(meta['external-k8s-ns'], 'shop');
  assert.equal(meta['external-k8s-name'], 'web');
  assert.equal(meta['external-k8s-sync-id'], SYNC_ID);
  assert.equal(meta['external-k8s-node-name'], 'n1');
  assert.equal(meta['port-http'], '30080');
  assert.equal(meta['port-admin'], '30081');
  assert.deepEqual(regs[0]!.Weights, { Passing: 1, Warning: 1 });

  // The same state again writes nothing.
  await w.discovery.createNamespacedEndpointSlice({ namespace: 'shop', body: slice as never });
  await review(
    admissionReview({
      operation: 'UPDATE',
      resource: 'endpointslices',
      namespace: 'shop',
      name: 'web-abcde',
      object: slice,
      oldObject: slice,
    }),
  );
  assert.equal(txns(), 1, 'unchanged state: no write');

  // A readiness flip writes only the check.
  const flipped = endpointSlice(
    'shop',
    'web',
    'web-abcde',
    [
      { ip: '10.1.0.5', node: 'n1', ready: true },
      { ip: '10.1.0.6', node: 'n2', ready: true },
    ],
    [
      { name: 'http', port: 8080 },
      { name: 'admin', port: 9090 },
    ],
  );
  await review(
    admissionReview({
      operation: 'UPDATE',
      resource: 'endpointslices',
      namespace: 'shop',
      name: 'web-abcde',
      object: flipped,
      oldObject: slice,
    }),
  );
  assert.equal(txns(), 2);
  assert.ok((await ours('shop', 'web')).every((r) => r.Check?.Status === 'passing'));
});

test('LoadBalancer: ingress arrives through services/status; DELETE deregisters', async () => {
  const lb = service(
    'shop',
    'front',
    {
      type: 'LoadBalancer',
      ports: [{ name: 'https', port: 443, targetPort: 8443, nodePort: 31443 }],
    },
    {
      annotations: { 'consul.hashicorp.com/service-tags': 'primary, edge\\,v2,primary' },
    },
  );
  await review(
    admissionReview({ operation: 'CREATE', namespace: 'shop', name: 'front', object: lb }),
  );
  assert.deepEqual(await ours('shop', 'front'), []);
  const withIngress = {
    ...lb,
    status: {
      loadBalancer: { ingress: [{ ip: '198.51.100.7' }, { hostname: 'front.example.com' }] },
    },
  };
  await review(
    admissionReview({
      operation: 'UPDATE',
      subResource: 'status',
      namespace: 'shop',
      name: 'front',
      object: withIngress,
      oldObject: lb,
    }),
  );
  const regs = await ours('shop', 'front');
  assert.deepEqual(
    regs.map((r) => [r.Address, r.Port, r.Tags, r.Check]),
    [
      ['198.51.100.7', 443, ['k8s', 'primary', 'edge,v2'], undefined],
      ['front.example.com', 443, ['k8s', 'primary', 'edge,v2'], undefined],
    ].sort((a, b) =>
      id('front', 'shop', 'front', a[0] as string).localeCompare(
        id('front', 'shop', 'front', b[0] as string),
      ),
    ),
  );
  assert.equal(regs[0]!.Meta['port-https'], '443');
  await review(
    admissionReview({
      operation: 'DELETE',
      namespace: 'shop',
      name: 'front',
      oldObject: withIngress,
    }),
  );
  assert.deepEqual(await ours('shop', 'front'), []);
});

test('rename by annotation and opt-out move and remove registrations', async () => {
  const svc = service('shop', 'api', {
    type: 'ClusterIP',
    externalIPs: ['192.0.2.10'],
    ports: [{ port: 8080 }],
  });
  await review(
    admissionReview({ operation: 'CREATE', namespace: 'shop', name: 'api', object: svc }),
  );
  assert.deepEqual(
    (await ours('shop', 'api')).map((r) => [r.ID, r.Port]),
    [[id('api', 'shop', 'api', '192.0.2.10'), 8080]],
  );
  const before = txns();
  const renamed = service('shop', 'api', svc.spec as Record<string, unknown>, {
    annotations: { 'consul.hashicorp.com/service-name': 'public-api' },
  });
  await review(
    admissionReview({
      operation: 'UPDATE',
      namespace: 'shop',
      name: 'api',
      object: renamed,
      oldObject: svc,
    }),
  );
  assert.equal(txns() - before, 1, 'rename: create and delete in one transaction');
  assert.deepEqual(
    (await ours('shop', 'api')).map((r) => r.ID),
    [id('public-api', 'shop', 'api', '192.0.2.10')],
  );
  const optedOut = service('shop', 'api', svc.spec as Record<string, unknown>, {
    annotations: {
      'consul.hashicorp.com/service-name': 'public-api',
      'consul.hashicorp.com/service-sync': 'F',
    },
  });
  await review(
    admissionReview({
      operation: 'UPDATE',
      namespace: 'shop',
      name: 'api',
      object: optedOut,
      oldObject: renamed,
    }),
  );
  assert.deepEqual(await ours('shop', 'api'), []);
});

test('annotation mistakes come back as admission warnings, never a failure', async () => {
  const svc = service(
    'shop',
    'warn',
    { type: 'LoadBalancer', ports: [{ name: 'http', port: 80 }] },
    {
      annotations: {
        'consul.hashicorp.com/service-port': 'htp',
        'consul.hashicorp.com/service-weight': 'heavy',
      },
    },
  );
  const response = await review(
    admissionReview({ operation: 'CREATE', namespace: 'shop', name: 'warn', object: svc }),
  );
  assert.ok(response.warnings && response.warnings.length === 2, JSON.stringify(response.warnings));
  assert.ok(response.warnings.some((x) => x.includes('htp')));
  assert.ok(response.warnings.some((x) => x.includes('heavy')));
});

test('dry-run reviews write nothing', async () => {
  const svc = service('shop', 'dry', {
    type: 'LoadBalancer',
    externalIPs: ['192.0.2.50'],
    ports: [{ port: 80 }],
  });
  await review(
    admissionReview({
      operation: 'CREATE',
      namespace: 'shop',
      name: 'dry',
      object: svc,
      dryRun: true,
    }),
  );
  assert.equal(txns(), 0);
  assert.deepEqual(await ours('shop', 'dry'), []);
});

test('foreign registrations (other sync id, no meta, consul-k8s tag only) are never touched', async () => {
  const foreign = [
    {
      id: id('shared', 'shop', 'shared', '192.0.2.20'),
      meta: {
        'external-source': 'kubernetes',
        'external-k8s-ns': 'shop',
        'external-k8s-name': 'shared',
        'external-k8s-sync-id': 'cluster-b',
      },
      tags: ['k8s'],
    },
    { id: 'shared-manual', meta: {}, tags: [] },
    { id: 'shared-k8s-tag', meta: {}, tags: ['k8s'] },
  ];
  for (const f of foreign) {
    await w.consul.catalog.register({
      node: w.config.consulNodeName,
      address: '127.0.0.1',
      service: {
        id: f.id,
        service: 'shared',
        address: '192.0.2.20',
        port: 80,
        tags: f.tags,
        meta: f.meta,
      },
    } as never);
  }
  const snapshotForeign = async () =>
    (await w.registrations()).filter((r) => foreign.some((f) => f.id === r.ID));
  const before = await snapshotForeign();
  assert.equal(before.length, 3);
  // Same namespace/name and the very same address (so the very same ID) as cluster-b's.
  const svc = service('shop', 'shared', {
    type: 'ClusterIP',
    externalIPs: ['192.0.2.20'],
    ports: [{ port: 80 }],
  });
  await review(
    admissionReview({ operation: 'CREATE', namespace: 'shop', name: 'shared', object: svc }),
  );
  await review(
    admissionReview({ operation: 'DELETE', namespace: 'shop', name: 'shared', oldObject: svc }),
  );
  assert.deepEqual(await snapshotForeign(), before);
});

test('Consul down: admission still allows, the failure is counted; audit answers 503', async () => {
  w.consulEmu.faults.add({
    method: 'PUT',
    path: '/v1/txn',
    status: 500,
    body: 'rpc error: no leader',
  });
  const svc = service('shop', 'down', {
    type: 'LoadBalancer',
    externalIPs: ['192.0.2.30'],
    ports: [{ port: 80 }],
  });
  await review(
    admissionReview({ operation: 'CREATE', namespace: 'shop', name: 'down', object: svc }),
  );
  const metrics = await w.metrics.registry.getSingleMetricAsString('k8s_consul_sync_events_total');
  assert.match(metrics, /source="admission",outcome="error"\} [1-9]/);
  await w.core.createNamespacedService({ namespace: 'shop', body: svc });
  const res = await request(w.app)
    .post('/k8s/audit')
    .send(
      eventList([
        auditEvent({ verb: 'create', resource: 'services', namespace: 'shop', name: 'down' }),
      ]),
    )
    .expect(503);
  assert.equal(res.body.error.code, 'WRITE_FAILED');
  w.consulEmu.faults.clear();
  await request(w.app)
    .post('/k8s/audit')
    .send(
      eventList([
        auditEvent({ verb: 'create', resource: 'services', namespace: 'shop', name: 'down' }),
      ]),
    )
    .expect(200, { processed: 1, ignored: 0 });
  assert.equal((await ours('shop', 'down')).length, 1, 'the retried batch converges');
});

test('a slow Consul costs a bounded wait, not a stuck API server', async () => {
  w.consulEmu.faults.add({ method: 'PUT', path: '/v1/txn', delayMs: 3000, times: 1 });
  const svc = service('shop', 'slow', {
    type: 'LoadBalancer',
    externalIPs: ['192.0.2.40'],
    ports: [{ port: 80 }],
  });
  const started = Date.now();
  await review(
    admissionReview({ operation: 'CREATE', namespace: 'shop', name: 'slow', object: svc }),
  );
  const waited = Date.now() - started;
  assert.ok(waited < 2500, `answered after ${waited} ms with --write-timeout=1s`);
});

test('audit: batches re-read the stored object, so late, repeated or reordered batches never roll back', async () => {
  const v1 = service('shop', 'audited', {
    type: 'ClusterIP',
    externalIPs: ['192.0.2.61'],
    ports: [{ port: 80 }],
  });
  await w.core.createNamespacedService({ namespace: 'shop', body: v1 });
  const created = eventList([
    auditEvent({ verb: 'create', resource: 'services', namespace: 'shop', name: 'audited' }),
  ]);
  await request(w.app).post('/k8s/audit').send(created).expect(200);
  assert.deepEqual(
    (await ours('shop', 'audited')).map((r) => r.Address),
    ['192.0.2.61'],
  );

  const stored = await w.core.readNamespacedService({ namespace: 'shop', name: 'audited' });
  stored.spec!.externalIPs = ['192.0.2.62'];
  await w.core.replaceNamespacedService({ namespace: 'shop', name: 'audited', body: stored });
  const updated = eventList([
    auditEvent({ verb: 'update', resource: 'services', namespace: 'shop', name: 'audited' }),
  ]);
  await request(w.app).post('/k8s/audit').send(updated).expect(200);
  // The creation batch arrives again, late: the stored state wins.
  await request(w.app).post('/k8s/audit').send(created).expect(200);
  assert.deepEqual(
    (await ours('shop', 'audited')).map((r) => r.Address),
    ['192.0.2.62'],
  );

  await w.core.deleteNamespacedService({ namespace: 'shop', name: 'audited' });
  const deleted = eventList([
    auditEvent({ verb: 'delete', resource: 'services', namespace: 'shop', name: 'audited' }),
  ]);
  await request(w.app).post('/k8s/audit').send(deleted).expect(200);
  await request(w.app).post('/k8s/audit').send(updated).expect(200);
  assert.deepEqual(await ours('shop', 'audited'), []);
});

// Issue 20: what no API server would store is answered allowed, with a warning, and changes
// nothing (a real API server validates before calling webhooks: defence in depth).
test('an invalid object is answered allowed with a warning and writes or removes nothing', async () => {
  const ns = 'shop';
  const good = service(ns, 'guarded', {
    type: 'ClusterIP',
    externalIPs: ['192.0.2.70', '192.0.2.71'],
    ports: [{ name: 'http', port: 80 }],
  });
  await review(
    admissionReview({ operation: 'CREATE', namespace: ns, name: 'guarded', object: good }),
  );
  const before = await ours(ns, 'guarded');
  assert.equal(before.length, 2);
  const skipped = async (): Promise<number> =>
    (await w.metrics.skipped.get()).values.find((v) => v.labels.reason === 'invalid-object')
      ?.value ?? 0;
  const counted = await skipped();
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'externalIPs not-an-ip',
      service(ns, 'guarded', {
        type: 'ClusterIP',
        externalIPs: ['not-an-ip'],
        ports: [{ port: 80 }],
      }),
      /spec\.externalIPs\[0\].*not-an-ip/,
    ],
    [
      'loopback externalIP',
      service(ns, 'guarded', {
        type: 'ClusterIP',
        externalIPs: ['127.0.0.1'],
        ports: [{ port: 80 }],
      }),
      /spec\.externalIPs\[0\]/,
    ],
    [
      'port above 65535',
      service(ns, 'guarded', {
        type: 'ClusterIP',
        externalIPs: ['192.0.2.70'],
        ports: [{ port: 70000 }],
      }),
      /spec\.ports\[0\]\.port/,
    ],
    [
      'ingress hostname UPPER.example',
      service(
        ns,
        'guarded',
        { type: 'LoadBalancer', ports: [{ port: 80 }] },
        { status: { loadBalancer: { ingress: [{ hostname: 'UPPER.example' }] } } },
      ),
      /status\.loadBalancer\.ingress\[0\]\.hostname/,
    ],
  ];
  for (const [what, object, field] of cases) {
    const txnsBefore = txns();
    const res = await review(
      admissionReview({
        operation: 'UPDATE',
        namespace: ns,
        name: 'guarded',
        object,
        oldObject: good,
      }),
    );
    assert.ok(
      res.warnings?.some((x) => field.test(x)),
      `${what}: ${JSON.stringify(res.warnings)}`,
    );
    assert.equal(txns(), txnsBefore, `${what}: nothing written`);
    assert.deepEqual(await ours(ns, 'guarded'), before, `${what}: nothing removed`);
  }
  assert.equal((await skipped()) - counted, cases.length, 'each one counted');
  // A name that is a DNS-1123 subdomain but no DNS-1035 label is no Service name.
  const dotted = service(ns, '9a.b', {
    type: 'ClusterIP',
    externalIPs: ['192.0.2.72'],
    ports: [{ port: 80 }],
  });
  const res = await review(
    admissionReview({ operation: 'CREATE', namespace: ns, name: '9a.b', object: dotted }),
  );
  assert.ok(
    res.warnings?.some((x) => x.includes('metadata.name')),
    JSON.stringify(res.warnings),
  );
  assert.deepEqual(await ours(ns, '9a.b'), []);
});

test('an EndpointSlice with an unknown address type adds no instance', async () => {
  const ns = 'shop';
  const txnsBefore = txns();
  const slice = {
    ...endpointSlice(ns, 'web', 'web-bogus', [{ ip: '10.1.9.9', node: 'n1', ready: true }]),
    addressType: 'bogus',
  };
  const res = await review(
    admissionReview({
      operation: 'CREATE',
      resource: 'endpointslices',
      namespace: ns,
      name: 'web-bogus',
      object: slice,
    }),
  );
  assert.ok(
    res.warnings?.some((x) => x.includes('addressType')),
    JSON.stringify(res.warnings),
  );
  assert.equal(txns(), txnsBefore);
});

test('the namespace is the request’s: an object without one is the request namespace’s, never default', async () => {
  const noNamespace = (name: string, ip: string) => {
    const s = service('x', name, { type: 'ClusterIP', externalIPs: [ip], ports: [{ port: 80 }] });
    delete (s.metadata as Record<string, unknown>).namespace;
    return s;
  };
  // A denied namespace stays denied.
  await review(
    admissionReview({
      operation: 'CREATE',
      namespace: 'kube-system',
      name: 'sneaky',
      object: noNamespace('sneaky', '192.0.2.80'),
    }),
  );
  assert.deepEqual(await ours('default', 'sneaky'), []);
  assert.deepEqual(await ours('kube-system', 'sneaky'), []);
  // An allowed one registers under its own namespace, and a DELETE there removes it.
  await review(
    admissionReview({
      operation: 'CREATE',
      namespace: 'shop',
      name: 'plain',
      object: noNamespace('plain', '192.0.2.81'),
    }),
  );
  assert.deepEqual(await ours('default', 'plain'), []);
  assert.equal((await ours('shop', 'plain')).length, 1);
  await review(
    admissionReview({
      operation: 'DELETE',
      namespace: 'shop',
      name: 'plain',
      oldObject: noNamespace('plain', '192.0.2.81'),
    }),
  );
  assert.deepEqual(await ours('shop', 'plain'), []);
});

// Issue 20: an audit batch is bounded work. The API server sends up to 400 events a batch.
test('an audit batch: events of one object coalesced, the sync node read once, converged together', async () => {
  const ns = 'shop';
  for (let i = 0; i < 20; i++)
    await w.core.createNamespacedService({
      namespace: ns,
      body: service(ns, `batch-${i}`, {
        type: 'ClusterIP',
        externalIPs: [`192.0.2.${100 + i}`],
        ports: [{ port: 80 }],
      }),
    });
  // 400 events about 20 services: creates, updates and status updates of each, repeated.
  const items = Array.from({ length: 400 }, (_, i) =>
    auditEvent({
      verb: i % 3 === 0 ? 'create' : 'update',
      resource: 'services',
      ...(i % 5 === 0 ? { subresource: 'status' } : {}),
      namespace: ns,
      name: `batch-${i % 20}`,
    }),
  );
  w.consulEmu.resetRequestCounts();
  const res = await request(w.app).post('/k8s/audit').send(eventList(items)).expect(200);
  assert.deepEqual(res.body, { processed: 400, ignored: 0 });
  const counts = w.consulEmu.requestCounts();
  assert.equal(counts['GET /v1/catalog/node/:node'], 1, JSON.stringify(counts));
  assert.ok((counts['PUT /v1/txn'] ?? 0) <= 20, 'one transaction per service at most');
  for (let i = 0; i < 20; i++) assert.equal((await ours(ns, `batch-${i}`)).length, 1);
});

test('an audit batch past --audit-deadline is answered 503 (the API server resends it)', async () => {
  const slow = await startWorld({
    flags: ['--sync-id=cluster-a', '--confirm-after=', '--audit-deadline=300ms'],
  });
  try {
    slow.kubeEmu.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }]);
    await slow.core.createNamespacedService({
      namespace: 'shop',
      body: service('shop', 'late', {
        type: 'ClusterIP',
        externalIPs: ['192.0.2.9'],
        ports: [{ port: 80 }],
      }),
    });
    slow.consulEmu.faults.add({ method: 'PUT', path: '/v1/txn', delayMs: 1000, times: 1 });
    const started = Date.now();
    const res = await request(slow.app)
      .post('/k8s/audit')
      .send(
        eventList([
          auditEvent({ verb: 'create', resource: 'services', namespace: 'shop', name: 'late' }),
        ]),
      )
      .expect(503);
    assert.ok(Date.now() - started < 900, 'answered at the deadline, not after the write');
    assert.match(res.body.error.message, /not converged within 300 ms: 1 of 1/);
    // The converge itself went on and finished.
    await slow.runtime.events.services.idle();
    const regs = await slow.registrations();
    assert.equal(regs.length, 1);
  } finally {
    await slow.close();
  }
});
