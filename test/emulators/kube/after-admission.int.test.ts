// Writes that every validating webhook allowed but the API server still refuses or is slow to
// commit (KubeEmulator.afterAdmission), and concurrency of webhooks and commits across requests.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import {
  failure,
  json,
  raw,
  service,
  startCluster,
  startReceiver,
  waitFor,
  type Cluster,
  type Receiver,
} from './helpers.js';

const OPTIMISTIC =
  'the object has been modified; please apply your changes to the latest version and try again';
const TIMEOUT_MESSAGE =
  'Timeout: request did not complete within requested timeout - context deadline exceeded';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function webhookConfig(url: string, resources: Record<string, unknown>[]): unknown {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'recorder' },
    webhooks: [
      {
        name: 'recorder.example.com',
        clientConfig: { url },
        rules: resources,
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
      },
    ],
  };
}

const ops = ['CREATE', 'UPDATE', 'DELETE'];
const servicesRule = {
  apiGroups: [''],
  apiVersions: ['v1'],
  operations: ops,
  resources: ['services', 'services/status'],
};
const slicesRule = {
  apiGroups: ['discovery.k8s.io'],
  apiVersions: ['v1'],
  operations: ops,
  resources: ['endpointslices'],
};

/** A webhook server that allows everything, optionally after holding each review. */
async function recordingWebhook() {
  const state = { holdMs: 0, inFlight: 0, maxInFlight: 0, spans: [] as [number, number][] };
  const hook = await startReceiver(async (r, res) => {
    const start = performance.now();
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    if (state.holdMs) await sleep(state.holdMs);
    state.inFlight--;
    state.spans.push([start, performance.now()]);
    json(res, 200, {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: r.body.request.uid, allowed: true },
    });
  });
  return { hook, state };
}

function watchServices(c: Cluster, namespace: string, resourceVersion: string) {
  const events: [string, string][] = [];
  const started = new Watch(c.kc).watch(
    `/api/v1/namespaces/${namespace}/services`,
    { resourceVersion },
    (type, obj) => events.push([type, obj.metadata.name]),
    () => {},
  );
  return { events, stop: async () => (await started).abort() };
}

describe('kube emulator: refusals and slow commits after admission', () => {
  let c: Cluster;
  let hook: Receiver;
  let hookState: Awaited<ReturnType<typeof recordingWebhook>>['state'];
  let sink: Receiver;
  /** the AdmissionReviews the webhook got for this operation and object name */
  const reviews = (operation: string, name: string) =>
    hook.requests
      .map((r) => r.body.request)
      .filter((rq) => rq.operation === operation && rq.name === name);
  const read = (name: string) => c.core.readNamespacedService({ name, namespace: 'apps' });
  const create = (name: string, spec: Record<string, unknown> = {}) =>
    c.core.createNamespacedService({ namespace: 'apps', body: service(name, spec) });
  const label = (name: string, labels: Record<string, string>) =>
    c.core.patchNamespacedService(
      { name, namespace: 'apps', body: { metadata: { labels } } },
      mergePatch,
    );
  const listRv = async () =>
    (await c.core.listNamespacedService({ namespace: 'apps' })).metadata!.resourceVersion!;

  before(async () => {
    ({ hook, state: hookState } = await recordingWebhook());
    sink = await startReceiver((_r, res) => json(res, 200, {}));
    c = await startCluster({
      admission: { webhooks: [webhookConfig(`${hook.url}/review`, [servicesRule])] },
      audit: { url: `${sink.url}/audit`, batchMaxWaitMs: 10 },
    });
    await c.core.createNamespace({ body: { metadata: { name: 'apps' } } });
  });
  after(async () => {
    await c.emu.close();
    await hook.close();
    await sink.close();
  });
  beforeEach(() => {
    c.emu.afterAdmission.clear();
    hook.requests.length = 0;
    c.emu.admissionCalls.length = 0;
    hookState.holdMs = 0;
    hookState.maxInFlight = 0;
    hookState.spans.length = 0;
  });

  it('refuses an allowed create with ResourceQuota’s 403: nothing stored, no event, audited', async () => {
    c.emu.afterAdmission.add({
      resource: 'services',
      operation: 'CREATE',
      name: 'web',
      refuse: {
        cause: 'quota',
        quota: 'object-counts',
        used: { services: 10 },
        limited: { services: 10 },
      },
    });
    const rvBefore = await listRv();
    const w = watchServices(c, 'apps', rvBefore);
    await sleep(50);
    const f = await failure(create('web', { clusterIP: '10.96.200.7' }));
    assert.equal(f.code, 403);
    assert.deepEqual(f.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'services "web" is forbidden: exceeded quota: object-counts, requested: services=1, used: services=10, limited: services=10',
      reason: 'Forbidden',
      details: { name: 'web', kind: 'services' },
      code: 403,
    });
    assert.equal(reviews('CREATE', 'web').length, 1, 'the webhook was called first');
    assert.deepEqual(
      c.emu.admissionCalls.map((x) => [x.operation, x.name, x.allowed]),
      [['CREATE', 'web', true]],
    );
    assert.equal((await failure(read('web'))).code, 404);
    assert.equal(await listRv(), rvBefore, 'no resourceVersion was used');

    // the refused create's clusterIP allocation was released
    const taken = await create('web-ip', { clusterIP: '10.96.200.7' });
    assert.equal(taken.spec?.clusterIP, '10.96.200.7');
    await waitFor(() => w.events.length >= 1, 'the next event');
    await sleep(50);
    assert.deepEqual(w.events, [['ADDED', 'web-ip']], 'no event for the refused create');
    await w.stop();

    const ev = await waitFor(
      () =>
        sink.requests
          .flatMap((r) => r.body.items)
          .find((e: any) => e.verb === 'create' && e.objectRef.name === 'web'),
      'audit event of the refused create',
    );
    assert.equal(ev.stage, 'ResponseComplete');
    assert.equal(ev.responseStatus.code, 403);
    assert.equal(ev.responseStatus.reason, 'Forbidden');
    assert.match(ev.responseStatus.message, /exceeded quota: object-counts/);
  });

  it('answers each refusal cause with the Status body of a real API server', async () => {
    const cases: [string, any, number, any][] = [
      [
        'late-webhook',
        {
          cause: 'webhook',
          webhook: 'policy.example.com',
          status: { code: 403, reason: 'Forbidden', message: 'services need an owner label' },
        },
        403,
        {
          message:
            'admission webhook "policy.example.com" denied the request: services need an owner label',
          reason: 'Forbidden',
        },
      ],
      [
        'late-invalid',
        {
          cause: 'invalid',
          causes: [{ field: 'spec.ports[0].port', value: 80, detail: 'port 80 is reserved' }],
        },
        422,
        {
          message:
            'Service "late-invalid" is invalid: spec.ports[0].port: Invalid value: 80: port 80 is reserved',
          reason: 'Invalid',
          details: {
            name: 'late-invalid',
            kind: 'Service',
            causes: [
              {
                reason: 'FieldValueInvalid',
                message: 'Invalid value: 80: port 80 is reserved',
                field: 'spec.ports[0].port',
              },
            ],
          },
        },
      ],
      [
        'late-conflict',
        { cause: 'conflict' },
        409,
        {
          message: `Operation cannot be fulfilled on services "late-conflict": ${OPTIMISTIC}`,
          reason: 'Conflict',
          details: { name: 'late-conflict', kind: 'services' },
        },
      ],
      [
        'late-timeout',
        { cause: 'timeout' },
        504,
        { message: TIMEOUT_MESSAGE, reason: 'Timeout', details: {} },
      ],
    ];
    for (const [name, refuse, code, expected] of cases) {
      c.emu.afterAdmission.add({ resource: 'services', name, times: 1, refuse });
      const f = await failure(create(name));
      assert.equal(f.code, code, name);
      assert.deepEqual(
        f.body,
        { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', ...expected, code },
        name,
      );
      assert.equal(reviews('CREATE', name).length, 1, `${name}: the webhook was called`);
      assert.equal((await failure(read(name))).code, 404, `${name}: nothing stored`);
    }
  });

  it('leaves the stored object unchanged when an update or patch is refused', async () => {
    const before = await create('upd');
    c.emu.afterAdmission.add({
      resource: 'services',
      name: 'upd',
      operation: 'UPDATE',
      refuse: { cause: 'webhook', webhook: 'freeze.example.com', status: { message: 'frozen' } },
    });
    const f = await failure(label('upd', { v: '2' }));
    assert.equal(f.code, 403);
    assert.equal(
      f.body.message,
      'admission webhook "freeze.example.com" denied the request: frozen',
    );
    const put = await failure(
      c.core.replaceNamespacedService({
        name: 'upd',
        namespace: 'apps',
        body: { ...before, metadata: { ...before.metadata, labels: { v: '3' } } },
      }),
    );
    assert.equal(put.code, 403);
    assert.equal(reviews('UPDATE', 'upd').length, 2, 'both writes were admitted first');
    const now = await read('upd');
    assert.equal(now.metadata?.resourceVersion, before.metadata?.resourceVersion);
    assert.equal(now.metadata?.labels, undefined);
  });

  it('keeps the object when its delete is refused', async () => {
    const before = await create('del');
    c.emu.afterAdmission.add({
      resource: 'services',
      name: 'del',
      operation: 'DELETE',
      refuse: { cause: 'timeout' },
    });
    const f = await failure(c.core.deleteNamespacedService({ name: 'del', namespace: 'apps' }));
    assert.equal(f.code, 504);
    assert.equal(f.body.message, TIMEOUT_MESSAGE);
    assert.equal(reviews('DELETE', 'del').length, 1);
    const now = await read('del');
    assert.equal(now.metadata?.uid, before.metadata?.uid);
    assert.equal(now.metadata?.resourceVersion, before.metadata?.resourceVersion);
    assert.equal(now.metadata?.deletionTimestamp, undefined);
  });

  it('matches by namespace, name, operation and subresource', async () => {
    await create('m');
    const conflictRefusal = { cause: 'conflict' } as const;
    c.emu.afterAdmission.add({ resource: 'services', namespace: 'other', refuse: conflictRefusal });
    c.emu.afterAdmission.add({ resource: 'services', name: 'not-m', refuse: conflictRefusal });
    c.emu.afterAdmission.add({
      resource: 'services',
      operation: 'DELETE',
      refuse: conflictRefusal,
    });
    c.emu.afterAdmission.add({ resource: 'endpointslices', refuse: conflictRefusal });
    await label('m', { a: '1' });
    c.emu.afterAdmission.add({
      resource: 'services',
      subresource: 'status',
      name: 'm',
      refuse: conflictRefusal,
    });
    await label('m', { b: '2' }); // the main resource is not the status subresource
    const status = await failure(
      c.core.patchNamespacedServiceStatus(
        { name: 'm', namespace: 'apps', body: { status: { conditions: [] } } },
        mergePatch,
      ),
    );
    assert.equal(status.code, 409);
    assert.equal(reviews('UPDATE', 'm').length, 3);
    assert.equal(
      (await failure(c.core.deleteNamespacedService({ name: 'm', namespace: 'apps' }))).code,
      409,
    );
  });

  it('applies a rule `times` times, and not after clear()', async () => {
    c.emu.afterAdmission.add({
      resource: 'services',
      name: 't',
      times: 2,
      refuse: { cause: 'conflict' },
    });
    assert.equal((await failure(create('t'))).code, 409);
    assert.equal((await failure(create('t'))).code, 409);
    assert.equal((await create('t')).metadata?.name, 't');

    c.emu.afterAdmission.add({ resource: 'services', name: 't', refuse: { cause: 'conflict' } });
    const del = () => c.core.deleteNamespacedService({ name: 't', namespace: 'apps' });
    assert.equal((await failure(del())).code, 409);
    assert.equal((await failure(del())).code, 409);
    c.emu.afterAdmission.clear();
    await del();
    assert.equal((await failure(read('t'))).code, 404);
  });

  it('holds a slow commit without blocking others: the old object is served until it answers', async () => {
    await create('slow');
    c.emu.afterAdmission.add({
      resource: 'services',
      name: 'slow',
      operation: 'UPDATE',
      delayMs: 600,
    });
    let answered = false;
    const t0 = performance.now();
    const patching = label('slow', { v: 'new' }).then((s) => {
      answered = true;
      return s;
    });
    await waitFor(() => reviews('UPDATE', 'slow').length === 1, 'the update review');
    await sleep(100);
    assert.equal(answered, false, 'the patch is still being committed');
    assert.equal((await read('slow')).metadata?.labels, undefined, 'GET shows the old object');
    const listed = await c.core.listNamespacedService({ namespace: 'apps' });
    assert.equal(
      listed.items.find((s) => s.metadata?.name === 'slow')?.metadata?.labels,
      undefined,
    );
    await create('meanwhile');
    assert.equal(answered, false, 'another write went through during the delay');
    const patched = await patching;
    assert.ok(performance.now() - t0 >= 600, 'answered after the delay');
    assert.deepEqual(patched.metadata?.labels, { v: 'new' });
    assert.deepEqual((await read('slow')).metadata?.labels, { v: 'new' });
  });

  it('answers 409 AlreadyExists when the name was taken during a slow create', async () => {
    c.emu.afterAdmission.add({ resource: 'services', name: 'race', times: 1, delayMs: 500 });
    const slow = failure(create('race', { ports: [{ name: 'http', port: 80 }] }));
    await waitFor(() => reviews('CREATE', 'race').length === 1, 'the slow create’s review');
    const winner = await create('race', { ports: [{ name: 'http', port: 81 }] });
    const f = await slow;
    assert.equal(f.code, 409);
    assert.deepEqual(f.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'services "race" already exists',
      reason: 'AlreadyExists',
      details: { name: 'race', kind: 'services' },
      code: 409,
    });
    const stored = await read('race');
    assert.equal(stored.metadata?.uid, winner.metadata?.uid);
    assert.equal(stored.spec?.ports?.[0]?.port, 81);
  });

  it('answers 409 Conflict when a conditional update’s object changed during a slow commit', async () => {
    const current = await create('cond');
    c.emu.afterAdmission.add({
      resource: 'services',
      name: 'cond',
      operation: 'UPDATE',
      times: 1,
      delayMs: 500,
    });
    const slow = failure(
      c.core.replaceNamespacedService({
        name: 'cond',
        namespace: 'apps',
        body: { ...current, metadata: { ...current.metadata, labels: { from: 'replace' } } },
      }),
    );
    await waitFor(() => reviews('UPDATE', 'cond').length === 1, 'the replace’s review');
    await label('cond', { from: 'patch' });
    const f = await slow;
    assert.equal(f.code, 409);
    assert.equal(f.body.reason, 'Conflict');
    assert.equal(f.body.message, `Operation cannot be fulfilled on services "cond": ${OPTIMISTIC}`);
    assert.deepEqual(f.body.details, { name: 'cond', kind: 'services' });
    assert.deepEqual((await read('cond')).metadata?.labels, { from: 'patch' });
  });

  it('re-applies an unconditional patch on the object a concurrent write left, admitting it again', async () => {
    await create('merge');
    c.emu.afterAdmission.add({
      resource: 'services',
      name: 'merge',
      operation: 'UPDATE',
      times: 1,
      delayMs: 500,
    });
    const slow = label('merge', { a: '1' });
    await waitFor(() => reviews('UPDATE', 'merge').length === 1, 'the slow patch’s review');
    await label('merge', { b: '2' });
    const patched = await slow;
    assert.deepEqual(patched.metadata?.labels, { a: '1', b: '2' });
    const updates = reviews('UPDATE', 'merge');
    assert.equal(updates.length, 3, 'slow patch, fast patch, slow patch again');
    assert.deepEqual(updates[2].oldObject.metadata.labels, { b: '2' });
    assert.deepEqual(updates[2].object.metadata.labels, { a: '1', b: '2' });
  });

  it('answers 404 when the object was deleted during a slow update', async () => {
    await create('gone');
    c.emu.afterAdmission.add({
      resource: 'services',
      name: 'gone',
      operation: 'UPDATE',
      delayMs: 400,
    });
    const slow = failure(label('gone', { a: '1' }));
    await waitFor(() => reviews('UPDATE', 'gone').length === 1, 'the slow patch’s review');
    await c.core.deleteNamespacedService({ name: 'gone', namespace: 'apps' });
    const f = await slow;
    assert.equal(f.code, 404);
    assert.equal(f.body.message, 'services "gone" not found');
  });

  it('delays, then refuses, when a rule has both', async () => {
    c.emu.afterAdmission.add({
      resource: 'services',
      name: 'slowfail',
      delayMs: 400,
      refuse: { cause: 'timeout' },
    });
    const t0 = performance.now();
    const f = await failure(create('slowfail'));
    assert.ok(performance.now() - t0 >= 400);
    assert.equal(f.code, 504);
    assert.equal(f.body.reason, 'Timeout');
    assert.equal((await failure(read('slowfail'))).code, 404);
  });

  it('stores the write of a committed timeout and still answers 504', async () => {
    c.emu.afterAdmission.add({
      resource: 'services',
      name: 'outlived',
      refuse: { cause: 'timeout', committed: true },
    });
    const f = await failure(create('outlived'));
    assert.equal(f.code, 504);
    assert.equal(f.body.message, TIMEOUT_MESSAGE);
    assert.equal((await read('outlived')).metadata?.name, 'outlived');
  });

  it('leaves dry-run requests alone unless the rule opts in', async () => {
    c.emu.afterAdmission.add({
      resource: 'services',
      name: 'dry',
      times: 1,
      delayMs: 1500,
      refuse: { cause: 'conflict' },
    });
    const t0 = performance.now();
    const dry = await c.core.createNamespacedService({
      namespace: 'apps',
      body: service('dry'),
      dryRun: 'All',
    });
    assert.equal(dry.metadata?.name, 'dry');
    assert.ok(performance.now() - t0 < 1000, 'not delayed');
    assert.equal(reviews('CREATE', 'dry')[0].dryRun, true);
    assert.equal((await failure(create('dry'))).code, 409, 'the rule was not used up');

    c.emu.afterAdmission.add({
      resource: 'services',
      name: 'dry2',
      dryRun: true,
      refuse: { cause: 'conflict' },
    });
    const f = await failure(
      c.core.createNamespacedService({ namespace: 'apps', body: service('dry2'), dryRun: 'All' }),
    );
    assert.equal(f.code, 409);
  });

  it('calls the webhooks of concurrent requests concurrently, and overlaps their slow commits', async () => {
    hookState.holdMs = 400;
    let t0 = performance.now();
    await Promise.all([create('par-1'), create('par-2')]);
    let took = performance.now() - t0;
    assert.equal(hookState.maxInFlight, 2, 'both reviews were held at once');
    const [a, b] = hookState.spans;
    assert.ok(a && b && b[0] < a[1] && a[0] < b[1], 'the two review spans overlap');
    assert.ok(took < 800, `two 400 ms reviews took ${Math.round(took)} ms (serial: >= 800)`);

    hookState.holdMs = 0;
    c.emu.afterAdmission.add({
      resource: 'services',
      namespace: 'apps',
      operation: 'CREATE',
      delayMs: 400,
    });
    t0 = performance.now();
    await Promise.all([create('par-3'), create('par-4')]);
    took = performance.now() - t0;
    assert.ok(took >= 400 && took < 800, `two 400 ms commits took ${Math.round(took)} ms`);
    assert.equal((await read('par-4')).metadata?.name, 'par-4');
  });

  it('applies to raw HTTP clients as to client-node', async () => {
    c.emu.afterAdmission.add({ resource: 'services', name: 'raw', refuse: { cause: 'conflict' } });
    const r = await raw(c.emu, 'POST', '/api/v1/namespaces/apps/services', service('raw'));
    assert.equal(r.status, 409);
    assert.equal(r.body.reason, 'Conflict');
    assert.equal((await raw(c.emu, 'GET', '/api/v1/namespaces/apps/services/raw')).status, 404);
  });
});

describe('kube emulator: after-admission rules and the built-in controllers', () => {
  let c: Cluster;
  let hook: Receiver;
  before(async () => {
    ({ hook } = await recordingWebhook());
    c = await startCluster({
      admission: { webhooks: [webhookConfig(`${hook.url}/review`, [slicesRule])] },
      controllers: { endpointSlices: true },
    });
  });
  after(async () => {
    await c.emu.close();
    await hook.close();
  });

  it('refuses the EndpointSlice controller’s writes too, until cleared', async () => {
    c.emu.afterAdmission.add({
      resource: 'endpointslices',
      operation: 'CREATE',
      refuse: {
        cause: 'quota',
        quota: 'counts',
        used: { 'count/endpointslices.discovery.k8s.io': 5 },
        limited: { 'count/endpointslices.discovery.k8s.io': 5 },
      },
    });
    await c.core.createNamespacedService({ namespace: 'default', body: service('ctl') });
    const slices = async () =>
      (
        await c.discovery.listNamespacedEndpointSlice({
          namespace: 'default',
          labelSelector: 'kubernetes.io/service-name=ctl',
        })
      ).items;
    await waitFor(
      () => c.emu.admissionCalls.filter((x) => x.operation === 'CREATE').length >= 2,
      'the controller’s admitted creates',
    );
    assert.ok(c.emu.admissionCalls.every((x) => x.allowed === true));
    assert.deepEqual(await slices(), [], 'admitted, refused, not stored');
    c.emu.afterAdmission.clear();
    await waitFor(async () => (await slices()).length === 1, 'the slice after clear()', 8000);
  });
});
