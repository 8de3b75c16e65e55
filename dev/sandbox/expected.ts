// What both catalogs must hold, written from SPEC.md (§4 instances, IDs, meta, tags, weights and
// the readiness check; §5 the ExternalName services) for the seeded world and the scripted
// scenario, with the default settings. Compared line by line, so a mismatch reads as a diff.
import { createHash } from 'node:crypto';
import { compareStrings } from '../../src/translate/order.js';
import type { Catalogs, InstanceView, MirrorView } from './catalogs.js';

/** A Consul instance SPEC.md §4 says a Kubernetes service must have. */
export interface ExpectedInstance {
  /** Consul service name. */
  service: string;
  namespace: string;
  /** Kubernetes service name. */
  k8sName: string;
  address: string;
  port: number;
  /** Named ports → the port reachable at the address (meta `port-<name>`). */
  ports: Record<string, number>;
  /** NodePort and endpoint instances: the Kubernetes node (meta external-k8s-node-name). */
  k8sNode?: string;
  /** Endpoint-derived instances carry the readiness check with this status. */
  check?: 'passing' | 'critical';
}

export interface ExpectedState {
  registrations: ExpectedInstance[];
  /** Consul service names that must have an ExternalName service in the write namespace. */
  k8sServices: string[];
  /** Their consul.hashicorp.com/tags annotation, for those with Consul tags. */
  k8sServiceTags?: Record<string, string>;
}

export interface ExpectSettings {
  syncId: string;
  consulK8sTag: string;
  k8sWriteNamespace: string;
  consulDomain: string;
}

/** SPEC.md §4: `<consul name>-<first 12 hex chars of sha1("<namespace>/<k8s name>/<Address>")>`. */
export function expectedServiceId(e: ExpectedInstance): string {
  const hash = createHash('sha1').update(`${e.namespace}/${e.k8sName}/${e.address}`).digest('hex');
  return `${e.service}-${hash.slice(0, 12)}`;
}

const pairs = (m: Record<string, string>): string =>
  Object.entries(m)
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** One line per registration: every field SPEC.md §4 fixes. */
export function registrationLine(r: InstanceView): string {
  const checks = r.checks.map((c) => `${c.id}|${c.name}|${c.status}`).join(';') || 'none';
  return [
    r.id,
    `service=${r.service}`,
    `addr=${r.address}:${r.port}`,
    `tags=${r.tags.join(',')}`,
    `weights=${r.weights.Passing}/${r.weights.Warning}`,
    `check=${checks}`,
    `meta=${pairs(r.meta)}`,
  ].join(' ');
}

export function expectedRegistrationLine(e: ExpectedInstance, s: ExpectSettings): string {
  const id = expectedServiceId(e);
  const meta: Record<string, string> = {
    'external-source': 'kubernetes',
    'external-k8s-ns': e.namespace,
    'external-k8s-name': e.k8sName,
    'external-k8s-sync-id': s.syncId,
  };
  for (const [name, port] of Object.entries(e.ports)) meta[`port-${name}`] = String(port);
  if (e.k8sNode) meta['external-k8s-node-name'] = e.k8sNode;
  return registrationLine({
    id,
    service: e.service,
    address: e.address,
    port: e.port,
    tags: [s.consulK8sTag],
    meta,
    weights: { Passing: 1, Warning: 1 },
    checks: e.check
      ? [{ id: `${e.namespace}/${id}`, name: 'Kubernetes Readiness Check', status: e.check }]
      : [],
    health: e.check ?? 'passing',
  });
}

/** One line per ExternalName service we own: name, type, target, labels, annotations. */
export function mirrorLine(m: MirrorView): string {
  return [
    `${m.namespace}/${m.name}`,
    m.type,
    m.externalName,
    `labels=${pairs(m.labels)}`,
    `annotations=${pairs(m.annotations)}`,
  ].join(' ');
}

/** SPEC.md §5: the Service made from Consul service `name`. */
export function expectedMirrorLine(name: string, s: ExpectSettings, tags?: string): string {
  const lower = name.toLowerCase();
  return mirrorLine({
    namespace: s.k8sWriteNamespace,
    name: lower,
    type: 'ExternalName',
    externalName: `${lower}.service.${s.consulDomain}`,
    labels: { consul: 'true' },
    annotations: {
      'consul.hashicorp.com/synced': 'true',
      'consul.hashicorp.com/service-sync': 'false',
      // The Consul tags, as annotation (issue 16).
      ...(tags ? { 'consul.hashicorp.com/tags': tags } : {}),
    },
  });
}

/** Sorted lines of both sides, for the actual catalogs. */
export function actualLines(c: Catalogs): { consul: string[]; kubernetes: string[] } {
  return {
    consul: c.owned.registrations.map(registrationLine).sort(),
    kubernetes: c.owned.k8sServices.map(mirrorLine).sort(),
  };
}

export function expectedLines(
  e: ExpectedState,
  s: ExpectSettings,
): { consul: string[]; kubernetes: string[] } {
  return {
    consul: e.registrations.map((r) => expectedRegistrationLine(r, s)).sort(),
    kubernetes: e.k8sServices.map((n) => expectedMirrorLine(n, s, e.k8sServiceTags?.[n])).sort(),
  };
}

/** `- expected` / `+ actual` lines for what differs; empty when both catalogs match. */
export function diffCatalogs(
  actual: Catalogs,
  expected: ExpectedState,
  s: ExpectSettings,
): string[] {
  const a = actualLines(actual);
  const e = expectedLines(expected, s);
  const out: string[] = [];
  for (const side of ['consul', 'kubernetes'] as const) {
    const have = new Set(a[side]);
    const want = new Set(e[side]);
    const missing = e[side].filter((l) => !have.has(l));
    const extra = a[side].filter((l) => !want.has(l));
    if (missing.length === 0 && extra.length === 0) continue;
    out.push(side === 'consul' ? 'Consul registrations (ours):' : 'Kubernetes services (ours):');
    for (const l of missing) out.push(`  - ${l}`);
    for (const l of extra) out.push(`  + ${l}`);
  }
  return out;
}

/** The seeded world with default settings (see seed.ts for the objects). */
export const SEED_EXPECTED: ExpectedState = {
  registrations: [
    // NodePort: one instance per node with an endpoint; ExternalFirst → node-a's ExternalIP,
    // node-b has only an InternalIP; node-c runs no web pod. Port = nodePort.
    {
      service: 'web',
      namespace: 'shop',
      k8sName: 'web',
      address: '192.0.2.11',
      port: 30080,
      ports: { http: 30080 },
      k8sNode: 'node-a',
      check: 'passing',
    },
    {
      service: 'web',
      namespace: 'shop',
      k8sName: 'web',
      address: '10.0.0.12',
      port: 30080,
      ports: { http: 30080 },
      k8sNode: 'node-b',
      check: 'passing',
    },
    // LoadBalancer: the ingress IP, the service port, no check.
    {
      service: 'checkout',
      namespace: 'shop',
      k8sName: 'checkout',
      address: '198.51.100.1',
      port: 443,
      ports: { https: 443 },
    },
    // externalIPs: the external IP, the service port, no check.
    {
      service: 'search',
      namespace: 'shop',
      k8sName: 'search',
      address: '192.0.2.50',
      port: 9200,
      ports: { http: 9200 },
    },
    // Not here: shop/internal-admin (service-sync "false"), kube-system/dashboard (denied).
  ],
  // Every Consul service not tagged k8s: the server agent's own `consul` too. Not inventory.
  k8sServices: ['billing-db', 'consul', 'legacy-api'],
  // The seed's Consul tags (dev/sandbox/seed.ts), carried as annotation.
  k8sServiceTags: { 'billing-db': 'primary', 'legacy-api': 'v1' },
};
