// Consul → Kubernetes (docs/reference.md "Consul → Kubernetes"): a Consul `services` view → the ExternalName services that
// should exist in the write namespace. Pure; invalid names are skipped with a warning.
import {
  ANNOTATION_SERVICE_SYNC,
  ANNOTATION_SYNCED,
  LABEL_CONSUL,
  LABEL_CONSUL_VALUE,
} from './keys.js';
import { compareStrings } from './order.js';
import type { DesiredK8sService, Service, ServicesView, ToK8sSettings } from './types.js';

export type SkipReason = 'k8s-tag' | 'invalid-name' | 'duplicate';

export interface SkippedConsulService {
  consulName: string;
  reason: SkipReason;
  message: string;
}

export interface K8sTranslation {
  /** Sorted by name, one per Kubernetes name. */
  services: DesiredK8sService[];
  skipped: SkippedConsulService[];
  /** invalid-name and duplicate skips, one line each (k8s-tag skips are normal, not warnings). */
  warnings: string[];
}

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1035_LABEL_MAX_LENGTH = 63;
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;

/** A valid Kubernetes Service name: an RFC 1035 label (lower-case, ≤63). */
export function isValidServiceName(name: string): boolean {
  return (
    typeof name === 'string' && name.length <= DNS1035_LABEL_MAX_LENGTH && DNS1035_LABEL.test(name)
  );
}

/** An RFC 1123 subdomain, what Kubernetes requires of spec.externalName. */
export function isValidDnsSubdomain(name: string): boolean {
  if (typeof name !== 'string' || name.length === 0) return false;
  if (name.length > DNS1123_SUBDOMAIN_MAX_LENGTH) return false;
  return name.split('.').every((label) => label.length <= 63 && DNS1123_LABEL.test(label));
}

/** The labels every Service made from Consul carries. */
export function desiredLabels(): Record<string, string> {
  return { [LABEL_CONSUL]: LABEL_CONSUL_VALUE };
}

/** synced=true marks it ours; service-sync=false keeps it from being synced back to Consul. */
export function desiredAnnotations(): Record<string, string> {
  return { [ANNOTATION_SYNCED]: 'true', [ANNOTATION_SERVICE_SYNC]: 'false' };
}

/**
 * The view's services → desired ExternalName services (docs/reference.md "Consul → Kubernetes"). Consul names are visited in
 * sorted order; when two lower-case to the same Kubernetes name the first is kept (both point
 * at the same lower-case DNS name anyway, since Consul DNS is case-insensitive).
 */
export function translateServicesView(
  view: ServicesView,
  settings: ToK8sSettings,
  options: {
    /**
     * Names with at least one instance without the k8s tag (not registered from Kubernetes).
     * Not in docs/reference.md: such a service is mirrored even when its other instances carry the tag, so
     * a Kubernetes service joining a VM service by name never removes the VM service's mirror.
     */
    notOnlyFromKubernetes?: ReadonlySet<string>;
  } = {},
): K8sTranslation {
  const services: DesiredK8sService[] = [];
  const skipped: SkippedConsulService[] = [];
  const warnings: string[] = [];
  const byName = new Map<string, string>();
  const source: Record<string, unknown> = typeof view === 'object' && view !== null ? view : {};
  // Not in docs/reference.md: a trailing dot on the domain is dropped (`consul.` and `consul` are the same
  // zone) and the domain is lower-cased with the name, as consul-k8s lower-cases the DNS entry.
  const domain = settings.consulDomain.replace(/\.+$/, '').toLowerCase();

  for (const consulName of Object.keys(source).sort(compareStrings)) {
    const rawTags = source[consulName];
    const tags = Array.isArray(rawTags) ? rawTags : [];
    if (
      settings.consulK8sTag !== '' &&
      tags.includes(settings.consulK8sTag) &&
      !options.notOnlyFromKubernetes?.has(consulName)
    ) {
      skipped.push({
        consulName,
        reason: 'k8s-tag',
        message: `consul service ${consulName} carries tag ${JSON.stringify(settings.consulK8sTag)} (registered from Kubernetes)`,
      });
      continue;
    }
    const name = (settings.k8sServicePrefix + consulName).toLowerCase();
    const externalName = `${consulName.toLowerCase()}.service.${domain}`;
    let problem: string | undefined;
    if (!isValidServiceName(name))
      problem = `${JSON.stringify(name)} is not a valid Kubernetes service name (DNS-1035 label, at most 63 characters)`;
    else if (!isValidDnsSubdomain(externalName))
      problem = `externalName ${JSON.stringify(externalName)} is not a valid DNS name`;
    if (problem !== undefined) {
      const message = `consul service ${JSON.stringify(consulName)} skipped: ${problem}`;
      skipped.push({ consulName, reason: 'invalid-name', message });
      warnings.push(message);
      continue;
    }
    const kept = byName.get(name);
    if (kept !== undefined) {
      const message = `consul service ${consulName} skipped: ${kept} already maps to Kubernetes service ${name}`;
      skipped.push({ consulName, reason: 'duplicate', message });
      warnings.push(message);
      continue;
    }
    byName.set(name, consulName);
    services.push({
      namespace: settings.k8sWriteNamespace,
      name,
      consulName,
      externalName,
      labels: desiredLabels(),
      annotations: desiredAnnotations(),
    });
  }
  services.sort((a, b) => compareStrings(a.name, b.name));
  return { services, skipped, warnings };
}

/** The full v1 Service to create or replace. */
export function desiredServiceObject(d: DesiredK8sService): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: d.name,
      namespace: d.namespace,
      labels: { ...d.labels },
      annotations: { ...d.annotations },
    },
    spec: { type: 'ExternalName', externalName: d.externalName },
  };
}
