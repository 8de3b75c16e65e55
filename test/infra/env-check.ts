// Checks the environment variables the manifests set against what the product reads: SYNC_*
// names from the flag table, CONSUL_* names from docs/reference.md "Flags and environment" that the config code reads.
import assert from 'node:assert/strict';
import { FLAGS, envName, parseConfig, type Config, type FlagDef } from '../../src/config/index.js';
import { readRepoFile } from './load.js';

/** SYNC_<FLAG> → its flag definition. */
export const SYNC_VARS: ReadonlyMap<string, FlagDef> = new Map(
  FLAGS.map((f) => [envName(f.name), f]),
);

/** Consul's standard variables, as docs/reference.md "Flags and environment" lists them. */
export const SPEC_CONSUL_VARS = [
  'CONSUL_HTTP_ADDR',
  'CONSUL_HTTP_SSL',
  'CONSUL_HTTP_TOKEN',
  'CONSUL_HTTP_TOKEN_FILE',
  'CONSUL_CACERT',
  'CONSUL_CLIENT_CERT',
  'CONSUL_CLIENT_KEY',
  'CONSUL_TLS_SERVER_NAME',
  'CONSUL_HTTP_SSL_VERIFY',
] as const;

/**
 * The CONSUL_* variables the product really reads: named in the README's configuration
 * section and read by the config code (`env.CONSUL_…`), and in docs/reference.md's list.
 */
export function consulVarsReadByProduct(): Set<string> {
  const code = new Set(
    [...readRepoFile('src/config/index.ts').matchAll(/env\.(CONSUL_[A-Z_]+)/g)].map((m) => m[1]!),
  );
  const readme = new Set(
    [...readRepoFile('README.md').matchAll(/`(CONSUL_[A-Z_]+)`/g)].map((m) => m[1]!),
  );
  return new Set(SPEC_CONSUL_VARS.filter((v) => code.has(v) && readme.has(v)));
}

/** Every SYNC_* / CONSUL_* name is one the product reads, for the command that runs. */
export function assertKnownEnvNames(
  names: Iterable<string>,
  command: string | readonly string[],
  where: string,
): void {
  const commands = typeof command === 'string' ? [command] : command;
  const consulVars = consulVarsReadByProduct();
  for (const name of names) {
    if (name.startsWith('SYNC_')) {
      const flag = SYNC_VARS.get(name);
      assert.ok(flag, `${where}: ${name} is not the variable of any flag in src/config/flags.ts`);
      if (flag.commands) {
        assert.ok(
          commands.some((c) => flag.commands?.includes(c)),
          `${where}: ${name} (--${flag.name}) applies to ${flag.commands.join('/')}, not to ${commands.join('/')}`,
        );
      }
    } else if (name.startsWith('CONSUL_')) {
      assert.ok(
        consulVars.has(name),
        `${where}: ${name} is not a Consul variable the product reads`,
      );
    }
  }
}

/** All SYNC_* / CONSUL_* words in a text (e.g. a rendered manifest, comments included). */
export function envNamesIn(text: string): Set<string> {
  return new Set([...text.matchAll(/\b((?:SYNC|CONSUL)_[A-Z0-9_]+)\b/g)].map((m) => m[1]!));
}

/** The Config the product would build from this environment for `command` (throws if invalid). */
export function configFromEnv(env: ReadonlyMap<string, string>, command: string): Config {
  return parseConfig([command], Object.fromEntries(env));
}
