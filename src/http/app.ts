// The express app factory: health, readiness, metrics, the authenticated event endpoints, and
// the error mapping. Handlers are passed in, so the same app serves tests, the sandbox and prod.
import express, { type Express, type Request, type RequestHandler } from 'express';
import type { Config } from '../config/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Readiness } from '../telemetry/readiness.js';
import { errorMiddleware, methodNotAllowed, notFound } from './errors.js';
import { jsonBody, jsonBytes, refuseOversized, requireJson } from './json-body.js';
import type { Authenticator } from './auth.js';
import { ROUTES, redactPath, type RouteName } from './routes.js';
import type { Foreground } from '../concurrency.js';

export { ROUTES, redactPath, type RouteDef, type RouteName } from './routes.js';

/** A handler as exported from handlers/: decode → use case → answer. */
export type Handler = (req: Request, res: express.Response) => Promise<void>;

export interface AppDeps {
  config: Pick<Config, 'server'>;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  auth: Authenticator;
  handlers: Partial<Record<RouteName, Handler>>;
  /** Authenticated admission reviews are marked here until answered (confirmations yield to them). */
  foreground?: Foreground;
}

function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
      // Probes, and event requests that succeeded (their handler logs the event itself), are
      // debug lines: one info line per event keeps the hot path cheap.
      const quiet =
        req.path === '/healthz' ||
        req.path === '/readyz' ||
        req.path === '/metrics' ||
        (res.statusCode < 400 && ROUTES.some((r) => req.path.startsWith(r.path)));
      const line = {
        event: 'http-request',
        method: req.method,
        path: redactPath(req.originalUrl.split('?')[0] ?? ''),
        status: res.statusCode,
        durationMs: Math.round(durationMs * 1000) / 1000,
      };
      if (quiet) logger.debug(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  };
}

/**
 * Marks the request as foreground work until its response is finished or the socket closes;
 * after authentication, so that only a verified caller can make background work wait.
 */
function inForeground(foreground: Foreground): RequestHandler {
  return (_req, res, next) => {
    res.once('close', foreground.enter());
    next();
  };
}

/** Adapts an async handler so a rejection reaches the error middleware. */
function wrap(handler: Handler): RequestHandler {
  return (req, res, next) => {
    handler(req, res).catch(next);
  };
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  app.use(requestLogger(deps.logger));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const state = deps.readiness.state();
    res.status(state.ready ? 200 : 503).json(state);
  });
  app.get('/metrics', (_req, res, next) => {
    deps.metrics.registry
      .metrics()
      .then((text) => {
        res.setHeader('Content-Type', deps.metrics.registry.contentType);
        res.send(text);
      })
      .catch(next);
  });
  for (const path of ['/healthz', '/readyz', '/metrics']) app.all(path, methodNotAllowed('GET'));

  const body = jsonBody(deps.config.server.maxBodyBytes);
  const bytes = jsonBytes(deps.config.server.maxBodyBytes);
  const oversized = refuseOversized(deps.config.server.maxBodyBytes);
  for (const route of ROUTES) {
    const handler = deps.handlers[route.name];
    const paths = [route.path, `${route.path}/*token`];
    if (!handler) continue; // a handler not given (a standalone function): the path is 404
    const marks =
      route.name === 'admission' && deps.foreground ? [inForeground(deps.foreground)] : [];
    app.post(
      paths,
      oversized,
      deps.auth.middleware(route.scope),
      ...marks,
      requireJson,
      route.rawBody ? bytes : body,
      wrap(handler),
    );
    app.all(paths, methodNotAllowed('POST'));
  }

  app.use(notFound);
  app.use(errorMiddleware(deps.logger));
  return app;
}
