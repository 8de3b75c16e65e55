// The k8s-consul-sync command line: parse flags + environment once, dispatch. The development
// tools (sandbox, emulate) live in dev/ and are loaded only when asked for.
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

export async function main(argv: readonly string[]): Promise<number> {
  const first = argv.find((a) => !a.startsWith('-'));
  if (first !== undefined && DEV_COMMANDS.includes(first)) return runDevTool(argv);
  let config: Config;
  try {
    config = parseConfig(argv, process.env);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(err.text + '\n');
      return 0;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`k8s-consul-sync: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const load = commands[config.command];
  if (!load) {
    process.stderr.write(
      `k8s-consul-sync: unknown command ${JSON.stringify(config.command)} (see --help)\n`,
    );
    return 2;
  }
  const run = await load();
  return run(config);
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
