// Consul namespaces (Consul Enterprise, --enable-namespaces; docs/reference.md "Consul namespaces"):
// which Consul namespace a Kubernetes service registers into, and how a Consul service in a
// namespace is named on the way back to Kubernetes. Pure.
import type { ToConsulSettings } from './types.js';

/** The namespace every Consul Enterprise partition has, and where CE keeps everything. */
export const DEFAULT_CONSUL_NAMESPACE = 'default';

/** Consul Enterprise: a namespace name is a DNS hostname label (at most 63 characters). */
const NAMESPACE_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

export function isValidConsulNamespace(name: string): boolean {
  return typeof name === 'string' && NAMESPACE_NAME.test(name);
}

/**
 * The Consul namespace of a Kubernetes service in `k8sNamespace`, as consul-k8s chooses it:
 * none without --enable-namespaces; with mirroring, the prefix + the Kubernetes namespace
 * (mirroring wins over the destination); else --consul-destination-namespace.
 */
export function consulNamespaceFor(
  k8sNamespace: string,
  settings: Pick<
    ToConsulSettings,
    | 'enableNamespaces'
    | 'consulDestinationNamespace'
    | 'enableK8sNamespaceMirroring'
    | 'k8sNamespaceMirroringPrefix'
  >,
): string | undefined {
  if (settings.enableNamespaces !== true) return undefined;
  if (settings.enableK8sNamespaceMirroring === true)
    return (settings.k8sNamespaceMirroringPrefix ?? '') + k8sNamespace;
  return settings.consulDestinationNamespace || DEFAULT_CONSUL_NAMESPACE;
}

/**
 * A Consul service named across namespaces, as one string (Consul → Kubernetes with
 * --enable-namespaces): the plain name in `default`, `<namespace>/<name>` elsewhere, and
 * `default/<name>` for a default-namespace name that itself contains `/`. A namespace name never
 * contains `/`, so `splitConsulName` always recovers both parts.
 */
export function qualifyConsulName(namespace: string | undefined, name: string): string {
  const ns = namespace ?? DEFAULT_CONSUL_NAMESPACE;
  return ns === DEFAULT_CONSUL_NAMESPACE && !name.includes('/') ? name : `${ns}/${name}`;
}

/** The namespace and the service name of a `qualifyConsulName` string. */
export function splitConsulName(qualified: string): { namespace: string; name: string } {
  const slash = qualified.indexOf('/');
  if (slash < 0) return { namespace: DEFAULT_CONSUL_NAMESPACE, name: qualified };
  return { namespace: qualified.slice(0, slash), name: qualified.slice(slash + 1) };
}
