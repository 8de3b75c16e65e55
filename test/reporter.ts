// A compact reporter for node:test (test/run.ts uses it): one line per test file as it finishes,
// every failure in full — file:line, the test's whole name, the error with its diff and stack,
// and what the file printed — then a summary with the list of failures. Node's own reporters
// stay one variable away: TEST_REPORTER=spec (or tap, dot).
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import type { TestEvent } from 'node:test/reporters';

interface Failure {
  name: string;
  where: string;
  error: unknown;
  cancelled: boolean;
}

interface FileState {
  passed: number;
  failed: number;
  cancelled: number;
  skipped: number;
  todo: number;
  /** The names of the tests running now, by nesting level (for a failure's whole name). */
  names: string[];
  failures: Failure[];
  /** What the file wrote to stdout and stderr, the last lines only. */
  output: string[];
  durationMs?: number;
  /** The error of the file's own completion, when it did not pass. */
  completeError?: unknown;
  done: boolean;
}

const OUTPUT_LINES = 400;

const show = (file: string): string => relative(process.cwd(), file) || file;

/** One key per file: events name it as given, absolute, or as a file URL. */
const norm = (file: string): string =>
  file.startsWith('file:') ? fileURLToPath(file) : resolve(file);

/** The test that stands for a whole file: nesting 0, named by the path the runner was given. */
const isFile = (data: { name?: string; file?: string; nesting: number }): boolean =>
  data.nesting === 0 &&
  data.name !== undefined &&
  data.file !== undefined &&
  norm(data.name) === norm(data.file);

function seconds(ms: number): string {
  return ms < 100 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');
}

/** The error a test threw: node:test wraps it (ERR_TEST_FAILURE) with the original as cause. */
function describeError(error: unknown): string {
  const wrapped = error as { code?: string; cause?: unknown } | undefined;
  const inner = wrapped?.code === 'ERR_TEST_FAILURE' ? wrapped.cause : error;
  if (typeof inner === 'string') return inner;
  return inspect(inner, { depth: 6, colors: false, breakLength: 100 });
}

function failureType(error: unknown): string | undefined {
  return (error as { failureType?: string } | undefined)?.failureType;
}

function counts(s: FileState): string {
  const parts = [`${s.passed} passed`];
  if (s.failed > 0) parts.push(`${s.failed} failed`);
  if (s.cancelled > 0) parts.push(`${s.cancelled} cancelled`);
  if (s.skipped > 0) parts.push(`${s.skipped} skipped`);
  if (s.todo > 0) parts.push(`${s.todo} todo`);
  return parts.join(', ');
}

function fileReport(file: string, s: FileState): string {
  const bad = s.failures.length > 0;
  const took = s.durationMs === undefined ? '' : `  (${seconds(s.durationMs)})`;
  let out = `${bad ? '✖' : '✔'} ${show(file)}  ${counts(s)}${took}\n`;
  if (!bad) return out;
  for (const f of s.failures) {
    if (f.cancelled) {
      out += `\n  ✖ ${f.name}  cancelled (${describeError(f.error)})\n    at ${f.where}\n`;
      continue;
    }
    let error = describeError(f.error);
    // node:test's words for a file that did not run to its end: the reason is in its output.
    if (error === 'test failed' && s.output.length > 0)
      error = 'the file failed: its output is below';
    out += `\n  ✖ ${f.name}\n    at ${f.where}\n${indent(error, '    ')}\n`;
  }
  if (s.output.length > 0) {
    const lines = s.output.join('').trimEnd().split('\n');
    out += `\n  output of ${show(file)}:\n${lines.map((l) => `  │ ${l}`.trimEnd()).join('\n')}\n`;
  }
  return out + '\n';
}

/**
 * node:test reports each file's tests in file order, all of one file before the next, while a
 * file's own completion (test:complete of the test named by its path) comes as soon as its
 * process ends, often before its tests are reported. So a file is printed when the next file's
 * tests start being reported (or its own failure is, or the run ends).
 */
export default async function* compact(
  source: AsyncIterable<TestEvent>,
): AsyncGenerator<string, void> {
  const files = new Map<string, FileState>();
  const state = (given: string): FileState => {
    const file = norm(given);
    let s = files.get(file);
    if (!s) {
      s = {
        passed: 0,
        failed: 0,
        cancelled: 0,
        skipped: 0,
        todo: 0,
        names: [],
        failures: [],
        output: [],
        done: false,
      };
      files.set(file, s);
    }
    return s;
  };
  const summary = new Map<string, string>();
  /** The file whose tests are being reported now. */
  let current: string | undefined;

  /** The file's line (and failures), once. */
  const finish = (given: string): string => {
    const file = norm(given);
    const s = state(file);
    if (s.done) return '';
    s.done = true;
    if (current === file) current = undefined;
    if (s.failures.length === 0 && s.completeError !== undefined) {
      // Its tests passed, but the file did not (its process ended badly).
      s.failed++;
      s.failures.push({
        name: `${show(file)} (the file itself)`,
        where: `${show(file)}:1:1`,
        error: s.completeError,
        cancelled: false,
      });
    }
    return fileReport(file, s);
  };
  /** A test of `file` is being reported: the file before it is complete. */
  const reporting = (given: string): string => {
    const file = norm(given);
    if (current === file) return '';
    const before = current ? finish(current) : '';
    current = file;
    return before;
  };

  for await (const event of source) {
    switch (event.type) {
      case 'test:start': {
        const { file, name, nesting } = event.data;
        // The file itself is a test at nesting 0 too; its tests are named after it.
        if (!file || isFile(event.data)) break;
        yield reporting(file);
        const s = state(file);
        s.names.length = nesting;
        s.names[nesting] = name;
        break;
      }
      case 'test:pass': {
        const { file, details, skip, todo } = event.data;
        if (!file) break;
        if (isFile(event.data)) {
          yield reporting(file) + finish(file);
          break;
        }
        yield reporting(file);
        if (details.type === 'suite') break;
        const s = state(file);
        if (skip !== undefined && skip !== false) s.skipped++;
        else if (todo !== undefined && todo !== false) s.todo++;
        else s.passed++;
        break;
      }
      case 'test:fail': {
        const { file, details, name, nesting, line, column, todo } = event.data;
        if (!file) break;
        const itself = isFile(event.data);
        yield reporting(file);
        if (todo !== undefined && todo !== false) {
          state(file).todo++;
          break;
        }
        const type = failureType(details.error);
        // A suite (or the file) whose tests failed: those are reported themselves.
        if (type === 'subtestsFailed') {
          if (itself) yield finish(file);
          break;
        }
        const s = state(file);
        const whole = itself ? `${show(file)} (the file itself)` : name;
        const names = itself ? [whole] : [...s.names.slice(0, nesting), whole];
        const cancelled = type === 'cancelledByParent';
        if (cancelled) s.cancelled++;
        else if (details.type !== 'suite') s.failed++;
        const failure = {
          name: names.join(' › '),
          where: `${show(file)}:${line ?? 1}:${column ?? 1}`,
          error: details.error,
          cancelled,
        };
        if (s.done) {
          // Late news of a file already printed: print this failure on its own.
          s.failures.push(failure);
          yield fileReport(norm(file), { ...s, failures: [failure] });
          break;
        }
        s.failures.push(failure);
        if (itself) yield finish(file);
        break;
      }
      case 'test:stdout':
      case 'test:stderr': {
        const { file, message } = event.data as { file?: string; message: string };
        if (!file) break;
        const out = state(file).output;
        out.push(message);
        if (out.length > OUTPUT_LINES) out.splice(0, out.length - OUTPUT_LINES);
        break;
      }
      case 'test:complete': {
        const { file, details } = event.data;
        if (!file || !isFile(event.data)) break;
        const s = state(file);
        s.durationMs = details.duration_ms;
        if (!details.passed) s.completeError = details.error ?? 'the test file failed';
        break;
      }
      case 'test:diagnostic': {
        // The run's totals come as diagnostics at the top level ("tests 12", "pass 11", …).
        const { file, nesting, message } = event.data;
        if (file || nesting !== 0) break;
        const m = /^(\w+) ([\d.]+)$/.exec(message);
        if (m) summary.set(m[1]!, m[2]!);
        break;
      }
      default:
        break;
    }
  }

  if (current) yield finish(current);
  // Files none of whose tests were reported (none declared, or the runner stopped early).
  for (const file of files.keys()) yield finish(file);

  const all = [...files.values()];
  const failures = all.flatMap((s) => s.failures);
  const total = (k: 'passed' | 'failed' | 'cancelled' | 'skipped' | 'todo'): number =>
    all.reduce((n, s) => n + s[k], 0);
  const duration = Number(summary.get('duration_ms') ?? NaN);
  const line = [
    `${files.size} files, ${summary.get('tests') ?? '?'} tests: ${total('passed')} passed`,
    `${total('failed')} failed`,
    ...(total('cancelled') > 0 ? [`${total('cancelled')} cancelled`] : []),
    ...(total('skipped') > 0 ? [`${total('skipped')} skipped`] : []),
    ...(total('todo') > 0 ? [`${total('todo')} todo`] : []),
  ].join(', ');
  yield `\n${line}${Number.isFinite(duration) ? `  (${seconds(duration)})` : ''}\n`;
  if (failures.length > 0) {
    yield `failed (in full above):\n${failures.map((f) => `  ${f.where}  ${f.name}\n`).join('')}`;
  }
}
