// Decodes an audit.k8s.io/v1 EventList into the set of affected Services. Only completed,
// successful, non-dry-run writes to services, services/status and endpointslices count, and
// to ingresses and ingresses/status (the Ingresses written, with the Services they name).
import { z } from 'zod';
import type { ServiceRef } from '../translate/types.js';
import { LABEL_SERVICE_NAME } from '../translate/keys.js';
import { ingressServiceNames } from '../translate/index.js';
import type { Ingress } from '../translate/types.js';
import {
  MAX_ITEMS,
  decodeWith,
  isNamespaceName,
  isObjectName,
  kubeObject,
  name,
} from './limits.js';

const auditEvent = z.looseObject({
  level: z.string().max(64).optional(),
  auditID: z.string().max(128).optional(),
  stage: z.string().max(64),
  requestURI: z.string().max(8192).optional(),
  verb: z.string().max(64),
  objectRef: z
    .looseObject({
      resource: z.string().max(253).optional(),
      namespace: name.optional(),
      name: name.optional(),
      apiGroup: z.string().max(253).optional(),
      apiVersion: z.string().max(64).optional(),
      subresource: z.string().max(253).optional(),
    })
    .optional(),
  responseStatus: z.looseObject({ code: z.number().int().min(0).max(999).optional() }).optional(),
  requestObject: kubeObject.nullish(),
  responseObject: kubeObject.nullish(),
});

export const eventListSchema = z.object({
  apiVersion: z.literal('audit.k8s.io/v1'),
  kind: z.literal('EventList'),
  items: z.array(auditEvent).max(MAX_ITEMS).nullable(),
});

/** An Ingress written: the Services its stored object names (`/` paths), if the event has it. */
export interface AuditIngress {
  namespace: string;
  name: string;
  services: ServiceRef[];
}

export interface AuditBatch {
  /** Affected Services, deduplicated (events coalesced per Service), in first-seen order. */
  services: ServiceRef[];
  /**
   * Ingresses written, deduplicated, in first-seen order. The Services they named before are
   * not in the event: the handler finds them in Consul (docs/reference.md "Ingress").
   */
  ingresses: AuditIngress[];
  processed: number;
  ignored: number;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);

function isDryRun(requestURI: string | undefined): boolean {
  if (!requestURI) return false;
  const q = requestURI.indexOf('?');
  if (q === -1) return false;
  return new URLSearchParams(requestURI.slice(q + 1)).getAll('dryRun').length > 0;
}

export function decodeAuditEventList(body: unknown): AuditBatch {
  const list = decodeWith(eventListSchema, body, 'INVALID_AUDIT_EVENT_LIST', 'audit EventList');
  const seen = new Map<string, ServiceRef>();
  const ingresses = new Map<string, AuditIngress>();
  let processed = 0;
  let ignored = 0;
  for (const event of list.items ?? []) {
    const ingress = writtenIngress(event);
    if (ingress) {
      processed++;
      const key = `${ingress.namespace}/${ingress.name}`;
      const known = ingresses.get(key);
      if (!known) ingresses.set(key, ingress);
      else
        for (const s of ingress.services)
          if (!known.services.some((k) => k.name === s.name)) known.services.push(s);
      continue;
    }
    const ref = affectedService(event);
    if (!ref) {
      ignored++;
      continue;
    }
    processed++;
    const key = `${ref.namespace}/${ref.name}`;
    if (!seen.has(key)) seen.set(key, ref);
  }
  return { services: [...seen.values()], ingresses: [...ingresses.values()], processed, ignored };
}

function isWrite(event: z.infer<typeof auditEvent>): boolean {
  const code = event.responseStatus?.code;
  if (event.stage !== 'ResponseComplete' || code === undefined || code >= 300) return false;
  return WRITE_VERBS.has(event.verb) && !isDryRun(event.requestURI);
}

/** A successful write to an Ingress (spec or status), with the Services the event shows it naming. */
function writtenIngress(event: z.infer<typeof auditEvent>): AuditIngress | undefined {
  const ref = event.objectRef;
  if (ref?.apiGroup !== 'networking.k8s.io' || ref.resource !== 'ingresses') return undefined;
  const sub = ref.subresource ?? '';
  if (sub !== '' && sub !== 'status') return undefined;
  if (!isWrite(event) || !ref.namespace || !ref.name) return undefined;
  if (!isNamespaceName(ref.namespace) || !isObjectName(ref.name)) return undefined;
  const namespace = ref.namespace;
  // The stored object (responseObject) or, for a create/update, what was sent; a patch's
  // request body is a patch, and a delete's answer may be a Status: both name no Service.
  const isIngress = (o: unknown): o is Ingress =>
    typeof o === 'object' && o !== null && (o as { kind?: unknown }).kind !== 'Status';
  const names = new Set<string>();
  for (const o of [event.responseObject, event.verb === 'patch' ? undefined : event.requestObject])
    if (isIngress(o)) for (const n of ingressServiceNames(o)) names.add(n);
  return {
    namespace,
    name: ref.name,
    services: [...names].filter(isObjectName).map((name) => ({ namespace, name })),
  };
}

/** `web-x7k2p` → `web`: the service an EndpointSlice controller slice was generated for. */
export function serviceOfSliceName(sliceName: string): string | undefined {
  const cut = sliceName.lastIndexOf('-');
  if (cut <= 0) return undefined;
  const name = sliceName.slice(0, cut);
  return isObjectName(name) ? name : undefined;
}

function affectedService(event: z.infer<typeof auditEvent>): ServiceRef | undefined {
  const code = event.responseStatus?.code;
  if (event.stage !== 'ResponseComplete' || code === undefined || code >= 300) return undefined;
  if (!WRITE_VERBS.has(event.verb) || isDryRun(event.requestURI)) return undefined;
  const ref = event.objectRef;
  if (!ref?.namespace || !ref.name) return undefined;
  if (!isNamespaceName(ref.namespace) || !isObjectName(ref.name)) return undefined;
  const group = ref.apiGroup ?? '';
  const sub = ref.subresource ?? '';
  if (group === '' && ref.resource === 'services' && (sub === '' || sub === 'status')) {
    return { namespace: ref.namespace, name: ref.name };
  }
  if (group === 'discovery.k8s.io' && ref.resource === 'endpointslices' && sub === '') {
    const label =
      event.responseObject?.metadata?.labels?.[LABEL_SERVICE_NAME] ??
      event.requestObject?.metadata?.labels?.[LABEL_SERVICE_NAME];
    if (label) return isObjectName(label) ? { namespace: ref.namespace, name: label } : undefined;
    if (event.verb === 'delete') {
      // The API server answers an EndpointSlice DELETE with a Status, so the event carries no
      // service-name label. The EndpointSlice controller names slices `<service>-<suffix>`
      // (generateName): converge that service. A wrong guess is harmless — converging any
      // service is idempotent — and the reconcile covers slices named otherwise.
      const guess = serviceOfSliceName(ref.name);
      if (guess) return { namespace: ref.namespace, name: guess };
    }
    return undefined;
  }
  return undefined;
}
