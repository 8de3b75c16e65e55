// infra/ driving the real thing (issue 8): the ValidatingWebhookConfiguration is loaded by the
// Kubernetes emulator and its rules, namespaceSelector, sideEffects and failurePolicy decide
// which writes reach the admission handler of a real listening server (JWT auth, path token);
// the audit Policy and webhook kubeconfig drive the emulator's audit delivery to /k8s/audit; the
// Consul agent watch config drives the Consul emulator's delivery to /consul/services. Only the
// placeholders an operator fills in are replaced, and clientConfig is resolved to loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { stringify as stringifyYaml } from 'yaml';
import express, { type Express } from 'express';
import { CoreV1Api, KubeConfig, type V1Service } from '@kubernetes/client-node';
import {
  startConsulEmulator,
  watchesFromAgentConfig,
  type ConsulEmulator,
} from '../../dev/emulators/consul/index.js';
import { startKubeEmulator, type KubeEmulator } from '../../dev/emulators/kube/index.js';
import { parseConfig } from '../../src/config/index.js';
import { createApp } from '../../src/http/app.js';
import { createAuthenticator } from '../../src/http/auth.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { readHmacSigningKey } from '../../src/auth/keys.js';
import { mintToken } from '../../src/auth/mint.js';
import { formatPathToken } from '../../src/auth/path-token.js';
import type { Scope } from '../../src/auth/scopes.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { createRuntime, type Runtime } from '../../src/sync/runtime.js';
import { createHandlers } from '../../handlers/index.js';
import { tempDir } from '../auth/support.js';
import {
  PLACEHOLDERS,
  loadAuditPolicy,
  loadAuditWebhookKubeconfig,
  loadWatchConfig,
  loadWebhookConfiguration,
} from './load.js';

const WEBHOOK = 'service-sync.k8s-consul-sync.io';
const dir = tempDir('k8s-consul-sync-wiring-');
process.on('exit', () => dir.remove());
const secretFile = dir.write('jwt-hmac-secret', 'wiring-test-hmac-secret-0123456789abcdef-xyz');

function mint(scope: Scope): string {
  return mintToken(readHmacSigningKey(secretFile), {
    issuer: 'k8s-consul-sync',
    audience: 'k8s-consul-sync',
    subject: 'wiring-test',
    scopes: [scope],
    ttlMs: 3_600_000,
  });
}

interface Wired {
  consul: ConsulEmulator;
  kube: KubeEmulator;
  server: RunningServer;
  runtime: Runtime;
  core: CoreV1Api;
  /** Consul registrations on the sync node (the ones this server writes). */
  registrations(): { service: string; address: string; port: number; name?: string }[];
  close(): Promise<void>;
}

/**
 * Consul emulator, Kubernetes emulator and the real server (createApp + startServer, JWT auth
 * with an HMAC secret). The server listens first, behind a front that hands requests to the app
 * once it exists, because the emulator's audit backend needs the server's address at start and
 * the app's runtime needs the emulator's kubeconfig.
 */
async function startWired(wiring: {
  webhook?: { pathToken: string };
  audit?: { token: string };
  watches?: (serverUrl: string) => unknown[];
}): Promise<Wired> {
  const consul = await startConsulEmulator();
  const config = parseConfig(
    [
      'serve',
      '--insecure-http',
      '--listen=127.0.0.1:0',
      `--auth-jwt-secret-file=${secretFile}`,
      `--consul-http-addr=${consul.address}`,
    ],
    {},
  );
  const logger = createLogger({
    level: 'info',
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const inner: { app?: Express } = {};
  const front = express();
  front.use((req, res, next) => (inner.app ? inner.app(req, res, next) : res.status(503).end()));
  const server = await startServer(front, config, { logger });

  const kube = await startKubeEmulator({
    ...(wiring.webhook
      ? {
          admission: {
            webhooks: [loadWebhookConfiguration({ token: wiring.webhook.pathToken })],
            // clientConfig.service (k8s-consul-sync/k8s-consul-sync:443) → this server.
            resolveService: () => server.url,
          },
        }
      : {}),
    ...(wiring.audit
      ? {
          audit: {
            policy: loadAuditPolicy(),
            kubeconfig: stringifyYaml(
              loadAuditWebhookKubeconfig({
                token: wiring.audit.token,
                server: `${server.url}/k8s/audit`,
              }),
            ),
          },
        }
      : {}),
    controllers: { endpointSlices: true, loadBalancer: { delayMs: 20, ipPrefix: '198.51.100.' } },
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kube.kubeconfig);
  const runtime = createRuntime(config, { logger, metrics, kubeConfig });
  const auth = createAuthenticator(config, logger, metrics);
  inner.app = createApp({
    config,
    logger,
    metrics,
    readiness: runtime.readiness,
    auth,
    handlers: createHandlers(runtime),
  });
  for (const w of watchesFromAgentConfig({ watches: wiring.watches?.(server.url) ?? [] }, '')) {
    consul.addWatch(w);
  }
  return {
    consul,
    kube,
    server,
    runtime,
    core: kubeConfig.makeApiClient(CoreV1Api),
    registrations: () =>
      consul
        .snapshot()
        .services.filter((s) => s.Node === 'k8s-sync')
        .map((s) => ({
          service: s.Service,
          address: s.Address,
          port: s.Port,
          name: s.Meta?.['external-k8s-name'],
        })),
    close: async () => {
      await kube.close();
      await consul.close();
      await server.close(200);
      auth.close();
      runtime.close();
    },
  };
}

async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  ms = 3000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function externalIpService(namespace: string, name: string, ip: string, port: number): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { type: 'ClusterIP', externalIPs: [ip], ports: [{ name: 'http', port }] },
  };
}

async function createNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
}

describe('infra ValidatingWebhookConfiguration → admission handler of a listening server', () => {
  let w: Wired;
  before(async () => {
    w = await startWired({ webhook: { pathToken: formatPathToken(mint('k8s:admission')) } });
    await createNamespace(w.core, 'shop');
  });
  after(() => w?.close());

  test('a Service created through the client is in Consul when the create returns', async () => {
    await w.core.createNamespacedService({
      namespace: 'shop',
      body: externalIpService('shop', 'search', '192.0.2.50', 9200),
    });
    // Admission is synchronous: the handler wrote to Consul before answering the API server.
    assert.deepEqual(w.registrations(), [
      { service: 'search', address: '192.0.2.50', port: 9200, name: 'search' },
    ]);
    const call = w.kube.admissionCalls.find((c) => c.name === 'search' && c.operation === 'CREATE');
    assert.equal(call?.webhook, WEBHOOK);
    assert.equal(call?.status, 200);
    assert.equal(call?.allowed, true);
  });

  test('services/status (LoadBalancer ingress) and endpointslices rules reach the handler', async () => {
    await w.core.createNamespacedService({
      namespace: 'shop',
      body: {
        metadata: { name: 'checkout', namespace: 'shop' },
        spec: {
          type: 'LoadBalancer',
          selector: { app: 'checkout' },
          ports: [{ name: 'https', port: 443 }],
        },
      },
    });
    await waitFor('the ingress instance', () =>
      w
        .registrations()
        .find((r) => r.service === 'checkout' && r.address === '198.51.100.1' && r.port === 443),
    );
    // Calls are recorded once the answer is in, which is just after the handler's write.
    const statusCall = await waitFor('the services/status call record', () =>
      w.kube.admissionCalls.find(
        (c) => c.name === 'checkout' && c.resource === 'services' && c.subResource === 'status',
      ),
    );
    assert.equal(statusCall.webhook, WEBHOOK);
    assert.equal(statusCall.status, 200);
    const sliceCall = await waitFor('the endpointslices call record', () =>
      w.kube.admissionCalls.find((c) => c.resource === 'endpointslices' && c.namespace === 'shop'),
    );
    assert.equal(sliceCall.webhook, WEBHOOK);
    assert.equal(sliceCall.status, 200);
  });

  test('namespaceSelector: kube-system and the product namespace never reach the webhook', async () => {
    await createNamespace(w.core, 'k8s-consul-sync');
    const before = w.kube.admissionCalls.length;
    await w.core.createNamespacedService({
      namespace: 'kube-system',
      body: externalIpService('kube-system', 'dashboard', '192.0.2.60', 443),
    });
    await w.core.createNamespacedService({
      namespace: 'k8s-consul-sync',
      body: externalIpService('k8s-consul-sync', 'self', '192.0.2.61', 443),
    });
    assert.deepEqual(
      w.kube.admissionCalls
        .slice(before)
        .filter((c) => c.name === 'dashboard' || c.name === 'self'),
      [],
    );
    assert.equal(
      w.registrations().find((r) => r.name === 'dashboard' || r.name === 'self'),
      undefined,
    );
  });

  test('objectSelector: Services labelled consul=true are skipped, labelling one still reaches the handler', async () => {
    const before = w.kube.admissionCalls.length;
    // what the Consul → Kubernetes side creates: never synced back, so never sent
    await w.core.createNamespacedService({
      namespace: 'shop',
      body: {
        metadata: { name: 'from-consul', namespace: 'shop', labels: { consul: 'true' } },
        spec: { type: 'ExternalName', externalName: 'from-consul.service.consul' },
      },
    });
    assert.deepEqual(
      w.kube.admissionCalls.slice(before).filter((c) => c.name === 'from-consul'),
      [],
    );
    // a synced Service that gets the label: its old version matches, so the handler is called
    // and deregisters it (docs/reference.md "Kubernetes → Consul": a Service labelled consul=true is not eligible)
    await w.core.createNamespacedService({
      namespace: 'shop',
      body: externalIpService('shop', 'relabelled', '192.0.2.80', 80),
    });
    assert.ok(w.registrations().find((r) => r.name === 'relabelled'));
    const svc = await w.core.readNamespacedService({ name: 'relabelled', namespace: 'shop' });
    svc.metadata!.labels = { consul: 'true' };
    await w.core.replaceNamespacedService({ name: 'relabelled', namespace: 'shop', body: svc });
    await waitFor('the relabel call record', () =>
      w.kube.admissionCalls.find((c) => c.name === 'relabelled' && c.operation === 'UPDATE'),
    );
    assert.equal(
      w.registrations().find((r) => r.name === 'relabelled'),
      undefined,
    );
  });

  test('sideEffects NoneOnDryRun: a dry-run create is admitted and writes nothing', async () => {
    await w.core.createNamespacedService({
      namespace: 'shop',
      body: externalIpService('shop', 'dry', '192.0.2.70', 80),
      dryRun: 'All',
    });
    const call = w.kube.admissionCalls.find((c) => c.name === 'dry');
    assert.equal(call?.dryRun, true);
    assert.equal(call?.status, 200);
    assert.equal(
      w.registrations().find((r) => r.name === 'dry'),
      undefined,
    );
  });

  test('a DELETE deregisters', async () => {
    await w.core.deleteNamespacedService({ name: 'search', namespace: 'shop' });
    assert.equal(
      w.registrations().find((r) => r.name === 'search'),
      undefined,
    );
  });

  test('unauthenticated path → 401, wrong scope → 403; failurePolicy Ignore: the create succeeds', async () => {
    const cases = [
      { token: PLACEHOLDERS.admissionToken, status: 401, name: 'unauth' },
      { token: formatPathToken(mint('consul:watch')), status: 403, name: 'wrong-scope' },
    ];
    for (const c of cases) {
      w.kube.setWebhooks([loadWebhookConfiguration({ token: c.token })]);
      const created = await w.core.createNamespacedService({
        namespace: 'shop',
        body: externalIpService('shop', c.name, '192.0.2.80', 80),
      });
      assert.equal(created.metadata?.name, c.name, 'the create succeeded');
      const call = w.kube.admissionCalls.find((r) => r.name === c.name);
      assert.equal(call?.status, c.status);
      assert.match(
        call?.error ?? '',
        new RegExp(`failed calling webhook "${WEBHOOK.replaceAll('.', '\\.')}"`),
      );
      assert.equal(
        w.registrations().find((r) => r.name === c.name),
        undefined,
        'nothing was written',
      );
    }
  });
});

describe('infra audit Policy + webhook kubeconfig → /k8s/audit', () => {
  let good: Wired;
  let bad: Wired;
  before(async () => {
    [good, bad] = await Promise.all([
      startWired({ audit: { token: mint('k8s:audit') } }),
      startWired({ audit: { token: PLACEHOLDERS.auditToken } }),
    ]);
    await Promise.all([createNamespace(good.core, 'shop'), createNamespace(bad.core, 'shop')]);
  });
  after(() => Promise.all([good?.close(), bad?.close()]));

  test('a Service write is delivered in an EventList, authenticated, and synced to Consul', async () => {
    await good.core.createNamespacedService({
      namespace: 'shop',
      body: externalIpService('shop', 'search', '192.0.2.50', 9200),
    });
    await waitFor('the audited service in Consul', () =>
      good.registrations().find((r) => r.name === 'search' && r.address === '192.0.2.50'),
    );
    assert.equal(good.kube.admissionCalls.length, 0, 'no admission webhook here: audit did it');
    // The emulator records a batch once the server's answer has arrived, just after the write.
    await waitFor('the delivery record', () =>
      good.kube.auditDeliveries.length > 0 ? true : undefined,
    );
    assert.deepEqual(
      good.kube.auditDeliveries.filter((d) => d.status !== 200),
      [],
      'every batch answered 200',
    );
  });

  test('the policy sends only writes to services, services/status and endpointslices', async () => {
    const delivered = (): number => good.kube.auditDeliveries.reduce((n, d) => n + d.events, 0);
    const before = delivered();
    // Not in the policy: a namespace, a pod, a read. Then one service write as a marker.
    await createNamespace(good.core, 'quiet');
    await good.core.createNamespacedPod({
      namespace: 'quiet',
      body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    });
    await good.core.listNamespacedService({ namespace: 'shop' });
    await good.core.createNamespacedService({
      namespace: 'quiet',
      body: externalIpService('quiet', 'marker', '192.0.2.90', 80),
    });
    await waitFor('the marker in Consul', () =>
      good.registrations().find((r) => r.name === 'marker'),
    );
    // One event per write that matched (RequestReceived omitted): the marker's create only.
    await waitFor('the marker delivery record', () => (delivered() > before ? true : undefined));
    assert.equal(delivered() - before, 1);
  });

  test('the placeholder token is refused with 401 and the batch is dropped, not retried', async () => {
    await bad.core.createNamespacedService({
      namespace: 'shop',
      body: externalIpService('shop', 'search', '192.0.2.50', 9200),
    });
    await waitFor('a delivery', () => (bad.kube.auditDeliveries.length > 0 ? true : undefined));
    assert.deepEqual(
      bad.kube.auditDeliveries.map((d) => d.status),
      [401],
    );
    assert.deepEqual(bad.registrations(), []);
  });
});

describe('infra Consul watch config → /consul/services', () => {
  let w: Wired;
  before(async () => {
    w = await startWired({
      watches: (serverUrl) => [
        ...loadWatchConfig({ baseUrl: serverUrl, token: mint('consul:watch') }),
        // The same watch as committed, placeholder token left in: must be refused.
        ...loadWatchConfig({ baseUrl: serverUrl }),
      ],
    });
  });
  after(() => w?.close());

  test('the HCL and JSON configs describe the same watch', () => {
    const json = watchesFromAgentConfig(
      { watches: loadWatchConfig({ baseUrl: 'http://x:1', token: 't' }) },
      '',
    );
    const hcl = watchesFromAgentConfig(
      { watches: loadWatchConfig({ format: 'hcl', baseUrl: 'http://x:1', token: 't' }) },
      '',
    );
    assert.deepEqual(hcl, json);
    assert.equal(new URL(json[0]!.url).pathname, '/consul/services');
  });

  test('a Consul registration becomes an ExternalName service; the placeholder token gets 401', async () => {
    const res = await fetch(`${w.consul.url}/v1/catalog/register`, {
      method: 'PUT',
      body: JSON.stringify({
        Node: 'db-1',
        Address: '10.1.0.5',
        Service: { ID: 'billing-db-1', Service: 'billing-db', Port: 5432 },
      }),
    });
    assert.equal(res.status, 200);
    const svc = await waitFor('default/billing-db', async () => {
      const list = await w.core.listNamespacedService({ namespace: 'default' });
      return list.items.find((s) => s.metadata?.name === 'billing-db');
    });
    assert.equal(svc.spec?.type, 'ExternalName');
    assert.equal(svc.spec?.externalName, 'billing-db.service.consul');
    // the Service exists before the handler's answer reaches the watch, so the delivery
    // record (written when the response ends) is awaited, not read at once
    const deliveries = await waitFor('both billing-db deliveries', () => {
      const seen = w.consul.deliveries.filter(
        (d) => JSON.parse(d.body ?? '{}')['billing-db'] !== undefined,
      );
      return seen.length >= 2 ? seen : undefined;
    });
    assert.deepEqual(deliveries.map((d) => [new URL(d.url).pathname, d.status]).sort(), [
      ['/consul/services', 200],
      ['/consul/services', 401],
    ]);
  });
});
