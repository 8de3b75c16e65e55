// Reconcile (docs/reference.md "Reconcile and plan"): list both systems completely, plan the full difference in both
// directions, and apply it (or only report it: dry run). One code path for the CLI, the
// /reconcile endpoint and the in-process interval. Both directions are planned before either
// is applied, so a refusal (the delete-ratio guard) leaves both systems untouched.
import {
  DEFAULT_DELETE_GUARD_MIN,
  checkDeleteRatio,
  planAllRegistrations,
  sortChanges,
  withholdDeletes,
  type Change,
  type RegistrationChange,
  type SkippedObject,
} from '../plan/index.js';
import type { ConsulTranslation } from '../translate/index.js';
import { isAdoptable } from '../translate/ownership.js';
import { META_K8S_NAMESPACE, META_SYNC_ID } from '../translate/keys.js';
import type { Ingress, Registration, Service } from '../translate/types.js';
import { eventsOfOutcome, failureEvent, type ServiceEvent } from '../plan/events.js';
import { recordEvents } from './event-recorder.js';
import { ListTranslator, translateAll } from './list-translator.js';
import {
  ERROR_TABLE,
  SyncError,
  codeOf,
  describeError,
  isRetryable,
  mostSevere,
  type ErrorCode,
} from '../errors.js';
import type { Direction } from '../config/index.js';
import type { ApplyResult } from '../consul/catalog.js';
import { countWrites, type SyncDeps } from './deps.js';
import {
  applyServicesView,
  emptySummary,
  planServicesPurge,
  planServicesView,
  type DirectionSummary,
  type ViewPlan,
} from './to-k8s.js';
import { appendAll } from '../translate/arrays.js';

export interface ReconcileOptions {
  direction: Direction;
  dryRun: boolean;
  force: boolean;
  maxDeleteRatio: number;
  /** The ratio guard engages only above this many deletions in one direction (default 10). */
  deleteGuardMin?: number;
  /**
   * Uninstall: the desired state is nothing, in both directions. Every registration of this
   * sync id and every Kubernetes object this installation made is planned for deletion; the
   * delete guard still applies, so a real purge needs `force`.
   */
  purge?: boolean;
  /**
   * Take over registrations of consul-k8s's shape on the sync node (external-source=kubernetes,
   * no sync id): stale ones are deleted, as if they were ours. Without it they are left alone
   * and named in the plan's skipped rows.
   */
  adoptConsulK8s?: boolean;
}

export interface DirectionReport extends DirectionSummary {
  conflicts: number;
  /** Set when the direction was aborted (a failed read, the delete guard) or a write failed. */
  error?: string;
  /**
   * The error's stable code: a failed read keeps the edge's code (CONSUL_UNAVAILABLE,
   * KUBE_REJECTED, …); CONSUL_READ_FILTERED, DELETE_RATIO_EXCEEDED; WRITE_FAILED for a write a
   * retry can fix, else the write's own code (CONSUL_REJECTED, KUBE_REJECTED, INTERNAL).
   */
  errorCode?: ErrorCode;
  /** Deletions planned but not made: Consul filtered the read they came from by ACLs. */
  withheldDeletes?: number;
}

export interface ReconcileReport {
  toConsul?: DirectionReport;
  toK8s?: DirectionReport;
  /** What was done (or, in a dry run, would be done). */
  changes: Change[];
  /** What was left alone on purpose and why: never among `changes`. */
  skipped: SkippedObject[];
  warnings: string[];
  dryRun: boolean;
  ok: boolean;
}

interface ToConsulPlan {
  report: DirectionReport;
  changes: RegistrationChange[];
  skipped: SkippedObject[];
  owned: number;
  /** The read found registrations on the sync node, so the node exists. */
  nodeSeen: boolean;
  /** What the direction's Kubernetes Events are made of (recordConsulEvents). */
  translations: ConsulTranslation[];
  services: Map<string, Service>;
  conflicts: Registration[];
}

/**
 * Reconcile's outbound calls are bounded by this many times --write-timeout: one Consul read or
 * transaction, one page of a Kubernetes list (the event path's calls get --write-timeout itself).
 */
export const RECONCILE_TIMEOUT_FACTOR = 4;

function reconcileTimeoutMs(deps: SyncDeps): number {
  return deps.settings.writeTimeoutMs * RECONCILE_TIMEOUT_FACTOR;
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
  const verdict = checkDeleteRatio({
    deletes,
    owned,
    maxRatio: options.maxDeleteRatio,
    minDeletes: options.deleteGuardMin ?? DEFAULT_DELETE_GUARD_MIN,
  });
  if (!verdict.allowed) {
    throw new SyncError(
      'DELETE_RATIO_EXCEEDED',
      `${what}: ${verdict.message} (--max-delete-ratio=${options.maxDeleteRatio}); run with --force if this is intended`,
    );
  }
}

/** Kubernetes → Consul for every service at once: reads and plan, no write. */
async function planToConsul(
  deps: SyncDeps,
  out: ReconcileReport,
  options: { purge?: boolean; adoptConsulK8s?: boolean } = {},
): Promise<ToConsulPlan> {
  const purge = options.purge === true;
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
  const timeoutMs = reconcileTimeoutMs(deps);
  // Translation needs only the Kubernetes lists: a cluster-wide read translates what is complete
  // between their pages, and all of it runs while Consul's read goes on.
  const early =
    scope || purge
      ? undefined
      : new ListTranslator(settings, { purge, ingresses: settings.enableIngress === true });
  const translating = Promise.all([
    listScoped((ns) => deps.kube.listAllServices(ns, timeoutMs, early?.onServices)),
    listScoped((ns) => deps.kube.listAllEndpointSlices(ns, timeoutMs, early?.onSlices)).then(
      (slices) => (early?.slicesEnded(), slices),
    ),
    deps.kube.listAllNodes(timeoutMs).then((nodes) => (early?.nodesListed(nodes), nodes)),
    // --enable-ingress: every Ingress once (docs/reference.md "Ingress"), grouped by namespace.
    settings.enableIngress
      ? listScoped((ns) => deps.kube.listAllIngresses(ns, timeoutMs)).then(
          (ingresses) => (early?.ingressesListed(ingresses), ingresses),
        )
      : Promise.resolve([] as Ingress[]),
  ]).then(
    ([services, slices, nodes, ingresses]) => {
      const lists = { services, slices, nodes, ingresses };
      return {
        services,
        translations: early ? early.finish(lists) : translateAll(settings, lists, purge),
      };
    },
    (err: unknown) => {
      early?.stop();
      throw err;
    },
  );
  const reading = deps.consul.readAll(timeoutMs);
  early?.holdUntil(reading);
  const [{ services, translations }, everything] = await Promise.all([
    translating,
    reading.catch((err: unknown) => {
      early?.stop();
      throw err;
    }),
  ]);
  const current = scope
    ? everything.registrations.filter((r) => scope.includes(r.meta[META_K8S_NAMESPACE] ?? ''))
    : everything.registrations;
  for (const t of translations) {
    for (const w of t.warnings) out.warnings.push(`${t.ref.namespace}/${t.ref.name}: ${w}`);
  }
  const plan = planAllRegistrations({
    translations,
    current,
    syncId: settings.syncId,
    ...(options.adoptConsulK8s ? { adoptUnowned: true } : {}),
  });
  const planned = purge
    ? plan.changes.map((c) => ({ ...c, reason: 'purge: this installation is being removed' }))
    : plan.changes;
  const kept = everything.filtered ? withholdDeletes(planned) : { changes: planned, withheld: [] };
  const result = report();
  result.unchanged = plan.unchanged;
  result.conflicts = plan.conflicts.length;
  result.skipped = plan.conflicts.length;
  for (const c of kept.changes) {
    if (c.op === 'create') result.created++;
    else if (c.op === 'update') result.updated++;
    else result.deleted++;
  }
  withheld(deps, result, 'consul', kept.withheld.length, everything.filtered);
  return {
    report: result,
    changes: kept.changes,
    skipped: [
      ...plan.conflicts.map((r) => ({
        target: 'consul' as const,
        object: r.id,
        reason: `a registration with this ID belongs to ${r.meta[META_SYNC_ID] ? `sync id ${r.meta[META_SYNC_ID]}` : 'no installation'}: left alone`,
      })),
      // consul-k8s's own registrations (its IDs differ from ours): named, never touched.
      ...(options.adoptConsulK8s
        ? []
        : current
            .filter((r) => isAdoptable(r) && !plan.conflicts.some((c) => c.id === r.id))
            .map((r) => ({
              target: 'consul' as const,
              object: r.id,
              reason:
                'a registration of consul-k8s (external-source kubernetes, no sync id): left alone; --adopt-consul-k8s takes it over',
            }))),
    ],
    owned: plan.owned,
    nodeSeen: everything.registrations.length > 0,
    translations,
    services: new Map(
      services.map((s) => [`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`, s]),
    ),
    conflicts: plan.conflicts,
  };
}

/**
 * The Kubernetes Events of an applied Kubernetes → Consul direction, per Service as on the event
 * path (src/plan/events.ts): Synced or SyncSkipped for the Services written, SyncFailed for them
 * all when the write failed, ConflictWithForeign and the skips a Service asked about. Queued
 * only: written after the run, aggregated with those of the event path.
 */
function recordConsulEvents(deps: SyncDeps, plan: ToConsulPlan): void {
  if (!deps.eventRecorder) return;
  const keyOf = (ref: { namespace: string; name: string }): string =>
    `${ref.namespace}/${ref.name}`;
  const changesOf = new Map<string, RegistrationChange[]>();
  for (const c of plan.changes) {
    const list = changesOf.get(keyOf(c.source));
    if (list) list.push(c);
    else changesOf.set(keyOf(c.source), [c]);
  }
  // A conflict is a registration of a desired ID: the Service that desires it is the one told.
  const desiredBy = new Map<string, string>();
  for (const t of plan.translations)
    for (const r of t.registrations) desiredBy.set(r.id, keyOf(t.ref));
  const conflictsOf = new Map<string, Registration[]>();
  for (const r of plan.conflicts) {
    const key = desiredBy.get(r.id);
    if (key === undefined) continue;
    conflictsOf.set(key, [...(conflictsOf.get(key) ?? []), r]);
  }
  const failure = plan.report.failed > 0 ? plan.report.error : undefined;
  const events: ServiceEvent[] = [];
  for (const t of plan.translations) {
    const key = keyOf(t.ref);
    const service = plan.services.get(key);
    const changes = changesOf.get(key) ?? [];
    if (failure !== undefined && changes.length > 0) {
      events.push(
        failureEvent(
          t.ref,
          service,
          `Consul write failed during reconcile: ${failure} (the next reconcile retries)`,
        ),
      );
      continue;
    }
    const sets = changes.filter((c) => c.op !== 'delete').length;
    events.push(
      ...eventsOfOutcome({
        ref: t.ref,
        service,
        changes,
        unchanged: Math.max(0, t.registrations.length - sets),
        conflicts: conflictsOf.get(key) ?? [],
        ...(t.skipReason ? { skipReason: t.skipReason } : {}),
      }),
    );
  }
  recordEvents(deps, events);
}

async function applyToConsul(deps: SyncDeps, plan: ToConsulPlan): Promise<void> {
  const groups = new Map<string, RegistrationChange[]>();
  for (const change of plan.changes) {
    const key = `${change.source.namespace}/${change.source.name}`;
    const group = groups.get(key);
    if (group) group.push(change);
    else groups.set(key, [change]);
  }
  let applied: ApplyResult;
  try {
    // A node holding registrations exists: no Node set in every transaction then.
    applied = await deps.consul.apply([...groups.values()], reconcileTimeoutMs(deps), {
      ensureNode: !plan.nodeSeen,
    });
  } catch (err) {
    countWrites(deps.metrics, 'consul', plan.changes, 'error');
    plan.report.failed = plan.changes.length;
    throw err;
  }
  // A Consul namespace that could not be created skips only its services; the run reports it.
  const unwritten = new Set(applied.skipped.flatMap((s) => s.changes));
  countWrites(
    deps.metrics,
    'consul',
    plan.changes.filter((c) => !unwritten.has(c)),
    'ok',
  );
  if (applied.skipped.length === 0) return;
  countWrites(deps.metrics, 'consul', [...unwritten], 'error');
  for (const skip of applied.skipped) {
    deps.metrics.skipped.inc({ reason: 'consul-namespace' }, skip.changes.length);
    deps.logger.warn(
      {
        event: 'consul-namespace-unavailable',
        namespace: skip.namespace,
        changes: skip.changes.length,
        err: describeError(skip.error),
      },
      'the Consul namespace could not be created: its services were not written',
    );
  }
  plan.report.failed = unwritten.size;
  throw applied.skipped[0]!.error;
}

/**
 * A read Consul filtered by ACLs: the direction applies its creates and updates, deletes nothing
 * and reports why (the token needs read rights on everything it syncs).
 */
function withheld(
  deps: SyncDeps,
  rep: DirectionReport,
  target: 'consul' | 'kubernetes',
  deletes: number,
  filtered: boolean,
): void {
  if (!filtered) return;
  rep.withheldDeletes = deletes;
  rep.error = `consul filtered the ${target === 'consul' ? 'sync node' : 'services'} read by ACLs: ${deletes} deletion(s) withheld; creates and updates applied (give the token the read rights of infra/consul/acl-policy.hcl)`;
  rep.errorCode = 'CONSUL_READ_FILTERED';
  if (deletes > 0) deps.metrics.deletesWithheld.inc({ target, reason: 'acl-filtered' }, deletes);
}

/** A direction whose read or plan failed: the edge's own code, INTERNAL for anything else. */
function failed(err: unknown): DirectionReport {
  return { ...report(), error: describeError(err), errorCode: codeOf(err) };
}

/** A failed write: WRITE_FAILED when a retry can fix it, else the write's own code. */
function writeFailureCode(err: unknown): ErrorCode {
  return isRetryable(err) ? 'WRITE_FAILED' : codeOf(err);
}

/** Both directions as planned: each one's report, and its plan when the reads succeeded. */
interface Planned {
  toConsul?: DirectionReport;
  toK8s?: DirectionReport;
  consulPlan?: ToConsulPlan;
  viewPlan?: ViewPlan;
}

const settle = <T>(p: Promise<T>): Promise<{ ok: T } | { err: unknown }> =>
  p.then(
    (ok) => ({ ok }),
    (err: unknown) => ({ err }),
  );

/** The Consul → Kubernetes plan as a direction report, its changes and conflicts added to `out`. */
function adoptViewPlan(deps: SyncDeps, viewPlan: ViewPlan, out: ReconcileReport): DirectionReport {
  const rep = report(viewPlan.summary);
  rep.conflicts = viewPlan.summary.skipped;
  for (const c of viewPlan.changes) {
    if (c.op === 'create') rep.created++;
    else if (c.op === 'update') rep.updated++;
    else rep.deleted++;
  }
  withheld(deps, rep, 'kubernetes', viewPlan.withheldDeletes, viewPlan.filtered);
  appendAll(out.changes, viewPlan.changes);
  for (const c of viewPlan.conflicts) {
    out.skipped.push({
      target: 'kubernetes',
      object: `${deps.settings.k8sWriteNamespace}/${c.name}`,
      reason: c.reason,
    });
  }
  appendAll(out.warnings, viewPlan.warnings);
  return rep;
}

/** Step 1: read and plan both directions at once; a failed read aborts only its direction. */
async function planDirections(
  deps: SyncDeps,
  options: ReconcileOptions,
  out: ReconcileReport,
): Promise<Planned> {
  const { settings } = deps;
  const wanted = (enabled: boolean, direction: 'to-consul' | 'to-k8s'): boolean =>
    enabled && (options.direction === 'both' || options.direction === direction);
  const [consulPlan, k8sPlan] = await Promise.all([
    wanted(settings.toConsul, 'to-consul')
      ? settle(
          planToConsul(deps, out, {
            ...(options.purge ? { purge: true } : {}),
            ...(options.adoptConsulK8s ? { adoptConsulK8s: true } : {}),
          }),
        )
      : undefined,
    wanted(settings.toK8s, 'to-k8s')
      ? settle(
          options.purge
            ? planServicesPurge(deps)
            : deps.consul
                .readServicesView(reconcileTimeoutMs(deps))
                .then((read) =>
                  planServicesView(deps, read.view, { withholdDeletes: read.filtered, full: true }),
                ),
        )
      : undefined,
  ]);
  const planned: Planned = {};
  if (consulPlan) {
    if ('err' in consulPlan) planned.toConsul = failed(consulPlan.err);
    else {
      planned.consulPlan = consulPlan.ok;
      planned.toConsul = consulPlan.ok.report;
      appendAll(out.changes, consulPlan.ok.changes);
      appendAll(out.skipped, consulPlan.ok.skipped);
    }
  }
  if (k8sPlan) {
    if ('err' in k8sPlan) planned.toK8s = failed(k8sPlan.err);
    else {
      planned.viewPlan = k8sPlan.ok;
      planned.toK8s = adoptViewPlan(deps, k8sPlan.ok, out);
    }
  }
  return planned;
}

/** Step 2: the delete guard, for both planned directions before anything is written. */
function guardDirections(options: ReconcileOptions, planned: Planned): boolean {
  let refused = false;
  for (const [what, plan, rep] of [
    ['to-consul', planned.consulPlan, planned.toConsul],
    ['to-k8s', planned.viewPlan, planned.toK8s],
  ] as const) {
    if (!plan || !rep) continue;
    // Owned objects are Services (and registrations): a Service's EndpointSlices do not count.
    const deletes = plan.changes.filter(
      (c) => c.op === 'delete' && !(c.target === 'kubernetes' && c.kind === 'EndpointSlice'),
    ).length;
    try {
      guardDeletes(options, deletes, plan.owned, what);
    } catch (err) {
      refused = true;
      Object.assign(rep, { error: describeError(err), errorCode: 'DELETE_RATIO_EXCEEDED' });
    }
  }
  return refused;
}

/** After a refusal: a direction that planned changes says why it wrote none. */
function markNotApplied(planned: Planned): void {
  for (const [plan, rep] of [
    [planned.consulPlan, planned.toConsul],
    [planned.viewPlan, planned.toK8s],
  ] as const) {
    if (plan && rep && !rep.error && plan.changes.length > 0) {
      rep.error = 'not applied: the other direction was refused by --max-delete-ratio';
      rep.errorCode = 'DELETE_RATIO_EXCEEDED';
    }
  }
}

/** Kubernetes → Consul applied; a failure is recorded in the direction's report. */
async function applyConsulDirection(deps: SyncDeps, plan: ToConsulPlan): Promise<void> {
  try {
    await applyToConsul(deps, plan);
  } catch (err) {
    Object.assign(plan.report, { error: describeError(err), errorCode: writeFailureCode(err) });
  }
}

/** Consul → Kubernetes applied; conflicts found while writing move from changes to skipped. */
async function applyK8sDirection(
  deps: SyncDeps,
  viewPlan: ViewPlan,
  rep: DirectionReport,
  out: ReconcileReport,
): Promise<void> {
  const applied = await applyServicesView(deps, viewPlan);
  Object.assign(rep, applied.summary);
  // A create that met a Service made meanwhile by someone else: skipped, not created.
  const conflicted = new Set<Change>(applied.conflicted);
  out.changes = out.changes.filter((c) => !conflicted.has(c));
  for (const c of applied.conflicted)
    out.skipped.push({
      target: 'kubernetes',
      object: `${c.namespace}/${c.name}`,
      reason: `service ${c.namespace}/${c.name} appeared without label consul=true before it could be written`,
    });
  if (applied.errors.length > 0) {
    // The edge maps every failed write to KUBE_UNAVAILABLE (a retry can fix it) or
    // KUBE_REJECTED (RBAC, an invalid object): only the first is worth a retry.
    Object.assign(rep, {
      error: applied.errors.join('; '),
      errorCode: applied.unavailable ? 'WRITE_FAILED' : 'KUBE_REJECTED',
    });
  }
}

/** Step 3: apply what was planned, both directions at once. */
async function applyDirections(
  deps: SyncDeps,
  planned: Planned,
  out: ReconcileReport,
): Promise<void> {
  const { consulPlan, viewPlan, toK8s } = planned;
  const applying: Promise<void>[] = [];
  if (consulPlan && consulPlan.changes.length > 0)
    applying.push(applyConsulDirection(deps, consulPlan));
  if (viewPlan && viewPlan.changes.length > 0 && toK8s)
    applying.push(applyK8sDirection(deps, viewPlan, toK8s, out));
  await Promise.all(applying);
}

/** Step 4: the report completed, failures logged, the run counted. */
function finish(
  deps: SyncDeps,
  out: ReconcileReport,
  planned: Planned,
  startedMs: number,
): ReconcileReport {
  const { logger } = deps;
  const { toConsul, toK8s } = planned;
  if (toConsul) out.toConsul = toConsul;
  if (toK8s) out.toK8s = toK8s;
  out.ok = !toConsul?.error && !toK8s?.error;
  out.changes = sortChanges(out.changes);
  for (const [direction, rep] of [
    ['to-consul', toConsul],
    ['to-k8s', toK8s],
  ] as const) {
    if (rep?.error)
      logger.error(
        { event: 'reconcile-failed', direction, err: rep.error, code: rep.errorCode },
        'reconcile direction failed',
      );
  }
  if (!out.dryRun && out.ok) deps.metrics.lastReconcile.set(Date.now() / 1000);
  deps.metrics.events.inc({ source: 'reconcile', outcome: out.ok ? 'ok' : 'error' });
  logger.info(
    {
      event: 'reconcile',
      outcome: out.ok ? 'ok' : 'error',
      dryRun: out.dryRun,
      durationMs: Date.now() - startedMs,
      toConsul,
      toK8s,
    },
    'reconcile finished',
  );
  return out;
}

/**
 * One full reconcile: plan both directions, guard, apply (unless a dry run or refused), report.
 * Counted once in k8s_consul_sync_events_total{source="reconcile"}, also when it throws.
 */
export async function reconcile(
  deps: SyncDeps,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const started = Date.now();
  const dryRun = options.dryRun || deps.settings.dryRun;
  const out: ReconcileReport = { changes: [], skipped: [], warnings: [], dryRun, ok: true };
  try {
    const planned = await planDirections(deps, options, out);
    const refused = guardDirections(options, planned);
    if (refused) markNotApplied(planned);
    else if (!dryRun) {
      await applyDirections(deps, planned, out);
      if (planned.consulPlan) recordConsulEvents(deps, planned.consulPlan);
    }
    return finish(deps, out, planned, started);
  } catch (err) {
    deps.metrics.events.inc({ source: 'reconcile', outcome: 'error' });
    throw err;
  }
}

/**
 * The error a failed run answers with (undefined when it converged): the most severe code of the
 * failed directions (SEVERITY), its status, and both directions' summaries in `details`.
 */
export function reconcileFailure(report: ReconcileReport): SyncError | undefined {
  const failedDirections = (
    [
      ['to-consul', report.toConsul],
      ['to-k8s', report.toK8s],
    ] as const
  ).filter(([, r]) => r?.error);
  if (failedDirections.length === 0) return undefined;
  const code =
    mostSevere(failedDirections.map(([, r]) => r!.errorCode ?? 'INTERNAL')) ?? 'INTERNAL';
  return new SyncError(
    code,
    failedDirections.map(([direction, r]) => `${direction}: ${r!.error}`).join('; '),
    {
      details: {
        ...(report.toConsul ? { toConsul: report.toConsul } : {}),
        ...(report.toK8s ? { toK8s: report.toK8s } : {}),
      },
    },
  );
}

/** The exit code of `reconcile` and `plan` for a report: 0 converged, else ERROR_TABLE's. */
export function reconcileExitCode(report: ReconcileReport): number {
  const failure = reconcileFailure(report);
  return failure ? ERROR_TABLE[failure.code].exitCode : 0;
}
