// metav1.Status bodies exactly as the API server builds them (k8s.io/apimachinery/pkg/api/errors),
// and field.Error formatting (k8s.io/apimachinery/pkg/util/validation/field).

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: { continue?: string };
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  /** omitted (0) on the Success Status a DELETE answers with */
  code?: number;
}

/** Group + plural resource, e.g. {group:'discovery.k8s.io', resource:'endpointslices'}. */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export class KubeError extends Error {
  constructor(readonly status: StatusBody) {
    super(status.message ?? status.reason ?? 'error');
  }
  get code(): number {
    return this.status.code ?? 500;
  }
}

function failure(
  code: number,
  reason: string,
  message: string,
  details?: StatusDetails,
): KubeError {
  const status: StatusBody = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    details,
    code,
  };
  if (!details) delete status.details;
  if (!reason) delete status.reason;
  return new KubeError(status);
}

function grDetails(gr: GroupResource, name: string): StatusDetails {
  const d: StatusDetails = { name };
  if (gr.group) d.group = gr.group;
  d.kind = gr.resource;
  return d;
}

export function notFound(gr: GroupResource, name: string): KubeError {
  return failure(
    404,
    'NotFound',
    `${qualifiedResource(gr)} "${name}" not found`,
    grDetails(gr, name),
  );
}

export function alreadyExists(gr: GroupResource, name: string): KubeError {
  return failure(
    409,
    'AlreadyExists',
    `${qualifiedResource(gr)} "${name}" already exists`,
    grDetails(gr, name),
  );
}

export const OPTIMISTIC_LOCK_MESSAGE =
  'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(gr: GroupResource, name: string, message: string): KubeError {
  return failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${message}`,
    grDetails(gr, name),
  );
}

export function forbidden(gr: GroupResource, name: string, message: string): KubeError {
  const what = name ? `${qualifiedResource(gr)} "${name}"` : qualifiedResource(gr);
  return failure(403, 'Forbidden', `${what} is forbidden: ${message}`, grDetails(gr, name));
}

export function badRequest(message: string): KubeError {
  return failure(400, 'BadRequest', message);
}

export function internalError(message: string): KubeError {
  return failure(500, 'InternalError', `Internal error occurred: ${message}`, {
    causes: [{ message }],
  });
}

/**
 * errors.NewTimeoutError as the request finisher (endpoints/handlers/finisher) answers when the
 * request's deadline passes; details is present but empty (retryAfterSeconds 0 is omitted).
 */
export function timeoutError(message: string): KubeError {
  return failure(504, 'Timeout', `Timeout: ${message}`, {});
}

export function unauthorized(): KubeError {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function methodNotSupported(gr: GroupResource, action: string): KubeError {
  return failure(
    405,
    'MethodNotAllowed',
    `${action} is not supported on resources of kind "${qualifiedResource(gr)}"`,
    { group: gr.group || undefined, kind: gr.resource },
  );
}

export function expired(message: string): KubeError {
  return failure(410, 'Expired', message);
}

export function unsupportedMediaType(accepted: string[]): KubeError {
  return failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

/** 415 with a message of its own (a body in a supported media type the emulator cannot read). */
export function unsupportedMediaTypeMessage(message: string): KubeError {
  return failure(415, 'UnsupportedMediaType', message);
}

export function notAcceptable(): KubeError {
  return failure(
    406,
    'NotAcceptable',
    'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf',
  );
}

export function resourceNotFound(): KubeError {
  return failure(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function tooLarge(limit: number): KubeError {
  return failure(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
}

/** A Status for an arbitrary code (fault injection), with the reason the API server uses. */
export function statusForCode(code: number, message?: string): StatusBody {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    405: 'MethodNotAllowed',
    409: 'Conflict',
    410: 'Expired',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  const reason = reasons[code] ?? (code >= 500 ? 'InternalError' : 'BadRequest');
  return failure(code, reason, message ?? `injected fault: ${code}`).status;
}

export function successStatus(details?: StatusDetails): StatusBody {
  const status: StatusBody = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details,
  };
  if (!details) delete status.details;
  return status;
}

// ---- field.Error ---------------------------------------------------------------------------

export type FieldErrorType =
  | 'FieldValueInvalid'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  value?: unknown;
  detail?: string;
}

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueInvalid: 'Invalid value',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
};

/**
 * A value field.Error prints with %#v from its Go type rather than from JSON, e.g. a nil slice
 * (`[]networking.IngressRule(nil)`): the text is printed as is.
 */
export class GoLiteral {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

/** Go's %v / %q / %#v as field.Error uses them for the values we report. */
export function goValue(value: unknown): string {
  if (value instanceof GoLiteral) return value.text;
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return `[]string{${value.map((v) => JSON.stringify(v)).join(', ')}}`;
  }
  return JSON.stringify(value);
}

export function fieldErrorBody(e: FieldError): string {
  let s: string;
  switch (e.type) {
    case 'FieldValueRequired':
    case 'FieldValueForbidden':
    case 'FieldValueTooLong':
      s = TYPE_TEXT[e.type];
      break;
    default:
      s = `${TYPE_TEXT[e.type]}: ${goValue(e.value)}`;
  }
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

export function fieldErrorString(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`;
}

export const fieldErr = {
  invalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    value,
    detail,
  }),
  required: (field: string, detail = ''): FieldError => ({
    type: 'FieldValueRequired',
    field,
    detail,
  }),
  duplicate: (field: string, value: unknown): FieldError => ({
    type: 'FieldValueDuplicate',
    field,
    value,
  }),
  notSupported: (field: string, value: unknown, supported: string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    value,
    detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  }),
  forbidden: (field: string, detail: string): FieldError => ({
    type: 'FieldValueForbidden',
    field,
    detail,
  }),
  tooLong: (field: string, detail: string): FieldError => ({
    type: 'FieldValueTooLong',
    field,
    detail,
  }),
};

/** errors.NewInvalid: 422 with one cause per field error and the aggregated message. */
export function invalid(
  gk: { group: string; kind: string },
  name: string,
  errs: FieldError[],
): KubeError {
  const qualifiedKind = gk.group ? `${gk.kind}.${gk.group}` : gk.kind;
  const messages: string[] = [];
  for (const e of errs) {
    const m = fieldErrorString(e);
    if (!messages.includes(m)) messages.push(m);
  }
  const aggregate = messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
  const details: StatusDetails = { name };
  if (gk.group) details.group = gk.group;
  details.kind = gk.kind;
  details.causes = errs.map((e) => ({
    reason: e.type,
    message: fieldErrorBody(e),
    field: e.field,
  }));
  return failure(
    422,
    'Invalid',
    errs.length
      ? `${qualifiedKind} "${name}" is invalid: ${aggregate}`
      : `${qualifiedKind} "${name}" is invalid`,
    details,
  );
}
