// Maps every error to {"error":{"code","message"}} with a stable code; never leaks a stack.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { SyncError, isSyncError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import { scrubSecrets } from '../telemetry/logger.js';
import { redactPath } from './routes.js';

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
  limit?: number;
}

/** Turns body-parser and other foreign errors into SyncErrors. */
export function toSyncError(err: unknown): SyncError {
  if (isSyncError(err)) return err;
  const e = err as BodyParserError & Error;
  switch (e?.type) {
    case 'entity.too.large':
      return new SyncError(
        'PAYLOAD_TOO_LARGE',
        `request body exceeds ${e.limit ?? 'the limit of'} bytes`,
      );
    case 'entity.parse.failed':
      return new SyncError('INVALID_JSON', 'request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new SyncError('UNSUPPORTED_MEDIA_TYPE', 'unsupported content encoding or charset');
    case 'request.aborted':
      return new SyncError('BAD_REQUEST', 'request aborted by the client', { status: 400 });
    default:
      break;
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    return new SyncError('BAD_REQUEST', scrubSecrets(e.message), { status: e.status });
  }
  return new SyncError('INTERNAL', 'internal error', { cause: err });
}

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const error = toSyncError(err);
    if (error.status >= 500) {
      const cause = error.cause ?? err;
      logger.error(
        {
          event: 'request-error',
          code: error.code,
          path: redactPath(req.path),
          err: cause instanceof Error ? scrubSecrets(cause.stack ?? cause.message) : String(cause),
        },
        'request failed',
      );
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    if (error.code === 'METHOD_NOT_ALLOWED' && res.getHeader('Allow') === undefined) {
      res.setHeader('Allow', 'POST');
    }
    const body = {
      code: error.code,
      message: error.message,
      ...(error.details ? { details: error.details } : {}),
    };
    res.status(error.status).json({ error: body });
  };
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new SyncError('NOT_FOUND', `no route for ${req.method} ${redactPath(req.path)}`));
};

export function methodNotAllowed(allow: string): RequestHandler {
  return (req, res, next) => {
    res.setHeader('Allow', allow);
    next(new SyncError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allow}`));
  };
}
