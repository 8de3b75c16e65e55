// `npm run fuzz -- [--seed N] [--count N] [--json FILE] [--replay I] [--compiled] [--no-faults]
//                  [--concurrent-share X] [--concurrency N] [--healthz-limit MS] [--idle MS]
//                  [--serve-flag FLAG]…`
// Runs the fuzz suite (suite.ts) against a real `serve`, prints the summary, writes the figures as
// JSON when asked, and exits 1 on any violation (2 on a usage error).
import { writeFileSync } from 'node:fs';
import { formatReport } from './report.js';
import { runFuzz, type FuzzOptions } from './suite.js';

const DEFAULT_SEED = 20;
const DEFAULT_COUNT = 10_000;

const USAGE =
  'usage: npm run fuzz -- [--seed N] [--count N] [--json FILE] [--replay I] [--compiled] [--no-faults] [--concurrent-share 0..1] [--concurrency N] [--healthz-limit MS] [--idle MS] [--serve-flag FLAG]…';

function parseArgs(argv: string[]): (FuzzOptions & { json?: string }) | string {
  const o: FuzzOptions & { json?: string } = { seed: DEFAULT_SEED, count: DEFAULT_COUNT };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const [flag, inline] = raw.includes('=')
      ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)]
      : [raw, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = value();
      if (!/^\d+$/.test(v)) throw new Error(`${flag}: not a non-negative integer: ${v}`);
      return Number(v);
    };
    switch (flag) {
      case '--seed':
        o.seed = int();
        break;
      case '--count':
        o.count = int();
        break;
      case '--json':
        o.json = value();
        break;
      case '--replay':
        o.replay = int();
        break;
      case '--compiled':
        o.compiled = true;
        break;
      case '--no-faults':
        o.faults = false;
        break;
      case '--concurrent-share': {
        const v = Number(value());
        if (!(v >= 0 && v <= 1)) throw new Error('--concurrent-share: a number from 0 to 1');
        o.concurrentShare = v;
        break;
      }
      case '--concurrency':
        o.concurrency = Math.max(1, int());
        break;
      case '--healthz-limit':
        o.healthzLimitMs = int();
        break;
      case '--serve-flag':
        (o.serveFlags ??= []).push(value());
        break;
      case '--idle':
        o.idleMs = int();
        break;
      case '--help':
      case '-h':
        return USAGE;
      default:
        throw new Error(`unknown argument ${raw}`);
    }
  }
  return o;
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`fuzz: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (typeof options === 'string') {
    process.stdout.write(options + '\n');
    return 0;
  }
  const { json, ...fuzz } = options;
  const report = await runFuzz({
    ...fuzz,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(formatReport(report) + '\n');
  if (json) {
    writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(`figures written to ${json}\n`);
  }
  return report.violationClasses.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `fuzz: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 2;
  },
);
