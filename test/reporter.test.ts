// The compact reporter of `npm test` (test/reporter.ts) on a real node:test run: a line per
// passing file and nothing per passing test; every failure in full with its file:line and its
// whole name (suite › test), the assertion's diff, a file that did not load with its output; and
// the list of failures at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

/**
 * node:test's run() with the reporter, in a process of its own: run() does nothing inside a
 * file the test runner is running.
 */
async function report(dir: string, files: string[]): Promise<string> {
  const reporter = pathToFileURL(join(import.meta.dirname, 'reporter.ts')).href;
  // A file, not -e: run() gives its children this process's flags, and -e would be one.
  const driver = join(dir, 'drive.mjs');
  writeFileSync(
    driver,
    `import { run } from 'node:test';
import compact from ${JSON.stringify(reporter)};
run({ files: ${JSON.stringify(files)}, concurrency: 2 }).compose(compact).pipe(process.stdout);
`,
  );
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', driver], {
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return stdout;
}

const FILES = {
  'passes.test.mjs': `import { test } from 'node:test';
test('one', () => {});
test('two', () => {});
`,
  'fails.test.mjs': `import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
test('fine', () => {});
describe('group', () => {
  test('inner fails', () => { assert.deepEqual({ a: 1 }, { a: 2 }); });
});
test('skipped', { skip: true }, () => {});
`,
  'crashes.test.mjs': `throw new Error('boom at load');
`,
};

test('a line per file, every failure in full with file, line and whole name, then the list', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reporter-test-'));
  try {
    const files = Object.entries(FILES).map(([name, body]) => {
      const path = join(dir, name);
      writeFileSync(path, body);
      return path;
    });
    const out = await report(dir, files);
    const show = (name: string): string => relative(process.cwd(), join(dir, name));

    assert.match(out, new RegExp(`^✔ ${show('passes.test.mjs')} {2}2 passed {2}\\(.+\\)$`, 'm'));
    assert.doesNotMatch(out, /\bone\b|\btwo\b/, 'passing tests are not listed one by one');

    assert.match(
      out,
      new RegExp(`^✖ ${show('fails.test.mjs')} {2}1 passed, 1 failed, 1 skipped`, 'm'),
    );
    assert.match(
      out,
      new RegExp(`^ {2}✖ group › inner fails\\n {4}at ${show('fails.test.mjs')}:5:3$`, 'm'),
    );
    assert.match(
      out,
      /AssertionError \[ERR_ASSERTION\]: Expected values to be strictly deep-equal/,
    );
    assert.match(out, /^ {4}\+ {3}a: 1$/m, 'the diff');
    assert.match(out, /^ {4}- {3}a: 2$/m);

    assert.match(out, new RegExp(`^✖ ${show('crashes.test.mjs')} {2}0 passed, 1 failed`, 'm'));
    assert.match(out, /the file failed: its output is below/);
    assert.match(out, /^ {2}│ Error: boom at load$/m, "the file's own output");

    assert.match(out, /^3 files, \d+ tests: 3 passed, 2 failed, 1 skipped/m);
    const list = out.slice(out.indexOf('failed (in full above):'));
    assert.ok(list.includes(`  ${show('fails.test.mjs')}:5:3  group › inner fails`), list);
    assert.ok(
      list.includes(
        `  ${show('crashes.test.mjs')}:1:1  ${show('crashes.test.mjs')} (the file itself)`,
      ),
    );
    assert.ok(out.split('\n').length < 80, 'compact');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
