// Strict JSON body parsing: JSON content type only, a byte limit, and a nesting-depth limit
// checked on the raw bytes before JSON.parse, so hostile bodies are refused before any processing.
import express, { type RequestHandler } from 'express';
import { SyncError } from '../errors.js';

export const MAX_JSON_DEPTH = 100;

/** Deepest nesting of objects/arrays in a JSON text, ignoring brackets inside strings. */
export function jsonDepth(buf: Uint8Array, stopAt = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAt) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const type = value.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** Refuses non-JSON bodies with 415; a POST without a body at all is let through (reconcile). */
export const requireJson: RequestHandler = (req, _res, next) => {
  const length = req.headers['content-length'];
  const hasBody =
    (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !isJsonContentType(req.headers['content-type'])) {
    next(new SyncError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json'));
    return;
  }
  next();
};

/**
 * A body announced larger than the limit is refused at once with 413 and the connection closed:
 * the body parser would otherwise read all of it (to keep the connection usable) before
 * answering, which a sender announcing 100 MB and sending two bytes holds for the request
 * timeout.
 */
export function refuseOversized(limitBytes: number): RequestHandler {
  return (req, res, next) => {
    const announced = Number(req.headers['content-length']);
    if (!Number.isFinite(announced) || announced <= limitBytes) {
      next();
      return;
    }
    res.setHeader('Connection', 'close');
    res.on('finish', () => req.socket.destroy());
    next(
      new SyncError(
        'PAYLOAD_TOO_LARGE',
        `request body of ${announced} bytes is larger than the limit of ${limitBytes} bytes`,
      ),
    );
  };
}

export function jsonBody(limitBytes: number): RequestHandler {
  return express.json({
    limit: limitBytes,
    strict: true,
    type: (req) => isJsonContentType(req.headers['content-type']),
    verify: (_req, _res, buf) => {
      if (jsonDepth(buf, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
        throw new SyncError('BAD_REQUEST', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
      }
    },
  });
}
