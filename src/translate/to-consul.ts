// Kubernetes → Consul (SPEC.md §4): one Service, its EndpointSlices and Nodes → the Consul
// registrations it should have. Pure: no I/O, no clock; never throws on input matching the types.
import { hash } from 'node:crypto';

import {
  ANNOTATION_SERVICE_META_PREFIX,
  ANNOTATION_SERVICE_NAME,
  ANNOTATION_SERVICE_PORT,
  ANNOTATION_SERVICE_SYNC,
  ANNOTATION_SERVICE_TAGS,
  ANNOTATION_SERVICE_WEIGHT,
  ANNOTATION_SYNCED,
  LABEL_CONSUL,
  LABEL_CONSUL_VALUE,
  LABEL_SERVICE_NAME,
  META_EXTERNAL_SOURCE,
  META_EXTERNAL_SOURCE_VALUE,
  META_K8S_NAME,
  META_K8S_NAMESPACE,
  META_K8S_NODE_NAME,
  META_PORT_PREFIX,
  META_RESERVED_PREFIX,
  META_SYNC_ID,
  READINESS_CHECK_NAME,
} from './keys.js';
import type {
  CheckStatus,
  Endpoint,
  EndpointPort,
  EndpointSlice,
  Node,
  Registration,
  Service,
  ServicePort,
  ServiceRef,
  ToConsulSettings,
} from './types.js';

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
}

/** Consul's limits on service meta (consul agent/structs: metaMaxKeyPairs and friends). */
export const CONSUL_META_MAX_PAIRS = 64;
export const CONSUL_META_KEY_MAX_LENGTH = 128;
export const CONSUL_META_VALUE_MAX_BYTES = 512;
export const CONSUL_META_RESERVED_PREFIX = 'consul-';
const CONSUL_META_KEY_FORMAT = /^[A-Za-z0-9_-]+$/;
/** SPEC §4: the service-name annotation is used when it is 1–255 characters after trimming. */
export const SERVICE_NAME_MAX_LENGTH = 255;

/** Check outputs, as consul-k8s writes them (the plan compares status, not output). */
export const CHECK_OUTPUT_PASSING = 'Kubernetes health checks passing';
export const CHECK_OUTPUT_CRITICAL = 'Kubernetes health checks failing';

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool: exactly these spellings, no trimming; anything else is undefined. */
export function parseGoBool(value: string): boolean | undefined {
  if (GO_TRUE.has(value)) return true;
  if (GO_FALSE.has(value)) return false;
  return undefined;
}

/**
 * The service-tags annotation: comma-separated, `\,` is a literal comma inside a tag (as
 * consul-k8s parsetags), each tag trimmed, empty entries dropped, duplicates removed (first
 * occurrence kept). The k8s tag is added by the caller.
 */
export function parseTags(value: string): string[] {
  const tags: string[] = [];
  const seen = new Set<string>();
  let next = '';
  const push = (): void => {
    const tag = next.trim();
    next = '';
    if (tag !== '' && !seen.has(tag)) {
      seen.add(tag);
      tags.push(tag);
    }
  };
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && value[i + 1] === ',') {
      next += ',';
      i++;
    } else if (ch === ',') {
      push();
    } else {
      next += ch;
    }
  }
  push();
  return tags;
}

/** `<consul name>-<first 12 hex of sha1("<ns>/<name>/<address>")>` (SPEC §4 Service ID). */
export function serviceInstanceId(
  consulName: string,
  namespace: string,
  k8sName: string,
  address: string,
): string {
  // One-shot hash(): a Service may have tens of thousands of externalIPs (issue 20).
  const digest = hash('sha1', `${namespace}/${k8sName}/${address}`, 'hex');
  return `${consulName}-${digest.slice(0, 12)}`;
}

/**
 * A Service with a deletionTimestamp (held by finalizers) is going away: it is treated as
 * deleted by events and reconcile alike, so the two never disagree about it.
 */
export function isBeingDeleted(service: Service): boolean {
  const meta = isObject(service) && isObject(service.metadata) ? service.metadata : undefined;
  return Boolean((meta as { deletionTimestamp?: unknown } | undefined)?.deletionTimestamp);
}

/** Label consul=true or annotation consul.hashicorp.com/synced "true": made by us from Consul. */
export function isCreatedByUs(service: Service): boolean {
  return (
    stringField(labelsOf(service), LABEL_CONSUL) === LABEL_CONSUL_VALUE ||
    stringField(annotationsOf(service), ANNOTATION_SYNCED) === 'true'
  );
}

const KNOWN_TYPES = new Set(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']);

/** SPEC §4 eligibility, in order. Warnings cover a malformed service-sync annotation. */
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
    // Not in SPEC: an unknown type has no instance source, so it is reported as not synced
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
 * flag) and LoadBalancer (with the endpoints flag), Nodes for NodePort. Nothing for ineligible
 * services, externalIPs or LoadBalancer ingress.
 */
export function sourcesNeeded(
  service: Service,
  settings: ToConsulSettings,
): { endpointSlices: boolean; nodes: boolean } {
  const none = { endpointSlices: false, nodes: false };
  if (!isEligible(service, settings).eligible) return none;
  switch (instanceSource(service, settings)) {
    case 'nodePort':
      return { endpointSlices: true, nodes: true };
    case 'endpoints':
      return { endpointSlices: true, nodes: false };
    default:
      return none;
  }
}

/** The full translation of one Kubernetes service (SPEC §4). */
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
  const annotations = annotationsOf(service);
  const consulName = consulServiceName(service, ref, settings, warnings);
  const ports = servicePortsOf(service);
  const defaultPort = chooseDefaultPort(annotations, ref.name, ports, warnings);
  const tags = dedupe([
    ...(settings.consulK8sTag === '' ? [] : [settings.consulK8sTag]),
    ...parseTags(stringField(annotations, ANNOTATION_SERVICE_TAGS) ?? ''),
  ]);
  const passing = serviceWeight(annotations, warnings);

  const source = instanceSource(service, settings);
  const endpointDerived = source === 'nodePort' || source === 'endpoints';
  const namedPorts = ports.filter((p) => typeof p.name === 'string' && p.name !== '');
  const ownPortKeys = acceptedPortKeys(namedPorts, warnings);
  // The 64-pair budget is computed for the largest own-key set (node-name present), so every
  // instance of a service carries the same annotation meta.
  const ownCount = 4 + (endpointDerived ? 1 : 0) + ownPortKeys.size;
  const extraMeta = annotationMeta(annotations, ownPortKeys, ownCount, warnings);

  const instances = limitInstances(
    instancesOf(service, ref, input, settings, source),
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
    for (const p of namedPorts) {
      const key = META_PORT_PREFIX + (p.name ?? '');
      if (ownPortKeys.has(key)) meta[key] = String(reachablePort(p, inst));
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

// ---------------------------------------------------------------------------------------------
// Name, port, weight, meta

/**
 * The Consul service name a Kubernetes service maps to: the service-name annotation, else
 * `<prefix><name>[-<namespace>]`. Lets the edge read Consul by name before translating.
 */
export function consulNameOf(service: Service, settings: ToConsulSettings): string {
  return consulServiceName(service, serviceRefOf(service), settings, []);
}

function consulServiceName(
  service: Service,
  ref: ServiceRef,
  settings: ToConsulSettings,
  warnings: string[],
): string {
  let name = settings.consulServicePrefix + ref.name;
  if (settings.addK8sNamespaceSuffix) name = `${name}-${ref.namespace}`;
  const raw = stringField(annotationsOf(service), ANNOTATION_SERVICE_NAME);
  if (raw === undefined) return name;
  const trimmed = raw.trim();
  if (trimmed === '') {
    warnings.push(`service-name is empty; using ${quote(name)}`);
    return name;
  }
  // Control characters would reach Consul's catalog and DNS answers verbatim.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) {
    warnings.push(`service-name contains control characters; using ${quote(name)}`);
    return name;
  }
  // Characters, not UTF-16 units, so a name of 255 emoji is accepted.
  if ([...trimmed].length > SERVICE_NAME_MAX_LENGTH) {
    warnings.push(
      `service-name is longer than ${SERVICE_NAME_MAX_LENGTH} characters; using ${quote(name)}`,
    );
    return name;
  }
  return trimmed;
}

type DefaultPort = { kind: 'number'; port: number } | { kind: 'port'; port: ServicePort } | null;

/**
 * service-port annotation: digits are a port number used as Port exactly (1–65535; Kubernetes
 * port names always contain a letter, so digits can never be a name); anything else names a
 * port. Not in SPEC: an out-of-range number warns and falls back to the first port.
 */
function chooseDefaultPort(
  annotations: Record<string, unknown>,
  serviceName: string,
  ports: readonly ServicePort[],
  warnings: string[],
): DefaultPort {
  const first: DefaultPort = ports[0] === undefined ? null : { kind: 'port', port: ports[0] };
  const raw = stringField(annotations, ANNOTATION_SERVICE_PORT);
  if (raw === undefined) return first;
  const fallback = (): string =>
    ports[0] === undefined
      ? 'port 0 (the service has no ports)'
      : ports[0].name
        ? quote(ports[0].name)
        : `port ${String(safePort(ports[0].port))}`;
  if (/^[0-9]+$/.test(raw)) {
    const n = Number(raw);
    if (n >= 1 && n <= 65535) return { kind: 'number', port: n };
    warnings.push(`service-port ${quote(raw)} is not a port number (1-65535); using ${fallback()}`);
    return first;
  }
  const named = ports.find((p) => p.name === raw);
  if (named) return { kind: 'port', port: named };
  warnings.push(`service-port ${quote(raw)} names no port of ${serviceName}; using ${fallback()}`);
  return first;
}

/** No ports at all → Port 0 (Consul accepts it; the instance is still discoverable by address). */
function defaultPortValue(choice: DefaultPort, inst: Instance): number {
  if (choice === null) return 0;
  if (choice.kind === 'number') return choice.port;
  return reachablePort(choice.port, inst);
}

/** The port reachable at the instance's Address for one service port. */
function reachablePort(p: ServicePort, inst: Instance): number {
  switch (inst.kind) {
    case 'service':
      return safePort(p.port);
    case 'nodePort':
      // consul-k8s falls back to `port` while the nodePort is not allocated yet.
      return safePort(p.nodePort) > 0 ? safePort(p.nodePort) : safePort(p.port);
    case 'endpoint': {
      const wanted = p.name ?? '';
      const match = inst.slicePorts.find((sp) => (sp.name ?? '') === wanted);
      if (match && safePort(match.port) > 0) return safePort(match.port);
      // Not in SPEC: a slice without the port (or one that does not restrict ports) → the
      // numeric targetPort, else the service port (Kubernetes' default targetPort).
      if (typeof p.targetPort === 'number' && safePort(p.targetPort) > 0) return p.targetPort;
      return safePort(p.port);
    }
  }
}

function serviceWeight(annotations: Record<string, unknown>, warnings: string[]): number {
  const raw = stringField(annotations, ANNOTATION_SERVICE_WEIGHT);
  if (raw === undefined) return 1;
  if (/^[0-9]+$/.test(raw)) {
    const n = Number(raw);
    if (n >= 1 && Number.isSafeInteger(n)) return n;
  }
  warnings.push(`service-weight ${quote(raw)} is not an integer >= 1; using 1`);
  return 1;
}

function metaPairProblem(key: string, value: string): string | undefined {
  if (key === '') return 'the key is empty';
  if (!CONSUL_META_KEY_FORMAT.test(key)) return 'the key may only contain A-Z a-z 0-9 _ -';
  if (key.length > CONSUL_META_KEY_MAX_LENGTH)
    return `the key is longer than ${CONSUL_META_KEY_MAX_LENGTH} characters`;
  if (key.startsWith(CONSUL_META_RESERVED_PREFIX))
    return `the key prefix "${CONSUL_META_RESERVED_PREFIX}" is reserved by Consul`;
  if (Buffer.byteLength(value, 'utf8') > CONSUL_META_VALUE_MAX_BYTES)
    return `the value is longer than ${CONSUL_META_VALUE_MAX_BYTES} bytes`;
  return undefined;
}

/** port-<name> keys that Consul accepts (a malformed port name is dropped with a warning). */
function acceptedPortKeys(namedPorts: readonly ServicePort[], warnings: string[]): Set<string> {
  const keys = new Set<string>();
  for (const p of namedPorts) {
    const key = META_PORT_PREFIX + (p.name ?? '');
    if (keys.has(key)) continue;
    const problem = metaPairProblem(key, '65535');
    if (problem) {
      warnings.push(
        `port name ${quote(p.name ?? '')} cannot be a Consul meta key (${problem}); meta ${quote(key)} dropped`,
      );
      continue;
    }
    if (4 + 1 + keys.size >= CONSUL_META_MAX_PAIRS) {
      warnings.push(`more than ${CONSUL_META_MAX_PAIRS} meta pairs; meta ${quote(key)} dropped`);
      continue;
    }
    keys.add(key);
  }
  return keys;
}

/**
 * consul.hashicorp.com/service-meta-<KEY> annotations, sorted by key, filtered by Consul's
 * limits. They never override external-* keys; our own keys take the first places of the 64.
 * As in consul-k8s (and not forbidden by SPEC) an annotation may override a port-<name> key.
 */
function annotationMeta(
  annotations: Record<string, unknown>,
  ownPortKeys: ReadonlySet<string>,
  ownCount: number,
  warnings: string[],
): [string, string][] {
  const accepted: [string, string][] = [];
  let count = ownCount;
  const keys = Object.keys(annotations)
    .filter((k) => k.startsWith(ANNOTATION_SERVICE_META_PREFIX))
    .sort(compareStrings);
  for (const annotationKey of keys) {
    const value = stringField(annotations, annotationKey);
    if (value === undefined) continue;
    const key = annotationKey.slice(ANNOTATION_SERVICE_META_PREFIX.length);
    const label = `service-meta-${truncate(key, 80)}`;
    if (key.startsWith(META_RESERVED_PREFIX)) {
      warnings.push(
        `${label}: meta keys starting with "${META_RESERVED_PREFIX}" are reserved for the sync; dropped`,
      );
      continue;
    }
    const problem = metaPairProblem(key, value);
    if (problem) {
      warnings.push(`${label}: ${problem}; dropped`);
      continue;
    }
    if (!ownPortKeys.has(key)) {
      if (count >= CONSUL_META_MAX_PAIRS) {
        warnings.push(
          `${label}: Consul allows at most ${CONSUL_META_MAX_PAIRS} meta pairs; dropped`,
        );
        continue;
      }
      count++;
    }
    accepted.push([key, value]);
  }
  return accepted;
}

// ---------------------------------------------------------------------------------------------
// Instances

type InstanceSource = 'externalIPs' | 'ingress' | 'nodePort' | 'endpoints' | 'none';

/**
 * Not in SPEC: at most `max` instances per service (--max-instances-per-service), the first in
 * the source's order (externalIPs and ingress as listed, nodes by name, endpoints by slice name).
 * A legal Service can list 100,000 externalIPs; registering them all would take hundreds of
 * transactions per event and block Consul and the event path alike.
 */
function limitInstances<T>(instances: T[], max: number | undefined, warnings: string[]): T[] {
  if (!max || instances.length <= max) return instances;
  warnings.push(
    `more than ${max} instances; only the first ${max} are registered (--max-instances-per-service)`,
  );
  return instances.slice(0, max);
}

type Instance =
  | { kind: 'service'; address: string; nodeName?: undefined; ready?: undefined }
  | { kind: 'nodePort'; address: string; nodeName: string; ready: boolean }
  | {
      kind: 'endpoint';
      address: string;
      nodeName?: string;
      ready: boolean;
      slicePorts: readonly EndpointPort[];
    };

/** externalIPs win over the type; then the type decides (SPEC §4 Instances). */
function instanceSource(service: Service, settings: ToConsulSettings): InstanceSource {
  if (hasExternalIPs(service)) return 'externalIPs';
  const type = serviceType(service);
  if (type === 'LoadBalancer') return settings.syncLBServicesEndpoints ? 'endpoints' : 'ingress';
  if (type === 'NodePort') return 'nodePort';
  if (type === 'ClusterIP' && settings.syncClusterIPServices) return 'endpoints';
  return 'none';
}

function instancesOf(
  service: Service,
  ref: ServiceRef,
  input: TranslateInput,
  settings: ToConsulSettings,
  source: InstanceSource,
): Instance[] {
  switch (source) {
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
 * without nodeName and nodes that are not in the map are skipped. Not in SPEC: two nodes with
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
  const byAddress = new Map<
    string,
    { nodeName?: string; ready: boolean; slicePorts: readonly EndpointPort[] }
  >();
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
          byAddress.set(address, { nodeName, ready, slicePorts });
        }
      }
    }
  }
  return [...byAddress].map(([address, v]) => {
    const inst: Instance = { kind: 'endpoint', address, ready: v.ready, slicePorts: v.slicePorts };
    if (v.nodeName !== undefined) inst.nodeName = v.nodeName;
    return inst;
  });
}

/** Kubernetes: an absent (nil) ready condition is unknown and read as ready. */
function isReady(ep: Endpoint): boolean {
  return ep.conditions?.ready !== false;
}

/**
 * The slices of this service, in name order. Defensive: a slice whose namespace or
 * kubernetes.io/service-name label names another service is ignored.
 */
function slicesOf(input: TranslateInput, ref: ServiceRef): EndpointSlice[] {
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

// ---------------------------------------------------------------------------------------------
// Safe accessors (input may be raw JSON from a webhook)

/**
 * namespace/name of a service. Not in SPEC: a missing namespace is read as "default" (the
 * namespace the API server would have used).
 */
export function serviceRefOf(service: Service): ServiceRef {
  const meta = isObject(service) && isObject(service.metadata) ? service.metadata : {};
  return {
    namespace: nonEmptyString(meta.namespace) ?? 'default',
    name: nonEmptyString(meta.name) ?? '',
  };
}

function serviceType(service: Service): string {
  const type = isObject(service?.spec) ? service.spec.type : undefined;
  return nonEmptyString(type) ?? 'ClusterIP';
}

/** Whether spec.externalIPs lists any address: stops at the first, however long the list. */
function hasExternalIPs(service: Service): boolean {
  const ips = isObject(service?.spec) ? service.spec.externalIPs : undefined;
  return Array.isArray(ips) && ips.some((ip) => nonEmptyString(ip) !== undefined);
}

function externalIPsOf(service: Service, cap = Infinity): string[] {
  const ips = isObject(service?.spec) ? service.spec.externalIPs : undefined;
  if (!Array.isArray(ips)) return [];
  const out = new Set<string>();
  for (const ip of ips) {
    if (out.size >= cap) break;
    const address = nonEmptyString(ip);
    if (address !== undefined) out.add(address);
  }
  return [...out];
}

function servicePortsOf(service: Service): ServicePort[] {
  const ports = isObject(service?.spec) ? service.spec.ports : undefined;
  return Array.isArray(ports) ? ports.filter(isObject) : [];
}

function labelsOf(service: Service): Record<string, unknown> {
  const labels =
    isObject(service) && isObject(service.metadata) ? service.metadata.labels : undefined;
  return isObject(labels) ? labels : {};
}

function annotationsOf(service: Service): Record<string, unknown> {
  const annotations =
    isObject(service) && isObject(service.metadata) ? service.metadata.annotations : undefined;
  return isObject(annotations) ? annotations : {};
}

/**
 * An own string field. Numbers and booleans are stringified: the reference text's own example
 * writes `"consul.hashicorp.com/service-sync": false` unquoted.
 */
function stringField(record: Record<string, unknown>, key: string): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(record, key)) return undefined;
  const value = record[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function isObject<T>(value: T): value is T & object {
  return typeof value === 'object' && value !== null;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function safePort(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 0;
}

function dedupe<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function truncate(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/** A user value in a warning: JSON-quoted, cut at 64 characters (annotations can be huge). */
function quote(value: string): string {
  return JSON.stringify(truncate(value, 64));
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
