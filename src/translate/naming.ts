// Names and IDs in Consul (docs/reference.md "Kubernetes → Consul"): the Consul service name of a Kubernetes Service (prefix,
// namespace suffix, service-name annotation) and the service ID of one instance.
import { hash } from 'node:crypto';

import { ANNOTATION_SERVICE_NAME } from './keys.js';
import { annotationsOf, serviceRefOf, stringField } from './accessors.js';
import type { Service, ServiceRef, ToConsulSettings } from './types.js';
import { quote } from './warnings.js';

/** docs/reference.md "Kubernetes → Consul": the service-name annotation is used when it is 1–255 characters after trimming. */
export const SERVICE_NAME_MAX_LENGTH = 255;

/** `<consul name>-<first 12 hex of sha1("<ns>/<name>/<address>")>` (docs/reference.md "Kubernetes → Consul" Service ID). */
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
 * The Consul service name a Kubernetes service maps to: the service-name annotation, else
 * `<prefix><name>[-<namespace>]`. Lets the edge read Consul by name before translating.
 */
export function consulNameOf(service: Service, settings: ToConsulSettings): string {
  return consulServiceName(service, serviceRefOf(service), settings, []);
}

export function consulServiceName(
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
