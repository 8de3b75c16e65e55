// The one error type: a stable machine-readable code, the HTTP status it maps to, and the cause.
// Edges throw it with the upstream status kept (a Consul 409 stays distinguishable from a 500).

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_JSON'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INVALID_ADMISSION_REVIEW'
  | 'INVALID_AUDIT_EVENT_LIST'
  | 'INVALID_SERVICES_VIEW'
  | 'INVALID_HEALTH_CHECKS'
  | 'INVALID_QUERY'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'CONSUL_UNAVAILABLE'
  | 'CONSUL_REJECTED'
  | 'CONSUL_READ_FILTERED'
  | 'KUBE_UNAVAILABLE'
  | 'KUBE_REJECTED'
  | 'WRITE_FAILED'
  | 'DELETE_RATIO_EXCEEDED'
  | 'INTERNAL';

export interface ErrorClass {
  /** The HTTP status answered for it. */
  status: number;
  /**
   * The exit code of `reconcile` and `plan` when a run ends with it: 1 when a later run can
   * succeed by itself, 3 when an operator has to act first. Request codes (4xx of the HTTP
   * pipeline) never end a run; they carry 2, the exit code of a usage problem.
   */
  exitCode: 1 | 2 | 3;
  /** Whether sending the same request again can succeed without anyone changing anything. */
  retryable: boolean;
}

const request = (status: number): ErrorClass => ({ status, exitCode: 2, retryable: false });
const needsOperator = (status: number): ErrorClass => ({ status, exitCode: 3, retryable: false });
const transient = (status: number): ErrorClass => ({ status, exitCode: 1, retryable: true });

/** Every code's HTTP status, CLI exit code and whether a retry can help: the one table. */
export const ERROR_TABLE: Readonly<Record<ErrorCode, ErrorClass>> = {
  BAD_REQUEST: request(400),
  INVALID_JSON: request(400),
  UNSUPPORTED_MEDIA_TYPE: request(415),
  INVALID_ADMISSION_REVIEW: request(400),
  INVALID_AUDIT_EVENT_LIST: request(400),
  INVALID_SERVICES_VIEW: request(400),
  INVALID_HEALTH_CHECKS: request(400),
  INVALID_QUERY: request(400),
  UNAUTHENTICATED: request(401),
  FORBIDDEN: request(403),
  NOT_FOUND: request(404),
  METHOD_NOT_ALLOWED: request(405),
  PAYLOAD_TOO_LARGE: request(413),
  // An upstream refused (ACL, RBAC, an invalid write): the same call fails again until fixed.
  CONSUL_REJECTED: needsOperator(502),
  KUBE_REJECTED: needsOperator(502),
  // Consul hid part of a read from our token: deletions withheld until the token can read all.
  CONSUL_READ_FILTERED: needsOperator(502),
  // The delete guard refused a plan: only an operator can say the deletions are intended.
  DELETE_RATIO_EXCEEDED: needsOperator(409),
  // A bug or an unexpected answer: logged with its cause; repeating it repeats the bug.
  INTERNAL: needsOperator(500),
  // Unreachable, timed out, 5xx, 429: a later attempt can succeed.
  CONSUL_UNAVAILABLE: transient(503),
  KUBE_UNAVAILABLE: transient(503),
  WRITE_FAILED: transient(503),
};

/**
 * The codes a reconcile direction can end with, most severe first: every code that needs an
 * operator before every code a retry can fix. When directions fail differently, the run answers
 * with the first of their codes in this order.
 */
export const SEVERITY: readonly ErrorCode[] = [
  'INTERNAL',
  'CONSUL_REJECTED',
  'KUBE_REJECTED',
  'DELETE_RATIO_EXCEEDED',
  'CONSUL_READ_FILTERED',
  'WRITE_FAILED',
  'CONSUL_UNAVAILABLE',
  'KUBE_UNAVAILABLE',
];

/** The most severe of the codes (SEVERITY; a code not listed there comes after them all). */
export function mostSevere(codes: readonly ErrorCode[]): ErrorCode | undefined {
  const rank = (c: ErrorCode): number => {
    const i = SEVERITY.indexOf(c);
    return i < 0 ? SEVERITY.length : i;
  };
  return [...codes].sort((a, b) => rank(a) - rank(b))[0];
}

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
    this.status = options.status ?? ERROR_TABLE[code].status;
    this.upstreamStatus = options.upstreamStatus;
    this.details = options.details;
  }
}

export function isSyncError(err: unknown): err is SyncError {
  return err instanceof SyncError;
}

/** The stable code of any thrown value: its own for a SyncError, else INTERNAL. */
export function codeOf(err: unknown): ErrorCode {
  return isSyncError(err) ? err.code : 'INTERNAL';
}

/** Whether a retry of what threw `err` can succeed by itself (ERROR_TABLE). */
export function isRetryable(err: unknown): boolean {
  return ERROR_TABLE[codeOf(err)].retryable;
}

/** A short description of any thrown value, for log lines; never includes a stack. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * An upstream system's failure as a SyncError: a 4xx other than 429 is a refusal (a retry will
 * not help), anything else (5xx, 429, no answer) is the system being unavailable.
 */
export function upstreamError(
  system: 'consul' | 'kubernetes',
  what: string,
  status: number | undefined,
  detail: string,
  cause: unknown,
): SyncError {
  const refused = status !== undefined && status < 500 && status !== 429;
  const code: ErrorCode =
    system === 'consul'
      ? refused
        ? 'CONSUL_REJECTED'
        : 'CONSUL_UNAVAILABLE'
      : refused
        ? 'KUBE_REJECTED'
        : 'KUBE_UNAVAILABLE';
  const message = refused
    ? `${system} refused ${what} (${status}): ${detail}`
    : `${system} ${what} failed: ${detail}`;
  return new SyncError(code, message, { upstreamStatus: status, cause });
}
