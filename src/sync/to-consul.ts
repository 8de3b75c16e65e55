// Kubernetes → Consul for one service: read what the translation needs, read what Consul holds
// for the service, plan, and apply in one transaction (docs/reference.md "Kubernetes → Consul", "Ownership and safety").
import {
  planServiceRegistrations,
  withholdDeletes,
  type RegistrationChange,
  type RegistrationPlan,
} from '../plan/index.js';
import type { RegistrationsRead } from '../consul/catalog.js';
import { describeError, isSyncError } from '../errors.js';
import {
  consulNameOf,
  consulNamespaceFor,
  isBeingDeleted,
  sourcesNeeded,
  translateService,
  type ConsulTranslation,
} from '../translate/index.js';
import { META_K8S_NODE_NAME } from '../translate/keys.js';
import type {
  EndpointSlice,
  Ingress,
  Registration,
  Service,
  ServiceRef,
} from '../translate/types.js';
import { countWrites, type SyncDeps } from './deps.js';

export interface ServiceConvergeInput {
  ref: ServiceRef;
  /** The Service to converge to: an object (admission: not yet stored), null (deleted), or undefined (read it). */
  service?: Service | null;
  /** Slices about to be stored (object) or deleted (null) that override the stored ones of those names. */
  slices?: readonly { name: string; object: EndpointSlice | null }[];
  /**
   * Ingresses about to be stored (object) or deleted (null) that override the listed ones of
   * those names (--enable-ingress: an admitted Ingress, docs/reference.md "Ingress").
   */
  ingresses?: readonly { name: string; object: Ingress | null }[];
  /** The Service before this change (admission UPDATE/DELETE): its Consul name may hold instances. */
  previous?: Service | null;
  /** More Consul names that may hold the service's instances (names admitted before). */
  names?: readonly string[];
  /**
   * Read every registration of the service on the sync node, whatever its Consul name (a scan of
   * the node). Otherwise only the names of the current and previous versions are read (indexed).
   */
  exhaustive?: boolean;
  /**
   * What Consul holds for this service, already read (an audit batch reads the sync node once
   * for all its services). Used for the first attempt only: a check-and-set conflict re-reads.
   */
  current?: RegistrationsRead;
  /**
   * Plan against what `deps.registrations` holds for the service when it knows it (an
   * admission), instead of reading Consul; the write's check-and-set catches a stale view.
   */
  fromView?: boolean;
  dryRun?: boolean;
}

export interface ServiceConvergeResult {
  ref: ServiceRef;
  /** The Service converged to (admitted or read); null when it is gone. */
  service: Service | null;
  changes: RegistrationChange[];
  unchanged: number;
  conflicts: Registration[];
  warnings: string[];
  skipReason?: string;
  /** Transactions written (0 for no change or dry run). */
  transactions: number;
  /** Deletions not made because Consul filtered the read by ACLs. */
  withheldDeletes: number;
}

/** Attempts of one converge when a check-and-set write finds Consul changed since the read. */
const CAS_ATTEMPTS = 3;

function applyOverrides<T extends { metadata?: { name?: string } }>(
  stored: readonly T[],
  overrides: readonly { name: string; object: T | null }[] | undefined,
): T[] {
  if (!overrides || overrides.length === 0) return [...stored];
  const names = new Set(overrides.map((o) => o.name));
  const out = stored.filter((s) => !names.has(s.metadata?.name ?? ''));
  for (const o of overrides) if (o.object) out.push(o.object);
  return out;
}

type Translation = ConsulTranslation | { ref: ServiceRef; deleted: true };

async function translate(
  deps: SyncDeps,
  input: ServiceConvergeInput,
  service: Service | null,
): Promise<Translation> {
  if (!service || isBeingDeleted(service)) return { ref: input.ref, deleted: true };
  const need = sourcesNeeded(service, deps.settings);
  // The Ingresses of the namespace are read with the slices (a rule, if any, wins over them).
  const [slices, ingresses] = await Promise.all([
    need.endpointSlices
      ? deps.kube.listEndpointSlices(input.ref).then((s) => applyOverrides(s, input.slices))
      : [],
    need.ingresses
      ? deps.kube.listIngresses(input.ref.namespace).then((i) => applyOverrides(i, input.ingresses))
      : [],
  ]);
  const nodeNames = new Set<string>();
  if (need.nodes) {
    for (const slice of slices)
      for (const ep of slice.endpoints ?? []) if (ep.nodeName) nodeNames.add(ep.nodeName);
  }
  const nodes =
    nodeNames.size > 0
      ? await deps.kube.readNodes(nodeNames, deps.settings.concurrency)
      : new Map();
  return translateService({ service, endpointSlices: slices, nodes, ingresses }, deps.settings);
}

/** What Consul holds for the service: by name when every name it can be under is known. */
async function readCurrent(
  deps: SyncDeps,
  input: ServiceConvergeInput,
  service: Service | null,
  translation: Promise<Translation>,
): Promise<RegistrationsRead> {
  const timeout = deps.settings.writeTimeoutMs;
  const names = new Set(input.names ?? []);
  for (const s of [service, input.previous]) if (s) names.add(consulNameOf(s, deps.settings));
  if (!input.exhaustive && names.size > 0) {
    // With namespaces: the names in the service's Consul namespace (a move to another one, by
    // a flag change, is seen by the node-wide read of a reconcile).
    const namespace = consulNamespaceFor(input.ref.namespace, deps.settings);
    return deps.consul.readForServiceByNames(input.ref, [...names], timeout, namespace);
  }
  const services = await deps.consul.readForService(input.ref, timeout);
  return needsChecks(await translation, services.registrations) ? services.withChecks() : services;
}

/**
 * Whether current checks matter to the plan: when a desired instance has a check, or an
 * instance of ours that may carry one (endpoint-derived: it names a node) is still desired.
 */
function needsChecks(
  translation: ConsulTranslation | { deleted: true },
  current: readonly Registration[],
): boolean {
  if ('deleted' in translation) return false;
  if (translation.registrations.some((r) => r.check)) return true;
  const desiredIds = new Set(translation.registrations.map((r) => r.id));
  return current.some((r) => desiredIds.has(r.id) && r.meta[META_K8S_NODE_NAME] !== undefined);
}

/**
 * Converges Consul to one Kubernetes service: reads both sides, plans, and writes one
 * check-and-set transaction. When another writer changed the service's registrations between
 * the read and the write (a second replica), the transaction fails as a whole and the converge
 * starts over from a fresh read.
 */
export async function convergeService(
  deps: SyncDeps,
  input: ServiceConvergeInput,
): Promise<ServiceConvergeResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await convergeOnce(
        deps,
        attempt === 1 ? input : { ...input, current: undefined, fromView: false },
      );
    } catch (err) {
      if (attempt >= CAS_ATTEMPTS || !isCasConflict(err)) throw err;
      deps.logger.debug(
        {
          event: 'cas-retry',
          'namespace/name': `${input.ref.namespace}/${input.ref.name}`,
          attempt,
          err: describeError(err),
        },
        'consul changed since the read: converging again from a fresh read',
      );
    }
  }
}

/** A failed txn (409): one of its check-and-set comparisons found a newer index. */
function isCasConflict(err: unknown): boolean {
  return isSyncError(err) && err.code === 'CONSUL_REJECTED' && err.upstreamStatus === 409;
}

async function convergeOnce(
  deps: SyncDeps,
  input: ServiceConvergeInput,
): Promise<ServiceConvergeResult> {
  const { settings } = deps;
  const timeout = settings.writeTimeoutMs;
  const service =
    input.service === undefined ? await deps.kube.readService(input.ref) : input.service;
  // Both sides are read at once: the Kubernetes reads the translation needs, and what Consul holds.
  const translating = translate(deps, input, service);
  const view = deps.registrations;
  const asksView = input.fromView === true && !input.current && view !== undefined;
  const fromView = asksView ? view.get(input.ref) : undefined;
  const known = input.current ?? fromView;
  const [translation, read] = await Promise.all([
    translating,
    known ?? readCurrent(deps, input, service, translating),
  ]);
  let current = read;
  // The plan sees every registration of the service (the view's, or a read of the whole node);
  // a read by name sees only those names.
  let whole = known !== undefined || input.exhaustive === true;
  const plan = (): RegistrationPlan =>
    planServiceRegistrations({
      translation,
      current: current.registrations,
      syncId: settings.syncId,
    });
  let planned = plan();
  const unchanged = planned.changes.length === 0;
  if (asksView)
    deps.metrics.registrationView.inc({
      outcome: !fromView ? 'miss' : unchanged ? 'unchanged-read' : 'hit',
    });
  if (fromView && unchanged) {
    // A plan of no change writes nothing, so no check-and-set can prove the view current: a
    // newer write by another replica would stay. Read, as without the view.
    current = await readCurrent(deps, input, service, translating);
    whole = input.exhaustive === true;
    planned = plan();
  }
  const where = `${input.ref.namespace}/${input.ref.name}`;
  // A read Consul filtered by ACLs may hide instances: write what is desired, delete nothing.
  const kept = current.filtered
    ? withholdDeletes(planned.changes)
    : { changes: planned.changes, withheld: [] };
  if (kept.withheld.length > 0) {
    deps.metrics.deletesWithheld.inc(
      { target: 'consul', reason: 'acl-filtered' },
      kept.withheld.length,
    );
    deps.logger.warn(
      { event: 'deletes-withheld', 'namespace/name': where, deletes: kept.withheld.length },
      'consul filtered the read by ACLs: deleting nothing (see infra/consul/acl-policy.hcl)',
    );
  }
  const changes = kept.changes;
  const warnings = 'deleted' in translation ? [] : translation.warnings;
  const skipReason = 'deleted' in translation ? 'service deleted' : translation.skipReason;
  for (const c of planned.conflicts) {
    deps.metrics.skipped.inc({ reason: 'conflict' });
    deps.logger.warn(
      {
        event: 'registration-conflict',
        'namespace/name': where,
        serviceId: c.id,
      },
      'a registration with this ID belongs to another installation or to no one: left alone',
    );
  }
  const result: ServiceConvergeResult = {
    ref: input.ref,
    service,
    changes,
    unchanged: planned.unchanged,
    conflicts: planned.conflicts,
    warnings,
    ...(skipReason ? { skipReason } : {}),
    transactions: 0,
    withheldDeletes: kept.withheld.length,
  };
  if (changes.length === 0) return result;
  if (input.dryRun || settings.dryRun) {
    deps.logger.info(
      {
        event: 'dry-run',
        target: 'consul',
        changes: changes.map((c) => `${c.op} ${c.registration.id} (${c.reason})`),
      },
      'dry run: not writing',
    );
    return result;
  }
  try {
    const applied = await deps.consul.apply([changes], timeout, { cas: true });
    const [unwritable] = applied.skipped;
    if (unwritable !== undefined) {
      deps.metrics.skipped.inc({ reason: 'consul-namespace' });
      throw unwritable.error;
    }
    countWrites(deps.metrics, 'consul', changes, 'ok');
    result.transactions = applied.transactions;
    if (view) {
      // What the transaction answered is what Consul now holds: the next admission plans from
      // it, when the plan saw every registration of the service.
      const after =
        whole && !current.filtered
          ? deps.consul.registrationsAfter(current.registrations, changes, applied)
          : undefined;
      if (after) view.record(input.ref, after, view.stamp());
      else view.forget(input.ref);
    }
  } catch (err) {
    countWrites(deps.metrics, 'consul', changes, 'error');
    view?.forget(input.ref);
    throw err;
  }
  return result;
}
