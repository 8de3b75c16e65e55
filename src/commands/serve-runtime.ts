// What `serve` loads after it listens: the Consul and Kubernetes clients, the use cases and the
// handlers (most of the process's start-up cost: @kubernetes/client-node alone is most of it),
// with the readiness probes and the periodic reconcile. Loaded by a dynamic import, so that
// `/healthz` answers while this loads.
import type { Config } from '../config/index.js';
import type { Foreground } from '../concurrency.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { startReadinessProbe, type Readiness } from '../telemetry/readiness.js';
import { createRuntime, type Runtime } from '../sync/runtime.js';
import { reconcile } from '../sync/reconcile.js';
import { createHandlers } from '../../handlers/index.js';
import type { Handler, RouteName } from '../http/app.js';
import { describeError } from '../errors.js';

export interface ServeRuntime {
  handlers: Record<RouteName, Handler>;
  close(): void;
}

/**
 * `--reconcile-interval`: a reconcile every interval, skipped while the previous one runs
 * (single-instance deployments only: with several replicas, use the CronJob instead). Returns
 * the stop function.
 */
function startPeriodicReconcile(config: Config, runtime: Runtime): () => void {
  const { logger, metrics } = runtime;
  let running = false;
  const interval = setInterval(() => {
    if (running) return;
    running = true;
    runtime
      .deps()
      .then(
        (deps) =>
          reconcile(deps, {
            direction: config.reconcile.direction,
            dryRun: false,
            force: config.reconcile.force,
            maxDeleteRatio: config.reconcile.maxDeleteRatio,
            deleteGuardMin: config.reconcile.deleteGuardMin,
          }),
        (err: unknown) => {
          // No sync id, no run: counted here, as reconcile() counts every run it starts.
          metrics.events.inc({ source: 'reconcile', outcome: 'error' });
          throw err;
        },
      )
      .catch((err: unknown) =>
        logger.error(
          { event: 'reconcile-failed', err: describeError(err) },
          'periodic reconcile failed',
        ),
      )
      .finally(() => {
        running = false;
      });
  }, config.server.reconcileIntervalMs);
  interval.unref();
  return () => clearInterval(interval);
}

export function startServeRuntime(
  config: Config,
  base: { logger: Logger; metrics: Metrics; readiness: Readiness; foreground: Foreground },
): ServeRuntime {
  const runtime = createRuntime(config, { ...base, watchMirrors: true, registrationView: true });
  const probe = startReadinessProbe(base.readiness, {
    consul: () => runtime.consul.ping(),
    kubernetes: () => runtime.kube.ping(),
  });
  void probe.probeNow();
  // Resolve the sync id early so the first event does not pay for it (retried on failure).
  runtime.deps().catch(() => undefined);
  const stopReconciling =
    config.server.reconcileIntervalMs > 0 ? startPeriodicReconcile(config, runtime) : undefined;
  return {
    handlers: createHandlers(runtime),
    close: () => {
      probe.stop();
      stopReconciling?.();
      runtime.close();
    },
  };
}
