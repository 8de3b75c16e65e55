// Scenario cli (issue 19): how long the compiled command takes to answer `--help` and
// `plan --help` (and `--version`, and `--help` through the package's bin as `npx` runs it), as
// ratios to `node -e 0` measured in the same run. Every round runs each command once, in turn,
// so that all of them see the same machine noise; the figures are medians. Help must load
// neither the Kubernetes nor the Consul client: checked on the module trace of one run each.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildCompiled, cleanEnv, REPO_ROOT } from './procs.js';
import { TRACE_IMPORT } from '../commands/run-cli.js';
import { atMost, ms, ratio, type Row, type ScenarioResult, type Target } from './report.js';

export interface CliOptions {
  /** Rounds (each runs every command once). Default 20. */
  runs?: number;
}

/** Target: each help within this many times a bare `node -e 0`. */
const RATIO_TARGET = 4;

interface Run {
  ms: number;
  code: number | null;
  stdoutBytes: number;
  stderr: string;
}

function timed(args: readonly string[]): Promise<Run> {
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdoutBytes = 0;
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdoutBytes += d.length));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({ ms: performance.now() - started, code, stdoutBytes, stderr }),
    );
  });
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export async function runCliStartup(options: CliOptions = {}): Promise<ScenarioResult> {
  const runs = options.runs ?? 20;
  const dir = await buildCompiled();
  // The package as installed: bin/ next to dist/, no sources (so the bin runs dist/ directly).
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync(
    join(REPO_ROOT, 'bin', 'k8s-consul-sync.js'),
    join(dir, 'bin', 'k8s-consul-sync.js'),
  );
  const cli = join(dir, 'dist', 'src', 'cli.js');
  const bin = join(dir, 'bin', 'k8s-consul-sync.js');
  const cases = {
    baseline: ['-e', '0'],
    help: [cli, '--help'],
    planHelp: [cli, 'plan', '--help'],
    version: [cli, '--version'],
    binHelp: [bin, '--help'],
  } as const;
  type Case = keyof typeof cases;
  const times: Record<Case, number[]> = {
    baseline: [],
    help: [],
    planHelp: [],
    version: [],
    binHelp: [],
  };
  const outputBytes: Partial<Record<Case, number>> = {};
  // One unmeasured round warms the file cache.
  for (let round = -1; round < runs; round++) {
    for (const name of Object.keys(cases) as Case[]) {
      const r = await timed(cases[name]);
      if (r.code !== 0)
        throw new Error(`node ${cases[name].join(' ')} exited ${r.code}: ${r.stderr}`);
      if (round >= 0) times[name].push(r.ms);
      outputBytes[name] = r.stdoutBytes;
    }
  }
  const loadedClients: Record<string, string[]> = {};
  for (const name of ['help', 'planHelp'] as const) {
    const traced = await timed(['--import', TRACE_IMPORT, ...cases[name]]);
    loadedClients[name] = traced.stderr
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('LOADED ') && /node_modules\/(@kubernetes\/client-node|consul)\//.test(l),
      );
  }
  const m = Object.fromEntries(
    (Object.keys(times) as Case[]).map((k) => [k, median(times[k])]),
  ) as Record<Case, number>;
  const ratios = {
    help: ratio(m.help, m.baseline),
    planHelp: ratio(m.planHelp, m.baseline),
    version: ratio(m.version, m.baseline),
    binHelp: ratio(m.binHelp, m.baseline),
  };
  const clientModules = loadedClients.help!.length + loadedClients.planHelp!.length;
  const targets: Target[] = [
    atMost('--help / node -e 0 (median wall time)', ratios.help, RATIO_TARGET),
    atMost('plan --help / node -e 0 (median wall time)', ratios.planHelp, RATIO_TARGET),
    atMost('client modules loaded by --help and plan --help', clientModules, 0),
  ];
  const row = (metric: string, name: Exclude<Case, 'baseline'>, target?: number): Row => ({
    metric,
    ours: ms(m[name]),
    baseline: ms(m.baseline),
    ratio: ratios[name],
    ...(target !== undefined ? { target: `<= ${target}`, met: ratios[name] <= target } : {}),
  });
  const rows: Row[] = [
    row('`--help`, compiled (median of the run; baseline `node -e 0`)', 'help', RATIO_TARGET),
    row('`plan --help`, compiled', 'planHelp', RATIO_TARGET),
    row('`--version`, compiled', 'version'),
    row('`--help` through bin/ (as npx runs it, npx itself not counted)', 'binHelp'),
    {
      metric: 'modules of @kubernetes/client-node or consul loaded by `--help`, `plan --help`',
      ours: String(clientModules),
      target: '0',
      met: clientModules === 0,
    },
  ];
  return {
    scenario: 'cli',
    params: { runs },
    figures: {
      medianMs: m,
      p90Ms: Object.fromEntries(
        (Object.keys(times) as Case[]).map((k) => [
          k,
          [...times[k]].sort((a, b) => a - b)[Math.floor(times[k].length * 0.9)] ?? NaN,
        ]),
      ),
      outputBytes,
    },
    ratios,
    targets,
    rows,
    checks: { loadedClients },
  };
}
