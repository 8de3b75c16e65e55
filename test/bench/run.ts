// `npm run bench -- [scenario…] [--json FILE] [--scale N] [--profile DIR]`: runs the scenarios of
// issue 10 (event-path, reconcile-scale, e2e-lag, footprint), issue 14 (admission-fault),
// issue 20 (heavy-input) and issue 19 (cli; all by default), prints a Markdown table and, with --json, writes one
// object per scenario with every figure, ratio and target. --scale multiplies the sizes (1 =
// 20,000 events, 10,000 services, 1,000 changes, 200 writes per admission-fault phase, 20 big
// Services and 50 audit batches over 2,000 services).
// --profile DIR runs serve, the emulators and the reconcile processes with --cpu-prof into DIR
// (file names carry the pid; the progress lines say which pid is which). BENCH_SERVE_NODE_ARGS
// adds node flags to serve (for example --trace-gc, which NODE_OPTIONS refuses).
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runEventPath, type ServeMemory } from './event-path.js';
import { runReconcileScale } from './reconcile-scale.js';
import { runE2eLag } from './e2e-lag.js';
import { runFootprint } from './footprint.js';
import { runAdmissionFault } from './admission-fault.js';
import { runHeavyInput } from './heavy-input.js';
import { runCliStartup } from './cli.js';
import { runColdStart } from './cold-start.js';
import { EVENT_KINDS, type EventKind } from './fixtures.js';
import { machine, markdownTable, type ScenarioResult } from './report.js';

export const SCENARIOS = [
  'event-path',
  'reconcile-scale',
  'e2e-lag',
  'footprint',
  'admission-fault',
  'heavy-input',
  'cli',
  'cold-start',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchArgs {
  scenarios: ScenarioName[];
  json?: string;
  scale: number;
  profileDir?: string;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const scenarios: ScenarioName[] = [];
  let json: string | undefined;
  let scale = 1;
  let profileDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') ? arg.split('=', 2) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--json') json = value();
    else if (flag === '--scale') {
      scale = Number(value());
      if (!(scale > 0)) throw new Error(`--scale must be a positive number, got ${argv[i]}`);
    } else if (flag === '--profile') profileDir = value();
    else if (flag === '--help' || flag === '-h') {
      throw new Error(
        `usage: npm run bench -- [${SCENARIOS.join('|')} ...] [--json FILE] [--scale N] [--profile DIR]`,
      );
    } else if ((SCENARIOS as readonly string[]).includes(arg)) scenarios.push(arg as ScenarioName);
    else throw new Error(`unknown argument ${arg} (scenarios: ${SCENARIOS.join(', ')})`);
  }
  return {
    scenarios: scenarios.length ? scenarios : [...SCENARIOS],
    scale,
    ...(json ? { json } : {}),
    ...(profileDir ? { profileDir } : {}),
  };
}

function progress(text: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

export async function runBench(args: BenchArgs): Promise<ScenarioResult[]> {
  const profile = args.profileDir
    ? (() => {
        const dir = resolve(args.profileDir);
        mkdirSync(dir, { recursive: true });
        return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
      })()
    : undefined;
  // BENCH_SERVE_NODE_ARGS="--trace-gc": node flags for serve that NODE_OPTIONS does not take
  // (its output goes to serve's log; BENCH_KEEP_LOGS=1 keeps it).
  const extra = (process.env.BENCH_SERVE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const serveArgs = profile || extra.length > 0 ? [...(profile ?? []), ...extra] : undefined;
  const events = Math.max(60, Math.round(20_000 * args.scale));
  const results: ScenarioResult[] = [];
  let eventPathMemory: ServeMemory | undefined;
  for (const name of args.scenarios) {
    const started = performance.now();
    progress(`${name}: starting (load average ${(machine().loadAverage as number[]).join(' ')})`);
    let result: ScenarioResult;
    switch (name) {
      case 'event-path': {
        const r = await runEventPath({
          events,
          // What one kind of review costs, or serve with other flags (README "the event path").
          ...eventPathVariant(),
          ...(serveArgs ? { serveNodeArgs: serveArgs } : {}),
          ...(profile ? { emulatorNodeArgs: profile } : {}),
        });
        eventPathMemory = r.memory;
        const { memory: _memory, ...rest } = r;
        result = rest;
        break;
      }
      case 'reconcile-scale':
        result = await runReconcileScale({
          scale: args.scale,
          ...(profile ? { childNodeArgs: profile, emulatorNodeArgs: profile } : {}),
        });
        break;
      case 'e2e-lag':
        result = await runE2eLag({
          changes: Math.max(10, Math.round(1_000 * args.scale)),
          ...(serveArgs ? { serveNodeArgs: serveArgs } : {}),
          ...(profile ? { emulatorNodeArgs: profile } : {}),
        });
        break;
      case 'footprint':
        result = await runFootprint({
          events,
          ...(eventPathMemory ? { fromEventPath: eventPathMemory } : {}),
        });
        break;
      case 'admission-fault':
        result = await runAdmissionFault({
          writes: Math.max(20, Math.round(200 * args.scale)),
          ...(serveArgs ? { serveNodeArgs: serveArgs } : {}),
          ...(profile ? { emulatorNodeArgs: profile } : {}),
        });
        break;
      case 'heavy-input':
        result = await runHeavyInput({
          rounds: Math.max(5, Math.round(20 * args.scale)),
          batches: Math.max(10, Math.round(50 * args.scale)),
          services: Math.max(100, Math.round(2_000 * args.scale)),
          // BENCH_HEAVY_EXTERNAL_IPS=40000: issue 20's 40,000-address Service instead of the largest.
          ...(process.env.BENCH_HEAVY_EXTERNAL_IPS
            ? { maxExternalIPs: Number(process.env.BENCH_HEAVY_EXTERNAL_IPS) }
            : {}),
          ...(serveArgs ? { serveNodeArgs: serveArgs } : {}),
          ...(profile ? { emulatorNodeArgs: profile } : {}),
          ...(eventPathVariant().serveFlags ? { serveFlags: eventPathVariant().serveFlags } : {}),
        });
        break;
      case 'cli': // issue 19: --help and plan --help against node -e 0
        result = await runCliStartup({ runs: Math.max(5, Math.round(20 * args.scale)) });
        break;
      case 'cold-start': // issue 18: spawn → first /healthz and first admission, and RSS
        result = await runColdStart({
          runs: Math.max(3, Math.round(12 * args.scale)),
          admissions: Math.max(60, Math.round(1_000 * args.scale)),
          idleMs: args.scale >= 1 ? 5000 : 1000,
        });
        break;
    }
    results.push(result);
    progress(`${name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return results;
}

async function main(): Promise<void> {
  let args: BenchArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const before = machine();
  const results = await runBench(args);
  const after = machine();
  const out = [
    `Machine: ${String(before.cpu)}, ${String(before.cores)} cores, ${((before.memoryBytes as number) / 2 ** 30).toFixed(1)} GiB, ${String(before.os)}, Node ${String(before.node)}.`,
    `Load average (1/5/15 min): ${(before.loadAverage as number[]).join(' / ')} at start, ${(after.loadAverage as number[]).join(' / ')} at end. Scale ${args.scale}.`,
    '',
    markdownTable(results),
    '',
  ].join('\n');
  process.stdout.write(out);
  if (args.json) {
    writeFileSync(
      args.json,
      JSON.stringify(
        results.map(({ rows: _rows, ...r }) => ({
          ...r,
          machine: { ...before, loadAverageAtEnd: after.loadAverage },
          scale: args.scale,
        })),
        null,
        2,
      ) + '\n',
    );
    progress(`wrote ${args.json}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  });
}

/**
 * BENCH_EVENT_KINDS=lb,ext,np narrows the reviews sent; BENCH_SERVE_FLAGS adds serve flags (to
 * event-path and heavy-input).
 */
function eventPathVariant(): { kinds?: EventKind[]; serveFlags?: string[] } {
  const kinds = (process.env.BENCH_EVENT_KINDS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  for (const k of kinds)
    if (!(EVENT_KINDS as readonly string[]).includes(k))
      throw new Error(`BENCH_EVENT_KINDS: ${k} is not one of ${EVENT_KINDS.join(', ')}`);
  const flags = (process.env.BENCH_SERVE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
  return {
    ...(kinds.length > 0 ? { kinds: kinds as EventKind[] } : {}),
    ...(flags.length > 0 ? { serveFlags: flags } : {}),
  };
}
