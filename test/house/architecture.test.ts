// The house rules of ARCHITECTURE.md, checked on the code's own imports: data flows one way,
// the pure rooms import no I/O, and nothing of the product imports the development tools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Every import of a file: relative ones resolved to repository paths, packages by name. */
function importsOf(file: string): { internal: string[]; packages: string[] } {
  const text = readFileSync(join(root, file), 'utf8');
  const internal: string[] = [];
  const packages: string[] = [];
  for (const m of text.matchAll(
    /(?:^|\n)\s*(?:import|export)[^'"`]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
  )) {
    const spec = (m[1] ?? m[2])!;
    if (spec.startsWith('.')) {
      const target = relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, '.ts');
      internal.push(target);
    } else
      packages.push(
        spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!,
      );
  }
  return { internal, packages };
}

/** The room of a file: src/<folder>, src/<file>, handlers, dev. */
function roomOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'src') return parts.length > 2 ? `src/${parts[1]}` : file.replace(/\.ts$/, '');
  return parts[0]!;
}

/** Which rooms each room may import (besides itself). The order is the flow of the house. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  'src/errors': [],
  'src/concurrency': [],
  'src/translate': [],
  'src/plan': ['src/translate'],
  'src/telemetry': ['src/errors'],
  'src/config': ['src/translate'],
  'src/events': ['src/translate', 'src/errors'],
  'src/auth': ['src/errors', 'src/telemetry'],
  'src/consul': ['src/translate', 'src/plan', 'src/errors', 'src/telemetry', 'src/config'],
  'src/kube': ['src/translate', 'src/errors', 'src/telemetry', 'src/config'],
  'src/http': ['src/auth', 'src/config', 'src/errors', 'src/telemetry', 'src/events'],
  'src/sync': [
    'src/translate',
    'src/plan',
    'src/consul',
    'src/kube',
    'src/events',
    'src/errors',
    'src/telemetry',
    'src/config',
  ],
  handlers: [
    'src/sync',
    'src/events',
    'src/translate',
    'src/plan',
    'src/consul',
    'src/errors',
    'src/telemetry',
    'src/config',
    'src/http',
    'src/auth',
  ],
  'src/commands': [
    'handlers',
    'src/sync',
    'src/http',
    'src/auth',
    'src/config',
    'src/telemetry',
    'src/errors',
    'src/plan',
    'src/translate',
  ],
  'src/cli': ['src/commands', 'src/config'],
};

/** Packages that do I/O or belong to an edge: never in the pure rooms. */
const IO = [
  'node:http',
  'node:https',
  'node:net',
  'node:fs',
  'express',
  '@kubernetes/client-node',
  'consul',
  'pino',
  'prom-client',
];

const product = [...tsFiles('src'), ...tsFiles('handlers')];

test('every product file lives in a known room', () => {
  assert.deepEqual(
    [...new Set(product.map(roomOf))].filter((r) => !(r in MAY_IMPORT)),
    [],
  );
});

test('imports flow one way: each room imports only the rooms below it', () => {
  const wrong: string[] = [];
  for (const file of product) {
    const room = roomOf(file);
    for (const target of importsOf(file).internal) {
      const to = roomOf(target);
      // Shared by every room: the error type and the one concurrency bound.
      if (to === 'src/errors' || to === 'src/concurrency') continue;
      if (to !== room && !(MAY_IMPORT[room] ?? []).includes(to)) wrong.push(`${file} → ${target}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('translate/ and plan/ are pure: no I/O, no server, no client library', () => {
  const wrong: string[] = [];
  for (const file of product.filter((f) => /^src\/(translate|plan)\//.test(f)))
    for (const p of importsOf(file).packages) if (IO.includes(p)) wrong.push(`${file} → ${p}`);
  assert.deepEqual(wrong, []);
});

test('the product never imports the development tools (dev/) or the tests', () => {
  const wrong: string[] = [];
  for (const file of product)
    for (const target of importsOf(file).internal)
      if (/^(dev|test)\//.test(target)) wrong.push(`${file} → ${target}`);
  assert.deepEqual(wrong, []);
});

test('the build, the image and the npm package hold none of dev/, and no dependency only it needs', () => {
  const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as {
    include: string[];
  };
  assert.deepEqual(build.include.sort(), ['handlers', 'src']);
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const copied = [...dockerfile.matchAll(/^COPY\s+(?:--from=\S+\s+)?(.+?)\s+\S+$/gm)].flatMap((m) =>
    m[1]!.split(/\s+/),
  );
  assert.ok(!copied.some((c) => c.startsWith('dev')), `Dockerfile copies ${copied.join(' ')}`);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    files: string[];
    dependencies: Record<string, string>;
  };
  assert.ok(!pkg.files.includes('dev'), 'package files');
  const devOnly = new Set<string>();
  for (const file of tsFiles('dev')) for (const p of importsOf(file).packages) devOnly.add(p);
  for (const file of product) for (const p of importsOf(file).packages) devOnly.delete(p);
  const shipped = Object.keys(pkg.dependencies).filter((d) => devOnly.has(d));
  assert.deepEqual(shipped, [], 'runtime dependencies only the dev tools use');
  assert.ok(existsSync(join(root, 'dev', 'cli.ts')));
});

test("the product loads client-node's KubeConfig and Watch on their own, never the package's index", () => {
  // The index also loads every generated API class and model (README, "Performance"): type
  // imports are erased, anything else must name the module it needs.
  const wrong: string[] = [];
  for (const file of product) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(
      /(?:^|\n)\s*(import|export)(\s+type\b)?[^'"`;]*?from\s*['"]@kubernetes\/client-node['"]|import\(\s*['"]@kubernetes\/client-node['"]\s*\)/g,
    ))
      if (!m[2]) wrong.push(file);
  }
  assert.deepEqual(wrong, []);
});
