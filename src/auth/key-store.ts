// The verifier's keys, re-read when their files change (rotation without restart). Files are
// stat'ed at most once per interval, on use; a file that fails to load keeps its previous keys
// and logs an error once per change, so a half-written or broken rotation never locks callers out.
import type { Logger } from '../telemetry/logger.js';
import { fileStamp } from './file-stamp.js';
import {
  KeyLoadError,
  readHmacSecret,
  readPublicKeys,
  type VerificationKey,
  type VerificationKeys,
} from './keys.js';

export const KEY_CHECK_INTERVAL_MS = 1000;

export interface KeyFiles {
  secretFile?: string;
  publicKeyFiles: readonly string[];
}

export interface KeyStoreOptions {
  logger: Logger;
  /** Minimum time between two stat checks of the files (default 1 s; 0 = every use). */
  checkIntervalMs?: number;
  now?: () => number;
}

interface WatchedKeyFile {
  file: string;
  kind: 'hmac' | 'public';
  stamp: string;
  keys: readonly VerificationKey[];
}

function load(kind: 'hmac' | 'public', file: string): VerificationKey[] {
  return kind === 'hmac' ? [readHmacSecret(file)] : readPublicKeys(file);
}

export class KeyStore {
  private readonly files: WatchedKeyFile[];
  private readonly logger: Logger;
  private readonly checkIntervalMs: number;
  private readonly now: () => number;
  private lastCheck: number;
  private snapshot: VerificationKeys;

  /** Loads every file now; throws KeyLoadError if one cannot be used (a start-up error). */
  constructor(files: KeyFiles, options: KeyStoreOptions) {
    this.logger = options.logger;
    this.checkIntervalMs = options.checkIntervalMs ?? KEY_CHECK_INTERVAL_MS;
    this.now = options.now ?? Date.now;
    const sources: { kind: 'hmac' | 'public'; file: string }[] = [
      ...(files.secretFile ? [{ kind: 'hmac' as const, file: files.secretFile }] : []),
      ...files.publicKeyFiles.map((file) => ({ kind: 'public' as const, file })),
    ];
    this.files = sources.map(({ kind, file }) => {
      const stamp = fileStamp(file);
      const keys = load(kind, file);
      this.logLoaded(kind, file, keys, 'auth-keys-loaded');
      return { file, kind, stamp, keys };
    });
    this.lastCheck = this.now();
    this.snapshot = this.build();
  }

  /** The keys to verify with, after re-reading any file that changed since the last check. */
  current(): VerificationKeys {
    const now = this.now();
    if (now - this.lastCheck >= this.checkIntervalMs) {
      this.lastCheck = now;
      this.refresh();
    }
    return this.snapshot;
  }

  /** Checks every file now, whatever the interval. */
  refresh(): void {
    let changed = false;
    for (const watched of this.files) {
      const stamp = fileStamp(watched.file);
      if (stamp === watched.stamp) continue;
      watched.stamp = stamp;
      try {
        const keys = load(watched.kind, watched.file);
        watched.keys = keys;
        changed = true;
        this.logLoaded(watched.kind, watched.file, keys, 'auth-keys-reloaded');
      } catch (err) {
        this.logger.error(
          {
            event: 'auth-keys-reload-failed',
            file: watched.file,
            err: err instanceof KeyLoadError ? err.message : 'unreadable key file',
          },
          'key file changed but could not be loaded; keeping the previous keys',
        );
      }
    }
    if (changed) this.snapshot = this.build();
  }

  private build(): VerificationKeys {
    return {
      hmac: this.files.filter((f) => f.kind === 'hmac').flatMap((f) => f.keys),
      publicKeys: this.files.filter((f) => f.kind === 'public').flatMap((f) => f.keys),
    };
  }

  private logLoaded(
    kind: 'hmac' | 'public',
    file: string,
    keys: readonly VerificationKey[],
    event: string,
  ): void {
    const algorithms = [...new Set(keys.flatMap((k) => k.algorithms))];
    this.logger.info(
      { event, file, kind, count: keys.length, algorithms },
      kind === 'hmac' ? 'JWT HMAC secret loaded' : 'JWT public keys loaded',
    );
  }
}
