// Builds the edges and use-case dependencies from the Config: one place that does the I/O
// wiring, shared by serve, reconcile/plan, the sandbox and standalone handlers.
import type { Config } from '../config/index.js';
import { createConsulHandle } from '../consul/client.js';
import { ConsulCatalog } from '../consul/catalog.js';
import { createKubeHandle, loadKubeConfig } from '../kube/client.js';
import { KubeApi } from '../kube/api.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { Readiness } from '../telemetry/readiness.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { describeError } from '../errors.js';
import { resolveSyncId, syncSettings, type SyncDeps } from './deps.js';
import { ServiceEvents } from './service-events.js';
import { ViewEvents } from './view-events.js';

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
  close(): void;
}

export function createRuntime(
  config: Config,
  base: { logger: Logger; metrics: Metrics; readiness?: Readiness; kubeConfig?: KubeConfig },
): Runtime {
  const readiness = base.readiness ?? new Readiness();
  const consulHandle = createConsulHandle(config.consul);
  const consul = new ConsulCatalog(consulHandle, {
    nodeName: config.consulNodeName,
    readiness,
    concurrency: config.server.concurrency,
  });
  const kube = new KubeApi(
    createKubeHandle(base.kubeConfig ?? loadKubeConfig(config.kube)),
    readiness,
    {
      nodeCacheTtlMs: config.server.nodeCacheTtlMs,
      timeoutMs: config.server.writeTimeoutMs,
      concurrency: config.server.concurrency,
    },
  );
  const loggedConflicts = new Set<string>();
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
  const events = {
    services: new ServiceEvents(
      deps,
      {
        confirmAfterMs: server.confirmAfterMs,
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
    close: () => {
      events.services.close();
      events.view.close();
      consulHandle.close();
    },
  };
}
