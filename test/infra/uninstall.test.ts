// The uninstall Job (infra/kubernetes/components/uninstall): the reconcile CronJob's pod with
// `reconcile --purge --force`, and, rendered on top of the base (kubectl only), your overlay's
// image and generated ConfigMap name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  REPO_ROOT,
  kubectlAvailable,
  loadYamlObject,
  renderKustomize,
  findObject,
} from './load.js';

interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: { containers: { name: string; args: string[]; image: string }[] } & Record<string, unknown>;
}

const job = loadYamlObject<{ kind: string; spec: { template: PodTemplate } }>(
  'infra/kubernetes/components/uninstall/job-purge.yaml',
);
const cron = loadYamlObject<{ spec: { jobTemplate: { spec: { template: PodTemplate } } } }>(
  'infra/kubernetes/base/cronjob-reconcile.yaml',
);

test('the uninstall Job is the reconcile CronJob’s pod running reconcile --purge --force', () => {
  assert.equal(job.kind, 'Job');
  const ours = structuredClone(job.spec.template);
  const theirs = structuredClone(cron.spec.jobTemplate.spec.template);
  assert.deepEqual(
    ours.spec.containers.map((c) => c.args),
    [['reconcile', '--purge', '--force']],
  );
  assert.equal(ours.metadata.labels['app.kubernetes.io/component'], 'uninstall');
  // Everything else alike: service account, settings, Consul token, limits, security.
  for (const t of [ours, theirs]) {
    delete (t.metadata.labels as Record<string, string | undefined>)['app.kubernetes.io/component'];
    for (const c of t.spec.containers) {
      (c as Partial<typeof c>).name = undefined;
      (c as Partial<typeof c>).args = undefined;
    }
  }
  assert.deepEqual(ours, theirs);
});

test(
  'rendered with the base: the overlay’s image and the generated ConfigMap',
  { skip: kubectlAvailable() ? false : 'kubectl is not installed' },
  async () => {
    const dir = join(REPO_ROOT, 'infra', 'kubernetes', 'overlays', '.uninstall-test');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\ncomponents:\n  - ../../components/uninstall\n',
    );
    try {
      const objects = await renderKustomize('infra/kubernetes/overlays/.uninstall-test');
      type Rendered = {
        spec: {
          template: {
            spec: {
              containers: { image: string; envFrom: { configMapRef: { name: string } }[] }[];
            };
          };
        };
      };
      const rendered = findObject<Rendered>(objects, 'Job', 'k8s-consul-sync-uninstall');
      const cronJob = findObject<{ spec: { jobTemplate: Rendered } }>(
        objects,
        'CronJob',
        'k8s-consul-sync-reconcile',
      );
      const [purge] = rendered.spec.template.spec.containers;
      const [reconcile] = cronJob.spec.jobTemplate.spec.template.spec.containers;
      assert.equal(purge!.image, reconcile!.image);
      assert.match(purge!.image, /\//, 'the image the base names, not the bare placeholder');
      assert.deepEqual(purge!.envFrom, reconcile!.envFrom);
      assert.match(purge!.envFrom[0]!.configMapRef.name, /^k8s-consul-sync-config-\w+$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
