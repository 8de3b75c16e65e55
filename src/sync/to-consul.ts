// Kubernetes → Consul for one service: read what the translation needs, read what Consul holds
// for the service, plan, and apply in one transaction (SPEC.md §4, §6).
import { planServiceRegistrations, type RegistrationChange } from '../plan/index.js';
import {
  consulNameOf,
  sourcesNeeded,
  translateService,
  type ConsulTranslation,
} from '../translate/index.js';
import { META_K8S_NODE_NAME } from '../translate/keys.js';
import type { EndpointSlice, Registration, Service, ServiceRef } from '../translate/types.js';
import { countWrites, type SyncDeps } from './deps.js';

export interface ServiceConvergeInput {
  ref: ServiceRef;
  /** The Service to converge to: an object (admission: not yet stored), null (deleted), or undefined (read it). */
  service?: Service | null;
  /** A slice about to be stored (object) or deleted (null) that overrides the stored one of that name. */
  slice?: { name: string; object: EndpointSlice | null };
  /** The Service before this change (admission UPDATE/DELETE): its Consul name may hold instances. */
  previous?: Service | null;
  /**
   * Read every registration of the service on the sync node, whatever its Consul name (a scan of
   * the node). Otherwise only the names of the current and previous versions are read (indexed).
   */
  exhaustive?: boolean;
  dryRun?: boolean;
}

export interface ServiceConvergeResult {
  ref: ServiceRef;
  changes: RegistrationChange[];
  unchanged: number;
  conflicts: Registration[];
  warnings: string[];
  skipReason?: string;
  /** Transactions written (0 for no change or dry run). */
  transactions: number;
}

function isBeingDeleted(service: Service): boolean {
  return Boolean(
    (service.metadata as { deletionTimestamp?: unknown } | undefined)?.deletionTimestamp,
  );
}

function applySliceOverride(
  stored: readonly EndpointSlice[],
  override: ServiceConvergeInput['slice'],
): EndpointSlice[] {
  if (!override) return [...stored];
  const others = stored.filter((s) => s.metadata?.name !== override.name);
  return override.object ? [...others, override.object] : others;
}

type Translation = ConsulTranslation | { ref: ServiceRef; deleted: true };

async function translate(
  deps: SyncDeps,
  input: ServiceConvergeInput,
  service: Service | null,
): Promise<Translation> {
  if (!service || isBeingDeleted(service)) return { ref: input.ref, deleted: true };
  const need = sourcesNeeded(service, deps.settings);
  const slices = need.endpointSlices
    ? applySliceOverride(await deps.kube.listEndpointSlices(input.ref), input.slice)
    : [];
  const nodeNames = new Set<string>();
  if (need.nodes) {
    for (const slice of slices)
      for (const ep of slice.endpoints ?? []) if (ep.nodeName) nodeNames.add(ep.nodeName);
  }
  const nodes = nodeNames.size > 0 ? await deps.kube.readNodes(nodeNames) : new Map();
  return translateService({ service, endpointSlices: slices, nodes }, deps.settings);
}

/** What Consul holds for the service: by name when every name it can be under is known. */
async function readCurrent(
  deps: SyncDeps,
  input: ServiceConvergeInput,
  service: Service | null,
  translation: Promise<Translation>,
): Promise<Registration[]> {
  const timeout = deps.settings.writeTimeoutMs;
  const names = [service, input.previous]
    .filter((s): s is Service => Boolean(s))
    .map((s) => consulNameOf(s, deps.settings));
  if (!input.exhaustive && names.length > 0) {
    return deps.consul.readForServiceByNames(input.ref, names, timeout);
  }
  const services = await deps.consul.readForService(input.ref, timeout);
  return needsChecks(await translation, services.registrations)
    ? services.withChecks()
    : services.registrations;
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

export async function convergeService(
  deps: SyncDeps,
  input: ServiceConvergeInput,
): Promise<ServiceConvergeResult> {
  const { settings } = deps;
  const timeout = settings.writeTimeoutMs;
  const service =
    input.service === undefined ? await deps.kube.readService(input.ref) : input.service;
  // Both sides are read at once: the Kubernetes reads the translation needs, and what Consul holds.
  const translating = translate(deps, input, service);
  const [translation, current] = await Promise.all([
    translating,
    readCurrent(deps, input, service, translating),
  ]);
  const plan = planServiceRegistrations({ translation, current, syncId: settings.syncId });
  const warnings = 'deleted' in translation ? [] : translation.warnings;
  const skipReason = 'deleted' in translation ? 'service deleted' : translation.skipReason;
  for (const c of plan.conflicts) {
    deps.metrics.skipped.inc({ reason: 'conflict' });
    deps.logger.warn(
      {
        event: 'registration-conflict',
        'namespace/name': `${input.ref.namespace}/${input.ref.name}`,
        serviceId: c.id,
      },
      'a registration with this ID belongs to another installation or to no one: left alone',
    );
  }
  const result: ServiceConvergeResult = {
    ref: input.ref,
    changes: plan.changes,
    unchanged: plan.unchanged,
    conflicts: plan.conflicts,
    warnings,
    ...(skipReason ? { skipReason } : {}),
    transactions: 0,
  };
  if (plan.changes.length === 0) return result;
  if (input.dryRun || settings.dryRun) {
    deps.logger.info(
      {
        event: 'dry-run',
        target: 'consul',
        changes: plan.changes.map((c) => `${c.op} ${c.registration.id} (${c.reason})`),
      },
      'dry run: not writing',
    );
    return result;
  }
  try {
    const applied = await deps.consul.apply([plan.changes], timeout);
    countWrites(deps.metrics, 'consul', plan.changes, 'ok');
    result.transactions = applied.transactions;
  } catch (err) {
    countWrites(deps.metrics, 'consul', plan.changes, 'error');
    throw err;
  }
  return result;
}
