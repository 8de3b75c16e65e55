// Where a Service's Consul instances come from (docs/reference.md "Kubernetes → Consul" instances): externalIPs, load balancer
// ingress, one per node for NodePort, one per endpoint address; and the per-service limit.
import { LABEL_SERVICE_NAME } from './keys.js';
import {
  externalIPsOf,
  hasExternalIPs,
  isObject,
  nonEmptyString,
  serviceType,
  stringField,
} from './accessors.js';
import { compareStrings } from './order.js';
import type { IngressMatch } from './ingress.js';
import type {
  Endpoint,
  EndpointPort,
  EndpointSlice,
  Node,
  Service,
  ServiceRef,
  ToConsulSettings,
} from './types.js';

/** What translation was given besides the Service: its EndpointSlices and the Nodes they name. */
export interface InstanceInputs {
  endpointSlices?: readonly EndpointSlice[];
  nodes?: ReadonlyMap<string, Node>;
  /** The Ingress rule that decides the Service's instance (--enable-ingress), if one does. */
  ingressMatch?: IngressMatch;
}

export type InstanceSource =
  'ingress-rule' | 'externalIPs' | 'ingress' | 'nodePort' | 'endpoints' | 'none';

/**
 * Not in docs/reference.md: at most `max` instances per service (--max-instances-per-service), the first in
 * the source's order (externalIPs and ingress as listed, nodes by name, endpoints by slice name).
 * A legal Service can list 100,000 externalIPs; registering them all would take hundreds of
 * transactions per event and block Consul and the event path alike.
 */
export function limitInstances<T>(
  instances: T[],
  max: number | undefined,
  warnings: string[],
): T[] {
  if (!max || instances.length <= max) return instances;
  warnings.push(
    `more than ${max} instances; only the first ${max} are registered (--max-instances-per-service)`,
  );
  return instances.slice(0, max);
}

export type Instance =
  | { kind: 'service'; address: string; nodeName?: undefined; ready?: undefined }
  | { kind: 'nodePort'; address: string; nodeName: string; ready: boolean }
  /** An Ingress rule's address (docs/reference.md "Ingress"): its own port, always passing. */
  | {
      kind: 'ingressRule';
      address: string;
      port: number;
      ingress: string;
      nodeName?: undefined;
      ready: true;
    }
  | {
      kind: 'endpoint';
      address: string;
      nodeName?: string;
      ready: boolean;
      slicePorts: readonly EndpointPort[];
      /** The first endpoint's targetRef kind and name, and zone, where the slice has them. */
      refKind?: string;
      refName?: string;
      zone?: string;
    };

type EndpointInstance = Extract<Instance, { kind: 'endpoint' }>;

/**
 * An Ingress rule that names the Service wins (--enable-ingress, docs/reference.md "Ingress");
 * then externalIPs win over the type; then the type decides (docs/reference.md "Kubernetes →
 * Consul" Instances).
 */
export function instanceSource(
  service: Service,
  settings: ToConsulSettings,
  ingressMatch?: IngressMatch,
): InstanceSource {
  if (ingressMatch && settings.enableIngress) return 'ingress-rule';
  if (hasExternalIPs(service)) return 'externalIPs';
  const type = serviceType(service);
  if (type === 'LoadBalancer') return settings.syncLBServicesEndpoints ? 'endpoints' : 'ingress';
  if (type === 'NodePort') return 'nodePort';
  if (type === 'ClusterIP' && settings.syncClusterIPServices) return 'endpoints';
  return 'none';
}

export function instancesOf(
  service: Service,
  ref: ServiceRef,
  input: InstanceInputs,
  settings: ToConsulSettings,
  source: InstanceSource,
): Instance[] {
  switch (source) {
    case 'ingress-rule': {
      const m = input.ingressMatch;
      return m
        ? [
            {
              kind: 'ingressRule',
              address: m.address,
              port: m.port,
              ingress: m.ingress,
              ready: true,
            },
          ]
        : [];
    }
    // Lists on the Service itself can be 100,000 long: collected only one past the limit.
    case 'externalIPs':
      return externalIPsOf(service, capOf(settings)).map((address) => ({
        kind: 'service',
        address,
      }));
    case 'ingress':
      return ingressAddresses(service, capOf(settings)).map((address) => ({
        kind: 'service',
        address,
      }));
    case 'nodePort':
      return nodePortInstances(slicesOf(input, ref), input.nodes, settings.nodePortSyncType);
    case 'endpoints':
      return endpointInstances(slicesOf(input, ref));
    case 'none':
      return [];
  }
}

/** How many distinct addresses are worth collecting: one past the instance limit. */
function capOf(settings: ToConsulSettings): number {
  const max = settings.maxInstancesPerService;
  return max ? max + 1 : Infinity;
}

function ingressAddresses(service: Service, cap = Infinity): string[] {
  const ingress = service.status?.loadBalancer?.ingress;
  if (!Array.isArray(ingress)) return [];
  // A Set keeps the first occurrence in order: linear however long the list.
  const out = new Set<string>();
  for (const entry of ingress) {
    if (out.size >= cap) break;
    if (!isObject(entry)) continue;
    const address = nonEmptyString(entry.ip) ?? nonEmptyString(entry.hostname);
    if (address !== undefined) out.add(address);
  }
  return [...out];
}

/**
 * One instance per node running ≥1 endpoint (ready or not: readiness is the check). Endpoints
 * without nodeName and nodes that are not in the map are skipped. Not in docs/reference.md: two nodes with
 * the same address give one instance (node name of the first in name order, readiness merged).
 */
function nodePortInstances(
  slices: readonly EndpointSlice[],
  nodes: ReadonlyMap<string, Node> | undefined,
  syncType: ToConsulSettings['nodePortSyncType'],
): Instance[] {
  const readyByNode = new Map<string, boolean>();
  for (const slice of slices) {
    for (const ep of endpointsOf(slice)) {
      const nodeName = nonEmptyString(ep.nodeName);
      if (nodeName === undefined) continue;
      readyByNode.set(nodeName, (readyByNode.get(nodeName) ?? false) || isReady(ep));
    }
  }
  const byAddress = new Map<string, { nodeName: string; ready: boolean }>();
  for (const nodeName of [...readyByNode.keys()].sort(compareStrings)) {
    const node = nodes?.get(nodeName);
    const address = node === undefined ? undefined : nodeAddress(node, syncType);
    if (address === undefined) continue;
    const ready = readyByNode.get(nodeName) ?? false;
    const seen = byAddress.get(address);
    if (seen) seen.ready ||= ready;
    else byAddress.set(address, { nodeName, ready });
  }
  return [...byAddress].map(([address, v]) => ({
    kind: 'nodePort',
    address,
    nodeName: v.nodeName,
    ready: v.ready,
  }));
}

/** The first address of the wanted type, as consul-k8s (the primary interface comes first). */
function nodeAddress(
  node: Node,
  syncType: ToConsulSettings['nodePortSyncType'],
): string | undefined {
  const addresses = Array.isArray(node?.status?.addresses) ? node.status.addresses : [];
  const find = (type: string): string | undefined => {
    for (const a of addresses) {
      if (isObject(a) && a.type === type) {
        const address = nonEmptyString(a.address);
        if (address !== undefined) return address;
      }
    }
    return undefined;
  };
  switch (syncType) {
    case 'ExternalOnly':
      return find('ExternalIP');
    case 'InternalOnly':
      return find('InternalIP');
    default:
      return find('ExternalIP') ?? find('InternalIP');
  }
}

/**
 * One instance per distinct endpoint address across all slices (slices in name order). The
 * port comes from the slice the address is first seen in; readiness is merged over every
 * endpoint with that address.
 */
function endpointInstances(slices: readonly EndpointSlice[]): Instance[] {
  const byAddress = new Map<string, Omit<EndpointInstance, 'kind' | 'address'>>();
  for (const slice of slices) {
    const slicePorts = Array.isArray(slice.ports) ? slice.ports.filter(isObject) : [];
    for (const ep of endpointsOf(slice)) {
      const nodeName = nonEmptyString(ep.nodeName);
      const ready = isReady(ep);
      const addresses = Array.isArray(ep.addresses) ? ep.addresses : [];
      for (const raw of addresses) {
        const address = nonEmptyString(raw);
        if (address === undefined) continue;
        const seen = byAddress.get(address);
        if (seen) {
          seen.ready ||= ready;
          seen.nodeName ??= nodeName;
        } else {
          const ref = isObject(ep.targetRef) ? ep.targetRef : undefined;
          byAddress.set(address, {
            nodeName,
            ready,
            slicePorts,
            refKind: shortString(ref?.kind),
            refName: shortString(ref?.name),
            zone: shortString(ep.zone),
          });
        }
      }
    }
  }
  return [...byAddress].map(([address, v]) => {
    const inst: Instance = { kind: 'endpoint', address, ready: v.ready, slicePorts: v.slicePorts };
    if (v.nodeName !== undefined) inst.nodeName = v.nodeName;
    if (v.refKind !== undefined && v.refName !== undefined) {
      inst.refKind = v.refKind;
      inst.refName = v.refName;
    }
    if (v.zone !== undefined) inst.zone = v.zone;
    return inst;
  });
}

/**
 * A reference field carried into Consul meta: at most a DNS subdomain's 253 characters (Consul
 * refuses meta values past 512 bytes; the API server validates names, not every sender does).
 */
function shortString(value: unknown): string | undefined {
  const s = nonEmptyString(value);
  return s !== undefined && s.length <= 253 ? s : undefined;
}

/** Kubernetes: an absent (nil) ready condition is unknown and read as ready. */
function isReady(ep: Endpoint): boolean {
  return ep.conditions?.ready !== false;
}

/**
 * The slices of this service, in name order. Defensive: a slice whose namespace or
 * kubernetes.io/service-name label names another service is ignored.
 */
function slicesOf(input: InstanceInputs, ref: ServiceRef): EndpointSlice[] {
  const slices = Array.isArray(input.endpointSlices) ? input.endpointSlices : [];
  return slices
    .filter((s): s is EndpointSlice => isObject(s))
    .filter((s) => {
      const ns = nonEmptyString(s.metadata?.namespace);
      const owner = stringField(
        isObject(s.metadata?.labels) ? s.metadata.labels : {},
        LABEL_SERVICE_NAME,
      );
      return (
        (ns === undefined || ns === ref.namespace) && (owner === undefined || owner === ref.name)
      );
    })
    .map((s, index) => ({ s, index, name: nonEmptyString(s.metadata?.name) ?? '' }))
    .sort((a, b) => compareStrings(a.name, b.name) || a.index - b.index)
    .map((x) => x.s);
}

function endpointsOf(slice: EndpointSlice): Endpoint[] {
  return Array.isArray(slice.endpoints) ? slice.endpoints.filter(isObject) : [];
}
