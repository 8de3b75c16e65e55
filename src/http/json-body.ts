// Strict JSON body parsing: JSON content type only, a byte limit, and a nesting-depth limit
// checked on the raw bytes before JSON.parse, so hostile bodies are refused before any processing.
import express, { type RequestHandler } from 'express';
import { SyncError } from '../errors.js';
import { LARGE_BODY_BYTES, parseInTurns, type TurnOptions } from './json-turns.js';
import { isJsonSpace } from '../events/json-bytes.js';

export const MAX_JSON_DEPTH = 100;

/**
 * How many `{` and `[` bytes `buf` holds, counting up to `limit + 1`: an upper bound of its
 * nesting depth (brackets inside strings only add to it). Found with Buffer.indexOf, so a large
 * body with few brackets (a Service with 100,000 addresses) is not walked byte by byte in
 * JavaScript: 0.04 ms for 1.5 MiB where jsonDepth takes 4-6 ms, all of it blocking the event loop.
 */
export function openBrackets(buf: Uint8Array, limit: number): number {
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  let count = 0;
  for (const bracket of [0x7b, 0x5b]) {
    for (let i = bytes.indexOf(bracket); i !== -1; i = bytes.indexOf(bracket, i + 1))
      if (++count > limit) return count;
  }
  return count;
}

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

/** `utf-8` (any case) or no charset; JSON has no other encoding in practice (RFC 8259 §8.1). */
function isUtf8(contentType: string | undefined): boolean {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return !m || /^utf-?8$/i.test(m[1]!);
}

/**
 * The body as raw bytes from body-parser (limit, gzip/deflate, aborted requests), then one
 * native UTF-8 decode and JSON.parse. body-parser's json() decodes through iconv-lite's
 * streaming decoder, which costs more than the parse itself for a 3 MiB AdmissionReview.
 * Behaves as json({ strict: true }): an empty body is `{}`, the top level must be an object or
 * an array, a leading byte-order mark is dropped. A body over LARGE_BODY_BYTES is parsed in turns
 * of the event loop (parseJsonBytesInTurns), so that other requests are answered meanwhile.
 */
export function jsonBody(limitBytes: number): RequestHandler {
  return jsonBytes(limitBytes, (req, next) => {
    const buf = req.body as Buffer;
    if (buf.length > LARGE_BODY_BYTES) {
      parseJsonBytesInTurns(buf).then((parsed) => {
        req.body = parsed;
        next();
      }, next);
      return;
    }
    try {
      req.body = parseJsonBytes(buf);
      next();
    } catch (e) {
      next(e);
    }
  });
}

/**
 * jsonBody's checks and limits, leaving `req.body` the raw bytes (a Buffer) for a handler that
 * parses them itself (`/consul/services`, src/events/view-delta.ts); `then` runs after a read.
 */
export function jsonBytes(
  limitBytes: number,
  then: (req: Parameters<RequestHandler>[0], next: (err?: unknown) => void) => void = (
    _req,
    next,
  ) => next(),
): RequestHandler {
  // The content type is checked below, once: raw() reads whatever reaches it.
  const raw = express.raw({ limit: limitBytes, type: () => true });
  return (req, res, next) => {
    if (!isJsonContentType(req.headers['content-type'])) {
      next();
      return;
    }
    if (!isUtf8(req.headers['content-type'])) {
      next(new SyncError('UNSUPPORTED_MEDIA_TYPE', 'request body must be UTF-8 JSON'));
      return;
    }
    raw(req, res, (err?: unknown) => {
      if (err) {
        next(err);
        return;
      }
      if (!Buffer.isBuffer(req.body)) {
        next();
        return;
      }
      then(req, next);
    });
  };
}

/** Strict JSON from bytes: object or array at the top level, nesting limited before the parse. */
export function parseJsonBytes(buf: Buffer): unknown {
  const start = checkedStart(buf);
  return start === buf.length ? {} : parseFrom(buf, start);
}

/** parseJsonBytes' result, parsed a share at a time between turns of the event loop. */
export async function parseJsonBytesInTurns(buf: Buffer, options?: TurnOptions): Promise<unknown> {
  const start = checkedStart(buf);
  if (start === buf.length) return {};
  try {
    return await parseInTurns(buf, start, options);
  } catch {
    throw new SyncError('INVALID_JSON', 'request body is not valid JSON');
  }
}

/** Where the JSON text starts (past a byte-order mark and spaces; buf.length if empty). */
function checkedStart(buf: Buffer): number {
  let start = 0;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3; // byte-order mark
  while (start < buf.length && isJsonSpace(buf[start])) start++;
  if (start === buf.length) return start;
  if (buf[start] !== 0x7b && buf[start] !== 0x5b) {
    throw new SyncError('INVALID_JSON', 'request body must be a JSON object or array');
  }
  // Walked byte by byte only when there are more brackets than the depth allowed.
  if (
    openBrackets(buf, MAX_JSON_DEPTH) > MAX_JSON_DEPTH &&
    jsonDepth(buf, MAX_JSON_DEPTH) > MAX_JSON_DEPTH
  ) {
    throw new SyncError('BAD_REQUEST', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return start;
}

function parseFrom(buf: Buffer, start: number): unknown {
  try {
    return JSON.parse(buf.toString('utf8', start)) as unknown;
  } catch {
    throw new SyncError('INVALID_JSON', 'request body is not valid JSON');
  }
}
