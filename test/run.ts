// Test runner: Node 20 does not expand globs for --test, so find the files here.
// `unit` runs *.test.ts, `integration` runs *.int.test.ts (the ones that use the emulators).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { availableParallelism } from 'node:os';

const kind = process.argv[2];
if (kind !== 'unit' && kind !== 'integration') {
  console.error('usage: node --import tsx test/run.ts unit|integration [filter]');
  process.exit(2);
}
const filter = process.argv[3];
const root = join(import.meta.dirname);

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : walk(path);
    return [path];
  });
}

const files = walk(root)
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => (kind === 'integration') === f.endsWith('.int.test.ts'))
  .filter((f) => !filter || f.includes(filter))
  .map((f) => relative(process.cwd(), f))
  .sort();

if (files.length === 0) {
  console.log(`no ${kind} tests found`);
  process.exit(0);
}

const concurrency = Math.max(2, availableParallelism());
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
  {
    stdio: 'inherit',
    env: { ...process.env, SYNC_LOG_LEVEL: process.env.SYNC_LOG_LEVEL ?? 'silent' },
  },
);
process.exit(result.status ?? 1);
