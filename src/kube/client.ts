// Builds the @kubernetes/client-node clients: "if kubectl works, the sync works" — an explicit
// --kubeconfig/--kube-context, else KUBECONFIG, ~/.kube/config or the in-cluster account.
import type { Agent } from 'node:http';
import { CoreV1Api, DiscoveryV1Api, KubeConfig, VersionApi } from '@kubernetes/client-node';
import type { Config } from '../config/index.js';

export interface KubeHandle {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  discovery: DiscoveryV1Api;
  version: VersionApi;
}

export function loadKubeConfig(settings: Config['kube']): KubeConfig {
  const kc = new KubeConfig();
  if (settings.kubeconfig) kc.loadFromFile(settings.kubeconfig);
  else kc.loadFromDefault();
  if (settings.context) kc.setCurrentContext(settings.context);
  return kc;
}

type AgentFactory = (cluster: unknown, options: Record<string, unknown>) => Agent;

/**
 * @kubernetes/client-node builds a new http(s).Agent for every API call, so every call opens a
 * new connection (a TLS handshake, against a real API server). Hand out one keep-alive agent
 * per distinct cluster and TLS settings instead; new credentials (rotated client certificates)
 * still get a new agent.
 */
function reuseAgents(kubeConfig: KubeConfig): void {
  const target = kubeConfig as unknown as { createAgent: AgentFactory };
  const create = target.createAgent.bind(kubeConfig);
  const agents = new Map<string, Agent>();
  target.createAgent = (cluster, options) => {
    const c = cluster as { server?: string; proxyUrl?: string } | undefined;
    const key = JSON.stringify([c?.server, c?.proxyUrl, options]);
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
  return {
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    discovery: kubeConfig.makeApiClient(DiscoveryV1Api),
    version: kubeConfig.makeApiClient(VersionApi),
  };
}
