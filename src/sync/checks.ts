// Consul → Kubernetes, endpoints mode, health-driven (docs/reference.md "Checks watch"): a
// `checks` watch delivery (`/v1/health/state/any`) converges the EndpointSlices of the services
// whose checks changed since their slices were written. Stateless: each of our slices carries the
// digest of the checks it was made from; a service whose digest in the delivery differs is read
// (`/v1/health/service/:name`) and converged, the others cost nothing.
import {
  ANNOTATION_CHECKS_DIGEST,
  ANNOTATION_CONSUL_META_PREFIX,
  ANNOTATION_CONSUL_SERVICE,
} from '../translate/keys.js';
import {
  DEFAULT_CONSUL_NAMESPACE,
  EMPTY_DIGEST,
  digestsOfDelivery,
  isOwnedK8sService,
  splitConsulName,
} from '../translate/index.js';
import { diffK8sService, isOwnedSlice, sliceService } from '../plan/index.js';
import type { CheckState, DesiredK8sService, EndpointSlice } from '../translate/types.js';
import { createLimiter } from '../concurrency.js';
import type { SyncDeps } from './deps.js';
import {
  applyServicesView,
  emptySummary,
  ownedOrListed,
  planInstances,
  type ViewConvergeResult,
  type ViewPlan,
} from './to-k8s.js';
import { appendAll } from '../translate/arrays.js';

export interface ChecksConvergeResult extends ViewConvergeResult {
  /** Services whose slices were compared. */
  services: number;
  /** Services whose checks changed: read and converged. */
  changed: string[];
}

/**
 * Compares the delivery with our stored slices and converges the services that changed: their
 * slices, and their Service's ports and meta annotations. Instances on the sync node and checks
 * of k8s-tagged instances are ignored (they came from Kubernetes), as on the services path.
 */
export async function convergeChecks(
  deps: SyncDeps,
  checks: readonly CheckState[],
  options: { dryRun?: boolean } = {},
): Promise<ChecksConvergeResult> {
  const { settings } = deps;
  const ns = settings.k8sWriteNamespace;
  const digests = digestsOfDelivery(checks, settings);
  const [slices, services] = await Promise.all([
    deps.kube.listOwnedEndpointSlices(ns, { cached: true }),
    ownedOrListed(deps, { cached: true }),
  ]);
  const owned = new Map(
    services
      .filter((s) => isOwnedK8sService(s, settings) && s.spec?.type !== 'ExternalName')
      .map((s) => [s.metadata?.name ?? '', s] as const),
  );
  const byService = new Map<string, EndpointSlice[]>();
  for (const slice of slices) {
    const name = sliceService(slice);
    if (!isOwnedSlice(slice) || !name || !owned.has(name)) continue;
    byService.set(name, [...(byService.get(name) ?? []), slice]);
  }
  // With namespaces a delivery speaks for the namespaces its checks are in (a watch reads one).
  const spoken = new Set(checks.map((c) => c.namespace ?? DEFAULT_CONSUL_NAMESPACE));
  const work: { name: string; consulName: string; held: EndpointSlice[] }[] = [];
  for (const [name, held] of byService) {
    const consulName = held[0]?.metadata?.annotations?.[ANNOTATION_CONSUL_SERVICE];
    if (!consulName) continue;
    if (settings.enableNamespaces === true && !spoken.has(splitConsulName(consulName).namespace))
      continue;
    const now = digests.get(consulName) ?? EMPTY_DIGEST;
    if (held.some((s) => s.metadata?.annotations?.[ANNOTATION_CHECKS_DIGEST] !== now))
      work.push({ name, consulName, held });
  }
  const summary = emptySummary();
  const plan: ViewPlan = {
    summary,
    changes: [],
    warnings: [],
    emptyView: false,
    filtered: false,
    withheldDeletes: 0,
    owned: owned.size,
    conflicts: [],
  };
  const limit = createLimiter(settings.concurrency);
  await Promise.all(
    work.map((w) =>
      limit(async () => {
        const current = owned.get(w.name)!;
        const annotations = { ...(current.metadata?.annotations ?? {}) };
        const desired: DesiredK8sService = {
          namespace: ns,
          name: w.name,
          consulName: w.consulName,
          externalName: '',
          labels: { ...(current.metadata?.labels ?? {}) },
          // The Service's Consul-made annotations other than meta stay as the services path set them.
          annotations: Object.fromEntries(
            Object.entries(annotations).filter(
              ([k]) => !k.startsWith(ANNOTATION_CONSUL_META_PREFIX),
            ),
          ),
          mode: 'endpoints',
          serviceType: current.spec?.clusterIP === 'None' ? 'Headless' : 'ClusterIP',
        };
        const planned = await planInstances(
          deps,
          desired,
          current,
          w.held,
          settings.writeTimeoutMs,
        );
        appendAll(plan.warnings, planned.warnings);
        appendAll(plan.changes, planned.changes);
        summary.unchanged += planned.unchanged;
        appendAll(plan.conflicts, planned.conflicts);
        // The Service itself: its ports and meta annotations follow the instances.
        const parts = diffK8sService(current, planned.service);
        if (parts.length > 0)
          plan.changes.push({
            target: 'kubernetes',
            op: 'update',
            namespace: ns,
            name: w.name,
            desired: planned.service,
            current,
            reason: `${parts.join(', ')}: consul service ${w.consulName} changed`,
          });
      }),
    ),
  );
  const result = await applyServicesView(deps, plan, options);
  return { ...result, services: byService.size, changed: work.map((w) => w.name).sort() };
}
