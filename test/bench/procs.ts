// Child processes of the benchmark: `serve` (the real CLI), the baseline server, and one-shot
// scripts (reconcile-child.ts); and their memory as the kernel reports it (/proc/PID/status).
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml } from 'yaml';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export interface Memory {
  /** Resident set size now (VmRSS), bytes. */
  rss: number;
  /** Peak resident set size (VmHWM), bytes. */
  peak: number;
}

/** RSS and peak RSS of a process (Linux /proc); null where unavailable. */
export function memoryOf(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : 0;
    };
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return null;
  }
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system, all threads) a process has used so far, in ms (Linux /proc). */
export function cpuTimeMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the samples' maximum. */
export function sampleRss(pid: number, everyMs = 100): { stop(): number } {
  let max = 0;
  const take = (): void => {
    const m = memoryOf(pid);
    if (m && m.rss > max) max = m.rss;
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return max;
    },
  };
}

/**
 * This process's environment without the settings serve reads (SYNC_*, CONSUL_*, KUBECONFIG):
 * every run measures the defaults plus the flags given, whatever the caller's shell holds.
 */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(SYNC_|CONSUL_)/.test(k) || k === 'KUBECONFIG') continue;
    env[k] = v;
  }
  return env;
}

export interface ServeProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

export interface ServeOptions {
  consulAddress: string;
  kubeconfigPath: string;
  flags?: string[];
  /** Extra node options, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR']. */
  nodeArgs?: string[];
  env?: Record<string, string>;
  /**
   * Run the built CLI of this directory (buildCompiled: the esbuild bundle the Dockerfile runs)
   * instead of the sources through tsx.
   */
  compiledDir?: string;
}

/**
 * `k8s-consul-sync serve` in its own process, exactly as an operator starts it (through tsx,
 * as `npm start` does). Its JSON log lines go to a file, not through a pipe to this process.
 */
export async function startServe(options: ServeOptions): Promise<ServeProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-serve-'));
  const logFile = join(dir, 'serve.log');
  const fd = openSync(logFile, 'w');
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      ...(options.compiledDir
        ? [join(options.compiledDir, BUNDLE_DIR, BUNDLE_ENTRY)]
        : ['--import', 'tsx', 'src/cli.ts']),
      'serve',
      '--insecure-http',
      '--auth-disabled',
      '--listen',
      '127.0.0.1:0',
      `--consul-http-addr=${options.consulAddress}`,
      `--kubeconfig=${options.kubeconfigPath}`,
      ...(options.flags ?? []),
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', fd, fd],
      // Built, it runs as the image does: with the image's NODE_OPTIONS.
      env: {
        ...cleanEnv(),
        ...(options.compiledDir ? { NODE_OPTIONS: imageNodeOptions() } : {}),
        ...options.env,
      },
    },
  );
  closeSync(fd);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((r) =>
    child.once('exit', (code) => {
      exitCode = code;
      r();
    }),
  );
  const deadline = Date.now() + 60_000;
  let url: string | undefined;
  while (!url) {
    if (exitCode !== undefined) {
      throw new Error(`serve exited (${exitCode}): ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`serve did not start: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    const m = /k8s-consul-sync serving on (\S+)/.exec(readFileSync(logFile, 'utf8'));
    if (m) url = m[1]!.replace(/\/$/, '');
    else await sleep(50);
  }
  return {
    url,
    pid: child.pid!,
    child,
    logFile,
    stop: async () => {
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      // BENCH_KEEP_LOGS=1 keeps serve's JSON log (serve.log in a bench-serve-* temporary directory).
      if (process.env.BENCH_KEEP_LOGS !== '1') rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * NODE_OPTIONS of the image (the Dockerfile's `ENV NODE_OPTIONS=`; issue 18:
 * `--max-semi-space-size`). Processes that stand for the image (`serve` built, the reconcile
 * child) get it, so the bench measures what ships. BENCH_IMAGE_NODE_OPTIONS overrides it (empty
 * for none), for before/after runs.
 */
export function imageNodeOptions(): string {
  const override = process.env.BENCH_IMAGE_NODE_OPTIONS;
  if (override !== undefined) return override;
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const lines = [...dockerfile.matchAll(/^ENV\s+NODE_OPTIONS=(?:"([^"]*)"|(\S+))\s*$/gm)];
  const last = lines.at(-1);
  return last ? (last[1] ?? last[2] ?? '') : '';
}

/**
 * NODE_OPTIONS of the reconcile CronJob (infra/kubernetes/base/cronjob-reconcile.yaml), which
 * replaces the image's; the image's when the job sets none. BENCH_RECONCILE_NODE_OPTIONS
 * overrides it (empty for none).
 */
export function reconcileJobNodeOptions(): string {
  const override = process.env.BENCH_RECONCILE_NODE_OPTIONS;
  if (override !== undefined) return override;
  const job = parseYaml(
    readFileSync(join(REPO_ROOT, 'infra/kubernetes/base/cronjob-reconcile.yaml'), 'utf8'),
  ) as {
    spec: {
      jobTemplate: {
        spec: {
          template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } };
        };
      };
    };
  };
  const env = job.spec.jobTemplate.spec.template.spec.containers[0]?.env ?? [];
  return env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? imageNodeOptions();
}

let compiled: Promise<string> | undefined;

/** Where `npm run build` puts the bundled CLI (package.json `bundle`), relative to the root. */
export const BUNDLE_DIR = 'dist/bundle';
export const BUNDLE_ENTRY = 'k8s-consul-sync.mjs';
/**
 * The reconcile child bundled the way the CLI is (package.json `bundle`, same options), so that
 * its memory is the shipped build's (the CronJob runs the bundle), not node_modules' full
 * @kubernetes/client-node that the tsc output loads: relative to buildCompiled's directory.
 */
export const RECONCILE_CHILD_BUNDLE = join('bench-bundle', 'reconcile-child.mjs');

/**
 * Compiles src/ and handlers/ (tsconfig.build.json) and the benchmark's reconcile child, and
 * bundles the CLI as the Dockerfile's build stage does, into a temporary directory with
 * node_modules linked in, once per process; returns that directory (removed at exit, unless
 * BENCH_KEEP_LOGS=1).
 */
export function buildCompiled(): Promise<string> {
  compiled ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-compiled-'));
    // BENCH_KEEP_LOGS=1 keeps it too: a --profile's script URLs point into it (source maps).
    if (process.env.BENCH_KEEP_LOGS === '1') console.error(`[bench] compiled build kept in ${dir}`);
    else process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    writeFileSync(join(dir, 'package.json'), readFileSync(join(REPO_ROOT, 'package.json')));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(REPO_ROOT, 'tsconfig.build.json'),
        compilerOptions: {
          rootDir: REPO_ROOT,
          outDir: join(dir, 'dist'),
          sourceMap: false,
          noEmitOnError: false,
          // tsconfig.json's `types` are resolved from here otherwise.
          typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
        },
        include: [join(REPO_ROOT, 'src'), join(REPO_ROOT, 'handlers')],
        files: [
          join(REPO_ROOT, 'test', 'bench', 'reconcile-child.ts'),
          join(REPO_ROOT, 'test', 'bench', 'baseline-server.ts'),
        ],
      }),
    );
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const child = spawn(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await new Promise<void>((r) => child.once('exit', () => r()));
    // Type errors elsewhere in the tree do not stop tsc from emitting; only missing output does.
    for (const f of ['dist/src/cli.js', 'dist/test/bench/reconcile-child.js']) {
      if (!existsSync(join(dir, f))) throw new Error(`compiling failed: ${output.slice(-2000)}`);
    }
    // The shipped form (the Dockerfile runs it): package.json's own bundle script, elsewhere.
    const bundle = spawnSync(
      'npm',
      ['run', '-s', 'bundle', '--', `--outdir=${join(dir, BUNDLE_DIR)}`],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    );
    if (bundle.status !== 0 || !existsSync(join(dir, BUNDLE_DIR, BUNDLE_ENTRY)))
      throw new Error(`bundling failed: ${bundle.stderr.slice(-2000)}`);
    // The reconcile child through the same bundle.mjs, its entry and names swapped.
    const childBundle = spawnSync(
      process.execPath,
      [
        'bundle.mjs',
        '--entry=test/bench/reconcile-child.ts',
        '--entry-names=reconcile-child',
        `--outdir=${join(dir, 'bench-bundle')}`,
      ],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    if (childBundle.status !== 0 || !existsSync(join(dir, RECONCILE_CHILD_BUNDLE)))
      throw new Error(`bundling the reconcile child failed: ${childBundle.stderr.slice(-2000)}`);
    return dir;
  })();
  return compiled;
}

/** Polls GET path until it answers 200. */
export async function waitFor200(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200`);
    await sleep(100);
  }
}

/** Runs a TypeScript script of test/bench in its own process; it answers with one IPC message. */
export function runScript<T>(
  file: string,
  input: unknown,
  nodeArgs: string[] = [],
  onStart?: (child: ChildProcess) => void,
  loader = true,
  env: Record<string, string> = {},
): Promise<T> {
  const child = fork(isAbsolute(file) ? file : join(import.meta.dirname, file), [], {
    execArgv: [...nodeArgs, ...(loader ? ['--import', 'tsx'] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    cwd: REPO_ROOT,
    env: { ...cleanEnv(), ...env },
  });
  onStart?.(child);
  return new Promise<T>((resolvePromise, reject) => {
    let answered = false;
    child.once('message', (msg: unknown) => {
      answered = true;
      const m = msg as { ok: boolean; result?: T; error?: string };
      if (m.ok) resolvePromise(m.result as T);
      else reject(new Error(`${file}: ${m.error ?? 'failed'}`));
    });
    child.once('exit', (code) => {
      if (!answered) reject(new Error(`${file} exited (${code ?? 'signal'}) without an answer`));
    });
    child.once('spawn', () => child.send(input as object));
  });
}
