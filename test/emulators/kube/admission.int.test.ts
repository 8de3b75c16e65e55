// Validating admission webhooks, checked against a tiny webhook server. Expected shapes follow
// the "Dynamic Admission Control" reference (AdmissionReview v1 request/response, rules,
// namespaceSelector, failurePolicy, timeoutSeconds, sideEffects and dry run, warnings).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import {
  failure,
  json,
  raw,
  service,
  startCluster,
  startReceiver,
  type Cluster,
  type Received,
  type Receiver,
} from './helpers.js';

type Mode = {
  allowed: boolean;
  status?: unknown;
  warnings?: string[];
  delayMs?: number;
  badUid?: boolean;
};

function webhookConfig(name: string, webhooks: Record<string, unknown>[]): unknown {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name },
    webhooks: webhooks.map((w) => ({ sideEffects: 'None', admissionReviewVersions: ['v1'], ...w })),
  };
}

const servicesRule = {
  apiGroups: [''],
  apiVersions: ['v1'],
  operations: ['CREATE', 'UPDATE', 'DELETE'],
  resources: ['services'],
};

describe('kube emulator: validating admission webhooks', () => {
  let c: Cluster;
  let hook: Receiver;
  const modes = new Map<string, Mode>();
  const reviews = (path: string): Received[] => hook.requests.filter((r) => r.url.startsWith(path));

  before(async () => {
    hook = await startReceiver(async (r, res) => {
      const path = r.url.split('?')[0]!;
      const mode = modes.get(path) ?? { allowed: true };
      if (mode.delayMs) await new Promise((x) => setTimeout(x, mode.delayMs));
      const response: Record<string, unknown> = {
        uid: mode.badUid ? 'not-the-uid' : r.body.request.uid,
        allowed: mode.allowed,
      };
      if (mode.status) response.status = mode.status;
      if (mode.warnings) response.warnings = mode.warnings;
      json(res, 200, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
    });
    c = await startCluster({
      admission: {
        webhooks: [],
        resolveService: (ref) => `${hook.url}/svc/${ref.namespace}/${ref.name}`,
      },
    });
    await c.core.createNamespace({ body: { metadata: { name: 'apps', labels: { env: 'test' } } } });
  });
  after(async () => {
    await c.emu.close();
    await hook.close();
  });
  beforeEach(() => {
    hook.requests.length = 0;
    c.emu.admissionCalls.length = 0;
    modes.clear();
    c.emu.setWebhooks([]);
  });

  it('sends CREATE, UPDATE and DELETE reviews with the documented request shape', async () => {
    c.emu.setWebhooks([
      webhookConfig('sync', [
        {
          name: 'sync.example.com',
          clientConfig: { url: `${hook.url}/sync` },
          rules: [servicesRule],
        },
      ]),
    ]);
    const created = await c.core.createNamespacedService({
      namespace: 'apps',
      body: service('web'),
    });
    const create = reviews('/sync')[0]!;
    assert.equal(create.method, 'POST');
    assert.match(create.url, /\?timeout=10s$/, 'timeoutSeconds defaults to 10 and is passed along');
    assert.equal(create.body.apiVersion, 'admission.k8s.io/v1');
    assert.equal(create.body.kind, 'AdmissionReview');
    const rq = create.body.request;
    assert.match(rq.uid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(rq.kind, { group: '', version: 'v1', kind: 'Service' });
    assert.deepEqual(rq.resource, { group: '', version: 'v1', resource: 'services' });
    assert.deepEqual(rq.requestKind, rq.kind);
    assert.deepEqual(rq.requestResource, rq.resource);
    assert.equal(rq.subResource, undefined);
    assert.equal(rq.name, 'web');
    assert.equal(rq.namespace, 'apps');
    assert.equal(rq.operation, 'CREATE');
    assert.equal(typeof rq.userInfo.username, 'string');
    assert.ok(rq.userInfo.username.length > 0);
    assert.equal(rq.object.kind, 'Service');
    assert.equal(rq.object.metadata.name, 'web');
    assert.equal(
      rq.object.spec.clusterIP,
      created.spec?.clusterIP,
      'object is defaulted and allocated',
    );
    assert.equal(rq.oldObject, null);
    assert.equal(rq.dryRun, false);
    assert.equal(rq.options.kind, 'CreateOptions');
    assert.equal(rq.options.apiVersion, 'meta.k8s.io/v1');

    await c.core.patchNamespacedService(
      { name: 'web', namespace: 'apps', body: { metadata: { labels: { v: '2' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const update = reviews('/sync')[1]!.body.request;
    assert.equal(update.operation, 'UPDATE');
    assert.equal(update.object.metadata.labels.v, '2');
    assert.equal(update.oldObject.metadata.labels, undefined);
    assert.equal(update.options.kind, 'UpdateOptions');
    assert.notEqual(update.uid, rq.uid);

    await c.core.deleteNamespacedService({ name: 'web', namespace: 'apps' });
    const del = reviews('/sync')[2]!.body.request;
    assert.equal(del.operation, 'DELETE');
    assert.equal(del.name, 'web');
    assert.equal(del.object, null);
    assert.equal(del.oldObject.metadata.name, 'web');
    assert.equal(del.options.kind, 'DeleteOptions');

    assert.deepEqual(
      c.emu.admissionCalls.map((x) => [x.webhook, x.operation, x.resource, x.status, x.allowed]),
      [
        ['sync.example.com', 'CREATE', 'services', 200, true],
        ['sync.example.com', 'UPDATE', 'services', 200, true],
        ['sync.example.com', 'DELETE', 'services', 200, true],
      ],
    );
  });

  it('names a generateName object in the review of its create', async () => {
    c.emu.setWebhooks([
      webhookConfig('gen', [
        {
          name: 'gen.example.com',
          clientConfig: { url: `${hook.url}/gen` },
          rules: [servicesRule],
        },
      ]),
    ]);
    const s = await c.core.createNamespacedService({
      namespace: 'apps',
      body: { metadata: { generateName: 'gen-' }, spec: { ports: [{ port: 80 }] } },
    });
    const rq = reviews('/gen')[0]!.body.request;
    assert.match(s.metadata!.name!, /^gen-[a-z0-9]{5}$/);
    assert.equal(rq.object.metadata.name, s.metadata?.name);
    assert.equal(rq.object.metadata.generateName, 'gen-');
    // Validating admission runs after the name is generated, and the API server puts it into the
    // request too (apiserver registry/rest/create.go AdmissionToValidateObjectFunc: "in case the
    // generated name is populated"); only mutating webhooks see an empty name.
    assert.equal(rq.name, s.metadata?.name);
  });

  it('matches services/status only for status writes, and a resolved service reference', async () => {
    c.emu.setWebhooks([
      webhookConfig('status', [
        {
          name: 'status.example.com',
          clientConfig: { service: { namespace: 'sync', name: 'hook', path: '/status-path' } },
          rules: [
            {
              apiGroups: [''],
              apiVersions: ['v1'],
              operations: ['UPDATE'],
              resources: ['services/status'],
            },
          ],
        },
      ]),
    ]);
    await c.core.createNamespacedService({
      namespace: 'apps',
      body: service('lb', { type: 'LoadBalancer' }),
    });
    assert.equal(
      hook.requests.length,
      0,
      'a create of the main resource does not match services/status',
    );
    await c.core.patchNamespacedServiceStatus(
      {
        name: 'lb',
        namespace: 'apps',
        body: { status: { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const r = reviews('/svc/sync/hook/status-path')[0]!;
    assert.ok(r, 'called at resolveService(ref) + service.path');
    assert.equal(r.body.request.subResource, 'status');
    assert.equal(r.body.request.requestSubResource, 'status');
    assert.equal(r.body.request.operation, 'UPDATE');
    assert.equal(r.body.request.object.status.loadBalancer.ingress[0].ip, '198.51.100.7');
  });

  it('skips namespaces excluded by namespaceSelector and objects excluded by objectSelector', async () => {
    c.emu.setWebhooks([
      webhookConfig('sel', [
        {
          name: 'sel.example.com',
          clientConfig: { url: `${hook.url}/sel` },
          rules: [servicesRule],
          namespaceSelector: {
            matchExpressions: [
              {
                key: 'kubernetes.io/metadata.name',
                operator: 'NotIn',
                values: ['kube-system', 'kube-public'],
              },
            ],
          },
          objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] },
        },
      ]),
    ]);
    await c.core.createNamespacedService({ namespace: 'kube-system', body: service('sys') });
    await c.core.createNamespacedService({
      namespace: 'apps',
      body: service('skipped', {}, { labels: { skip: 'yes' } }),
    });
    assert.equal(reviews('/sel').length, 0);
    await c.core.createNamespacedService({ namespace: 'apps', body: service('seen') });
    await c.core.createNamespacedService({ namespace: 'default', body: service('seen') });
    assert.deepEqual(
      reviews('/sel').map((r) => r.body.request.namespace),
      ['apps', 'default'],
    );
  });

  it('honours failurePolicy for an unreachable webhook: Ignore proceeds, Fail answers 500', async () => {
    const dead = 'http://127.0.0.1:1/dead';
    c.emu.setWebhooks([
      webhookConfig('ign', [
        {
          name: 'ignore.example.com',
          clientConfig: { url: dead },
          rules: [servicesRule],
          failurePolicy: 'Ignore',
        },
      ]),
    ]);
    const ok = await c.core.createNamespacedService({
      namespace: 'apps',
      body: service('ignored'),
    });
    assert.equal(ok.metadata?.name, 'ignored');
    assert.match(c.emu.admissionCalls[0]!.error!, /failed calling webhook "ignore.example.com"/);

    c.emu.setWebhooks([
      webhookConfig('fail', [
        { name: 'fail.example.com', clientConfig: { url: dead }, rules: [servicesRule] },
      ]),
    ]);
    const f = await failure(
      c.core.createNamespacedService({ namespace: 'apps', body: service('failed') }),
    );
    assert.equal(f.code, 500);
    assert.equal(f.body.reason, 'InternalError');
    assert.match(
      f.body.message,
      /^Internal error occurred: failed calling webhook "fail\.example\.com": failed to call webhook: Post "http:\/\/127\.0\.0\.1:1\/dead\?timeout=10s": .*connection refused/,
    );
    await failure(c.core.readNamespacedService({ name: 'failed', namespace: 'apps' })).then((x) =>
      assert.equal(x.code, 404),
    );
  });

  it('times out after timeoutSeconds', async () => {
    modes.set('/slow', { allowed: true, delayMs: 1500 });
    c.emu.setWebhooks([
      webhookConfig('slow', [
        {
          name: 'slow.example.com',
          clientConfig: { url: `${hook.url}/slow` },
          rules: [servicesRule],
          timeoutSeconds: 1,
        },
      ]),
    ]);
    const t0 = Date.now();
    const f = await failure(
      c.core.createNamespacedService({ namespace: 'apps', body: service('slow') }),
    );
    const took = Date.now() - t0;
    assert.equal(f.code, 500);
    assert.match(f.body.message, /failed calling webhook "slow\.example\.com"/);
    // the webhook would have allowed it after 1.5 s: a 500 proves the 1 s timeout cut it off
    assert.ok(took >= 900 && took < 2500, `took ${took} ms`);
  });

  it('fails a denied request with the webhook status, and passes warnings as Warning headers', async () => {
    modes.set('/deny', {
      allowed: false,
      status: { code: 403, message: 'service names must be approved' },
    });
    c.emu.setWebhooks([
      webhookConfig('deny', [
        {
          name: 'deny.example.com',
          clientConfig: { url: `${hook.url}/deny` },
          rules: [servicesRule],
        },
      ]),
    ]);
    const f = await failure(
      c.core.createNamespacedService({ namespace: 'apps', body: service('denied') }),
    );
    assert.equal(f.code, 403);
    assert.equal(f.body.kind, 'Status');
    assert.equal(f.body.status, 'Failure');
    assert.equal(
      f.body.message,
      'admission webhook "deny.example.com" denied the request: service names must be approved',
    );
    assert.equal(f.body.code, 403);

    modes.set('/deny', { allowed: false });
    const bare = await failure(
      c.core.createNamespacedService({ namespace: 'apps', body: service('denied') }),
    );
    assert.equal(bare.code, 403);
    assert.equal(
      bare.body.message,
      'admission webhook "deny.example.com" denied the request without explanation',
    );

    modes.set('/deny', { allowed: true, warnings: ['port name "x" unknown', 'second'] });
    const r = await raw(c.emu, 'POST', '/api/v1/namespaces/apps/services', service('warned'));
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('warning'), '299 - "port name \\"x\\" unknown", 299 - "second"');
  });

  it('treats a response with a different uid as a call error', async () => {
    modes.set('/baduid', { allowed: true, badUid: true });
    c.emu.setWebhooks([
      webhookConfig('uid', [
        {
          name: 'uid.example.com',
          clientConfig: { url: `${hook.url}/baduid` },
          rules: [servicesRule],
        },
      ]),
    ]);
    const f = await failure(
      c.core.createNamespacedService({ namespace: 'apps', body: service('uid') }),
    );
    assert.equal(f.code, 500);
    assert.match(f.body.message, /expected response\.uid=".*", got "not-the-uid"/);
  });

  it('sends dry runs only to webhooks without side effects', async () => {
    c.emu.setWebhooks([
      webhookConfig('dry', [
        {
          name: 'dry.example.com',
          clientConfig: { url: `${hook.url}/dry` },
          rules: [servicesRule],
        },
      ]),
    ]);
    await c.core.createNamespacedService({
      namespace: 'apps',
      body: service('dry'),
      dryRun: 'All',
    });
    const rq = reviews('/dry')[0]!.body.request;
    assert.equal(rq.dryRun, true);
    assert.deepEqual(rq.options.dryRun, ['All']);

    c.emu.setWebhooks([
      webhookConfig('some', [
        {
          name: 'some.example.com',
          clientConfig: { url: `${hook.url}/some` },
          rules: [servicesRule],
          sideEffects: 'Some',
        },
      ]),
    ]);
    const f = await failure(
      c.core.createNamespacedService({ namespace: 'apps', body: service('dry'), dryRun: 'All' }),
    );
    assert.equal(f.code, 400);
    assert.equal(f.body.message, 'admission webhook "some.example.com" does not support dry run');
    assert.equal(reviews('/some').length, 0);
  });

  it('takes ValidatingWebhookConfigurations created through the API into effect', async () => {
    const cfg = webhookConfig('from-api', [
      {
        name: 'api.example.com',
        clientConfig: { url: `${hook.url}/api-hook` },
        rules: [
          {
            apiGroups: ['discovery.k8s.io'],
            apiVersions: ['v1'],
            operations: ['*'],
            resources: ['endpointslices'],
          },
        ],
      },
    ]) as any;
    const created = await c.admissionreg.createValidatingWebhookConfiguration({ body: cfg });
    assert.equal(created.webhooks?.[0]?.failurePolicy, 'Fail', 'failurePolicy defaults to Fail');
    assert.equal(created.webhooks?.[0]?.timeoutSeconds, 10);
    await c.discovery.createNamespacedEndpointSlice({
      namespace: 'apps',
      body: { metadata: { name: 'es' }, addressType: 'IPv4', endpoints: [] },
    });
    const rq = reviews('/api-hook')[0]!.body.request;
    assert.deepEqual(rq.resource, {
      group: 'discovery.k8s.io',
      version: 'v1',
      resource: 'endpointslices',
    });
    assert.equal(rq.kind.kind, 'EndpointSlice');
    await c.admissionreg.deleteValidatingWebhookConfiguration({ name: 'from-api' });
  });
});
