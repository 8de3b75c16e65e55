// The k8s-consul-sync command line (SPEC.md §2): parse flags + environment once, dispatch.
import { ConfigError, HelpRequested, parseConfig, type Config } from './config/index.js';

type Command = (config: Config) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.js')).serve,
  reconcile: async () => (await import('./commands/reconcile.js')).reconcileCommand,
  plan: async () => (await import('./commands/reconcile.js')).planCommand,
  emulate: async () => (await import('./commands/emulate.js')).emulate,
  token: async () => (await import('./commands/token.js')).token,
  sandbox: async () => (await import('./commands/sandbox.js')).sandbox,
};

export async function main(argv: readonly string[]): Promise<number> {
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
    const known = ['serve', 'reconcile', 'plan', 'token', 'sandbox', 'emulate'];
    const why = known.includes(config.command)
      ? `command ${config.command} is not implemented yet`
      : `unknown command ${JSON.stringify(config.command)} (see --help)`;
    process.stderr.write(`k8s-consul-sync: ${why}\n`);
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
