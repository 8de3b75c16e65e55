// Reconcile (SPEC.md §7): list both systems completely, plan the full difference in both
// directions, and apply it (or only report it: dry run). One code path for the CLI, the
// /reconcile endpoint and the in-process interval.
import {
  checkDeleteRatio,
  planAllRegistrations,
  sortChanges,
  type Change,
  type RegistrationChange,
} from '../plan/index.js';
import { translateService, type ConsulTranslation } from '../translate/index.js';
import { LABEL_SERVICE_NAME, META_K8S_NAMESPACE } from '../translate/keys.js';
import type { EndpointSlice, Node, Service } from '../translate/types.js';
import { SyncError, describeError } from '../errors.js';
import type { Direction } from '../config/index.js';
import { countWrites, type SyncDeps } from './deps.js';
import { convergeServicesView, emptySummary, type DirectionSummary } from './to-k8s.js';

export interface ReconcileOptions {
  direction: Direction;
  dryRun: boolean;
  force: boolean;
  maxDeleteRatio: number;
}

export interface DirectionReport extends DirectionSummary {
  /** Set when the direction was aborted (a failed read, the delete guard) or a write failed. */
  error?: string;
  conflicts: number;
}

export interface ReconcileReport {
  toConsul?: DirectionReport;
  toK8s?: DirectionReport;
  changes: Change[];
  warnings: string[];
  dryRun: boolean;
  ok: boolean;
}

function report(summary: DirectionSummary = emptySummary()): DirectionReport {
  return { ...summary, conflicts: 0 };
}

function guardDeletes(
  options: ReconcileOptions,
  deletes: number,
  owned: number,
  what: string,
): void {
  if (options.force) return;
  const verdict = checkDeleteRatio({ deletes, owned, maxRatio: options.maxDeleteRatio });
  if (!verdict.allowed) {
    throw new SyncError(
      'DELETE_RATIO_EXCEEDED',
      `${what}: ${verdict.message} (--max-delete-ratio=${options.maxDeleteRatio}); run with --force if this is intended`,
    );
  }
}

/** Kubernetes → Consul for every service at once. Any failed read aborts before any write. */
async function reconcileToConsul(
  deps: SyncDeps,
  options: ReconcileOptions,
  out: ReconcileReport,
): Promise<DirectionReport> {
  const { settings } = deps;
  // The allow-list is this installation's scope: a reconcile sharded by namespace
  // (--allow-k8s-namespace) lists and plans only its namespaces and leaves the rest, including
  // registrations of other namespaces, to the other shards. Denied namespaces stay in scope, so
  // a newly denied namespace is deregistered.
  const scope = settings.allowK8sNamespaces.includes('*')
    ? undefined
    : [...new Set(settings.allowK8sNamespaces)];
  const listScoped = async <T>(list: (ns?: string) => Promise<T[]>): Promise<T[]> =>
    scope ? (await Promise.all(scope.map((ns) => list(ns)))).flat() : list();
  const [services, slices, nodes, everything] = await Promise.all([
    listScoped((ns) => deps.kube.listAllServices(ns)),
    listScoped((ns) => deps.kube.listAllEndpointSlices(ns)),
    deps.kube.listAllNodes(),
    deps.consul.readAll(),
  ]);
  const current = scope
    ? everything.filter((r) => scope.includes(r.meta[META_K8S_NAMESPACE] ?? ''))
    : everything;
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const slice of slices) {
    const name = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
    if (!name) continue;
    const key = `${slice.metadata?.namespace ?? ''}/${name}`;
    const list = slicesByService.get(key);
    if (list) list.push(slice);
    else slicesByService.set(key, [slice]);
  }
  const nodesByName = new Map<string, Node>();
  for (const node of nodes) if (node.metadata?.name) nodesByName.set(node.metadata.name, node);

  const translations: ConsulTranslation[] = services.map((service: Service) => {
    const key = `${service.metadata?.namespace ?? ''}/${service.metadata?.name ?? ''}`;
    return translateService(
      { service, endpointSlices: slicesByService.get(key) ?? [], nodes: nodesByName },
      settings,
    );
  });
  for (const t of translations)
    out.warnings.push(...t.warnings.map((w) => `${t.ref.namespace}/${t.ref.name}: ${w}`));

  const plan = planAllRegistrations({ translations, current, syncId: settings.syncId });
  const result = report();
  result.unchanged = plan.unchanged;
  result.conflicts = plan.conflicts.length;
  result.skipped = plan.conflicts.length;
  for (const c of plan.changes) {
    if (c.op === 'create') result.created++;
    else if (c.op === 'update') result.updated++;
    else result.deleted++;
  }
  out.changes.push(...plan.changes);
  guardDeletes(options, result.deleted, plan.owned, 'to-consul');
  if (options.dryRun || settings.dryRun || plan.changes.length === 0) return result;

  const groups = new Map<string, RegistrationChange[]>();
  for (const change of plan.changes) {
    const key = `${change.source.namespace}/${change.source.name}`;
    const group = groups.get(key);
    if (group) group.push(change);
    else groups.set(key, [change]);
  }
  try {
    await deps.consul.apply([...groups.values()], settings.writeTimeoutMs * 4);
    countWrites(deps.metrics, 'consul', plan.changes, 'ok');
  } catch (err) {
    countWrites(deps.metrics, 'consul', plan.changes, 'error');
    result.failed = plan.changes.length;
    throw err;
  }
  return result;
}

async function reconcileToK8s(
  deps: SyncDeps,
  options: ReconcileOptions,
  out: ReconcileReport,
): Promise<DirectionReport> {
  const view = await deps.consul.readServicesView(deps.settings.writeTimeoutMs * 4);
  const converged = await convergeServicesView(deps, view, {
    dryRun: options.dryRun,
    guard: (deletes, owned) => guardDeletes(options, deletes, owned, 'to-k8s'),
  });
  out.changes.push(...converged.changes);
  out.warnings.push(...converged.warnings);
  const result = report(converged.summary);
  if (converged.errors.length > 0) result.error = converged.errors.join('; ');
  return result;
}

export async function reconcile(
  deps: SyncDeps,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const { settings, logger } = deps;
  const out: ReconcileReport = {
    changes: [],
    warnings: [],
    dryRun: options.dryRun || settings.dryRun,
    ok: true,
  };
  const started = Date.now();
  const run = async (
    enabled: boolean,
    direction: 'to-consul' | 'to-k8s',
    fn: () => Promise<DirectionReport>,
  ): Promise<DirectionReport | undefined> => {
    if (!enabled || (options.direction !== 'both' && options.direction !== direction))
      return undefined;
    try {
      return await fn();
    } catch (err) {
      out.ok = false;
      logger.error(
        { event: 'reconcile-failed', direction, err: describeError(err) },
        'reconcile direction aborted',
      );
      return { ...report(), error: describeError(err) };
    }
  };
  // The two directions touch different systems' state: run them side by side.
  const [toConsul, toK8s] = await Promise.all([
    run(settings.toConsul, 'to-consul', () => reconcileToConsul(deps, options, out)),
    run(settings.toK8s, 'to-k8s', () => reconcileToK8s(deps, options, out)),
  ]);
  if (toConsul) out.toConsul = toConsul;
  if (toK8s) out.toK8s = toK8s;
  if (toConsul?.error || toK8s?.error) out.ok = false;
  out.changes = sortChanges(out.changes);
  if (!out.dryRun && out.ok) deps.metrics.lastReconcile.set(Date.now() / 1000);
  deps.metrics.events.inc({ source: 'reconcile', outcome: out.ok ? 'ok' : 'error' });
  logger.info(
    {
      event: 'reconcile',
      outcome: out.ok ? 'ok' : 'error',
      dryRun: out.dryRun,
      durationMs: Date.now() - started,
      toConsul,
      toK8s,
    },
    'reconcile finished',
  );
  return out;
}
