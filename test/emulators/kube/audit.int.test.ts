// Audit webhook backend: policy levels and stages, Event fields (audit.k8s.io/v1 reference),
// EventList batches with the bearer token, failed and dry-run requests, retries.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import {
  failure,
  json,
  service,
  startCluster,
  startReceiver,
  waitFor,
  type Cluster,
  type Receiver,
} from './helpers.js';

const MICRO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function events(r: Receiver): any[] {
  return r.requests.flatMap((x) => x.body.items);
}

describe('kube emulator: audit with the default policy', () => {
  let c: Cluster;
  let sink: Receiver;
  before(async () => {
    sink = await startReceiver((_r, res) => json(res, 200, { ok: true }));
    c = await startCluster({
      audit: { url: `${sink.url}/k8s/audit`, token: 'audit-token', batchMaxWaitMs: 10 },
    });
  });
  after(async () => {
    await c.emu.close();
    await sink.close();
  });
  beforeEach(() => {
    sink.requests.length = 0;
  });

  it('delivers an EventList with the bearer token for a service create', async () => {
    const created = await c.core.createNamespacedService({
      namespace: 'default',
      body: service('web'),
    });
    await waitFor(() => events(sink).length >= 1, 'audit batch');
    const batch = sink.requests[0]!;
    assert.equal(batch.method, 'POST');
    assert.equal(batch.url, '/k8s/audit');
    assert.equal(batch.headers.authorization, 'Bearer audit-token');
    assert.equal(batch.headers['content-type'], 'application/json');
    assert.equal(batch.body.kind, 'EventList');
    assert.equal(batch.body.apiVersion, 'audit.k8s.io/v1');
    assert.deepEqual(batch.body.metadata, {});
    const ev = batch.body.items[0];
    assert.equal(ev.level, 'RequestResponse');
    assert.equal(ev.stage, 'ResponseComplete', 'RequestReceived is omitted by the default policy');
    assert.match(ev.auditID, /^[0-9a-f-]{36}$/);
    assert.equal(ev.verb, 'create');
    assert.equal(ev.requestURI, '/api/v1/namespaces/default/services');
    assert.equal(typeof ev.user.username, 'string');
    assert.deepEqual(ev.sourceIPs, ['127.0.0.1']);
    assert.equal(typeof ev.userAgent, 'string');
    assert.deepEqual(ev.objectRef, {
      resource: 'services',
      namespace: 'default',
      name: 'web',
      apiVersion: 'v1',
    });
    assert.deepEqual(ev.responseStatus, { metadata: {}, code: 201 });
    assert.equal(ev.requestObject.kind, 'Service');
    assert.equal(ev.requestObject.metadata.name, 'web');
    assert.equal(ev.responseObject.metadata.uid, created.metadata?.uid);
    assert.equal(ev.responseObject.metadata.resourceVersion, created.metadata?.resourceVersion);
    assert.match(ev.requestReceivedTimestamp, MICRO);
    assert.match(ev.stageTimestamp, MICRO);
    assert.ok(ev.stageTimestamp >= ev.requestReceivedTimestamp);
  });

  it('audits services/status and endpointslices writes, not reads or other kinds', async () => {
    await c.core.listServiceForAllNamespaces();
    await c.core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    });
    await c.core.patchNamespacedServiceStatus(
      { name: 'web', namespace: 'default', body: { status: { loadBalancer: {} } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await c.discovery.createNamespacedEndpointSlice({
      namespace: 'default',
      body: {
        metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        endpoints: [],
      },
    });
    await waitFor(() => events(sink).length >= 2, 'two events');
    await new Promise((r) => setTimeout(r, 50));
    const evs = events(sink);
    assert.deepEqual(
      evs.map((e) => [
        e.verb,
        e.objectRef.resource,
        e.objectRef.subresource ?? '',
        e.objectRef.apiGroup ?? '',
      ]),
      [
        ['patch', 'services', 'status', ''],
        ['create', 'endpointslices', '', 'discovery.k8s.io'],
      ],
    );
    assert.deepEqual(
      evs[0].requestObject,
      { status: { loadBalancer: {} } },
      'a patch logs the patch document',
    );
  });

  it('includes failed requests and dry runs', async () => {
    await failure(c.core.createNamespacedService({ namespace: 'default', body: service('web') }));
    await c.core.createNamespacedService({
      namespace: 'default',
      body: service('dry'),
      dryRun: 'All',
    });
    await failure(c.core.deleteNamespacedService({ name: 'nope', namespace: 'default' }));
    await waitFor(() => events(sink).length >= 3, 'three events');
    const [conflict, dry, missing] = events(sink);
    assert.equal(conflict.responseStatus.code, 409);
    assert.equal(conflict.responseStatus.status, 'Failure');
    assert.equal(conflict.responseStatus.reason, 'AlreadyExists');
    assert.equal(conflict.responseObject.kind, 'Status');
    assert.equal(dry.responseStatus.code, 201);
    assert.match(dry.requestURI, /[?&]dryRun=All/);
    assert.equal(missing.verb, 'delete');
    assert.equal(missing.responseStatus.code, 404);
    assert.equal(missing.objectRef.name, 'nope');
  });
});

describe('kube emulator: audit policy, batching and delivery', () => {
  it('applies a custom policy: levels, stages, omitManagedFields', async () => {
    const sink = await startReceiver((_r, res) => json(res, 200, {}));
    const c = await startCluster({
      audit: {
        url: sink.url,
        batchMaxWaitMs: 10,
        policy: {
          apiVersion: 'audit.k8s.io/v1',
          kind: 'Policy',
          omitManagedFields: true,
          rules: [
            { level: 'None', namespaces: ['kube-system'] },
            {
              level: 'Metadata',
              verbs: ['create'],
              resources: [{ group: '', resources: ['services'] }],
            },
            {
              level: 'Request',
              verbs: ['update'],
              resources: [{ group: '', resources: ['services'] }],
              omitStages: ['RequestReceived'],
            },
            {
              level: 'RequestResponse',
              verbs: ['delete'],
              resources: [{ group: '', resources: ['services'] }],
            },
          ],
        },
      },
    });
    try {
      await c.core.createNamespacedService({ namespace: 'kube-system', body: service('sys') });
      await c.core.createNamespacedService({ namespace: 'default', body: service('m') });
      await c.core.replaceNamespacedService({
        name: 'm',
        namespace: 'default',
        body: service('m'),
      });
      await c.core.deleteNamespacedService({ name: 'm', namespace: 'default' });
      await waitFor(() => events(sink).length >= 5, 'five events');
      await new Promise((r) => setTimeout(r, 50));
      const evs = events(sink);
      assert.deepEqual(
        evs.map((e) => [e.verb, e.stage, e.level]),
        [
          ['create', 'RequestReceived', 'Metadata'],
          ['create', 'ResponseComplete', 'Metadata'],
          ['update', 'ResponseComplete', 'Request'],
          ['delete', 'RequestReceived', 'RequestResponse'],
          ['delete', 'ResponseComplete', 'RequestResponse'],
        ],
      );
      assert.equal(evs[0].responseStatus, undefined, 'no response yet at RequestReceived');
      assert.equal(evs[1].requestObject, undefined);
      assert.equal(evs[1].responseObject, undefined);
      assert.equal(evs[2].requestObject.metadata.name, 'm');
      assert.equal(evs[2].responseObject, undefined);
      assert.equal(evs[4].responseObject.metadata.name, 'm');
      assert.equal(evs[4].responseObject.metadata.managedFields, undefined, 'omitManagedFields');
      assert.ok(evs.every((e) => e.objectRef.namespace !== 'kube-system'));
    } finally {
      await c.emu.close();
      await sink.close();
    }
  });

  it('batches up to batchMaxSize, reads the webhook kubeconfig, retries 5xx then delivers', async () => {
    let failuresLeft = 1;
    const sink = await startReceiver((_r, res) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        json(res, 503, {});
      } else json(res, 200, {});
    });
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: sync',
      '  cluster:',
      `    server: ${sink.url}/k8s/audit`,
      'users:',
      '- name: apiserver',
      '  user:',
      '    token: from-kubeconfig',
      'contexts:',
      '- name: default',
      '  context: {cluster: sync, user: apiserver}',
      'current-context: default',
    ].join('\n');
    const c = await startCluster({
      audit: { kubeconfig, batchMaxSize: 2, batchMaxWaitMs: 200, retries: 2 },
    });
    try {
      for (const n of ['a', 'b', 'd'])
        await c.core.createNamespacedService({ namespace: 'default', body: service(n) });
      await waitFor(() => c.emu.auditDeliveries.length >= 3, 'deliveries', 3000);
      assert.deepEqual(c.emu.auditDeliveries.slice(0, 3), [
        { status: 503, events: 2 },
        { status: 200, events: 2 },
        { status: 200, events: 1 },
      ]);
      assert.ok(sink.requests.every((r) => r.headers.authorization === 'Bearer from-kubeconfig'));
      assert.ok(sink.requests.every((r) => r.url === '/k8s/audit'));
      const names = sink.requests
        .slice(1)
        .flatMap((r) => r.body.items.map((e: any) => e.objectRef.name));
      assert.deepEqual(names, ['a', 'b', 'd']);
    } finally {
      await c.emu.close();
      await sink.close();
    }
  });

  it('drops a batch after the retries when the sink stays down', async () => {
    const sink = await startReceiver((_r, res) => json(res, 500, {}));
    const c = await startCluster({ audit: { url: sink.url, batchMaxWaitMs: 5, retries: 1 } });
    try {
      await c.core.createNamespacedService({ namespace: 'default', body: service('x') });
      await waitFor(() => c.emu.auditDeliveries.length >= 2, 'two attempts');
      await new Promise((r) => setTimeout(r, 150));
      assert.deepEqual(c.emu.auditDeliveries, [
        { status: 500, events: 1 },
        { status: 500, events: 1 },
      ]);
    } finally {
      await c.emu.close();
      await sink.close();
    }
  });
});
