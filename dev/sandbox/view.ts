// The live terminal view. On a TTY the whole frame is redrawn in place (cursor home, each line
// cleared to its end, the rest of the screen cleared) and only when its text changed, so there
// is no flicker; elsewhere (a pipe, a log file) plain lines: each event as it happens and the
// catalogs as one block whenever they change, no escape codes.
import { fit, formatEvent } from './render.js';
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
export const CLEAR_SCREEN_END = `${ESC}J`;
export const CLEAR_SCREEN = `${ESC}2J`;
export const HIDE_CURSOR = `${ESC}?25l`;
export const SHOW_CURSOR = `${ESC}?25h`;

export interface View {
  /** The frame's parts; returns whether anything was written. */
  draw(frame: { header: string[]; catalogs: string[]; events: string[] }): boolean;
  event(e: SandboxEvent): void;
  /** Redraw on the next draw even if nothing changed (terminal resized). */
  invalidate(): void;
  close(): void;
}

export class ScreenView implements View {
  private last = '';
  private started = false;

  constructor(private readonly out: Terminal) {}

  draw(frame: { header: string[]; catalogs: string[]; events: string[] }): boolean {
    const width = Math.max(20, this.out.columns ?? 80);
    // One row fewer than the screen: writing the last row would scroll the frame off its origin.
    const height = Math.max(5, (this.out.rows ?? 24) - 1);
    const all = [...frame.header, '', ...frame.catalogs, '', ...frame.events];
    let lines = all;
    if (all.length > height) {
      // Keep the events visible: cut the catalogs and say so.
      const fixed = frame.header.length + frame.events.length + 3;
      const room = Math.max(1, height - fixed);
      const cut = frame.catalogs.slice(0, room);
      cut.push(`… ${frame.catalogs.length - room} more lines (make the terminal taller)`);
      lines = [...frame.header, '', ...cut, '', ...frame.events].slice(0, height);
    }
    const text = lines.map((l) => fit(l, width)).join('\n');
    if (text === this.last) return false;
    this.last = text;
    const prefix = this.started ? '' : HIDE_CURSOR + CLEAR_SCREEN;
    this.started = true;
    this.out.write(
      prefix +
        CURSOR_HOME +
        text
          .split('\n')
          .map((l) => l + CLEAR_LINE_END)
          .join('\n') +
        CLEAR_SCREEN_END,
    );
    return true;
  }

  event(): void {
    // Events are part of the frame.
  }

  invalidate(): void {
    this.last = '';
  }

  close(): void {
    if (this.started) this.out.write(SHOW_CURSOR + '\n');
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

  draw(frame: { catalogs: string[] }): boolean {
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
