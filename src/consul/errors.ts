// Maps `consul` package (papi) errors to SyncErrors that keep the upstream status.
import { SyncError } from '../errors.js';
import { scrubSecrets } from '../telemetry/logger.js';

interface PapiLike {
  message?: string;
  statusCode?: number;
  isResponse?: boolean;
  code?: string;
}

export function consulError(err: unknown, what: string): SyncError {
  if (err instanceof SyncError) return err;
  const e = (err ?? {}) as PapiLike;
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const detail = scrubSecrets(String(e.message ?? err)).slice(0, 300);
  if (status !== undefined && status < 500 && status !== 429) {
    return new SyncError('CONSUL_REJECTED', `consul refused ${what} (${status}): ${detail}`, {
      upstreamStatus: status,
      cause: err,
    });
  }
  return new SyncError('CONSUL_UNAVAILABLE', `consul ${what} failed: ${detail}`, {
    upstreamStatus: status,
    cause: err,
  });
}
