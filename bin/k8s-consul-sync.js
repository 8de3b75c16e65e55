#!/usr/bin/env node
// Entry point for the package binary: runs the bundled CLI (dist/bundle/, esbuild output of
// src/cli.ts, built by `npm ci` through the `prepare` script, or `npm run build`), else the
// compiled one (dist/src/), else the TypeScript source through tsx. In a clone, a
// source file changed since the build also runs the sources, so an edit is never shadowed by a
// stale build. The development tools (sandbox, emulate) are never compiled into the build: in a
// clone they always run from source.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundled = join(root, 'dist', 'bundle', 'k8s-consul-sync.mjs');
const compiled = existsSync(bundled) ? bundled : join(root, 'dist', 'src', 'cli.js');
// `sandbox`, `emulate`, `help sandbox`: the development tools (a flag's value is never one of these).
const devTool =
  process.argv.slice(2).some((a) => a === 'sandbox' || a === 'emulate') &&
  existsSync(join(root, 'dev', 'cli.ts'));

/** Whether a .ts file under src/ or handlers/ is newer than the build (none exist in the package). */
function sourcesChangedSince(builtMs) {
  for (const dir of ['src', 'handlers']) {
    const base = join(root, dir);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      if (statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs > builtMs) return true;
    }
  }
  return false;
}

if (existsSync(compiled) && !devTool && !sourcesChangedSince(statSync(compiled).mtimeMs)) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'src', 'cli.ts')).href);
}
