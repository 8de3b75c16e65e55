// The one error type: a stable machine-readable code, the HTTP status it maps to, and the cause.
// Edges throw it with the upstream status kept (a Consul 409 stays distinguishable from a 500).

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_JSON'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INVALID_ADMISSION_REVIEW'
  | 'INVALID_AUDIT_EVENT_LIST'
  | 'INVALID_SERVICES_VIEW'
  | 'INVALID_QUERY'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'CONSUL_UNAVAILABLE'
  | 'CONSUL_REJECTED'
  | 'CONSUL_READ_FILTERED'
  | 'KUBE_UNAVAILABLE'
  | 'KUBE_REJECTED'
  | 'READ_FAILED'
  | 'WRITE_FAILED'
  | 'DELETE_RATIO_EXCEEDED'
  | 'NOT_READY'
  | 'CONFIG_INVALID'
  | 'INTERNAL';

const defaultStatus: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_ADMISSION_REVIEW: 400,
  INVALID_AUDIT_EVENT_LIST: 400,
  INVALID_SERVICES_VIEW: 400,
  INVALID_QUERY: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  REQUEST_TIMEOUT: 408,
  CONSUL_UNAVAILABLE: 503,
  CONSUL_REJECTED: 502,
  CONSUL_READ_FILTERED: 502,
  KUBE_UNAVAILABLE: 503,
  KUBE_REJECTED: 502,
  READ_FAILED: 503,
  WRITE_FAILED: 503,
  DELETE_RATIO_EXCEEDED: 409,
  NOT_READY: 503,
  CONFIG_INVALID: 400,
  INTERNAL: 500,
};

export interface SyncErrorOptions {
  status?: number;
  /** Status code the upstream system (Consul, Kubernetes) answered with, if any. */
  upstreamStatus?: number;
  cause?: unknown;
  /** Structured context for the caller, sent as `error.details` (never secrets). */
  details?: Record<string, unknown>;
}

export class SyncError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly upstreamStatus: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: SyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SyncError';
    this.code = code;
    this.status = options.status ?? defaultStatus[code];
    this.upstreamStatus = options.upstreamStatus;
    this.details = options.details;
  }
}

export function isSyncError(err: unknown): err is SyncError {
  return err instanceof SyncError;
}

/** A short description of any thrown value, for log lines; never includes a stack. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
