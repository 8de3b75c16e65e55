// Consul → Kubernetes planning (docs/reference.md "Consul → Kubernetes", "Ownership and safety"): desired ExternalName services vs the write
// namespace → changes. Only Services labelled consul=true in the write namespace are ours
// (translate/ownership.ts).
import {
  ANNOTATION_CONSUL_META_PREFIX,
  ANNOTATION_CONSUL_TAGS,
  ANNOTATION_MODE,
  LABEL_CONSUL,
  LABEL_CONSUL_VALUE,
} from '../translate/keys.js';
import { isInWriteNamespace, isOwnedK8sService } from '../translate/ownership.js';
import type { DesiredK8sService, Service, ServicePort, ToK8sSettings } from '../translate/types.js';
import { sortChanges } from './format.js';
import type { K8sServiceChange } from './types.js';

export interface K8sServicesPlan {
  changes: K8sServiceChange[];
  /** Desired services that exist, are ours and are as desired. */
  unchanged: number;
  /** Desired names held by a Service that is not ours: never touched. */
  conflicts: { name: string; reason: string }[];
  /** Services that are ours in the write namespace. */
  owned: number;
}

/**
 * `current`: every Service in the write namespace (or at least those with the desired names
 * and all labelled consul=true). Services of other namespaces are ignored; a Service without
 * a namespace is taken to be in the write namespace (a namespaced list may omit it). Pure:
 * the caller handles the empty-view guard (docs/reference.md "Consul → Kubernetes").
 */
export function planK8sServices(input: {
  desired: readonly DesiredK8sService[];
  current: readonly Service[];
  settings: ToK8sSettings;
}): K8sServicesPlan {
  const { settings } = input;
  const ns = settings.k8sWriteNamespace;
  const byName = new Map<string, Service>();
  for (const svc of input.current) {
    if (typeof svc !== 'object' || svc === null) continue;
    const name = svc.metadata?.name;
    if (typeof name !== 'string' || name === '') continue;
    if (!isInWriteNamespace(svc, settings)) continue;
    if (!byName.has(name)) byName.set(name, svc);
  }

  const changes: K8sServiceChange[] = [];
  const conflicts: { name: string; reason: string }[] = [];
  let unchanged = 0;
  const desiredNames = new Set<string>();
  for (const d of input.desired) {
    if (desiredNames.has(d.name)) continue;
    desiredNames.add(d.name);
    const current = byName.get(d.name);
    if (current === undefined) {
      changes.push({
        target: 'kubernetes',
        op: 'create',
        namespace: d.namespace,
        name: d.name,
        desired: d,
        reason: `consul service ${d.consulName} added`,
      });
      continue;
    }
    if (!isOwnedK8sService(current, settings)) {
      conflicts.push({
        name: d.name,
        reason: `service ${ns}/${d.name} exists without label ${LABEL_CONSUL}=${LABEL_CONSUL_VALUE}; consul service ${d.consulName} not synced`,
      });
      continue;
    }
    const parts = diffK8sService(current, d);
    if (parts.length === 0) {
      unchanged++;
      continue;
    }
    changes.push({
      target: 'kubernetes',
      op: 'update',
      namespace: d.namespace,
      name: d.name,
      desired: d,
      current,
      reason: `${parts.join(', ')}: restored`,
    });
  }

  let owned = 0;
  for (const [name, current] of byName) {
    if (!isOwnedK8sService(current, settings)) continue;
    owned++;
    if (desiredNames.has(name)) continue;
    changes.push({
      target: 'kubernetes',
      op: 'delete',
      namespace: ns,
      name,
      current,
      reason: `consul service ${consulNameOf(name, settings.k8sServicePrefix)} removed`,
    });
  }
  return { changes: sortChanges(changes) as K8sServiceChange[], unchanged, conflicts, owned };
}

/**
 * What an owned Service lacks compared to the desired one; extra labels/annotations are kept,
 * except the ones this product manages from Consul: the tags annotation, the mode annotation and,
 * once the instances were read (endpoints mode), the meta annotations.
 */
export function diffK8sService(current: Service, desired: DesiredK8sService): string[] {
  const parts: string[] = [];
  const type = current.spec?.type ?? 'ClusterIP';
  if ((desired.mode ?? 'externalname') === 'externalname') {
    if (type !== 'ExternalName') parts.push(`type ${type} → ExternalName`);
    const externalName = current.spec?.externalName;
    if (externalName === undefined || externalName === '') parts.push('externalName missing');
    else if (externalName !== desired.externalName) parts.push('externalName edited by hand');
  } else {
    const headless = (desired.serviceType ?? 'Headless') === 'Headless';
    if (type !== 'ClusterIP') parts.push(`type ${type} → ClusterIP (endpoints mode)`);
    else if (headless !== (current.spec?.clusterIP === 'None'))
      parts.push(headless ? 'cluster IP → headless' : 'headless → cluster IP');
    if (current.spec?.selector && Object.keys(current.spec.selector).length > 0)
      parts.push('selector set by hand');
    if (desired.ports !== undefined && !samePorts(current.spec?.ports ?? [], desired.ports))
      parts.push('ports changed');
  }
  const labels = current.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(desired.labels))
    if (labels[key] !== value) parts.push(`label ${key}=${value} missing`);
  const annotations = current.metadata?.annotations ?? {};
  for (const [key, value] of Object.entries(desired.annotations))
    if (annotations[key] !== value)
      parts.push(`annotation ${key}: ${JSON.stringify(value)} missing`);
  for (const key of Object.keys(annotations))
    if (isManagedAnnotation(key, desired) && !(key in desired.annotations))
      parts.push(`annotation ${key} stale`);
  return parts;
}

/** Annotations written from Consul: removed when Consul no longer says them. */
export function isManagedAnnotation(key: string, desired: DesiredK8sService): boolean {
  if (key === ANNOTATION_CONSUL_TAGS || key === ANNOTATION_MODE) return true;
  return desired.metaKnown === true && key.startsWith(ANNOTATION_CONSUL_META_PREFIX);
}

/** Ports compared by name, protocol and port (the API server fills in targetPort). */
function samePorts(current: readonly ServicePort[], desired: readonly ServicePort[]): boolean {
  if (current.length !== desired.length) return false;
  return desired.every((d, i) => {
    const c = current[i]!;
    return (
      (c.name ?? '') === (d.name ?? '') &&
      (c.protocol ?? 'TCP') === (d.protocol ?? 'TCP') &&
      c.port === d.port
    );
  });
}

/** Best guess of the Consul name for a log line: the Kubernetes name without the prefix. */
function consulNameOf(k8sName: string, prefix: string): string {
  const lowered = prefix.toLowerCase();
  return lowered !== '' && k8sName.startsWith(lowered) ? k8sName.slice(lowered.length) : k8sName;
}
