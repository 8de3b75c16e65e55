// Maps `consul` package (papi) errors to SyncErrors that keep the upstream status.
import { SyncError, upstreamError } from '../errors.js';
import { scrubSecrets } from '../telemetry/logger.js';

interface PapiLike {
  message?: string;
  statusCode?: number;
  isResponse?: boolean;
  code?: string;
  response?: { body?: { Errors?: { OpIndex?: number; What?: string }[] | null } | null };
}

export function consulError(err: unknown, what: string): SyncError {
  if (err instanceof SyncError) return err;
  const e = (err ?? {}) as PapiLike;
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  // A failed /v1/txn answers 409 with {"Errors":[{"OpIndex","What"}]}: say what failed.
  const failedOps = e.response?.body?.Errors?.map((x) => `op ${x.OpIndex}: ${x.What}`).join('; ');
  const detail = scrubSecrets(failedOps || String(e.message ?? err)).slice(0, 300);
  return upstreamError('consul', what, status, detail, err);
}
