// Both catalogs as the sandbox shows them: every Kubernetes service with the Consul instances
// this installation registered for it, and every Consul service (not ours) with the ExternalName
// service it became. `buildCatalogs` is pure; `readCatalogs` reads the two emulators.
import type { CatalogSnapshot } from '../emulators/consul/index.js';
import {
  compareStrings,
  isCreatedByUs,
  isEligible,
  isInWriteNamespace,
  isOwnedK8sService,
  isOwnedRegistration,
} from '../../src/translate/index.js';
import { META_K8S_NAME, META_K8S_NAMESPACE, META_K8S_NODE_NAME } from '../../src/translate/keys.js';
import type { Service, ToConsulSettings, ToK8sSettings } from '../../src/translate/types.js';

export type CatalogSettings = ToConsulSettings & ToK8sSettings;

export interface CheckView {
  id: string;
  name: string;
  status: string;
}

/** One Consul instance this installation owns. */
export interface InstanceView {
  id: string;
  service: string;
  address: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  weights: { Passing: number; Warning: number };
  /** The instance's own checks (the readiness check), sorted by id. */
  checks: CheckView[];
  /** Consul's aggregate health: the worst of the instance's and its node's checks; none = passing. */
  health: string;
  /** Kubernetes node of a NodePort or endpoint instance (meta external-k8s-node-name). */
  k8sNode?: string;
}

/** Left side: a Kubernetes service and what it became in Consul. */
export interface K8sServiceView {
  namespace: string;
  name: string;
  /** ClusterIP, NodePort, LoadBalancer, ExternalName; `(deleted)` for instances of a gone service. */
  type: string;
  externalIPs: string[];
  instances: InstanceView[];
  /** Why there is no instance (not synced, no address yet). */
  note?: string;
}

/** An ExternalName service this installation owns (label consul=true in the write namespace). */
export interface MirrorView {
  namespace: string;
  name: string;
  type: string;
  externalName: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Right side: a Consul service registered by someone else, and its Kubernetes service. */
export interface ConsulServiceView {
  name: string;
  tags: string[];
  /** Instances not registered by this installation. */
  instances: number;
  /** Where the instances are: `address:port` of each, sorted. */
  addresses: string[];
  mirror?: MirrorView;
  note?: string;
}

export interface Catalogs {
  toConsul: K8sServiceView[];
  toK8s: ConsulServiceView[];
  /** What this installation owns on each side, for exact comparisons. */
  owned: { registrations: InstanceView[]; k8sServices: MirrorView[] };
}

const HEALTH_ORDER = ['passing', 'warning', 'critical', 'maintenance'];

function worst(statuses: string[]): string {
  let rank = 0;
  for (const s of statuses) rank = Math.max(rank, HEALTH_ORDER.indexOf(s));
  return HEALTH_ORDER[rank] ?? 'passing';
}

/** A Kubernetes name for a Consul service, as SPEC.md §5 makes it. */
function mirrorName(consulName: string, settings: CatalogSettings): string {
  return `${settings.k8sServicePrefix}${consulName}`.toLowerCase();
}

function noInstanceNote(service: Service, settings: CatalogSettings): string {
  const eligibility = isEligible(service, settings);
  if (!eligibility.eligible) return `not synced: ${eligibility.reason ?? 'not eligible'}`;
  if ((service.spec?.externalIPs ?? []).length > 0) return 'no instance yet';
  switch (service.spec?.type) {
    case 'LoadBalancer':
      return settings.syncLBServicesEndpoints
        ? 'no endpoints yet'
        : 'waiting for a load balancer ingress address';
    case 'NodePort':
      return 'no endpoints on any node yet';
    default:
      return 'no endpoints yet';
  }
}

export function buildCatalogs(
  input: { services: readonly Service[]; consul: CatalogSnapshot },
  settings: CatalogSettings & { syncId: string },
): Catalogs {
  const { consul } = input;
  const nodeHealth = new Map<string, string[]>();
  const serviceChecks = new Map<string, CheckView[]>();
  for (const c of consul.checks) {
    if (c.ServiceID) {
      const key = `${c.Node}\u0000${c.ServiceID}`;
      const list = serviceChecks.get(key) ?? [];
      list.push({ id: c.CheckID, name: c.Name, status: c.Status });
      serviceChecks.set(key, list);
    } else {
      nodeHealth.set(c.Node, [...(nodeHealth.get(c.Node) ?? []), c.Status]);
    }
  }

  const registrations: InstanceView[] = [];
  const others = new Map<string, { tags: Set<string>; addresses: string[] }>();
  for (const s of consul.services) {
    // Ours as the product decides it, on the sync node: the only node the product reads.
    if (
      s.Node === settings.consulNodeName &&
      isOwnedRegistration({ meta: s.Meta }, settings.syncId)
    ) {
      const checks = (serviceChecks.get(`${s.Node}\u0000${s.ID}`) ?? []).sort((a, b) =>
        compareStrings(a.id, b.id),
      );
      const meta = { ...(s.Meta ?? {}) };
      registrations.push({
        id: s.ID,
        service: s.Service,
        address: s.Address,
        port: s.Port,
        tags: [...(s.Tags ?? [])],
        meta,
        weights: { Passing: s.Weights.Passing, Warning: s.Weights.Warning },
        checks,
        health: worst([...checks.map((c) => c.status), ...(nodeHealth.get(s.Node) ?? [])]),
        ...(meta[META_K8S_NODE_NAME] ? { k8sNode: meta[META_K8S_NODE_NAME] } : {}),
      });
      continue;
    }
    const entry = others.get(s.Service) ?? { tags: new Set<string>(), addresses: [] };
    for (const t of s.Tags ?? []) entry.tags.add(t);
    const node = consul.nodes.find((n) => n.Node === s.Node);
    entry.addresses.push(`${s.Address || node?.Address || '?'}:${s.Port}`);
    others.set(s.Service, entry);
  }
  registrations.sort((a, b) => compareStrings(a.id, b.id));

  const byRef = new Map<string, InstanceView[]>();
  for (const r of registrations) {
    const ref = `${r.meta[META_K8S_NAMESPACE] ?? '?'}/${r.meta[META_K8S_NAME] ?? '?'}`;
    byRef.set(ref, [...(byRef.get(ref) ?? []), r]);
  }

  const toConsul: K8sServiceView[] = [];
  const mirrors: MirrorView[] = [];
  for (const svc of input.services) {
    const namespace = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    const labels = svc.metadata?.labels ?? {};
    if (isOwnedK8sService(svc, settings)) {
      mirrors.push({
        namespace,
        name,
        type: svc.spec?.type ?? 'ClusterIP',
        externalName: svc.spec?.externalName ?? '',
        labels: { ...labels },
        annotations: { ...(svc.metadata?.annotations ?? {}) },
      });
    }
    if (isCreatedByUs(svc)) continue;
    const ref = `${namespace}/${name}`;
    const instances = byRef.get(ref) ?? [];
    byRef.delete(ref);
    toConsul.push({
      namespace,
      name,
      type: svc.spec?.type ?? 'ClusterIP',
      externalIPs: [...(svc.spec?.externalIPs ?? [])],
      instances,
      ...(instances.length === 0 ? { note: noInstanceNote(svc, settings) } : {}),
    });
  }
  // Registrations whose Kubernetes service is gone (a deregistration on its way, or a miss).
  for (const [ref, instances] of byRef) {
    const [namespace = '', name = ''] = ref.split('/');
    toConsul.push({
      namespace,
      name,
      type: '(deleted)',
      externalIPs: [],
      instances,
      note: 'service no longer in Kubernetes',
    });
  }
  toConsul.sort((a, b) => compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  mirrors.sort((a, b) => compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));

  const toK8s: ConsulServiceView[] = [];
  const claimed = new Set<string>();
  const existing = new Map(
    input.services
      .filter((s) => isInWriteNamespace(s, settings))
      .map((s) => [s.metadata?.name ?? '', s] as const),
  );
  for (const [name, entry] of [...others].sort((a, b) => compareStrings(a[0], b[0]))) {
    const tags = [...entry.tags].sort(compareStrings);
    const view: ConsulServiceView = {
      name,
      tags,
      instances: entry.addresses.length,
      addresses: entry.addresses.sort(compareStrings),
    };
    const k8sName = mirrorName(name, settings);
    const mirror = mirrors.find((m) => m.name === k8sName);
    const present = existing.get(k8sName);
    if (entry.tags.has(settings.consulK8sTag)) {
      view.note = `tagged ${settings.consulK8sTag}: never synced to Kubernetes`;
    } else if (mirror) {
      view.mirror = mirror;
      claimed.add(mirror.name);
    } else if (present) {
      view.note = `${settings.k8sWriteNamespace}/${k8sName} exists and is not ours: left alone`;
    } else {
      view.note = 'not in Kubernetes yet';
    }
    toK8s.push(view);
  }
  for (const m of mirrors) {
    if (claimed.has(m.name)) continue;
    toK8s.push({
      name: m.name,
      tags: [],
      instances: 0,
      addresses: [],
      mirror: m,
      note: 'no longer in Consul',
    });
  }
  return { toConsul, toK8s, owned: { registrations, k8sServices: mirrors } };
}

/** Reads all services through the Kubernetes API (one list) and the Consul emulator's catalog. */
export async function readCatalogs(
  source: { kubeUrl: string; consulSnapshot: () => CatalogSnapshot },
  settings: CatalogSettings & { syncId: string },
): Promise<Catalogs> {
  const res = await fetch(`${source.kubeUrl}/api/v1/services`, {
    headers: { accept: 'application/json' },
  });
  if (!res.ok) throw new Error(`listing services: HTTP ${res.status}`);
  const list = (await res.json()) as { items?: Service[] };
  return buildCatalogs({ services: list.items ?? [], consul: source.consulSnapshot() }, settings);
}
