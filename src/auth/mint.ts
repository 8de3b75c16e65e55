// Minting caller tokens (the `token` command): the claims the verifier requires — iss, aud, sub,
// a space-separated scope, iat and, unless the lifetime is 0, exp.
import jwt from 'jsonwebtoken';
import type { SigningKey } from './keys.js';
import type { Scope } from './scopes.js';

export interface TokenClaims {
  issuer: string;
  audience: string;
  subject: string;
  scopes: readonly Scope[];
  /** Lifetime; 0 = no `exp` claim. */
  ttlMs: number;
}

export function mintToken(
  key: SigningKey,
  claims: TokenClaims,
  nowMs: number = Date.now(),
): string {
  const iat = Math.floor(nowMs / 1000);
  const payload: Record<string, unknown> = {
    iss: claims.issuer,
    aud: claims.audience,
    sub: claims.subject,
    scope: claims.scopes.join(' '),
    iat,
  };
  if (claims.ttlMs > 0) payload.exp = iat + Math.ceil(claims.ttlMs / 1000);
  return jwt.sign(payload, key.key, { algorithm: key.algorithm });
}
