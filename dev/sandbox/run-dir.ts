// Where a sandbox started from the command line keeps its files: one fixed directory under the OS
// temp dir, so the kubeconfig, the signing secret and the server log have the same printed path
// on every run and the log is still there after exit. A second sandbox running at the same time
// gets its own directory instead of taking the first one's files.
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const RUN_DIR_NAME = 'k8s-consul-sync-sandbox';
const PID_FILE = 'sandbox.pid';

export interface RunDir {
  dir: string;
  /** Whether `dir` is the fixed one (false: a fresh one, because the fixed one was taken). */
  fixed: boolean;
  /** Frees the directory for the next sandbox; the files in it stay. */
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Ours alone: a real directory (not a symlink) owned by this user that nobody else can read or
 * write. A shared /tmp is writable by every user, so a fixed name there must be checked.
 */
function privateDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    const uid = process.getuid?.();
    return (
      st.isDirectory() &&
      !st.isSymbolicLink() &&
      (uid === undefined || st.uid === uid) &&
      (st.mode & 0o077) === 0
    );
  } catch {
    return false;
  }
}

function holder(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, PID_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Writes our pid unless a live process holds the file (created exclusively: no two winners). */
function claim(pidFile: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600, flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    }
    const pid = holder(dirname(pidFile));
    if (pid !== undefined && alive(pid)) return false;
    // Left by a sandbox that did not stop cleanly (or unreadable): take it over.
    rmSync(pidFile, { force: true });
  }
  return false;
}

/**
 * `<tmp>/k8s-consul-sync-sandbox` when it is free (or held by a process that is gone), else a
 * fresh `<tmp>/k8s-consul-sync-sandbox-XXXXXX`.
 */
export function claimRunDir(base: string = tmpdir()): RunDir {
  const fixed = join(base, RUN_DIR_NAME);
  try {
    mkdirSync(fixed, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const pidFile = join(fixed, PID_FILE);
  if (privateDir(fixed) && claim(pidFile)) {
    return {
      dir: fixed,
      fixed: true,
      release: () => {
        if (holder(fixed) === process.pid) rmSync(pidFile, { force: true });
      },
    };
  }
  const dir = mkdtempSync(`${fixed}-`);
  return { dir, fixed: false, release: () => undefined };
}
