// The node side of the emulated cluster, checked against what the Kubernetes docs say of a pod's
// life ("Pod Lifecycle": phases, conditions, readiness gates; "Assigning Pods to Nodes":
// nodeSelector; the pods/binding subresource): node IPAM gives Nodes pod CIDRs, the scheduler
// binds pods, the kubelet runs them and reports Ready, and the EndpointSlice controller follows.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { raw, service, startCluster, waitFor, type Cluster } from './helpers.js';

const inCidr = (ip: string, cidr: string): boolean =>
  ip.startsWith(cidr.split('/')[0]!.split('.').slice(0, 3).join('.') + '.');

function pod(name: string, labels: Record<string, string>, spec: object = {}): V1Pod {
  return {
    metadata: { name, labels },
    spec: {
      containers: [{ name: 'app', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }],
      ...spec,
    },
  };
}

const condition = (p: V1Pod, type: string) => p.status?.conditions?.find((c) => c.type === type);

describe('kube emulator: scheduler, kubelets and node IPAM', () => {
  let c: Cluster;
  const read = (name: string) => c.core.readNamespacedPod({ name, namespace: 'default' });
  const ready = async (name: string) => {
    await c.emu.idle();
    const p = await read(name);
    return condition(p, 'Ready')?.status === 'True' ? p : undefined;
  };
  const endpoints = async (svc: string) => {
    await c.emu.idle();
    const list = await c.discovery.listNamespacedEndpointSlice({
      namespace: 'default',
      labelSelector: `kubernetes.io/service-name=${svc}`,
    });
    return list.items.flatMap((s) => s.endpoints ?? []);
  };

  before(async () => {
    c = await startCluster({
      controllers: { endpointSlices: true },
      nodes: [
        { name: 'node-a', internalIP: '10.0.0.11' },
        { name: 'node-b', internalIP: '10.0.0.12' },
      ],
    });
  });
  after(async () => {
    await c.emu.close();
  });

  it('gives every Node a pod CIDR, keeping one a Node was created with', async () => {
    await c.core.createNode({
      body: {
        metadata: { name: 'node-c', labels: { disk: 'hdd' } },
        spec: { podCIDR: '10.244.7.0/24', podCIDRs: ['10.244.7.0/24'], unschedulable: true },
        status: { addresses: [{ type: 'InternalIP', address: '10.0.0.13' }] },
      },
    });
    await c.emu.idle();
    const nodes = (await c.core.listNode()).items;
    assert.deepEqual(
      nodes.map((n) => [n.metadata?.name, n.spec?.podCIDR, n.spec?.podCIDRs]),
      [
        ['node-a', '10.244.0.0/24', ['10.244.0.0/24']],
        ['node-b', '10.244.1.0/24', ['10.244.1.0/24']],
        ['node-c', '10.244.7.0/24', ['10.244.7.0/24']],
      ],
    );
  });

  it('schedules, starts and readies a pod: Running, IPs, containers and conditions', async () => {
    await c.core.createNamespacedService({
      namespace: 'default',
      body: service('web', { ports: [{ name: 'http', port: 80, targetPort: 'http' }] }),
    });
    await c.core.createNamespacedPod({ namespace: 'default', body: pod('web-1', { app: 'web' }) });
    const p = await waitFor(() => ready('web-1'), 'web-1 ready');
    const node = p.spec?.nodeName ?? '';
    assert.ok(node === 'node-a' || node === 'node-b', node); // node-c is cordoned
    const s = p.status!;
    assert.equal(s.phase, 'Running');
    assert.equal(s.hostIP, node === 'node-a' ? '10.0.0.11' : '10.0.0.12');
    assert.deepEqual(
      s.hostIPs?.map((h) => h.ip),
      [s.hostIP],
    );
    assert.ok(inCidr(s.podIP!, node === 'node-a' ? '10.244.0.0/24' : '10.244.1.0/24'), s.podIP);
    assert.deepEqual(
      s.podIPs?.map((h) => h.ip),
      [s.podIP],
    );
    assert.ok(s.startTime);
    assert.equal(s.qosClass, 'BestEffort');
    assert.deepEqual(
      s.conditions?.map((x) => [x.type, x.status]),
      [
        ['PodReadyToStartContainers', 'True'],
        ['Initialized', 'True'],
        ['Ready', 'True'],
        ['ContainersReady', 'True'],
        ['PodScheduled', 'True'],
      ],
    );
    const cs = s.containerStatuses![0]!;
    assert.deepEqual(
      [cs.name, cs.ready, cs.started, cs.restartCount, cs.image],
      ['app', true, true, 0, 'docker.io/library/nginx:latest'],
    );
    assert.ok(cs.state?.running?.startedAt);
    assert.match(cs.containerID ?? '', /^containerd:\/\/[0-9a-f]{64}$/);
    assert.match(cs.imageID, /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    const eps = await endpoints('web');
    assert.deepEqual(
      eps.map((e) => [e.addresses[0], e.conditions?.ready, e.nodeName, e.targetRef?.name]),
      [[s.podIP, true, node, 'web-1']],
    );
  });

  it('spreads pods over the schedulable nodes and never hands out an IP twice', async () => {
    for (const n of ['web-2', 'web-3', 'web-4']) {
      await c.core.createNamespacedPod({ namespace: 'default', body: pod(n, { app: 'web' }) });
    }
    await c.emu.idle();
    const pods = (
      await c.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' })
    ).items;
    const perNode = new Map<string, number>();
    for (const p of pods) perNode.set(p.spec!.nodeName!, (perNode.get(p.spec!.nodeName!) ?? 0) + 1);
    assert.deepEqual([...perNode.entries()].sort(), [
      ['node-a', 2],
      ['node-b', 2],
    ]);
    const ips = pods.map((p) => p.status?.podIP);
    assert.equal(new Set(ips).size, 4);
    assert.equal((await endpoints('web')).filter((e) => e.conditions?.ready).length, 4);
  });

  it('keeps a pod not Ready while a readiness gate is not True, and follows the gate', async () => {
    await c.core.createNamespacedPod({
      namespace: 'default',
      body: pod('gated', { app: 'web' }, { readinessGates: [{ conditionType: 'example.com/lb' }] }),
    });
    await c.emu.idle();
    let p = await read('gated');
    assert.equal(p.status?.phase, 'Running');
    assert.deepEqual(
      [
        condition(p, 'Ready')?.status,
        condition(p, 'Ready')?.reason,
        condition(p, 'Ready')?.message,
      ],
      [
        'False',
        'ReadinessGatesNotReady',
        'corresponding condition of pod readiness gate "example.com/lb" does not exist.',
      ],
    );
    assert.equal(condition(p, 'ContainersReady')?.status, 'True');
    const gatedEndpoint = async () =>
      (await endpoints('web')).find((e) => e.targetRef?.name === 'gated')?.conditions?.ready;
    assert.equal(await gatedEndpoint(), false);

    const setGate = (status: string) =>
      raw(
        c.emu,
        'PATCH',
        '/api/v1/namespaces/default/pods/gated/status',
        { status: { conditions: [{ type: 'example.com/lb', status }] } },
        { 'content-type': 'application/strategic-merge-patch+json' },
      );
    assert.equal((await setGate('False')).status, 200);
    await c.emu.idle();
    p = await read('gated');
    assert.equal(
      condition(p, 'Ready')?.message,
      'the status of pod readiness gate "example.com/lb" is not "True", but False',
    );
    assert.equal((await setGate('True')).status, 200);
    p = await waitFor(() => ready('gated'), 'gated ready');
    assert.equal(condition(p, 'example.com/lb')?.status, 'True', 'the gate condition stays');
    assert.equal(await gatedEndpoint(), true);
    assert.equal((await setGate('False')).status, 200);
    await c.emu.idle();
    assert.equal(condition(await read('gated'), 'Ready')?.status, 'False');
    assert.equal(await gatedEndpoint(), false);
  });

  it('leaves a pod no node fits Pending/Unschedulable, and schedules it once one does', async () => {
    await c.core.createNamespacedPod({
      namespace: 'default',
      body: pod('ssd', { app: 'db' }, { nodeSelector: { disk: 'ssd' } }),
    });
    await c.emu.idle();
    let p = await read('ssd');
    assert.equal(p.status?.phase, 'Pending');
    assert.equal(p.spec?.nodeName, undefined);
    const sched = condition(p, 'PodScheduled');
    assert.deepEqual(
      [sched?.status, sched?.reason, sched?.message],
      [
        'False',
        'Unschedulable',
        "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
      ],
    );
    await raw(
      c.emu,
      'PATCH',
      '/api/v1/nodes/node-b',
      { metadata: { labels: { disk: 'ssd' } } },
      { 'content-type': 'application/merge-patch+json' },
    );
    p = await waitFor(() => ready('ssd'), 'ssd scheduled and ready');
    assert.equal(p.spec?.nodeName, 'node-b');
    assert.equal(condition(p, 'PodScheduled')?.status, 'True');
  });

  it('binds through pods/binding as the scheduler does, once only', async () => {
    await c.core.createNamespacedPod({
      namespace: 'default',
      body: pod('manual', { app: 'manual' }, { schedulerName: 'my-scheduler' }),
    });
    await c.emu.idle();
    assert.equal((await read('manual')).spec?.nodeName, undefined, 'not for the default scheduler');
    const bind = (node: string) =>
      raw(c.emu, 'POST', '/api/v1/namespaces/default/pods/manual/binding', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: 'manual' },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      });
    const ok = await bind('node-a');
    assert.equal(ok.status, 201);
    assert.deepEqual(ok.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      code: 201,
    });
    await waitFor(() => ready('manual'), 'manual ready');
    const again = await bind('node-b');
    assert.equal(again.status, 409);
    assert.equal(
      again.body.message,
      'Operation cannot be fulfilled on pods/binding "manual": pod manual is already assigned to node "node-a"',
    );
    const get = await raw(c.emu, 'GET', '/api/v1/namespaces/default/pods/manual/binding');
    assert.equal(get.status, 405);
    const missing = await raw(c.emu, 'POST', '/api/v1/namespaces/default/pods/nope/binding', {
      kind: 'Binding',
      apiVersion: 'v1',
      metadata: { name: 'nope' },
      target: { name: 'node-a' },
    });
    assert.equal(missing.status, 404);
    const noTarget = await raw(c.emu, 'POST', '/api/v1/namespaces/default/pods/manual/binding', {
      kind: 'Binding',
      apiVersion: 'v1',
      metadata: { name: 'manual' },
      target: {},
    });
    assert.equal(noTarget.status, 422);
    assert.match(noTarget.body.message, /target\.name: Required value/);
    const discovery = await raw(c.emu, 'GET', '/api/v1');
    const binding = discovery.body.resources.find((r: any) => r.name === 'pods/binding');
    assert.deepEqual([binding.kind, binding.verbs], ['Binding', ['create']]);
  });

  it('runs a pod created already placed with an IP (kept) and leaves pods of unknown nodes alone', async () => {
    await c.core.createNamespacedPod({
      namespace: 'default',
      body: {
        ...pod('placed', { app: 'placed' }, { nodeName: 'node-b' }),
        status: { phase: 'Running', podIP: '10.244.1.200', podIPs: [{ ip: '10.244.1.200' }] },
      },
    });
    await c.core.createNamespacedPod({
      namespace: 'default',
      body: pod('orphan', { app: 'orphan' }, { nodeName: 'node-gone' }),
    });
    const p = await waitFor(() => ready('placed'), 'placed ready');
    assert.equal(p.status?.podIP, '10.244.1.200');
    assert.equal(p.status?.containerStatuses?.[0]?.ready, true);
    const o = await read('orphan');
    assert.equal(o.status?.phase, 'Pending');
    assert.equal(o.status?.podIP, undefined);
  });

  it('prints READY 1/1 and Running in the server-side table', async () => {
    const t = await raw(c.emu, 'GET', '/api/v1/namespaces/default/pods/web-1', undefined, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    const cells = t.body.rows[0].cells;
    assert.deepEqual(cells.slice(1, 4), ['1/1', 'Running', '0']);
    const g = await raw(c.emu, 'GET', '/api/v1/namespaces/default/pods/gated', undefined, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    assert.equal(g.body.rows[0].cells[8], '0/1', 'readiness gates met');
    const o = await raw(c.emu, 'GET', '/api/v1/namespaces/default/pods/orphan', undefined, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    assert.deepEqual(o.body.rows[0].cells.slice(1, 3), ['0/1', 'Pending']);
  });
});

describe('kube emulator: a cluster without nodes', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({ controllers: { pods: true } });
  });
  after(async () => {
    await c.emu.close();
  });

  it('keeps pods Pending with the scheduler\u2019s "no nodes" message', async () => {
    await c.core.createNamespacedPod({ namespace: 'default', body: pod('p', { app: 'p' }) });
    await c.emu.idle();
    const p = await c.core.readNamespacedPod({ name: 'p', namespace: 'default' });
    assert.equal(p.status?.phase, 'Pending');
    assert.deepEqual(
      [condition(p, 'PodScheduled')?.reason, condition(p, 'PodScheduled')?.message],
      ['Unschedulable', 'no nodes available to schedule pods'],
    );
  });
});
