// A large JSON body parsed in turns of the event loop. JSON.parse holds the event loop for the
// whole text: 20 to 70 ms for an UPDATE review of the largest legal Service (3 MiB, 111,729
// addresses twice), during which the kubelet's /healthz and every other request wait. Here one
// scan of the bytes (itself paused every SCAN_TURN_BYTES) finds every array and object larger
// than a turn's share, with a comma of its own level about every turn and its members that are
// that large themselves; each of those is rebuilt from runs of its small members, parsed by
// JSON.parse a turn's share at a time (a run is one contiguous slice of the text, so its
// separators are the text's own), and its large members in turn. The result is what
// JSON.parse of the whole text gives, key order and repeated keys included; a layout the scan
// does not accept (any bad JSON among it) sends the text to JSON.parse whole, whose answer or
// error is then the result.
import {
  CLOSE_CURLY,
  CLOSE_SQUARE,
  COLON,
  COMMA,
  isJsonSpace,
  OPEN_CURLY,
  OPEN_SQUARE,
  QUOTE,
  stringEnd,
} from '../events/json-bytes.js';

/**
 * Bodies larger than this are parsed in turns (jsonBody), and the admission handler lets other
 * requests run between its steps: parsing and validating a review of the largest legal Service
 * (1.5 MiB, twice on an UPDATE) each take tens of milliseconds.
 */
export const LARGE_BODY_BYTES = 256 * 1024;

/** Bytes of text parsed between two pauses: about 5 to 10 ms of JSON.parse of addresses. */
export const TURN_BYTES = 512 * 1024;

/** Bytes scanned between two pauses (the scan is cheaper per byte than the parse). */
export const SCAN_TURN_BYTES = 2 * 1024 * 1024;

/** Lets whatever else is waiting (a /healthz, another review) run before going on. */
export const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface TurnOptions {
  /** Text parsed between pauses (default TURN_BYTES); containers larger are rebuilt in parts. */
  turnBytes?: number;
  /** Text scanned between pauses (default SCAN_TURN_BYTES). */
  scanTurnBytes?: number;
  pause?: () => Promise<void>;
  /** Called when the text is parsed whole after all (tests: valid JSON never should be). */
  onWhole?: () => void;
}

/** A member whose value is itself a big container. */
interface Kid {
  /** The separator before the member: its container's `{` or `[`, or a `,`. */
  before: number;
  /** The last `:` of the level before the value (for an object, the member's own). */
  colon: number;
  /** The value's opening bracket. */
  open: number;
  /** The separator after the member: a `,` or the closing bracket (-1 until seen). */
  after: number;
}

/** A container larger than a turn, as the scan found it. */
interface Container {
  close: number;
  /** Commas of its own level about a turn apart: where a run of small members may be cut. */
  cuts: number[];
  /** Its members whose values are big containers, in order. */
  kids: Kid[];
}

/** A container the scan is inside of (big or not: that is known at its end). */
interface Frame {
  open: number;
  lastSep: number;
  lastColon: number;
  lastCut: number;
  cuts: number[];
  kids: Kid[];
  /** The last big member, until the separator after it is seen. */
  waiting: Kid | undefined;
  /** The parent's last separator and colon when this opened. */
  parentSep: number;
  parentColon: number;
}

/** The layout did not come out as JSON: the caller parses the text whole. */
class NotLaid extends Error {}

function onlySpace(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isJsonSpace(buf[i])) return false;
  return true;
}

/** Where a scan stands between two of its turns. */
interface Scan {
  at: number;
  stack: Frame[];
  big: Map<number, Container>;
  /** Set once the top-level value has closed: whether the text is laid out as JSON's. */
  done?: boolean;
  ok?: boolean;
}

function stop(scan: Scan, ok: boolean): void {
  scan.done = true;
  scan.ok = ok;
}

/**
 * Scans text[scan.at, until). Synchronous, so that its loop is optimized as one; the caller
 * pauses between calls. Keeps every container longer than `turnBytes` with what rebuilding it
 * needs: a comma about every turn, and its big members. Not laid out (`ok` false): brackets that
 * do not match, a string that does not close, anything but whitespace after the top level.
 */
function scanPart(buf: Buffer, scan: Scan, until: number, turnBytes: number): void {
  const { stack, big } = scan;
  let top = stack[stack.length - 1];
  const end = Math.min(until, buf.length);
  let i = scan.at;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === QUOTE) {
      const close = stringEnd(buf, i);
      if (close === -1) return stop(scan, false);
      i = close - 1;
    } else if (c === COMMA) {
      if (!top) return stop(scan, false);
      if (top.waiting) {
        top.waiting.after = i;
        top.waiting = undefined;
      }
      top.lastSep = i;
      if (i - top.lastCut >= turnBytes) {
        top.cuts.push(i);
        top.lastCut = i;
      }
    } else if (c === COLON) {
      if (!top) return stop(scan, false);
      top.lastColon = i;
    } else if (c === OPEN_CURLY || c === OPEN_SQUARE) {
      top = {
        open: i,
        lastSep: i,
        lastColon: -1,
        lastCut: i,
        cuts: [],
        kids: [],
        waiting: undefined,
        parentSep: top ? top.lastSep : -1,
        parentColon: top ? top.lastColon : -1,
      };
      stack.push(top);
    } else if (c === CLOSE_CURLY || c === CLOSE_SQUARE) {
      const frame = stack.pop();
      if (!frame || (buf[frame.open] === OPEN_CURLY) !== (c === CLOSE_CURLY))
        return stop(scan, false);
      if (frame.waiting) frame.waiting.after = i;
      top = stack[stack.length - 1];
      if (i - frame.open > turnBytes) {
        big.set(frame.open, { close: i, cuts: frame.cuts, kids: frame.kids });
        if (top) {
          const kid = {
            before: frame.parentSep,
            colon: frame.parentColon,
            open: frame.open,
            after: -1,
          };
          top.kids.push(kid);
          top.waiting = kid;
        }
      }
      if (!top) return stop(scan, onlySpace(buf, i + 1, buf.length));
    }
  }
  scan.at = i;
  if (i >= buf.length) stop(scan, false); // the top-level value never closed
}

/** The whole scan from `start` (an `{` or `[`), paused every `scanTurnBytes`. */
async function scanLayout(
  buf: Buffer,
  start: number,
  turnBytes: number,
  scanTurnBytes: number,
  pause: () => Promise<void>,
): Promise<Map<number, Container> | undefined> {
  const scan: Scan = { at: start, stack: [], big: new Map() };
  for (;;) {
    scanPart(buf, scan, scan.at + scanTurnBytes, turnBytes);
    if (scan.done) return scan.ok ? scan.big : undefined;
    await pause();
  }
}

/** Sets a member as JSON.parse does: an own data property, even for `__proto__`. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

class Builder {
  private spent = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly big: Map<number, Container>,
    private readonly turnBytes: number,
    private readonly pause: () => Promise<void>,
  ) {}

  /** Members text[from, to) of a container, parsed as one run and added to `out` (an array's: as one part). */
  private async addRun(out: unknown, isObject: boolean, from: number, to: number): Promise<void> {
    // Empty (`[1,]` cut at its comma, `[big,]`) would parse as `[]`: bad JSON, not nothing.
    if (onlySpace(this.buf, from, to)) throw new NotLaid();
    const text = this.buf.toString('utf8', from, to);
    const part: unknown = JSON.parse(isObject ? `{${text}}` : `[${text}]`);
    if (isObject) {
      const members = part as Record<string, unknown>;
      for (const key of Object.keys(members))
        define(out as Record<string, unknown>, key, members[key]);
    } else (out as unknown[][]).push(part as unknown[]);
    this.spent += to - from;
    if (this.spent >= this.turnBytes) {
      this.spent = 0;
      await this.pause();
    }
  }

  async container(open: number, node: Container): Promise<unknown> {
    const { buf } = this;
    const isObject = buf[open] === OPEN_CURLY;
    const { close, cuts, kids } = node;
    const out: unknown = isObject ? {} : [];
    if (kids.length === 0 && cuts.length === 0 && onlySpace(buf, open + 1, close)) return out;
    let cursor = 0;
    /** The small members between separators `a` and `b`, cut at the commas kept between. */
    const runs = async (a: number, b: number): Promise<void> => {
      let from = a;
      for (; cursor < cuts.length && cuts[cursor]! < b; cursor++) {
        const cut = cuts[cursor]!;
        if (cut <= from) continue;
        await this.addRun(out, isObject, from + 1, cut);
        from = cut;
      }
      await this.addRun(out, isObject, from + 1, b);
    };
    let prev = open; // the separator after the members added so far
    for (const kid of kids) {
      const inner = this.big.get(kid.open);
      // Two values in one member (`[big big]`) share their separator before.
      if (!inner || kid.after === -1 || kid.before < prev) throw new NotLaid();
      if (kid.before > prev) await runs(prev, kid.before);
      if (!onlySpace(buf, inner.close + 1, kid.after)) throw new NotLaid();
      let key: unknown;
      if (isObject) {
        if (kid.colon <= kid.before || !onlySpace(buf, kid.colon + 1, kid.open))
          throw new NotLaid();
        key = JSON.parse(buf.toString('utf8', kid.before + 1, kid.colon));
        if (typeof key !== 'string') throw new NotLaid();
      } else if (!onlySpace(buf, kid.before + 1, kid.open)) throw new NotLaid();
      const value = await this.container(kid.open, inner);
      if (isObject) define(out as Record<string, unknown>, key as string, value);
      else (out as unknown[][]).push([value]);
      prev = kid.after;
    }
    if (prev < close) await runs(prev, close);
    // An array is gathered as its parts, joined once (appending item by item cost 7 ms of a
    // 3 MiB review).
    return isObject ? out : ([] as unknown[]).concat(...(out as unknown[][]));
  }
}

/**
 * JSON.parse of `buf` from `start` (an `{` or `[`, past any whitespace), with pauses: the text is
 * scanned and parsed a turn's share at a time. Throws what JSON.parse throws for bad JSON (the
 * whole text is then parsed once, in one turn, to say so).
 */
export async function parseInTurns(
  buf: Buffer,
  start: number,
  options: TurnOptions = {},
): Promise<unknown> {
  const turnBytes = options.turnBytes ?? TURN_BYTES;
  const pause = options.pause ?? yieldTurn;
  const whole = (): unknown => {
    options.onWhole?.();
    return JSON.parse(buf.toString('utf8', start));
  };
  const big = await scanLayout(
    buf,
    start,
    turnBytes,
    options.scanTurnBytes ?? SCAN_TURN_BYTES,
    pause,
  );
  const root = big?.get(start);
  if (!big || !root) return whole();
  try {
    return await new Builder(buf, big, turnBytes, pause).container(start, root);
  } catch {
    // Bad JSON somewhere in a part, or a layout that is not JSON's: the whole parse decides.
    return whole();
  }
}
