// Builds the edges and use-case dependencies from the Config: one place that does the I/O
// wiring, shared by serve, reconcile/plan, the sandbox and standalone handlers.
import { hostname } from 'node:os';
import type { Config } from '../config/index.js';
import { createConsulHandle } from '../consul/client.js';
import { ConsulCatalog } from '../consul/catalog.js';
import { createKubeHandle, loadKubeConfig } from '../kube/client.js';
import { KubeApi } from '../kube/api.js';
import { KubeEvents } from '../kube/events.js';
import { ServiceWatchCache } from '../kube/watch-cache.js';
import { LABEL_CONSUL, LABEL_CONSUL_VALUE } from '../translate/keys.js';
import { isOwnedK8sService } from '../translate/ownership.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { Readiness } from '../telemetry/readiness.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { describeError } from '../errors.js';
import { resolveSyncId, syncSettings, type SyncDeps } from './deps.js';
import { ServiceEvents } from './service-events.js';
import { ViewEvents } from './view-events.js';
import { RegistrationView } from './registration-view.js';
import { EventRecorder, type EventRecorderOptions } from './event-recorder.js';
import { Foreground } from '../concurrency.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  consul: ConsulCatalog;
  kube: KubeApi;
  /** The use-case dependencies, once the sync id is known (resolved on first use, retried on failure). */
  deps(): Promise<SyncDeps>;
  /** The event paths with their ordering, confirmations and breakers (one per process). */
  events: { services: ServiceEvents; view: ViewEvents };
  /** Admission reviews in flight, which confirmations yield to (the app marks them). */
  foreground: Foreground;
  /** Kubernetes Events on synced Services; absent with --emit-events=false, --dry-run or --to-consul=false. */
  eventRecorder?: EventRecorder;
  close(): void;
}

export function createRuntime(
  config: Config,
  base: {
    logger: Logger;
    metrics: Metrics;
    readiness?: Readiness;
    kubeConfig?: KubeConfig;
    /** Aggregation and queue of Kubernetes Events (tests shorten the interval). */
    eventRecorder?: EventRecorderOptions;
    /** The app's admission marks, when the app exists before the runtime (serve listens first). */
    foreground?: Foreground;
    /**
     * Keep the mirrors in memory through a watch (serve, with --to-k8s): Consul deliveries then
     * plan without listing them. Off for reconcile, plan and the standalone handlers.
     */
    watchMirrors?: boolean;
    /**
     * Keep a view of the sync node's registrations (serve, --registration-view-interval > 0):
     * admissions plan against it instead of reading Consul first. Off for everything else.
     */
    registrationView?: boolean;
  },
): Runtime {
  const readiness = base.readiness ?? new Readiness();
  const consulHandle = createConsulHandle(config.consul);
  const consul = new ConsulCatalog(consulHandle, {
    nodeName: config.consulNodeName,
    readiness,
    concurrency: config.server.concurrency,
    onTransaction: (services) => base.metrics.transactionServices.observe(services),
    ...(config.enableNamespaces
      ? { namespaces: { crossNamespaceAclPolicy: config.consulCrossNamespaceAclPolicy } }
      : {}),
  });
  const kubeHandle = createKubeHandle(base.kubeConfig ?? loadKubeConfig(config.kube));
  const kube = new KubeApi(kubeHandle, readiness, {
    nodeCacheTtlMs: config.server.nodeCacheTtlMs,
    timeoutMs: config.server.writeTimeoutMs,
    concurrency: config.server.concurrency,
  });
  const loggedConflicts = new Set<string>();
  const mirrors =
    base.watchMirrors && config.toK8s
      ? new ServiceWatchCache(
          kubeHandle,
          {
            namespace: config.k8sWriteNamespace,
            labelSelector: `${LABEL_CONSUL}=${LABEL_CONSUL_VALUE}`,
            isOwned: (s) => isOwnedK8sService(s, { k8sWriteNamespace: config.k8sWriteNamespace }),
          },
          base.logger,
        )
      : undefined;
  mirrors?.start();
  // Namespaces (Enterprise) keep the read by name in the service's namespace: no view there.
  const registrations =
    base.registrationView &&
    config.toConsul &&
    !config.dryRun &&
    !config.enableNamespaces &&
    config.server.registrationViewIntervalMs > 0
      ? new RegistrationView(consul, base.logger, {
          intervalMs: config.server.registrationViewIntervalMs,
          timeoutMs: config.server.writeTimeoutMs,
        })
      : undefined;
  registrations?.start();
  // Events come from the Kubernetes → Consul direction only, and never from a dry run.
  const eventRecorder =
    config.emitEvents && config.toConsul && !config.dryRun
      ? new EventRecorder(
          new KubeEvents(kubeHandle.rest, {
            reportingInstance: reportingInstance(),
            timeoutMs: config.server.writeTimeoutMs,
          }),
          base.logger,
          base.metrics,
          base.eventRecorder,
        )
      : undefined;
  let resolved: Promise<SyncDeps> | undefined;
  const deps = (): Promise<SyncDeps> => {
    resolved ??= resolveSyncId(config, kube).then(
      (syncId) => {
        base.logger.info({ event: 'sync-id', syncId }, `sync id ${syncId}`);
        return {
          settings: syncSettings(config, syncId),
          consul,
          kube,
          logger: base.logger,
          metrics: base.metrics,
          loggedConflicts,
          ...(eventRecorder ? { eventRecorder } : {}),
          ...(mirrors ? { mirrors } : {}),
          ...(registrations ? { registrations } : {}),
        };
      },
      (err: unknown) => {
        resolved = undefined; // try again on the next use
        base.logger.error(
          { event: 'sync-id-failed', err: describeError(err) },
          'could not resolve the sync id',
        );
        throw err;
      },
    );
    return resolved;
  };
  const { server } = config;
  const foreground = base.foreground ?? new Foreground();
  const events = {
    services: new ServiceEvents(
      deps,
      {
        confirmAfterMs: server.confirmAfterMs,
        foreground,
        breakerFailures: server.breakerFailures,
        probeIntervalMs: server.breakerProbeIntervalMs,
        probeTimeoutMs: Math.min(server.writeTimeoutMs, 2000),
        concurrency: server.concurrency,
      },
      base.logger,
      base.metrics,
    ),
    view: new ViewEvents(
      deps,
      { breakerFailures: server.breakerFailures, probeIntervalMs: server.breakerProbeIntervalMs },
      base.logger,
      base.metrics,
    ),
  };
  return {
    config,
    logger: base.logger,
    metrics: base.metrics,
    readiness,
    consul,
    kube,
    deps,
    events,
    foreground,
    ...(eventRecorder ? { eventRecorder } : {}),
    close: () => {
      events.services.close();
      events.view.close();
      eventRecorder?.close();
      mirrors?.stop();
      void registrations?.stop();
      consulHandle.close();
    },
  };
}

/**
 * reportingInstance of the Events: the pod name (POD_NAME from the downward API, else the
 * hostname, which Kubernetes sets to the pod name), at most the 128 characters the API allows.
 */
function reportingInstance(): string {
  return (process.env.POD_NAME || hostname()).slice(0, 128);
}
