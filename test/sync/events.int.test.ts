// Kubernetes Events on synced Services (issue 19 item 11), end to end on the emulators: the
// Kubernetes emulator calls the app's admission webhook, the real client-node EventsV1Api
// writes events.k8s.io/v1 Events back to it. Events appear after an admission and after a
// reconcile, never on a dry run and never before the admission answer; repeats update one
// Event's series instead of creating many; --emit-events=false records none.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { Writable } from 'node:stream';
import {
  CoreV1Api,
  EventsV1Api,
  KubeConfig,
  type EventsV1Event,
  type V1Service,
} from '@kubernetes/client-node';
import Consul from 'consul';
import { startConsulEmulator, type ConsulEmulator } from '../../dev/emulators/consul/index.js';
import { startKubeEmulator, type KubeEmulator } from '../../dev/emulators/kube/index.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { createRuntime, type Runtime } from '../../src/sync/runtime.js';
import { reconcile } from '../../src/sync/reconcile.js';
import { createApp } from '../../src/http/app.js';
import { createAuthenticator } from '../../src/http/auth.js';
import { createHandlers } from '../../handlers/index.js';
import { serviceInstanceId } from '../../src/translate/to-consul.js';
import { listen, type Served } from '../support/listen.js';
import { admissionWebhook, waitFor } from '../support/wired.js';

const NS = 'shop';
/** Short, so that folded repeats are written within the test. */
const INTERVAL_MS = 700;

interface EventsWorld {
  kubeEmu: KubeEmulator;
  consulEmu: ConsulEmulator;
  runtime: Runtime;
  metrics: Metrics;
  core: CoreV1Api;
  eventsApi: EventsV1Api;
  consul: InstanceType<typeof Consul>;
  logs: string[];
  close(): Promise<void>;
}

async function startEventsWorld(flags: string[] = []): Promise<EventsWorld> {
  const [consulEmu, kubeEmu] = await Promise.all([startConsulEmulator(), startKubeEmulator()]);
  const config = parseConfig(
    [
      'serve',
      '--auth-disabled',
      '--insecure-http',
      '--listen=127.0.0.1:0',
      `--consul-http-addr=${consulEmu.address}`,
      '--sync-id=cluster-a',
      // No confirmations: every converge here is one the test makes.
      '--confirm-after=',
      ...flags,
    ],
    {},
  );
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const metrics = createMetrics({ defaultMetrics: false });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kubeEmu.kubeconfig);
  const runtime = createRuntime(config, {
    logger,
    metrics,
    kubeConfig,
    eventRecorder: { intervalMs: INTERVAL_MS },
  });
  const app = createApp({
    config,
    logger,
    metrics,
    readiness: runtime.readiness,
    auth: createAuthenticator(config, logger, metrics),
    handlers: createHandlers(runtime),
  });
  const served: Served = await listen(app);
  kubeEmu.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }]);
  kubeEmu.setWebhooks([admissionWebhook(served.url, [NS])]);
  return {
    kubeEmu,
    consulEmu,
    runtime,
    metrics,
    core: kubeConfig.makeApiClient(CoreV1Api),
    eventsApi: kubeConfig.makeApiClient(EventsV1Api),
    consul: new Consul({ host: '127.0.0.1', port: consulEmu.port }),
    logs,
    close: async () => {
      await served.close();
      runtime.close();
      await runtime.eventRecorder?.idle();
      await Promise.all([consulEmu.close(), kubeEmu.close()]);
    },
  };
}

function svc(name: string, externalIPs: string[], annotations: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS, annotations },
    spec: { type: 'ClusterIP', externalIPs, ports: [{ name: 'http', port: 80 }] },
  } satisfies V1Service;
}

async function eventsOf(w: EventsWorld, name: string): Promise<EventsV1Event[]> {
  const list = await w.eventsApi.listNamespacedEvent({
    namespace: NS,
    fieldSelector: `regarding.name=${name}`,
  });
  return list.items;
}

/** Converges done and every queued Event written. */
async function settled(w: EventsWorld): Promise<void> {
  await w.runtime.events.services.idle();
  await w.runtime.eventRecorder?.idle();
}

const writes = (w: EventsWorld): number =>
  (w.kubeEmu.requestCounts()['create events'] ?? 0) +
  (w.kubeEmu.requestCounts()['patch events'] ?? 0);

/** How many occurrences the Events stand for (a series counts its repeats). */
const occurrences = (events: EventsV1Event[]): number =>
  events.reduce((n, e) => n + (e.series?.count ?? 1), 0);

describe('Kubernetes Events on synced Services', () => {
  let w: EventsWorld;
  before(async () => {
    w = await startEventsWorld();
  });
  after(async () => {
    await w.close();
  });

  test('an admission records Synced on the Service, after the answer', async () => {
    // The Event write is slow; the API server's create must not wait for it.
    w.kubeEmu.faults.add({ method: 'POST', path: /\/events$/, delayMs: 1500, times: 1 });
    const started = Date.now();
    const created = await w.core.createNamespacedService({
      namespace: NS,
      body: svc('web', ['192.0.2.1', '192.0.2.2']),
    });
    const answeredMs = Date.now() - started;
    assert.ok(answeredMs < 1000, `the create answered in ${answeredMs} ms`);
    assert.deepEqual(await eventsOf(w, 'web'), [], 'not written before the answer');
    await waitFor('the Synced Event', async () => (await eventsOf(w, 'web')).length > 0, 5000);
    const [event] = await eventsOf(w, 'web');
    assert.equal(event?.reason, 'Synced');
    assert.equal(event?.type, 'Normal');
    assert.equal(event?.action, 'Register');
    assert.equal(
      event?.note,
      'Consul service web: 2 instance(s) (2 created, 0 updated, 0 deregistered)',
    );
    assert.equal(event?.reportingController, 'k8s-consul-sync');
    assert.equal(event?.reportingInstance, (process.env.POD_NAME || hostname()).slice(0, 128));
    assert.deepEqual(
      { ...event?.regarding },
      { apiVersion: 'v1', kind: 'Service', namespace: NS, name: 'web', uid: created.metadata?.uid },
      'regarding the stored Service, uid included (kubectl describe selects on it)',
    );
    assert.ok(event?.eventTime, 'eventTime set');
    assert.equal(event?.series, undefined);
  });

  test('a dry-run admission records nothing', async () => {
    await settled(w);
    const before = writes(w);
    await w.core.createNamespacedService({
      namespace: NS,
      body: svc('dry', ['192.0.2.3']),
      dryRun: 'All',
    });
    assert.ok(
      w.kubeEmu.admissionCalls.some((c) => c.dryRun && c.name === 'dry'),
      'the webhook saw the dry run',
    );
    await settled(w);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await eventsOf(w, 'dry'), []);
    assert.equal(writes(w), before);
  });

  test('repeats within the interval update one Event’s series instead of creating Events', async () => {
    const tags = 'consul.hashicorp.com/service-tags';
    await w.core.createNamespacedService({ namespace: NS, body: svc('busy', ['192.0.2.4']) });
    await settled(w);
    const before = writes(w);
    // Six updates at once, each the same outcome: one instance updated.
    for (let i = 0; i < 6; i++) {
      await w.core.patchNamespacedService({
        namespace: NS,
        name: 'busy',
        body: [{ op: 'add', path: `/metadata/annotations`, value: { [tags]: `t${i % 2}` } }],
      });
    }
    await settled(w);
    await waitFor(
      'the folded repeats',
      async () => occurrences(await eventsOf(w, 'busy')) === 7,
      5000,
    );
    let events = await eventsOf(w, 'busy');
    assert.equal(events.length, 2, 'one Event per note: the create, and the updates');
    const updated = events.find((e) => e.note?.includes('1 updated'));
    assert.equal(
      updated?.note,
      'Consul service busy: 1 instance(s) (0 created, 1 updated, 0 deregistered)',
    );
    assert.ok((updated?.series?.count ?? 1) >= 2, 'the repeats are a series');
    assert.ok(updated?.series?.lastObservedTime, 'series.lastObservedTime set');
    // One write per interval at most: the six updates take well under two intervals.
    assert.ok(writes(w) - before <= 3, `${writes(w) - before} writes for 6 updates`);

    // Later repeats raise the same Event's count.
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
    for (let i = 0; i < 3; i++) {
      await w.core.patchNamespacedService({
        namespace: NS,
        name: 'busy',
        body: [{ op: 'add', path: `/metadata/annotations`, value: { [tags]: `u${i % 2}` } }],
      });
    }
    await waitFor(
      'the later repeats',
      async () => occurrences(await eventsOf(w, 'busy')) === 10,
      5000,
    );
    events = await eventsOf(w, 'busy');
    assert.equal(events.length, 2, 'still two Events');
    assert.equal(events.find((e) => e.note === updated?.note)?.series?.count, 9);
    assert.equal(
      (
        await w.metrics.registry.getSingleMetric('k8s_consul_sync_kube_events_total')?.get()
      )?.values.some((v) => v.labels.outcome === 'patched' && v.value > 0),
      true,
      'counted as patched',
    );
  });

  test('a Consul write that fails records SyncFailed', async () => {
    w.consulEmu.faults.add({ method: 'PUT', path: '/v1/txn', status: 500 });
    try {
      await w.core.createNamespacedService({ namespace: NS, body: svc('broken', ['192.0.2.5']) });
      await settled(w);
      await waitFor('the SyncFailed Event', async () => (await eventsOf(w, 'broken')).length > 0);
      const [event] = await eventsOf(w, 'broken');
      assert.equal(event?.reason, 'SyncFailed');
      assert.equal(event?.type, 'Warning');
      assert.equal(event?.action, 'Register');
      assert.match(event?.note ?? '', /^Consul write failed: /);
      assert.ok(event?.regarding?.uid, 'the uid of the admitted Service');
    } finally {
      w.consulEmu.faults.clear();
    }
  });

  test('Consul down: SyncFailed for a synced Service, none for an ineligible one', async () => {
    w.consulEmu.faults.add({ status: 500 }); // every Consul call, reads included
    try {
      const plain = svc('plain', []); // a ClusterIP without externalIPs: not synced
      await w.core.createNamespacedService({ namespace: NS, body: plain });
      await w.core.createNamespacedService({ namespace: NS, body: svc('down', ['192.0.2.6']) });
      await settled(w);
      await waitFor('the SyncFailed Event', async () => (await eventsOf(w, 'down')).length > 0);
      assert.equal((await eventsOf(w, 'down'))[0]?.reason, 'SyncFailed');
      await settled(w);
      assert.deepEqual(
        await eventsOf(w, 'plain'),
        [],
        'its converge failed too, but it is not synced',
      );
    } finally {
      w.consulEmu.faults.clear();
    }
  });

  test('reconcile records Synced, ConflictWithForeign and SyncSkipped; a dry run records none', async () => {
    await settled(w);
    // Stored without admission: only reconcile sees them.
    w.kubeEmu.seed([
      svc('quiet', ['198.51.100.1']),
      svc('taken', ['198.51.100.2']),
      // A ClusterIP without externalIPs is not synced by default, though it asks to be.
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: 'asks',
          namespace: NS,
          annotations: { 'consul.hashicorp.com/service-sync': 'true' },
        },
        spec: { type: 'ClusterIP', ports: [{ port: 80 }] },
      },
    ]);
    // The instance ID `taken` wants is registered by another installation.
    await w.consul.catalog.register({
      node: 'k8s-sync',
      address: '127.0.0.1',
      service: {
        id: serviceInstanceId('taken', NS, 'taken', '198.51.100.2'),
        service: 'taken',
        address: '198.51.100.2',
        port: 80,
        tags: ['k8s'],
        meta: {
          'external-source': 'kubernetes',
          'external-k8s-ns': NS,
          'external-k8s-name': 'taken',
          'external-k8s-sync-id': 'cluster-b',
        },
      },
    } as never);
    const deps = await w.runtime.deps();
    const options = { direction: 'both', force: false, maxDeleteRatio: 1 } as const;
    const before = writes(w);
    const dry = await reconcile(deps, { ...options, dryRun: true });
    assert.ok(dry.changes.length > 0, 'the dry run planned changes');
    await settled(w);
    assert.equal(writes(w), before, 'a dry-run reconcile records no Event');

    const run = await reconcile(deps, { ...options, dryRun: false });
    assert.equal(run.ok, true);
    await settled(w);
    const [quiet] = await eventsOf(w, 'quiet');
    assert.equal(quiet?.reason, 'Synced');
    assert.equal(
      quiet?.note,
      'Consul service quiet: 1 instance(s) (1 created, 0 updated, 0 deregistered)',
    );
    const [taken] = await eventsOf(w, 'taken');
    assert.equal(taken?.reason, 'ConflictWithForeign');
    assert.equal(taken?.type, 'Warning');
    assert.match(taken?.note ?? '', /already registered by sync id cluster-b, left alone/);
    const [asks] = await eventsOf(w, 'asks');
    assert.equal(asks?.reason, 'SyncSkipped');
    assert.equal(asks?.type, 'Warning');
    assert.match(asks?.note ?? '', /type ClusterIP is not synced/);
    const stored = await w.core.readNamespacedService({ namespace: NS, name: 'asks' });
    assert.equal(asks?.regarding?.uid, stored.metadata?.uid);

    // The next reconcile finds the same conflict and skip: folded, no new Event.
    const creates = w.kubeEmu.requestCounts()['create events'] ?? 0;
    await reconcile(deps, { ...options, dryRun: false });
    await settled(w);
    assert.equal(w.kubeEmu.requestCounts()['create events'] ?? 0, creates);
    await waitFor('the repeats as series', async () => {
      const [t] = await eventsOf(w, 'taken');
      return t?.series?.count === 2;
    });
    assert.equal((await eventsOf(w, 'taken')).length, 1);
  });
});

test('--emit-events=false records no Event, from admission or reconcile', async () => {
  const w = await startEventsWorld(['--emit-events=false']);
  try {
    assert.equal(w.runtime.eventRecorder, undefined);
    await w.core.createNamespacedService({ namespace: NS, body: svc('web', ['192.0.2.1']) });
    w.kubeEmu.seed([svc('seeded', ['192.0.2.9'])]);
    const report = await reconcile(await w.runtime.deps(), {
      direction: 'both',
      dryRun: false,
      force: false,
      maxDeleteRatio: 1,
    });
    assert.equal(report.ok, true);
    assert.ok(report.changes.length > 0, 'the reconcile wrote');
    await w.runtime.events.services.idle();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(w.kubeEmu.requestCounts()['create events'] ?? 0, 0);
    assert.deepEqual(await eventsOf(w, 'web'), []);
  } finally {
    await w.close();
  }
});

test('--dry-run records no Event', async () => {
  const w = await startEventsWorld(['--dry-run']);
  try {
    assert.equal(w.runtime.eventRecorder, undefined);
    await w.core.createNamespacedService({ namespace: NS, body: svc('web', ['192.0.2.1']) });
    await w.runtime.events.services.idle();
    assert.equal(w.kubeEmu.requestCounts()['create events'] ?? 0, 0);
  } finally {
    await w.close();
  }
});
