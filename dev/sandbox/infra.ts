// The deployment artefacts the sandbox runs on, read from infra/ as an operator would apply them:
// the ValidatingWebhookConfiguration (only clientConfig's token placeholder is filled in; the
// emulator's resolveService sends it to the local server) and the Consul agent watch config.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { watchesFromAgentConfig, type WatchConfig } from '../emulators/consul/index.js';

export const WEBHOOK_CONFIGURATION_FILE =
  'infra/kubernetes/base/validating-webhook-configuration.yaml';
export const WATCH_CONFIG_FILE = 'infra/consul/watch.json';
/** The last segment of the webhook's clientConfig.service.path that the operator replaces. */
export const ADMISSION_TOKEN_PLACEHOLDER = 'replace-with-admission-token';
export const WATCH_TOKEN_PLACEHOLDER = 'REPLACE_WITH_CONSUL_WATCH_TOKEN';

/**
 * The directory holding infra/ and examples/: the repository root when run from source
 * (dev/sandbox), or the installed package root when run from a build of it.
 */
export function packageRoot(from: string = import.meta.dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, WEBHOOK_CONFIGURATION_FILE))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${WEBHOOK_CONFIGURATION_FILE} above ${from}`);
    dir = parent;
  }
}

function readRootFile(root: string, relPath: string): string {
  return readFileSync(join(root, relPath), 'utf8');
}

/**
 * The ValidatingWebhookConfiguration with `pathToken` (the output of `token --format path`) in
 * place of the placeholder, exactly as infra/README.md has the operator do it.
 */
export function loadWebhookConfiguration(pathToken: string, root = packageRoot()): unknown {
  const text = readRootFile(root, WEBHOOK_CONFIGURATION_FILE);
  if (!text.includes(`/k8s/admission/${ADMISSION_TOKEN_PLACEHOLDER}`)) {
    throw new Error(
      `${WEBHOOK_CONFIGURATION_FILE} no longer has the path /k8s/admission/${ADMISSION_TOKEN_PLACEHOLDER}`,
    );
  }
  const parsed: unknown = parseYaml(
    text.replaceAll(ADMISSION_TOKEN_PLACEHOLDER, pathToken.replace(/^\/+/, '')),
  );
  const kind = (parsed as { kind?: unknown } | null)?.kind;
  if (kind !== 'ValidatingWebhookConfiguration') {
    throw new Error(`${WEBHOOK_CONFIGURATION_FILE} is not a ValidatingWebhookConfiguration`);
  }
  return parsed;
}

/**
 * The `services` watches of infra/consul/watch.json with `token` as the bearer token, delivered
 * to `serverUrl` (the config's in-cluster host is replaced; its path is kept).
 */
export function loadWatches(token: string, serverUrl: string, root = packageRoot()): WatchConfig[] {
  const text = readRootFile(root, WATCH_CONFIG_FILE);
  if (!text.includes(WATCH_TOKEN_PLACEHOLDER)) {
    throw new Error(
      `${WATCH_CONFIG_FILE} no longer has the ${WATCH_TOKEN_PLACEHOLDER} placeholder`,
    );
  }
  const watches = watchesFromAgentConfig(
    JSON.parse(text.replaceAll(WATCH_TOKEN_PLACEHOLDER, token)) as unknown,
    serverUrl,
  );
  if (watches.length === 0) throw new Error(`${WATCH_CONFIG_FILE} has no http services watch`);
  return watches;
}
