// Every benchmark scenario at a tiny size, asserting correctness only (no timing): events are
// answered allowed and leave the registrations docs/reference.md "Kubernetes → Consul" describes, reconcile converges and its
// 1% run writes only the changed services, end-to-end changes arrive in both directions, the
// footprint figures are measured, with Consul hung the breaker opens, defers every write and
// converges all of them once Consul answers, and a maximum-size Service registers exactly
// --max-instances-per-service instances while audit batches leave Consul exact. Keeps
// `npm run bench` from rotting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { runEventPath, type EventPathContext } from './event-path.js';
import { runReconcileScale, type ReconcileScaleContext } from './reconcile-scale.js';
import { runE2eLag, E2E_CONSUL_NODE, type E2eLagContext } from './e2e-lag.js';
import { runFootprint } from './footprint.js';
import {
  runAdmissionFault,
  FAULT_NAMESPACE,
  type AdmissionFaultContext,
} from './admission-fault.js';
import {
  runHeavyInput,
  HEAVY_NAMESPACE,
  MAX_OBJECT_BYTES,
  type HeavyInputContext,
} from './heavy-input.js';
import { parseArgs, SCENARIOS } from './run.js';
import { markdownTable } from './report.js';
import {
  BENCH_SYNC_ID,
  EVENT_NAMESPACE,
  changedIndexes,
  eventNodes,
  eventServiceName,
  extIps,
  finalGeneration,
  lbIngress,
  npEndpoints,
  npNodePort,
  worldNodes,
  worldService,
  type EventKind,
} from './fixtures.js';
import type { RegistrationRow, TxnOpRecord } from './emulators.js';

const SYNC_NODE = 'k8s-sync';

/** docs/reference.md "Kubernetes → Consul": `<consul name>-<first 12 hex of sha1("<namespace>/<k8s name>/<Address>")>`. */
const instanceId = (consulName: string, ns: string, name: string, address: string): string =>
  `${consulName}-${createHash('sha1').update(`${ns}/${name}/${address}`).digest('hex').slice(0, 12)}`;

interface Expected {
  ID: string;
  Service: string;
  Address: string;
  Port: number;
  Tags: string[];
  revision?: string;
  node?: string;
  check?: string;
}

const view = (r: RegistrationRow): Expected => ({
  ID: r.ID,
  Service: r.Service,
  Address: r.Address,
  Port: r.Port,
  Tags: r.Tags,
  ...(r.Meta.revision !== undefined ? { revision: r.Meta.revision } : {}),
  ...(r.Meta['external-k8s-node-name'] !== undefined
    ? { node: r.Meta['external-k8s-node-name'] }
    : {}),
  ...(r.Check ? { check: r.Check.Status } : {}),
});

/** The registrations an event-path service must end with, from docs/reference.md "Kubernetes → Consul" and its last event. */
function expectedForEventService(kind: EventKind, k: number, gen: number | null): Expected[] {
  const name = eventServiceName(kind, k);
  const id = (address: string): string => instanceId(name, EVENT_NAMESPACE, name, address);
  if (gen === null) return [];
  if (kind === 'lb') {
    // CREATE carries no ingress yet; generation 1 is the status update that adds it.
    if (gen === 0) return [];
    const address = lbIngress(k);
    return [
      {
        ID: id(address),
        Service: name,
        Address: address,
        Port: 80, // LoadBalancer: the service port
        Tags: ['k8s'],
        ...(gen >= 2 ? { revision: String(gen) } : {}),
      },
    ];
  }
  if (kind === 'ext') {
    return extIps(k).map((address) => ({
      ID: id(address),
      Service: name,
      Address: address,
      Port: 8080,
      Tags: ['k8s'],
      ...(gen >= 1 ? { revision: String(gen) } : {}),
    }));
  }
  // NodePort: one instance per node with an endpoint; ExternalFirst picks the node's
  // ExternalIP when it has one; the check passes iff an endpoint on that node is ready.
  const nodes = new Map(eventNodes().map((n) => [n.name, n]));
  return npEndpoints(k, gen).map((e) => {
    const n = nodes.get(e.node)!;
    const address = n.external ?? n.internal;
    return {
      ID: id(address),
      Service: name,
      Address: address,
      Port: npNodePort(k),
      Tags: ['k8s'],
      node: e.node,
      check: e.ready ? 'passing' : 'critical',
    };
  });
}

const byId = (a: Expected, b: Expected): number => a.ID.localeCompare(b.ID);

test('parseArgs: scenarios, --json, --scale', () => {
  assert.deepEqual(parseArgs([]), { scenarios: [...SCENARIOS], scale: 1 });
  assert.deepEqual(parseArgs(['e2e-lag', 'footprint', '--json', 'out.json', '--scale=0.1']), {
    scenarios: ['e2e-lag', 'footprint'],
    scale: 0.1,
    json: 'out.json',
  });
  assert.deepEqual(parseArgs(['admission-fault']), { scenarios: ['admission-fault'], scale: 1 });
  assert.ok(SCENARIOS.includes('admission-fault'));
  assert.deepEqual(parseArgs(['heavy-input']), { scenarios: ['heavy-input'], scale: 1 });
  assert.ok(SCENARIOS.includes('heavy-input'));
  assert.throws(() => parseArgs(['nope']), /unknown argument nope/);
  assert.throws(() => parseArgs(['--scale', '0']), /--scale must be a positive number/);
});

test('event path: every review answered allowed, registrations as docs/reference.md "Kubernetes → Consul" says', async () => {
  let seen: Expected[] = [];
  let expected: Expected[] = [];
  let baselineServices = 0;
  let readsFloorServices = 0;
  let kubeReads: Record<string, number> = {};
  const result = await runEventPath({
    events: 180,
    warmup: 30,
    rounds: 2,
    compiled: false,
    inspect: async (ctx: EventPathContext) => {
      seen = (await ctx.host.registrations(SYNC_NODE)).map(view).sort(byId);
      for (const kind of ['lb', 'ext', 'np'] as const)
        for (let k = 0; k < ctx.pool.perKind; k++)
          expected.push(
            ...expectedForEventService(kind, k, finalGeneration(ctx.pool, ctx.sent, kind, k)),
          );
      expected = expected.sort(byId);
      baselineServices = (await ctx.host.registrations('bench-baseline')).length;
      readsFloorServices = (await ctx.host.registrations('bench-baseline-reads')).length;
      kubeReads = ((await ctx.host.call({ type: 'counts' })) as { kube: Record<string, number> })
        .kube;
    },
  });
  const checks = result.checks;
  assert.equal(checks.oursAnswered, 210);
  assert.equal(checks.baselineAnswered, 210);
  assert.deepEqual(checks.oursFailures, []);
  assert.deepEqual(checks.baselineFailures, []);
  assert.equal(checks.baselineWithReadsAnswered, 210);
  assert.deepEqual(checks.baselineWithReadsFailures, []);
  const outcomes = checks.admissionOutcomes as Record<string, number>;
  assert.equal(outcomes.error ?? 0, 0, JSON.stringify(outcomes));
  assert.equal((outcomes.written ?? 0) + (outcomes.unchanged ?? 0), 210);
  assert.ok(expected.length > 0);
  assert.deepEqual(seen, expected);
  // The baseline wrote one registration per service it saw (210 events over 3 × 17 services).
  assert.equal(baselineServices, 3 * 17);
  assert.equal(readsFloorServices, 3 * 17);
  // The second floor read a Service and listed its slices for each of its 70 slice reviews;
  // serve read each Service too (it groups concurrent lists of one namespace, so lists fewer).
  assert.ok((kubeReads['get services'] ?? 0) >= 2 * 70, JSON.stringify(kubeReads));
  assert.ok((kubeReads['list endpointslices'] ?? 0) > 70, JSON.stringify(kubeReads));
  // Every write left in a transaction of one or more services (serve's histogram was read).
  const perTxn = (result.figures as { servicesPerTransaction: number }).servicesPerTransaction;
  assert.ok(perTxn >= 1 && perTxn <= 64, `services per transaction: ${perTxn}`);
  // Every figure is a number, ratios and targets are named.
  assert.deepEqual(
    result.targets.map((t) => t.name),
    [
      'p50 ratio (ours / baseline)',
      'p99 ratio (ours / baseline)',
      'throughput ratio (ours / baseline)',
    ],
  );
  for (const t of result.targets) assert.equal(typeof t.value, 'number');
  assert.match(markdownTable([result]), /^\| scenario \| metric \|/);
});

test('reconcile scale: converges, no-change writes nothing, the 1% run writes only the changed services', async () => {
  let ctx!: ReconcileScaleContext;
  let finalRegs: RegistrationRow[] = [];
  let txns: TxnOpRecord[][] = [];
  const result = await runReconcileScale({
    scale: 0.01,
    changedFraction: 0.05,
    repeats: 1,
    recordTxns: true,
    compiled: false,
    inspect: async (c) => {
      ctx = c;
      finalRegs = await c.host.registrations(SYNC_NODE);
      txns = (await c.host.call({ type: 'txn-log' })) as TxnOpRecord[][];
    },
  });
  const { size } = ctx;
  assert.equal(size.services, 100);

  // docs/reference.md "Kubernetes → Consul" instance counts, from the world's objects.
  const nodes = worldNodes(size);
  assert.ok(nodes.every((n) => n.internal)); // every node has an address: no NodePort gaps
  let instances = 0;
  for (let i = 0; i < size.services; i++) {
    const s = worldService(size, i);
    if (s.kind === 'nodeport') instances += new Set(s.endpoints.map((e) => e.node)).size;
    else if (s.kind === 'loadbalancer') instances += s.ingress.length;
    else if (s.kind === 'clusterip') instances += s.endpoints.length;
    else instances += s.externalIPs.length;
  }
  assert.ok(ctx.full.ok, JSON.stringify(ctx.full));
  assert.equal(ctx.full.toConsul?.created, instances);
  assert.equal(finalRegs.length, instances);
  assert.ok(finalRegs.every((r) => r.Meta['external-k8s-sync-id'] === BENCH_SYNC_ID));
  // Consul → Kubernetes: every foreign service plus `consul` itself.
  assert.equal(ctx.full.toK8s?.created, size.consulServices + 1);

  for (const run of ctx.noChange) {
    assert.ok(run.ok);
    assert.equal(run.changes, 0, 'a converged world plans nothing');
    assert.equal(run.requests.consul['PUT /v1/txn'] ?? 0, 0);
    assert.deepEqual(
      Object.keys(run.requests.kube).filter((k) => !/^(list|get|watch) /.test(k)),
      [],
    );
  }
  // The list-only baseline makes the same reads as a no-change reconcile.
  assert.deepEqual(ctx.lists[0]!.requests, ctx.noChange[0]!.requests);

  // 1% run: the changed services, and only they, were written.
  const changed = ctx.changed.map((i) => worldService(size, i));
  assert.equal(changed.length, 5);
  assert.deepEqual(
    new Set(changed.map((s) => s.kind)),
    new Set(['nodeport', 'loadbalancer', 'clusterip', 'externalips']),
  );
  const changedRefs = changed.map((s) => `${s.namespace}/${s.name}`).sort();
  assert.deepEqual(ctx.diff.refs, changedRefs);
  const changedNames = new Set(changed.map((s) => s.name));
  assert.ok(txns.length > 0);
  for (const op of txns.flat()) {
    if (op.type === 'Node') continue;
    // Service ops name the Consul service; Check ops name the ServiceID (<name>-<12 hex>).
    const consulName =
      op.type === 'Service' ? op.service : op.service.replace(/-[0-9a-f]{12}$/, '');
    assert.ok(
      changedNames.has(consulName),
      `write for an unchanged service: ${JSON.stringify(op)}`,
    );
  }
  const ops =
    ctx.diff.servicesSet + ctx.diff.checksSet + ctx.diff.servicesDeleted + ctx.diff.checksDeleted;
  assert.ok(ops > 0);
  assert.ok(txns.length <= Math.ceil(ops / 64), `${txns.length} txns for ${ops} operations`);
  assert.deepEqual(
    result.targets.map((t) => t.name),
    [
      'full reconcile wall time (ms)',
      'no-change reconcile wall time (ms)',
      'no-change / list-only baseline',
      '1% run Consul write requests (bound: ceil(changed operations / 64))',
      'peak RSS of a reconcile (bytes; 250 MiB)',
    ],
  );
  assert.ok(result.targets[3]!.met);
  assert.ok((result.figures.peakRssBytes as number) > 0);
  assert.deepEqual(changedIndexes(size), ctx.changed);
});

test('end-to-end lag: Kubernetes writes reach Consul and Consul registrations reach Kubernetes', async () => {
  let inspected!: E2eLagContext;
  let regs: RegistrationRow[] = [];
  let foreign: RegistrationRow[] = [];
  let externalNames: string[] = [];
  const result = await runE2eLag({
    changes: 20,
    compiled: false,
    inspect: async (c) => {
      inspected = c;
      regs = await c.host.registrations(SYNC_NODE);
      foreign = await c.host.registrations(E2E_CONSUL_NODE);
      const res = await fetch(
        `${c.host.started.kubeUrl}/api/v1/namespaces/default/services?labelSelector=consul%3Dtrue`,
      );
      const list = (await res.json()) as {
        items: { metadata: { name: string }; spec: { type: string; externalName?: string } }[];
      };
      externalNames = list.items.map(
        (s) => `${s.metadata.name} ${s.spec.type} ${s.spec.externalName}`,
      );
    },
  });
  assert.deepEqual(result.checks.failures, []);
  assert.equal(result.checks.k8sToConsulObserved, 20);
  assert.equal(result.checks.consulToK8sObserved, 20);
  // 20 changes: 10 services created, then each moved to its second external IP.
  assert.equal(inspected.k8sServices.size, 10);
  const ours = regs.filter((r) => r.Meta['external-k8s-ns'] === 'bench-e2e');
  assert.deepEqual(
    ours.map((r) => `${r.Service} ${r.Address}:${r.Port}`).sort(),
    [...inspected.k8sServices].map(([name, ip]) => `${name} ${ip}:8080`).sort(),
  );
  assert.equal(foreign.length, 20);
  // docs/reference.md "Consul → Kubernetes": an ExternalName service per Consul service, `<name>.service.consul`.
  for (const name of inspected.consulServices)
    assert.ok(
      externalNames.includes(`${name} ExternalName ${name}.service.consul`),
      `${name} missing in ${externalNames.join(', ')}`,
    );
  assert.equal(result.targets.length, 2);
  // serve's own time per delivery, from its log: at least one delivery per registration.
  const handler = (result.figures as { consulToK8sHandler: { count: number } }).consulToK8sHandler;
  assert.ok(handler.count >= 20, `${handler.count} watch deliveries in serve's log`);
});

test('footprint: idle and loaded RSS are measured', async () => {
  const result = await runFootprint({
    events: 60,
    idleWaitMs: 200,
    probes: false,
    compiled: false,
  });
  const f = result.figures as Record<string, number>;
  assert.ok(f.idleRssBytes! > 0);
  assert.ok(f.underLoadPeakRssBytes! >= f.idleRssBytes! * 0.5);
  assert.equal(result.checks.loadFailures, 0);
  assert.equal(result.targets[0]!.name, 'idle RSS via tsx (bytes; 80 MiB)');
});

test('admission fault: the breaker opens on a hung Consul, and every deferred service reaches Consul once it answers', async () => {
  let ctx!: AdmissionFaultContext;
  let regs: RegistrationRow[] = [];
  const result = await runAdmissionFault({
    writes: 10,
    compiled: false,
    inspect: async (c) => {
      ctx = c;
      regs = await c.host.registrations(SYNC_NODE);
    },
  });
  const checks = result.checks;
  assert.deepEqual(checks.failures, []);
  assert.equal(checks.healthyConvergedBeforeFault, true);
  assert.equal(checks.healthyWebhookCalls, 10);
  // The breaker opened, and stayed open while the writes came in: each was answered deferred.
  assert.equal(checks.breakerOpened, true);
  assert.equal(checks.breakerOpenAtRecovery, true);
  assert.equal(checks.hungWebhookCalls, 10);
  assert.equal(checks.hungWebhookErrors, 0);
  assert.equal(checks.deferredAdmissions, 10);
  // The breaker-opening creates (at least the shipped --breaker-failures, 3), 5 services created
  // and the 5 healthy-phase services moved: all remembered, all stored.
  assert.ok(ctx.outage.length >= 13, ctx.outage.join(', '));
  assert.equal(checks.outageServices, ctx.outage.length);
  assert.equal(checks.rememberedBeforeRecovery, ctx.outage.length);
  for (const name of ctx.outage) assert.ok(ctx.stored.has(name), `${name} not stored`);
  // After the fault was cleared Consul holds exactly what the API server stored, the outage's
  // moves included (their third address, not the one Consul had before the outage).
  assert.equal(checks.converged, true);
  assert.deepEqual(checks.notConverged, []);
  assert.deepEqual(ctx.stored.get('floor-00000'), ['100.110.0.2']);
  const ours = regs.filter((r) => r.Meta['external-k8s-ns'] === FAULT_NAMESPACE);
  assert.deepEqual(
    ours.map((r) => `${r.Service} ${r.Address}:${r.Port}`).sort(),
    [...ctx.stored].flatMap(([name, ips]) => ips.map((ip) => `${name} ${ip}:8080`)).sort(),
  );
  assert.equal(checks.breakerClosed, true);
  assert.equal(checks.rememberedAfterRecovery, 0);
  assert.deepEqual(
    result.targets.map((t) => t.name),
    [
      'admission p99 with Consul hung, breaker open (ms)',
      'fault cleared → Consul holds the stored state of every deferred service (ms)',
    ],
  );
});

test('heavy input: a maximum-size Service registers exactly --max-instances-per-service instances, audit batches leave Consul exact', async () => {
  let ctx!: HeavyInputContext;
  const result = await runHeavyInput({
    rounds: 1,
    batches: 2,
    services: 100,
    eventsPerBatch: 120,
    compiled: false,
    inspect: async (c) => {
      ctx = c;
    },
  });
  const checks = result.checks;
  assert.deepEqual(checks.failures, []);
  // One CREATE and one UPDATE of each, every answer allowed; the big one warns about the limit.
  assert.equal(checks.bigAnswered, 2);
  assert.equal(checks.floorAnswered, 2);
  assert.equal(checks.bigWarned, 2);
  const bytes = checks.objectBytesMax as number;
  assert.ok(bytes <= MAX_OBJECT_BYTES && bytes > MAX_OBJECT_BYTES - 4096, String(bytes));
  // After the confirmations: the first 1,000 stored externalIPs, the UPDATE's moves included;
  // nothing for the Service in the denied namespace.
  assert.deepEqual(checks.instanceCounts, [1000]);
  assert.deepEqual(checks.wrongBig, []);
  assert.equal(checks.floorRegistered, 0);
  const stored = ctx.bigStored.get('big-00')!;
  assert.ok(stored.length > 100_000, String(stored.length));
  const ours = ctx.registrations
    .filter((r) => r.Meta['external-k8s-ns'] === HEAVY_NAMESPACE)
    .map((r) => r.Address);
  assert.ok(ours.includes('12.0.0.0') && !ours.includes('11.0.0.1'));
  assert.ok(!ours.includes(stored[1000]!));
  // /healthz answered throughout.
  assert.ok((checks.healthzPolls as number) > 0);
  assert.equal(checks.healthzFailures, 0);
  // Audit: every batch answered 200 after one read of the sync node, and a dry-run reconcile
  // afterwards finds nothing left to change in Consul.
  assert.ok((checks.registered as number) > 100);
  assert.deepEqual(checks.auditCodes, { 200: 2 });
  assert.deepEqual(checks.auditNodeReadsPerBatch, [1, 1]);
  assert.equal(checks.reconcileLeftOver, 0);
  assert.deepEqual(
    result.targets.map((t) => t.name),
    [
      'big Service admission p99 (ms)',
      '/healthz max while big admissions run (ms)',
      'audit batch p99 (ms)',
    ],
  );
});
