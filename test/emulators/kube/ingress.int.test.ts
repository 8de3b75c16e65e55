// networking.k8s.io/v1 Ingress and IngressClass through the real @kubernetes/client-node
// NetworkingV1Api and kubectl. Expected values follow the Kubernetes v1.32 API: the Ingress
// strategy (status only through /status, generation on spec changes), ValidateIngressCreate /
// ValidateIngressStatusUpdate field paths and messages, printIngress columns.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type V1Ingress,
} from '@kubernetes/client-node';
import {
  failure,
  json,
  startCluster,
  startReceiver,
  waitFor,
  type Cluster,
  type Receiver,
} from './helpers.js';

function ingress(name: string, spec: Record<string, unknown> = {}): V1Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, labels: { app: name } },
    spec: {
      rules: [
        {
          host: 'foo.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'web', port: { number: 80 } } },
              },
            ],
          },
        },
      ],
      ...spec,
    },
  };
}

/** An Ingress whose only rule has this one path. */
function withPath(name: string, path: Record<string, unknown>, host?: string): unknown {
  const rule: Record<string, unknown> = { http: { paths: [path] } };
  if (host !== undefined) rule.host = host;
  return { metadata: { name }, spec: { rules: [rule] } };
}

/** A client-node model as the plain JSON it stands for. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

const svcBackend = { service: { name: 'web', port: { number: 80 } } };

describe('kube emulator: networking.k8s.io/v1 ingresses', () => {
  let c: Cluster;
  let net: NetworkingV1Api;
  before(async () => {
    c = await startCluster();
    net = c.kc.makeApiClient(NetworkingV1Api);
    await c.core.createNamespace({ body: { metadata: { name: 'apps' } } });
  });
  after(() => c.emu.close());

  it('creates, reads, lists, replaces and deletes an Ingress', async () => {
    const created = await net.createNamespacedIngress({ namespace: 'apps', body: ingress('web') });
    assert.equal(created.kind, 'Ingress');
    assert.equal(created.apiVersion, 'networking.k8s.io/v1');
    assert.equal(created.metadata?.namespace, 'apps');
    assert.equal(created.metadata?.generation, 1);
    assert.ok(created.metadata?.uid);
    assert.deepEqual(plain(created.status), { loadBalancer: {} });
    assert.equal(created.spec?.rules?.[0]?.http?.paths[0]?.backend.service?.port?.number, 80);

    const got = await net.readNamespacedIngress({ name: 'web', namespace: 'apps' });
    assert.equal(got.metadata?.resourceVersion, created.metadata?.resourceVersion);

    await net.createNamespacedIngress({
      namespace: 'apps',
      body: ingress('other', { rules: undefined, defaultBackend: svcBackend }),
    });
    const all = await net.listNamespacedIngress({ namespace: 'apps' });
    assert.equal(all.kind, 'IngressList');
    assert.deepEqual(all.items.map((i) => i.metadata?.name).sort(), ['other', 'web']);
    const byLabel = await net.listNamespacedIngress({
      namespace: 'apps',
      labelSelector: 'app=web',
    });
    assert.deepEqual(
      byLabel.items.map((i) => i.metadata?.name),
      ['web'],
    );
    const byField = await net.listIngressForAllNamespaces({ fieldSelector: 'metadata.name=other' });
    assert.deepEqual(
      byField.items.map((i) => i.metadata?.name),
      ['other'],
    );

    const next = ingress('web', { ingressClassName: 'nginx' });
    next.metadata!.resourceVersion = got.metadata?.resourceVersion;
    const replaced = await net.replaceNamespacedIngress({
      name: 'web',
      namespace: 'apps',
      body: next,
    });
    assert.equal(replaced.spec?.ingressClassName, 'nginx');
    assert.equal(replaced.metadata?.generation, 2, 'a spec change bumps the generation');

    const stale = await failure(
      net.replaceNamespacedIngress({ name: 'web', namespace: 'apps', body: next }),
    );
    assert.equal(stale.code, 409);

    const patched = await net.patchNamespacedIngress(
      { name: 'web', namespace: 'apps', body: { spec: { tls: [{ hosts: ['foo.example.com'] }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(plain(patched.spec?.tls), [{ hosts: ['foo.example.com'] }]);
    assert.equal(patched.spec?.rules?.[0]?.host, 'foo.example.com');

    const jsonPatched = await net.patchNamespacedIngress(
      {
        name: 'web',
        namespace: 'apps',
        body: [{ op: 'replace', path: '/spec/rules/0/host', value: 'bar.example.com' }],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    assert.equal(jsonPatched.spec?.rules?.[0]?.host, 'bar.example.com');

    const deleted = await net.deleteNamespacedIngress({ name: 'web', namespace: 'apps' });
    // the ingress storage answers DELETE with a Success Status, not the object
    assert.equal((deleted as { status?: string }).status, 'Success');
    const gone = await failure(net.readNamespacedIngress({ name: 'web', namespace: 'apps' }));
    assert.equal(gone.code, 404);
    assert.equal(gone.body.details.group, 'networking.k8s.io');
    assert.equal(gone.body.details.kind, 'ingresses');
    assert.equal(gone.body.message, 'ingresses.networking.k8s.io "web" not found');

    await net.deleteCollectionNamespacedIngress({ namespace: 'apps' });
    const empty = await net.listNamespacedIngress({ namespace: 'apps' });
    assert.equal(empty.items.length, 0);
  });

  it('sets status only through /status, and drops status written on the main resource', async () => {
    const body = ingress('lb');
    (body as { status?: unknown }).status = { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } };
    const created = await net.createNamespacedIngress({ namespace: 'apps', body });
    assert.deepEqual(plain(created.status), { loadBalancer: {} }, 'create cannot set status');

    const withStatus = {
      ...created,
      status: {
        loadBalancer: {
          ingress: [
            { ip: '192.0.2.10', ports: [{ port: 443, protocol: 'TCP' }] },
            { hostname: 'lb.example.com' },
          ],
        },
      },
    };
    const updated = await net.replaceNamespacedIngressStatus({
      name: 'lb',
      namespace: 'apps',
      body: withStatus,
    });
    assert.deepEqual(plain(updated.status?.loadBalancer?.ingress), [
      { ip: '192.0.2.10', ports: [{ port: 443, protocol: 'TCP' }] },
      { hostname: 'lb.example.com' },
    ]);
    assert.equal(updated.metadata?.generation, 1, 'a status change keeps the generation');

    // a status write cannot change spec
    const specViaStatus = await net.replaceNamespacedIngressStatus({
      name: 'lb',
      namespace: 'apps',
      body: { ...updated, spec: { defaultBackend: svcBackend } },
    });
    assert.equal(specViaStatus.spec?.defaultBackend, undefined);
    assert.equal(specViaStatus.spec?.rules?.[0]?.host, 'foo.example.com');

    // a main-resource update cannot change status
    const mainUpdate = await net.replaceNamespacedIngress({
      name: 'lb',
      namespace: 'apps',
      body: { ...specViaStatus, status: { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } } },
    });
    assert.deepEqual(mainUpdate.status, updated.status);

    const bad = await failure(
      net.replaceNamespacedIngressStatus({
        name: 'lb',
        namespace: 'apps',
        body: {
          ...mainUpdate,
          status: { loadBalancer: { ingress: [{ ip: 'not-an-ip' }, { hostname: '10.0.0.1' }] } },
        },
      }),
    );
    assert.equal(bad.code, 422);
    assert.deepEqual(
      bad.body.details.causes.map((x: { field: string; message: string }) => [x.field, x.message]),
      [
        [
          'status.loadBalancer.ingress[0].ip',
          'Invalid value: "not-an-ip": must be a valid IP address',
        ],
        [
          'status.loadBalancer.ingress[1].hostname',
          'Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
        ],
      ],
    );
  });

  describe('validation (ValidateIngressCreate)', () => {
    const invalid = async (body: unknown) => {
      const r = await failure(
        net.createNamespacedIngress({ namespace: 'apps', body: body as V1Ingress }),
      );
      assert.equal(r.code, 422);
      assert.equal(r.body.reason, 'Invalid');
      assert.equal(r.body.details.group, 'networking.k8s.io');
      assert.equal(r.body.details.kind, 'Ingress');
      return r.body;
    };

    it('requires pathType', async () => {
      const body = await invalid(withPath('no-type', { path: '/', backend: svcBackend }));
      assert.equal(
        body.message,
        'Ingress.networking.k8s.io "no-type" is invalid: spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
      );
      assert.deepEqual(body.details.causes, [
        {
          reason: 'FieldValueRequired',
          message: 'Required value: pathType must be specified',
          field: 'spec.rules[0].http.paths[0].pathType',
        },
      ]);
    });

    it('wants an absolute path for Prefix and Exact, and a known pathType', async () => {
      const body = await invalid(
        withPath('rel', { path: 'api', pathType: 'Prefix', backend: svcBackend }),
      );
      assert.deepEqual(body.details.causes, [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "api": must be an absolute path',
          field: 'spec.rules[0].http.paths[0].path',
        },
      ]);
      const seq = await invalid(
        withPath('seq', { path: '/a//b/.', pathType: 'Exact', backend: svcBackend }),
      );
      assert.deepEqual(
        seq.details.causes.map((x: { message: string }) => x.message),
        [
          'Invalid value: "/a//b/.": must not contain \'//\'',
          'Invalid value: "/a//b/.": cannot end with \'/.\'',
        ],
      );
      const kind = await invalid(
        withPath('kind', { path: '/', pathType: 'Regex', backend: svcBackend }),
      );
      assert.deepEqual(kind.details.causes, [
        {
          reason: 'FieldValueNotSupported',
          message:
            'Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
          field: 'spec.rules[0].http.paths[0].pathType',
        },
      ]);
      // ImplementationSpecific takes an empty path
      await net.createNamespacedIngress({
        namespace: 'apps',
        body: withPath('impl', {
          pathType: 'ImplementationSpecific',
          backend: svcBackend,
        }) as V1Ingress,
      });
    });

    it('takes exactly one of service and resource as a backend', async () => {
      const both = await invalid(
        withPath('both', {
          path: '/',
          pathType: 'Prefix',
          backend: {
            ...svcBackend,
            resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static' },
          },
        }),
      );
      assert.deepEqual(both.details.causes, [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "": cannot set both resource and service backends',
          field: 'spec.rules[0].http.paths[0].backend',
        },
      ]);
      const none = await invalid(withPath('none', { path: '/', pathType: 'Prefix', backend: {} }));
      assert.equal(
        none.details.causes[0].message,
        'Invalid value: "": resource or service backend is required',
      );
      const noPort = await invalid({
        metadata: { name: 'no-port' },
        spec: { defaultBackend: { service: { name: 'web', port: {} } } },
      });
      assert.deepEqual(noPort.details.causes, [
        {
          reason: 'FieldValueRequired',
          message: 'Required value: port name or number is required',
          field: 'spec.defaultBackend',
        },
      ]);
      const bothPorts = await invalid({
        metadata: { name: 'both-ports' },
        spec: { defaultBackend: { service: { name: 'web', port: { name: 'http', number: 80 } } } },
      });
      assert.equal(
        bothPorts.details.causes[0].message,
        'Invalid value: "": cannot set both port name & port number',
      );
      const badPort = await invalid({
        metadata: { name: 'bad-port' },
        spec: { defaultBackend: { service: { name: 'web', port: { number: 70000 } } } },
      });
      assert.deepEqual(badPort.details.causes, [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: 70000: must be between 1 and 65535, inclusive',
          field: 'spec.defaultBackend.service.port.number',
        },
      ]);
      const resource = await net.createNamespacedIngress({
        namespace: 'apps',
        body: {
          metadata: { name: 'res' },
          spec: {
            defaultBackend: {
              resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static' },
            },
          },
        },
      });
      assert.equal(resource.spec?.defaultBackend?.resource?.kind, 'StorageBucket');
    });

    it('validates hosts: DNS subdomains, a leading wildcard label, no IPs', async () => {
      const bad = await invalid(
        withPath('bad-host', { path: '/', pathType: 'Prefix', backend: svcBackend }, 'Foo_Bar'),
      );
      assert.deepEqual(bad.details.causes, [
        {
          reason: 'FieldValueInvalid',
          message:
            "Invalid value: \"Foo_Bar\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
          field: 'spec.rules[0].host',
        },
      ]);
      const star = await invalid(
        withPath('star', { path: '/', pathType: 'Prefix', backend: svcBackend }, '*'),
      );
      assert.equal(
        star.message,
        "Ingress.networking.k8s.io \"star\" is invalid: spec.rules[0].host: Invalid value: \"*\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      );
      const ip = await invalid(
        withPath('ip', { path: '/', pathType: 'Prefix', backend: svcBackend }, '10.1.2.3'),
      );
      assert.deepEqual(ip.details.causes, [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "10.1.2.3": must be a DNS name, not an IP address',
          field: 'spec.rules[0].host',
        },
      ]);
      const ok = await net.createNamespacedIngress({
        namespace: 'apps',
        body: withPath(
          'wild',
          { path: '/', pathType: 'Prefix', backend: svcBackend },
          '*.example.com',
        ) as V1Ingress,
      });
      assert.equal(ok.spec?.rules?.[0]?.host, '*.example.com');
    });

    it('needs rules or a defaultBackend, and checks tls and the class annotation', async () => {
      const empty = await invalid({ metadata: { name: 'empty' }, spec: {} });
      assert.equal(
        empty.message,
        'Ingress.networking.k8s.io "empty" is invalid: spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified',
      );
      const tls = await invalid({
        metadata: { name: 'tls' },
        spec: {
          defaultBackend: svcBackend,
          tls: [{ hosts: ['*.*.example.com'], secretName: 'Bad' }],
        },
      });
      assert.deepEqual(
        tls.details.causes.map((x: { field: string }) => x.field),
        ['spec.tls[0].hosts[0]', 'spec.tls[0].secretName'],
      );
      const cls = await invalid({
        metadata: { name: 'cls', annotations: { 'kubernetes.io/ingress.class': 'nginx' } },
        spec: { defaultBackend: svcBackend, ingressClassName: 'traefik' },
      });
      assert.deepEqual(cls.details.causes, [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "nginx": must match `ingressClassName` when both are specified',
          field: 'annotations.kubernetes.io/ingress.class',
        },
      ]);
    });
  });

  it('streams ADDED, MODIFIED and DELETED to client-node Watch', async () => {
    const list = await net.listNamespacedIngress({ namespace: 'apps' });
    const events: { type: string; obj: any }[] = [];
    const started = new Watch(c.kc).watch(
      '/apis/networking.k8s.io/v1/namespaces/apps/ingresses',
      { resourceVersion: list.metadata!.resourceVersion },
      (type, obj) => events.push({ type, obj }),
      () => {},
    );
    await new Promise((r) => setTimeout(r, 50));
    await net.createNamespacedIngress({ namespace: 'apps', body: ingress('watched') });
    await net.patchNamespacedIngress(
      { name: 'watched', namespace: 'apps', body: { metadata: { labels: { v: '2' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    await net.deleteNamespacedIngress({ name: 'watched', namespace: 'apps' });
    await waitFor(() => events.length >= 3, 'three watch events');
    (await started).abort();
    assert.deepEqual(
      events.map((e) => e.type),
      ['ADDED', 'MODIFIED', 'DELETED'],
    );
    assert.equal(events[0]!.obj.kind, 'Ingress');
    assert.equal(events[1]!.obj.metadata.labels.v, '2');
  });

  it('serves IngressClass cluster-wide with its defaults and validation', async () => {
    const created = await net.createIngressClass({
      body: {
        metadata: { name: 'nginx' },
        spec: {
          controller: 'k8s.io/ingress-nginx',
          parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'p' },
        },
      },
    });
    assert.equal(created.metadata?.namespace, undefined);
    assert.equal(created.metadata?.generation, 1);
    assert.equal(created.spec?.parameters?.scope, 'Cluster', 'SetDefaults_IngressClass');
    const list = await net.listIngressClass();
    assert.deepEqual(
      list.items.map((i) => i.metadata?.name),
      ['nginx'],
    );
    const bad = await failure(
      net.createIngressClass({
        body: { metadata: { name: 'bad' }, spec: { controller: 'nginx' } },
      }),
    );
    assert.equal(bad.code, 422);
    assert.deepEqual(bad.body.details.causes, [
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")',
        field: 'spec.controller',
      },
    ]);
    const immutable = await failure(
      net.patchIngressClass(
        { name: 'nginx', body: { spec: { controller: 'example.com/other' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    assert.equal(immutable.code, 422);
    assert.equal(
      immutable.body.message,
      'IngressClass.networking.k8s.io "nginx" is invalid: spec.controller: Invalid value: "example.com/other": field is immutable',
    );
    await net.deleteIngressClass({ name: 'nginx' });
  });

  it('is in discovery with its status subresource and short name', async () => {
    const groups = (await (await fetch(`${c.emu.url}/apis`)).json()) as any;
    assert.ok(groups.groups.some((g: any) => g.name === 'networking.k8s.io'));
    const res = await fetch(`${c.emu.url}/apis/networking.k8s.io/v1`);
    const doc = (await res.json()) as any;
    const byName = new Map(doc.resources.map((r: any) => [r.name, r]));
    assert.deepEqual(byName.get('ingresses'), {
      name: 'ingresses',
      singularName: 'ingress',
      namespaced: true,
      kind: 'Ingress',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['ing'],
    });
    assert.deepEqual(byName.get('ingresses/status'), {
      name: 'ingresses/status',
      singularName: '',
      namespaced: true,
      kind: 'Ingress',
      verbs: ['get', 'patch', 'update'],
    });
    assert.equal((byName.get('ingressclasses') as any).namespaced, false);
  });
});

describe('kube emulator: admission webhooks and audit for ingresses', () => {
  let c: Cluster;
  let hook: Receiver;
  before(async () => {
    hook = await startReceiver(async (r, res) => {
      json(res, 200, {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: r.body.request.uid, allowed: true },
      });
    });
    c = await startCluster({ admission: { webhooks: [] } });
  });
  after(async () => {
    await c.emu.close();
    await hook.close();
  });
  beforeEach(() => {
    hook.requests.length = 0;
  });

  it('sends CREATE, UPDATE (main and status) and DELETE of ingresses to a matching webhook', async () => {
    c.emu.setWebhooks([
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'ingress-policy' },
        webhooks: [
          {
            name: 'ingress.example.com',
            sideEffects: 'None',
            admissionReviewVersions: ['v1'],
            clientConfig: { url: `${hook.url}/ingress` },
            rules: [
              {
                apiGroups: ['networking.k8s.io'],
                apiVersions: ['v1'],
                operations: ['CREATE', 'UPDATE', 'DELETE'],
                resources: ['ingresses', 'ingresses/status'],
              },
            ],
          },
        ],
      },
    ]);
    const net = c.kc.makeApiClient(NetworkingV1Api);
    const created = await net.createNamespacedIngress({
      namespace: 'default',
      body: ingress('hooked'),
    });
    await net.patchNamespacedIngress(
      { name: 'hooked', namespace: 'default', body: { metadata: { labels: { v: '2' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await net.patchNamespacedIngressStatus(
      {
        name: 'hooked',
        namespace: 'default',
        body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await net.deleteNamespacedIngress({ name: 'hooked', namespace: 'default' });
    const rqs = hook.requests.map((r) => r.body.request);
    assert.deepEqual(
      rqs.map((r) => [r.operation, r.subResource ?? '']),
      [
        ['CREATE', ''],
        ['UPDATE', ''],
        ['UPDATE', 'status'],
        ['DELETE', ''],
      ],
    );
    const create = rqs[0];
    assert.deepEqual(create.kind, { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' });
    assert.deepEqual(create.resource, {
      group: 'networking.k8s.io',
      version: 'v1',
      resource: 'ingresses',
    });
    assert.equal(create.namespace, 'default');
    assert.equal(create.object.metadata.uid, created.metadata?.uid);
    assert.equal(rqs[1].object.metadata.labels.v, '2');
    assert.deepEqual(rqs[2].object.status.loadBalancer.ingress, [{ ip: '192.0.2.1' }]);
    assert.equal(rqs[3].object, null);
    assert.equal(rqs[3].oldObject.metadata.name, 'hooked');
  });

  it('refuses an ingress the webhook denies', async () => {
    const deny = await startReceiver(async (r, res) => {
      json(res, 200, {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: {
          uid: r.body.request.uid,
          allowed: false,
          status: { code: 403, message: 'no public hosts' },
        },
      });
    });
    try {
      c.emu.setWebhooks([
        {
          metadata: { name: 'deny' },
          webhooks: [
            {
              name: 'deny.example.com',
              sideEffects: 'None',
              admissionReviewVersions: ['v1'],
              clientConfig: { url: `${deny.url}/deny` },
              rules: [
                {
                  apiGroups: ['networking.k8s.io'],
                  apiVersions: ['*'],
                  operations: ['CREATE'],
                  resources: ['ingresses'],
                },
              ],
            },
          ],
        },
      ]);
      const net = c.kc.makeApiClient(NetworkingV1Api);
      const r = await failure(
        net.createNamespacedIngress({ namespace: 'default', body: ingress('x') }),
      );
      assert.equal(r.code, 403);
      assert.match(
        r.body.message,
        /admission webhook "deny.example.com" denied the request: no public hosts/,
      );
    } finally {
      c.emu.setWebhooks([]);
      await deny.close();
    }
  });
});

// ---- kubectl ----------------------------------------------------------------------------------

const hasKubectl = !spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).error;

describe(
  'kube emulator: kubectl and ingresses',
  { skip: hasKubectl ? false : 'kubectl is not installed (not on PATH)' },
  () => {
    let c: Cluster;
    let dir: string;
    const kubectl = (
      ...args: string[]
    ): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(
          'kubectl',
          ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args],
          { timeout: 20_000 },
          (err, stdout, stderr) =>
            resolve({
              code: err ? (typeof err.code === 'number' ? err.code : 1) : 0,
              stdout,
              stderr,
            }),
        );
      });

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kube-emu-ingress-'));
      c = await startCluster({ kubeconfigOut: join(dir, 'kubeconfig') });
    });
    after(async () => {
      await c.emu.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('applies an Ingress from YAML and prints the get ingress columns', async () => {
      const path = join(dir, 'ing.yaml');
      writeFileSync(
        path,
        `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: demo
spec:
  ingressClassName: nginx
  tls:
  - hosts: [foo.example.com]
    secretName: foo-tls
  rules:
  - host: foo.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
  - host: bar.example.com
    http:
      paths:
      - path: /api
        pathType: Exact
        backend:
          service:
            name: api
            port:
              name: http
`,
      );
      const a = await kubectl('apply', '-f', path);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(a.stdout.trim(), 'ingress.networking.k8s.io/demo created');
      const b = await kubectl('apply', '-f', path);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(b.stdout.trim(), 'ingress.networking.k8s.io/demo unchanged');

      const net = c.kc.makeApiClient(NetworkingV1Api);
      await net.patchNamespacedIngressStatus(
        {
          name: 'demo',
          namespace: 'default',
          body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.5' }] } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );

      const get = await kubectl('get', 'ing');
      assert.equal(get.code, 0, get.stderr);
      const [header, row] = get.stdout.trim().split('\n');
      assert.deepEqual(header!.split(/\s+/), ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE']);
      assert.deepEqual(row!.split(/\s+/).slice(0, 6), [
        'demo',
        'nginx',
        'foo.example.com,bar.example.com',
        '192.0.2.5',
        '80,',
        '443',
      ]);
    });

    it('creates an Ingress with kubectl create ingress (a protobuf body)', async () => {
      const r = await kubectl('create', 'ingress', 'quick', '--rule=foo.example.com/=svc:80');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'ingress.networking.k8s.io/quick created');
      const net = c.kc.makeApiClient(NetworkingV1Api);
      const got = await net.readNamespacedIngress({ name: 'quick', namespace: 'default' });
      assert.deepEqual(plain(got.spec?.rules), [
        {
          host: 'foo.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Exact',
                backend: { service: { name: 'svc', port: { number: 80 } } },
              },
            ],
          },
        },
      ]);
    });
  },
);
