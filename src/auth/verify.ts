// JWT verification (docs/reference.md "HTTP API"): the `alg` header must be allowed by a configured key of the
// matching type (never `none`; HS* only against the HMAC secret, never against a public key),
// then signature, `nbf`/`exp` when present (30 s clock tolerance), `aud`, `iss`, and the scopes.
import jwt, { type Algorithm, type JwtPayload } from 'jsonwebtoken';
import type { VerificationKey, VerificationKeys } from './keys.js';
import { parseScopeClaim, type Scope } from './scopes.js';

/** Why a credential was refused: the `reason` label of k8s_consul_sync_auth_failures_total. */
export type AuthFailureReason =
  | 'missing'
  | 'malformed'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'wrong-scope'
  | 'bad-algorithm'
  | 'untrusted-client-cert';

export const CLOCK_TOLERANCE_SECONDS = 30;
/** Far above any real token; bounds the work an unauthenticated caller can cause. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export interface VerifyOptions {
  issuer: string;
  audience: string;
  /** Current time in seconds since the epoch (default: now). */
  nowSeconds?: number;
  clockToleranceSeconds?: number;
}

export type VerifyResult =
  | { ok: true; subject: string; scopes: Scope[]; claims: JwtPayload }
  | {
      ok: false;
      reason: Exclude<AuthFailureReason, 'missing' | 'wrong-scope' | 'untrusted-client-cert'>;
    };

type Failure = Extract<VerifyResult, { ok: false }>;

const JWS_PART = /^[A-Za-z0-9_-]*$/;

/** The protected header's `alg`, or undefined when the token is not a compact JWS. */
function headerAlgorithm(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => JWS_PART.test(p)) || !parts[0]) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    if (header === null || typeof header !== 'object' || Array.isArray(header)) return undefined;
    const alg = (header as { alg?: unknown }).alg;
    return typeof alg === 'string' ? alg : undefined;
  } catch {
    return undefined;
  }
}

function classify(err: unknown): Failure['reason'] {
  if (err instanceof jwt.TokenExpiredError) return 'expired';
  if (err instanceof jwt.NotBeforeError) return 'not-yet-valid';
  const message = err instanceof Error ? err.message : '';
  if (message === 'invalid signature' || message === 'jwt signature is required') {
    return 'bad-signature';
  }
  if (message.startsWith('jwt audience invalid')) return 'wrong-audience';
  if (message.startsWith('jwt issuer invalid')) return 'wrong-issuer';
  if (
    message === 'invalid algorithm' ||
    message.startsWith('secretOrPublicKey must be') ||
    message.startsWith('"alg" parameter')
  ) {
    return 'bad-algorithm';
  }
  return 'malformed';
}

/** Verifies `token` against every key allowed for its `alg`; the first key that verifies decides. */
export function verifyJwt(
  token: string,
  keys: VerificationKeys,
  options: VerifyOptions,
): VerifyResult {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const alg = headerAlgorithm(token);
  if (alg === undefined) return { ok: false, reason: 'malformed' };
  // The key type decides which algorithms are possible, never the token: HS* tokens are only
  // ever checked against the HMAC secret, RS/PS/ES only against public keys of that type.
  const pool: readonly VerificationKey[] = alg.startsWith('HS') ? keys.hmac : keys.publicKeys;
  const candidates = pool.filter((k) => k.algorithms.includes(alg as Algorithm));
  if (candidates.length === 0) return { ok: false, reason: 'bad-algorithm' };

  let last: Failure['reason'] = 'bad-signature';
  for (const candidate of candidates) {
    let payload: string | JwtPayload;
    try {
      payload = jwt.verify(token, candidate.key, {
        algorithms: [alg as Algorithm],
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: options.clockToleranceSeconds ?? CLOCK_TOLERANCE_SECONDS,
        clockTimestamp: options.nowSeconds ?? Math.floor(Date.now() / 1000),
      });
    } catch (err) {
      last = classify(err);
      // Any verdict other than a signature mismatch means this key verified the signature.
      if (last === 'bad-signature') continue;
      return { ok: false, reason: last };
    }
    if (typeof payload !== 'object' || payload === null) return { ok: false, reason: 'malformed' };
    const claims = payload as JwtPayload & { scope?: unknown };
    return {
      ok: true,
      subject: typeof claims.sub === 'string' ? claims.sub : '',
      scopes: parseScopeClaim(claims.scope),
      claims,
    };
  }
  return { ok: false, reason: last };
}
