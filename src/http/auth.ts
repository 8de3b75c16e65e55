// Authentication and authorization of the event endpoints (docs/reference.md "Flags and environment", "HTTP API"): a verified client
// certificate, or a JWT from `Authorization: Bearer` or the trailing path segments (a raw JWT, or
// the base32 path token an admission webhook's service path can carry), whose scope covers the
// endpoint. Failures answer 401/403 with no detail; the reason goes to the log line
// and k8s_consul_sync_auth_failures_total{reason}. Tokens and key material are never logged.
import { TLSSocket } from 'node:tls';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Config } from '../config/index.js';
import { SyncError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { KeyStore } from '../auth/key-store.js';
import { decodePathToken, isRawJwtSegment } from '../auth/path-token.js';
import { SCOPES, type Scope } from '../auth/scopes.js';
import { verifyJwt, type AuthFailureReason, type VerifyResult } from '../auth/verify.js';
import { redactPath } from './routes.js';

export { SCOPES, type Scope } from '../auth/scopes.js';
export type { AuthFailureReason } from '../auth/verify.js';

export interface Authenticator {
  middleware(scope: Scope): RequestHandler;
  close(): void;
}

export type AuthVia = 'jwt-header' | 'jwt-path' | 'client-cert' | 'disabled';

/** Who called, set as `res.locals.principal` once a request is authenticated. */
export interface Principal {
  subject: string;
  scopes: readonly Scope[];
  via: AuthVia;
}

/** What the authenticator reads: `auth`, and `server.tlsClientCaFile` to trust client certs. */
export type AuthConfig = Pick<Config, 'auth'> & {
  readonly server?: { readonly tlsClientCaFile?: string };
};

export interface AuthenticatorOptions {
  /** Minimum time between two checks of the key files for changes (default 1 s). */
  keyCheckIntervalMs?: number;
  /** Clock in milliseconds, for key-file checks and token times (default Date.now). */
  now?: () => number;
}

export interface JwtAuthenticator extends Authenticator {
  /** Verifies a bare token as the middleware would, without scope check. */
  verify(token: string): VerifyResult;
}

const UNAUTHENTICATED_MESSAGE = 'a valid credential is required';
const FORBIDDEN_MESSAGE = 'the credential does not grant access to this endpoint';
const REALM = 'Bearer realm="k8s-consul-sync"';
/** With --auth-disabled, requests let through are logged at warn at most this often. */
export const DISABLED_WARN_EVERY_MS = 60_000;

type Credential =
  | { kind: 'none' }
  | { kind: 'malformed'; via: 'jwt-header' | 'jwt-path' }
  | { kind: 'jwt'; token: string; via: 'jwt-header' | 'jwt-path' };

/**
 * The segments after the route path (`/*token`: an array in Express 5), without the empty one a
 * trailing slash leaves; the API server's own path check allows one trailing slash.
 */
function pathSegments(req: Request): string[] {
  const raw: unknown = (req.params as Record<string, unknown>).token;
  const segments = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? [raw] : [];
  if (segments.length > 0 && segments[segments.length - 1] === '') segments.pop();
  return segments;
}

/**
 * The token from `Authorization: Bearer <jwt>` (scheme case-insensitive, RFC 6750), else from
 * the path: one JWT-shaped segment is the JWT itself (`clientConfig.url` takes any path), any
 * other trailing segments must be a path token (`clientConfig.service.path`; src/auth/path-token).
 */
function findCredential(req: Request): Credential {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer +([^\s]+) *$/i.exec(header);
    return match
      ? { kind: 'jwt', token: match[1]!, via: 'jwt-header' }
      : { kind: 'malformed', via: 'jwt-header' };
  }
  const segments = pathSegments(req);
  if (segments.length === 0) return { kind: 'none' };
  if (segments.length === 1 && isRawJwtSegment(segments[0]!)) {
    return { kind: 'jwt', token: segments[0]!, via: 'jwt-path' };
  }
  const token = decodePathToken(segments);
  return token === undefined
    ? { kind: 'malformed', via: 'jwt-path' }
    : { kind: 'jwt', token, via: 'jwt-path' };
}

interface ClientCertCheck {
  /** The socket's certificate chain verified against --tls-client-ca-file. */
  authorized: boolean;
  /** A certificate was presented (verified or not). */
  presented: boolean;
  subject: string;
}

function clientCertificate(req: Request): ClientCertCheck {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket)) return { authorized: false, presented: false, subject: '' };
  const cert = socket.getPeerCertificate();
  const presented = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
  const cn: unknown = presented ? cert.subject?.CN : undefined;
  const subject = typeof cn === 'string' ? cn : Array.isArray(cn) ? String(cn[0]) : '';
  return { authorized: presented && socket.authorized, presented, subject };
}

/** What every log line about one request carries (never the token). */
interface RequestFacts {
  method: string;
  path: string;
  scope: Scope;
  remote: string | undefined;
}

function requestFacts(req: Request, scope: Scope): RequestFacts {
  return {
    method: req.method,
    path: redactPath(req.path),
    scope,
    remote: req.socket.remoteAddress,
  };
}

/** The outcome of checking one request's credential against the endpoint's scope. */
type Verdict =
  | { ok: true; principal: Principal }
  | { ok: false; reason: AuthFailureReason; via: AuthVia | undefined; subject?: string };

/**
 * The verdict on a request that carries no trusted client certificate: its JWT (header or path)
 * verified, then its scope checked.
 */
function verdictOnToken(
  req: Request,
  scope: Scope,
  certPresented: boolean,
  verify: (token: string) => VerifyResult,
): Verdict {
  const credential = findCredential(req);
  if (credential.kind === 'malformed')
    return { ok: false, reason: 'malformed', via: credential.via };
  if (credential.kind === 'none') {
    // An untrusted certificate is not a credential; say so in the reason.
    return certPresented
      ? { ok: false, reason: 'untrusted-client-cert', via: 'client-cert' }
      : { ok: false, reason: 'missing', via: undefined };
  }
  const result = verify(credential.token);
  if (!result.ok) return { ok: false, reason: result.reason, via: credential.via };
  if (!result.scopes.includes(scope))
    return { ok: false, reason: 'wrong-scope', via: credential.via, subject: result.subject };
  return {
    ok: true,
    principal: { subject: result.subject, scopes: result.scopes, via: credential.via },
  };
}

/** A refused request: counted, logged with the reason, answered 401 or 403 without it. */
function refuse(
  logger: Logger,
  metrics: Metrics,
  facts: RequestFacts,
  verdict: Extract<Verdict, { ok: false }>,
  res: Response,
  next: NextFunction,
): void {
  const { reason, via, subject } = verdict;
  metrics.authFailures.inc({ reason });
  logger.warn(
    { event: 'auth-failure', reason, via, subject, ...facts },
    reason === 'wrong-scope'
      ? 'request refused: scope not granted'
      : 'request refused: not authenticated',
  );
  if (reason === 'wrong-scope') {
    res.setHeader(
      'WWW-Authenticate',
      `${REALM}, error="insufficient_scope", scope="${facts.scope}"`,
    );
    next(new SyncError('FORBIDDEN', FORBIDDEN_MESSAGE));
  } else {
    res.setHeader(
      'WWW-Authenticate',
      reason === 'missing' ? REALM : `${REALM}, error="invalid_token"`,
    );
    next(new SyncError('UNAUTHENTICATED', UNAUTHENTICATED_MESSAGE));
  }
}

/** An authenticated request: the principal set as `res.locals.principal`, then on. */
function admit(
  logger: Logger,
  facts: RequestFacts,
  principal: Principal,
  res: Response,
  next: NextFunction,
): void {
  res.locals.principal = principal;
  logger.debug(
    { event: 'auth-ok', via: principal.via, subject: principal.subject, ...facts },
    'authenticated',
  );
  next();
}

export function createAuthenticator(
  config: AuthConfig,
  logger: Logger,
  metrics: Metrics,
  options: AuthenticatorOptions = {},
): JwtAuthenticator {
  const now = options.now ?? Date.now;
  const trustClientCerts = Boolean(config.server?.tlsClientCaFile);
  // Keys are not needed (nor read) when everything is let through.
  const store = config.auth.disabled
    ? undefined
    : new KeyStore(
        { secretFile: config.auth.jwtSecretFile, publicKeyFiles: config.auth.jwtPublicKeyFiles },
        { logger, checkIntervalMs: options.keyCheckIntervalMs, now },
      );

  const verify = (token: string): VerifyResult =>
    verifyJwt(token, store ? store.current() : { hmac: [], publicKeys: [] }, {
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      nowSeconds: Math.floor(now() / 1000),
    });

  // --auth-disabled: the first request let through is a warning, then at most one a minute with
  // how many were let through since (a line per request cost 6 % of serve's CPU per review).
  let letThrough = 0;
  let lastWarnAt = -Infinity;
  const middleware = (scope: Scope): RequestHandler => {
    return (req, res, next) => {
      if (config.auth.disabled) {
        letThrough++;
        if (now() - lastWarnAt >= DISABLED_WARN_EVERY_MS) {
          logger.warn(
            { event: 'auth-disabled', ...requestFacts(req, scope), letThrough },
            'unauthenticated requests let through (--auth-disabled)',
          );
          lastWarnAt = now();
          letThrough = 0;
        }
        res.locals.principal = {
          subject: 'anonymous',
          scopes: [...SCOPES],
          via: 'disabled',
        } satisfies Principal;
        next();
        return;
      }
      const facts = requestFacts(req, scope);
      // A client certificate verified against --tls-client-ca-file grants every scope: that CA
      // is expected to issue certificates for this service's callers only.
      const cert = trustClientCerts
        ? clientCertificate(req)
        : { authorized: false, presented: false, subject: '' };
      const verdict: Verdict = cert.authorized
        ? {
            ok: true,
            principal: { subject: cert.subject, scopes: [...SCOPES], via: 'client-cert' },
          }
        : verdictOnToken(req, scope, cert.presented, verify);
      if (verdict.ok) admit(logger, facts, verdict.principal, res, next);
      else refuse(logger, metrics, facts, verdict, res, next);
    };
  };

  return { middleware, verify, close: () => undefined };
}
