// The credentials the suite presents: tokens minted with the product's own code
// (src/auth/mint.ts, with the HMAC key file serve verifies with), in the bearer header, as a raw
// JWT path segment or as the base32 path token, and every way of getting one wrong: missing,
// malformed, signed with another key, expired, not yet valid, wrong issuer / audience / scope,
// alg none, an RS256 token the server has no key for, broken and oversized path tokens.
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { mintToken } from '../../src/auth/mint.js';
import { readHmacSigningKey, type SigningKey } from '../../src/auth/keys.js';
import { encodePathToken } from '../../src/auth/path-token.js';
import { SCOPES, type Scope } from '../../src/auth/scopes.js';

export const ISSUER = 'k8s-consul-sync';
export const AUDIENCE = 'k8s-consul-sync';

/** Credentials that must be accepted (with the endpoint's scope). */
export const GOOD_CREDS = ['header', 'path-token', 'raw-path', 'multi-scope'] as const;
/** Credentials that must get 401. */
export const UNAUTHENTICATED_CREDS = [
  'none',
  'malformed-header',
  'basic',
  'bearer-empty',
  'bad-signature',
  'expired',
  'not-yet-valid',
  'wrong-issuer',
  'wrong-audience',
  'alg-none',
  'rs256-unknown-key',
  'garbage-path',
  'placeholder-path',
  'expired-path-token',
  'corrupt-path-token',
  'oversize-token',
  'uppercase-path-token',
] as const;
/** Credentials that must get 403 (valid token, scope of another endpoint). */
export const FORBIDDEN_CREDS = ['wrong-scope', 'wrong-scope-path-token', 'no-scope'] as const;

export type Cred =
  | (typeof GOOD_CREDS)[number]
  | (typeof UNAUTHENTICATED_CREDS)[number]
  | (typeof FORBIDDEN_CREDS)[number];

export function credVerdict(cred: Cred): 'ok' | 401 | 403 {
  if ((GOOD_CREDS as readonly string[]).includes(cred)) return 'ok';
  if ((FORBIDDEN_CREDS as readonly string[]).includes(cred)) return 403;
  return 401;
}

interface ScopeTokens {
  valid: string;
  expired: string;
  wrongScope: string;
}

export interface Credentials {
  secretFile: string;
  /** Every token text minted (no log line or answer may contain one). */
  secrets: string[];
  /** The path and headers that present `cred` for an endpoint of `scope`. */
  apply(cred: Cred, scope: Scope, path: string): { path: string; headers: Record<string, string> };
}

function b64url(v: string | Buffer): string {
  return Buffer.from(v).toString('base64url');
}

/** Writes the HMAC key file into `dir` and mints every token once. */
export function createCredentials(dir: string): Credentials {
  const secret = `fuzz-${randomBytes(32).toString('hex')}`;
  const secretFile = join(dir, 'jwt-hmac-key');
  writeFileSync(secretFile, secret + '\n', { mode: 0o600 });
  const key: SigningKey = readHmacSigningKey(secretFile);
  const now = Date.now();
  const hour = 3600_000;
  const mint = (scopes: readonly Scope[], over: Partial<Parameters<typeof mintToken>[1]> = {}) =>
    mintToken(
      key,
      { issuer: ISSUER, audience: AUDIENCE, subject: 'fuzz', scopes, ttlMs: 24 * hour, ...over },
      now,
    );
  const byScope = new Map<Scope, ScopeTokens>();
  for (const scope of SCOPES) {
    byScope.set(scope, {
      valid: mint([scope]),
      // Minted two hours ago for one hour: an hour past exp, far beyond the 30 s tolerance.
      expired: mintToken(
        key,
        { issuer: ISSUER, audience: AUDIENCE, subject: 'fuzz', scopes: [scope], ttlMs: hour },
        now - 2 * hour,
      ),
      wrongScope: mint(SCOPES.filter((s) => s !== scope)),
    });
  }
  const all = mint(SCOPES);
  const noScope = mint([]);
  const wrongIssuer = mint(SCOPES, { issuer: 'someone-else' });
  const wrongAudience = mint(SCOPES, { audience: 'someone-else' });
  // Valid claims, signed with a key serve does not have.
  const badSignature = (() => {
    const [h, p] = all.split('.');
    const sig = createHmac('sha256', `not-${secret}`).update(`${h}.${p}`).digest('base64url');
    return `${h}.${p}.${sig}`;
  })();
  const notYetValid = jwt.sign(
    {
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'fuzz',
      scope: SCOPES.join(' '),
      nbf: Math.floor(now / 1000) + 3600,
    },
    key.key,
    { algorithm: 'HS256' },
  );
  const claims = b64url(
    JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'fuzz', scope: SCOPES.join(' ') }),
  );
  const algNone = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${claims}.`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rs256 = jwt.sign(
    { iss: ISSUER, aud: AUDIENCE, sub: 'fuzz', scope: SCOPES.join(' ') },
    privateKey,
    { algorithm: 'RS256', expiresIn: '1h' },
  );
  // Past any real token, still within Node's 16 KiB header limit (so the product decides).
  const oversize = `${b64url('{"alg":"HS256"}')}.${'A'.repeat(15_000)}.${'B'.repeat(43)}`;

  const secrets = [secret];
  for (const t of byScope.values()) secrets.push(t.valid, t.expired, t.wrongScope);
  secrets.push(all, noScope, wrongIssuer, wrongAudience, notYetValid, rs256);
  // Signatures alone are secret too: a log line must not carry the third part either.
  for (const t of [...secrets.slice(1)]) {
    const sig = t.split('.')[2];
    if (sig && sig.length >= 16) secrets.push(sig);
  }

  const pathToken = (token: string): string => encodePathToken(token).join('/');
  const corrupt = (token: string): string => {
    const segments = encodePathToken(token);
    const first = segments[0]!;
    // Flip one base32 character in the middle of the first label: still well-formed, other bytes.
    const i = Math.floor(first.length / 2);
    const c = first[i] === 'a' ? 'b' : 'a';
    segments[0] = first.slice(0, i) + c + first.slice(i + 1);
    return segments.join('/');
  };

  return {
    secretFile,
    secrets,
    apply(cred, scope, path) {
      const t = byScope.get(scope)!;
      const bearer = (token: string) => ({ path, headers: { authorization: `Bearer ${token}` } });
      switch (cred) {
        case 'header':
          return bearer(t.valid);
        case 'multi-scope':
          return bearer(all);
        case 'path-token':
          return { path: `${path}/${pathToken(t.valid)}`, headers: {} };
        case 'raw-path':
          return { path: `${path}/${t.valid}`, headers: {} };
        case 'none':
          return { path, headers: {} };
        case 'malformed-header':
          return { path, headers: { authorization: `Bearer ${t.valid} extra` } };
        case 'basic':
          return { path, headers: { authorization: `Basic ${b64url('admin:admin')}` } };
        case 'bearer-empty':
          return { path, headers: { authorization: 'Bearer ' } };
        case 'bad-signature':
          return bearer(badSignature);
        case 'expired':
          return bearer(t.expired);
        case 'not-yet-valid':
          return bearer(notYetValid);
        case 'wrong-issuer':
          return bearer(wrongIssuer);
        case 'wrong-audience':
          return bearer(wrongAudience);
        case 'alg-none':
          return bearer(algNone);
        case 'rs256-unknown-key':
          return bearer(rs256);
        case 'garbage-path':
          return { path: `${path}/not-a-token/at-all`, headers: {} };
        case 'placeholder-path':
          return { path: `${path}/replace-with-admission-token`, headers: {} };
        case 'expired-path-token':
          return { path: `${path}/${pathToken(t.expired)}`, headers: {} };
        case 'corrupt-path-token':
          return { path: `${path}/${corrupt(t.valid)}`, headers: {} };
        case 'uppercase-path-token':
          return { path: `${path}/${pathToken(t.valid).toUpperCase()}`, headers: {} };
        case 'oversize-token':
          return bearer(oversize);
        case 'wrong-scope':
          return bearer(t.wrongScope);
        case 'wrong-scope-path-token':
          return { path: `${path}/${pathToken(t.wrongScope)}`, headers: {} };
        case 'no-scope':
          return bearer(noScope);
      }
    },
  };
}
