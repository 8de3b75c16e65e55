// Where a command-line sandbox keeps its files: one fixed directory under the temp dir, taken
// over from a sandbox that is gone, never shared with one that runs, never one another user
// could read or plant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimRunDir, RUN_DIR_NAME } from '../../dev/sandbox/run-dir.js';

function withBase(fn: (base: string) => void): void {
  const base = mkdtempSync(join(tmpdir(), 'run-dir-test-'));
  try {
    fn(base);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

/** A pid that no process has (one that just exited). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid;
}

test('the fixed directory, private; released for the next sandbox, its files kept', () => {
  withBase((base) => {
    const first = claimRunDir(base);
    assert.equal(first.dir, join(base, RUN_DIR_NAME));
    assert.equal(first.fixed, true);
    writeFileSync(join(first.dir, 'server.log'), 'x');
    first.release();
    assert.ok(existsSync(join(first.dir, 'server.log')), 'the files stay');
    const again = claimRunDir(base);
    assert.equal(again.dir, first.dir, 'free again after release');
    again.release();
  });
});

test('a running sandbox keeps it: the second gets a directory of its own', () => {
  withBase((base) => {
    const first = claimRunDir(base);
    const second = claimRunDir(base);
    assert.equal(second.fixed, false);
    assert.notEqual(second.dir, first.dir);
    assert.ok(second.dir.startsWith(join(base, `${RUN_DIR_NAME}-`)));
    first.release();
    second.release();
  });
});

test('taken over from a sandbox that did not stop cleanly', () => {
  withBase((base) => {
    const dir = join(base, RUN_DIR_NAME);
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'sandbox.pid'), `${deadPid()}\n`);
    const run = claimRunDir(base);
    assert.equal(run.dir, dir);
    assert.equal(run.fixed, true);
    run.release();
  });
});

test('not a directory others can read or write', () => {
  withBase((base) => {
    const dir = join(base, RUN_DIR_NAME);
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const run = claimRunDir(base);
    assert.equal(run.fixed, false, 'a world-writable fixed directory is not used');
    assert.notEqual(run.dir, dir);
  });
});
