#!/usr/bin/env node
// Entry point for the package binary: runs the compiled CLI when built, else the TypeScript
// source through tsx. The development tools (sandbox, emulate) are never compiled into the
// build: in a clone they always run from source.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'src', 'cli.js');
const command = process.argv.slice(2).find((a) => !a.startsWith('-'));
const devTool = ['sandbox', 'emulate'].includes(command) && existsSync(join(root, 'dev', 'cli.ts'));
if (existsSync(compiled) && !devTool) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'src', 'cli.ts')).href);
}
