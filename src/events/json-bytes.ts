// The bytes of JSON's structure, and its strings' ends, for scanners that read a body's layout
// before (or instead of) parsing it: src/events/view-delta.ts and src/http/json-turns.ts. Pure.

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const OPEN_SQUARE = 0x5b;
export const CLOSE_SQUARE = 0x5d;
export const OPEN_CURLY = 0x7b;
export const CLOSE_CURLY = 0x7d;

/** JSON's whitespace: space, tab, line feed, carriage return (RFC 8259 §2). */
export function isJsonSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * Just past the closing quote of the string opening at `i`, or -1: unterminated before `to`, or
 * holding a control byte (which JSON does not allow unescaped). A byte loop: the strings these
 * scanners meet are short (names, addresses), and a Buffer.indexOf call costs more than the
 * dozen bytes it would skip.
 */
export function stringEnd(buf: Buffer, i: number, to: number = buf.length): number {
  for (let j = i + 1; j < to; j++) {
    const c = buf[j]!;
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) j++;
    else if (c < 0x20) return -1;
  }
  return -1;
}
