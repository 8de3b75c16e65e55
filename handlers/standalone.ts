// Each handler alone, for serverless runtimes that call a `(req, res)` function: the same
// authentication, body limits, validation and error mapping as `serve`, configured from the
// environment (SYNC_*, CONSUL_*, KUBECONFIG) on the first request.
//
//   import http from 'node:http';
//   import { admission } from 'k8s-consul-sync/dist/handlers/standalone.js';
//   http.createServer(admission).listen(8080); // POST / or /k8s/admission[/<token>]
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express } from 'express';
import { parseConfig } from '../src/config/index.js';
import { createApp, ROUTES, type RouteName } from '../src/http/app.js';
import { createAuthenticator } from '../src/http/auth.js';
import { createLogger } from '../src/telemetry/logger.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { createRuntime } from '../src/sync/runtime.js';
import { createHandlers } from './index.js';

export type StandaloneHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function standaloneHandler(
  name: RouteName,
  env: NodeJS.ProcessEnv = process.env,
): StandaloneHandler {
  const route = ROUTES.find((r) => r.name === name)!;
  let app: Express | undefined;
  const build = (): Express => {
    const config = parseConfig(['serve'], env);
    const logger = createLogger({ level: config.logLevel });
    const metrics = createMetrics();
    const runtime = createRuntime(config, { logger, metrics });
    const auth = createAuthenticator(config, logger, metrics);
    const handler = createHandlers(runtime)[name];
    return createApp({
      config,
      logger,
      metrics,
      readiness: runtime.readiness,
      auth,
      handlers: { [name]: handler },
      foreground: runtime.foreground,
    });
  };
  return (req, res) => {
    app ??= build();
    // Function runtimes often route a whole URL to the function: serve it at `/` as well.
    const url = req.url ?? '/';
    if (
      !url.toLowerCase().startsWith(route.path) &&
      !['/healthz', '/readyz', '/metrics'].some((p) => url.startsWith(p))
    ) {
      req.url = route.path + (url === '/' ? '' : url.startsWith('/?') ? url.slice(1) : url);
    }
    app(req as never, res as never);
  };
}

export const admission = standaloneHandler('admission');
export const audit = standaloneHandler('audit');
export const consulServices = standaloneHandler('consulServices');
export const consulChecks = standaloneHandler('consulChecks');
export const reconcile = standaloneHandler('reconcile');
