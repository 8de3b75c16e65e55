// infra/README.md against the files it documents: every file is described, every Secret the
// manifests need has its `kubectl create secret` line, every placeholder is explained, and
// no manifest in the base is left out of the kustomization.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import {
  FILES,
  INFRA_DIR,
  PLACEHOLDERS,
  loadYamlObject,
  parseYamlDocuments,
  readRepoFile,
  type KubeObject,
} from './load.js';

const readme = readRepoFile(FILES.readme);
/** The README with shell line continuations joined, so one command is one line. */
const commands = readme.replace(/\\\n\s*/g, ' ');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

const infraFiles = walk(INFRA_DIR).map((f) => relative(INFRA_DIR, f));
const baseDir = 'infra/kubernetes/base';
const baseManifests = infraFiles
  .filter((f) => f.startsWith('kubernetes/base/') && f.endsWith('.yaml'))
  .filter((f) => !f.endsWith('kustomization.yaml'));

test('the README describes every file in infra/', () => {
  for (const file of infraFiles) {
    if (file === 'README.md') continue;
    const named = readme.includes(`\`${file}\``) || readme.includes(`\`${basename(file)}\``);
    const dir = file.split('/').slice(0, -1).join('/') + '/';
    const dirNamed = file.endsWith('kustomization.yaml') && readme.includes(`\`${dir}\``);
    assert.ok(named || dirNamed, `infra/README.md mentions ${file}`);
  }
});

test('every manifest in the base is a resource of its kustomization', () => {
  const kustomization = loadYamlObject<KubeObject & { resources: string[] }>(
    FILES.baseKustomization,
  );
  assert.deepEqual(
    [...kustomization.resources].sort(),
    baseManifests.map((f) => basename(f)).sort(),
  );
});

test('every Secret the manifests mount is made by cert-manager or has a create-secret line', () => {
  const objects = baseManifests.flatMap((f) =>
    parseYamlDocuments(readRepoFile(`${baseDir}/${basename(f)}`), f),
  );
  const fromCertManager = new Set(
    objects
      .filter((o) => o.kind === 'Certificate')
      .map((o) => (o as KubeObject & { spec: { secretName: string } }).spec.secretName),
  );
  // Secret volumes (secret.secretName + items) and secretKeyRefs, wherever they are nested.
  const needed = new Map<string, Set<string>>();
  const need = (secret: string, keys: string[]): void => {
    const set = needed.get(secret) ?? new Set<string>();
    for (const k of keys) set.add(k);
    needed.set(secret, set);
  };
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value !== 'object' || value === null) return;
    const v = value as Record<string, unknown>;
    const volume = v.secret as { secretName?: string; items?: { key: string }[] } | undefined;
    if (volume?.secretName)
      need(
        volume.secretName,
        (volume.items ?? []).map((i) => i.key),
      );
    const ref = v.secretKeyRef as { name?: string; key?: string } | undefined;
    if (ref?.name && ref.key) need(ref.name, [ref.key]);
    Object.values(v).forEach(visit);
  };
  visit(objects);
  assert.ok(needed.size >= 3, 'found the Secret volumes');
  for (const [secret, keys] of needed) {
    if (fromCertManager.has(secret)) continue;
    const line = new RegExp(`create secret generic ${secret}\\b[^\\n]*`).exec(commands);
    assert.ok(line, `README: kubectl create secret generic ${secret}`);
    for (const key of keys) {
      assert.match(
        line[0],
        new RegExp(`--from-file=${key.replace('.', '\\.')}=`),
        `${secret} key ${key}`,
      );
    }
  }
  assert.doesNotMatch(
    readRepoFile(FILES.baseKustomization),
    /secretGenerator/,
    'no Secret is generated',
  );
});

test('every placeholder is in its file and explained in the README', () => {
  const where: [string, string][] = [
    [PLACEHOLDERS.admissionToken, FILES.webhookConfiguration],
    [PLACEHOLDERS.auditToken, FILES.auditKubeconfig],
    [PLACEHOLDERS.watchToken, FILES.watchJson],
    [PLACEHOLDERS.watchToken, FILES.watchHcl],
  ];
  for (const [placeholder, file] of where) {
    assert.ok(readRepoFile(file).includes(placeholder), `${file} has ${placeholder}`);
    assert.ok(readme.includes(placeholder), `README explains ${placeholder}`);
  }
});
