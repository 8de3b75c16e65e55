// CRUD, defaulting, Status errors, patch types, dry run, auth and faults against the emulator,
// through the real @kubernetes/client-node. Expected values come from the Kubernetes API
// reference (ServiceSpec field docs, metav1.Status, API conventions), not from the emulator.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { startKubeEmulator, KUBE_SYSTEM_UID } from '../../../dev/emulators/kube/index.js';
import { PROTOBUF_MEDIA_TYPE as PROTOBUF } from '../../../dev/emulators/kube/protobuf.js';
import { KUBECTL_BODIES } from './fixtures/kubectl-protobuf.js';
import { failure, raw, service, startCluster, type Cluster } from './helpers.js';

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((a, p) => a * 256 + Number(p), 0);
}

/** 10.96.0.0/12: 10.96.0.0 - 10.111.255.255 (kubeadm's default --service-cluster-ip-range) */
function inServiceRange(ip: string): boolean {
  const n = ipv4ToInt(ip);
  return n > ipv4ToInt('10.96.0.0') && n < ipv4ToInt('10.111.255.255');
}

describe('kube emulator: startup', () => {
  it('starts in under 100 ms and serves /version', async () => {
    // best of three, so one scheduling hiccup on a shared machine does not decide it
    let elapsed = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      const e = await startKubeEmulator();
      elapsed = Math.min(elapsed, performance.now() - t0);
      await e.close();
    }
    const t0 = performance.now();
    const emu = await startKubeEmulator();
    elapsed = Math.min(elapsed, performance.now() - t0);
    try {
      assert.ok(elapsed < 100, `startup took ${elapsed.toFixed(1)} ms`);
      const v = await raw(emu, 'GET', '/version');
      assert.equal(v.status, 200);
      assert.equal(v.body.major, '1');
      assert.match(v.body.gitVersion, /^v1\.\d+\.\d+$/);
    } finally {
      await emu.close();
    }
  });
});

describe('kube emulator: objects', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
  });
  after(() => c.emu.close());

  it('has the built-in namespaces, each labelled kubernetes.io/metadata.name, kube-system with a fixed uid', async () => {
    const list = await c.core.listNamespace();
    const names = list.items.map((n) => n.metadata?.name).sort();
    assert.deepEqual(names, ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    for (const ns of list.items) {
      assert.equal(ns.metadata?.labels?.['kubernetes.io/metadata.name'], ns.metadata?.name);
      assert.equal(ns.status?.phase, 'Active');
    }
    const ks = await c.core.readNamespace({ name: 'kube-system' });
    assert.equal(ks.metadata?.uid, KUBE_SYSTEM_UID);
    assert.equal(c.emu.kubeSystemUid, KUBE_SYSTEM_UID);
    const other = await startKubeEmulator();
    try {
      assert.equal(other.kubeSystemUid, KUBE_SYSTEM_UID, 'stable across runs');
    } finally {
      await other.close();
    }
  });

  it('creates a ClusterIP service with the documented defaults', async () => {
    const created = await c.core.createNamespacedService({
      namespace: 'default',
      body: {
        metadata: { name: 'web' },
        spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
      },
    });
    const m = created.metadata!;
    assert.match(m.uid!, /^[0-9a-f-]{36}$/);
    assert.ok(m.creationTimestamp instanceof Date);
    assert.match(m.resourceVersion!, /^\d+$/);
    const s = created.spec!;
    assert.equal(s.type, 'ClusterIP');
    assert.equal(s.sessionAffinity, 'None');
    assert.equal(s.internalTrafficPolicy, 'Cluster');
    assert.equal(s.ipFamilyPolicy, 'SingleStack');
    assert.deepEqual(s.ipFamilies, ['IPv4']);
    assert.ok(inServiceRange(s.clusterIP!), s.clusterIP);
    assert.deepEqual(s.clusterIPs, [s.clusterIP]);
    assert.equal(s.ports![0]!.protocol, 'TCP');
    assert.equal(s.ports![0]!.targetPort, 80, 'targetPort defaults to port');
    assert.equal(s.ports![0]!.nodePort, undefined);
    assert.deepEqual(plain(created.status), { loadBalancer: {} });

    const read = await c.core.readNamespacedService({ name: 'web', namespace: 'default' });
    assert.equal(read.metadata?.resourceVersion, m.resourceVersion);
    assert.equal(read.spec?.clusterIP, s.clusterIP);
  });

  it('allocates unique node ports in 30000-32767 for NodePort and LoadBalancer', async () => {
    const np = await c.core.createNamespacedService({
      namespace: 'default',
      body: service('np', { type: 'NodePort' }),
    });
    const lb = await c.core.createNamespacedService({
      namespace: 'default',
      body: service('lb', {
        type: 'LoadBalancer',
        ports: [
          { name: 'a', port: 80 },
          { name: 'b', port: 443 },
        ],
      }),
    });
    const ports = [np.spec!.ports![0]!.nodePort!, ...lb.spec!.ports!.map((p) => p.nodePort!)];
    for (const p of ports) assert.ok(p >= 30000 && p <= 32767, String(p));
    assert.equal(new Set(ports).size, 3);
    assert.equal(np.spec?.externalTrafficPolicy, 'Cluster');
    assert.equal(lb.spec?.allocateLoadBalancerNodePorts, true);
    assert.deepEqual(
      plain(lb.status),
      { loadBalancer: {} },
      'no ingress without a load balancer controller',
    );

    const taken = await failure(
      c.core.createNamespacedService({
        namespace: 'default',
        body: service('np2', { type: 'NodePort', ports: [{ port: 80, nodePort: ports[0] }] }),
      }),
    );
    assert.equal(taken.code, 422);
    assert.equal(taken.body.reason, 'Invalid');
    assert.equal(
      taken.body.message,
      `Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: ${ports[0]}: provided port is already allocated`,
    );
  });

  it('gives ExternalName services no cluster IP and keeps None for headless services', async () => {
    const ext = await c.core.createNamespacedService({
      namespace: 'default',
      body: {
        metadata: { name: 'ext' },
        spec: { type: 'ExternalName', externalName: 'db.service.consul' },
      },
    });
    assert.equal(ext.spec?.clusterIP, undefined);
    assert.equal(ext.spec?.clusterIPs, undefined);
    assert.equal(ext.spec?.externalName, 'db.service.consul');
    const headless = await c.core.createNamespacedService({
      namespace: 'default',
      body: service('headless', { clusterIP: 'None' }),
    });
    assert.equal(headless.spec?.clusterIP, 'None');
    assert.deepEqual(headless.spec?.clusterIPs, ['None']);
  });

  it('generates names from generateName with a 5-character suffix', async () => {
    const s = await c.core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { generateName: 'gen-' }, spec: { ports: [{ port: 80 }] } },
    });
    assert.match(s.metadata!.name!, /^gen-[a-z0-9]{5}$/);
    assert.equal(s.metadata?.generateName, 'gen-');
  });

  it('answers 404 NotFound with a metav1.Status', async () => {
    const f = await failure(c.core.readNamespacedService({ name: 'x', namespace: 'default' }));
    assert.equal(f.code, 404);
    assert.deepEqual(f.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'services "x" not found',
      reason: 'NotFound',
      details: { name: 'x', kind: 'services' },
      code: 404,
    });
    const slice = await failure(
      c.discovery.readNamespacedEndpointSlice({ name: 'x', namespace: 'default' }),
    );
    assert.equal(slice.body.message, 'endpointslices.discovery.k8s.io "x" not found');
    assert.deepEqual(slice.body.details, {
      name: 'x',
      group: 'discovery.k8s.io',
      kind: 'endpointslices',
    });
  });

  it('answers 404 for a create in a namespace that does not exist', async () => {
    const f = await failure(
      c.core.createNamespacedService({ namespace: 'nope', body: service('a') }),
    );
    assert.equal(f.code, 404);
    assert.equal(f.body.message, 'namespaces "nope" not found');
    assert.deepEqual(f.body.details, { name: 'nope', kind: 'namespaces' });
  });

  it('answers 409 AlreadyExists', async () => {
    await c.core.createNamespacedService({ namespace: 'default', body: service('dup') });
    const f = await failure(
      c.core.createNamespacedService({ namespace: 'default', body: service('dup') }),
    );
    assert.equal(f.code, 409);
    assert.deepEqual(f.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'services "dup" already exists',
      reason: 'AlreadyExists',
      details: { name: 'dup', kind: 'services' },
      code: 409,
    });
  });

  it('answers 409 Conflict for a replace with a stale resourceVersion and keeps the cluster IP', async () => {
    const created = await c.core.createNamespacedService({
      namespace: 'default',
      body: service('rv'),
    });
    const body = { ...service('rv', { ports: [{ name: 'http', port: 81 }] }) };
    // a replace that omits clusterIP keeps the allocated one (it is immutable)
    body.metadata.resourceVersion = created.metadata!.resourceVersion;
    const replaced = await c.core.replaceNamespacedService({
      name: 'rv',
      namespace: 'default',
      body,
    });
    assert.equal(replaced.spec?.clusterIP, created.spec?.clusterIP);
    assert.equal(replaced.spec?.ports?.[0]?.port, 81);
    assert.ok(
      Number(replaced.metadata!.resourceVersion) > Number(created.metadata!.resourceVersion),
    );
    assert.equal(replaced.metadata?.uid, created.metadata?.uid);

    const stale = await failure(
      c.core.replaceNamespacedService({ name: 'rv', namespace: 'default', body }),
    );
    assert.equal(stale.code, 409);
    assert.equal(stale.body.reason, 'Conflict');
    assert.equal(
      stale.body.message,
      'Operation cannot be fulfilled on services "rv": the object has been modified; please apply your changes to the latest version and try again',
    );
    assert.deepEqual(stale.body.details, { name: 'rv', kind: 'services' });

    const changedIP = service('rv', { clusterIP: '10.96.0.77' });
    const immutable = await failure(
      c.core.replaceNamespacedService({ name: 'rv', namespace: 'default', body: changedIP }),
    );
    assert.equal(immutable.code, 422);
    assert.match(
      immutable.body.message,
      /spec\.clusterIPs\[0\]: Invalid value: .*may not change once set/,
    );
  });

  it('answers 422 Invalid for a name that is not a DNS-1035 label, with causes', async () => {
    const f = await failure(
      c.core.createNamespacedService({ namespace: 'default', body: service('X') }),
    );
    assert.equal(f.code, 422);
    const detail =
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    assert.deepEqual(f.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `Service "X" is invalid: metadata.name: Invalid value: "X": ${detail}`,
      reason: 'Invalid',
      details: {
        name: 'X',
        kind: 'Service',
        causes: [
          {
            reason: 'FieldValueInvalid',
            message: `Invalid value: "X": ${detail}`,
            field: 'metadata.name',
          },
        ],
      },
      code: 422,
    });
  });

  it('answers 422 for invalid ports', async () => {
    const f = await failure(
      c.core.createNamespacedService({
        namespace: 'default',
        body: {
          metadata: { name: 'badport' },
          spec: { ports: [{ port: 70000, targetPort: 8080 }] },
        },
      }),
    );
    assert.equal(f.code, 422);
    assert.equal(
      f.body.message,
      'Service "badport" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
    );
    const noPorts = await failure(
      c.core.createNamespacedService({
        namespace: 'default',
        body: { metadata: { name: 'noports' }, spec: {} },
      }),
    );
    assert.equal(noPorts.body.message, 'Service "noports" is invalid: spec.ports: Required value');
    const unnamed = await failure(
      c.core.createNamespacedService({
        namespace: 'default',
        body: { metadata: { name: 'unnamed' }, spec: { ports: [{ port: 80 }, { port: 81 }] } },
      }),
    );
    assert.equal(
      unnamed.body.message,
      'Service "unnamed" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]',
    );
  });

  it('applies merge, JSON and strategic merge patches', async () => {
    await c.core.createNamespacedService({
      namespace: 'default',
      body: service('patched', {
        ports: [
          { name: 'http', port: 80 },
          { name: 'https', port: 443 },
        ],
      }),
    });
    const merged = await c.core.patchNamespacedService(
      { name: 'patched', namespace: 'default', body: { metadata: { labels: { team: 'a' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(merged.metadata?.labels, { team: 'a' });
    assert.equal(merged.spec?.ports?.length, 2);

    const jp = await c.core.patchNamespacedService(
      {
        name: 'patched',
        namespace: 'default',
        body: [
          { op: 'add', path: '/metadata/annotations', value: { note: 'x' } },
          { op: 'replace', path: '/spec/ports/0/port', value: 8080 },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    assert.deepEqual(jp.metadata?.annotations, { note: 'x' });
    assert.equal(jp.spec?.ports?.[0]?.port, 8080);

    // strategic merge: ports merge by their key `port`; $patch: delete removes one
    const smp = await c.core.patchNamespacedService(
      {
        name: 'patched',
        namespace: 'default',
        body: {
          spec: {
            ports: [
              { port: 443, name: 'tls' },
              { port: 8080, $patch: 'delete' },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(
      smp.spec?.ports?.map((p) => [p.name, p.port]),
      [['tls', 443]],
    );
    // a merge patch replaces lists wholesale (RFC 7386)
    const mp = await c.core.patchNamespacedService(
      {
        name: 'patched',
        namespace: 'default',
        body: { spec: { ports: [{ name: 'only', port: 9 }] } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(
      mp.spec?.ports?.map((p) => [p.name, p.port, p.targetPort]),
      [['only', 9, 9]],
    );
    const failedTest = await failure(
      c.core.patchNamespacedService(
        {
          name: 'patched',
          namespace: 'default',
          body: [{ op: 'test', path: '/spec/type', value: 'NodePort' }],
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
    assert.equal(failedTest.code, 422);
    const unsupported = await raw(
      c.emu,
      'PATCH',
      '/api/v1/namespaces/default/services/patched',
      '{}',
      {
        'content-type': 'application/json',
      },
    );
    assert.equal(unsupported.status, 415);
    assert.equal(unsupported.body.reason, 'UnsupportedMediaType');
  });

  it('reads protobuf bodies as kubectl sends them, and refuses other binary types', async () => {
    const post = async (path: string, body: Buffer | string, type: string) => {
      const res = await fetch(c.emu.url + path, {
        method: 'POST',
        headers: {
          'content-type': type,
          accept: 'application/vnd.kubernetes.protobuf,application/json',
        },
        body,
      });
      return {
        status: res.status,
        type: res.headers.get('content-type'),
        body: (await res.json()) as any,
      };
    };
    const [ns, svc] = [KUBECTL_BODIES[0]!, KUBECTL_BODIES[1]!];
    const created = await post('/api/v1/namespaces', Buffer.from(ns.hex, 'hex'), PROTOBUF);
    assert.equal(created.status, 201);
    assert.equal(created.type, 'application/json', 'kubectl accepts a JSON answer');
    assert.equal(created.body.metadata.name, 'team-a');
    const web = await post(
      '/api/v1/namespaces/team-a/services',
      Buffer.from(svc.hex, 'hex'),
      PROTOBUF,
    );
    assert.equal(web.status, 201);
    assert.equal(web.body.spec.type, 'NodePort');
    assert.ok(web.body.spec.ports[0].nodePort >= 30000);
    // the body names another kind than the path serves
    const wrong = await post(
      '/api/v1/namespaces/team-a/services',
      Buffer.from(ns.hex, 'hex'),
      PROTOBUF,
    );
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.message, /Namespace in version "v1" cannot be handled as a Service/);
    const garbage = await post('/api/v1/namespaces', Buffer.from('not protobuf'), PROTOBUF);
    assert.equal(garbage.status, 400);
    assert.match(garbage.body.message, /expected prefix \[107 56 115 0\]/);
    const cbor = await post('/api/v1/namespaces', Buffer.from([0xa0]), 'application/cbor');
    assert.equal(cbor.status, 415);
    assert.equal(
      cbor.body.message,
      'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    );
    const patch = await raw(c.emu, 'PATCH', '/api/v1/namespaces/team-a/services/web', 'x', {
      'content-type': PROTOBUF,
    });
    assert.equal(patch.status, 415);
    assert.match(patch.body.message, /application\/strategic-merge-patch\+json/);
  });

  it('runs dryRun=All writes without storing anything', async () => {
    const before = await c.core.listNamespacedService({ namespace: 'default' });
    const dry = await c.core.createNamespacedService({
      namespace: 'default',
      body: service('dry'),
      dryRun: 'All',
    });
    assert.equal(dry.metadata?.name, 'dry');
    assert.ok(inServiceRange(dry.spec!.clusterIP!));
    await failure(c.core.readNamespacedService({ name: 'dry', namespace: 'default' })).then((f) =>
      assert.equal(f.code, 404),
    );
    await c.core.createNamespacedService({ namespace: 'default', body: service('dry2') });
    const deleted = await c.core.deleteNamespacedService({
      name: 'dry2',
      namespace: 'default',
      dryRun: 'All',
    });
    assert.equal(deleted.metadata?.name, 'dry2');
    const still = await c.core.readNamespacedService({ name: 'dry2', namespace: 'default' });
    assert.equal(still.metadata?.name, 'dry2');
    const after = await c.core.listNamespacedService({ namespace: 'default' });
    assert.equal(after.items.length, before.items.length + 1);
    const bad = await raw(
      c.emu,
      'POST',
      '/api/v1/namespaces/default/services?dryRun=Some',
      service('x'),
    );
    assert.equal(bad.status, 400);
  });

  it('returns the deleted Service, but a Success Status for other kinds', async () => {
    await c.core.createNamespacedService({ namespace: 'default', body: service('gone') });
    const deleted = await c.core.deleteNamespacedService({ name: 'gone', namespace: 'default' });
    assert.equal(deleted.kind, 'Service');
    assert.equal(deleted.metadata?.name, 'gone');
    await failure(c.core.readNamespacedService({ name: 'gone', namespace: 'default' })).then((f) =>
      assert.equal(f.code, 404),
    );

    const slice = await c.discovery.createNamespacedEndpointSlice({
      namespace: 'default',
      body: {
        metadata: { name: 's1' },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.0.0.1'] }],
      },
    });
    const r = await raw(
      c.emu,
      'DELETE',
      '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/s1',
    );
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {
        name: 's1',
        group: 'discovery.k8s.io',
        kind: 'endpointslices',
        uid: slice.metadata?.uid,
      },
    });
  });

  it('keeps status on the main resource and changes it only through /status', async () => {
    await c.core.createNamespacedService({
      namespace: 'default',
      body: service('st', { type: 'LoadBalancer' }),
    });
    const withStatus = {
      ...service('st', { type: 'LoadBalancer' }),
      status: { loadBalancer: { ingress: [{ ip: '198.51.100.1' }] } },
    };
    const main = await c.core.replaceNamespacedService({
      name: 'st',
      namespace: 'default',
      body: withStatus,
    });
    assert.deepEqual(
      plain(main.status),
      { loadBalancer: {} },
      'status ignored on the main resource',
    );
    const st = await c.core.patchNamespacedServiceStatus(
      {
        name: 'st',
        namespace: 'default',
        body: { status: { loadBalancer: { ingress: [{ ip: '198.51.100.1' }] } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.equal(st.status?.loadBalancer?.ingress?.[0]?.ip, '198.51.100.1');
    const read = await c.core.readNamespacedServiceStatus({ name: 'st', namespace: 'default' });
    assert.equal(read.status?.loadBalancer?.ingress?.[0]?.ip, '198.51.100.1');
  });

  it('keeps the resourceVersion global and increasing across kinds', async () => {
    const a = await c.core.createNamespacedService({ namespace: 'default', body: service('rva') });
    const n = await c.core.createNode({ body: { metadata: { name: 'node-rv' } } });
    const b = await c.core.createNamespacedService({ namespace: 'default', body: service('rvb') });
    const rvs = [a, n, b].map((o) => Number(o.metadata!.resourceVersion));
    assert.ok(rvs[0]! < rvs[1]! && rvs[1]! < rvs[2]!, rvs.join(','));
  });

  it('refuses to delete the default namespace and terminates others with their content', async () => {
    const f = await failure(c.core.deleteNamespace({ name: 'default' }));
    assert.equal(f.code, 403);
    assert.equal(
      f.body.message,
      'namespaces "default" is forbidden: this namespace may not be deleted',
    );
    await c.core.createNamespace({ body: { metadata: { name: 'tmp' } } });
    await c.core.createNamespacedService({ namespace: 'tmp', body: service('in-tmp') });
    // a namespace is not removed at once: it answers with itself, Terminating, and goes once empty
    const terminating = await raw(c.emu, 'DELETE', '/api/v1/namespaces/tmp');
    assert.equal(terminating.status, 200);
    assert.equal(terminating.body.kind, 'Namespace');
    assert.equal(terminating.body.status.phase, 'Terminating');
    assert.ok(terminating.body.metadata.deletionTimestamp);
    for (let i = 0; i < 100; i++) {
      try {
        await c.core.readNamespace({ name: 'tmp' });
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) break;
        throw e;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await failure(c.core.readNamespace({ name: 'tmp' })).then((x) => assert.equal(x.code, 404));
    await failure(c.core.readNamespacedService({ name: 'in-tmp', namespace: 'tmp' })).then((x) =>
      assert.equal(x.code, 404),
    );
  });

  it('serves discovery for kubectl and client libraries', async () => {
    const api = await raw(c.emu, 'GET', '/api');
    assert.deepEqual(api.body.versions, ['v1']);
    const v1 = await raw(c.emu, 'GET', '/api/v1');
    const svc = v1.body.resources.find((r: any) => r.name === 'services');
    assert.equal(svc.kind, 'Service');
    assert.equal(svc.namespaced, true);
    assert.deepEqual(svc.shortNames, ['svc']);
    assert.ok(svc.verbs.includes('watch'));
    assert.ok(v1.body.resources.some((r: any) => r.name === 'services/status'));
    const apis = await raw(c.emu, 'GET', '/apis');
    const groups = apis.body.groups.map((g: any) => g.name);
    assert.ok(groups.includes('discovery.k8s.io'));
    const disc = await raw(c.emu, 'GET', '/apis/discovery.k8s.io/v1');
    assert.equal(disc.body.groupVersion, 'discovery.k8s.io/v1');
    assert.equal(disc.body.resources[0].name, 'endpointslices');
  });
});

describe('kube emulator: auth and faults', () => {
  it('requires the bearer token when one is configured, and the kubeconfig carries it', async () => {
    const emu = await startKubeEmulator({ token: 's3cret' });
    try {
      const anon = await raw(emu, 'GET', '/api/v1/services');
      assert.equal(anon.status, 401);
      assert.deepEqual(anon.body, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
      const wrong = await raw(emu, 'GET', '/api/v1/services', undefined, {
        authorization: 'Bearer nope',
      });
      assert.equal(wrong.status, 401);
      const kc = new KubeConfig();
      kc.loadFromString(emu.kubeconfig);
      assert.equal(kc.getCurrentUser()?.token, 's3cret');
      assert.equal(kc.getCurrentCluster()?.skipTLSVerify, true);
      const list = await kc.makeApiClient(CoreV1Api).listServiceForAllNamespaces();
      assert.deepEqual(list.items, []);
    } finally {
      await emu.close();
    }
  });

  it('injects faults and counts requests by verb and resource', async () => {
    const c = await startCluster();
    try {
      c.emu.faults.add({ method: 'GET', path: '/api/v1/services', times: 1, status: 503 });
      const f = await failure(c.core.listServiceForAllNamespaces());
      assert.equal(f.code, 503);
      assert.equal(f.body.code, 503);
      const ok = await c.core.listServiceForAllNamespaces();
      assert.deepEqual(ok.items, []);
      c.emu.faults.add({ path: /\/services\/slow$/, delayMs: 150, times: 1 });
      const t0 = Date.now();
      await failure(c.core.readNamespacedService({ name: 'slow', namespace: 'default' }));
      assert.ok(Date.now() - t0 >= 140);
      c.emu.faults.add({ method: 'POST', reset: true, times: 1 });
      await assert.rejects(
        c.core.createNamespacedService({ namespace: 'default', body: service('r') }),
      );
      c.emu.faults.add({ method: 'GET', status: 500, body: 'boom' });
      await assert.rejects(c.core.listNamespace());
      c.emu.faults.clear();
      await c.core.listNamespace();
      const counts = c.emu.requestCounts();
      assert.equal(counts['list services'], 2);
      assert.equal(counts['get services'], 1);
      assert.equal(counts['create services'], 1);
      assert.equal(counts['list namespaces'], 2);
      c.emu.resetRequestCounts();
      assert.deepEqual(c.emu.requestCounts(), {});
    } finally {
      await c.emu.close();
    }
  });
});
