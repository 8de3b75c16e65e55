// Kubernetes → Consul planning (docs/reference.md "Ownership and safety"): desired registrations vs what Consul holds → the
// changes, each with a reason. Only registrations carrying our sync id are ever changed
// (translate/ownership.ts).
import { META_K8S_NAME, META_K8S_NAMESPACE } from '../translate/keys.js';
import { compareStrings } from '../translate/order.js';
import { isAdoptable, isOwnedRegistration } from '../translate/ownership.js';
import type { ConsulTranslation } from '../translate/to-consul.js';
import type { Registration, RegistrationCheck, ServiceRef } from '../translate/types.js';
import { sortChanges } from './format.js';
import type { RegistrationChange } from './types.js';
import { appendAll } from '../translate/arrays.js';

/** The Kubernetes service is gone: everything we registered for it goes. */
export interface DeletedService {
  ref: ServiceRef;
  deleted: true;
}

export interface RegistrationPlan {
  changes: RegistrationChange[];
  /** Desired instances that are ours and already as desired. */
  unchanged: number;
  /** Current registrations with a desired ID that are not ours: never written. */
  conflicts: Registration[];
}

/** The Kubernetes service a registration names in its meta, if it names one. */
export function registrationSource(registration: Registration): ServiceRef | undefined {
  const meta = metaOf(registration);
  const namespace = meta[META_K8S_NAMESPACE];
  const name = meta[META_K8S_NAME];
  if (typeof namespace !== 'string' || typeof name !== 'string' || namespace === '' || name === '')
    return undefined;
  return { namespace, name };
}

/**
 * One Kubernetes service. `current` should be the registrations on our node whose meta names
 * this service (any owner); extra entries are harmless: only those naming `ref` can be deleted,
 * and any of them sharing a desired ID is a conflict.
 */
export function planServiceRegistrations(input: {
  translation: ConsulTranslation | DeletedService;
  current: readonly Registration[];
  syncId: string;
}): RegistrationPlan {
  const ref = input.translation.ref;
  const group = input.current.filter((r) => sameRef(registrationSource(r), ref));
  const owns = (r: Registration): boolean => isOwnedRegistration(r, input.syncId);
  const plan = planGroup(input.translation, group, indexByKey(input.current), owns);
  return { ...plan, changes: sortChanges(plan.changes) as RegistrationChange[] };
}

/**
 * Every Kubernetes service at once (reconcile). `current` = all registrations on our node, any
 * owner. Owned groups without a translation are deleted as 'k8s service ns/name deleted'; owned
 * registrations naming no Kubernetes service are deleted as orphans.
 */
export function planAllRegistrations(input: {
  translations: readonly ConsulTranslation[];
  current: readonly Registration[];
  syncId: string;
  /**
   * Take over registrations of consul-k8s's shape (external-source=kubernetes, no sync id): plan
   * them as ours, so the kept ones get our sync id and the stale ones are deleted.
   */
  adoptUnowned?: boolean;
}): RegistrationPlan & { owned: number } {
  const { syncId } = input;
  const owns = (r: Registration): boolean =>
    isOwnedRegistration(r, syncId) || (input.adoptUnowned === true && isAdoptable(r));
  const lookup = indexByKey(input.current);
  const groups = new Map<string, { ref: ServiceRef; registrations: Registration[] }>();
  const orphans: Registration[] = [];
  for (const r of input.current) {
    const ref = registrationSource(r);
    if (ref === undefined) {
      orphans.push(r);
      continue;
    }
    const key = refKey(ref);
    const group = groups.get(key);
    if (group) group.registrations.push(r);
    else groups.set(key, { ref, registrations: [r] });
  }

  const changes: RegistrationChange[] = [];
  const conflicts: Registration[] = [];
  let unchanged = 0;
  const add = (plan: RegistrationPlan): void => {
    appendAll(changes, plan.changes);
    appendAll(conflicts, plan.conflicts);
    unchanged += plan.unchanged;
  };
  const planned = new Set<string>();
  for (const translation of input.translations) {
    const key = refKey(translation.ref);
    if (planned.has(key)) continue; // a duplicate translation of the same service: first wins
    planned.add(key);
    add(planGroup(translation, groups.get(key)?.registrations ?? [], lookup, owns));
  }
  for (const [key, group] of groups) {
    if (planned.has(key)) continue;
    add(planGroup({ ref: group.ref, deleted: true }, group.registrations, lookup, owns));
  }
  for (const r of orphans) {
    if (!owns(r)) continue;
    const meta = metaOf(r);
    changes.push({
      target: 'consul',
      op: 'delete',
      registration: r,
      writeService: true,
      writeCheck: null,
      source: { namespace: meta[META_K8S_NAMESPACE] ?? '', name: meta[META_K8S_NAME] ?? '' },
      reason: `${adopted(r)}orphaned registration: no ${META_K8S_NAMESPACE}/${META_K8S_NAME} meta`,
    });
  }
  return {
    changes: sortChanges(changes) as RegistrationChange[],
    unchanged,
    conflicts: dedupeConflicts(conflicts),
    owned: input.current.filter(owns).length,
  };
}

/** The reason's prefix for a registration taken over from consul-k8s (`--adopt-consul-k8s`). */
function adopted(current: Registration): string {
  return isAdoptable(current) ? 'adopted from consul-k8s: ' : '';
}

function planGroup(
  translation: ConsulTranslation | DeletedService,
  group: readonly Registration[],
  lookup: ReadonlyMap<string, Registration>,
  owns: (r: Registration) => boolean,
): RegistrationPlan {
  const ref = translation.ref;
  const label = `k8s service ${ref.namespace}/${ref.name}`;
  const deleted = 'deleted' in translation && translation.deleted;
  const desired = deleted ? [] : (translation as ConsulTranslation).registrations;
  const changes: RegistrationChange[] = [];
  const conflicts: Registration[] = [];
  let unchanged = 0;

  const desiredKeys = new Set<string>();
  for (const d of desired) {
    const key = keyOf(d);
    if (desiredKeys.has(key)) continue;
    desiredKeys.add(key);
    const current = lookup.get(key);
    if (current === undefined) {
      changes.push({
        target: 'consul',
        op: 'create',
        registration: d,
        writeService: true,
        writeCheck: d.check ? 'set' : null,
        source: ref,
        reason: `new instance ${d.address}:${d.port} of ${label}`,
      });
      continue;
    }
    if (!owns(current) || !sameRef(registrationSource(current), ref)) {
      conflicts.push(current);
      continue;
    }
    const diff = diffRegistration(current, d);
    if (!diff.writeService && diff.writeCheck === null) {
      unchanged++;
      continue;
    }
    changes.push({
      target: 'consul',
      op: 'update',
      registration: d,
      previous: current,
      writeService: diff.writeService,
      writeCheck: diff.writeCheck,
      source: ref,
      reason: adopted(current) + diff.parts.join(', '),
    });
  }

  let desiredNames: string[] | undefined;
  for (const current of group) {
    if (desiredKeys.has(keyOf(current)) || !owns(current)) continue;
    let reason: string;
    if (deleted) reason = `${label} deleted`;
    else if (!(translation as ConsulTranslation).eligible)
      reason = `${label} no longer synced: ${(translation as ConsulTranslation).skipReason ?? 'not eligible'}`;
    else if (desired.length > 0 && !desired.some((d) => d.namespace === current.namespace))
      reason = `${label} moved to Consul namespace ${desired[0]!.namespace ?? 'default'}`;
    else if (
      (desiredNames ??= [...new Set(desired.map((d) => d.service))]).length > 0 &&
      !desiredNames.includes(current.service)
    )
      reason = `${label} renamed in Consul: ${current.service} → ${desiredNames.join(', ')}`;
    else reason = `instance ${current.address}:${current.port} of ${label} is gone`;
    reason = adopted(current) + reason;
    // Deregistering a service also removes its checks, so no separate check delete.
    changes.push({
      target: 'consul',
      op: 'delete',
      registration: current,
      writeService: true,
      writeCheck: null,
      source: ref,
      reason,
    });
  }
  return { changes, unchanged, conflicts };
}

/**
 * What differs between current and desired. The node is part of the key, not compared. The
 * check is compared on ID, name and status: its output only restates the status.
 */
export function diffRegistration(
  current: Registration,
  desired: Registration,
): { writeService: boolean; writeCheck: 'set' | 'delete' | null; parts: string[] } {
  const parts: string[] = [];
  if (current.service !== desired.service)
    parts.push(`service ${current.service} → ${desired.service}`);
  if (current.address !== desired.address)
    parts.push(`address ${current.address} → ${desired.address}`);
  if (current.port !== desired.port) parts.push(`port ${current.port} → ${desired.port}`);
  const currentTags = Array.isArray(current.tags) ? current.tags : [];
  if (!arraysEqual(currentTags, desired.tags))
    parts.push(`tags [${currentTags.join(',')}] → [${desired.tags.join(',')}]`);
  const metaDiff = diffMeta(metaOf(current), desired.meta);
  if (metaDiff !== undefined) parts.push(`meta changed (${metaDiff})`);
  const cw = current.weights;
  if (cw?.passing !== desired.weights.passing || cw?.warning !== desired.weights.warning)
    parts.push(
      `weights ${cw ? `${cw.passing}/${cw.warning}` : 'unset'} → ${desired.weights.passing}/${desired.weights.warning}`,
    );
  const writeService = parts.length > 0;

  let writeCheck: 'set' | 'delete' | null = null;
  if (desired.check && !current.check) {
    writeCheck = 'set';
    parts.push(`health check added (${desired.check.status})`);
  } else if (!desired.check && current.check) {
    writeCheck = 'delete';
    parts.push('health check removed');
  } else if (desired.check && current.check && !checksEqual(current.check, desired.check)) {
    writeCheck = 'set';
    if (current.check.status !== desired.check.status)
      parts.push(`health ${current.check.status} → ${desired.check.status}`);
    if (current.check.checkId !== desired.check.checkId)
      parts.push(`check id ${current.check.checkId} → ${desired.check.checkId}`);
    if (current.check.name !== desired.check.name)
      parts.push(`check name ${current.check.name} → ${desired.check.name}`);
  }
  return { writeService, writeCheck, parts };
}

function checksEqual(a: RegistrationCheck, b: RegistrationCheck): boolean {
  return a.checkId === b.checkId && a.name === b.name && a.status === b.status;
}

function diffMeta(
  current: Record<string, string>,
  desired: Record<string, string>,
): string | undefined {
  if (sameMeta(current, desired)) return undefined;
  const keys = [...new Set([...Object.keys(current), ...Object.keys(desired)])].sort(
    compareStrings,
  );
  const parts: string[] = [];
  for (const key of keys) {
    const inCurrent = Object.prototype.hasOwnProperty.call(current, key);
    const inDesired = Object.prototype.hasOwnProperty.call(desired, key);
    if (inCurrent && !inDesired) parts.push(`-${key}`);
    else if (!inCurrent && inDesired) parts.push(`+${key}`);
    else if (current[key] !== desired[key]) parts.push(`~${key}`);
  }
  return parts.length === 0 ? undefined : parts.join(' ');
}

/** The same keys with the same values (the common case, checked without sorting any keys). */
function sameMeta(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys)
    if (!Object.prototype.hasOwnProperty.call(b, key) || a[key] !== b[key]) return false;
  return true;
}

function arraysEqual(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function metaOf(r: Registration): Record<string, string> {
  return typeof r.meta === 'object' && r.meta !== null ? r.meta : {};
}

/**
 * Consul service IDs are unique per node (and, in Consul Enterprise, per namespace): node,
 * namespace and ID identify an instance.
 */
function keyOf(r: Registration): string {
  return `${r.node}\u0000${r.namespace ?? ''}\u0000${r.id}`;
}

function indexByKey(registrations: readonly Registration[]): Map<string, Registration> {
  const index = new Map<string, Registration>();
  for (const r of registrations) {
    const key = keyOf(r);
    if (!index.has(key)) index.set(key, r);
  }
  return index;
}

function refKey(ref: ServiceRef): string {
  return `${ref.namespace}/${ref.name}`;
}

function sameRef(a: ServiceRef | undefined, b: ServiceRef): boolean {
  return a !== undefined && a.namespace === b.namespace && a.name === b.name;
}

function dedupeConflicts(conflicts: readonly Registration[]): Registration[] {
  const seen = new Set<string>();
  return conflicts.filter((r) => {
    const key = keyOf(r);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
