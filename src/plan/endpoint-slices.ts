// Consul → Kubernetes, endpoints mode: the desired EndpointSlices of one Service vs the slices
// stored for it → changes (docs/reference.md "Endpoints mode", "What is ours"). Only slices
// labelled managed-by k8s-consul-sync and consul=true that belong to an owned Service are ours.
import type { DesiredEndpointSlice } from '../translate/endpoint-slices.js';
import {
  LABEL_CONSUL,
  LABEL_CONSUL_VALUE,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  MANAGED_BY_US,
} from '../translate/keys.js';
import type { EndpointSlice } from '../translate/types.js';
import type { K8sServiceChange } from './types.js';

/** Ours: labelled managed-by k8s-consul-sync and consul=true (the Service's ownership is the caller's). */
export function isOwnedSlice(slice: EndpointSlice | null | undefined): boolean {
  const labels = slice?.metadata?.labels ?? {};
  return labels[LABEL_MANAGED_BY] === MANAGED_BY_US && labels[LABEL_CONSUL] === LABEL_CONSUL_VALUE;
}

/** The Service a slice belongs to (label kubernetes.io/service-name). */
export function sliceService(slice: EndpointSlice): string | undefined {
  return slice.metadata?.labels?.[LABEL_SERVICE_NAME];
}

export interface SlicesPlan {
  changes: K8sServiceChange[];
  unchanged: number;
  /** Desired slice names held by a slice that is not ours: never touched. */
  conflicts: { name: string; reason: string }[];
}

/**
 * `current`: the slices of the write namespace labelled for this Service (ours or not). Desired
 * slices missing are created, differing ones replaced, and our slices not desired deleted. A
 * desired name held by a slice that is not ours is a conflict and left alone.
 */
export function planEndpointSlices(input: {
  namespace: string;
  service: string;
  desired: readonly DesiredEndpointSlice[];
  current: readonly EndpointSlice[];
  /** Why the Service's slices change (the reason of every change). */
  reason: string;
}): SlicesPlan {
  const { namespace, service, reason } = input;
  const byName = new Map<string, EndpointSlice>();
  for (const s of input.current) {
    const name = s.metadata?.name;
    if (typeof name === 'string' && name !== '' && !byName.has(name)) byName.set(name, s);
  }
  const changes: K8sServiceChange[] = [];
  const conflicts: { name: string; reason: string }[] = [];
  let unchanged = 0;
  const desiredNames = new Set<string>();
  const base = {
    target: 'kubernetes' as const,
    kind: 'EndpointSlice' as const,
    namespace,
    service,
  };
  for (const d of input.desired) {
    desiredNames.add(d.name);
    const current = byName.get(d.name);
    if (current === undefined) {
      changes.push({ ...base, op: 'create', name: d.name, desiredSlice: d, reason });
      continue;
    }
    if (!isOwnedSlice(current) || sliceService(current) !== service) {
      conflicts.push({
        name: d.name,
        reason: `endpointslice ${namespace}/${d.name} exists and is not managed by k8s-consul-sync for ${service}: left alone`,
      });
      continue;
    }
    const parts = diffSlice(current, d);
    if (parts.length === 0) {
      unchanged++;
      continue;
    }
    // addressType is immutable: a slice of another type is replaced by delete and create.
    if ((current.addressType ?? '') !== d.addressType) {
      changes.push({ ...base, op: 'delete', name: d.name, currentSlice: current, reason });
      changes.push({ ...base, op: 'create', name: d.name, desiredSlice: d, reason });
      continue;
    }
    changes.push({
      ...base,
      op: 'update',
      name: d.name,
      desiredSlice: d,
      currentSlice: current,
      reason: `${reason}: ${parts.join(', ')}`,
    });
  }
  for (const [name, current] of byName) {
    if (desiredNames.has(name)) continue;
    if (!isOwnedSlice(current) || sliceService(current) !== service) continue;
    changes.push({ ...base, op: 'delete', name, currentSlice: current, reason });
  }
  return { changes, unchanged, conflicts };
}

/** Deletes every slice of ours among `current` (the Service left endpoints mode or is gone). */
export function planSlicesRemoval(
  namespace: string,
  service: string,
  current: readonly EndpointSlice[],
  reason: string,
): K8sServiceChange[] {
  return current
    .filter((s) => isOwnedSlice(s) && sliceService(s) === service && s.metadata?.name)
    .map((s) => ({
      target: 'kubernetes' as const,
      kind: 'EndpointSlice' as const,
      op: 'delete' as const,
      namespace,
      service,
      name: s.metadata!.name!,
      currentSlice: s,
      reason,
    }));
}

/** What differs between a stored slice of ours and the desired one; extra labels/annotations are kept. */
export function diffSlice(current: EndpointSlice, desired: DesiredEndpointSlice): string[] {
  const parts: string[] = [];
  if ((current.addressType ?? '') !== desired.addressType)
    parts.push(`addressType ${current.addressType ?? 'none'} → ${desired.addressType}`);
  if (!sameEndpoints(current.endpoints ?? [], desired.endpoints)) parts.push('endpoints changed');
  if (!samePorts(current.ports ?? [], desired.ports)) parts.push('ports changed');
  const labels = current.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(desired.labels))
    if (labels[key] !== value) parts.push(`label ${key} missing`);
  const annotations = current.metadata?.annotations ?? {};
  for (const [key, value] of Object.entries(desired.annotations))
    if (annotations[key] !== value) parts.push(`annotation ${key} changed`);
  return parts;
}

function sameEndpoints(
  current: readonly NonNullable<EndpointSlice['endpoints']>[number][],
  desired: DesiredEndpointSlice['endpoints'],
): boolean {
  if (current.length !== desired.length) return false;
  return desired.every((d, i) => {
    const c = current[i]!;
    const cc = c.conditions ?? {};
    const dc = d.conditions ?? {};
    return (
      c.addresses.length === d.addresses.length &&
      c.addresses.every((a, j) => a === d.addresses[j]) &&
      (cc.ready ?? null) === (dc.ready ?? null) &&
      (cc.serving ?? null) === (dc.serving ?? null) &&
      (cc.terminating ?? null) === (dc.terminating ?? null)
    );
  });
}

function samePorts(
  current: readonly NonNullable<EndpointSlice['ports']>[number][],
  desired: DesiredEndpointSlice['ports'],
): boolean {
  if (current.length !== desired.length) return false;
  return desired.every((d, i) => {
    const c = current[i]!;
    return (
      (c.name ?? '') === d.name &&
      (c.protocol ?? 'TCP') === d.protocol &&
      (c.port ?? null) === (d.port ?? null)
    );
  });
}
