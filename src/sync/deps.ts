// What every use case needs: the resolved settings, both edges, the logger and the metrics.
import type { Config } from '../config/index.js';
import type { ConsulCatalog } from '../consul/catalog.js';
import type { KubeApi } from '../kube/api.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Service, ToConsulSettings, ToK8sSettings } from '../translate/types.js';
import type { EventRecorder } from './event-recorder.js';
import type { RegistrationView } from './registration-view.js';

export interface SyncSettings extends ToConsulSettings, ToK8sSettings {
  toConsul: boolean;
  toK8s: boolean;
  dryRun: boolean;
  writeTimeoutMs: number;
  /** Requests or converges run at once against Consul or Kubernetes (`--concurrency`). */
  concurrency: number;
}

export interface SyncDeps {
  settings: SyncSettings;
  consul: ConsulCatalog;
  kube: KubeApi;
  logger: Logger;
  metrics: Metrics;
  /** Names in conflict already logged by this process (Consul → Kubernetes); absent: log each time. */
  loggedConflicts?: Set<string>;
  /**
   * What Consul holds on the sync node, per Kubernetes service (serve only,
   * src/sync/registration-view.ts): an admission plans against it instead of reading first.
   * Absent: every converge reads.
   */
  registrations?: RegistrationView;
  /** Kubernetes Events on synced Services (--emit-events); absent: none recorded. */
  eventRecorder?: EventRecorder;
  /**
   * The mirrors kept by a watch (serve only, src/kube/watch-cache.ts): a delivery plans against
   * its snapshot when it has one, else lists. Absent: always list.
   */
  mirrors?: {
    snapshot(): Service[] | undefined;
    /** Our own create or update, as answered: in the view before its watch event. */
    remember(service: Service): void;
    /** Our own delete. */
    forget(name: string): void;
    /** Mirror names changed since the last call, with the list epoch; undefined when not live. */
    takeChanged?(): { epoch: number; names: Set<string> } | undefined;
    /** While live: how many mirrors are not ExternalName (endpoints mode's slices). */
    counts?(): { notExternalName: number } | undefined;
    /**
     * While live: the named mirrors that exist, and how many owned ones (isOwnedK8sService) are
     * not among them.
     */
    pick?(names: Iterable<string>): { items: Service[]; ownedOutside: number } | undefined;
  };
}

export function syncSettings(config: Config, syncId: string): SyncSettings {
  return Object.freeze({
    syncId,
    consulNodeName: config.consulNodeName,
    consulK8sTag: config.consulK8sTag,
    consulServicePrefix: config.consulServicePrefix,
    addK8sNamespaceSuffix: config.addK8sNamespaceSuffix,
    k8sDefaultSync: config.k8sDefaultSync,
    allowK8sNamespaces: config.allowK8sNamespaces,
    denyK8sNamespaces: config.denyK8sNamespaces,
    syncClusterIPServices: config.syncClusterIPServices,
    syncLBServicesEndpoints: config.syncLBServicesEndpoints,
    enableIngress: config.enableIngress,
    loadBalancerIPs: config.loadBalancerIPs,
    enableNamespaces: config.enableNamespaces,
    consulDestinationNamespace: config.consulDestinationNamespace,
    enableK8sNamespaceMirroring: config.enableK8sNamespaceMirroring,
    k8sNamespaceMirroringPrefix: config.k8sNamespaceMirroringPrefix,
    nodePortSyncType: config.nodePortSyncType,
    portMeta: config.portMeta,
    maxInstancesPerService: config.maxInstancesPerService,
    k8sServicePrefix: config.k8sServicePrefix,
    k8sWriteNamespace: config.k8sWriteNamespace,
    consulDomain: config.consulDomain,
    consulToK8sMode: config.consulToK8sMode,
    consulToK8sServiceType: config.consulToK8sServiceType,
    allowConsulServices: config.allowConsulServices,
    denyConsulServices: config.denyConsulServices,
    toConsul: config.toConsul,
    toK8s: config.toK8s,
    dryRun: config.dryRun,
    writeTimeoutMs: config.server.writeTimeoutMs,
    concurrency: config.server.concurrency,
  });
}

/** The default sync id is the UID of kube-system: stable for the life of the cluster. */
export async function resolveSyncId(config: Config, kube: KubeApi): Promise<string> {
  if (config.syncId) return config.syncId;
  return kube.namespaceUid('kube-system');
}

export function countWrites(
  metrics: Metrics,
  target: 'consul' | 'kubernetes',
  changes: readonly { op: string }[],
  outcome: 'ok' | 'error',
): void {
  for (const c of changes) metrics.writes.inc({ target, op: c.op, outcome });
}
