// The built-in controllers, checked against what the Kubernetes docs say they do:
// EndpointSlices ("EndpointSlices" concept page: managed-by and service-name labels, owner
// reference, conditions.ready from pod readiness, ports resolved from targetPort) and a cloud
// LoadBalancer (status.loadBalancer.ingress, the load-balancer-cleanup finalizer).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Watch } from '@kubernetes/client-node';
import {
  json,
  raw,
  service,
  startCluster,
  startReceiver,
  waitFor,
  type Cluster,
  type Receiver,
} from './helpers.js';

function pod(
  name: string,
  labels: Record<string, string>,
  opts: { ip?: string; ready?: boolean; node?: string } = {},
): any {
  const status: Record<string, unknown> = { phase: 'Running' };
  if (opts.ip) status.podIP = opts.ip;
  status.conditions = [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }];
  return {
    metadata: { name, labels },
    spec: {
      nodeName: opts.node ?? 'node-1',
      containers: [
        { name: 'app', image: 'nginx:1.27', ports: [{ name: 'web', containerPort: 8080 }] },
      ],
    },
    status,
  };
}

describe('kube emulator: EndpointSlice controller', () => {
  let c: Cluster;
  let hook: Receiver;
  const slicesOf = async (svc: string) =>
    (
      await c.discovery.listNamespacedEndpointSlice({
        namespace: 'default',
        labelSelector: `kubernetes.io/service-name=${svc}`,
      })
    ).items;

  before(async () => {
    hook = await startReceiver((r, res) =>
      json(res, 200, {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: r.body.request.uid, allowed: true },
      }),
    );
    c = await startCluster({
      controllers: { endpointSlices: true },
      admission: {
        webhooks: [
          {
            apiVersion: 'admissionregistration.k8s.io/v1',
            kind: 'ValidatingWebhookConfiguration',
            metadata: { name: 'slices' },
            webhooks: [
              {
                name: 'slices.example.com',
                clientConfig: { url: `${hook.url}/slices` },
                rules: [
                  {
                    apiGroups: ['discovery.k8s.io'],
                    apiVersions: ['v1'],
                    operations: ['CREATE', 'UPDATE', 'DELETE'],
                    resources: ['endpointslices'],
                  },
                ],
                sideEffects: 'None',
                admissionReviewVersions: ['v1'],
                failurePolicy: 'Ignore',
              },
            ],
          },
        ],
      },
    });
  });
  after(async () => {
    await c.emu.close();
    await hook.close();
  });

  it('keeps one slice per selected service with endpoints from ready pods', async () => {
    const svc = await c.core.createNamespacedService({
      namespace: 'default',
      body: service(
        'web',
        { ports: [{ name: 'http', port: 80, targetPort: 'web' }] },
        { labels: { team: 'a' } },
      ),
    });
    await c.core.createNamespacedPod({
      namespace: 'default',
      body: pod('web-1', { app: 'web' }, { ip: '10.244.1.5', node: 'node-1' }),
    });
    await c.core.createNamespacedPod({
      namespace: 'default',
      body: pod('web-2', { app: 'web' }, { ip: '10.244.2.6', node: 'node-2', ready: false }),
    });
    await c.core.createNamespacedPod({ namespace: 'default', body: pod('web-3', { app: 'web' }) }); // no IP yet
    await c.core.createNamespacedPod({
      namespace: 'default',
      body: pod('other', { app: 'other' }, { ip: '10.244.3.7' }),
    });
    await c.emu.idle();
    const slices = await slicesOf('web');
    assert.equal(slices.length, 1);
    const s = slices[0]!;
    assert.match(s.metadata!.name!, /^web-[a-z0-9]{5}$/);
    assert.equal(s.metadata?.generateName, 'web-');
    assert.equal(s.metadata?.labels?.['kubernetes.io/service-name'], 'web');
    assert.equal(
      s.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'],
      'endpointslice-controller.k8s.io',
    );
    assert.equal(s.metadata?.labels?.team, 'a', 'service labels are copied');
    const owner = s.metadata?.ownerReferences?.[0];
    assert.deepEqual(
      [owner?.apiVersion, owner?.kind, owner?.name, owner?.uid, owner?.controller],
      ['v1', 'Service', 'web', svc.metadata?.uid, true],
    );
    assert.equal(s.addressType, 'IPv4');
    assert.deepEqual(JSON.parse(JSON.stringify(s.ports)), [
      { name: 'http', port: 8080, protocol: 'TCP' },
    ]);
    const eps = [...(s.endpoints ?? [])].sort((a, b) =>
      a.addresses[0]!.localeCompare(b.addresses[0]!),
    );
    assert.deepEqual(
      eps.map((e) => [
        e.addresses,
        e.conditions?.ready,
        e.nodeName,
        e.targetRef?.kind,
        e.targetRef?.name,
        e.targetRef?.namespace,
      ]),
      [
        [['10.244.1.5'], true, 'node-1', 'Pod', 'web-1', 'default'],
        [['10.244.2.6'], false, 'node-2', 'Pod', 'web-2', 'default'],
      ],
    );
  });

  it('follows pod changes: readiness, IP assignment, deletion', async () => {
    await c.core.replaceNamespacedPodStatus({
      name: 'web-3',
      namespace: 'default',
      body: pod('web-3', { app: 'web' }, { ip: '10.244.1.9' }),
    });
    await c.core.deleteNamespacedPod({ name: 'web-1', namespace: 'default' });
    await c.emu.idle();
    const addrs = (await slicesOf('web'))[0]!.endpoints.map((e) => e.addresses[0]).sort();
    assert.deepEqual(addrs, ['10.244.1.9', '10.244.2.6']);
  });

  it('writes slices through admission as the endpointslice-controller service account', async () => {
    const reviews = hook.requests.map((r) => r.body.request);
    assert.ok(reviews.length >= 2);
    assert.equal(reviews[0].operation, 'CREATE');
    assert.equal(reviews[0].resource.resource, 'endpointslices');
    assert.equal(
      reviews[0].userInfo.username,
      'system:serviceaccount:kube-system:endpointslice-controller',
    );
    assert.ok(reviews.some((r: any) => r.operation === 'UPDATE'));
  });

  it('gives a service without matching pods a placeholder slice, and none without a selector', async () => {
    await c.core.createNamespacedService({ namespace: 'default', body: service('lonely') });
    await c.core.createNamespacedService({
      namespace: 'default',
      body: service('manual', { selector: undefined }),
    });
    await c.emu.idle();
    const lonely = await raw(
      c.emu,
      'GET',
      '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dlonely',
    );
    assert.equal(lonely.body.items.length, 1);
    assert.equal(lonely.body.items[0].endpoints, null);
    assert.equal(lonely.body.items[0].ports, null);
    assert.deepEqual(await slicesOf('manual'), []);
  });

  it('removes the slices with their service (owner references)', async () => {
    await c.core.deleteNamespacedService({ name: 'web', namespace: 'default' });
    await waitFor(async () => (await slicesOf('web')).length === 0, 'slices garbage-collected');
  });
});

describe('kube emulator: LoadBalancer controller', () => {
  let c: Cluster;
  let sink: Receiver;
  before(async () => {
    sink = await startReceiver((_r, res) => json(res, 200, {}));
    c = await startCluster({
      controllers: { loadBalancer: { delayMs: 30, ipPrefix: '198.51.100.' } },
      audit: { url: sink.url, batchMaxWaitMs: 5 },
    });
  });
  after(async () => {
    await c.emu.close();
    await sink.close();
  });

  it('sets status.loadBalancer.ingress through services/status after the delay', async () => {
    const t0 = Date.now();
    await c.core.createNamespacedService({
      namespace: 'default',
      body: service('lb', { type: 'LoadBalancer' }),
    });
    const svc = await waitFor(async () => {
      const s = await c.core.readNamespacedService({ name: 'lb', namespace: 'default' });
      return s.status?.loadBalancer?.ingress?.length ? s : undefined;
    }, 'ingress');
    assert.ok(Date.now() - t0 >= 25);
    const ing = svc.status!.loadBalancer!.ingress![0]!;
    assert.match(ing.ip!, /^198\.51\.100\.\d{1,3}$/);
    assert.equal(ing.ipMode, 'VIP');
    assert.ok(svc.metadata?.finalizers?.includes('service.kubernetes.io/load-balancer-cleanup'));
    await waitFor(
      () =>
        sink.requests
          .flatMap((r) => r.body.items)
          .some((e: any) => e.objectRef.subresource === 'status'),
      'audited status write',
    );
    const ev = sink.requests
      .flatMap((r) => r.body.items)
      .find((e: any) => e.objectRef.subresource === 'status');
    assert.equal(ev.verb, 'patch');
    assert.equal(ev.user.username, 'system:serviceaccount:kube-system:service-controller');
  });

  it('leaves other service types alone', async () => {
    await c.core.createNamespacedService({
      namespace: 'default',
      body: service('np', { type: 'NodePort' }),
    });
    await new Promise((r) => setTimeout(r, 80));
    const s = await c.core.readNamespacedService({ name: 'np', namespace: 'default' });
    assert.equal(s.status?.loadBalancer?.ingress, undefined);
    assert.equal(s.metadata?.finalizers, undefined);
  });

  it('holds a deleted LoadBalancer service until its finalizer is released', async () => {
    const list = await c.core.listNamespacedService({ namespace: 'default' });
    const seen: { type: string; name: string; deleting: boolean; finalizers: string[] }[] = [];
    const watch = await new Watch(c.kc).watch(
      '/api/v1/namespaces/default/services',
      { resourceVersion: list.metadata!.resourceVersion },
      (type, obj: any) =>
        seen.push({
          type,
          name: obj.metadata.name,
          deleting: Boolean(obj.metadata.deletionTimestamp),
          finalizers: obj.metadata.finalizers ?? [],
        }),
      () => undefined,
    );
    try {
      const deleted = await c.core.deleteNamespacedService({ name: 'lb', namespace: 'default' });
      assert.ok(deleted.metadata?.deletionTimestamp, 'deletion is pending on the finalizer');
      await waitFor(() => seen.some((e) => e.type === 'DELETED' && e.name === 'lb'), 'gone');
      assert.deepEqual(
        seen.filter((e) => e.name === 'lb').map((e) => [e.type, e.deleting, e.finalizers]),
        [
          ['MODIFIED', true, ['service.kubernetes.io/load-balancer-cleanup']],
          ['DELETED', true, []],
        ],
      );
    } finally {
      watch.abort();
    }
  });
});
