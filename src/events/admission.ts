// Decodes an admission.k8s.io/v1 AdmissionReview into a typed event about one Service, one
// EndpointSlice or one Ingress (the Services its `/` rules name), and builds the answer (always allowed: the product observes, never blocks).
import { z } from 'zod';
import type { EndpointSlice, Ingress, Service, ServiceRef } from '../translate/types.js';
import { LABEL_SERVICE_NAME } from '../translate/keys.js';
import { ingressServiceNames } from '../translate/index.js';
import { decodeWith, isNamespaceName, isObjectName, kubeObject, name } from './limits.js';
import {
  validateEndpointSlice,
  validateIngress,
  validateService,
  type FieldProblem,
} from './validate.js';

const groupVersionKind = z.object({
  group: z.string().max(253),
  version: z.string().max(64),
  kind: z.string().max(253),
});
const groupVersionResource = z.object({
  group: z.string().max(253),
  version: z.string().max(64),
  resource: z.string().max(253),
});

export const admissionReviewSchema = z.object({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request: z.object({
    uid: z.string().min(1).max(128),
    kind: groupVersionKind,
    resource: groupVersionResource,
    subResource: z.string().max(253).optional(),
    name: name.optional(),
    namespace: name.optional(),
    operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
    object: kubeObject.nullish(),
    oldObject: kubeObject.nullish(),
    dryRun: z.boolean().optional(),
  }),
});

export type AdmissionReview = z.infer<typeof admissionReviewSchema>;

export type AdmissionEvent =
  | {
      kind: 'service';
      uid: string;
      ref: ServiceRef;
      operation: 'CREATE' | 'UPDATE' | 'DELETE';
      subResource: string;
      /** The Service as it will be stored; null on DELETE. */
      object: Service | null;
      /** The stored Service before the change (UPDATE, DELETE); null on CREATE. */
      oldObject: Service | null;
      dryRun: boolean;
    }
  | {
      kind: 'endpointslice';
      uid: string;
      ref: ServiceRef;
      sliceName: string;
      operation: 'CREATE' | 'UPDATE' | 'DELETE';
      /** The slice as it will be stored; null on DELETE. */
      object: EndpointSlice | null;
      dryRun: boolean;
    }
  /**
   * An Ingress (networking.k8s.io/v1, spec or status): it may change the instances of every
   * Service its `/` rules name now or named before (docs/reference.md "Ingress").
   */
  | {
      kind: 'ingress';
      uid: string;
      /** namespace/name of the Ingress. */
      ref: ServiceRef;
      operation: 'CREATE' | 'UPDATE' | 'DELETE';
      /** The Ingress as it will be stored; null on DELETE. */
      object: Ingress | null;
      oldObject: Ingress | null;
      /** The Services named by the object and the old object, once each. */
      services: ServiceRef[];
      dryRun: boolean;
    }
  /**
   * An object no API server would store (it validates before calling webhooks): from a leaked
   * token or a misconfigured sender. Answered allowed with a warning; nothing is written.
   */
  | {
      kind: 'invalid';
      uid: string;
      ref: ServiceRef;
      what: 'Service' | 'EndpointSlice' | 'Ingress';
      problems: FieldProblem[];
      dryRun: boolean;
    }
  | { kind: 'ignored'; uid: string; reason: string; dryRun: boolean };

export function decodeAdmissionReview(body: unknown): AdmissionEvent {
  const review = decodeWith(
    admissionReviewSchema,
    body,
    'INVALID_ADMISSION_REVIEW',
    'AdmissionReview',
  );
  const r = review.request;
  const dryRun = r.dryRun === true;
  const ignore = (reason: string): AdmissionEvent => ({
    kind: 'ignored',
    uid: r.uid,
    reason,
    dryRun,
  });
  if (r.operation === 'CONNECT') return ignore('CONNECT operation');
  // Services and EndpointSlices are namespaced: the API server names the namespace in the
  // request, and that is the namespace (an object cannot move itself into another one).
  const namespace = r.namespace;
  const inNamespace = <T extends { metadata?: { namespace?: string } }>(o: T | null): T | null =>
    o && !o.metadata?.namespace ? { ...o, metadata: { ...o.metadata, namespace } } : o;
  const current = inNamespace(r.operation === 'DELETE' ? null : (r.object ?? null));
  const previous = inNamespace(r.oldObject ?? null);
  // For CREATE with generateName the request name is empty; the object carries the generated one.
  const objectName = r.name || current?.metadata?.name || previous?.metadata?.name;
  if (r.operation !== 'DELETE' && !current) return ignore(`${r.operation} without an object`);
  if (!namespace) return ignore('no request namespace');
  if (!objectName) return ignore('no name');
  if (!isNamespaceName(namespace) || !isObjectName(objectName)) {
    return ignore('namespace or name is not a valid Kubernetes name');
  }
  // The API server sends the object the request is about; one naming another object is not
  // from it, and would converge (and register) a service the request does not name.
  for (const o of [current, previous]) {
    const meta = o?.metadata;
    if (
      (meta?.namespace && meta.namespace !== namespace) ||
      (meta?.name && meta.name !== objectName)
    ) {
      return ignore('object does not match the request namespace/name');
    }
  }
  const sub = r.subResource ?? '';
  if (
    r.resource.group === '' &&
    r.resource.resource === 'services' &&
    (sub === '' || sub === 'status')
  ) {
    const ref = { namespace, name: objectName };
    const problems = current ? validateService(current) : [];
    if (problems.length > 0)
      return { kind: 'invalid', uid: r.uid, ref, what: 'Service', problems, dryRun };
    return {
      kind: 'service',
      uid: r.uid,
      ref,
      operation: r.operation,
      subResource: sub,
      object: current as Service | null,
      oldObject: previous as Service | null,
      dryRun,
    };
  }
  if (
    r.resource.group === 'discovery.k8s.io' &&
    r.resource.resource === 'endpointslices' &&
    sub === ''
  ) {
    const serviceName =
      current?.metadata?.labels?.[LABEL_SERVICE_NAME] ??
      previous?.metadata?.labels?.[LABEL_SERVICE_NAME];
    if (!serviceName) return ignore('EndpointSlice without a service-name label');
    if (!isObjectName(serviceName)) return ignore('service-name label is not a valid name');
    const ref = { namespace, name: serviceName };
    const problems = current ? validateEndpointSlice(current) : [];
    if (problems.length > 0)
      return { kind: 'invalid', uid: r.uid, ref, what: 'EndpointSlice', problems, dryRun };
    return {
      kind: 'endpointslice',
      uid: r.uid,
      ref,
      sliceName: objectName,
      operation: r.operation,
      object: current as EndpointSlice | null,
      dryRun,
    };
  }
  if (
    r.resource.group === 'networking.k8s.io' &&
    r.resource.resource === 'ingresses' &&
    (sub === '' || sub === 'status')
  ) {
    const ref = { namespace, name: objectName };
    const problems = current ? validateIngress(current) : [];
    if (problems.length > 0)
      return { kind: 'invalid', uid: r.uid, ref, what: 'Ingress', problems, dryRun };
    const names = new Set([
      ...ingressServiceNames(current as Ingress | null),
      ...ingressServiceNames(previous as Ingress | null),
    ]);
    return {
      kind: 'ingress',
      uid: r.uid,
      ref,
      operation: r.operation,
      object: current as Ingress | null,
      oldObject: previous as Ingress | null,
      // A name no Service can have (the old object is not validated) names no Service.
      services: [...names].filter(isObjectName).map((name) => ({ namespace, name })),
      dryRun,
    };
  }
  return ignore(
    `resource ${r.resource.group || 'core'}/${r.resource.resource}${sub ? '/' + sub : ''}`,
  );
}

/** Kubernetes shows at most a few short warnings; keep them readable. */
const MAX_WARNINGS = 10;
const MAX_WARNING_LENGTH = 256;

export function admissionResponse(uid: string, warnings: readonly string[] = []): unknown {
  const response: { uid: string; allowed: true; warnings?: string[] } = { uid, allowed: true };
  if (warnings.length > 0) {
    response.warnings = warnings
      .slice(0, MAX_WARNINGS)
      .map((w) => (w.length > MAX_WARNING_LENGTH ? w.slice(0, MAX_WARNING_LENGTH - 1) + '…' : w));
  }
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}
