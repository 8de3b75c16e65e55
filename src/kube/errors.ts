// Maps @kubernetes/client-node errors to SyncErrors that keep the upstream status.
import { SyncError, upstreamError } from '../errors.js';
import { scrubSecrets } from '../telemetry/logger.js';

interface ApiExceptionLike {
  code?: number | string;
  body?: unknown;
  message?: string;
}

export function statusOf(err: unknown): number | undefined {
  const code = (err as ApiExceptionLike | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The message of an API server Status (or of its text), when there is one. */
export function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'string') {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body.slice(0, 300);
    }
  }
  if (body && typeof body === 'object' && 'message' in body) return String(body.message);
  return undefined;
}

export function kubeError(err: unknown, what: string): SyncError {
  if (err instanceof SyncError) return err;
  const status = statusOf(err);
  const e = err as ApiExceptionLike | undefined;
  const detail = scrubSecrets(statusMessage(e?.body) ?? String(e?.message ?? err)).slice(0, 300);
  return upstreamError('kubernetes', what, status, detail, err);
}
