// Where the Kubernetes credentials come from (kubectl's order) and what is said when there are none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError,
  describeKubeSource,
  locateKubeConfig,
  type KubeSettings,
} from '../../src/config/index.js';

const TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

function locate(settings: KubeSettings, files: string[], home: string | null = '/home/op') {
  const existing = new Set(files);
  return locateKubeConfig(settings, { home: home ?? undefined, exists: (p) => existing.has(p) });
}

test('--kubeconfig, then KUBECONFIG (a path list), then ~/.kube/config, then in-cluster', () => {
  const all = ['/k', '/a', '/b', '/home/op/.kube/config', TOKEN];
  assert.deepEqual(locate({ kubeconfig: '/k', kubeconfigEnv: '/a' }, all), {
    kind: 'files',
    paths: ['/k'],
    origin: '--kubeconfig',
  });
  assert.deepEqual(locate({ kubeconfigEnv: '/a:/b' }, all), {
    kind: 'files',
    paths: ['/a', '/b'],
    origin: 'KUBECONFIG',
  });
  assert.deepEqual(locate({}, all), {
    kind: 'files',
    paths: ['/home/op/.kube/config'],
    origin: 'home',
  });
  assert.deepEqual(locate({}, [TOKEN]), { kind: 'in-cluster', tokenFile: TOKEN });
  assert.equal(describeKubeSource(locate({ kubeconfigEnv: '/a:/b' }, all)), 'KUBECONFIG=/a:/b');
  assert.equal(describeKubeSource(locate({}, all)), '/home/op/.kube/config');
});

/** The message of the ConfigError `fn` throws. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  throw new Error('accepted');
}

test('none anywhere: what was looked for, and what to pass', () => {
  assert.equal(
    refusal(() => locate({}, [])),
    `no Kubernetes credentials: no --kubeconfig, KUBECONFIG not set, /home/op/.kube/config not found, not in a pod (no ${TOKEN}); pass --kubeconfig FILE or set KUBECONFIG=FILE (the file kubectl uses)`,
  );
  assert.match(
    refusal(() => locate({}, [], null)),
    /~\/\.kube\/config \(HOME not set\) not found/,
  );
});

test('a named file that does not exist is said so, not replaced by another source', () => {
  const home = ['/home/op/.kube/config'];
  assert.equal(
    refusal(() => locate({ kubeconfig: '/nope' }, home)),
    '--kubeconfig /nope: no such file; pass --kubeconfig FILE or set KUBECONFIG=FILE (the file kubectl uses)',
  );
  assert.match(
    refusal(() => locate({ kubeconfigEnv: '/a:/nope' }, ['/a', ...home])),
    /^KUBECONFIG=\/a:\/nope: no such file \/nope; pass --kubeconfig FILE/,
  );
});
