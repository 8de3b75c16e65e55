// Kubernetes → Consul (docs/reference.md "Kubernetes → Consul"): one Service, its EndpointSlices and Nodes → the Consul
// registrations it should have. Pure: no I/O, no clock; never throws on input matching the types.
// Each step's rule lives in its own file (eligibility, naming, instances, ports, meta); this one
// assembles the registrations and re-exports what the rest of the product imports from here.
import {
  META_EXTERNAL_SOURCE,
  META_EXTERNAL_SOURCE_VALUE,
  META_K8S_NAME,
  META_K8S_INGRESS,
  META_K8S_NAMESPACE,
  META_K8S_NODE_NAME,
  META_K8S_REF_KIND,
  META_K8S_REF_NAME,
  META_K8S_TOPOLOGY_ZONE,
  META_PORT_PREFIX,
  META_SYNC_ID,
  READINESS_CHECK_NAME,
} from './keys.js';
import { annotationsOf, isObject, serviceRefOf, servicePortsOf } from './accessors.js';
import { isEligible } from './eligibility.js';
import { instanceSource, instancesOf, limitInstances } from './instances.js';
import { ingressRuleFor } from './ingress.js';
import { acceptedPortKeys, annotationMeta, serviceTags, serviceWeight } from './meta.js';
import { consulServiceName, serviceInstanceId } from './naming.js';
import { consulNamespaceFor, isValidConsulNamespace } from './namespaces.js';
import { compareStrings } from './order.js';
import { chooseDefaultPort, consulK8sPortMeta, defaultPortValue, reachablePort } from './ports.js';
import type {
  CheckStatus,
  EndpointSlice,
  Ingress,
  Node,
  Registration,
  Service,
  ServiceRef,
  ToConsulSettings,
} from './types.js';

export { serviceRefOf } from './accessors.js';
export {
  isBeingDeleted,
  isCreatedByUs,
  isEligible,
  parseGoBool,
  sourcesNeeded,
} from './eligibility.js';
export {
  CONSUL_META_KEY_MAX_LENGTH,
  CONSUL_META_MAX_PAIRS,
  CONSUL_META_RESERVED_PREFIX,
  CONSUL_META_VALUE_MAX_BYTES,
  parseTags,
} from './meta.js';
export { SERVICE_NAME_MAX_LENGTH, consulNameOf, serviceInstanceId } from './naming.js';
export { ingressRuleFor, ingressServiceNames, type IngressMatch } from './ingress.js';
export {
  DEFAULT_CONSUL_NAMESPACE,
  consulNamespaceFor,
  isValidConsulNamespace,
  qualifyConsulName,
  splitConsulName,
} from './namespaces.js';

export interface ConsulTranslation {
  /** namespace/name of the Kubernetes service. */
  ref: ServiceRef;
  eligible: boolean;
  /** Why the service is not synced, human readable. */
  skipReason?: string;
  /** Desired instances (empty when ineligible or no address yet), sorted by id. */
  registrations: Registration[];
  /** One human-readable line per annotation mistake. */
  warnings: string[];
}

export interface TranslateInput {
  service: Service;
  endpointSlices?: readonly EndpointSlice[];
  nodes?: ReadonlyMap<string, Node>;
  /**
   * The Ingresses of the Service's namespace (--enable-ingress; docs/reference.md "Ingress"):
   * a `/` rule naming the Service replaces its instances with one at the rule's address.
   */
  ingresses?: readonly Ingress[];
}

/** Check outputs, as consul-k8s writes them (the plan compares status, not output). */
export const CHECK_OUTPUT_PASSING = 'Kubernetes health checks passing';
export const CHECK_OUTPUT_CRITICAL = 'Kubernetes health checks failing';

/** The full translation of one Kubernetes service (docs/reference.md "Kubernetes → Consul"). */
export function translateService(
  input: TranslateInput,
  settings: ToConsulSettings,
): ConsulTranslation {
  const service: Service = isObject(input) && isObject(input.service) ? input.service : {};
  const ref = serviceRefOf(service);
  const eligibility = isEligible(service, settings);
  if (!eligibility.eligible) {
    return {
      ref,
      eligible: false,
      skipReason: eligibility.reason ?? 'not synced',
      registrations: [],
      warnings: dedupe(eligibility.warnings),
    };
  }
  const warnings = [...eligibility.warnings];
  const consulNamespace = consulNamespaceFor(ref.namespace, settings);
  if (consulNamespace !== undefined && !isValidConsulNamespace(consulNamespace)) {
    return {
      ref,
      eligible: false,
      skipReason: `Consul namespace ${JSON.stringify(consulNamespace)} is not a valid namespace name (a DNS label of at most 63 characters)`,
      registrations: [],
      warnings: dedupe(warnings),
    };
  }
  const annotations = annotationsOf(service);
  const consulName = consulServiceName(service, ref, settings, warnings);
  const ports = servicePortsOf(service);
  const defaultPort = chooseDefaultPort(annotations, ref.name, ports, warnings);
  const tags = serviceTags(annotations, settings);
  const passing = serviceWeight(annotations, warnings);

  const ingressMatch = ingressRuleFor(ref, input.ingresses, settings, warnings);
  const source = instanceSource(service, settings, ingressMatch);
  const endpointDerived = source === 'nodePort' || source === 'endpoints';
  const namedPorts = ports.filter((p) => typeof p.name === 'string' && p.name !== '');
  const ownPortKeys = acceptedPortKeys(namedPorts, warnings);
  // The 64-pair budget is computed for the largest own-key set (node-name present), so every
  // instance of a service carries the same annotation meta.
  const ownCount =
    4 + (endpointDerived ? 1 : 0) + (source === 'ingress-rule' ? 1 : 0) + ownPortKeys.size;
  const extraMeta = annotationMeta(annotations, ownPortKeys, ownCount, warnings);

  const instances = limitInstances(
    instancesOf(
      service,
      ref,
      { ...input, ...(ingressMatch ? { ingressMatch } : {}) },
      settings,
      source,
    ),
    settings.maxInstancesPerService,
    warnings,
  );
  const registrations = instances.map((inst): Registration => {
    const id = serviceInstanceId(consulName, ref.namespace, ref.name, inst.address);
    const meta: Record<string, string> = {
      [META_EXTERNAL_SOURCE]: META_EXTERNAL_SOURCE_VALUE,
      [META_K8S_NAMESPACE]: ref.namespace,
      [META_K8S_NAME]: ref.name,
      [META_SYNC_ID]: settings.syncId,
    };
    if (inst.nodeName !== undefined) meta[META_K8S_NODE_NAME] = inst.nodeName;
    if (inst.kind === 'endpoint') {
      // consul-k8s's updateServiceMeta: the endpoint's target and zone, where the slice has them.
      if (inst.refKind !== undefined && inst.refName !== undefined) {
        meta[META_K8S_REF_KIND] = inst.refKind;
        meta[META_K8S_REF_NAME] = inst.refName;
      }
      if (inst.zone !== undefined) meta[META_K8S_TOPOLOGY_ZONE] = inst.zone;
    }
    if (inst.kind === 'ingressRule') meta[META_K8S_INGRESS] = inst.ingress;
    for (const p of namedPorts) {
      const key = META_PORT_PREFIX + (p.name ?? '');
      if (ownPortKeys.has(key))
        meta[key] = String(
          settings.portMeta === 'service-port'
            ? consulK8sPortMeta(p, inst)
            : reachablePort(p, inst),
        );
    }
    for (const [key, value] of extraMeta) meta[key] = value;

    const registration: Registration = {
      node: settings.consulNodeName,
      id,
      service: consulName,
      address: inst.address,
      port: defaultPortValue(defaultPort, inst),
      tags: [...tags],
      meta,
      weights: { passing, warning: 1 },
      ...(consulNamespace !== undefined ? { namespace: consulNamespace } : {}),
    };
    if (inst.ready !== undefined) {
      const status: CheckStatus = inst.ready ? 'passing' : 'critical';
      registration.check = {
        checkId: `${ref.namespace}/${id}`,
        name: READINESS_CHECK_NAME,
        status,
        output: inst.ready ? CHECK_OUTPUT_PASSING : CHECK_OUTPUT_CRITICAL,
      };
    }
    return registration;
  });
  registrations.sort((a, b) => compareStrings(a.id, b.id));
  return { ref, eligible: true, registrations, warnings: dedupe(warnings) };
}

function dedupe<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
