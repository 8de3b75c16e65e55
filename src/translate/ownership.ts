// What is ours, in both directions (docs/reference.md "What is ours"): the only objects the
// product ever updates or deletes. Plan, sync, reconcile and the sandbox all ask here.
import {
  LABEL_CONSUL,
  LABEL_CONSUL_VALUE,
  META_EXTERNAL_SOURCE,
  META_EXTERNAL_SOURCE_VALUE,
  META_SYNC_ID,
} from './keys.js';
import type { Registration, Service, ToK8sSettings } from './types.js';

/**
 * Whether a Service is in the write namespace. A Service without `metadata.namespace` is taken to
 * be in it: Services are only ever read from the write namespace (a namespaced list may omit the
 * field) or from a cluster-wide list, where the API server always sets it. An empty namespace is
 * not the write namespace.
 */
export function isInWriteNamespace(
  svc: Service | null | undefined,
  settings: Pick<ToK8sSettings, 'k8sWriteNamespace'>,
): boolean {
  return (svc?.metadata?.namespace ?? settings.k8sWriteNamespace) === settings.k8sWriteNamespace;
}

/**
 * Kubernetes: ours when labelled `consul=true` (the string, exactly) in the write namespace (see
 * `isInWriteNamespace` for a Service without a namespace). The synced annotation alone does not
 * make a Service ours. Null (a read that found nothing) is not ours.
 */
export function isOwnedK8sService(
  svc: Service | null | undefined,
  settings: Pick<ToK8sSettings, 'k8sWriteNamespace'>,
): boolean {
  return (
    svc?.metadata?.labels?.[LABEL_CONSUL] === LABEL_CONSUL_VALUE &&
    isInWriteNamespace(svc, settings)
  );
}

/**
 * Consul: ours when the meta says `external-source=kubernetes` **and**
 * `external-k8s-sync-id=<our sync id>`. Another installation's registration (other sync id) and
 * no one's (no sync id, another external-source, no meta) are not. The node is the reader's
 * part: the product reads only the sync node, so the meta alone decides here (the plan, being
 * pure, also takes a registration on another node by its meta).
 */
export function isOwnedRegistration(
  registration: { readonly meta?: Registration['meta'] | null },
  syncId: string,
): boolean {
  const meta: Readonly<Record<string, unknown>> =
    typeof registration?.meta === 'object' && registration.meta !== null ? registration.meta : {};
  return meta[META_EXTERNAL_SOURCE] === META_EXTERNAL_SOURCE_VALUE && meta[META_SYNC_ID] === syncId;
}

/**
 * A registration of consul-k8s's shape: `external-source=kubernetes` and no sync id (consul-k8s
 * writes none). Not ours unless a reconcile is asked to adopt it (`--adopt-consul-k8s`).
 */
export function isAdoptable(registration: {
  readonly meta?: Registration['meta'] | null;
}): boolean {
  const meta: Readonly<Record<string, unknown>> =
    typeof registration?.meta === 'object' && registration.meta !== null ? registration.meta : {};
  return (
    meta[META_EXTERNAL_SOURCE] === META_EXTERNAL_SOURCE_VALUE && meta[META_SYNC_ID] === undefined
  );
}
