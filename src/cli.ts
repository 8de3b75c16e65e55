// The k8s-consul-sync command line: parse flags + environment once, dispatch. Only the chosen
// command's modules are loaded (help, --version and usage errors load none of them); the
// development tools (sandbox, emulate) live in dev/ and are loaded only when asked for.
import { ConfigError, HelpRequested, parseConfig, type Config } from './config/index.js';

type Command = (config: Config) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.js')).serve,
  reconcile: async () => (await import('./commands/reconcile.js')).reconcileCommand,
  plan: async () => (await import('./commands/reconcile.js')).planCommand,
  token: async () => (await import('./commands/token.js')).token,
};

/** Commands of the development tools (dev/): in a clone, never in the image or the build. */
const DEV_COMMANDS = ['sandbox', 'emulate'];

/**
 * The dev tools' entry, loaded by a computed name so that neither the compiler nor a bundler
 * pulls dev/ into the product's build.
 */
async function runDevTool(argv: readonly string[]): Promise<number> {
  const entry = ['..', 'dev', 'cli.js'].join('/');
  let dev: { main(argv: readonly string[]): Promise<number> };
  try {
    dev = (await import(entry)) as typeof dev;
  } catch {
    process.stderr.write(
      'k8s-consul-sync: sandbox and emulate are development tools, not part of this build; in a clone of the repository run `npm ci && npm run sandbox`\n',
    );
    return 2;
  }
  return dev.main(argv);
}

/**
 * Whether the run asked for Terraform's exit codes (plan --detailed-exitcode): then a usage
 * error exits 1, never 2, which would read as "changes present".
 */
function wantsDetailedExitCode(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  const flag = argv.find((a) => /^--?detailed-exitcode(=|$)/.test(a));
  const value = flag === undefined ? env.SYNC_DETAILED_EXITCODE : (flag.split('=')[1] ?? 'true');
  return value !== undefined && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}

function usageError(err: ConfigError, detailed: boolean): number {
  process.stderr.write(`k8s-consul-sync: ${err.message}\n`);
  return detailed ? 1 : 2;
}

export async function main(argv: readonly string[]): Promise<number> {
  const positionals = argv.filter((a) => !a.startsWith('-'));
  const [first, second] = positionals;
  if (first !== undefined && DEV_COMMANDS.includes(first)) return runDevTool(argv);
  if (first === 'help' && second !== undefined && DEV_COMMANDS.includes(second))
    return runDevTool(argv);
  const detailed = wantsDetailedExitCode(argv, process.env);
  let config: Config;
  try {
    config = parseConfig(argv, process.env);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(err.text + '\n');
      return 0;
    }
    if (err instanceof ConfigError) return usageError(err, detailed);
    throw err;
  }
  const load = commands[config.command];
  if (!load) return runDevTool(argv); // sandbox or emulate after a flag's value
  const run = await load();
  try {
    return await run(config);
  } catch (err) {
    // A setting found unusable only when the command starts (a kubeconfig, a context).
    if (err instanceof ConfigError) return usageError(err, detailed);
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`k8s-consul-sync: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
