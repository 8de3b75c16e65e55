// Test runner. `unit` runs *.test.ts, `integration` runs *.int.test.ts (the ones that use the
// emulators), `all` is `npm test`: typecheck, lint, unit tests, integration tests, in that order,
// each announced and timed, stopping at the first that fails (its exit code is the run's).
// Node 20 does not expand globs for --test, so the files are found here; they run through
// node:test's run() with the compact reporter (test/reporter.ts: a line per file, failures in
// full). TEST_REPORTER=spec|tap|dot picks one of Node's own instead.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { availableParallelism } from 'node:os';
import { finished } from 'node:stream/promises';
import { run } from 'node:test';
import { dot, spec, tap, type TestEvent } from 'node:test/reporters';
import type { Readable } from 'node:stream';
import compact from './reporter.js';

type Kind = 'unit' | 'integration';

const root = join(import.meta.dirname);

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : walk(path);
    return [path];
  });
}

function testFiles(kind: Kind, filter: string | undefined): string[] {
  return walk(root)
    .filter((f) => f.endsWith('.test.ts'))
    .filter((f) => (kind === 'integration') === f.endsWith('.int.test.ts'))
    .filter((f) => !filter || f.includes(filter))
    .map((f) => relative(process.cwd(), f))
    .sort();
}

function reporter(stream: Readable): NodeJS.ReadableStream {
  const name = process.env.TEST_REPORTER;
  if (name === 'spec') return stream.compose(new spec());
  if (name === 'tap') return stream.compose(tap);
  if (name === 'dot') return stream.compose(dot);
  return stream.compose(compact);
}

/** Runs the files (each in its own process, with this process's --import tsx); 0 or 1. */
async function runTests(kind: Kind, filter: string | undefined): Promise<number> {
  const files = testFiles(kind, filter);
  if (files.length === 0) {
    console.log(`no ${kind} tests found`);
    return 0;
  }
  // The server's log lines would bury the report; a test that wants them sets its own level.
  process.env.SYNC_LOG_LEVEL ??= 'silent';
  // tsx's source maps: a failure's file:line and stack point into the .ts source, not the
  // transpiled text (run() passes the environment on to each file's process).
  if (!process.env.NODE_OPTIONS?.includes('--enable-source-maps')) {
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --enable-source-maps`.trim();
  }
  const stream = run({ files, concurrency: Math.max(2, availableParallelism()) });
  let failed = false;
  stream.on('test:fail', (data: Extract<TestEvent, { type: 'test:fail' }>['data']) => {
    // A failing todo test does not fail the run (as with node --test).
    if (data.todo === undefined || data.todo === false) failed = true;
  });
  const out = reporter(stream);
  out.pipe(process.stdout, { end: false });
  await finished(out);
  return failed ? 1 : 0;
}

/** `npm run --silent <script>` with the npm that runs us (npm_execpath), else the one on PATH. */
function npmScript(script: string): number {
  const npm = process.env.npm_execpath;
  const [command, args] =
    npm && /\.[cm]?js$/.test(npm)
      ? [process.execPath, [npm, 'run', '--silent', script]]
      : ['npm', ['run', '--silent', script]];
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (result.error) {
    console.error(`cannot run npm: ${result.error.message}`);
    return 1;
  }
  return result.status ?? (result.signal === 'SIGINT' ? 130 : 1);
}

function took(ms: number): string {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

interface Phase {
  name: string;
  run: () => number | Promise<number>;
}

/** `npm test`: every phase announced before it starts and timed when it ends. */
async function all(): Promise<number> {
  const phases: Phase[] = [
    { name: 'typecheck', run: () => npmScript('typecheck') },
    { name: 'lint', run: () => npmScript('lint') },
    { name: 'unit tests', run: () => runTests('unit', undefined) },
    { name: 'integration tests', run: () => runTests('integration', undefined) },
  ];
  console.log(
    `npm test: ${phases.map((p) => p.name).join(', ')} (about 4–6 min on 2 cores; TEST_REPORTER=spec for every test)`,
  );
  const started = performance.now();
  const times: string[] = [];
  for (const phase of phases) {
    console.log(`\n▶ ${phase.name}…`);
    const t0 = performance.now();
    const code = await phase.run();
    const ms = performance.now() - t0;
    if (code !== 0) {
      console.log(`✖ ${phase.name} failed (exit ${code}) after ${took(ms)}`);
      console.log(
        `\nnpm test: FAILED at ${phase.name} after ${took(performance.now() - started)}${times.length > 0 ? ` (${times.join(', ')})` : ''}`,
      );
      return code;
    }
    times.push(`${phase.name} ${took(ms)}`);
    console.log(`✔ ${phase.name}  ${took(ms)}`);
  }
  console.log(`\nnpm test: passed in ${took(performance.now() - started)} (${times.join(', ')})`);
  return 0;
}

const kind = process.argv[2];
if (kind !== 'unit' && kind !== 'integration' && kind !== 'all') {
  console.error('usage: node --import tsx test/run.ts unit|integration [filter] | all');
  process.exit(2);
}
process.exitCode = kind === 'all' ? await all() : await runTests(kind, process.argv[3]);
