// Builds the edges and use-case dependencies from the Config: one place that does the I/O
// wiring, shared by serve, reconcile/plan, the sandbox and standalone handlers.
import type { Config } from '../config/index.js';
import { createConsulHandle } from '../consul/client.js';
import { ConsulCatalog } from '../consul/catalog.js';
import { createKubeHandle, loadKubeConfig } from '../kube/client.js';
import { KubeApi } from '../kube/api.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { Readiness } from '../http/readiness.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { describeError } from '../errors.js';
import { resolveSyncId, syncSettings, type SyncDeps } from './deps.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  consul: ConsulCatalog;
  kube: KubeApi;
  /** The use-case dependencies, once the sync id is known (resolved on first use, retried on failure). */
  deps(): Promise<SyncDeps>;
  close(): void;
}

export function createRuntime(
  config: Config,
  base: { logger: Logger; metrics: Metrics; readiness?: Readiness; kubeConfig?: KubeConfig },
): Runtime {
  const readiness = base.readiness ?? new Readiness();
  const consulHandle = createConsulHandle(config.consul);
  const consul = new ConsulCatalog(consulHandle, { nodeName: config.consulNodeName, readiness });
  const kube = new KubeApi(
    createKubeHandle(base.kubeConfig ?? loadKubeConfig(config.kube)),
    readiness,
    { nodeCacheTtlMs: config.server.nodeCacheTtlMs },
  );
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
  return {
    config,
    logger: base.logger,
    metrics: base.metrics,
    readiness,
    consul,
    kube,
    deps,
    close: () => consulHandle.close(),
  };
}
