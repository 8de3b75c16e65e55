// Authentication and authorization of the event endpoints (SPEC.md §3): a verified credential
// whose scope covers the endpoint. See issue 7 for the full JWT/mTLS implementation.
import type { RequestHandler } from 'express';
import type { Config } from '../config/index.js';
import { SyncError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';

export const SCOPES = ['k8s:admission', 'k8s:audit', 'consul:watch', 'reconcile'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Authenticator {
  middleware(scope: Scope): RequestHandler;
  close(): void;
}

export function createAuthenticator(
  config: Pick<Config, 'auth'>,
  logger: Logger,
  metrics: Metrics,
): Authenticator {
  return {
    middleware: () => (req, _res, next) => {
      if (config.auth.disabled) {
        logger.warn(
          { event: 'auth-disabled', method: req.method },
          'unauthenticated request let through (--auth-disabled)',
        );
        next();
        return;
      }
      metrics.authFailures.inc({ reason: 'missing' });
      next(new SyncError('UNAUTHENTICATED', 'a valid credential is required'));
    },
    close: () => undefined,
  };
}
