// A large JSON body parsed in pieces, between turns of the event loop. JSON.parse holds the event
// loop for the whole text: 20 to 70 ms for an UPDATE review of the largest legal Service (3 MiB,
// its object and oldObject 1.5 MiB each), during which the kubelet's /healthz and every other
// request wait. Here the big member values (the review's `request.object` and
// `request.oldObject`) are found by one scan of the bytes, the rest is parsed with each of them
// stood in for by `null`, and each is then parsed on a later turn. The result is what JSON.parse
// of the whole text gives; whenever the scan cannot prove that (a key written with escapes, a
// duplicate, a value not where it expects), the caller parses the text whole.
import {
  BACKSLASH,
  CLOSE_CURLY,
  CLOSE_SQUARE,
  COLON,
  COMMA,
  OPEN_CURLY,
  OPEN_SQUARE,
  QUOTE,
  stringEnd,
} from '../events/json-bytes.js';

/**
 * Bodies larger than this are parsed in pieces where a route says which (`ParseApart`), and their
 * handlers let other requests run between their steps: parsing and validating a review of the
 * largest legal Service (1.5 MiB, twice on an UPDATE) each take tens of milliseconds.
 */
export const LARGE_BODY_BYTES = 256 * 1024;

/** Member values of a large body parsed on turns of their own. */
export interface ParseApart {
  parent: string;
  keys: readonly string[];
}

/** Lets whatever else is waiting (a /healthz, another review) run before going on. */
export const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Where one member's value sits in the bytes: [from, to). */
export interface ValueRange {
  key: string;
  from: number;
  to: number;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** A key written with escapes, decoded; undefined if it is not a valid JSON string. */
function decodeKey(raw: Buffer): string | undefined {
  try {
    return JSON.parse(raw.toString('utf8')) as string;
  } catch {
    return undefined;
  }
}

/**
 * The ranges of the values of `keys` inside the object that is the value of the top-level member
 * `parent`, the text's top level being the object opening at `start`. Undefined when the text
 * does not scan as JSON, a wanted key or the parent appears twice, or any is written with an
 * escape: the caller then parses the text whole. Keys not present are left out.
 */
export function memberValueRanges(
  buf: Buffer,
  start: number,
  parent: string,
  keys: readonly string[],
): ValueRange[] | undefined {
  if (buf[start] !== OPEN_CURLY) return undefined;
  const found: ValueRange[] = [];
  let depth = 0;
  let parentSeen = false;
  let inParent = false; // inside the parent's object value (its own depth is 2)
  let pendingKey: string | undefined; // a key just read at depth 1 or 2, awaiting its value
  let open: ValueRange | undefined; // a wanted value being read, its end not yet found
  for (let i = start; i < buf.length; i++) {
    const c = buf[i]!;
    if (isSpace(c)) continue;
    if (c === QUOTE) {
      const end = stringEnd(buf, i);
      if (end === -1) return undefined;
      // A string at depth 1 or 2 followed by a colon is a key.
      if (depth === 1 || (depth === 2 && inParent)) {
        let k = end;
        while (k < buf.length && isSpace(buf[k]!)) k++;
        if (buf[k] === COLON) {
          const raw = buf.subarray(i, end);
          if (raw.includes(BACKSLASH)) {
            // An escaped spelling may name a wanted key: only a whole parse can tell.
            const decoded = decodeKey(raw);
            if (
              decoded === undefined ||
              (depth === 1 && decoded === parent) ||
              (depth === 2 && keys.includes(decoded))
            )
              return undefined;
            pendingKey = undefined;
          } else pendingKey = raw.toString('latin1', 1, raw.length - 1);
          i = k; // the colon
          if (pendingKey !== undefined) {
            let v = k + 1;
            while (v < buf.length && isSpace(buf[v]!)) v++;
            if (depth === 1 && pendingKey === parent) {
              if (parentSeen) return undefined;
              parentSeen = true;
              if (buf[v] === OPEN_CURLY) {
                inParent = true;
                depth++; // the parent's `{`
                i = v;
              }
            } else if (depth === 2 && keys.includes(pendingKey)) {
              if (found.some((r) => r.key === pendingKey)) return undefined;
              open = { key: pendingKey, from: v, to: -1 };
              found.push(open);
              i = v - 1; // the value is read from v on
            }
            pendingKey = undefined;
          }
          continue;
        }
      }
      i = end - 1;
      continue;
    }
    if (c === OPEN_CURLY || c === OPEN_SQUARE) depth++;
    else if (c === CLOSE_CURLY || c === CLOSE_SQUARE) {
      if (depth === 2 && inParent) {
        if (open) {
          open.to = trimEnd(buf, i);
          open = undefined;
        }
        inParent = false;
      }
      depth--;
      if (depth === 0) return found.every((r) => r.to > r.from) ? found : undefined;
      if (depth < 0) return undefined;
    } else if (c === COMMA && depth === 2 && inParent && open) {
      open.to = trimEnd(buf, i);
      open = undefined;
    }
  }
  return undefined;
}

/** `to` moved back over whitespace before it. */
function trimEnd(buf: Buffer, to: number): number {
  while (to > 0 && isSpace(buf[to - 1]!)) to--;
  return to;
}

/**
 * JSON.parse of `buf` from `start` (an object at the top level), the values of `keys` of member
 * `parent` parsed apart, `pause` awaited before each. Undefined when the scan cannot prove the
 * pieces give the whole (see memberValueRanges); throws what JSON.parse throws on bad JSON.
 */
export async function parseApart(
  buf: Buffer,
  start: number,
  parent: string,
  keys: readonly string[],
  pause: () => Promise<void>,
): Promise<unknown> {
  const ranges = memberValueRanges(buf, start, parent, keys);
  if (!ranges || ranges.length === 0) return undefined;
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  let text = '';
  let at = start;
  for (const r of sorted) {
    text += buf.toString('utf8', at, r.from) + 'null';
    at = r.to;
  }
  text += buf.toString('utf8', at);
  const whole = JSON.parse(text) as Record<string, unknown>;
  const holder = whole[parent] as Record<string, unknown> | null;
  // Each stand-in must be where its value is: a spelling the scan did not see would show here.
  if (typeof holder !== 'object' || holder === null || Array.isArray(holder)) return undefined;
  if (sorted.some((r) => !Object.hasOwn(holder, r.key) || holder[r.key] !== null)) return undefined;
  for (const r of sorted) {
    await pause();
    holder[r.key] = JSON.parse(buf.toString('utf8', r.from, r.to)) as unknown;
  }
  return whole;
}
