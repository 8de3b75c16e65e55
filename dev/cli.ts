// The development tools' command line (`sandbox`, `emulate`): the product's flags and
// environment plus the tools' own flags, which stay out of the product's Config and image.
import {
  ConfigError,
  HelpRequested,
  parseConfigWith,
  type Config,
  type FlagDef,
} from '../src/config/index.js';
import { parseGoBool } from '../src/translate/index.js';
import type { DevOptions } from './commands/options.js';

export const DEV_FLAGS: readonly FlagDef[] = [
  {
    name: 'once',
    kind: 'bool',
    group: 'command',
    default: 'false',
    description: 'sandbox: run the scripted scenario, check both catalogs, exit.',
    commands: ['sandbox'],
  },
  {
    name: 'kubeconfig-out',
    kind: 'string',
    group: 'command',
    default: '',
    description: 'emulate kube / sandbox: write the emulator kubeconfig here.',
    commands: ['emulate', 'sandbox'],
  },
];

export type { DevOptions } from './commands/options.js';

export function parseDevArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { config: Config; dev: DevOptions } {
  const { config, extra } = parseConfigWith(argv, env, DEV_FLAGS);
  const once = extra.get('once')?.[0];
  const out = extra.get('kubeconfig-out')?.[0];
  return {
    config,
    dev: {
      once: once !== undefined && parseGoBool(once) === true,
      ...(out ? { kubeconfigOut: out } : {}),
    },
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  let parsed: { config: Config; dev: DevOptions };
  try {
    parsed = parseDevArgs(argv);
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
  const { config, dev } = parsed;
  if (config.command === 'sandbox')
    return (await import('./commands/sandbox.js')).sandbox(config, dev);
  if (config.command === 'emulate')
    return (await import('./commands/emulate.js')).emulate(config, dev);
  process.stderr.write(`k8s-consul-sync: ${config.command} is not a development tool\n`);
  return 2;
}
