// One reconcile (or the list-only baseline) in a process of its own, so that its peak RSS
// (process.resourceUsage().maxRSS) is the reconcile's alone. Same wiring as the `reconcile`
// command: parseConfig → createRuntime → reconcile. Answers with one IPC message.
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { createRuntime } from '../../src/sync/runtime.js';
import { RECONCILE_TIMEOUT_FACTOR, reconcile } from '../../src/sync/reconcile.js';
import { META_K8S_SYNC, META_K8S_SYNC_MODE } from '../../src/translate/keys.js';

export interface ReconcileChildInput {
  /** 'reconcile': the full two-way reconcile; 'lists': only the reads it must make. */
  mode: 'reconcile' | 'lists';
  consulAddress: string;
  kubeconfigPath: string;
  flags: string[];
}

export interface ReconcileChildOutput {
  wallMs: number;
  /** process.resourceUsage().maxRSS, in bytes. */
  maxRssBytes: number;
  /** RSS once the modules are loaded, before the run. */
  rssBeforeBytes: number;
  /**
   * process.memoryUsage() sampled every 10 ms during the run: the sample with the highest RSS,
   * and the highest heapUsed seen (V8's heap including garbage not yet collected).
   */
  memoryAtPeak: {
    rss: number;
    heapUsed: number;
    heapTotal: number;
    external: number;
    arrayBuffers: number;
  };
  maxHeapUsedBytes: number;
  ok: boolean;
  toConsul?: Record<string, unknown>;
  toK8s?: Record<string, unknown>;
  changes: number;
  /** What the lists returned (lists mode), or the plan's change count by op (reconcile). */
  counts: Record<string, number>;
}

/** Samples process.memoryUsage() every 10 ms until stopped (see ReconcileChildOutput). */
function sampleMemory(): {
  stop(): Pick<ReconcileChildOutput, 'memoryAtPeak' | 'maxHeapUsedBytes'>;
} {
  let atPeak = process.memoryUsage();
  let maxHeapUsed = atPeak.heapUsed;
  const take = (): void => {
    const m = process.memoryUsage();
    if (m.rss > atPeak.rss) atPeak = m;
    if (m.heapUsed > maxHeapUsed) maxHeapUsed = m.heapUsed;
  };
  const timer = setInterval(take, 10);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      const { rss, heapUsed, heapTotal, external, arrayBuffers } = atPeak;
      return {
        memoryAtPeak: { rss, heapUsed, heapTotal, external, arrayBuffers },
        maxHeapUsedBytes: maxHeapUsed,
      };
    },
  };
}

async function main(input: ReconcileChildInput): Promise<ReconcileChildOutput> {
  const config = parseConfig(
    [
      'reconcile',
      `--consul-http-addr=${input.consulAddress}`,
      `--kubeconfig=${input.kubeconfigPath}`,
      ...input.flags,
    ],
    {},
  );
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const runtime = createRuntime(config, {
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
  });
  try {
    const deps = await runtime.deps();
    const rssBeforeBytes = process.memoryUsage().rss;
    const sampler = sampleMemory();
    const started = performance.now();
    if (input.mode === 'lists') {
      // With the bounds reconcile gives its reads (a 17 MB catalog read can outlast the event
      // path's 3 s on a busy machine).
      const t = deps.settings.writeTimeoutMs * RECONCILE_TIMEOUT_FACTOR;
      const [services, slices, nodes, registrations, view, labelled] = await Promise.all([
        deps.kube.listAllServices(undefined, t),
        deps.kube.listAllEndpointSlices(undefined, t),
        deps.kube.listAllNodes(t),
        deps.consul.readAll(t),
        deps.consul.readServicesView(t),
        deps.kube.listLabelledServices(deps.settings.k8sWriteNamespace),
        // Which k8s-tagged names also have other instances (they keep their mirror).
        deps.consul.readNamesWithoutTag(deps.settings.consulK8sTag, t),
        // Per-service control: meta k8s-sync "false" and k8s-sync-mode (issue 16).
        deps.consul.readNamesWithMeta(META_K8S_SYNC, 'false', t),
        deps.consul.readNamesWithMeta(META_K8S_SYNC_MODE, 'endpoints', t),
        deps.consul.readNamesWithMeta(META_K8S_SYNC_MODE, 'externalname', t),
      ]);
      const wallMs = performance.now() - started;
      return {
        wallMs,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        rssBeforeBytes,
        ...sampler.stop(),
        ok: true,
        changes: 0,
        counts: {
          services: services.length,
          endpointSlices: slices.length,
          nodes: nodes.length,
          registrations: registrations.registrations.length,
          consulServices: Object.keys(view.view).length,
          labelledServices: labelled.length,
        },
      };
    }
    const report = await reconcile(deps, {
      direction: config.reconcile.direction,
      dryRun: false,
      force: config.reconcile.force,
      maxDeleteRatio: config.reconcile.maxDeleteRatio,
      deleteGuardMin: config.reconcile.deleteGuardMin,
    });
    const wallMs = performance.now() - started;
    const memory = sampler.stop();
    const counts: Record<string, number> = {};
    for (const c of report.changes) {
      const key = `${c.target} ${c.op}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return {
      wallMs,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      rssBeforeBytes,
      ...memory,
      ok: report.ok,
      ...(report.toConsul ? { toConsul: { ...report.toConsul } } : {}),
      ...(report.toK8s ? { toK8s: { ...report.toK8s } } : {}),
      changes: report.changes.length,
      counts,
    };
  } finally {
    runtime.close();
  }
}

process.once('message', (msg: unknown) => {
  main(msg as ReconcileChildInput).then(
    (result) => process.send?.({ ok: true, result }, () => process.exit(0)),
    (err: unknown) =>
      process.send?.(
        { ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) },
        () => process.exit(1),
      ),
  );
});
