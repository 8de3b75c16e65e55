// Ingress sync end to end (issue 15; docs/reference.md "Ingress"), the real clients against the
// emulators: an Ingress written through the admission webhook replaces a Service's instances with
// one at the rule's host (port 80, 443 for a TLS host); dropping the rule or deleting the Ingress
// restores the normal instances at once (consul-k8s leaves the ingress instance behind); the
// audit path and reconcile reach the same state, and a plan after reconcile is empty.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { KubeConfig, NetworkingV1Api, type V1Ingress } from '@kubernetes/client-node';
import { startWiredWorld, type WiredWorld } from '../support/wired.js';
import { startWorld, type World } from '../support/world.js';
import { eventList, service } from '../fixtures/reviews.js';
import { reconcile } from '../../src/sync/reconcile.js';

const NS = 'shop';
const FLAGS = [
  '--enable-ingress',
  '--sync-clusterip-services',
  '--sync-id=cluster-a',
  '--confirm-after=',
  '--breaker-failures=0',
];

const id = (name: string, address: string): string =>
  `${name}-${createHash('sha1').update(`${NS}/${name}/${address}`).digest('hex').slice(0, 12)}`;

function networking(w: World): NetworkingV1Api {
  const kc = new KubeConfig();
  kc.loadFromString(w.kubeEmu.kubeconfig);
  return kc.makeApiClient(NetworkingV1Api);
}

const rootPath = (svc: string) => ({
  path: '/',
  pathType: 'Prefix',
  backend: { service: { name: svc, port: { number: 8080 } } },
});

function frontIngress(rules: { host: string; svc: string }[], tls: string[] = []): V1Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'front', namespace: NS },
    spec: {
      rules: rules.map((r) => ({ host: r.host, http: { paths: [rootPath(r.svc)] } })),
      ...(tls.length ? { tls: [{ hosts: tls, secretName: 'front-tls' }] } : {}),
    },
  };
}

/** A LoadBalancer Service `web` at 203.0.113.7 and a ClusterIP Service `api` with one endpoint. */
async function seedServices(w: World): Promise<void> {
  w.kubeEmu.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }]);
  await w.core.createNamespacedService({
    namespace: NS,
    body: service(NS, 'web', { type: 'LoadBalancer', ports: [{ name: 'http', port: 8080 }] }),
  });
  const stored = await w.core.readNamespacedService({ namespace: NS, name: 'web' });
  await w.core.replaceNamespacedServiceStatus({
    namespace: NS,
    name: 'web',
    body: { ...stored, status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } },
  });
  await w.core.createNamespacedService({
    namespace: NS,
    body: service(NS, 'api', { type: 'ClusterIP', ports: [{ name: 'http', port: 8080 }] }),
  });
  await w.discovery.createNamespacedEndpointSlice({
    namespace: NS,
    body: {
      metadata: { name: 'api-1', namespace: NS, labels: { 'kubernetes.io/service-name': 'api' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.1.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'http', port: 8080 }],
    },
  });
}

/** ID → address:port, and the check status where there is one. */
async function state(w: World): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const r of await w.registrations())
    out[r.ID] = `${r.Address}:${r.Port}${r.Check ? ` ${r.Check.Status}` : ''}`;
  return out;
}

const NORMAL = {
  [id('web', '203.0.113.7')]: '203.0.113.7:8080',
  [id('api', '10.1.0.1')]: '10.1.0.1:8080 passing',
};
const BOTH_INGRESS = {
  [id('web', 'web.example.com')]: 'web.example.com:80 passing',
  [id('api', 'api.example.com')]: 'api.example.com:443 passing',
};
const API_DROPPED = {
  [id('web', 'web.example.com')]: 'web.example.com:80 passing',
  [id('api', '10.1.0.1')]: '10.1.0.1:8080 passing',
};

async function planIsEmpty(w: World): Promise<void> {
  const plan = await reconcile(await w.runtime.deps(), {
    direction: 'to-consul',
    dryRun: true,
    force: false,
    maxDeleteRatio: 1,
  });
  assert.deepEqual(plan.changes, [], 'plan after convergence is empty');
  assert.equal(plan.ok, true);
}

describe('admission webhook (wired world)', () => {
  let w: WiredWorld;
  before(async () => {
    w = await startWiredWorld({ flags: FLAGS, namespaces: [NS] });
    await seedServices(w);
  });
  after(async () => {
    await w.close();
  });

  it('before any Ingress: the normal instances', async () => {
    assert.deepEqual(await state(w), NORMAL);
  });

  it('creating the Ingress replaces both Services’ instances: host:80, TLS host:443', async () => {
    await networking(w).createNamespacedIngress({
      namespace: NS,
      body: frontIngress(
        [
          { host: 'web.example.com', svc: 'web' },
          { host: 'api.example.com', svc: 'api' },
        ],
        ['api.example.com'],
      ),
    });
    assert.deepEqual(await state(w), BOTH_INGRESS);
    const regs = await w.registrations();
    assert.ok(regs.every((r) => r.Meta['external-k8s-ingress'] === 'front'));
    await planIsEmpty(w);
  });

  it('dropping the rule restores that Service’s normal instances at once', async () => {
    const net = networking(w);
    const stored = await net.readNamespacedIngress({ namespace: NS, name: 'front' });
    await net.replaceNamespacedIngress({
      namespace: NS,
      name: 'front',
      body: {
        ...stored,
        spec: frontIngress([{ host: 'web.example.com', svc: 'web' }], ['api.example.com']).spec!,
      },
    });
    assert.deepEqual(await state(w), API_DROPPED);
    await planIsEmpty(w);
  });

  it('deleting the Ingress restores the normal instances at once', async () => {
    await networking(w).deleteNamespacedIngress({ namespace: NS, name: 'front' });
    assert.deepEqual(await state(w), NORMAL);
    await planIsEmpty(w);
  });
});

/** An audit event about the Ingress `front`, as the API server's audit backend sends it. */
function ingressAudit(verb: 'create' | 'update' | 'delete', responseObject?: unknown) {
  const base = `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses`;
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: `ing-${verb}-${Math.random()}`,
    stage: 'ResponseComplete',
    requestURI: verb === 'create' ? base : `${base}/front`,
    verb,
    user: { username: 'admin', groups: ['system:authenticated'] },
    objectRef: {
      resource: 'ingresses',
      namespace: NS,
      name: 'front',
      apiGroup: 'networking.k8s.io',
      apiVersion: 'v1',
    },
    responseStatus: { metadata: {}, code: 200 },
    ...(responseObject ? { responseObject } : {}),
  };
}

function serviceAudit(name: string) {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: `svc-${name}-${Math.random()}`,
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/${NS}/services/${name}`,
    verb: 'update',
    objectRef: { resource: 'services', namespace: NS, name, apiGroup: '', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
  };
}

describe('audit webhook and reconcile (no admission)', () => {
  let w: World;
  before(async () => {
    w = await startWorld({ flags: FLAGS });
    await seedServices(w);
    await request(w.app)
      .post('/k8s/audit')
      .send(eventList([serviceAudit('web'), serviceAudit('api')]))
      .expect(200);
  });
  after(async () => {
    await w.close();
  });

  it('service events alone: the normal instances', async () => {
    assert.deepEqual(await state(w), NORMAL);
  });

  it('an Ingress create event converges the Services it names from stored state', async () => {
    const created = await networking(w).createNamespacedIngress({
      namespace: NS,
      body: frontIngress(
        [
          { host: 'web.example.com', svc: 'web' },
          { host: 'api.example.com', svc: 'api' },
        ],
        ['api.example.com'],
      ),
    });
    assert.deepEqual(await state(w), NORMAL, 'no admission: nothing yet');
    await request(w.app)
      .post('/k8s/audit')
      .send(eventList([ingressAudit('create', created)]))
      .expect(200);
    assert.deepEqual(await state(w), BOTH_INGRESS);
    await planIsEmpty(w);
  });

  it('an update dropping a rule: the Service it no longer names is found in Consul and restored', async () => {
    const net = networking(w);
    const stored = await net.readNamespacedIngress({ namespace: NS, name: 'front' });
    const updated = await net.replaceNamespacedIngress({
      namespace: NS,
      name: 'front',
      body: {
        ...stored,
        spec: frontIngress([{ host: 'web.example.com', svc: 'web' }], ['api.example.com']).spec!,
      },
    });
    await request(w.app)
      .post('/k8s/audit')
      .send(eventList([ingressAudit('update', updated)]))
      .expect(200);
    assert.deepEqual(await state(w), API_DROPPED);
  });

  it('a delete event (answered with a Status, no object) restores the normal instances', async () => {
    await networking(w).deleteNamespacedIngress({ namespace: NS, name: 'front' });
    await request(w.app)
      .post('/k8s/audit')
      .send(
        eventList([
          ingressAudit('delete', { kind: 'Status', apiVersion: 'v1', status: 'Success' }),
        ]),
      )
      .expect(200);
    assert.deepEqual(await state(w), NORMAL);
    await planIsEmpty(w);
  });

  it('reconcile reaches the state the events reach, and the plan after it is empty', async () => {
    // Written with no event at all: only reconcile sees it.
    await networking(w).createNamespacedIngress({
      namespace: NS,
      body: frontIngress(
        [
          { host: 'web.example.com', svc: 'web' },
          { host: 'api.example.com', svc: 'api' },
        ],
        ['api.example.com'],
      ),
    });
    const report = await reconcile(await w.runtime.deps(), {
      direction: 'to-consul',
      dryRun: false,
      force: false,
      maxDeleteRatio: 1,
    });
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.deepEqual(await state(w), BOTH_INGRESS);
    await planIsEmpty(w);
    await networking(w).deleteNamespacedIngress({ namespace: NS, name: 'front' });
    await reconcile(await w.runtime.deps(), {
      direction: 'to-consul',
      dryRun: false,
      force: false,
      maxDeleteRatio: 1,
    });
    assert.deepEqual(await state(w), NORMAL);
  });
});
