// Consul → Kubernetes (docs/reference.md "Consul → Kubernetes"): a Consul `services` view → the ExternalName services that
// should exist in the write namespace. Pure; invalid names are skipped with a warning.
import {
  ANNOTATION_CONSUL_TAGS,
  ANNOTATION_MODE,
  ANNOTATION_SERVICE_SYNC,
  ANNOTATION_SYNCED,
  LABEL_CONSUL,
  LABEL_CONSUL_VALUE,
  TAG_SYNC_DISABLED,
} from './keys.js';
import { DEFAULT_CONSUL_NAMESPACE, splitConsulName } from './namespaces.js';
import { compareStrings } from './order.js';
import type {
  ConsulToK8sMode,
  DesiredK8sService,
  Service,
  ServicesView,
  ToK8sSettings,
} from './types.js';

/**
 * k8s-tag: registered from Kubernetes; disabled: tag k8s-sync-disabled or meta k8s-sync "false";
 * denied: not allowed by --allow-consul-service, or denied by --deny-consul-service.
 */
export type SkipReason = 'k8s-tag' | 'invalid-name' | 'duplicate' | 'disabled' | 'denied';

/** A name glob of --allow-consul-service / --deny-consul-service: `*` matches any run of characters. */
export function matchesGlob(glob: string, name: string): boolean {
  const parts = glob.split('*');
  if (parts.length === 1) return glob === name;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (name.length < first.length + last.length) return false;
  if (!name.startsWith(first) || !name.endsWith(last)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = name.indexOf(middle, at);
    if (found === -1 || found + middle.length > end) return false;
    at = found + middle.length;
  }
  return true;
}

/**
 * Allowed by the name lists: some allow glob matches and no deny glob does (deny wins). With
 * --enable-namespaces `name` is qualified (translate/namespaces.ts): a glob with `/` is matched
 * against `<namespace>/<name>` (the default namespace spelled out too), any other against the
 * service name alone, in whichever namespace.
 */
export function isConsulServiceAllowed(
  name: string,
  settings: Pick<ToK8sSettings, 'allowConsulServices' | 'denyConsulServices' | 'enableNamespaces'>,
): boolean {
  const allow = settings.allowConsulServices ?? ['*'];
  const deny = settings.denyConsulServices ?? [];
  let matches = (g: string): boolean => matchesGlob(g, name);
  if (settings.enableNamespaces === true) {
    const parts = splitConsulName(name);
    const full = `${parts.namespace}/${parts.name}`;
    matches = (g) => matchesGlob(g, g.includes('/') ? full : parts.name);
  }
  return allow.some(matches) && !deny.some(matches);
}

/**
 * The Kubernetes Service name and the Consul DNS name of a Consul service (docs/reference.md
 * "Consul namespaces"): `<prefix><name>` and `<name>.service.<domain>`; with --enable-namespaces
 * a service outside the `default` namespace is `<prefix><name>-<namespace>` and
 * `<name>.service.<namespace>.ns.<domain>`. Lower-cased (Consul DNS is case-insensitive). The
 * domain is given without a trailing dot.
 */
export function mirrorNames(
  consulName: string,
  settings: Pick<ToK8sSettings, 'k8sServicePrefix' | 'enableNamespaces'>,
  domain: string,
): { name: string; externalName: string } {
  const { namespace, name } =
    settings.enableNamespaces === true
      ? splitConsulName(consulName)
      : { namespace: DEFAULT_CONSUL_NAMESPACE, name: consulName };
  if (namespace === DEFAULT_CONSUL_NAMESPACE)
    return {
      name: (settings.k8sServicePrefix + name).toLowerCase(),
      externalName: `${name}.service.${domain}`.toLowerCase(),
    };
  return {
    name: `${settings.k8sServicePrefix}${name}-${namespace}`.toLowerCase(),
    externalName: `${name}.service.${namespace}.ns.${domain}`.toLowerCase(),
  };
}

/** The Kubernetes Service name of a Consul service (see mirrorNames). */
export function mirrorNameOf(
  consulName: string,
  settings: Pick<ToK8sSettings, 'k8sServicePrefix' | 'enableNamespaces'>,
): string {
  return mirrorNames(consulName, settings, '').name;
}

/** Tags as the translation reads them: equal arrays of equal strings, or both not arrays. */
export function sameTags(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b)) return !Array.isArray(a) && !Array.isArray(b);
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Tags as one annotation value: sorted, deduplicated, joined by commas, a comma inside a tag
 * written `\,` (and a backslash `\\`), as consul-k8s's tag annotation is read.
 */
export function formatTagsAnnotation(tags: readonly string[]): string {
  return [...new Set(tags)]
    .sort(compareStrings)
    .map((t) => t.replaceAll('\\', '\\\\').replaceAll(',', '\\,'))
    .join(',');
}

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
    /** Consul names opted out by meta k8s-sync "false" (read on reconcile and before creates). */
    optedOut?: ReadonlySet<string>;
    /** The mode chosen by meta k8s-sync-mode, per Consul name (absent: --consul-to-k8s-mode). */
    modes?: ReadonlyMap<string, ConsulToK8sMode>;
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

  // The default namespace's names first, so a name two namespaces map to is the default's.
  const inDefault = (n: string): number =>
    settings.enableNamespaces === true && splitConsulName(n).namespace !== DEFAULT_CONSUL_NAMESPACE
      ? 1
      : 0;
  const ordered = Object.keys(source).sort(
    (a, b) => inDefault(a) - inDefault(b) || compareStrings(a, b),
  );
  for (const consulName of ordered) {
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
    if (!isConsulServiceAllowed(consulName, settings)) {
      skipped.push({
        consulName,
        reason: 'denied',
        message: `consul service ${consulName} is not allowed by --allow-consul-service/--deny-consul-service`,
      });
      continue;
    }
    if (tags.includes(TAG_SYNC_DISABLED) || options.optedOut?.has(consulName)) {
      skipped.push({
        consulName,
        reason: 'disabled',
        message: `consul service ${consulName} opted out (tag ${TAG_SYNC_DISABLED} or meta k8s-sync "false")`,
      });
      continue;
    }
    const { name, externalName } = mirrorNames(consulName, settings, domain);
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
    const annotations = desiredAnnotations();
    const shown = tags.filter((t): t is string => typeof t === 'string');
    if (shown.length > 0) annotations[ANNOTATION_CONSUL_TAGS] = formatTagsAnnotation(shown);
    const chosen = options.modes?.get(consulName);
    if (chosen !== undefined) annotations[ANNOTATION_MODE] = chosen;
    const mode = chosen ?? settings.consulToK8sMode ?? 'externalname';
    services.push({
      namespace: settings.k8sWriteNamespace,
      name,
      consulName,
      externalName,
      labels: desiredLabels(),
      annotations,
      // mode absent: externalname.
      ...(mode === 'endpoints'
        ? { mode, serviceType: settings.consulToK8sServiceType ?? 'Headless' }
        : {}),
    });
  }
  services.sort((a, b) => compareStrings(a.name, b.name));
  return { services, skipped, warnings };
}

/** A ClusterIP Service with no instance port known yet gets this port (the API server needs one). */
export const PLACEHOLDER_PORT = 80;
/** The name of the one Service port and EndpointSlice port of endpoints mode. */
export const ENDPOINTS_PORT_NAME = 'default';

/** The full v1 Service to create or replace. */
export function desiredServiceObject(d: DesiredK8sService): Service {
  const metadata = {
    name: d.name,
    namespace: d.namespace,
    labels: { ...d.labels },
    annotations: { ...d.annotations },
  };
  if ((d.mode ?? 'externalname') === 'externalname')
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: { type: 'ExternalName', externalName: d.externalName },
    };
  const headless = (d.serviceType ?? 'Headless') === 'Headless';
  const ports =
    d.ports ??
    (headless
      ? []
      : [
          {
            name: ENDPOINTS_PORT_NAME,
            protocol: 'TCP',
            port: PLACEHOLDER_PORT,
            targetPort: PLACEHOLDER_PORT,
          },
        ]);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: {
      type: 'ClusterIP',
      ...(headless ? { clusterIP: 'None' } : {}),
      ...(ports.length > 0 ? { ports: ports.map((p) => ({ ...p })) } : {}),
    },
  };
}
