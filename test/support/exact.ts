// "Exact" for both catalogs (docs/reference.md "Kubernetes → Consul" to "Ownership and safety"), read back from the emulators: what Consul holds
// under our sync id against the translation of the final Kubernetes objects, and what the
// write namespace holds under label consul=true against the translation of Consul's final view.
import type { World } from './world.js';
import { translateService, translateServicesView } from '../../src/translate/index.js';
import {
  LABEL_CONSUL,
  LABEL_CONSUL_VALUE,
  LABEL_SERVICE_NAME,
  META_EXTERNAL_SOURCE,
  META_EXTERNAL_SOURCE_VALUE,
  META_SYNC_ID,
} from '../../src/translate/keys.js';
import type {
  EndpointSlice,
  Node,
  Registration,
  Service,
  ServicesView,
} from '../../src/translate/types.js';

/** A registration with everything the sync decides: identity, content and check status. */
export interface RegistrationShape {
  node: string;
  id: string;
  service: string;
  address: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  weights: { passing: number; warning: number };
  check: { checkId: string; name: string; status: string } | null;
}

export interface K8sServiceShape {
  name: string;
  type: string | undefined;
  externalName: string | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface CatalogState {
  registrations: RegistrationShape[];
  k8sServices: K8sServiceShape[];
}

const byId = (a: RegistrationShape, b: RegistrationShape): number =>
  a.id < b.id ? -1 : a.id > b.id ? 1 : a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
const byName = (a: K8sServiceShape, b: K8sServiceShape): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

function shapeOf(r: Registration): RegistrationShape {
  return {
    node: r.node,
    id: r.id,
    service: r.service,
    address: r.address,
    port: r.port,
    tags: [...r.tags],
    meta: { ...r.meta },
    weights: { passing: r.weights.passing, warning: r.weights.warning },
    check: r.check
      ? { checkId: r.check.checkId, name: r.check.name, status: r.check.status }
      : null,
  };
}

/** What both catalogs should hold, from the final objects of the other side. */
export async function expectedState(w: World): Promise<CatalogState> {
  const { settings } = await w.runtime.deps();
  const [services, slices, nodes, view] = await Promise.all([
    w.core.listServiceForAllNamespaces(),
    w.discovery.listEndpointSliceForAllNamespaces(),
    w.core.listNode(),
    w.consul.catalog.service.list() as Promise<ServicesView>,
  ]);
  const slicesOf = new Map<string, EndpointSlice[]>();
  for (const s of slices.items as EndpointSlice[]) {
    const key = `${s.metadata?.namespace}/${s.metadata?.labels?.[LABEL_SERVICE_NAME]}`;
    slicesOf.set(key, [...(slicesOf.get(key) ?? []), s]);
  }
  const nodeMap = new Map<string, Node>();
  for (const n of nodes.items as Node[]) nodeMap.set(n.metadata!.name!, n);
  const registrations = (services.items as Service[])
    .flatMap(
      (service) =>
        translateService(
          {
            service,
            endpointSlices: slicesOf.get(
              `${service.metadata?.namespace}/${service.metadata?.name}`,
            ),
            nodes: nodeMap,
          },
          settings,
        ).registrations,
    )
    .map(shapeOf)
    .sort(byId);

  // docs/reference.md "Consul → Kubernetes": a Service of that name without label consul=true is never touched.
  const notOurs = new Set(
    (services.items as Service[])
      .filter(
        (s) =>
          s.metadata?.namespace === settings.k8sWriteNamespace &&
          s.metadata?.labels?.[LABEL_CONSUL] !== LABEL_CONSUL_VALUE,
      )
      .map((s) => s.metadata!.name!),
  );
  // Names with any instance without the k8s tag keep their mirror (issue 20).
  const notOnlyFromKubernetes = new Set(
    w.consulEmu
      .snapshot()
      .services.filter((s) => !(s.Tags ?? []).includes(settings.consulK8sTag))
      .map((s) => s.Service),
  );
  const k8sServices = translateServicesView(view, settings, { notOnlyFromKubernetes })
    .services.filter((d) => !notOurs.has(d.name))
    .map((d) => ({
      name: d.name,
      type: 'ExternalName',
      externalName: d.externalName,
      labels: { ...d.labels },
      annotations: { ...d.annotations },
    }))
    .sort(byName);
  return { registrations, k8sServices };
}

/** What both catalogs hold under our ownership marks (any Consul node, the write namespace). */
export async function ownedState(w: World): Promise<CatalogState> {
  const { settings } = await w.runtime.deps();
  const snap = w.consulEmu.snapshot();
  const checks = new Map(
    snap.checks.filter((c) => c.ServiceID).map((c) => [`${c.Node}/${c.ServiceID}`, c] as const),
  );
  const registrations = snap.services
    .filter(
      (s) =>
        s.Meta?.[META_EXTERNAL_SOURCE] === META_EXTERNAL_SOURCE_VALUE &&
        s.Meta?.[META_SYNC_ID] === settings.syncId,
    )
    .map((s): RegistrationShape => {
      const c = checks.get(`${s.Node}/${s.ID}`);
      return {
        node: s.Node,
        id: s.ID,
        service: s.Service,
        address: s.Address,
        port: s.Port,
        tags: s.Tags ?? [],
        meta: s.Meta ?? {},
        weights: { passing: s.Weights.Passing, warning: s.Weights.Warning },
        check: c ? { checkId: c.CheckID, name: c.Name, status: c.Status } : null,
      };
    })
    .sort(byId);
  const list = await w.core.listNamespacedService({
    namespace: settings.k8sWriteNamespace,
    labelSelector: `${LABEL_CONSUL}=${LABEL_CONSUL_VALUE}`,
  });
  const k8sServices = (list.items as Service[])
    .map((s) => ({
      name: s.metadata!.name!,
      type: s.spec?.type,
      externalName: s.spec?.externalName,
      labels: s.metadata?.labels ?? {},
      annotations: s.metadata?.annotations ?? {},
    }))
    .sort(byName);
  return { registrations, k8sServices };
}

/** Full records (services and their checks) of the given IDs on a node, to prove them untouched. */
export function recordsOf(w: World, node: string, ids: readonly string[]): unknown {
  const snap = w.consulEmu.snapshot();
  return {
    services: snap.services.filter((s) => s.Node === node && ids.includes(s.ID)),
    checks: snap.checks.filter((c) => c.Node === node && ids.includes(c.ServiceID)),
  };
}
