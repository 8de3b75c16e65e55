// infra/knative/service.yaml: the same image and settings as the Kubernetes base, as a
// Knative Service that may scale to zero (no kubectl needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import {
  FILES,
  containerEnv,
  loadYamlObject,
  parseEnvFile,
  readRepoFile,
  type KubeObject,
} from './load.js';
import { assertKnownEnvNames, configFromEnv, envNamesIn } from './env-check.js';
import { getStatus } from './server-routes.js';

type KnativeService = KubeObject & {
  spec: {
    template: {
      metadata?: { annotations?: Record<string, string> };
      spec: V1PodSpec & { containerConcurrency?: number; timeoutSeconds?: number };
    };
  };
};

const ksvc = loadYamlObject<KnativeService>(FILES.knativeService);
const pod = ksvc.spec.template.spec;
const container: V1Container = pod.containers[0]!;
const env = containerEnv(container, []);

test('a serving.knative.dev/v1 Service that may scale to zero, with a concurrency limit', () => {
  assert.equal(ksvc.apiVersion, 'serving.knative.dev/v1');
  assert.equal(ksvc.kind, 'Service');
  assert.equal(pod.containers.length, 1);
  const minScale = ksvc.spec.template.metadata?.annotations?.['autoscaling.knative.dev/min-scale'];
  assert.ok(minScale === undefined || minScale === '0', 'scale to zero is allowed');
  assert.ok(
    Number.isInteger(pod.containerConcurrency) && pod.containerConcurrency! > 0,
    'containerConcurrency is a positive integer',
  );
});

test('the image of the kustomize base', () => {
  const kustomization = loadYamlObject<
    KubeObject & { images: { name: string; newName: string; newTag: string }[] }
  >(FILES.baseKustomization);
  const image = kustomization.images.find((i) => i.name === 'k8s-consul-sync');
  assert.ok(image);
  assert.equal(container.image, `${image.newName}:${image.newTag}`);
  assert.deepEqual(container.args, ['serve']);
});

test('the settings of the kustomize base (config.env), the same Secrets, valid for serve', () => {
  const base = parseEnvFile(readRepoFile(FILES.configEnv));
  for (const [name, value] of base) assert.equal(env.get(name), value, name);
  assertKnownEnvNames(env.keys(), 'serve', 'Knative Service');
  assertKnownEnvNames(envNamesIn(readRepoFile(FILES.knativeService)), 'serve', 'Knative file');
  const config = configFromEnv(env, 'serve');
  // Knative's ingress terminates TLS and routes to the declared container port.
  assert.equal(config.server.insecureHttp, true);
  assert.equal(config.server.port, container.ports?.[0]?.containerPort);
  assert.equal(config.auth.disabled, false, 'callers still authenticate');
  assert.ok(config.auth.jwtSecretFile);
  const deployment = loadYamlObject<KubeObject & { spec: { template: { spec: V1PodSpec } } }>(
    FILES.deployment,
  );
  const secretsOf = (p: V1PodSpec): string[] =>
    (p.volumes ?? []).flatMap((v) => (v.secret?.secretName ? [v.secret.secretName] : []));
  const wanted = secretsOf(deployment.spec.template.spec).filter(
    (s) => s !== 'k8s-consul-sync-tls',
  );
  assert.deepEqual(secretsOf(pod).sort(), wanted.sort());
  assert.equal(pod.serviceAccountName, deployment.spec.template.spec.serviceAccountName);
});

test('hardened container and probes on the server health routes', async () => {
  const sc = container.securityContext ?? {};
  assert.equal(sc.runAsNonRoot, true);
  assert.ok(sc.runAsUser !== undefined && sc.runAsUser !== 0);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.deepEqual(sc.capabilities?.drop, ['ALL']);
  assert.equal(sc.seccompProfile?.type, 'RuntimeDefault');
  assert.equal(
    pod.securityContext,
    undefined,
    'no pod securityContext (Knative refuses it by default)',
  );
  for (const [probe, path] of [
    [container.livenessProbe, '/healthz'],
    [container.readinessProbe, '/readyz'],
  ] as const) {
    assert.equal(probe?.httpGet?.path, path);
    const status = await getStatus(path);
    assert.ok(status === 200 || status === 503, `the server answers GET ${path}`);
  }
});
