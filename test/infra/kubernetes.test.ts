// Structural tests of the kustomize base and overlays (infra/README.md): rendered with
// `kubectl kustomize` and checked object by object against the flag table, the server's routes
// and the Kubernetes API's own rules.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Container,
  V1CronJob,
  V1Deployment,
  V1PodDisruptionBudget,
  V1PodSpec,
  V1Probe,
  V1Role,
  V1RoleBinding,
  V1Service,
  V1ValidatingWebhookConfiguration,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { FLAGS } from '../../src/config/index.js';
import { ROUTES } from '../../src/http/app.js';
import { ANNOTATION_SERVICE_SYNC, LABEL_NAMESPACE_NAME } from '../../src/translate/keys.js';
import {
  FILES,
  KUSTOMIZE_DIRS,
  PLACEHOLDERS,
  containerEnv,
  findObject,
  kubectlAvailable,
  loadDockerfile,
  loadWebhookConfiguration,
  loadYamlObject,
  objectsOf,
  readRepoFile,
  renderKustomize,
  type KubeObject,
} from './load.js';
import { assertKnownEnvNames, configFromEnv, envNamesIn } from './env-check.js';
import { getStatus } from './server-routes.js';
import { DNS1123_SUBDOMAIN, webhookServicePathErrors } from './webhook-path.js';

const skip = kubectlAvailable()
  ? false
  : 'kubectl is not installed, so `kubectl kustomize` cannot render infra/kubernetes (install kubectl >= 1.27 to run these tests)';

const NAMESPACE = 'k8s-consul-sync';
const flagDefault = (name: string): string | readonly string[] => {
  const def = FLAGS.find((f) => f.name === name);
  assert.ok(def, `flag --${name} exists`);
  return def.default;
};
const routePath = (name: string): string => {
  const route = ROUTES.find((r) => r.name === name);
  assert.ok(route, `route ${name} exists`);
  return route.path;
};

function podSpecOf(obj: V1Deployment | V1CronJob): V1PodSpec {
  const spec =
    'jobTemplate' in (obj.spec ?? {})
      ? (obj as V1CronJob).spec?.jobTemplate.spec?.template.spec
      : (obj as V1Deployment).spec?.template.spec;
  assert.ok(spec, `${obj.kind} has a pod spec`);
  return spec;
}

function onlyContainer(pod: V1PodSpec): V1Container {
  assert.equal(pod.containers.length, 1, 'one container');
  return pod.containers[0]!;
}

/** Where a file path inside the container comes from: the Secret and key behind its mount. */
function fileSource(
  pod: V1PodSpec,
  container: V1Container,
  file: string,
): { secret: string; key: string } {
  const mount = (container.volumeMounts ?? []).find((m) => file.startsWith(m.mountPath + '/'));
  assert.ok(mount, `${file} lies in a volume mount`);
  const volume = (pod.volumes ?? []).find((v) => v.name === mount.name);
  assert.ok(volume?.secret?.secretName, `${file}: volume ${mount.name} is a Secret volume`);
  const rel = file.slice(mount.mountPath.length + 1);
  const items = volume.secret.items;
  const key = items ? items.find((i) => i.path === rel)?.key : rel;
  assert.ok(key, `${file}: the Secret volume projects a key to ${rel}`);
  return { secret: volume.secret.secretName, key };
}

function resolvePort(container: V1Container, port: number | string | undefined): number {
  if (typeof port === 'number') return port;
  const named = (container.ports ?? []).find((p) => p.name === port);
  assert.ok(named, `port ${String(port)} is a named container port`);
  return named.containerPort;
}

function assertHardenedContainer(pod: V1PodSpec, container: V1Container, where: string): void {
  const podSc = pod.securityContext ?? {};
  const sc = container.securityContext ?? {};
  assert.equal(sc.runAsNonRoot ?? podSc.runAsNonRoot, true, `${where}: runAsNonRoot`);
  const uid = sc.runAsUser ?? podSc.runAsUser;
  assert.ok(uid !== undefined && uid !== 0, `${where}: runs as a non-zero uid`);
  assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
  assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation false`);
  assert.notEqual(sc.privileged, true, `${where}: not privileged`);
  assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${where}: drops ALL capabilities`);
  assert.equal(sc.capabilities?.add, undefined, `${where}: adds no capability`);
  const seccomp = sc.seccompProfile ?? podSc.seccompProfile;
  assert.equal(seccomp?.type, 'RuntimeDefault', `${where}: seccomp RuntimeDefault`);
  for (const kind of ['requests', 'limits'] as const) {
    for (const res of ['cpu', 'memory']) {
      assert.ok(container.resources?.[kind]?.[res], `${where}: resources.${kind}.${res} set`);
    }
  }
  // The read-only root filesystem leaves /tmp writable through an emptyDir.
  const tmp = (container.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
  assert.ok(tmp, `${where}: /tmp is mounted`);
  const volume = (pod.volumes ?? []).find((v) => v.name === tmp.name);
  assert.ok(volume?.emptyDir, `${where}: /tmp is an emptyDir`);
  assert.notEqual(tmp.readOnly, true, `${where}: /tmp is writable`);
}

/** uid of the Dockerfile's final USER instruction. */
function imageUid(): number {
  const final = loadDockerfile().at(-1)!;
  const user = final.instructions.filter((i) => i.op === 'USER').at(-1);
  assert.ok(user, 'the final Dockerfile stage sets USER');
  return Number(user.args.split(':')[0]);
}

function selectorMatches(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  assert.ok(selector && Object.keys(selector).length > 0, 'a non-empty selector');
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

const key = (o: KubeObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

describe('kustomize base: infra/kubernetes', { skip }, () => {
  let objects: KubeObject[];
  let deployment: V1Deployment;
  let cronJob: V1CronJob;
  let service: V1Service;
  let webhook: V1ValidatingWebhookConfiguration;

  before(async () => {
    objects = await renderKustomize(KUSTOMIZE_DIRS.base);
    deployment = findObject<V1Deployment>(objects, 'Deployment');
    cronJob = findObject<V1CronJob>(objects, 'CronJob');
    service = findObject<V1Service>(objects, 'Service');
    webhook = findObject<V1ValidatingWebhookConfiguration>(
      objects,
      'ValidatingWebhookConfiguration',
    );
  });

  test('renders every object infra/README.md lists, and no Secret', () => {
    const kinds = objects.map((o) => o.kind).sort();
    assert.deepEqual(kinds, [
      'Certificate',
      'Certificate',
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'ConfigMap',
      'CronJob',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Issuer',
      'Issuer',
      'Namespace',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
      'ValidatingWebhookConfiguration',
    ]);
    assert.equal(findObject(objects, 'Namespace').metadata.name, NAMESPACE);
    assert.equal(new Set(objects.map(key)).size, objects.length, 'no duplicate objects');
  });

  test('namespaced objects live in the product namespace, except the write RBAC', () => {
    const clusterScoped = new Set([
      'Namespace',
      'ClusterRole',
      'ClusterRoleBinding',
      'ValidatingWebhookConfiguration',
    ]);
    const writeNamespace = String(flagDefault('k8s-write-namespace'));
    for (const o of objects) {
      if (clusterScoped.has(o.kind)) {
        assert.equal(o.metadata.namespace, undefined, `${key(o)} is cluster-scoped`);
      } else if (o.kind === 'Role' || o.kind === 'RoleBinding') {
        assert.equal(o.metadata.namespace, writeNamespace, `${key(o)} is in the write namespace`);
      } else {
        assert.equal(o.metadata.namespace, NAMESPACE, `${key(o)} is in ${NAMESPACE}`);
      }
    }
  });

  test('the committed webhook file is exactly what kustomize renders (the loader reads it)', () => {
    assert.deepEqual(loadWebhookConfiguration(), webhook);
  });

  test('webhook: the settings infra/README.md requires', () => {
    assert.equal(webhook.webhooks?.length, 1);
    const hook = webhook.webhooks[0]!;
    assert.ok(
      DNS1123_SUBDOMAIN.test(hook.name) && hook.name.split('.').length >= 3,
      'fully qualified webhook name',
    );
    assert.deepEqual(hook.admissionReviewVersions, ['v1']);
    assert.equal(hook.sideEffects, 'NoneOnDryRun');
    assert.equal(hook.failurePolicy, 'Ignore');
    assert.ok(
      hook.timeoutSeconds !== undefined && hook.timeoutSeconds <= 5 && hook.timeoutSeconds >= 1,
    );
    assert.equal(hook.timeoutSeconds, 5);
    assert.equal(hook.matchPolicy, 'Equivalent');
    // The only objects left out are the ones this product creates from Consul (docs/reference.md "Kubernetes → Consul": never
    // synced back); the API server matches old and new object, so a user's Service is never hidden.
    assert.deepEqual(
      hook.objectSelector,
      { matchExpressions: [{ key: 'consul', operator: 'NotIn', values: ['true'] }] },
      'no object selector hides events of services that can be synced',
    );
    const rules = (hook.rules ?? []).flatMap((r) =>
      (r.apiGroups ?? []).flatMap((g) =>
        (r.apiVersions ?? []).flatMap((v) =>
          (r.resources ?? []).map((res) => ({
            target: `${g}/${v}/${res}`,
            operations: [...(r.operations ?? [])].sort(),
            scope: r.scope,
          })),
        ),
      ),
    );
    assert.deepEqual(rules.map((r) => r.target).sort(), [
      '/v1/services',
      '/v1/services/status',
      'discovery.k8s.io/v1/endpointslices',
      'networking.k8s.io/v1/ingresses',
      'networking.k8s.io/v1/ingresses/status',
    ]);
    for (const r of rules) {
      assert.deepEqual(r.operations, ['CREATE', 'DELETE', 'UPDATE'], r.target);
      assert.equal(r.scope, 'Namespaced', r.target);
    }
  });

  test('webhook: system namespaces and the product namespace are excluded by name label', () => {
    const hook = webhook.webhooks![0]!;
    assert.equal(hook.namespaceSelector?.matchLabels, undefined);
    const exprs = hook.namespaceSelector?.matchExpressions ?? [];
    assert.equal(exprs.length, 1);
    const expr = exprs[0]!;
    assert.equal(expr.key, LABEL_NAMESPACE_NAME);
    assert.equal(expr.operator, 'NotIn');
    const denied = flagDefault('deny-k8s-namespace') as readonly string[];
    assert.deepEqual([...(expr.values ?? [])].sort(), [...denied, NAMESPACE].sort());
  });

  test('webhook: calls the Service on 443 at /k8s/admission/<token>, a path the API server accepts', () => {
    const hook = webhook.webhooks![0]!;
    assert.equal(hook.clientConfig.url, undefined);
    const ref = hook.clientConfig.service;
    assert.ok(ref);
    assert.equal(ref.namespace, service.metadata?.namespace);
    assert.equal(ref.name, service.metadata?.name);
    assert.equal(ref.port, 443);
    assert.ok(
      service.spec?.ports?.some((p) => p.port === ref.port),
      'the Service has that port',
    );
    const path = ref.path ?? '';
    const admission = routePath('admission');
    assert.ok(path.startsWith(admission + '/'), `${path} starts with ${admission}/`);
    assert.equal(path, `${admission}/${PLACEHOLDERS.admissionToken}`);
    assert.deepEqual(webhookServicePathErrors(path), []);
    // The check above is the API server's: a JWT (base64url, mixed case) would fail it.
    assert.notDeepEqual(
      webhookServicePathErrors(`${admission}/eyJhbGciOiJIUzI1NiJ9.e30.abc_DEF`),
      [],
    );
    assert.deepEqual(
      loadWebhookConfiguration({ token: 'abc.def' }).webhooks![0]!.clientConfig.service?.path,
      `${admission}/abc.def`,
    );
  });

  test('webhook: CA injected by cert-manager from the serving Certificate the server uses', () => {
    const ref = webhook.metadata?.annotations?.['cert-manager.io/inject-ca-from'];
    assert.ok(ref, 'cert-manager.io/inject-ca-from is set');
    const [ns, name] = ref.split('/');
    const cert = findObject<
      KubeObject & {
        spec: { secretName: string; dnsNames: string[]; issuerRef: { name: string; kind: string } };
      }
    >(objects, 'Certificate', name);
    assert.equal(cert.metadata.namespace, ns);
    const svcName = service.metadata!.name!;
    for (const dns of [
      `${svcName}.${NAMESPACE}.svc`,
      `${svcName}.${NAMESPACE}.svc.cluster.local`,
    ]) {
      assert.ok(cert.spec.dnsNames.includes(dns), `the certificate covers ${dns}`);
    }
    const issuer = findObject(objects, cert.spec.issuerRef.kind, cert.spec.issuerRef.name);
    assert.equal(issuer.metadata.namespace, NAMESPACE);
    const pod = podSpecOf(deployment);
    const container = onlyContainer(pod);
    const env = containerEnv(container, objects);
    for (const [name, keyName] of [
      ['SYNC_TLS_CERT_FILE', 'tls.crt'],
      ['SYNC_TLS_KEY_FILE', 'tls.key'],
    ] as const) {
      const file = env.get(name);
      assert.ok(file, `${name} is set`);
      assert.deepEqual(fileSource(pod, container, file), {
        secret: cert.spec.secretName,
        key: keyName,
      });
    }
  });

  test('RBAC: no wildcards, cluster-wide reads and Events only, writes only to services in the write namespace', () => {
    for (const role of [
      ...objectsOf<V1ClusterRole>(objects, 'ClusterRole'),
      ...objectsOf<V1Role>(objects, 'Role'),
    ]) {
      for (const rule of role.rules ?? []) {
        for (const field of ['verbs', 'resources', 'apiGroups'] as const) {
          assert.ok(!(rule[field] ?? []).includes('*'), `${role.metadata?.name}: no * in ${field}`);
        }
        assert.equal(
          rule.nonResourceURLs,
          undefined,
          `${role.metadata?.name}: no non-resource URLs`,
        );
      }
    }
    const clusterRole = findObject<V1ClusterRole>(objects, 'ClusterRole', 'k8s-consul-sync-read');
    const granted = (rules: V1ClusterRole['rules']): string[] =>
      (rules ?? []).flatMap((r) =>
        (r.apiGroups ?? []).flatMap((g) =>
          (r.resources ?? []).flatMap((res) =>
            r.verbs.map(
              (v) => `${g}/${res}:${v}${r.resourceNames ? `[${r.resourceNames.join(',')}]` : ''}`,
            ),
          ),
        ),
      );
    assert.deepEqual(granted(clusterRole.rules).sort(), [
      '/namespaces:get[kube-system]',
      '/nodes:get',
      '/nodes:list',
      '/nodes:watch',
      '/services:get',
      '/services:list',
      '/services:watch',
      'discovery.k8s.io/endpointslices:get',
      'discovery.k8s.io/endpointslices:list',
      'discovery.k8s.io/endpointslices:watch',
      // --enable-ingress: the Ingresses of a namespace (reconcile: of all namespaces).
      'networking.k8s.io/ingresses:get',
      'networking.k8s.io/ingresses:list',
    ]);
    // --emit-events: create an events.k8s.io Event, patch its series; nothing else.
    const eventsRole = findObject<V1ClusterRole>(objects, 'ClusterRole', 'k8s-consul-sync-events');
    assert.deepEqual(granted(eventsRole.rules).sort(), [
      'events.k8s.io/events:create',
      'events.k8s.io/events:patch',
    ]);
    assert.equal(objectsOf(objects, 'ClusterRole').length, 2, 'no other ClusterRole');
    const role = findObject<V1Role>(objects, 'Role');
    const config = configFromEnv(
      containerEnv(onlyContainer(podSpecOf(deployment)), objects),
      'serve',
    );
    assert.equal(
      role.metadata?.namespace,
      config.k8sWriteNamespace,
      'the write Role is in --k8s-write-namespace',
    );
    assert.deepEqual(granted(role.rules).sort(), [
      '/services:create',
      '/services:delete',
      '/services:get',
      '/services:list',
      '/services:patch',
      '/services:update',
    ]);
  });

  test('RBAC: the bindings give those roles to the service account the pods run as', () => {
    const sa = findObject(objects, 'ServiceAccount');
    const subject = {
      kind: 'ServiceAccount',
      name: sa.metadata.name,
      namespace: sa.metadata.namespace,
    };
    for (const [bindingKind, roleKind, count] of [
      ['ClusterRoleBinding', 'ClusterRole', 2],
      ['RoleBinding', 'Role', 1],
    ] as const) {
      const bindings = objectsOf<V1ClusterRoleBinding | V1RoleBinding>(objects, bindingKind);
      assert.equal(bindings.length, count, `${count} ${bindingKind}(s)`);
      for (const binding of bindings) {
        assert.deepEqual(binding.subjects, [subject], `${bindingKind} subject`);
        assert.equal(binding.roleRef.kind, roleKind);
        const role = findObject(objects, roleKind, binding.roleRef.name);
        assert.equal(role.metadata.namespace, binding.metadata?.namespace);
      }
    }
    assert.equal(podSpecOf(deployment).serviceAccountName, sa.metadata.name);
    assert.equal(podSpecOf(cronJob).serviceAccountName, sa.metadata.name);
  });

  test('Deployment: 2 replicas spread over nodes, serve, hardened, image uid', () => {
    assert.equal(deployment.spec?.replicas, 2);
    const pod = podSpecOf(deployment);
    const labels = deployment.spec?.template.metadata?.labels;
    assert.ok(selectorMatches(deployment.spec?.selector.matchLabels, labels));
    const spread = (pod.topologySpreadConstraints ?? []).find(
      (t) => t.topologyKey === 'kubernetes.io/hostname',
    );
    assert.ok(spread, 'spread by kubernetes.io/hostname');
    assert.equal(spread.maxSkew, 1);
    assert.ok(
      selectorMatches(spread.labelSelector?.matchLabels, labels),
      'the spread selects these pods',
    );
    const container = onlyContainer(pod);
    assert.deepEqual(container.args, ['serve']);
    assert.equal(container.command, undefined, 'the image ENTRYPOINT runs');
    assertHardenedContainer(pod, container, 'Deployment');
    assert.equal(
      container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser,
      imageUid(),
    );
  });

  test('Deployment: probes over HTTPS hit the health routes on the port the Service targets', async () => {
    const container = onlyContainer(podSpecOf(deployment));
    const probes: [string, V1Probe | undefined, string][] = [
      ['liveness', container.livenessProbe, '/healthz'],
      ['readiness', container.readinessProbe, '/readyz'],
    ];
    const svcPort = service.spec?.ports?.find((p) => p.port === 443);
    assert.ok(svcPort, 'the Service listens on 443');
    const target = resolvePort(container, svcPort.targetPort);
    assert.equal(target, 8443);
    const config = configFromEnv(containerEnv(container, objects), 'serve');
    assert.equal(config.server.port, target, 'the server listens on the targeted port');
    const exposed = loadDockerfile()
      .at(-1)!
      .instructions.filter((i) => i.op === 'EXPOSE')
      .flatMap((i) => i.args.split(/\s+/).map((p) => Number(p.split('/')[0])));
    assert.ok(exposed.includes(target), 'the image EXPOSEs it');
    for (const [kind, probe, path] of probes) {
      assert.ok(probe?.httpGet, `${kind} probe is an httpGet`);
      assert.equal(probe.httpGet.path, path, kind);
      assert.equal(probe.httpGet.scheme, 'HTTPS', kind);
      assert.equal(resolvePort(container, probe.httpGet.port), target, `${kind} probe port`);
      const status = await getStatus(path);
      assert.ok(status === 200 || status === 503, `the server answers GET ${path} (got ${status})`);
    }
    // A path the server does not have answers 404, so the check above can fail.
    assert.equal(await getStatus('/healthz-missing'), 404);
  });

  test('Deployment: TLS, JWT key and Consul token come from Secrets as files; auth and TLS stay on', () => {
    const pod = podSpecOf(deployment);
    const container = onlyContainer(pod);
    const env = containerEnv(container, objects);
    const config = configFromEnv(env, 'serve');
    assert.equal(config.server.insecureHttp, false);
    assert.equal(config.auth.disabled, false);
    assert.ok(config.server.tlsCertFile && config.server.tlsKeyFile);
    assert.ok(config.auth.jwtSecretFile, 'SYNC_AUTH_JWT_SECRET_FILE is set');
    assert.deepEqual(fileSource(pod, container, config.auth.jwtSecretFile), {
      secret: 'k8s-consul-sync-auth',
      key: 'jwt-hmac-key',
    });
    const tokenFile = env.get('CONSUL_HTTP_TOKEN_FILE');
    const tokenRef = container.env?.find((e) => e.name === 'CONSUL_HTTP_TOKEN')?.valueFrom
      ?.secretKeyRef;
    assert.ok(
      tokenFile ?? tokenRef,
      'the Consul token comes from CONSUL_HTTP_TOKEN_FILE or a secretKeyRef',
    );
    if (tokenFile) {
      assert.deepEqual(fileSource(pod, container, tokenFile), {
        secret: 'k8s-consul-sync-consul',
        key: 'token',
      });
    }
    assert.ok(
      !(container.env ?? []).some(
        (e) => /TOKEN$|KEY$|SECRET/.test(e.name) && e.value && !e.value.startsWith('/'),
      ),
      'no secret value is written into the manifest',
    );
  });

  test('Service 443 → the container port; PDB minAvailable 1; HPA autoscaling/v2 on CPU', () => {
    const labels = deployment.spec?.template.metadata?.labels;
    assert.ok(selectorMatches(service.spec?.selector, labels), 'the Service selects the pods');
    assert.equal(
      service.metadata?.annotations?.[ANNOTATION_SERVICE_SYNC],
      'false',
      'never synced to Consul itself',
    );
    const pdb = findObject<V1PodDisruptionBudget>(objects, 'PodDisruptionBudget');
    assert.equal(pdb.apiVersion, 'policy/v1');
    assert.equal(pdb.spec?.minAvailable, 1);
    assert.ok(selectorMatches(pdb.spec?.selector?.matchLabels, labels), 'the PDB selects the pods');
    const hpa = findObject<V2HorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler');
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual(hpa.spec?.scaleTargetRef, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata?.name,
    });
    assert.ok(
      (hpa.spec?.minReplicas ?? 1) >= deployment.spec!.replicas!,
      'never scales below the Deployment',
    );
    const { minReplicas, maxReplicas } = hpa.spec ?? { maxReplicas: 0 };
    assert.ok(minReplicas !== undefined && maxReplicas > minReplicas, 'room to scale up');
    const cpu = hpa.spec?.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
    assert.equal(cpu?.resource?.target.type, 'Utilization');
    assert.ok(
      cpu.resource.target.averageUtilization! > 0 && cpu.resource.target.averageUtilization! <= 100,
    );
  });

  test('CronJob: reconcile every 5 minutes, never overlapping, same image and hardening', () => {
    assert.equal(cronJob.spec?.schedule, '*/5 * * * *');
    assert.equal(cronJob.spec?.concurrencyPolicy, 'Forbid');
    const pod = podSpecOf(cronJob);
    assert.ok(pod.restartPolicy === 'Never' || pod.restartPolicy === 'OnFailure');
    const container = onlyContainer(pod);
    assert.deepEqual(container.args, ['reconcile']);
    assert.equal(container.command, undefined);
    assert.equal(container.image, onlyContainer(podSpecOf(deployment)).image);
    assertHardenedContainer(pod, container, 'CronJob');
    assert.equal(
      container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser,
      imageUid(),
    );
    const env = containerEnv(container, objects);
    configFromEnv(env, 'reconcile');
    const tokenFile = env.get('CONSUL_HTTP_TOKEN_FILE');
    assert.ok(tokenFile, 'the Consul token file is set');
    assert.deepEqual(fileSource(pod, container, tokenFile), {
      secret: 'k8s-consul-sync-consul',
      key: 'token',
    });
  });

  test('image: pinned to the package version, the same in every workload', () => {
    const pkg = JSON.parse(readRepoFile('package.json')) as { version: string };
    const image = onlyContainer(podSpecOf(deployment)).image ?? '';
    const m = /^(.+):([^:/@]+)$/.exec(image);
    assert.ok(m, `${image} has a tag`);
    assert.notEqual(m[2], 'latest');
    assert.equal(m[2], pkg.version);
  });

  test('every SYNC_* / CONSUL_* variable is one the product reads, with valid values', () => {
    for (const [obj, command] of [
      [deployment, 'serve'],
      [cronJob, 'reconcile'],
    ] as const) {
      const container = onlyContainer(podSpecOf(obj));
      const names = [
        ...containerEnv(container, objects).keys(),
        ...(container.env ?? []).map((e) => e.name),
      ];
      assertKnownEnvNames(names, command, `${obj.kind} ${obj.metadata?.name}`);
      configFromEnv(containerEnv(container, objects), command);
    }
    const cm = findObject<KubeObject & { data: Record<string, string> }>(objects, 'ConfigMap');
    assertKnownEnvNames(Object.keys(cm.data), 'serve', 'ConfigMap');
    assert.ok(
      Object.keys(cm.data).every((k) => /^(SYNC|CONSUL)_/.test(k)),
      'the ConfigMap holds only settings',
    );
    // Any such name anywhere in the rendered text or the raw files (comments included): a
    // setting of the server or of the reconcile CronJob.
    const texts = [JSON.stringify(objects), readRepoFile(FILES.configEnv)];
    for (const text of texts)
      assertKnownEnvNames(envNamesIn(text), ['serve', 'reconcile'], 'manifest text');
  });

  test('the raw Deployment file is the render, up to the image and ConfigMap name kustomize sets', () => {
    const raw = loadYamlObject<V1Deployment>(FILES.deployment);
    const rendered = structuredClone(deployment);
    const c = onlyContainer(podSpecOf(rendered));
    c.image = 'k8s-consul-sync';
    for (const source of c.envFrom ?? []) source.configMapRef!.name = 'k8s-consul-sync-config';
    assert.deepEqual(rendered, raw);
  });
});

describe('kustomize overlays', { skip }, () => {
  let base: KubeObject[];
  before(async () => {
    base = await renderKustomize(KUSTOMIZE_DIRS.base);
  });

  function configs(objects: KubeObject[]): {
    serve: ReturnType<typeof configFromEnv>;
    reconcile: ReturnType<typeof configFromEnv>;
  } {
    const deployment = findObject<V1Deployment>(objects, 'Deployment');
    const cronJob = findObject<V1CronJob>(objects, 'CronJob');
    return {
      serve: configFromEnv(containerEnv(onlyContainer(podSpecOf(deployment)), objects), 'serve'),
      reconcile: configFromEnv(
        containerEnv(onlyContainer(podSpecOf(cronJob)), objects),
        'reconcile',
      ),
    };
  }

  /** Objects of the base missing from the overlay, ConfigMaps (hash-named) aside. */
  function dropped(overlay: KubeObject[]): string[] {
    const names = (objs: KubeObject[]): string[] =>
      objs.filter((o) => o.kind !== 'ConfigMap').map(key);
    const have = new Set(names(overlay));
    assert.ok(
      names(overlay).every((k) => names(base).includes(k)),
      'the overlay adds no object',
    );
    return names(base)
      .filter((k) => !have.has(k))
      .sort();
  }

  test('the base syncs both ways', () => {
    for (const c of Object.values(configs(base))) {
      assert.equal(c.toConsul, true);
      assert.equal(c.toK8s, true);
    }
  });

  test('to-consul-only: SYNC_TO_K8S=false and no write Role', async () => {
    const objects = await renderKustomize(KUSTOMIZE_DIRS.toConsulOnly);
    for (const c of Object.values(configs(objects))) {
      assert.equal(c.toConsul, true);
      assert.equal(c.toK8s, false);
    }
    assert.deepEqual(dropped(objects), [
      'Role/default/k8s-consul-sync-write',
      'RoleBinding/default/k8s-consul-sync-write',
    ]);
    assert.equal(objectsOf(objects, 'ValidatingWebhookConfiguration').length, 1);
  });

  test('to-k8s-only: SYNC_TO_CONSUL=false and no webhook configuration', async () => {
    const objects = await renderKustomize(KUSTOMIZE_DIRS.toK8sOnly);
    for (const c of Object.values(configs(objects))) {
      assert.equal(c.toConsul, false);
      assert.equal(c.toK8s, true);
    }
    // Kubernetes Events come from the Kubernetes → Consul direction only: their RBAC goes too.
    assert.deepEqual(dropped(objects), [
      'ClusterRole//k8s-consul-sync-events',
      'ClusterRoleBinding//k8s-consul-sync-events',
      'ValidatingWebhookConfiguration//k8s-consul-sync',
    ]);
    assert.equal(objectsOf(objects, 'Role').length, 1);
  });
});
