// `serve`: the HTTP(S) server with every handler, readiness probes and graceful shutdown.
import type { Config } from '../config/index.js';
import { createApp } from '../http/app.js';
import { createAuthenticator } from '../http/auth.js';
import { KeyLoadError } from '../auth/keys.js';
import { Readiness, startReadinessProbe } from '../telemetry/readiness.js';
import { startServer } from '../http/server.js';
import { createLogger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';
import { createRuntime } from '../sync/runtime.js';
import { reconcile } from '../sync/reconcile.js';
import { createHandlers } from '../../handlers/index.js';
import { describeError } from '../errors.js';

export async function serve(config: Config): Promise<number> {
  const logger = createLogger({ level: config.logLevel });
  const hasTls = Boolean(config.server.tlsCertFile);
  if (!hasTls && !config.server.insecureHttp) {
    process.stderr.write(
      'k8s-consul-sync: refusing to serve plain HTTP: give --tls-cert-file/--tls-key-file or --insecure-http\n',
    );
    return 2;
  }
  const hasCredential =
    Boolean(config.auth.jwtSecretFile) ||
    config.auth.jwtPublicKeyFiles.length > 0 ||
    Boolean(config.server.tlsClientCaFile);
  if (!hasCredential && !config.auth.disabled) {
    process.stderr.write(
      'k8s-consul-sync: refusing to start without authentication: give --auth-jwt-secret-file, --auth-jwt-public-key-file or --tls-client-ca-file, or --auth-disabled for local use\n',
    );
    return 2;
  }
  if (config.auth.disabled) {
    logger.warn({ event: 'auth-disabled' }, 'authentication is disabled: every caller is trusted');
  }

  const metrics = createMetrics();
  const readiness = new Readiness();
  const runtime = createRuntime(config, { logger, metrics, readiness });
  const probe = startReadinessProbe(readiness, {
    consul: () => runtime.consul.ping(),
    kubernetes: () => runtime.kube.ping(),
  });
  void probe.probeNow();
  // Resolve the sync id early so the first event does not pay for it (retried on failure).
  runtime.deps().catch(() => undefined);

  let auth;
  try {
    auth = createAuthenticator(config, logger, metrics);
  } catch (err) {
    if (err instanceof KeyLoadError) {
      process.stderr.write(`k8s-consul-sync: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const handlers = createHandlers(runtime);
  const app = createApp({ config, logger, metrics, readiness, auth, handlers });
  const server = await startServer(app, config, { logger });
  logger.info({ event: 'listening', url: server.url }, `serving on ${server.url}`);
  process.stdout.write(`k8s-consul-sync serving on ${server.url}\n`);

  let interval: NodeJS.Timeout | undefined;
  if (config.server.reconcileIntervalMs > 0) {
    // Single-instance deployments only: with several replicas, use the CronJob instead.
    let running = false;
    interval = setInterval(() => {
      if (running) return;
      running = true;
      runtime
        .deps()
        .then((deps) =>
          reconcile(deps, {
            direction: config.reconcile.direction,
            dryRun: false,
            force: config.reconcile.force,
            maxDeleteRatio: config.reconcile.maxDeleteRatio,
            deleteGuardMin: config.reconcile.deleteGuardMin,
          }),
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
  }

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ event: 'shutdown', signal }, 'shutting down: finishing in-flight requests');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  probe.stop();
  if (interval) clearInterval(interval);
  await server.close();
  auth.close();
  runtime.close();
  logger.info({ event: 'stopped' }, 'stopped');
  logger.flush();
  return 0;
}
