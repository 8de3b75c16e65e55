// Scenario 2, reconcile scale: a large cluster (10,000 services: 40% NodePort, 30% LoadBalancer,
// 20% ClusterIP with --sync-clusterip-services, 10% externalIPs; 50,000 endpoints on 100 nodes)
// and 2,000 foreign Consul services. Full reconcile into an empty Consul, no-change reconciles,
// then one after 1% of the services changed; each in its own process (wall time, peak RSS) with
// the emulators' request counts by kind. Baseline: only the list calls reconcile must make,
// alternated with the no-change runs.
import { EmulatorHost, type CatalogDiff, type RequestCounts } from './emulators.js';
import {
  BENCH_SYNC_ID,
  changedIndexes,
  nodePortsNeeded,
  worldSize,
  type WorldSize,
} from './fixtures.js';
import {
  RECONCILE_CHILD_BUNDLE,
  buildCompiled,
  reconcileJobNodeOptions,
  runScript,
} from './procs.js';
import { join } from 'node:path';
import type { ReconcileChildInput, ReconcileChildOutput } from './reconcile-child.js';
import { atMost, mb, ms, ratio, type ScenarioResult } from './report.js';
import { NODE_PORT_MAX, NODE_PORT_MIN } from '../../dev/emulators/kube/services.js';

export interface ReconcileScaleOptions {
  /** 1 = issue 10's sizes. */
  scale: number;
  /** Override the share of services the "1% changed" step changes. */
  changedFraction?: number;
  /** No-change / list-only pairs (medians are reported). */
  repeats?: number;
  /** Record every txn operation (tests; adds a proxy hop in front of Consul). */
  recordTxns?: boolean;
  /** Node options for the reconcile processes, e.g. --cpu-prof. */
  childNodeArgs?: string[];
  emulatorNodeArgs?: string[];
  inspect?: (ctx: ReconcileScaleContext) => Promise<void>;
  /**
   * Run the reconcile processes compiled, as the reconcile CronJob does (default), rather than
   * through tsx (whose loader adds tens of MB to every figure of RSS).
   */
  compiled?: boolean;
}

export interface RunFigures extends ReconcileChildOutput {
  requests: RequestCounts;
}

export interface ReconcileScaleContext {
  host: EmulatorHost;
  size: WorldSize;
  changed: number[];
  full: RunFigures;
  noChange: RunFigures[];
  lists: RunFigures[];
  onePercent: RunFigures;
  diff: CatalogDiff;
}

const SYNC_NODE = 'k8s-sync';
/** Issue 18: peak RSS of a reconcile of 10,000 services / 50,000 endpoints. */
const PEAK_RSS_TARGET = 250 * 1024 * 1024;

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const sum = (counts: Record<string, number>, match: (kind: string) => boolean): number =>
  Object.entries(counts)
    .filter(([k]) => match(k))
    .reduce((a, [, n]) => a + n, 0);

export const consulWrites = (c: RequestCounts): number =>
  sum(c.consul, (k) => /^(PUT|POST|DELETE) /.test(k));
export const kubeWrites = (c: RequestCounts): number =>
  sum(c.kube, (k) => /^(create|update|patch|delete|deletecollection) /.test(k));
const total = (m: Record<string, number>): number => sum(m, () => true);

function shortCounts(c: RequestCounts): string {
  const fmt = (m: Record<string, number>): string =>
    Object.entries(m)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ');
  return `consul: ${fmt(c.consul)}; kube: ${fmt(c.kube)}`;
}

export async function runReconcileScale(options: ReconcileScaleOptions): Promise<ScenarioResult> {
  const size: WorldSize = {
    ...worldSize(options.scale),
    ...(options.changedFraction ? { changedFraction: options.changedFraction } : {}),
  };
  const repeats = options.repeats ?? 3;
  const compiledDir = (options.compiled ?? true) ? await buildCompiled() : undefined;
  const needed = nodePortsNeeded(size);
  const nodePortMax =
    needed > NODE_PORT_MAX - NODE_PORT_MIN + 1 ? NODE_PORT_MIN + needed + 1000 : undefined;
  const host = await EmulatorHost.start(
    {
      ...(nodePortMax ? { nodePortMax } : {}),
      ...(options.recordTxns ? { recordTxns: true } : {}),
    },
    options.emulatorNodeArgs,
  );
  try {
    const seeded = (await host.call({ type: 'seed-world', size, consul: true })) as {
      objects: number;
      consulServices: number;
      ms: number;
    };
    const input = (mode: ReconcileChildInput['mode']): ReconcileChildInput => ({
      mode,
      consulAddress: host.started.clientConsulAddress,
      kubeconfigPath: host.started.kubeconfigPath,
      flags: ['--sync-clusterip-services', `--sync-id=${BENCH_SYNC_ID}`],
    });
    // As the CronJob runs it: the bundle, with the job's NODE_OPTIONS.
    const jobNodeOptions = compiledDir ? reconcileJobNodeOptions() : '';
    const runOnce = async (mode: ReconcileChildInput['mode']): Promise<RunFigures> => {
      await host.resetCounts();
      const out = await runScript<ReconcileChildOutput>(
        compiledDir ? join(compiledDir, RECONCILE_CHILD_BUNDLE) : 'reconcile-child.ts',
        input(mode),
        options.childNodeArgs ?? [],
        undefined,
        !compiledDir,
        { NODE_OPTIONS: jobNodeOptions },
      );
      return { ...out, requests: await host.counts() };
    };

    const full = await runOnce('reconcile');
    const noChange: RunFigures[] = [];
    const lists: RunFigures[] = [];
    for (let r = 0; r < repeats; r++) {
      // Alternate which goes first, so neither always runs on the other's leftovers.
      if (r % 2 === 0) {
        lists.push(await runOnce('lists'));
        noChange.push(await runOnce('reconcile'));
      } else {
        noChange.push(await runOnce('reconcile'));
        lists.push(await runOnce('lists'));
      }
    }

    const changed = changedIndexes(size);
    await host.call({ type: 'mark', node: SYNC_NODE });
    await host.call({ type: 'seed-changed', size, changed });
    const onePercent = await runOnce('reconcile');
    const diff = (await host.call({ type: 'diff', node: SYNC_NODE })) as CatalogDiff;
    await options.inspect?.({ host, size, changed, full, noChange, lists, onePercent, diff });

    const listsMs = median(lists.map((l) => l.wallMs));
    const noChangeMs = median(noChange.map((n) => n.wallMs));
    const changedOps =
      diff.servicesSet + diff.checksSet + diff.servicesDeleted + diff.checksDeleted;
    const txnBound = Math.ceil(changedOps / 64);
    const oneTxns = onePercent.requests.consul['PUT /v1/txn'] ?? 0;
    const oneWrites = consulWrites(onePercent.requests);
    const peakRss = Math.max(
      full.maxRssBytes,
      onePercent.maxRssBytes,
      ...noChange.map((n) => n.maxRssBytes),
    );
    const ratios = {
      fullVsLists: ratio(full.wallMs, listsMs),
      noChangeVsLists: ratio(noChangeMs, listsMs),
      onePercentVsLists: ratio(onePercent.wallMs, listsMs),
    };
    const targets = [
      atMost('full reconcile wall time (ms)', full.wallMs, 10_000),
      atMost('no-change reconcile wall time (ms)', noChangeMs, 3_000),
      atMost('no-change / list-only baseline', ratios.noChangeVsLists, 2),
      atMost(
        '1% run Consul write requests (bound: ceil(changed operations / 64))',
        oneWrites,
        txnBound,
      ),
      atMost('peak RSS of a reconcile (bytes; 250 MiB)', peakRss, PEAK_RSS_TARGET),
    ];
    const runFigure = (r: RunFigures): Record<string, unknown> => ({
      wallMs: r.wallMs,
      maxRssBytes: r.maxRssBytes,
      rssBeforeBytes: r.rssBeforeBytes,
      memoryAtPeak: r.memoryAtPeak,
      maxHeapUsedBytes: r.maxHeapUsedBytes,
      ok: r.ok,
      changes: r.changes,
      changesByKind: r.counts,
      toConsul: r.toConsul,
      toK8s: r.toK8s,
      requests: r.requests,
      consulRequests: total(r.requests.consul),
      kubeRequests: total(r.requests.kube),
    });
    return {
      scenario: 'reconcile-scale',
      params: {
        ...size,
        endpoints: size.services * size.endpointsPerService,
        changedServices: changed.length,
        repeats,
        nodePortRange: `${NODE_PORT_MIN}-${nodePortMax ?? NODE_PORT_MAX}`,
        reconcileProcess: compiledDir
          ? `bundled as the CLI is, NODE_OPTIONS=${jobNodeOptions} (the CronJob's)`
          : 'tsx',
        seededObjects: seeded.objects,
        seedMs: seeded.ms,
      },
      figures: {
        full: runFigure(full),
        noChange: noChange.map(runFigure),
        noChangeMedianMs: noChangeMs,
        listOnly: lists.map(runFigure),
        listOnlyMedianMs: listsMs,
        onePercent: { ...runFigure(onePercent), catalogDiff: diff },
        onePercentChangedOperations: changedOps,
        onePercentTxnBound: txnBound,
        onePercentTxns: oneTxns,
        peakRssBytes: peakRss,
      },
      ratios,
      targets,
      rows: [
        {
          metric: `full reconcile (${full.changes} changes)`,
          ours: ms(full.wallMs),
          baseline: ms(listsMs),
          ratio: ratios.fullVsLists,
          target: '<= 10 s',
          met: full.wallMs <= 10_000,
        },
        {
          metric: 'no-change reconcile (median)',
          ours: ms(noChangeMs),
          baseline: ms(listsMs),
          ratio: ratios.noChangeVsLists,
          target: '<= 3 s, <= 2 × baseline',
          met: noChangeMs <= 3_000 && ratios.noChangeVsLists <= 2,
        },
        {
          metric: `1% changed (${changed.length} services, ${changedOps} operations)`,
          ours: ms(onePercent.wallMs),
          baseline: ms(listsMs),
          ratio: ratios.onePercentVsLists,
        },
        {
          metric: '1% changed: Consul write requests',
          ours: String(oneWrites),
          target: `<= ${txnBound}`,
          met: oneWrites <= txnBound,
        },
        {
          metric: 'peak RSS (full / no-change, highest / 1%)',
          ours: `${mb(full.maxRssBytes)} / ${mb(Math.max(...noChange.map((n) => n.maxRssBytes)))} / ${mb(onePercent.maxRssBytes)}`,
          baseline: mb(Math.max(...lists.map((l) => l.maxRssBytes))),
          target: '<= 250 MiB',
          met: peakRss <= PEAK_RSS_TARGET,
        },
        {
          metric: 'at the highest peak: V8 heap used / external (of which array buffers)',
          ours: ((): string => {
            const top = [full, onePercent, ...noChange].reduce((a, b) =>
              b.maxRssBytes > a.maxRssBytes ? b : a,
            ).memoryAtPeak;
            return `${mb(top.heapUsed)} / ${mb(top.external)} (${mb(top.arrayBuffers)})`;
          })(),
        },
        { metric: 'requests, full', ours: shortCounts(full.requests) },
        {
          metric: 'requests, no-change',
          ours: shortCounts(noChange[0]!.requests),
          baseline: shortCounts(lists[0]!.requests),
        },
        { metric: 'requests, 1% changed', ours: shortCounts(onePercent.requests) },
      ],
      checks: {
        fullOk: full.ok,
        noChangeOk: noChange.every((n) => n.ok),
        noChangeChanges: noChange.map((n) => n.changes),
        noChangeWrites: noChange.map((n) => consulWrites(n.requests) + kubeWrites(n.requests)),
        onePercentOk: onePercent.ok,
        changedRefs: diff.refs,
        fullRegistrations: full.toConsul?.created,
        listCounts: lists[0]?.counts,
      },
    };
  } finally {
    await host.close();
  }
}
