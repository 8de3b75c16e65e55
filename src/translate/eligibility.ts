// Which Kubernetes Services are synced to Consul (docs/reference.md "Kubernetes → Consul" eligibility), and what the edge must
// read to translate one: the service-sync annotation, namespaces, types, and our own mirrors.
import {
  ANNOTATION_SERVICE_SYNC,
  ANNOTATION_SYNCED,
  LABEL_CONSUL,
  LABEL_CONSUL_VALUE,
} from './keys.js';
import {
  annotationsOf,
  hasExternalIPs,
  isObject,
  labelsOf,
  serviceRefOf,
  serviceType,
  stringField,
} from './accessors.js';
import { instanceSource } from './instances.js';
import type { Service, ToConsulSettings } from './types.js';
import { quote } from './warnings.js';

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool: exactly these spellings, no trimming; anything else is undefined. */
export function parseGoBool(value: string): boolean | undefined {
  if (GO_TRUE.has(value)) return true;
  if (GO_FALSE.has(value)) return false;
  return undefined;
}

/**
 * A Service with a deletionTimestamp (held by finalizers) is going away: it is treated as
 * deleted by events and reconcile alike, so the two never disagree about it.
 */
export function isBeingDeleted(service: Service): boolean {
  const meta = isObject(service) && isObject(service.metadata) ? service.metadata : undefined;
  return Boolean((meta as { deletionTimestamp?: unknown } | undefined)?.deletionTimestamp);
}

/**
 * Label consul=true or annotation consul.hashicorp.com/synced "true": made by us from Consul.
 * Not ownership (ownership.ts): in any namespace, so a mirror is never synced back to Consul,
 * even one left in a previous --k8s-write-namespace.
 */
export function isCreatedByUs(service: Service): boolean {
  return (
    stringField(labelsOf(service), LABEL_CONSUL) === LABEL_CONSUL_VALUE ||
    stringField(annotationsOf(service), ANNOTATION_SYNCED) === 'true'
  );
}

const KNOWN_TYPES = new Set(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']);

/** docs/reference.md "Kubernetes → Consul" eligibility, in order. Warnings cover a malformed service-sync annotation. */
export function isEligible(
  service: Service,
  settings: ToConsulSettings,
): { eligible: boolean; reason?: string; warnings: string[] } {
  const warnings: string[] = [];
  const no = (reason: string): { eligible: false; reason: string; warnings: string[] } => ({
    eligible: false,
    reason,
    warnings,
  });
  const { namespace, name } = serviceRefOf(service);
  if (name === '') return no('service has no metadata.name');
  if (settings.denyK8sNamespaces.includes(namespace)) return no(`namespace ${namespace} is denied`);
  if (
    !settings.allowK8sNamespaces.includes('*') &&
    !settings.allowK8sNamespaces.includes(namespace)
  )
    return no(`namespace ${namespace} is not allowed (--allow-k8s-namespace)`);
  if (isCreatedByUs(service)) return no('created by k8s-consul-sync from Consul');

  const type = serviceType(service);
  if (!hasExternalIPs(service)) {
    if (type === 'ClusterIP' && !settings.syncClusterIPServices)
      return no('type ClusterIP is not synced (--sync-clusterip-services=false)');
    if (type === 'ExternalName') return no('type ExternalName is not synced (no spec.externalIPs)');
    // Not in docs/reference.md: an unknown type has no instance source, so it is reported as not synced
    // (consul-k8s accepts it and then generates nothing).
    if (!KNOWN_TYPES.has(type)) return no(`type ${type} is not synced`);
  }

  const raw = stringField(annotationsOf(service), ANNOTATION_SERVICE_SYNC);
  if (raw !== undefined) {
    const value = parseGoBool(raw);
    if (value === true) return { eligible: true, warnings };
    if (value === false) return no(`annotation ${ANNOTATION_SERVICE_SYNC} is false`);
    warnings.push(
      `service-sync ${quote(raw)} is not a boolean (1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False); using the default (--k8s-default-sync=${String(settings.k8sDefaultSync)})`,
    );
  }
  if (!settings.k8sDefaultSync)
    return no(`annotation ${ANNOTATION_SERVICE_SYNC} is not true (--k8s-default-sync=false)`);
  return { eligible: true, warnings };
}

/**
 * What the edge must read for this service: EndpointSlices for NodePort, ClusterIP (with the
 * flag) and LoadBalancer (with the endpoints flag), Nodes for NodePort, the Ingresses of the
 * namespace for every eligible service with --enable-ingress (an Ingress rule wins over the
 * type). Nothing for ineligible services, externalIPs or LoadBalancer ingress.
 */
export function sourcesNeeded(
  service: Service,
  settings: ToConsulSettings,
): { endpointSlices: boolean; nodes: boolean; ingresses?: true } {
  const none = { endpointSlices: false, nodes: false };
  if (!isEligible(service, settings).eligible) return none;
  const ingresses = settings.enableIngress === true ? { ingresses: true as const } : {};
  switch (instanceSource(service, settings)) {
    case 'nodePort':
      return { endpointSlices: true, nodes: true, ...ingresses };
    case 'endpoints':
      return { endpointSlices: true, nodes: false, ...ingresses };
    default:
      return { ...none, ...ingresses };
  }
}
