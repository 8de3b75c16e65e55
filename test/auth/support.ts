// Shared helpers for the auth, TLS and token tests: temporary key files, token crafting by hand
// (node:crypto, independent of the code under test), log capture and counter reads.
import { createHmac, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/telemetry/logger.js';
import type { Metrics } from '../../src/telemetry/metrics.js';

export interface TempDir {
  path: string;
  file(name: string): string;
  /** Writes atomically (temp file + rename), the way rotations usually land. */
  write(name: string, content: string | Buffer): string;
  remove(): void;
}

export function tempDir(prefix = 'k8s-consul-sync-auth-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    write(name, content) {
      const target = join(path, name);
      const tmp = `${target}.tmp-${randomBytes(4).toString('hex')}`;
      writeFileSync(tmp, content);
      renameSync(tmp, target);
      return target;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

export interface PemKeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
  publicPem: string;
  privatePem: string;
}

export function rsaKeyPair(modulusLength = 2048): PemKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength });
  return pems(publicKey, privateKey);
}

export function ecKeyPair(namedCurve: 'P-256' | 'P-384' | 'P-521' = 'P-256'): PemKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve });
  return pems(publicKey, privateKey);
}

function pems(publicKey: KeyObject, privateKey: KeyObject): PemKeyPair {
  return {
    publicKey,
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** The base64 body of a PEM block, in the chunks a log line could carry. */
export function pemBodyChunks(pem: string): string[] {
  return pem
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .filter((l) => l.length >= 16);
}

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** A compact JWS with any header, signed with HMAC-SHA256 over `secret` (RFC 7515 §3.1, 7518 §3.2). */
export function hs256ByHand(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: string | Buffer,
): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** An unsecured JWS (RFC 7519 §6.1): alg "none", empty signature. */
export function unsecuredToken(payload: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}.`;
}

export interface LogCapture {
  logger: Logger;
  lines: string[];
}

/** A debug-level logger whose JSON lines land in `lines` (shared when given). */
export function captureLogs(lines: string[] = []): LogCapture {
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

export async function authFailureCounts(metrics: Metrics): Promise<Record<string, number>> {
  const { values } = await metrics.authFailures.get();
  const out: Record<string, number> = {};
  for (const v of values) if (v.value > 0) out[String(v.labels.reason)] = v.value;
  return out;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
