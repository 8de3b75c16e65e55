// `token`: mints a caller JWT (docs/reference.md "Commands") with the HMAC secret (--auth-jwt-secret-file) or a
// PEM private key (--private-key-file: RS256, PS256 or ES256/384/512 by key type), iss/aud from
// the server flags. Prints the token only, one line: the JWT, or with `--format path` the path
// segments to put after `/k8s/admission/` in the admission webhook's clientConfig.service.path.
// A usage or key problem is one line, exit 2.
import type { Config } from '../config/index.js';
import { KeyLoadError, readHmacSigningKey, readPrivateKey, type SigningKey } from '../auth/keys.js';
import { mintToken } from '../auth/mint.js';
import { formatPathToken } from '../auth/path-token.js';
import { isScope, type Scope } from '../auth/scopes.js';

export type TokenFormat = 'jwt' | 'path';

export class TokenUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenUsageError';
  }
}

/** The token for `config`, or a TokenUsageError saying what is missing or unusable. */
export function mintFromConfig(config: Config, nowMs: number = Date.now()): string {
  const subject = config.token.subject.trim();
  if (!subject)
    throw new TokenUsageError('token: --subject is required (the caller, e.g. kube-apiserver)');
  if (config.token.scopes.length === 0) {
    throw new TokenUsageError(
      'token: give at least one --scope (k8s:admission, k8s:audit, consul:watch, reconcile)',
    );
  }
  const scopes: Scope[] = [];
  for (const s of config.token.scopes) {
    if (!isScope(s)) throw new TokenUsageError(`token: unknown scope ${JSON.stringify(s)}`);
    if (!scopes.includes(s)) scopes.push(s);
  }
  let key: SigningKey;
  try {
    if (config.token.privateKeyFile) key = readPrivateKey(config.token.privateKeyFile);
    else if (config.auth.jwtSecretFile) key = readHmacSigningKey(config.auth.jwtSecretFile);
    else {
      throw new TokenUsageError(
        'token: no signing key: give --auth-jwt-secret-file (HMAC) or --private-key-file (PEM private key)',
      );
    }
  } catch (err) {
    if (err instanceof KeyLoadError) throw new TokenUsageError(`token: ${err.message}`);
    throw err;
  }
  return mintToken(
    key,
    {
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      subject,
      scopes,
      ttlMs: config.token.ttlMs,
    },
    nowMs,
  );
}

/** What `token` prints for `config`: the JWT, or its path form (`<seg1>/<seg2>`). */
export function renderToken(
  config: Config,
  format: TokenFormat,
  nowMs: number = Date.now(),
): string {
  const jwt = mintFromConfig(config, nowMs);
  if (format === 'jwt') return jwt;
  try {
    return formatPathToken(jwt);
  } catch (err) {
    if (err instanceof RangeError) throw new TokenUsageError(`token: ${err.message}`);
    throw err;
  }
}

export function token(config: Config): Promise<number> {
  let out: string;
  try {
    out = renderToken(config, config.token.format);
  } catch (err) {
    if (!(err instanceof TokenUsageError)) throw err;
    process.stderr.write(`k8s-consul-sync: ${err.message.replace(/\s+/g, ' ')}\n`);
    return Promise.resolve(2);
  }
  process.stdout.write(`${out}\n`);
  return Promise.resolve(0);
}
