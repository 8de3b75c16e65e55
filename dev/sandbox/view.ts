// The live terminal view. The start-up text (addresses, exports, token) is printed once, in the
// normal flow, so it can be selected and copied while the view runs and stays in the scrollback.
// On a TTY the frame below it (catalogs and events) is redrawn in place — back to its first line,
// each line cleared then written, no full-screen clear, so no flicker — and only when its text
// changed; a resize reprints everything once (the terminal may have re-wrapped the old frame).
// Elsewhere (a pipe, a log file) plain lines: each event as it happens and the catalogs as one
// block whenever they change, no escape codes.
import { fit, formatEvent, terminalWidth } from './render.js';
import type { SandboxEvent } from './events.js';

export interface Terminal {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

const ESC = '\u001b[';
export const CURSOR_HOME = `${ESC}H`;
export const CLEAR_LINE_END = `${ESC}K`;
export const CLEAR_SCREEN = `${ESC}2J`;
export const HIDE_CURSOR = `${ESC}?25l`;
export const SHOW_CURSOR = `${ESC}?25h`;
/** Cursor up `n` lines (n ≥ 1). */
export const cursorUp = (n: number): string => `${ESC}${n}A`;

export interface Frame {
  catalogs: string[];
  events: string[];
}

export interface View {
  /** Draws the frame; returns whether anything was written. */
  draw(frame: Frame): boolean;
  event(e: SandboxEvent): void;
  /** Redraw everything on the next draw, even if nothing changed (terminal resized). */
  invalidate(): void;
  close(): void;
}

export class ScreenView implements View {
  private last = '';
  /** The frame's lines on screen; the cursor is on the last one. */
  private screen: string[] = [];
  private reprint = false;
  private closed = false;

  /** Prints `header` once, at once. */
  constructor(
    private readonly out: Terminal,
    private readonly header: string[],
  ) {
    this.out.write(HIDE_CURSOR + this.headerText());
  }

  private headerText(): string {
    return this.header.length > 0 ? this.header.join('\n') + '\n\n' : '';
  }

  /** The frame's lines: at most one row fewer than the screen, so redrawing never scrolls it. */
  private layout(frame: Frame, width: number): string[] {
    const height = Math.max(5, (this.out.rows || 24) - 1);
    let lines = [...frame.catalogs, '', ...frame.events];
    if (lines.length > height) {
      // Keep the events visible: cut the catalogs and say so.
      const room = Math.max(1, height - frame.events.length - 2);
      const cut = frame.catalogs.slice(0, room);
      cut.push(`… ${frame.catalogs.length - room} more lines (make the terminal taller)`);
      lines = [...cut, '', ...frame.events].slice(0, height);
    }
    return lines.map((l) => fit(l, width));
  }

  draw(frame: Frame): boolean {
    if (this.closed) return false;
    const lines = this.layout(frame, Math.max(20, terminalWidth(this.out)));
    const text = lines.join('\n');
    if (text === this.last && !this.reprint) return false;
    this.last = text;
    let prefix = '';
    if (this.reprint) {
      prefix = CLEAR_SCREEN + CURSOR_HOME + this.headerText();
      this.screen = [];
      this.reprint = false;
    } else if (this.screen.length > 0) {
      prefix = '\r' + (this.screen.length > 1 ? cursorUp(this.screen.length - 1) : '');
    }
    // A shorter frame blanks the rest of the last one's lines (the frame never moves up).
    while (lines.length < this.screen.length) lines.push('');
    this.screen = lines;
    // Each line is cleared before it is written: clearing after a full-width line would erase
    // its last character on terminals that wait at the margin before wrapping.
    this.out.write(prefix + lines.map((l) => CLEAR_LINE_END + l).join('\n'));
    return true;
  }

  event(): void {
    // Events are part of the frame.
  }

  invalidate(): void {
    this.reprint = true;
  }

  /**
   * Rewrites the last line (the terminal echoed `^C` after it), moves below the frame and shows
   * the cursor again, so what follows starts on a clean line.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const lastLine = this.screen.at(-1);
    const rewrite = lastLine === undefined ? '' : '\r' + CLEAR_LINE_END + lastLine + '\n';
    this.out.write(rewrite + SHOW_CURSOR);
  }
}

export class PlainView implements View {
  private lastCatalogs = '';

  /** Prints `header` once, at once. */
  constructor(
    private readonly out: Terminal,
    header: string[],
  ) {
    this.out.write(header.join('\n') + '\n\n');
  }

  draw(frame: Frame): boolean {
    const text = frame.catalogs.join('\n');
    if (text === this.lastCatalogs) return false;
    this.lastCatalogs = text;
    this.out.write(`${text}\n\n`);
    return true;
  }

  event(e: SandboxEvent): void {
    this.out.write(`event ${formatEvent(e)}\n`);
  }

  invalidate(): void {
    // Nothing is drawn in place.
  }

  close(): void {
    // Nothing to restore.
  }
}
