// Consul → Kubernetes: converge the ExternalName services we own to a Consul services view
// (docs/reference.md "Consul → Kubernetes", "Ownership and safety"). Used by the watch handler and by reconcile.
import {
  diffK8sService,
  isManagedAnnotation,
  planEndpointSlices,
  planK8sServices,
  planSlicesRemoval,
  sliceService,
  isOwnedSlice,
  viewInScope,
  hasTaggedName,
  isEmptyView,
  taggedAmong,
  type K8sServiceChange,
} from '../plan/index.js';
import {
  isConsulServiceAllowed,
  mirrorNameOf,
  desiredServiceObject,
  desiredSliceObject,
  isOwnedK8sService,
  translateInstances,
  translateServicesView,
} from '../translate/index.js';
import {
  ANNOTATION_MODE,
  META_K8S_SYNC,
  META_K8S_SYNC_MODE,
  TAG_SYNC_DISABLED,
} from '../translate/keys.js';
import type {
  ConsulToK8sMode,
  DesiredK8sService,
  EndpointSlice,
  Service,
  ServicesView,
} from '../translate/types.js';
import { SyncError, describeError, isSyncError } from '../errors.js';
import { plainView } from '../events/layered-view.js';
import { createLimiter } from '../concurrency.js';
import type { ViewTracker } from './view-tracker.js';
import { countWrites, type SyncDeps } from './deps.js';
import { appendAll } from '../translate/arrays.js';

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

/** The spec fields an ExternalName Service may not keep (the API server refuses them). */
const CLUSTER_FIELDS = ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'selector'];

/** The replacement object for an owned Service that drifted: ours restored, the rest kept. */
export function restoredObject(current: Service, desired: DesiredK8sService): Service {
  const wanted = desiredServiceObject(desired);
  const spec: Record<string, unknown> = { ...(current.spec ?? {}) };
  const annotations: Record<string, string> = { ...current.metadata?.annotations };
  for (const key of Object.keys(annotations))
    if (isManagedAnnotation(key, desired) && !(key in desired.annotations)) delete annotations[key];
  const metadata = {
    ...current.metadata,
    labels: { ...current.metadata?.labels, ...wanted.metadata?.labels },
    annotations: { ...annotations, ...wanted.metadata?.annotations },
  };
  if ((desired.mode ?? 'externalname') === 'externalname') {
    if (current.spec?.type !== 'ExternalName') {
      for (const key of [...CLUSTER_FIELDS, 'ports']) delete spec[key];
    }
    return {
      ...current,
      metadata,
      spec: { ...spec, type: 'ExternalName', externalName: desired.externalName },
    };
  }
  // Endpoints mode: selector-less ClusterIP, headless or with a virtual IP.
  delete spec.externalName;
  delete spec.selector;
  const headless = (desired.serviceType ?? 'Headless') === 'Headless';
  // From ExternalName the API server allocates the cluster IP; a kept one stays as it is.
  if (current.spec?.type === 'ExternalName') for (const key of CLUSTER_FIELDS) delete spec[key];
  if (headless) {
    spec.clusterIP = 'None';
    if (current.spec?.type === 'ExternalName' || current.spec?.clusterIP !== 'None') {
      delete spec.clusterIPs;
      delete spec.ipFamilies;
      delete spec.ipFamilyPolicy;
    }
  }
  const ports =
    desired.ports ?? (current.spec?.ports?.length ? current.spec.ports : wanted.spec?.ports);
  if (ports && ports.length > 0) spec.ports = ports.map((p) => ({ ...p }));
  else delete spec.ports;
  return { ...current, metadata, spec: { ...spec, type: 'ClusterIP' } };
}

/**
 * The cluster IP of a Service cannot change in place (None ↔ an IP): such a switch goes through
 * an ExternalName step, two replaces, so the Service never disappears.
 */
function needsTypeStep(current: Service, desired: DesiredK8sService): boolean {
  if ((desired.mode ?? 'externalname') !== 'endpoints') return false;
  const type = current.spec?.type ?? 'ClusterIP';
  if (type === 'ExternalName') return false;
  const headless = (desired.serviceType ?? 'Headless') === 'Headless';
  return (current.spec?.clusterIP === 'None') !== headless || type !== 'ClusterIP';
}

async function replaceService(
  deps: SyncDeps,
  ns: string,
  current: Service,
  desired: DesiredK8sService,
): Promise<Service> {
  let base = current;
  if (needsTypeStep(current, desired)) {
    base = await deps.kube.replaceService(
      ns,
      restoredObject(current, { ...desired, mode: 'externalname' }),
    );
  }
  return deps.kube.replaceService(ns, restoredObject(base, desired));
}

/** What applying one change did; `conflict`: a create found a Service that is not ours. */
type Applied = 'written' | 'conflict';

/** The slice object to write: ours, owned by its Service (garbage-collected with it) when its uid is known. */
function sliceBody(
  change: K8sServiceChange,
  uid: string | undefined,
  current?: EndpointSlice,
): EndpointSlice {
  const body = desiredSliceObject(change.desiredSlice!);
  const meta = body.metadata!;
  if (current?.metadata) {
    meta.labels = { ...current.metadata.labels, ...meta.labels };
    meta.annotations = { ...current.metadata.annotations, ...meta.annotations };
    if (current.metadata.resourceVersion) meta.resourceVersion = current.metadata.resourceVersion;
    if (current.metadata.ownerReferences) meta.ownerReferences = current.metadata.ownerReferences;
  }
  if (uid && !meta.ownerReferences?.some((r) => r.uid === uid)) {
    meta.ownerReferences = [
      {
        apiVersion: 'v1',
        kind: 'Service',
        name: change.service ?? '',
        uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
  }
  return body;
}

/** Writes one EndpointSlice change; a slice that turns out not to be ours is a conflict. */
async function applySliceChange(
  deps: SyncDeps,
  change: K8sServiceChange,
  summary: DirectionSummary,
  unit: { uid?: string },
): Promise<Applied> {
  const ns = change.namespace;
  const uid = unit.uid ?? change.current?.metadata?.uid;
  const ours = (s: EndpointSlice | null): s is EndpointSlice =>
    isOwnedSlice(s) && sliceService(s!) === change.service;
  if (change.op === 'delete') {
    const meta = change.currentSlice?.metadata;
    await deps.kube.deleteEndpointSlice(ns, change.name, {
      ...(meta?.uid ? { uid: meta.uid } : {}),
      ...(meta?.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
    });
    summary.deleted++;
    return 'written';
  }
  if (change.op === 'create') {
    const created = await deps.kube.createEndpointSlice(ns, sliceBody(change, uid));
    if (created) {
      summary.created++;
      return 'written';
    }
    const existing = await deps.kube.readEndpointSlice(ns, change.name);
    if (!ours(existing)) return 'conflict';
    await deps.kube.replaceEndpointSlice(ns, sliceBody(change, uid, existing));
    summary.updated++;
    return 'written';
  }
  try {
    await deps.kube.replaceEndpointSlice(ns, sliceBody(change, uid, change.currentSlice));
  } catch (err) {
    if (!(isSyncError(err) && err.upstreamStatus === 409)) throw err;
    const fresh = await deps.kube.readEndpointSlice(ns, change.name);
    if (!ours(fresh)) return 'conflict';
    await deps.kube.replaceEndpointSlice(ns, sliceBody(change, uid, fresh));
  }
  summary.updated++;
  return 'written';
}

async function applyChange(
  deps: SyncDeps,
  change: K8sServiceChange,
  summary: DirectionSummary,
  unit: { uid?: string } = {},
): Promise<Applied> {
  if (change.kind === 'EndpointSlice') return applySliceChange(deps, change, summary, unit);
  const ns = change.namespace;
  if (change.op === 'create') {
    const created = await deps.kube.createService(ns, desiredServiceObject(change.desired!));
    if (created) {
      deps.mirrors?.remember(created);
      if (created.metadata?.uid) unit.uid = created.metadata.uid;
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
    const replaced = await replaceService(deps, ns, existing!, change.desired!);
    deps.mirrors?.remember(replaced);
    if (replaced.metadata?.uid) unit.uid = replaced.metadata.uid;
    summary.updated++;
    return 'written';
  }
  if (change.op === 'update') {
    try {
      // (Written first: an optional call would skip its argument without a cache.)
      const replaced = await replaceService(deps, ns, change.current!, change.desired!);
      deps.mirrors?.remember(replaced);
    } catch (err) {
      // 409: the object changed since it was read (or the read came from a cache): once more
      // from a fresh read, and only if it is still ours.
      if (!(isSyncError(err) && err.upstreamStatus === 409)) throw err;
      const fresh = await deps.kube.readService({ namespace: ns, name: change.name });
      if (!isOwnedK8sService(fresh, deps.settings)) return 'conflict';
      const replaced = await replaceService(deps, ns, fresh!, change.desired!);
      deps.mirrors?.remember(replaced);
    }
    summary.updated++;
    return 'written';
  }
  const meta = change.current?.metadata;
  await deps.kube.deleteService(ns, change.name, {
    ...(meta?.uid ? { uid: meta.uid } : {}),
    ...(meta?.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
  });
  deps.mirrors?.forget(change.name);
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
  /**
   * Consul names planned when the delivery planned only what changed since the previous one
   * (src/sync/view-tracker.ts); absent when it planned the whole view.
   */
  planned?: number;
  /**
   * The delivery kept the previous delivery's shared-name answer instead of reading it
   * (src/sync/view-tracker.ts sharedNames); absent when it was read.
   */
  sharedNamesKept?: true;
}

/** Per-service control read from Consul meta (see readMetaControl). */
interface MetaControl {
  optedOut: Set<string>;
  modes: Map<string, ConsulToK8sMode>;
}

/**
 * The Services labelled consul=true in the write namespace: on the event path (`cached`) from
 * the watch's memory when it runs, else listed.
 */
export function ownedOrListed(
  deps: SyncDeps,
  options: { cached?: boolean } = {},
): Promise<Service[]> {
  const remembered = options.cached ? deps.mirrors?.snapshot() : undefined;
  return remembered
    ? Promise.resolve(remembered)
    : deps.kube.listLabelledServices(deps.settings.k8sWriteNamespace, options);
}

/** Up to this many names, a delivery reads them one by one instead of the whole view or namespace. */
const FEW_NAMES = 16;

/**
 * Meta `k8s-sync: "false"` and `k8s-sync-mode` (a name with both modes takes endpoints). Made on
 * reconcile (every name: three filtered reads of the services view) and when a delivery plans
 * creates (`names`: up to FEW_NAMES, one indexed read per name; more, as reconcile).
 */
async function readMetaControl(
  deps: SyncDeps,
  timeoutMs: number,
  names?: readonly string[],
): Promise<MetaControl> {
  if (names !== undefined && names.length <= FEW_NAMES) {
    const control: MetaControl = { optedOut: new Set(), modes: new Map() };
    const read = await Promise.all(names.map((n) => deps.consul.readServiceMetas(n, timeoutMs)));
    read.forEach(({ metas }, i) => {
      const name = names[i]!;
      if (metas.some((m) => m[META_K8S_SYNC] === 'false')) control.optedOut.add(name);
      if (metas.some((m) => m[META_K8S_SYNC_MODE] === 'endpoints'))
        control.modes.set(name, 'endpoints');
      else if (metas.some((m) => m[META_K8S_SYNC_MODE] === 'externalname'))
        control.modes.set(name, 'externalname');
    });
    return control;
  }
  const [off, endpoints, externalname] = await Promise.all([
    deps.consul.readNamesWithMeta(META_K8S_SYNC, 'false', timeoutMs),
    deps.consul.readNamesWithMeta(META_K8S_SYNC_MODE, 'endpoints', timeoutMs),
    deps.consul.readNamesWithMeta(META_K8S_SYNC_MODE, 'externalname', timeoutMs),
  ]);
  const modes = new Map<string, ConsulToK8sMode>();
  for (const name of externalname.names) modes.set(name, 'externalname');
  for (const name of endpoints.names) modes.set(name, 'endpoints');
  return { optedOut: off.names, modes };
}

function isMode(value: unknown): value is ConsulToK8sMode {
  return value === 'externalname' || value === 'endpoints';
}

/**
 * Reads the owned services and plans them against the view; writes nothing. A name the plan
 * would create is checked against every Service of the write namespace first, so a name held by
 * a Service that is not ours is a known conflict, never a write attempt.
 *
 * Endpoints mode (docs/reference.md "Endpoints mode"): the instances of a service are read
 * (`/v1/health/service/:name`) only when there is work: always on reconcile (`full`), else when
 * its Service is missing or differs, or it has no slice; its slices are then planned against the
 * stored ones. Owned Services leaving endpoints mode, or deleted, lose their slices.
 */
export async function planServicesView(
  deps: SyncDeps,
  fullView: ServicesView,
  options: {
    cached?: boolean;
    withholdDeletes?: boolean;
    full?: boolean;
    /** Plan only what changed since the previous delivery (serve's deliveries). */
    tracker?: ViewTracker;
  } = {},
): Promise<ViewPlan> {
  const { settings, logger } = deps;
  const ns = settings.k8sWriteNamespace;
  // Taken before the snapshot: a change that lands in between is planned again next time.
  const changedMirrors = options.tracker ? deps.mirrors?.takeChanged?.() : undefined;
  const tracker = options.full ? undefined : options.tracker;
  // With the mirrors' watch running they come from memory: the shared-name read waits for them,
  // since a delivery that plans only what changed may keep the previous answer.
  // A delivery that may plan only what changed takes the watch's counts now and, once its scope
  // is known, only the mirrors in it: copying and scanning every mirror cost more than the rest
  // of such a delivery at 10,000 names.
  const counts = options.cached && tracker && changedMirrors ? deps.mirrors?.counts?.() : undefined;
  const [readShared, listed] = await Promise.all([
    tracker && changedMirrors ? undefined : sharedNames(deps, fullView),
    counts ? undefined : ownedOrListed(deps, options),
  ]);
  // Endpoints mode also plans the slices, which no watch follows: it always plans in full.
  const endpointsPossible =
    settings.consulToK8sMode === 'endpoints' ||
    (listed
      ? listed.some((s) => (s.spec?.type ?? '') !== 'ExternalName')
      : (counts?.notExternalName ?? 0) > 0);
  const trackedMirrors = endpointsPossible ? undefined : changedMirrors;
  let shared = readShared;
  let sharedNamesKept = false;
  if (shared === undefined) {
    const known = tracker?.sharedNames(fullView, settings.consulK8sTag, trackedMirrors);
    if (known && 'kept' in known) {
      shared = { names: known.kept, partial: false };
      sharedNamesKept = true;
    } else shared = await sharedNames(deps, fullView, known?.tagged);
  }
  const scope = tracker
    ? tracker.scope(fullView, shared.names, trackedMirrors, shared.partial)
    : undefined;
  // A whole view is enumerated: a delivery's layered view is made plain once first.
  const view = scope ? viewInScope(fullView, scope) : plainView(fullView);
  // With a scope: the mirrors in it, and how many owned ones it leaves as they are.
  const picked = scope && !listed ? deps.mirrors?.pick?.(scope.mirrors) : undefined;
  let labelled: Service[];
  let outside = 0;
  if (picked) {
    labelled = picked.items;
    outside = picked.ownedOutside;
  } else {
    // The watch stopped meanwhile, or the whole view is planned: every mirror.
    const allLabelled = listed ?? (await ownedOrListed(deps, options));
    labelled = allLabelled;
    if (scope) {
      labelled = [];
      for (const svc of allLabelled)
        if (scope.mirrors.has(svc.metadata?.name ?? '')) labelled.push(svc);
        else if (isOwnedK8sService(svc, settings)) outside++;
    }
  }
  const owned = new Map<string, Service>();
  for (const svc of labelled)
    if (isOwnedK8sService(svc, settings) && svc.metadata?.name) owned.set(svc.metadata.name, svc);
  const timeoutMs = options.full ? settings.writeTimeoutMs * 4 : settings.writeTimeoutMs;

  // On the event path an existing Service keeps the mode meta gave it (annotation), until a
  // reconcile reads the meta again; a new one takes the meta read before creating.
  const translate = (control?: MetaControl) => {
    const modes = new Map<string, ConsulToK8sMode>();
    for (const consulName of Object.keys(view)) {
      const k8sName = mirrorNameOf(consulName, settings);
      const existing = owned.get(k8sName);
      const stored = existing?.metadata?.annotations?.[ANNOTATION_MODE];
      const chosen = options.full || !existing ? control?.modes.get(consulName) : stored;
      if (isMode(chosen)) modes.set(consulName, chosen);
    }
    return translateServicesView(view, settings, {
      notOnlyFromKubernetes: shared.names,
      modes,
      ...(control ? { optedOut: control.optedOut } : {}),
    });
  };
  let translation = translate();
  const creating = translation.services.filter((d) => !owned.has(d.name)).map((d) => d.consulName);
  if (options.full || creating.length > 0) {
    try {
      translation = translate(
        await readMetaControl(deps, timeoutMs, options.full ? undefined : creating),
      );
    } catch (err) {
      if (options.full) throw err;
      logger.warn(
        { event: 'meta-read-failed', err: describeError(err) },
        'could not read the k8s-sync meta of the Consul services: creating with the flags',
      );
    }
  }
  const summary = emptySummary();
  summary.skipped = translation.skipped.filter((s) => s.reason !== 'k8s-tag').length;
  for (const s of translation.skipped) {
    if (s.reason !== 'k8s-tag') deps.metrics.skipped.inc({ reason: s.reason });
  }
  const emptyView = isEmptyView(fullView);
  const warnings = [...translation.warnings];

  // Endpoints mode: our slices, and the instances of the services with work.
  const endpointsWanted = translation.services.some((d) => d.mode === 'endpoints');
  const endpointsHeld = [...owned.values()].some((s) => (s.spec?.type ?? '') !== 'ExternalName');
  const slices =
    endpointsWanted || endpointsHeld
      ? await listSlices(deps, options)
      : new Map<string, EndpointSlice[]>();
  const sliceChanges: K8sServiceChange[] = [];
  const desired: DesiredK8sService[] = [];
  const limit = createLimiter(settings.concurrency);
  let sliceUnchanged = 0;
  const conflictsOfSlices: { name: string; reason: string }[] = [];
  await Promise.all(
    translation.services.map((d) =>
      limit(async () => {
        if (d.mode !== 'endpoints') {
          desired.push(d);
          return;
        }
        const current = owned.get(d.name);
        const held = slices.get(d.name) ?? [];
        const work =
          options.full ||
          current === undefined ||
          held.length === 0 ||
          diffK8sService(current, d).length > 0;
        if (!work) {
          desired.push(d);
          return;
        }
        const planned = await planInstances(deps, d, current, held, timeoutMs);
        desired.push(planned.service);
        appendAll(warnings, planned.warnings);
        appendAll(sliceChanges, planned.changes);
        sliceUnchanged += planned.unchanged;
        appendAll(conflictsOfSlices, planned.conflicts);
      }),
    ),
  );
  desired.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  let plan = planK8sServices({ desired, current: labelled, settings });
  const toCreate = plan.changes.filter((c) => c.op === 'create' && c.kind === undefined);
  if (toCreate.length > 0) {
    // Only Services labelled consul=true were listed: a name to create may be taken by another.
    // A few names are read one by one; more, with the whole namespace.
    const taken =
      toCreate.length <= FEW_NAMES
        ? (
            await Promise.all(
              toCreate.map((c) => deps.kube.readService({ namespace: ns, name: c.name })),
            )
          ).filter((s): s is Service => s !== null)
        : await deps.kube.listServices(ns, options);
    const fresh = new Set(taken.map((s) => s.metadata?.name));
    const current = [...labelled.filter((s) => !fresh.has(s.metadata?.name)), ...taken];
    plan = planK8sServices({ desired, current, settings });
  }
  // Slices of a name held by a Service that is not ours are never written.
  const conflicted = new Set(plan.conflicts.map((c) => c.name));
  const changes: K8sServiceChange[] = [
    ...plan.changes,
    ...sliceChanges.filter((c) => !conflicted.has(c.service ?? '')),
  ];
  // Owned Services leaving endpoints mode, or deleted: their slices go.
  const endpointsNames = new Set(desired.filter((d) => d.mode === 'endpoints').map((d) => d.name));
  for (const [name, held] of slices) {
    const svc = owned.get(name);
    if (!svc || endpointsNames.has(name)) continue;
    const deleted = plan.changes.some((c) => c.op === 'delete' && c.name === name);
    changes.push(
      ...planSlicesRemoval(
        ns,
        name,
        held,
        deleted ? 'its service is deleted' : 'service left endpoints mode',
      ).map((c) => ({ ...c, current: svc })),
    );
  }
  // Mirrors out of scope are as the previous deliveries left them: unchanged.
  summary.unchanged = plan.unchanged + sliceUnchanged + outside;
  summary.skipped += plan.conflicts.length + conflictsOfSlices.length;
  reportConflicts(deps, [...plan.conflicts, ...conflictsOfSlices]);
  let kept = changes;
  let withheldDeletes = 0;
  if (emptyView || options.withholdDeletes || shared.partial) {
    // Consul always lists at least `consul`: an empty view is a token or watch problem; a
    // filtered one hides services that exist.
    const split = withholdServiceDeletes(changes);
    kept = split.changes;
    withheldDeletes = split.withheld;
    if (emptyView)
      logger.warn({ event: 'empty-services-view' }, 'empty Consul services view: deleting nothing');
  }
  return {
    summary,
    changes: kept,
    warnings,
    emptyView,
    filtered: options.withholdDeletes ?? false,
    withheldDeletes,
    owned: plan.owned + outside,
    conflicts: [...plan.conflicts, ...conflictsOfSlices],
    ...(scope ? { planned: scope.names.size } : {}),
    ...(sharedNamesKept ? { sharedNamesKept: true as const } : {}),
  };
}

/**
 * Uninstall (`reconcile --purge`): every Service this installation owns in the write namespace
 * is planned for deletion, with its EndpointSlices; nothing else is read or touched.
 */
export async function planServicesPurge(deps: SyncDeps): Promise<ViewPlan> {
  const { settings } = deps;
  const ns = settings.k8sWriteNamespace;
  const [labelled, slices] = await Promise.all([
    deps.kube.listLabelledServices(ns),
    listSlices(deps, {}),
  ]);
  const plan = planK8sServices({ desired: [], current: labelled, settings });
  const changes: K8sServiceChange[] = plan.changes.map((c) => ({
    ...c,
    reason: 'purge: this installation is being removed',
  }));
  for (const [name, held] of slices) {
    const svc = labelled.find((s) => s.metadata?.name === name);
    if (!svc || !isOwnedK8sService(svc, settings)) continue;
    changes.push(
      ...planSlicesRemoval(ns, name, held, 'purge: this installation is being removed').map(
        (c) => ({ ...c, current: svc }),
      ),
    );
  }
  const summary = emptySummary();
  summary.unchanged = plan.unchanged;
  return {
    summary,
    changes,
    warnings: [],
    emptyView: false,
    filtered: false,
    withheldDeletes: 0,
    owned: plan.owned,
    conflicts: [],
  };
}

/**
 * Withholds the deletion of Services, and of the slices of a Service whose deletion is withheld;
 * the slice changes of Services that stay are kept.
 */
function withholdServiceDeletes(changes: readonly K8sServiceChange[]): {
  changes: K8sServiceChange[];
  withheld: number;
} {
  const held = new Set(
    changes.filter((c) => c.op === 'delete' && c.kind === undefined).map((c) => c.name),
  );
  const kept = changes.filter(
    (c) =>
      !(c.op === 'delete' && (c.kind === undefined ? held.has(c.name) : held.has(c.service ?? ''))),
  );
  return { changes: kept, withheld: held.size };
}

/** Our slices in the write namespace by Service name. */
async function listSlices(
  deps: SyncDeps,
  options: { cached?: boolean },
): Promise<Map<string, EndpointSlice[]>> {
  const out = new Map<string, EndpointSlice[]>();
  for (const slice of await deps.kube.listOwnedEndpointSlices(
    deps.settings.k8sWriteNamespace,
    options,
  )) {
    if (!isOwnedSlice(slice)) continue;
    const svc = sliceService(slice);
    if (!svc) continue;
    out.set(svc, [...(out.get(svc) ?? []), slice]);
  }
  return out;
}

/**
 * One endpoints-mode service: its instances read, the Service completed, its slices planned.
 * A read filtered by ACLs plans no slice change (hidden instances are not gone).
 */
export async function planInstances(
  deps: SyncDeps,
  d: DesiredK8sService,
  current: Service | undefined,
  held: readonly EndpointSlice[],
  timeoutMs: number,
): Promise<{
  service: DesiredK8sService;
  changes: K8sServiceChange[];
  unchanged: number;
  conflicts: { name: string; reason: string }[];
  warnings: string[];
}> {
  const { settings } = deps;
  const read = await deps.consul.readHealthInstances(d.consulName, timeoutMs);
  const t = translateInstances(d, read.instances, settings);
  if (read.filtered) {
    deps.logger.warn(
      { event: 'deletes-withheld', service: d.consulName },
      'consul filtered the instances read by ACLs: endpoint slices left as they are',
    );
    return { service: d, changes: [], unchanged: 0, conflicts: [], warnings: t.warnings };
  }
  const plan = planEndpointSlices({
    namespace: d.namespace,
    service: d.name,
    desired: t.slices,
    current: held,
    reason: `instances of consul service ${d.consulName}`,
  });
  return {
    service: t.service,
    changes: plan.changes.map((c) => (current ? { ...c, current } : c)),
    unchanged: plan.unchanged,
    conflicts: plan.conflicts,
    warnings: t.warnings,
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
  /** Known to have a k8s-tagged name (a changed one): no need to search the whole view. */
  tagged = false,
): Promise<{ names: Set<string>; partial: boolean }> {
  const tag = deps.settings.consulK8sTag;
  // Searching enumerates the view: a delivery's layered view is made plain once first.
  if (!tagged && !hasTaggedName(plainView(view), tag)) return { names: new Set(), partial: false };
  try {
    const read = await deps.consul.readNamesWithoutTag(tag, deps.settings.writeTimeoutMs);
    // The answer names every service not only from Kubernetes; only the k8s-tagged ones' mirrors
    // depend on it, and deliveries compare it with the previous one: keep those.
    return { names: taggedAmong(read.names, view, tag), partial: read.filtered };
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
  /** False when the write failed: the rest of its Service's unit is not attempted. */
  const apply = async (change: K8sServiceChange, unit: { uid?: string }): Promise<boolean> => {
    try {
      if ((await applyChange(deps, change, summary, unit)) === 'conflict') {
        result.conflicted.push(change);
        return change.kind !== undefined || change.op !== 'create';
      }
      countWrites(deps.metrics, 'kubernetes', [change], 'ok');
      return true;
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
      return false;
    }
  };
  // One unit per Service, its writes in order (docs/reference.md "Endpoints mode"): the Service
  // created, slices written, the Service updated, slices deleted, the Service deleted. A mode
  // switch thus never leaves the Service without its slices, nor slices without the Service.
  const units = new Map<string, K8sServiceChange[]>();
  for (const c of changes) {
    const key = c.kind === undefined ? c.name : (c.service ?? c.name);
    units.set(key, [...(units.get(key) ?? []), c]);
  }
  const step = (c: K8sServiceChange): number =>
    c.kind === undefined
      ? c.op === 'create'
        ? 0
        : c.op === 'update'
          ? 2
          : 4
      : c.op === 'delete'
        ? 3
        : 1;
  await Promise.all(
    [...units.values()].map((unit) =>
      limit(async () => {
        const state: { uid?: string } = {};
        const ordered = unit
          .map((c, i) => ({ c, i }))
          .sort((a, b) => step(a.c) - step(b.c) || a.i - b.i)
          .map((x) => x.c);
        for (const change of ordered) if (!(await apply(change, state))) return;
      }),
    ),
  );
  return result;
}

/** The watch handler's use case: plan and apply in one go. */
export async function convergeServicesView(
  deps: SyncDeps,
  view: ServicesView,
  options: { dryRun?: boolean; tracker?: ViewTracker } = {},
): Promise<ViewConvergeResult> {
  const { tracker } = options;
  try {
    // Watch deliveries come on every catalog change: read our services from the watch cache,
    // and plan only what changed since the previous delivery (serve).
    const plan = await planServicesView(deps, view, {
      cached: true,
      ...(tracker ? { tracker } : {}),
    });
    const result = await applyServicesView(deps, await confirmDeletes(deps, plan), options);
    tracker?.settled(
      result.summary.failed === 0 &&
        result.withheldDeletes === 0 &&
        !options.dryRun &&
        !deps.settings.dryRun,
      [...result.conflicts.map((c) => c.name), ...result.conflicted.map((c) => c.name)],
    );
    return result;
  } catch (err) {
    tracker?.settled(false);
    throw err;
  }
}

/**
 * A delivery was read with the watch's token, and Consul does not tell the handler whether that
 * view was filtered by ACLs: a partial view reads as services gone. So before a delivery deletes
 * a mirror, Consul is read once with our token (only when deletions are planned): a name whose
 * Consul service still exists without the k8s tag keeps its mirror, and a filtered read deletes
 * nothing.
 */
async function confirmDeletes(deps: SyncDeps, plan: ViewPlan): Promise<ViewPlan> {
  if (!plan.changes.some((c) => c.op === 'delete' && c.kind === undefined)) return plan;
  const { settings } = deps;
  let stillThere: Set<string> | undefined;
  try {
    const own = await deps.consul.readServicesView(settings.writeTimeoutMs);
    // A name carrying the k8s tag was already decided from our own read (sharedNames).
    const tag = settings.consulK8sTag;
    // A name denied by the lists or tagged k8s-sync-disabled is gone for this direction.
    if (!own.filtered && Object.keys(own.view).length > 0)
      stillThere = new Set(
        Object.entries(own.view)
          .filter(([, tags]) => tag === '' || !(Array.isArray(tags) && tags.includes(tag)))
          .filter(([, tags]) => !(Array.isArray(tags) && tags.includes(TAG_SYNC_DISABLED)))
          .filter(([n]) => isConsulServiceAllowed(n, settings))
          .map(([n]) => mirrorNameOf(n, settings)),
      );
  } catch (err) {
    deps.logger.warn(
      { event: 'view-read-failed', err: describeError(err) },
      'could not confirm the deletions of a watch delivery: deleting nothing this time',
    );
  }
  // A slice deletion follows its Service's: withheld with it (the Service's slices of a
  // Service that stays are not deletions of a mirror).
  const serviceDeleted = new Set(
    plan.changes.filter((c) => c.op === 'delete' && c.kind === undefined).map((c) => c.name),
  );
  const keep = (c: K8sServiceChange): boolean => {
    if (c.op !== 'delete') return true;
    const name = c.kind === undefined ? c.name : (c.service ?? '');
    if (c.kind !== undefined && !serviceDeleted.has(name)) return true;
    return stillThere !== undefined && !stillThere.has(name);
  };
  const changes = plan.changes.filter(keep);
  return {
    ...plan,
    changes,
    withheldDeletes:
      plan.withheldDeletes +
      plan.changes.filter((c) => c.kind === undefined).length -
      changes.filter((c) => c.kind === undefined).length,
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
