// `serve`: the HTTP(S) server with every handler, readiness probes and graceful shutdown.
import { locateKubeConfig, type Config } from '../config/index.js';
import { createApp } from '../http/app.js';
import { createAuthenticator, type JwtAuthenticator } from '../http/auth.js';
import { KeyLoadError } from '../auth/keys.js';
import { Readiness, startReadinessProbe } from '../telemetry/readiness.js';
import { startServer } from '../http/server.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { createMetrics, type Metrics } from '../telemetry/metrics.js';
import { createRuntime, type Runtime } from '../sync/runtime.js';
import { reconcile } from '../sync/reconcile.js';
import { createHandlers } from '../../handlers/index.js';
import { describeError } from '../errors.js';

/** Why the server must not start as configured (plain HTTP, no authentication), or undefined. */
function refusal(config: Config): string | undefined {
  const hasTls = Boolean(config.server.tlsCertFile);
  if (!hasTls && !config.server.insecureHttp) {
    return 'refusing to serve plain HTTP: give --tls-cert-file/--tls-key-file or --insecure-http';
  }
  const hasCredential =
    Boolean(config.auth.jwtSecretFile) ||
    config.auth.jwtPublicKeyFiles.length > 0 ||
    Boolean(config.server.tlsClientCaFile);
  if (!hasCredential && !config.auth.disabled) {
    return 'refusing to start without authentication: give --auth-jwt-secret-file, --auth-jwt-public-key-file or --tls-client-ca-file, or --auth-disabled for local use';
  }
  return undefined;
}

/** The authenticator, or the message of a key file that cannot be used. */
function authenticator(
  config: Config,
  logger: Logger,
  metrics: Metrics,
): JwtAuthenticator | { unusable: string } {
  try {
    return createAuthenticator(config, logger, metrics);
  } catch (err) {
    if (err instanceof KeyLoadError) return { unusable: err.message };
    throw err;
  }
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

/** Resolves with the name of the first SIGTERM or SIGINT. */
function untilSignal(logger: Logger): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ event: 'shutdown', signal }, 'shutting down: finishing in-flight requests');
      resolve(signal);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

export async function serve(config: Config): Promise<number> {
  const logger = createLogger({ level: config.logLevel });
  const refused = refusal(config);
  if (refused) {
    process.stderr.write(`k8s-consul-sync: ${refused}\n`);
    return 2;
  }
  // No Kubernetes credentials: a ConfigError (exit 2) before anything starts.
  locateKubeConfig(config.kube);
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

  const auth = authenticator(config, logger, metrics);
  if ('unusable' in auth) {
    process.stderr.write(`k8s-consul-sync: ${auth.unusable}\n`);
    return 2;
  }
  const handlers = createHandlers(runtime);
  const app = createApp({
    config,
    logger,
    metrics,
    readiness,
    auth,
    handlers,
    foreground: runtime.foreground,
  });
  const server = await startServer(app, config, { logger });
  logger.info({ event: 'listening', url: server.url }, `serving on ${server.url}`);
  process.stdout.write(`k8s-consul-sync serving on ${server.url}\n`);

  const stopReconciling =
    config.server.reconcileIntervalMs > 0 ? startPeriodicReconcile(config, runtime) : undefined;

  await untilSignal(logger);
  probe.stop();
  stopReconciling?.();
  await server.close();
  auth.close();
  runtime.close();
  logger.info({ event: 'stopped' }, 'stopped');
  logger.flush();
  return 0;
}
