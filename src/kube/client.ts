// Builds the @kubernetes/client-node clients: "if kubectl works, the sync works" — an explicit
// --kubeconfig/--kube-context, else KUBECONFIG, ~/.kube/config or the in-cluster account.
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

export function createKubeHandle(kubeConfig: KubeConfig): KubeHandle {
  return {
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    discovery: kubeConfig.makeApiClient(DiscoveryV1Api),
    version: kubeConfig.makeApiClient(VersionApi),
  };
}
