// The admission path token (docs/reference.md "HTTP API"): a JWT carried in `clientConfig.service.path`, which the
// API server only accepts when every `/`-separated segment is a lowercase RFC 1123 subdomain
// (k8s.io/apiserver ValidateWebhookService → IsDNS1123Subdomain). A JWT (base64url: upper case,
// `_`) never is, so its bytes travel as lower-case unpadded base32 (RFC 4648 §6), cut into
// labels of ≤63 characters joined by `.`, cut into segments of ≤253 characters. Pure functions.

/** RFC 4648 §6 alphabet, lower-cased (RFC 1123 labels are lower case). */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const VALUE = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

/** RFC 1123 label limit. */
export const MAX_LABEL_CHARS = 63;
/** IsDNS1123Subdomain's limit, per path segment. */
export const MAX_SEGMENT_CHARS = 253;
/**
 * Base32 characters per segment: four labels (63+63+63+61) and three dots fill 253 exactly.
 * Derived: the largest n with n + ceil(n / 63) - 1 <= 253.
 */
export const SEGMENT_DATA_CHARS = 250;
/**
 * Bound on an incoming path token (segments, dots and slashes), checked before any decoding, so
 * an unauthenticated caller cannot make the server decode much.
 */
export const MAX_PATH_TOKEN_CHARS = 8 * 1024;
/**
 * The longest input `encodePathBytes` accepts: 4 KiB encode to about 6,650 characters, within
 * the bound above, and far above the 250-550 characters of a minted JWT.
 */
export const MAX_PATH_TOKEN_BYTES = 4 * 1024;

/** One segment as the encoder emits it: labels of base32 characters joined by dots. */
const SEGMENT = /^[a-z2-7]{1,63}(?:\.[a-z2-7]{1,63})*$/;
/** A compact JWS (RFC 7515 §7.1): three base64url parts. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Unpadded, lower-case RFC 4648 base32. */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >>> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes unpadded, lower-case base32; undefined for any other character, an impossible length
 * (1, 3 or 6 characters past a multiple of 8) or non-zero trailing bits (RFC 4648 §3.5: only
 * the canonical encoding is accepted, so one token has exactly one path form).
 */
export function base32Decode(text: string): Uint8Array | undefined {
  const rest = text.length % 8;
  if (rest === 1 || rest === 3 || rest === 6) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (const char of text) {
    const value = VALUE.get(char);
    if (value === undefined) return undefined;
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (buffer >>> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

/** The path segments carrying `bytes`: each one a lowercase RFC 1123 subdomain of ≤253 chars. */
export function encodePathBytes(bytes: Uint8Array): string[] {
  if (bytes.length === 0) throw new RangeError('a path token needs at least one byte');
  if (bytes.length > MAX_PATH_TOKEN_BYTES) {
    throw new RangeError(
      `a path token holds at most ${MAX_PATH_TOKEN_BYTES} bytes; got ${bytes.length}`,
    );
  }
  const data = base32Encode(bytes);
  const segments: string[] = [];
  for (let s = 0; s < data.length; s += SEGMENT_DATA_CHARS) {
    const chunk = data.slice(s, s + SEGMENT_DATA_CHARS);
    const labels: string[] = [];
    for (let l = 0; l < chunk.length; l += MAX_LABEL_CHARS) {
      labels.push(chunk.slice(l, l + MAX_LABEL_CHARS));
    }
    segments.push(labels.join('.'));
  }
  return segments;
}

/**
 * The bytes behind path segments, or undefined when they are not a well-formed path token:
 * empty, over MAX_PATH_TOKEN_CHARS in total, a segment that is not labels of `[a-z2-7]` (≤63
 * each, ≤253 per segment), or base32 that does not decode canonically. Never throws.
 */
export function decodePathBytes(segments: readonly string[]): Uint8Array | undefined {
  if (segments.length === 0) return undefined;
  // Bound first: the cheapest check, before any regular expression sees the input.
  let total = segments.length - 1;
  for (const segment of segments) {
    if (typeof segment !== 'string') return undefined;
    total += segment.length;
    if (total > MAX_PATH_TOKEN_CHARS) return undefined;
  }
  for (const segment of segments) {
    if (segment.length > MAX_SEGMENT_CHARS || !SEGMENT.test(segment)) return undefined;
  }
  return base32Decode(segments.join('').replaceAll('.', ''));
}

/** The path segments carrying a JWT. Throws RangeError for an empty or oversized token. */
export function encodePathToken(token: string): string[] {
  return encodePathBytes(Buffer.from(token, 'utf8'));
}

/** `<seg1>/<seg2>/…`: what goes after `/k8s/admission/` in `clientConfig.service.path`. */
export function formatPathToken(token: string): string {
  return encodePathToken(token).join('/');
}

/**
 * The JWT behind path segments, or undefined when they are not a path token or do not decode
 * to a compact JWS (three base64url parts). The JWT still has to be verified. Never throws.
 */
export function decodePathToken(segments: readonly string[]): string | undefined {
  const bytes = decodePathBytes(segments);
  if (!bytes) return undefined;
  // latin1: one character per byte, so no byte is merged or replaced as lenient UTF-8 would.
  const token = Buffer.from(bytes).toString('latin1');
  return COMPACT_JWS.test(token) ? token : undefined;
}

/**
 * Whether a single path segment is a raw JWT (for `clientConfig.url`, whose path has no segment
 * rule) rather than a path token. A JWS header is a JSON object, so its base64url starts with
 * `eyJ`: a JWT always has a character outside the path token alphabet `[a-z2-7.]`, and a path
 * token never has one, even when its labels happen to number three.
 */
export function isRawJwtSegment(segment: string): boolean {
  return COMPACT_JWS.test(segment) && /[^a-z2-7.]/.test(segment);
}
