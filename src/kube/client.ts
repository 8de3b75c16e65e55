// Builds the @kubernetes/client-node clients: "if kubectl works, the sync works" — an explicit
// --kubeconfig/--kube-context, else KUBECONFIG, ~/.kube/config or the in-cluster account.
import type { Agent } from 'node:http';
// KubeConfig from its own module: the package's index also loads every generated API class and
// model, which the sync does not use (src/kube/rest.ts).
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { KubeRest } from './rest.js';
import {
  ConfigError,
  describeKubeSource,
  locateKubeConfig,
  type Config,
  type KubeConfigSource,
} from '../config/index.js';

export interface KubeHandle {
  kubeConfig: KubeConfig;
  /** Requests with the kubeconfig's address, TLS and credentials. */
  rest: KubeRest;
}

function loadSource(source: KubeConfigSource): KubeConfig {
  const kc = new KubeConfig();
  if (source.kind === 'in-cluster') {
    kc.loadFromCluster();
    return kc;
  }
  // Several KUBECONFIG files merge in order, the first one's current context winning: kubectl's rule.
  const [first, ...rest] = source.paths;
  kc.loadFromFile(first!);
  for (const path of rest) {
    const more = new KubeConfig();
    more.loadFromFile(path);
    kc.mergeConfig(more, Boolean(kc.currentContext));
  }
  return kc;
}

/**
 * The client configuration kubectl would use: --kubeconfig, else KUBECONFIG, ~/.kube/config or
 * the in-cluster service account. Throws a ConfigError (exit 2) naming what was looked for and
 * what to pass when there is none, or when it cannot be used.
 */
export function loadKubeConfig(settings: Config['kube']): KubeConfig {
  const source = locateKubeConfig(settings);
  const where = describeKubeSource(source);
  let kc: KubeConfig;
  try {
    kc = loadSource(source);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    throw new ConfigError(
      'kubeconfig',
      where,
      'a kubeconfig',
      `${where}: not a usable kubeconfig (${reason}); pass --kubeconfig FILE with the file kubectl uses`,
    );
  }
  const contexts = kc.getContexts().map((c) => c.name);
  const known = contexts.length ? contexts.join(', ') : 'none';
  if (settings.context) {
    if (!kc.getContextObject(settings.context)) {
      throw new ConfigError(
        'kube-context',
        settings.context,
        'a context of the kubeconfig',
        `--kube-context ${settings.context}: no such context in ${where} (its contexts: ${known})`,
      );
    }
    kc.setCurrentContext(settings.context);
  }
  if (contexts.length === 0) {
    throw new ConfigError(
      'kubeconfig',
      where,
      'a kubeconfig',
      `${where}: not a kubeconfig (no contexts); pass --kubeconfig FILE with the file kubectl uses`,
    );
  }
  if (!kc.getCurrentCluster()) {
    throw new ConfigError(
      'kube-context',
      '',
      'a context of the kubeconfig',
      `${where} has no current context with a cluster; pass --kube-context NAME (its contexts: ${known})`,
    );
  }
  return kc;
}

type AgentFactory = (cluster: unknown, options: Record<string, unknown>) => Agent;

/**
 * What tells two agents apart: the cluster and every TLS option. Made on every request, so
 * certificates and keys (read afresh from their files each time) go in as base64 rather than
 * through JSON.stringify, which spells a Buffer out byte by byte (about 60 µs a request for an
 * in-cluster CA, more than the rest of the request's preparation).
 */
export function agentKey(
  server: string | undefined,
  proxyUrl: string | undefined,
  options: Record<string, unknown>,
): string {
  const parts: string[] = [server ?? '', proxyUrl ?? ''];
  for (const name of Object.keys(options).sort()) {
    const value = options[name];
    if (value === undefined) continue;
    const text = Buffer.isBuffer(value)
      ? `b:${value.toString('base64')}`
      : Array.isArray(value) && value.every((v) => Buffer.isBuffer(v))
        ? `B:${value.map((v: Buffer) => v.toString('base64')).join(',')}`
        : `j:${JSON.stringify(value)}`;
    parts.push(`${name}=${text}`);
  }
  return parts.join('\u0000');
}

/**
 * @kubernetes/client-node builds a new http(s).Agent each time it applies the kubeconfig to a
 * request, so every call would open a new connection (a TLS handshake, against a real API
 * server). Hand out one keep-alive agent per distinct cluster and TLS settings instead; new
 * credentials (rotated client certificates) still get a new agent.
 */
function reuseAgents(kubeConfig: KubeConfig): void {
  const target = kubeConfig as unknown as { createAgent: AgentFactory };
  const create = target.createAgent.bind(kubeConfig);
  const agents = new Map<string, Agent>();
  target.createAgent = (cluster, options) => {
    const c = cluster as { server?: string; proxyUrl?: string } | undefined;
    const key = agentKey(c?.server, c?.proxyUrl, options);
    let agent = agents.get(key);
    if (!agent) {
      agent = create(cluster, { ...options, keepAlive: true, maxSockets: 64 });
      agents.set(key, agent);
    }
    return agent;
  };
}

export function createKubeHandle(kubeConfig: KubeConfig): KubeHandle {
  reuseAgents(kubeConfig);
  return { kubeConfig, rest: new KubeRest(kubeConfig) };
}
