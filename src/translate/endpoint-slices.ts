// Consul → Kubernetes, endpoints mode (docs/reference.md "Endpoints mode"): the instances of one
// Consul service (`/v1/health/service/:name`) → the Service's ports and meta annotations and the
// EndpointSlices that hold the instances' addresses. Pure.
import { createHash } from 'node:crypto';
import {
  ANNOTATION_CHECKS_DIGEST,
  ANNOTATION_CONSUL_META_PREFIX,
  ANNOTATION_CONSUL_SERVICE,
  LABEL_CONSUL,
  LABEL_CONSUL_VALUE,
  LABEL_HEADLESS,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  MANAGED_BY_US,
} from './keys.js';
import { endpointAddressType } from './ip.js';
import { compareStrings } from './order.js';
import { qualifyConsulName } from './namespaces.js';
import { ENDPOINTS_PORT_NAME } from './to-k8s.js';
import type {
  CheckState,
  DesiredK8sService,
  Endpoint,
  EndpointSlice,
  HealthInstance,
  ServicePort,
} from './types.js';

/** Most endpoints in one slice: the EndpointSlice controller's default (--max-endpoints-per-slice). */
export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface DesiredEndpointSlice {
  name: string;
  namespace: string;
  /** The Service the slice belongs to. */
  service: string;
  addressType: 'IPv4' | 'IPv6';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  endpoints: Endpoint[];
  ports: { name: string; protocol: string; port?: number }[];
}

export interface InstancesTranslation {
  /** The desired Service completed with its ports and meta annotations. */
  service: DesiredK8sService;
  /** Sorted by name; at least one (an empty placeholder when no instance has an IP). */
  slices: DesiredEndpointSlice[];
  warnings: string[];
  /** Digest of the checks the slices were made from (see checksDigest). */
  digest: string;
}

/** Instances on the sync node or carrying the k8s tag came from Kubernetes: never mirrored back. */
export function isFromKubernetes(
  instance: { node: string; tags: readonly string[] },
  sync: { consulNodeName: string; consulK8sTag: string },
): boolean {
  return (
    instance.node === sync.consulNodeName ||
    (sync.consulK8sTag !== '' && instance.tags.includes(sync.consulK8sTag))
  );
}

/**
 * What the slices of one service were made from, as a `checks` watch delivery shows it too: the
 * service's checks (node, service ID, check ID, status) and the node checks of the nodes where
 * one of them runs. Instances without a check of their own do not appear in a delivery and so do
 * not count. Order-free: the entries are sorted before hashing.
 */
export function checksDigest(
  serviceChecks: readonly { node: string; serviceId: string; checkId: string; status: string }[],
  nodeChecks: ReadonlyMap<string, readonly { checkId: string; status: string }[]>,
): string {
  const entries = new Set<string>();
  const nodes = new Set<string>();
  for (const c of serviceChecks) {
    entries.add(`${c.node}\u0000${c.serviceId}\u0000${c.checkId}\u0000${c.status}`);
    nodes.add(c.node);
  }
  for (const node of nodes)
    for (const c of nodeChecks.get(node) ?? [])
      entries.add(`${node}\u0000\u0000${c.checkId}\u0000${c.status}`);
  const sorted = [...entries].sort(compareStrings);
  return createHash('sha256').update(sorted.join('\n')).digest('hex').slice(0, 32);
}

/** The digest of each service named in a `checks` delivery (Consul name → digest). */
export function digestsOfDelivery(
  checks: readonly CheckState[],
  sync: { consulNodeName: string; consulK8sTag: string; enableNamespaces?: boolean },
): Map<string, string> {
  // With namespaces the digests are keyed as the views name services (qualified).
  const nameOf = (c: CheckState): string =>
    sync.enableNamespaces === true ? qualifyConsulName(c.namespace, c.serviceName) : c.serviceName;
  const nodeChecks = new Map<string, { checkId: string; status: string }[]>();
  const byService = new Map<string, CheckState[]>();
  for (const c of checks) {
    if (c.node === sync.consulNodeName) continue;
    if (c.serviceId === '') {
      const list = nodeChecks.get(c.node) ?? [];
      list.push({ checkId: c.checkId, status: c.status });
      nodeChecks.set(c.node, list);
      continue;
    }
    if (isFromKubernetes({ node: c.node, tags: c.serviceTags }, sync)) continue;
    const list = byService.get(nameOf(c)) ?? [];
    list.push(c);
    byService.set(nameOf(c), list);
  }
  const out = new Map<string, string>();
  for (const [name, list] of byService) out.set(name, checksDigest(list, nodeChecks));
  return out;
}

/** The digest of a service with no check at all (what a delivery that names it not implies). */
export const EMPTY_DIGEST = checksDigest([], new Map());

/** The address an instance is reached at: the service address, else the node's. */
function addressOf(instance: HealthInstance): string {
  return instance.serviceAddress !== '' ? instance.serviceAddress : instance.nodeAddress;
}

function sliceLabels(service: string, headless: boolean): Record<string, string> {
  return {
    [LABEL_CONSUL]: LABEL_CONSUL_VALUE,
    [LABEL_SERVICE_NAME]: service,
    [LABEL_MANAGED_BY]: MANAGED_BY_US,
    ...(headless ? { [LABEL_HEADLESS]: '' } : {}),
  };
}

/** A meta key that fits an annotation name after `consul.hashicorp.com/meta-` (≤63, [A-Za-z0-9-_.], alphanumeric ends). */
const ANNOTATION_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const ANNOTATION_NAME_MAX = 63;

/**
 * Completes an endpoints-mode Service from its instances and builds its slices:
 * - instances on the sync node or tagged with the k8s tag are left out (they came from Kubernetes);
 * - address: the service address, else the node address; IPv4 and IPv6 go to separate slices;
 *   a hostname is skipped with a warning (slices here hold IPs), and so is an address the API
 *   server refuses in a slice (unspecified, loopback, link-local, IPv4-mapped IPv6);
 * - ready (and serving) only when every check of the instance, its node's included, passes;
 * - one slice port `default`/TCP with the instance's port, so instances are grouped by port; a
 *   group is cut into slices of at most 100 endpoints, in address order; names
 *   `<service>-<v4|v6>-<port>-<n>`; a service without any endpoint keeps one empty slice
 *   `<service>-empty`, which carries the checks digest;
 * - the Service gets one port `default`/TCP: the port most instances use (the lowest on a tie);
 *   none known (no instance has a port): the current ports are kept;
 * - meta annotations `consul.hashicorp.com/meta-<key>` for the keys all instances share with the
 *   same value; a key that cannot be an annotation name is skipped with a warning.
 */
export function translateInstances(
  desired: DesiredK8sService,
  instances: readonly HealthInstance[],
  sync: { consulNodeName: string; consulK8sTag: string },
): InstancesTranslation {
  const warnings: string[] = [];
  const headless = (desired.serviceType ?? 'Headless') === 'Headless';
  const kept = instances
    .filter((i) => !isFromKubernetes(i, sync))
    .sort((a, b) => compareStrings(a.node, b.node) || compareStrings(a.serviceId, b.serviceId));

  // Digest, as a checks delivery would show it.
  const serviceChecks: { node: string; serviceId: string; checkId: string; status: string }[] = [];
  const nodeChecks = new Map<string, { checkId: string; status: string }[]>();
  for (const i of kept) {
    for (const c of i.checks) {
      if (c.serviceId === '') {
        const list = nodeChecks.get(i.node) ?? [];
        list.push({ checkId: c.checkId, status: c.status });
        nodeChecks.set(i.node, list);
      } else if (c.serviceId === i.serviceId)
        serviceChecks.push({
          node: i.node,
          serviceId: i.serviceId,
          checkId: c.checkId,
          status: c.status,
        });
    }
  }
  const digest = checksDigest(serviceChecks, nodeChecks);

  // Endpoints grouped by (address type, port).
  const groups = new Map<
    string,
    { type: 'IPv4' | 'IPv6'; port: number; byAddress: Map<string, boolean> }
  >();
  const portCounts = new Map<number, number>();
  for (const i of kept) {
    const address = addressOf(i);
    const kind = endpointAddressType(address);
    if ('problem' in kind) {
      warnings.push(
        `consul service ${desired.consulName}: instance ${i.serviceId} on node ${i.node} has address ${JSON.stringify(address)} (${kind.problem}), which an EndpointSlice cannot hold: left out`,
      );
      continue;
    }
    const type = kind.type;
    const ready = i.checks.every(
      (c) => c.status === 'passing' && (c.serviceId === '' || c.serviceId === i.serviceId),
    );
    const port = Number.isInteger(i.port) && i.port > 0 && i.port <= 65535 ? i.port : 0;
    if (port > 0) portCounts.set(port, (portCounts.get(port) ?? 0) + 1);
    const key = `${type}/${port}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { type, port, byAddress: new Map() }));
    // Two instances at one address and port are one endpoint, ready if either is.
    group.byAddress.set(address, (group.byAddress.get(address) ?? false) || ready);
  }

  const baseAnnotations = (): Record<string, string> => ({
    [ANNOTATION_CONSUL_SERVICE]: desired.consulName,
    [ANNOTATION_CHECKS_DIGEST]: digest,
  });
  const slices: DesiredEndpointSlice[] = [];
  const ordered = [...groups.values()].sort(
    (a, b) => compareStrings(a.type, b.type) || a.port - b.port,
  );
  for (const group of ordered) {
    const addresses = [...group.byAddress.keys()].sort(compareStrings);
    for (let n = 0; n * MAX_ENDPOINTS_PER_SLICE < addresses.length; n++) {
      const chunk = addresses.slice(n * MAX_ENDPOINTS_PER_SLICE, (n + 1) * MAX_ENDPOINTS_PER_SLICE);
      slices.push({
        name: `${desired.name}-${group.type === 'IPv4' ? 'v4' : 'v6'}-${group.port}-${n}`,
        namespace: desired.namespace,
        service: desired.name,
        addressType: group.type,
        labels: sliceLabels(desired.name, headless),
        annotations: baseAnnotations(),
        endpoints: chunk.map((address) => {
          const ready = group.byAddress.get(address) ?? false;
          return {
            addresses: [address],
            conditions: { ready, serving: ready, terminating: false },
          };
        }),
        ports: [
          {
            name: ENDPOINTS_PORT_NAME,
            protocol: 'TCP',
            ...(group.port > 0 ? { port: group.port } : {}),
          },
        ],
      });
    }
  }
  if (slices.length === 0) {
    slices.push({
      name: `${desired.name}-empty`,
      namespace: desired.namespace,
      service: desired.name,
      addressType: 'IPv4',
      labels: sliceLabels(desired.name, headless),
      annotations: baseAnnotations(),
      endpoints: [],
      ports: [],
    });
  }
  slices.sort((a, b) => compareStrings(a.name, b.name));

  let ports: ServicePort[] | undefined;
  if (portCounts.size > 0) {
    const [port] = [...portCounts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]!;
    ports = [{ name: ENDPOINTS_PORT_NAME, protocol: 'TCP', port, targetPort: port }];
  }

  // Meta shared by every instance with the same value.
  const annotations = { ...desired.annotations };
  if (kept.length > 0) {
    const [first, ...rest] = kept;
    for (const [key, value] of Object.entries(first!.meta).sort(([a], [b]) =>
      compareStrings(a, b),
    )) {
      if (!rest.every((i) => i.meta[key] === value)) continue;
      if (
        key.length + 'meta-'.length > ANNOTATION_NAME_MAX ||
        !ANNOTATION_NAME.test(`meta-${key}`)
      ) {
        warnings.push(
          `consul service ${desired.consulName}: meta key ${JSON.stringify(key)} cannot be an annotation name: not carried`,
        );
        continue;
      }
      annotations[`${ANNOTATION_CONSUL_META_PREFIX}${key}`] = value;
    }
  }
  const service: DesiredK8sService = {
    ...desired,
    annotations,
    metaKnown: true,
    ...(ports ? { ports } : {}),
  };
  return { service, slices, warnings, digest };
}

/** The full discovery.k8s.io/v1 EndpointSlice to create or replace (owner reference added by the edge). */
export function desiredSliceObject(d: DesiredEndpointSlice): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: d.name,
      namespace: d.namespace,
      labels: { ...d.labels },
      annotations: { ...d.annotations },
    },
    addressType: d.addressType,
    endpoints: d.endpoints.map((e) => ({
      addresses: [...e.addresses],
      conditions: { ...e.conditions },
    })),
    ports: d.ports.map((p) => ({ ...p })),
  };
}
