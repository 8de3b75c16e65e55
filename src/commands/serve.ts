// `serve`: the HTTP(S) server with every handler, readiness probes and graceful shutdown.
import type { Config } from '../config/index.js';
import { createApp } from '../http/app.js';
import { createAuthenticator } from '../http/auth.js';
import { Readiness, startReadinessProbe } from '../http/readiness.js';
import { startServer } from '../http/server.js';
import { createLogger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';
import { createConsulHandle } from '../consul/client.js';
import { createKubeHandle, loadKubeConfig } from '../kube/client.js';

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
  const consul = createConsulHandle(config.consul);
  const kube = createKubeHandle(loadKubeConfig(config.kube));
  const probe = startReadinessProbe(readiness, {
    consul: async () => {
      await consul.client.status.leader(consul.opts(2000));
    },
    kubernetes: async () => {
      await kube.version.getCode();
    },
  });
  void probe.probeNow();

  const auth = createAuthenticator(config, logger, metrics);
  const app = createApp({ config, logger, metrics, readiness, auth, handlers: {} });
  const server = await startServer(app, config);
  logger.info({ event: 'listening', url: server.url }, `serving on ${server.url}`);
  process.stdout.write(`k8s-consul-sync serving on ${server.url}\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ event: 'shutdown', signal }, 'shutting down: finishing in-flight requests');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  probe.stop();
  await server.close();
  auth.close();
  consul.close();
  logger.info({ event: 'stopped' }, 'stopped');
  return 0;
}
