// A Consul `services` delivery read against the previous one (issue 18: Consul → Kubernetes lag
// independent of the number of services). Every watch delivery carries the whole catalog, sorted
// by name, and one change moves a few bytes of it: the bytes the two bodies share at their start
// and at their end hold the same entries, so only the entries between need parsing. The result
// is the view a full parse would give, entries in the same order, and which names were added,
// removed or retagged. Anything this cannot prove the same (whitespace, an escape it does not
// read, a duplicate name, a limit) answers undefined, and the caller parses the body whole, which
// also gives the 400 a malformed body deserves. Pure: no I/O.
import type { ServicesView } from '../translate/types.js';
import { sameTags } from '../translate/to-k8s.js';
import { LayeredView } from './layered-view.js';
import { MAX_ITEMS } from './limits.js';
import { MAX_VIEW_STRING, MAX_VIEW_TAGS } from './services-view.js';
import {
  BACKSLASH,
  CLOSE_CURLY,
  CLOSE_SQUARE,
  COLON,
  COMMA,
  isJsonSpace,
  OPEN_CURLY,
  OPEN_SQUARE,
  QUOTE,
  stringEnd,
} from './json-bytes.js';

/** A delivered body with where each of its entries sits, in body order. */
export interface IndexedView {
  /** The body from its `{` to its `}` (Consul's watch ends it with a newline). */
  bytes: Buffer;
  /** The view (layers.view): what differs from an earlier plain view is kept apart. */
  view: ServicesView;
  layers: LayeredView;
  names: string[];
  /** Per entry: its key's opening quote, just past its key's closing quote, just past its value. */
  keyStarts: Int32Array;
  keyEnds: Int32Array;
  valueEnds: Int32Array;
}

export interface ViewDelta {
  indexed: IndexedView;
  /** Names in the new view but not the previous one. */
  added: string[];
  /** Names in the previous view but not the new one. */
  removed: string[];
  /** Added, removed, or with other tags. */
  changed: Set<string>;
}

interface Spans {
  keyStarts: number[];
  keyEnds: number[];
  valueEnds: number[];
}

/**
 * The entries `"name":[...]` or `"name":null`, comma-separated, that fill exactly
 * `buf[from, to)`, with no whitespace; undefined for anything else. Escapes are checked by the
 * JSON.parse of each entry later.
 */
function scanEntries(buf: Buffer, from: number, to: number): Spans | undefined {
  const spans: Spans = { keyStarts: [], keyEnds: [], valueEnds: [] };
  let i = from;
  while (i < to) {
    if (buf[i] !== QUOTE) return undefined;
    const keyEnd = stringEnd(buf, i, to);
    if (keyEnd < 0 || buf[keyEnd] !== COLON) return undefined;
    let j = keyEnd + 1;
    if (buf[j] === OPEN_SQUARE) {
      j++;
      if (buf[j] !== CLOSE_SQUARE) {
        for (;;) {
          if (buf[j] !== QUOTE) return undefined;
          j = stringEnd(buf, j, to);
          if (j < 0) return undefined;
          if (buf[j] === COMMA) j++;
          else break;
        }
        if (buf[j] !== CLOSE_SQUARE) return undefined;
      }
      j++;
    } else if (
      buf[j] === 0x6e &&
      buf[j + 1] === 0x75 &&
      buf[j + 2] === 0x6c &&
      buf[j + 3] === 0x6c
    ) {
      j += 4; // null
    } else return undefined;
    if (j > to) return undefined;
    spans.keyStarts.push(i);
    spans.keyEnds.push(keyEnd);
    spans.valueEnds.push(j);
    if (j === to) return spans;
    if (buf[j] !== COMMA || j + 1 >= to) return undefined;
    i = j + 1;
  }
  return spans;
}

/** The JSON string at `buf[start, end)`; plain ASCII without escapes is read without a parse. */
function stringAt(buf: Buffer, start: number, end: number): string {
  let plain = true;
  for (let i = start + 1; i < end - 1; i++) {
    const c = buf[i]!;
    if (c === BACKSLASH || c >= 0x80) {
      plain = false;
      break;
    }
  }
  return plain
    ? buf.toString('latin1', start + 1, end - 1)
    : (JSON.parse(buf.toString('utf8', start, end)) as string);
}

/** One entry's tags as the view holds them ([] for null), or undefined past a bound. */
function tagsAt(buf: Buffer, start: number, end: number): string[] | undefined {
  const value = JSON.parse(buf.toString('utf8', start, end)) as string[] | null;
  if (value === null) return [];
  if (value.length > MAX_VIEW_TAGS) return undefined;
  for (const tag of value) if (tag.length > MAX_VIEW_STRING) return undefined;
  return value;
}

const validName = (name: string): boolean => name.length >= 1 && name.length <= MAX_VIEW_STRING;

/** The body without a leading byte-order mark and whitespace around it (as parseJsonBytes reads it). */
function core(bytes: Buffer): Buffer {
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (start < bytes.length && isJsonSpace(bytes[start])) start++;
  let end = bytes.length;
  while (end > start && isJsonSpace(bytes[end - 1])) end--;
  return start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
}

/**
 * Indexes a body already parsed and accepted as `view` (the full path's answer), so the next
 * delivery can be read against it; undefined when the body is not in the compact form a delta
 * reads (then the next delivery is parsed whole too).
 */
export function indexView(body: Buffer, view: ServicesView): IndexedView | undefined {
  const bytes = core(body);
  const n = bytes.length;
  if (n < 2 || bytes[0] !== OPEN_CURLY || bytes[n - 1] !== CLOSE_CURLY) return undefined;
  const spans =
    n === 2 ? { keyStarts: [], keyEnds: [], valueEnds: [] } : scanEntries(bytes, 1, n - 1);
  if (!spans) return undefined;
  let names: string[];
  try {
    names = spans.keyStarts.map((s, i) => stringAt(bytes, s, spans.keyEnds[i]!));
  } catch {
    return undefined;
  }
  // One entry per name: a repeated name would make the index and the view disagree. A
  // `__proto__` entry is an own property after JSON.parse but not after an assignment.
  if (
    new Set(names).size !== names.length ||
    names.length !== Object.keys(view).length ||
    names.includes('__proto__')
  )
    return undefined;
  return {
    bytes,
    view,
    layers: LayeredView.of(view, names),
    names,
    keyStarts: Int32Array.from(spans.keyStarts),
    keyEnds: Int32Array.from(spans.keyEnds),
    valueEnds: Int32Array.from(spans.valueEnds),
  };
}

const CHUNK = 4096;

/** How many bytes `a` and `b` share at their start. */
export function commonPrefix(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i + CHUNK <= n && a.compare(b, i, i + CHUNK, i, i + CHUNK) === 0) i += CHUNK;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** How many bytes `a` and `b` share at their end, at most `max`. */
export function commonSuffix(a: Buffer, b: Buffer, max: number): number {
  const la = a.length;
  const lb = b.length;
  let s = 0;
  while (s + CHUNK <= max && a.compare(b, lb - s - CHUNK, lb - s, la - s - CHUNK, la - s) === 0)
    s += CHUNK;
  while (s < max && a[la - s - 1] === b[lb - s - 1]) s++;
  return s;
}

/** The first index in `sorted` (ascending) whose value is at least `value`. */
function lowerBound(sorted: Int32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `bytes` read against the previous delivery: the new view and what changed, or undefined when
 * the body must be parsed whole.
 */
export function viewDelta(previous: IndexedView, body: Buffer): ViewDelta | undefined {
  const bytes = core(body);
  const old = previous.bytes;
  const len0 = old.length;
  const len1 = bytes.length;
  const n = previous.names.length;
  const p = commonPrefix(old, bytes);
  let k: number;
  let m: number;
  let spans: Spans = { keyStarts: [], keyEnds: [], valueEnds: [] };
  if (p === len0 && len0 === len1) {
    // The same body (a delivery sent again): every entry is kept.
    k = n;
    m = n;
  } else {
    const s = commonSuffix(old, bytes, Math.min(len0, len1) - p);
    if (p < 1 || s < 1) return undefined;
    // Entries 0..k-1 end, comma included, inside the shared start; entries m..n-1 begin, comma
    // before them included, inside the shared end. The entries between are read from `bytes`.
    k = lowerBound(previous.valueEnds, p);
    m = Math.max(k, lowerBound(previous.keyStarts, len0 - s + 1));
    const from = k === 0 ? 1 : previous.valueEnds[k - 1]! + 1;
    const toOld = m === n ? len0 - 1 : previous.keyStarts[m]! - 1;
    const to = toOld + len1 - len0;
    if (to < from) return undefined;
    if (to === from) {
      // Nothing between: only `{}` is whole without an entry there.
      if (k !== 0 || m !== n) return undefined;
    } else {
      const scanned = scanEntries(bytes, from, to);
      if (!scanned) return undefined;
      spans = scanned;
    }
  }
  const shift = len1 - len0;
  const count = n - (m - k) + spans.keyStarts.length;
  if (count > MAX_ITEMS) return undefined;

  const middle: [string, string[]][] = [];
  try {
    for (let i = 0; i < spans.keyStarts.length; i++) {
      const name = stringAt(bytes, spans.keyStarts[i]!, spans.keyEnds[i]!);
      const tags = tagsAt(bytes, spans.keyEnds[i]! + 1, spans.valueEnds[i]!);
      if (!validName(name) || name === '__proto__' || tags === undefined) return undefined;
      middle.push([name, tags]);
    }
  } catch {
    return undefined;
  }
  const replaced = new Set(previous.names.slice(k, m));
  const seen = new Set<string>();
  const added: string[] = [];
  const changed = new Set<string>();
  for (const [name, tags] of middle) {
    if (seen.has(name)) return undefined;
    seen.add(name);
    if (!replaced.has(name)) {
      // A name kept at the start or the end appearing again: a repeated name.
      if (previous.layers.get(name) !== undefined) return undefined;
      added.push(name);
      changed.add(name);
    } else if (!sameTags(previous.layers.get(name), tags)) changed.add(name);
  }
  const removed = [...replaced].filter((name) => !seen.has(name));
  for (const name of removed) changed.add(name);

  // The new view: the previous one's layers with what changed (its names in body order, as
  // JSON.parse would insert them).
  const names = previous.names.slice(0, k).concat(
    middle.map(([name]) => name),
    previous.names.slice(m),
  );
  const edits: [string, string[] | null][] = [];
  for (const name of removed) edits.push([name, null]);
  for (const [name, tags] of middle) if (changed.has(name)) edits.push([name, tags]);
  const layers = previous.layers.next(edits, names);
  const offsets = (kept: Int32Array, found: number[]): Int32Array => {
    const out = new Int32Array(count);
    out.set(kept.subarray(0, k), 0);
    out.set(found, k);
    const base = k + found.length;
    for (let i = m; i < n; i++) out[base + i - m] = kept[i]! + shift;
    return out;
  };
  return {
    indexed: {
      bytes,
      view: layers.view,
      layers,
      names,
      keyStarts: offsets(previous.keyStarts, spans.keyStarts),
      keyEnds: offsets(previous.keyEnds, spans.keyEnds),
      valueEnds: offsets(previous.valueEnds, spans.valueEnds),
    },
    added,
    removed,
    changed,
  };
}
