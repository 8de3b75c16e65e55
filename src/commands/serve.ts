// `serve`: the HTTP(S) server with every handler, readiness probes and graceful shutdown. It
// listens first and loads the clients and handlers (serve-runtime.ts) beside it: `/healthz`
// answers as soon as the port is open, `/readyz` once both backends answered, and an event that
// arrives before the handlers are loaded waits for them.
import { locateKubeConfig, type Config } from '../config/index.js';
import { ROUTES, createApp, type Handler, type RouteName } from '../http/app.js';
import { createAuthenticator, type JwtAuthenticator } from '../http/auth.js';
import { KeyLoadError } from '../auth/keys.js';
import { Readiness } from '../telemetry/readiness.js';
import { startServer } from '../http/server.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { createMetrics, type Metrics } from '../telemetry/metrics.js';
import { Foreground } from '../concurrency.js';
import type { ServeRuntime } from './serve-runtime.js';

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
  const foreground = new Foreground();
  const auth = authenticator(config, logger, metrics);
  if ('unusable' in auth) {
    process.stderr.write(`k8s-consul-sync: ${auth.unusable}\n`);
    return 2;
  }
  // Loaded beside the listen; a setting found unusable there (a kubeconfig) stops the server.
  const loading: Promise<ServeRuntime> = import('./serve-runtime.js').then((m) =>
    m.startServeRuntime(config, { logger, metrics, readiness, foreground }),
  );
  loading.catch(() => undefined);
  const handlers = Object.fromEntries(
    ROUTES.map((r): [RouteName, Handler] => [
      r.name,
      async (req, res) => (await loading).handlers[r.name](req, res),
    ]),
  ) as Record<RouteName, Handler>;
  const app = createApp({ config, logger, metrics, readiness, auth, handlers, foreground });
  const server = await startServer(app, config, { logger });
  logger.info({ event: 'listening', url: server.url }, `serving on ${server.url}`);
  process.stdout.write(`k8s-consul-sync serving on ${server.url}\n`);
  const signalled = untilSignal(logger);
  let runtime: ServeRuntime;
  try {
    runtime = await loading;
  } catch (err) {
    await server.close();
    auth.close();
    throw err;
  }

  await signalled;
  await server.close();
  auth.close();
  runtime.close();
  logger.info({ event: 'stopped' }, 'stopped');
  logger.flush();
  return 0;
}
