// JWT key material: the HMAC secret file, PEM public key files (several keys per file allowed, for
// rotation) and the private key the `token` command signs with. Each key carries the algorithms
// it may verify, derived from its type, so a token's `alg` header can never pick the key type
// (the HS256-with-a-public-key "algorithm confusion" attack). Errors never quote key material.
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Algorithm } from 'jsonwebtoken';

export const HMAC_ALGORITHMS: readonly Algorithm[] = ['HS256', 'HS384', 'HS512'];
const RSA_ALGORITHMS: readonly Algorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const RSA_PSS_ALGORITHMS: readonly Algorithm[] = ['PS256', 'PS384', 'PS512'];
/** RFC 7518 §3.4: each ES algorithm is bound to one curve. */
const EC_ALGORITHM_BY_CURVE: Readonly<Record<string, Algorithm>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

/** RFC 7518 §3.2: an HMAC key must be at least as long as the hash output (256 bits for HS256). */
export const MIN_HMAC_SECRET_BYTES = 32;
/** RFC 7518 §3.3: RSA keys of 2048 bits or larger MUST be used. */
export const MIN_RSA_BITS = 2048;

export class KeyLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyLoadError';
  }
}

export interface VerificationKey {
  key: KeyObject;
  /** Algorithms this key may verify; a token whose `alg` is not here never reaches this key. */
  algorithms: readonly Algorithm[];
  /** The file it came from, for log lines. */
  file: string;
}

export interface VerificationKeys {
  hmac: readonly VerificationKey[];
  publicKeys: readonly VerificationKey[];
}

function readKeyFile(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new KeyLoadError(`cannot read ${flag} ${file}: ${code}`, { cause: err });
  }
}

/**
 * The HMAC secret: the file's bytes without trailing line breaks (so `echo secret > file` and
 * `printf secret > file` give the same key; the `token` command reads it the same way).
 */
export function parseHmacSecret(data: Buffer, file: string): VerificationKey {
  let end = data.length;
  while (end > 0 && (data[end - 1] === 0x0a || data[end - 1] === 0x0d)) end--;
  const secret = data.subarray(0, end);
  if (secret.includes('-----BEGIN')) {
    throw new KeyLoadError(
      `${file} holds a PEM key, not an HMAC secret; give PEM public keys with --auth-jwt-public-key-file`,
    );
  }
  if (secret.length < MIN_HMAC_SECRET_BYTES) {
    throw new KeyLoadError(
      `HMAC secret in ${file} is ${secret.length} bytes; at least ${MIN_HMAC_SECRET_BYTES} are required (RFC 7518 §3.2)`,
    );
  }
  return { key: createSecretKey(Buffer.from(secret)), algorithms: HMAC_ALGORITHMS, file };
}

export function readHmacSecret(file: string): VerificationKey {
  return parseHmacSecret(readKeyFile(file, '--auth-jwt-secret-file'), file);
}

/** The JWT algorithms an asymmetric public key may verify; throws for unsupported keys. */
export function publicKeyAlgorithms(key: KeyObject, where: string): readonly Algorithm[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) {
        throw new KeyLoadError(
          `${where}: RSA key of ${bits} bits; at least ${MIN_RSA_BITS} required`,
        );
      }
      return key.asymmetricKeyType === 'rsa' ? RSA_ALGORITHMS : RSA_PSS_ALGORITHMS;
    }
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
      const alg = EC_ALGORITHM_BY_CURVE[curve];
      if (!alg) {
        throw new KeyLoadError(
          `${where}: EC curve ${curve} is not usable for JWTs (P-256, P-384 or P-521)`,
        );
      }
      return [alg];
    }
    default:
      throw new KeyLoadError(
        `${where}: ${key.asymmetricKeyType ?? 'unknown'} keys are not supported (RSA or EC)`,
      );
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

/**
 * Every public key in a PEM file: `PUBLIC KEY`, `RSA PUBLIC KEY` or `CERTIFICATE` blocks (the
 * certificate's key is used). A private key is refused: it does not belong on the verifier.
 */
export function parsePublicKeys(text: string, file: string): VerificationKey[] {
  const keys: VerificationKey[] = [];
  let index = 0;
  for (const match of text.matchAll(PEM_BLOCK)) {
    index++;
    const label = match[1]!;
    const where = `${file} block ${index} (${label})`;
    if (label.endsWith('PRIVATE KEY')) {
      throw new KeyLoadError(
        `${where}: a private key does not belong in --auth-jwt-public-key-file; give its public key`,
      );
    }
    if (label !== 'PUBLIC KEY' && label !== 'RSA PUBLIC KEY' && label !== 'CERTIFICATE') continue;
    let key: KeyObject;
    try {
      key = createPublicKey({ key: match[0], format: 'pem' });
    } catch (err) {
      throw new KeyLoadError(`${where}: not a valid public key (${(err as Error).message})`, {
        cause: err,
      });
    }
    keys.push({ key, algorithms: publicKeyAlgorithms(key, where), file });
  }
  if (keys.length === 0) throw new KeyLoadError(`no PEM public key found in ${file}`);
  return keys;
}

export function readPublicKeys(file: string): VerificationKey[] {
  return parsePublicKeys(readKeyFile(file, '--auth-jwt-public-key-file').toString('utf8'), file);
}

export interface SigningKey {
  key: KeyObject;
  algorithm: Algorithm;
}

/** The algorithm the `token` command signs with: the SHA-256 variant for the key's type. */
export function signingAlgorithm(key: KeyObject, where: string): Algorithm {
  if (key.type === 'secret') return 'HS256';
  if (key.asymmetricKeyType === 'rsa') {
    publicKeyAlgorithms(key, where);
    return 'RS256';
  }
  if (key.asymmetricKeyType === 'rsa-pss') {
    publicKeyAlgorithms(key, where);
    return 'PS256';
  }
  return publicKeyAlgorithms(key, where)[0]!;
}

/** A PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC; unencrypted) for signing. */
export function readPrivateKey(file: string): SigningKey {
  const data = readKeyFile(file, '--private-key-file');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: data, format: 'pem' });
  } catch (err) {
    throw new KeyLoadError(
      `${file} is not an unencrypted PEM private key (${(err as Error).message})`,
      { cause: err },
    );
  }
  return { key, algorithm: signingAlgorithm(key, file) };
}

/** The HMAC secret as a signing key (same reading rules as the verifier). */
export function readHmacSigningKey(file: string): SigningKey {
  return { key: readHmacSecret(file).key, algorithm: 'HS256' };
}
