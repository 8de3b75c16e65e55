// Ingress events (docs/reference.md "Ingress"): admission reviews name the Services the Ingress
// names now and named before; audit events on ingresses(/status) are Ingress writes; an Ingress
// no API server would store is invalid (allowed with a warning, nothing written).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAdmissionReview } from '../../src/events/admission.js';
import { decodeAuditEventList } from '../../src/events/audit.js';
import { validateIngress } from '../../src/events/validate.js';

const ing = (rules: { host?: string; svc: string; path?: string }[], tls?: string[]) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'front', namespace: 'shop' },
  spec: {
    rules: rules.map((r) => ({
      ...(r.host ? { host: r.host } : {}),
      http: {
        paths: [
          {
            path: r.path ?? '/',
            pathType: 'Prefix',
            backend: { service: { name: r.svc, port: { number: 80 } } },
          },
        ],
      },
    })),
    ...(tls ? { tls: [{ hosts: tls }] } : {}),
  },
});

const review = (operation: string, object: unknown, oldObject: unknown, subResource?: string) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'u1',
    kind: { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' },
    resource: { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' },
    ...(subResource ? { subResource } : {}),
    name: 'front',
    namespace: 'shop',
    operation,
    object,
    oldObject,
  },
});

test('admission: an Ingress UPDATE names the Services of the object and of the old object', () => {
  const event = decodeAdmissionReview(
    review(
      'UPDATE',
      ing([
        { host: 'a.example.com', svc: 'web' },
        { host: 'b.example.com', svc: 'x', path: '/x' },
      ]),
      ing([
        { host: 'a.example.com', svc: 'api' },
        { host: 'c.example.com', svc: 'web' },
      ]),
    ),
  );
  assert.equal(event.kind, 'ingress');
  if (event.kind !== 'ingress') return;
  assert.deepEqual(event.ref, { namespace: 'shop', name: 'front' });
  assert.deepEqual(event.services, [
    { namespace: 'shop', name: 'web' },
    { namespace: 'shop', name: 'api' },
  ]);
});

test('admission: DELETE names the old object’s Services; status updates count', () => {
  const del = decodeAdmissionReview(review('DELETE', null, ing([{ host: 'a.b', svc: 'web' }])));
  assert.equal(del.kind, 'ingress');
  if (del.kind === 'ingress') {
    assert.equal(del.object, null);
    assert.deepEqual(del.services, [{ namespace: 'shop', name: 'web' }]);
  }
  const status = decodeAdmissionReview(
    review(
      'UPDATE',
      ing([{ host: 'a.b', svc: 'web' }]),
      ing([{ host: 'a.b', svc: 'web' }]),
      'status',
    ),
  );
  assert.equal(status.kind, 'ingress');
});

test('admission: an invalid Ingress (bad host, IP host, bad TLS host) is invalid, not synced', () => {
  for (const [object, field] of [
    [ing([{ host: 'Not_A_Host', svc: 'web' }]), 'spec.rules[0].host'],
    [ing([{ host: '10.0.0.1', svc: 'web' }]), 'spec.rules[0].host'],
    [ing([{ host: 'a.example.com', svc: 'web' }], ['*bad']), 'spec.tls[0].hosts[0]'],
    [
      ing([{ host: 'a.example.com', svc: 'Web_1' }]),
      'spec.rules[0].http.paths[0].backend.service.name',
    ],
  ] as const) {
    const event = decodeAdmissionReview(review('CREATE', object, null));
    assert.equal(event.kind, 'invalid', field);
    if (event.kind === 'invalid') {
      assert.equal(event.what, 'Ingress');
      assert.ok(
        event.problems.some((p) => p.field === field),
        JSON.stringify(event.problems),
      );
    }
  }
  assert.deepEqual(
    validateIngress(ing([{ host: '*.example.com', svc: 'web' }], ['*.example.com'])),
    [],
  );
  assert.deepEqual(validateIngress(ing([{ svc: 'web' }])), []);
});

test('audit: ingress writes (spec and status) are Ingress writes with the Services they name', () => {
  const ev = (verb: string, sub?: string, responseObject?: unknown) => ({
    stage: 'ResponseComplete',
    verb,
    requestURI: '/apis/networking.k8s.io/v1/namespaces/shop/ingresses/front',
    objectRef: {
      resource: 'ingresses',
      apiGroup: 'networking.k8s.io',
      namespace: 'shop',
      name: 'front',
      ...(sub ? { subresource: sub } : {}),
    },
    responseStatus: { code: 200 },
    ...(responseObject ? { responseObject } : {}),
  });
  const batch = decodeAuditEventList({
    apiVersion: 'audit.k8s.io/v1',
    kind: 'EventList',
    items: [
      ev('update', undefined, ing([{ host: 'a.b', svc: 'web' }])),
      ev('update', 'status', ing([{ host: 'a.b', svc: 'api' }])),
      ev('delete', undefined, { kind: 'Status', status: 'Success' }),
      ev('get'),
    ],
  });
  assert.deepEqual(batch.services, []);
  assert.deepEqual(batch.ingresses, [
    {
      namespace: 'shop',
      name: 'front',
      services: [
        { namespace: 'shop', name: 'web' },
        { namespace: 'shop', name: 'api' },
      ],
    },
  ]);
  assert.equal(batch.processed, 3);
  assert.equal(batch.ignored, 1);
});
