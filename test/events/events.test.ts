import fc from 'fast-check';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admissionResponse, decodeAdmissionReview } from '../../src/events/admission.js';
import { decodeAuditEventList } from '../../src/events/audit.js';
import {
  decodeCountedServicesView,
  decodeServicesView,
  servicesViewSchema,
} from '../../src/events/services-view.js';
import { SyncError } from '../../src/errors.js';
import {
  admissionReview,
  auditEvent,
  endpointSlice,
  eventList,
  service,
} from '../fixtures/reviews.js';

const lb = service('shop', 'web', { type: 'LoadBalancer', ports: [{ port: 80 }] });

test('admission: Service CREATE/UPDATE carry the object to be stored', () => {
  const create = decodeAdmissionReview(
    admissionReview({ operation: 'CREATE', namespace: 'shop', name: 'web', object: lb }),
  );
  assert.equal(create.kind, 'service');
  assert.ok(create.kind === 'service');
  assert.deepEqual(create.ref, { namespace: 'shop', name: 'web' });
  assert.equal(create.operation, 'CREATE');
  assert.equal(create.object, (create.object as object) && create.object);
  assert.equal((create.object as { spec: { type: string } }).spec.type, 'LoadBalancer');
  assert.equal(create.dryRun, false);
});

test('admission: CREATE with generateName has an empty request name; the object names it', () => {
  const obj = service('shop', 'web-x7k2p', { type: 'NodePort', ports: [{ port: 80 }] });
  const review = admissionReview({ operation: 'CREATE', namespace: 'shop', name: '', object: obj });
  const event = decodeAdmissionReview(review);
  assert.ok(event.kind === 'service');
  assert.equal(event.ref.name, 'web-x7k2p');
});

test('admission: DELETE has object null; the oldObject names the service', () => {
  const event = decodeAdmissionReview(
    admissionReview({ operation: 'DELETE', namespace: 'shop', name: 'web', oldObject: lb }),
  );
  assert.ok(event.kind === 'service');
  assert.equal(event.object, null);
  assert.equal(event.operation, 'DELETE');
});

test('admission: services/status is a service event', () => {
  const event = decodeAdmissionReview(
    admissionReview({
      operation: 'UPDATE',
      subResource: 'status',
      namespace: 'shop',
      name: 'web',
      object: lb,
      oldObject: lb,
    }),
  );
  assert.ok(event.kind === 'service');
  assert.equal(event.subResource, 'status');
});

test('admission: EndpointSlice events name the owning service by label', () => {
  const slice = endpointSlice('shop', 'web', 'web-abcde', [{ ip: '10.1.0.5', node: 'n1' }]);
  const event = decodeAdmissionReview(
    admissionReview({
      operation: 'UPDATE',
      resource: 'endpointslices',
      namespace: 'shop',
      name: 'web-abcde',
      object: slice,
      oldObject: slice,
    }),
  );
  assert.ok(event.kind === 'endpointslice');
  assert.deepEqual(event.ref, { namespace: 'shop', name: 'web' });
  assert.equal(event.sliceName, 'web-abcde');
  const del = decodeAdmissionReview(
    admissionReview({
      operation: 'DELETE',
      resource: 'endpointslices',
      namespace: 'shop',
      name: 'web-abcde',
      oldObject: slice,
    }),
  );
  assert.ok(del.kind === 'endpointslice');
  assert.equal(del.object, null);
});

test('admission: dryRun is carried; other resources are ignored', () => {
  const dry = decodeAdmissionReview(
    admissionReview({
      operation: 'CREATE',
      namespace: 'shop',
      name: 'web',
      object: lb,
      dryRun: true,
    }),
  );
  assert.equal(dry.dryRun, true);
  const review = admissionReview({
    operation: 'CREATE',
    namespace: 'shop',
    name: 'web',
    object: lb,
  }) as {
    request: { resource: object };
  };
  review.request.resource = { group: 'apps', version: 'v1', resource: 'deployments' };
  assert.equal(decodeAdmissionReview(review).kind, 'ignored');
});

const badReviews: [string, (r: Record<string, any>) => unknown][] = [
  ['wrong apiVersion', (r) => ({ ...r, apiVersion: 'admission.k8s.io/v1beta1' })],
  ['wrong kind', (r) => ({ ...r, kind: 'Review' })],
  ['missing request', (r) => ({ apiVersion: r.apiVersion, kind: r.kind })],
  ['missing uid', (r) => ({ ...r, request: { ...r.request, uid: undefined } })],
  ['empty uid', (r) => ({ ...r, request: { ...r.request, uid: '' } })],
  ['null request', (r) => ({ ...r, request: null })],
  ['object is a string', (r) => ({ ...r, request: { ...r.request, object: 'x' } })],
  ['unknown operation', (r) => ({ ...r, request: { ...r.request, operation: 'PATCH' } })],
  ['array body', () => []],
  ['null body', () => null],
];

for (const [name, mutate] of badReviews) {
  test(`admission: ${name} → INVALID_ADMISSION_REVIEW`, () => {
    const body = mutate(
      admissionReview({ operation: 'CREATE', namespace: 'shop', name: 'web', object: lb }),
    );
    assert.throws(
      () => decodeAdmissionReview(body),
      (err: unknown) =>
        err instanceof SyncError && err.code === 'INVALID_ADMISSION_REVIEW' && err.status === 400,
    );
  });
}

test('admission response echoes uid, always allowed, warnings bounded', () => {
  assert.deepEqual(admissionResponse('u1'), {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: 'u1', allowed: true },
  });
  const many = Array.from({ length: 20 }, (_, i) => `w${i} ${'x'.repeat(400)}`);
  const out = admissionResponse('u2', many) as { response: { warnings: string[] } };
  assert.equal(out.response.warnings.length, 10);
  assert.ok(out.response.warnings.every((w) => w.length <= 256));
});

test('audit: only completed, successful, non-dry-run writes to services/status/endpointslices; coalesced per service', () => {
  const slice = endpointSlice('shop', 'web', 'web-abcde', [{ ip: '10.1.0.5' }]);
  const batch = decodeAuditEventList(
    eventList([
      auditEvent({ verb: 'create', resource: 'services', namespace: 'shop', name: 'web' }),
      auditEvent({
        verb: 'update',
        resource: 'services',
        subresource: 'status',
        namespace: 'shop',
        name: 'web',
      }),
      auditEvent({
        verb: 'patch',
        resource: 'endpointslices',
        namespace: 'shop',
        name: 'web-abcde',
        responseObject: slice,
      }),
      auditEvent({ verb: 'delete', resource: 'services', namespace: 'shop', name: 'api' }),
      auditEvent({
        verb: 'create',
        resource: 'services',
        namespace: 'shop',
        name: 'failed',
        code: 409,
      }),
      auditEvent({
        verb: 'create',
        resource: 'services',
        namespace: 'shop',
        name: 'dry',
        dryRun: true,
      }),
      auditEvent({
        verb: 'create',
        resource: 'services',
        namespace: 'shop',
        name: 'early',
        stage: 'ResponseStarted',
      }),
      auditEvent({ verb: 'get', resource: 'services', namespace: 'shop', name: 'web' }),
      auditEvent({ verb: 'create', resource: 'pods', namespace: 'shop', name: 'p' }),
      // A slice DELETE is answered with a Status: no label; the generated name names the service.
      auditEvent({
        verb: 'delete',
        resource: 'endpointslices',
        namespace: 'shop',
        name: 'cart-x7k2p',
      }),
      auditEvent({
        verb: 'patch',
        resource: 'endpointslices',
        namespace: 'shop',
        name: 'nolabel-1',
      }),
    ]),
  );
  assert.deepEqual(batch.services, [
    { namespace: 'shop', name: 'web' },
    { namespace: 'shop', name: 'api' },
    { namespace: 'shop', name: 'cart' },
  ]);
  assert.equal(batch.processed, 5);
  assert.equal(batch.ignored, 6);
});

test('audit: malformed lists are refused', () => {
  for (const body of [
    { kind: 'EventList', apiVersion: 'audit.k8s.io/v1beta1', items: [] },
    { kind: 'Event', apiVersion: 'audit.k8s.io/v1', items: [] },
    { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [{ stage: 5 }] },
    { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: 'x' },
  ]) {
    assert.throws(
      () => decodeAuditEventList(body),
      (err: unknown) => err instanceof SyncError && err.code === 'INVALID_AUDIT_EVENT_LIST',
    );
  }
  assert.deepEqual(
    decodeAuditEventList({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: null })
      .services,
    [],
  );
});

test('services view: object of string arrays; anything else is refused', () => {
  assert.deepEqual(decodeServicesView({ consul: [], web: ['v1', 'k8s'] }), {
    consul: [],
    web: ['v1', 'k8s'],
  });
  assert.deepEqual(decodeServicesView({ web: null }), { web: [] });
  assert.deepEqual(decodeCountedServicesView({ consul: [], web: null, db: ['v1'] }), {
    view: { consul: [], web: [], db: ['v1'] },
    names: 3,
  });
  for (const bad of [[], null, 'x', 5, { web: 'v1' }, { web: [1] }, { web: [{}] }, { '': [] }]) {
    assert.throws(
      () => decodeServicesView(bad),
      (err: unknown) =>
        err instanceof SyncError && err.code === 'INVALID_SERVICES_VIEW' && err.status === 400,
      JSON.stringify(bad),
    );
  }
});

test('services view: the one-pass check accepts exactly what the schema accepts, with the same result', () => {
  const tag = fc.oneof(fc.string({ maxLength: 4 }), fc.string({ minLength: 510, maxLength: 514 }));
  const value = fc.oneof(
    fc.constant(null),
    fc.array(tag, { maxLength: 3 }),
    fc.array(fc.oneof(tag, fc.integer(), fc.constant(null)), { maxLength: 3 }),
    fc.array(fc.constant('t'), { minLength: 1023, maxLength: 1026 }),
    fc.string(),
    fc.integer(),
    fc.object(),
  );
  const key = fc.oneof(fc.string({ maxLength: 6 }), fc.string({ minLength: 511, maxLength: 513 }));
  fc.assert(
    fc.property(fc.dictionary(key, value, { maxKeys: 6 }), (body) => {
      const expected = servicesViewSchema.safeParse(body);
      let got: unknown;
      try {
        got = decodeServicesView(body);
      } catch (err) {
        assert.ok(!expected.success, `refused what the schema accepts: ${String(err)}`);
        assert.ok(err instanceof SyncError && err.code === 'INVALID_SERVICES_VIEW');
        return;
      }
      assert.ok(expected.success, 'accepted what the schema refuses');
      const want = Object.fromEntries(Object.entries(expected.data).map(([k, v]) => [k, v ?? []]));
      // The body becomes the view (fast-check's dictionaries may have a null prototype).
      assert.deepEqual({ ...(got as object) }, want);
    }),
    { numRuns: 500 },
  );
});
