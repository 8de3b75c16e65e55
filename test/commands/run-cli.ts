// Runs the command as an operator does: `node bin/k8s-consul-sync.js …` in its own process, which
// runs the build (dist/, made by `npm ci` through the prepare script) or, when a source file
// changed since, the sources through tsx. Optionally records every module the process loads.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(REPO_ROOT, 'bin', 'k8s-consul-sync.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** With `traceModules`: the URL of every module resolved (node: built-ins included). */
  modules: string[];
}

/**
 * A module hook (registered before the command starts) that writes each resolved URL to stderr
 * as `LOADED <url>`: what the command loaded, whatever the loader (ESM or CommonJS import).
 */
const TRACE_HOOKS = `
import { writeSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  writeSync(2, 'LOADED ' + resolved.url + '\\n');
  return resolved;
}`;
/** `--import` this to record every module a node process loads (see TRACE_HOOKS). */
export const TRACE_IMPORT = `data:text/javascript,${encodeURIComponent(
  `import { register } from 'node:module';\nregister(${JSON.stringify(
    `data:text/javascript,${encodeURIComponent(TRACE_HOOKS)}`,
  )});`,
)}`;

/** The environment of the test process without anything that configures the command. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(SYNC_|CONSUL_|KUBECONFIG$|NODE_OPTIONS$)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export async function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; traceModules?: boolean } = {},
): Promise<CliResult> {
  const node = [...(options.traceModules ? ['--import', TRACE_IMPORT] : []), BIN, ...args];
  let result: { code: number; stdout: string; stderr: string };
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, node, {
      cwd: REPO_ROOT,
      env: options.env ?? cleanEnv(),
      maxBuffer: 16 * 1024 * 1024,
    });
    result = { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    result = { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
  const modules: string[] = [];
  const stderr = result.stderr
    .split('\n')
    .filter((line) => {
      if (!line.startsWith('LOADED ')) return true;
      modules.push(line.slice('LOADED '.length));
      return false;
    })
    .join('\n');
  return { ...result, stderr, modules };
}
