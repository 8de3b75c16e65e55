// The Kubernetes emulator's protobuf request bodies: bytes kubectl itself sent decode to the JSON
// kubectl would have sent (fixtures), the JSON mapping follows Go's encoder (pointers keep zero
// values, omitempty drops them, inline structs merge, Time/Quantity/IntOrString have their own
// forms), and what cannot be decoded answers the API server's Status.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeProtobufBody,
  protobufSchema,
  type DecodeContext,
} from '../../../dev/emulators/kube/protobuf.js';
import { KubeError } from '../../../dev/emulators/kube/status.js';
import { KUBECTL_BODIES } from './fixtures/kubectl-protobuf.js';

const SERVED = new Set([
  'v1/Namespace',
  'v1/Service',
  'v1/Pod',
  'v1/Node',
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration',
]);
const ctx = (kind: string, apiVersion = 'v1'): DecodeContext => ({
  kind,
  apiVersion,
  served: (v, k) => SERVED.has(`${v}/${k}`),
});

/** An envelope as client-go writes it: "k8s\0" + runtime.Unknown{typeMeta, raw}. */
function envelope(apiVersion: string, kind: string, messageName: string, fields: object): Buffer {
  const root = protobufSchema();
  const type = root.lookupType(messageName);
  const raw = type.encode(type.fromObject(fields)).finish();
  const Unknown = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  const body = Unknown.encode(
    Unknown.fromObject({
      typeMeta: { apiVersion, kind },
      raw,
      contentEncoding: '',
      contentType: '',
    }),
  ).finish();
  return Buffer.concat([Buffer.from('k8s\u0000', 'latin1'), body]);
}

function failure(fn: () => unknown): { code: number; reason: string; message: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof KubeError, String(e));
    return {
      code: e.code,
      reason: e.status.reason ?? '',
      message: e.status.message ?? '',
    };
  }
  throw new Error('expected a failure');
}

describe('kube emulator: protobuf request bodies', () => {
  for (const body of KUBECTL_BODIES) {
    it(`decodes what ${body.command} sends`, () => {
      const json = body.json as { kind: string };
      const got = decodeProtobufBody(Buffer.from(body.hex, 'hex'), ctx(json.kind));
      assert.deepEqual(got, body.json);
      // and in Go's field order, as kubectl's own JSON has it
      assert.equal(JSON.stringify(got), JSON.stringify(body.json));
    });
  }

  it('maps a Pod as Go marshals it: pointers, omitempty, inline, Time, Quantity, IntOrString', () => {
    const data = envelope('v1', 'Pod', 'k8s.io.api.core.v1.Pod', {
      metadata: {
        name: 'p',
        namespace: 'default',
        generation: 0,
        creationTimestamp: {},
        labels: { app: 'web' },
      },
      spec: {
        volumes: [
          {
            name: 'cfg',
            volumeSource: {
              configMap: { localObjectReference: { name: 'cfg' }, defaultMode: 420 },
            },
          },
        ],
        containers: [
          {
            name: 'app',
            image: 'nginx:1.27',
            ports: [{ name: '', containerPort: 8080, protocol: 'TCP', hostPort: 0 }],
            resources: { limits: { cpu: { string: '500m' } } },
            readinessProbe: {
              handler: { httpGet: { path: '/healthz', port: { type: 1, strVal: 'http' } } },
              periodSeconds: 5,
            },
            stdin: false,
          },
        ],
        terminationGracePeriodSeconds: 0,
        automountServiceAccountToken: false,
        hostNetwork: false,
        readinessGates: [{ conditionType: 'example.com/ready' }],
      },
      status: {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            lastProbeTime: {},
            lastTransitionTime: { seconds: 1700000000 },
          },
        ],
        startTime: { seconds: 1700000000, nanos: 0 },
      },
    });
    assert.deepEqual(decodeProtobufBody(data, ctx('Pod')), {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: {
        name: 'p',
        namespace: 'default',
        creationTimestamp: null,
        labels: { app: 'web' },
      },
      spec: {
        volumes: [{ name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } }],
        containers: [
          {
            name: 'app',
            image: 'nginx:1.27',
            ports: [{ containerPort: 8080, protocol: 'TCP' }],
            resources: { limits: { cpu: '500m' } },
            readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
          },
        ],
        terminationGracePeriodSeconds: 0,
        automountServiceAccountToken: false,
        readinessGates: [{ conditionType: 'example.com/ready' }],
      },
      status: {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            lastProbeTime: null,
            lastTransitionTime: '2023-11-14T22:13:20Z',
          },
        ],
        startTime: '2023-11-14T22:13:20Z',
      },
    });
  });

  it('keeps an EndpointSlice condition that is false and writes null for absent endpoints', () => {
    const slice = envelope(
      'discovery.k8s.io/v1',
      'EndpointSlice',
      'k8s.io.api.discovery.v1.EndpointSlice',
      {
        metadata: { name: 's' },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    );
    assert.deepEqual(decodeProtobufBody(slice, ctx('EndpointSlice', 'discovery.k8s.io/v1')), {
      kind: 'EndpointSlice',
      apiVersion: 'discovery.k8s.io/v1',
      metadata: { name: 's' },
      addressType: 'IPv4',
      endpoints: null,
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    });
    const withEndpoint = envelope(
      'discovery.k8s.io/v1',
      'EndpointSlice',
      'k8s.io.api.discovery.v1.EndpointSlice',
      {
        metadata: { name: 's' },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: false, serving: false } }],
      },
    );
    const got = decodeProtobufBody(withEndpoint, ctx('EndpointSlice', 'discovery.k8s.io/v1'));
    assert.deepEqual(got.endpoints, [
      { addresses: ['10.244.1.5'], conditions: { ready: false, serving: false } },
    ]);
  });

  it('decodes DeleteOptions (a grace period of 0 means now) and takes a missing kind from the request', () => {
    const data = envelope(
      'v1',
      'DeleteOptions',
      'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions',
      {
        gracePeriodSeconds: 0,
        preconditions: { uid: 'abc' },
        propagationPolicy: 'Background',
      },
    );
    assert.deepEqual(decodeProtobufBody(data, ctx('DeleteOptions')), {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      gracePeriodSeconds: 0,
      preconditions: { uid: 'abc' },
      propagationPolicy: 'Background',
    });
    const untyped = envelope('', '', 'k8s.io.api.core.v1.Namespace', { metadata: { name: 'x' } });
    assert.deepEqual(decodeProtobufBody(untyped, ctx('Namespace')), {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name: 'x' },
    });
  });

  it('answers a body without the magic prefix as the API server does (400)', () => {
    const f = failure(() =>
      decodeProtobufBody(Buffer.from('{"kind":"Namespace"}'), ctx('Namespace')),
    );
    assert.equal(f.code, 400);
    assert.equal(f.reason, 'BadRequest');
    assert.equal(
      f.message,
      'the object provided is unrecognized (must be of type Namespace): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] (7b226b696e64223a224e616d657370616365227d)',
    );
  });

  it('refuses a kind no one registered (400), and a served kind without a schema here (415)', () => {
    const deployment = envelope('apps/v1', 'Deployment', 'k8s.io.api.core.v1.Namespace', {});
    const a = failure(() => decodeProtobufBody(deployment, ctx('Service')));
    assert.equal(a.code, 400);
    assert.match(
      a.message,
      /^Deployment in version "v1" cannot be handled as a Service: no kind "Deployment" is registered for version "apps\/v1"/,
    );
    const vwc = envelope(
      'admissionregistration.k8s.io/v1',
      'ValidatingWebhookConfiguration',
      'k8s.io.api.core.v1.Namespace',
      {},
    );
    const b = failure(() =>
      decodeProtobufBody(
        vwc,
        ctx('ValidatingWebhookConfiguration', 'admissionregistration.k8s.io/v1'),
      ),
    );
    assert.equal(b.code, 415);
    assert.equal(b.reason, 'UnsupportedMediaType');
  });

  it('refuses a field the schema subset leaves out rather than dropping it (415, naming it)', () => {
    // a Pod whose spec has nodeName "n" (field 10) and ephemeralContainers (field 34, not in
    // the subset), written by hand
    const root = protobufSchema();
    const spec = Buffer.from([0x52, 0x01, 0x6e, 0x92, 0x02, 0x00]);
    const raw = Buffer.concat([Buffer.from([0x12, spec.length]), spec]);
    const Unknown = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
    const data = Buffer.concat([
      Buffer.from('k8s\u0000', 'latin1'),
      Unknown.encode(
        Unknown.fromObject({ typeMeta: { apiVersion: 'v1', kind: 'Pod' }, raw }),
      ).finish(),
    ]);
    const f = failure(() => decodeProtobufBody(data, ctx('Pod')));
    assert.equal(f.code, 415);
    assert.match(f.message, /field 34 of k8s\.io\.api\.core\.v1\.PodSpec \(at spec\)/);
  });

  it('answers a truncated object with 400', () => {
    const hex = KUBECTL_BODIES[1]!.hex;
    const data = Buffer.from(hex.slice(0, hex.length - 20), 'hex');
    const f = failure(() => decodeProtobufBody(data, ctx('Service')));
    assert.equal(f.code, 400);
  });
});
