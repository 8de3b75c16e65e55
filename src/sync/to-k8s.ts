// Consul → Kubernetes: converge the ExternalName services we own to a Consul services view
// (SPEC.md §5, §6). Used by the watch handler and by reconcile.
import { planK8sServices, type K8sServiceChange } from '../plan/index.js';
import { desiredServiceObject, translateServicesView } from '../translate/index.js';
import { LABEL_CONSUL, LABEL_CONSUL_VALUE } from '../translate/keys.js';
import type { DesiredK8sService, Service, ServicesView } from '../translate/types.js';
import { SyncError, describeError, isSyncError } from '../errors.js';
import { countWrites, type SyncDeps } from './deps.js';

export interface DirectionSummary {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  skipped: number;
  failed: number;
}

export interface ViewConvergeResult extends ViewPlan {
  /** One line per failed write. */
  errors: string[];
}

export function emptySummary(): DirectionSummary {
  return { created: 0, updated: 0, deleted: 0, unchanged: 0, skipped: 0, failed: 0 };
}

/** The replacement object for an owned Service that drifted: ours restored, the rest kept. */
function restoredObject(current: Service, desired: DesiredK8sService): Service {
  const wanted = desiredServiceObject(desired);
  const spec: Record<string, unknown> = { ...(current.spec ?? {}) };
  if (current.spec?.type !== 'ExternalName') {
    // The API server refuses an ExternalName service that keeps a cluster IP or node ports.
    for (const key of [
      'clusterIP',
      'clusterIPs',
      'ipFamilies',
      'ipFamilyPolicy',
      'selector',
      'ports',
    ])
      delete spec[key];
  }
  return {
    ...current,
    metadata: {
      ...current.metadata,
      labels: { ...current.metadata?.labels, ...wanted.metadata?.labels },
      annotations: { ...current.metadata?.annotations, ...wanted.metadata?.annotations },
    },
    spec: { ...spec, type: 'ExternalName', externalName: desired.externalName },
  };
}

const isOurs = (svc: Service | null): boolean =>
  svc?.metadata?.labels?.[LABEL_CONSUL] === LABEL_CONSUL_VALUE;

async function applyChange(
  deps: SyncDeps,
  change: K8sServiceChange,
  summary: DirectionSummary,
): Promise<void> {
  const ns = change.namespace;
  if (change.op === 'create') {
    const created = await deps.kube.createService(ns, desiredServiceObject(change.desired!));
    if (created) {
      summary.created++;
      return;
    }
    // 409: another replica created it first, or a Service of that name is not ours.
    const existing = await deps.kube.readService({ namespace: ns, name: change.name });
    if (!isOurs(existing)) {
      summary.skipped++;
      deps.metrics.skipped.inc({ reason: 'conflict' });
      deps.logger.warn(
        { event: 'k8s-conflict', 'namespace/name': `${ns}/${change.name}` },
        `service ${ns}/${change.name} exists without label consul=true: consul service not synced`,
      );
      return;
    }
    await deps.kube.replaceService(ns, restoredObject(existing!, change.desired!));
    summary.updated++;
    return;
  }
  if (change.op === 'update') {
    try {
      await deps.kube.replaceService(ns, restoredObject(change.current!, change.desired!));
    } catch (err) {
      // 409: the object changed since it was read (or the read came from a cache): once more
      // from a fresh read, and only if it is still ours.
      if (!(isSyncError(err) && err.upstreamStatus === 409)) throw err;
      const fresh = await deps.kube.readService({ namespace: ns, name: change.name });
      if (!isOurs(fresh)) return;
      await deps.kube.replaceService(ns, restoredObject(fresh!, change.desired!));
    }
    summary.updated++;
    return;
  }
  const meta = change.current?.metadata;
  await deps.kube.deleteService(ns, change.name, {
    ...(meta?.uid ? { uid: meta.uid } : {}),
    ...(meta?.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
  });
  summary.deleted++;
}

export interface ViewPlan {
  summary: DirectionSummary;
  changes: K8sServiceChange[];
  warnings: string[];
  /** The view was empty: nothing will be deleted (SPEC.md §5). */
  emptyView: boolean;
  /** Services we own now, for the delete-ratio guard. */
  owned: number;
}

/** Reads the owned services and plans them against the view; writes nothing. */
export async function planServicesView(
  deps: SyncDeps,
  view: ServicesView,
  options: { cached?: boolean } = {},
): Promise<ViewPlan> {
  const { settings, logger } = deps;
  const translation = translateServicesView(view, settings);
  const summary = emptySummary();
  summary.skipped = translation.skipped.filter((s) => s.reason !== 'k8s-tag').length;
  for (const s of translation.skipped) {
    if (s.reason !== 'k8s-tag') deps.metrics.skipped.inc({ reason: s.reason });
  }
  const emptyView = Object.keys(view).length === 0;
  const current = await deps.kube.listLabelledServices(settings.k8sWriteNamespace, options);
  const plan = planK8sServices({ desired: translation.services, current, settings });
  summary.unchanged = plan.unchanged;
  summary.skipped += plan.conflicts.length;
  let changes = plan.changes;
  if (emptyView) {
    // Consul always lists at least `consul`: an empty view is a token or watch problem.
    logger.warn({ event: 'empty-services-view' }, 'empty Consul services view: deleting nothing');
    changes = changes.filter((c) => c.op !== 'delete');
  }
  return { summary, changes, warnings: translation.warnings, emptyView, owned: plan.owned };
}

/** Applies a view plan with bounded concurrency; failures are counted, never thrown. */
export async function applyServicesView(
  deps: SyncDeps,
  plan: ViewPlan,
  options: { dryRun?: boolean; concurrency?: number } = {},
): Promise<ViewConvergeResult> {
  const { logger } = deps;
  const result: ViewConvergeResult = { ...plan, errors: [] };
  const { summary, changes } = plan;
  if (changes.length === 0) return result;
  if (options.dryRun || deps.settings.dryRun) {
    logger.info(
      {
        event: 'dry-run',
        target: 'kubernetes',
        changes: changes.map((c) => `${c.op} ${c.namespace}/${c.name} (${c.reason})`),
      },
      'dry run: not writing',
    );
    return result;
  }
  const queue = [...changes];
  const worker = async (): Promise<void> => {
    for (let change = queue.shift(); change; change = queue.shift()) {
      try {
        await applyChange(deps, change, summary);
        countWrites(deps.metrics, 'kubernetes', [change], 'ok');
      } catch (err) {
        summary.failed++;
        countWrites(deps.metrics, 'kubernetes', [change], 'error');
        const message = `${change.op} ${change.namespace}/${change.name}: ${describeError(err)}`;
        result.errors.push(message);
        logger.error(
          {
            event: 'k8s-write-failed',
            'namespace/name': `${change.namespace}/${change.name}`,
            op: change.op,
            err: describeError(err),
          },
          'kubernetes write failed',
        );
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 8, queue.length) }, worker),
  );
  return result;
}

/** The watch handler's use case: plan and apply in one go. */
export async function convergeServicesView(
  deps: SyncDeps,
  view: ServicesView,
  options: { dryRun?: boolean } = {},
): Promise<ViewConvergeResult> {
  // Watch deliveries come on every catalog change: read our services from the watch cache.
  return applyServicesView(deps, await planServicesView(deps, view, { cached: true }), options);
}

export function assertNoFailures(result: ViewConvergeResult): void {
  if (result.summary.failed > 0) {
    throw new SyncError(
      'WRITE_FAILED',
      `${result.summary.failed} kubernetes write(s) failed: ${result.errors[0] ?? ''}`,
    );
  }
}
