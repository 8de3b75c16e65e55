// Consul → Kubernetes: converge the ExternalName services we own to a Consul services view
// (docs/reference.md "Consul → Kubernetes", "Ownership and safety"). Used by the watch handler and by reconcile.
import { planK8sServices, withholdDeletes, type K8sServiceChange } from '../plan/index.js';
import {
  desiredServiceObject,
  isOwnedK8sService,
  translateServicesView,
} from '../translate/index.js';
import type { DesiredK8sService, Service, ServicesView } from '../translate/types.js';
import { SyncError, describeError, isSyncError } from '../errors.js';
import { createLimiter } from '../concurrency.js';
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
  /** A write failed because the API server was unavailable (the breaker counts it). */
  unavailable: boolean;
  /** Planned changes that turned out to be conflicts when written (not applied). */
  conflicted: K8sServiceChange[];
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

/** What applying one change did; `conflict`: a create found a Service that is not ours. */
type Applied = 'written' | 'conflict';

async function applyChange(
  deps: SyncDeps,
  change: K8sServiceChange,
  summary: DirectionSummary,
): Promise<Applied> {
  const ns = change.namespace;
  if (change.op === 'create') {
    const created = await deps.kube.createService(ns, desiredServiceObject(change.desired!));
    if (created) {
      summary.created++;
      return 'written';
    }
    // 409: another replica created it first, or a Service of that name is not ours (created
    // between the plan's read and this write).
    const existing = await deps.kube.readService({ namespace: ns, name: change.name });
    if (!isOwnedK8sService(existing, deps.settings)) {
      summary.skipped++;
      deps.metrics.skipped.inc({ reason: 'conflict' });
      deps.logger.warn(
        { event: 'k8s-conflict', 'namespace/name': `${ns}/${change.name}` },
        `service ${ns}/${change.name} exists without label consul=true: consul service not synced`,
      );
      return 'conflict';
    }
    await deps.kube.replaceService(ns, restoredObject(existing!, change.desired!));
    summary.updated++;
    return 'written';
  }
  if (change.op === 'update') {
    try {
      await deps.kube.replaceService(ns, restoredObject(change.current!, change.desired!));
    } catch (err) {
      // 409: the object changed since it was read (or the read came from a cache): once more
      // from a fresh read, and only if it is still ours.
      if (!(isSyncError(err) && err.upstreamStatus === 409)) throw err;
      const fresh = await deps.kube.readService({ namespace: ns, name: change.name });
      if (!isOwnedK8sService(fresh, deps.settings)) return 'conflict';
      await deps.kube.replaceService(ns, restoredObject(fresh!, change.desired!));
    }
    summary.updated++;
    return 'written';
  }
  const meta = change.current?.metadata;
  await deps.kube.deleteService(ns, change.name, {
    ...(meta?.uid ? { uid: meta.uid } : {}),
    ...(meta?.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
  });
  summary.deleted++;
  return 'written';
}

export interface ViewPlan {
  summary: DirectionSummary;
  changes: K8sServiceChange[];
  warnings: string[];
  /** The view was empty: nothing will be deleted (docs/reference.md "Consul → Kubernetes"). */
  emptyView: boolean;
  /** The view was read partially (ACL-filtered): nothing will be deleted. */
  filtered: boolean;
  /** Deletions left out of `changes` because of an empty or filtered view. */
  withheldDeletes: number;
  /** Services we own now, for the delete-ratio guard. */
  owned: number;
  /** Names held by a Service that is not ours: never written. */
  conflicts: { name: string; reason: string }[];
}

/**
 * Reads the owned services and plans them against the view; writes nothing. A name the plan
 * would create is checked against every Service of the write namespace first, so a name held by
 * a Service that is not ours is a known conflict, never a write attempt.
 */
export async function planServicesView(
  deps: SyncDeps,
  view: ServicesView,
  options: { cached?: boolean; withholdDeletes?: boolean } = {},
): Promise<ViewPlan> {
  const { settings, logger } = deps;
  const shared = await sharedNames(deps, view);
  const translation = translateServicesView(view, settings, {
    notOnlyFromKubernetes: shared.names,
  });
  const summary = emptySummary();
  summary.skipped = translation.skipped.filter((s) => s.reason !== 'k8s-tag').length;
  for (const s of translation.skipped) {
    if (s.reason !== 'k8s-tag') deps.metrics.skipped.inc({ reason: s.reason });
  }
  const emptyView = Object.keys(view).length === 0;
  const ns = settings.k8sWriteNamespace;
  const desired = translation.services;
  let plan = planK8sServices({
    desired,
    current: await deps.kube.listLabelledServices(ns, options),
    settings,
  });
  if (plan.changes.some((c) => c.op === 'create')) {
    // Only Services labelled consul=true were listed: a name to create may be taken by another.
    const all = await deps.kube.listServices(ns, options);
    plan = planK8sServices({ desired, current: all, settings });
  }
  summary.unchanged = plan.unchanged;
  summary.skipped += plan.conflicts.length;
  reportConflicts(deps, plan.conflicts);
  let changes = plan.changes;
  let withheldDeletes = 0;
  if (emptyView || options.withholdDeletes || shared.partial) {
    // Consul always lists at least `consul`: an empty view is a token or watch problem; a
    // filtered one hides services that exist.
    const kept = withholdDeletes(changes);
    changes = kept.changes;
    withheldDeletes = kept.withheld.length;
    if (emptyView)
      logger.warn({ event: 'empty-services-view' }, 'empty Consul services view: deleting nothing');
  }
  return {
    summary,
    changes,
    warnings: translation.warnings,
    emptyView,
    filtered: options.withholdDeletes ?? false,
    withheldDeletes,
    owned: plan.owned,
    conflicts: plan.conflicts,
  };
}

/**
 * Which k8s-tagged names of the view also have instances without the tag, that is not
 * registered from Kubernetes (they keep their mirror): one read, made only when the view has a k8s-tagged name. `partial` when that read
 * failed or was filtered: the plan then deletes nothing, since a mirror it would remove may be
 * one of them.
 */
async function sharedNames(
  deps: SyncDeps,
  view: ServicesView,
): Promise<{ names: Set<string>; partial: boolean }> {
  const tag = deps.settings.consulK8sTag;
  const tagged =
    tag !== '' && Object.values(view).some((tags) => Array.isArray(tags) && tags.includes(tag));
  if (!tagged) return { names: new Set(), partial: false };
  try {
    const read = await deps.consul.readNamesWithoutTag(tag, deps.settings.writeTimeoutMs);
    return { names: read.names, partial: read.filtered };
  } catch (err) {
    deps.logger.warn(
      { event: 'shared-names-read-failed', err: describeError(err) },
      'could not tell which k8s-tagged Consul services also have other instances: deleting nothing this time',
    );
    return { names: new Set(), partial: true };
  }
}

/**
 * Names held by Services that are not ours are counted on every plan and logged once per name
 * while they stay in conflict (a busy watch would otherwise repeat the line on every delivery).
 */
function reportConflicts(deps: SyncDeps, conflicts: readonly { name: string; reason: string }[]) {
  const logged = deps.loggedConflicts;
  const now = new Set(conflicts.map((c) => c.name));
  for (const c of conflicts) {
    deps.metrics.skipped.inc({ reason: 'conflict' });
    if (logged?.has(c.name)) continue;
    logged?.add(c.name);
    deps.logger.warn(
      { event: 'k8s-conflict', 'namespace/name': `${deps.settings.k8sWriteNamespace}/${c.name}` },
      c.reason,
    );
  }
  if (logged) {
    for (const name of logged) if (!now.has(name)) logged.delete(name);
    // Bounded: past this many names in conflict, lines repeat rather than memory grow.
    if (logged.size > 10_000) logged.clear();
  }
}

/** Applies a view plan, `--concurrency` writes at a time; failures are counted, never thrown. */
export async function applyServicesView(
  deps: SyncDeps,
  plan: ViewPlan,
  options: { dryRun?: boolean } = {},
): Promise<ViewConvergeResult> {
  const { logger } = deps;
  const result: ViewConvergeResult = { ...plan, errors: [], unavailable: false, conflicted: [] };
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
  const limit = createLimiter(deps.settings.concurrency);
  const apply = async (change: K8sServiceChange): Promise<void> => {
    try {
      if ((await applyChange(deps, change, summary)) === 'conflict') {
        result.conflicted.push(change);
        return;
      }
      countWrites(deps.metrics, 'kubernetes', [change], 'ok');
    } catch (err) {
      summary.failed++;
      if (isSyncError(err) && err.code === 'KUBE_UNAVAILABLE') result.unavailable = true;
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
  };
  await Promise.all(changes.map((change) => limit(() => apply(change))));
  return result;
}

/** The watch handler's use case: plan and apply in one go. */
export async function convergeServicesView(
  deps: SyncDeps,
  view: ServicesView,
  options: { dryRun?: boolean } = {},
): Promise<ViewConvergeResult> {
  // Watch deliveries come on every catalog change: read our services from the watch cache.
  const plan = await planServicesView(deps, view, { cached: true });
  return applyServicesView(deps, await confirmDeletes(deps, plan), options);
}

/**
 * A delivery was read with the watch's token, and Consul does not tell the handler whether that
 * view was filtered by ACLs: a partial view reads as services gone. So before a delivery deletes
 * a mirror, Consul is read once with our token (only when deletions are planned): a name whose
 * Consul service still exists without the k8s tag keeps its mirror, and a filtered read deletes
 * nothing.
 */
async function confirmDeletes(deps: SyncDeps, plan: ViewPlan): Promise<ViewPlan> {
  if (!plan.changes.some((c) => c.op === 'delete')) return plan;
  const { settings } = deps;
  let stillThere: Set<string> | undefined;
  try {
    const own = await deps.consul.readServicesView(settings.writeTimeoutMs);
    // A name carrying the k8s tag was already decided from our own read (sharedNames).
    const tag = settings.consulK8sTag;
    if (!own.filtered && Object.keys(own.view).length > 0)
      stillThere = new Set(
        Object.entries(own.view)
          .filter(([, tags]) => tag === '' || !(Array.isArray(tags) && tags.includes(tag)))
          .map(([n]) => (settings.k8sServicePrefix + n).toLowerCase()),
      );
  } catch (err) {
    deps.logger.warn(
      { event: 'view-read-failed', err: describeError(err) },
      'could not confirm the deletions of a watch delivery: deleting nothing this time',
    );
  }
  const keep = (c: K8sServiceChange): boolean =>
    c.op !== 'delete' || (stillThere !== undefined && !stillThere.has(c.name));
  const changes = plan.changes.filter(keep);
  return {
    ...plan,
    changes,
    withheldDeletes: plan.withheldDeletes + plan.changes.length - changes.length,
  };
}

export function assertNoFailures(result: ViewConvergeResult): void {
  if (result.summary.failed > 0) {
    throw new SyncError(
      'WRITE_FAILED',
      `${result.summary.failed} kubernetes write(s) failed: ${result.errors[0] ?? ''}`,
    );
  }
}
