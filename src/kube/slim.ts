// What a reconcile keeps of each listed object: the fields of the structural subset types that
// translation and the plan read (src/translate/types.ts), copied out of the page the API server
// sent, so that the page itself (managedFields, the last-applied-configuration annotation,
// status conditions, creationTimestamp, topology hints, ...) is garbage as soon as it has been
// read instead of living until the reconcile ends. Everything kept keeps its JSON value, so
// translation sees exactly what it would have seen in the whole object.
import type {
  EndpointConditions,
  EndpointSlice,
  Ingress,
  Node,
  Service,
} from '../translate/types.js';

/** kubectl apply's copy of the whole object: never read, often the largest annotation. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A new object with `keys` of `from` that are present (an absent key stays absent). */
function pick(from: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const key of keys) if (from[key] !== undefined) out[key] = from[key];
  return out;
}

/** Each element of an array projected by `each`; anything that is not an array stays as it is. */
function eachOf(value: unknown, each: (item: Json) => unknown): unknown {
  if (!Array.isArray(value)) return value;
  return (value as unknown[]).map((item) => (isRecord(item) ? each(item) : item));
}

const META_KEYS = [
  'name',
  'generateName',
  'namespace',
  'uid',
  'resourceVersion',
  'labels',
  'ownerReferences',
  'deletionTimestamp',
] as const;

function slimMeta(meta: unknown): unknown {
  if (!isRecord(meta)) return meta;
  const out = pick(meta, META_KEYS);
  const annotations = meta.annotations;
  if (isRecord(annotations) && LAST_APPLIED_ANNOTATION in annotations) {
    const rest = { ...annotations };
    delete rest[LAST_APPLIED_ANNOTATION];
    out.annotations = rest;
  } else if (annotations !== undefined) out.annotations = annotations;
  return out;
}

/** Copies `key` of `from` into `to` through `slim`, when present. */
function copy(to: Json, from: Json, key: string, slim: (value: unknown) => unknown): void {
  if (from[key] !== undefined) to[key] = slim(from[key]);
}

const same = (value: unknown): unknown => value;

const SERVICE_PORT_KEYS = ['name', 'protocol', 'port', 'targetPort', 'nodePort'] as const;
const SERVICE_SPEC_KEYS = ['type', 'selector', 'clusterIP', 'externalIPs', 'externalName'] as const;

/** A Service as translation and the Kubernetes Events read it. */
export function slimService(service: Service): Service {
  const raw = service as unknown;
  if (!isRecord(raw)) return service;
  const out: Json = {};
  copy(out, raw, 'metadata', slimMeta);
  copy(out, raw, 'spec', (spec) => {
    if (!isRecord(spec)) return spec;
    const slim = pick(spec, SERVICE_SPEC_KEYS);
    copy(slim, spec, 'ports', (ports) => eachOf(ports, (p) => pick(p, SERVICE_PORT_KEYS)));
    return slim;
  });
  copy(out, raw, 'status', (status) => {
    if (!isRecord(status)) return status;
    const slim: Json = {};
    copy(slim, status, 'loadBalancer', (lb) => {
      if (!isRecord(lb)) return lb;
      const slimLb: Json = {};
      copy(slimLb, lb, 'ingress', (ingress) => eachOf(ingress, (i) => pick(i, ['ip', 'hostname'])));
      return slimLb;
    });
    return slim;
  });
  return out;
}

/**
 * Endpoint conditions are one of a handful of values: one frozen object per distinct value,
 * shared by every endpoint that has it (50,000 endpoints, a few objects).
 */
const conditionsCache = new Map<string, EndpointConditions>();

function sharedConditions(conditions: unknown): unknown {
  if (!isRecord(conditions)) return conditions;
  const { ready, serving, terminating } = conditions;
  const known = (v: unknown): boolean => v === undefined || v === null || typeof v === 'boolean';
  if (!known(ready) || !known(serving) || !known(terminating)) {
    return pick(conditions, ['ready', 'serving', 'terminating']);
  }
  const key = `${String(ready)}/${String(serving)}/${String(terminating)}`;
  let shared = conditionsCache.get(key);
  if (!shared) {
    shared = Object.freeze(pick(conditions, ['ready', 'serving', 'terminating']));
    conditionsCache.set(key, shared);
  }
  return shared;
}

const TARGET_REF_KEYS = ['kind', 'name', 'namespace'] as const;
const ENDPOINT_PORT_KEYS = ['name', 'port', 'protocol'] as const;

function slimEndpoint(endpoint: Json): Json {
  const out = pick(endpoint, ['addresses', 'nodeName', 'zone']);
  copy(out, endpoint, 'conditions', sharedConditions);
  copy(out, endpoint, 'targetRef', (ref) => (isRecord(ref) ? pick(ref, TARGET_REF_KEYS) : ref));
  return out;
}

/** An EndpointSlice as translation reads it (its endpoints' addresses, readiness, node, pod). */
export function slimEndpointSlice(slice: EndpointSlice): EndpointSlice {
  const raw = slice as unknown;
  if (!isRecord(raw)) return slice;
  const out: Json = {};
  copy(out, raw, 'metadata', slimMeta);
  copy(out, raw, 'addressType', same);
  copy(out, raw, 'endpoints', (endpoints) => eachOf(endpoints, slimEndpoint));
  copy(out, raw, 'ports', (ports) => eachOf(ports, (p) => pick(p, ENDPOINT_PORT_KEYS)));
  return out;
}

/**
 * What translation reads of a Node: its name and addresses. A full Node (status.images alone can
 * be tens of kilobytes) is not worth keeping, in a reconcile or in the node cache.
 */
export function slimNode(node: Node): Node {
  const raw = node as unknown;
  if (!isRecord(raw)) return node;
  const meta = isRecord(raw.metadata) ? raw.metadata : {};
  const status = isRecord(raw.status) ? raw.status : {};
  const out: Json = { metadata: meta.name !== undefined ? { name: meta.name } : {} };
  if (Array.isArray(status.addresses)) {
    out.status = { addresses: eachOf(status.addresses, (a) => pick(a, ['type', 'address'])) };
  }
  return out;
}

/** An Ingress: its rules, TLS hosts and load balancer as listed; its metadata slimmed. */
export function slimIngress(ingress: Ingress): Ingress {
  const raw = ingress as unknown;
  if (!isRecord(raw)) return ingress;
  const out: Json = {};
  copy(out, raw, 'metadata', slimMeta);
  copy(out, raw, 'spec', same);
  copy(out, raw, 'status', same);
  return out;
}
