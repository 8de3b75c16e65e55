// Ingress sync (docs/reference.md "Ingress"), as consul-k8s's serviceIngressResource with
// --enable-ingress: a Service named by the backend of an Ingress rule's `/` path is registered
// once, at the rule's host (or, with --loadBalancer-ips, the Ingress's first load balancer IP),
// port 443 when the host is listed in spec.tls[].hosts, else 80. Pure: no I/O.
import { isObject, nonEmptyString, safePort } from './accessors.js';
import { compareStrings } from './order.js';
import type { Ingress, IngressPath, IngressRule, ServiceRef, ToConsulSettings } from './types.js';
import { quote } from './warnings.js';

/** The rule that decides a Service's instance: where it is, and which Ingress says so. */
export interface IngressMatch {
  /** metadata.name of the Ingress. */
  ingress: string;
  /** Index of the rule in spec.rules. */
  rule: number;
  /** The registration's address: the rule's host, or the Ingress's load balancer IP. */
  address: string;
  /** 443 when the rule's host is listed in spec.tls[].hosts, else 80. */
  port: 443 | 80;
}

export const INGRESS_PORT_HTTP = 80;
export const INGRESS_PORT_HTTPS = 443;

function nameOf(ingress: Ingress): string {
  return isObject(ingress) && isObject(ingress.metadata)
    ? (nonEmptyString(ingress.metadata.name) ?? '')
    : '';
}

function rulesOf(ingress: Ingress): unknown[] {
  const rules = isObject(ingress.spec) ? ingress.spec.rules : undefined;
  return Array.isArray(rules) ? rules : [];
}

function pathsOf(rule: IngressRule): unknown[] {
  const http = isObject(rule.http) ? rule.http : undefined;
  return http && Array.isArray(http.paths) ? http.paths : [];
}

/** The Service a path's backend names, when it names one (not a `resource` backend). */
function backendServiceName(path: IngressPath): string | undefined {
  const backend = isObject(path.backend) ? path.backend : undefined;
  const service = backend && isObject(backend.service) ? backend.service : undefined;
  return service ? nonEmptyString(service.name) : undefined;
}

/** Whether a path is the root path consul-k8s looks for: `path` exactly `/`. */
function isRootPath(path: unknown): path is IngressPath {
  return isObject(path) && (path as IngressPath).path === '/';
}

/**
 * The Ingresses of the Service's namespace in decision order: by metadata.name, then as given.
 * Ingresses of another namespace (defensive) and ones being deleted are left out.
 */
function candidates(ingresses: readonly Ingress[] | undefined, ref: ServiceRef): Ingress[] {
  const list = Array.isArray(ingresses) ? ingresses : [];
  return list
    .filter((i): i is Ingress => isObject(i))
    .filter((i) => {
      const meta = isObject(i.metadata) ? i.metadata : {};
      const ns = nonEmptyString((meta as { namespace?: unknown }).namespace);
      const deleting = Boolean((meta as { deletionTimestamp?: unknown }).deletionTimestamp);
      return !deleting && (ns === undefined || ns === ref.namespace) && nameOf(i) !== '';
    })
    .map((i, index) => ({ i, index, name: nameOf(i) }))
    .sort((a, b) => compareStrings(a.name, b.name) || a.index - b.index)
    .map((x) => x.i);
}

function tlsHosts(ingress: Ingress): Set<string> {
  const tls = isObject(ingress.spec) ? ingress.spec.tls : undefined;
  const out = new Set<string>();
  if (!Array.isArray(tls)) return out;
  for (const entry of tls) {
    if (!isObject(entry) || !Array.isArray(entry.hosts)) continue;
    for (const host of entry.hosts) {
      const h = nonEmptyString(host);
      if (h !== undefined) out.add(h);
    }
  }
  return out;
}

function loadBalancerIP(ingress: Ingress): string | undefined {
  const list =
    isObject(ingress.status) && isObject(ingress.status.loadBalancer)
      ? ingress.status.loadBalancer.ingress
      : undefined;
  const first = Array.isArray(list) ? (list[0] as unknown) : undefined;
  return isObject(first) ? nonEmptyString((first as { ip?: unknown }).ip) : undefined;
}

/**
 * The Ingress rule that decides the Service's instance, or undefined when none does (the
 * Service keeps its normal instances). Ingresses by name, rules in order, paths in order: the
 * first `/` path whose backend names the Service by name and port number, in a rule with a usable
 * address, wins. A rule without `http`, a `resource` backend, a backend naming its port by name,
 * a rule without a host (no --loadBalancer-ips) or a wildcard host, and an Ingress without a load
 * balancer IP (--loadBalancer-ips) are skipped; the ones that name this Service add a warning.
 */
export function ingressRuleFor(
  ref: ServiceRef,
  ingresses: readonly Ingress[] | undefined,
  settings: Pick<ToConsulSettings, 'enableIngress' | 'loadBalancerIPs'>,
  warnings: string[],
): IngressMatch | undefined {
  if (!settings.enableIngress) return undefined;
  for (const ingress of candidates(ingresses, ref)) {
    const name = nameOf(ingress);
    const rules = rulesOf(ingress);
    for (let r = 0; r < rules.length; r++) {
      const rule = rules[r];
      if (!isObject(rule)) continue;
      const where = `Ingress ${quote(name)} rule ${r}`;
      const path = pathsOf(rule as IngressRule)
        .filter(isRootPath)
        .find((p) => backendServiceName(p) === ref.name && usablePort(p, where, warnings));
      if (!path) continue;
      const host = nonEmptyString((rule as IngressRule).host);
      let address: string | undefined;
      if (settings.loadBalancerIPs) {
        address = loadBalancerIP(ingress);
        if (address === undefined) {
          warnings.push(`${where}: the Ingress has no load balancer IP yet; rule skipped`);
          continue;
        }
      } else if (host === undefined) {
        warnings.push(
          `${where} has no host; rule skipped (--loadBalancer-ips uses the Ingress's IP)`,
        );
        continue;
      } else if (host.startsWith('*')) {
        warnings.push(`${where}: wildcard host ${quote(host)} is not an address; rule skipped`);
        continue;
      } else {
        address = host;
      }
      const port =
        host !== undefined && tlsHosts(ingress).has(host) ? INGRESS_PORT_HTTPS : INGRESS_PORT_HTTP;
      return { ingress: name, rule: r, address, port };
    }
  }
  return undefined;
}

/** A backend port given by number counts; by name it is skipped with a warning. */
function usablePort(path: IngressPath, where: string, warnings: string[]): boolean {
  const port = path.backend?.service?.port;
  if (isObject(port) && safePort(port.number) > 0) return true;
  const byName = isObject(port) ? nonEmptyString(port.name) : undefined;
  warnings.push(
    byName !== undefined
      ? `${where}: backend port ${quote(byName)} is given by name; path skipped (use port.number)`
      : `${where}: backend has no port number; path skipped`,
  );
  return false;
}

/**
 * Every Service an Ingress's `/` paths name (in rule and path order, once each): the Services an
 * event about the Ingress may change. Port form and hosts are not looked at: converging a
 * Service the rule turns out not to decide is harmless.
 */
export function ingressServiceNames(ingress: Ingress | null | undefined): string[] {
  if (!isObject(ingress)) return [];
  const out = new Set<string>();
  for (const rule of rulesOf(ingress)) {
    if (!isObject(rule)) continue;
    for (const path of pathsOf(rule)) {
      if (!isRootPath(path)) continue;
      const name = backendServiceName(path);
      if (name !== undefined) out.add(name);
    }
  }
  return [...out];
}
