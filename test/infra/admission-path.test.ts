// The admission webhook's clientConfig.service.path as an operator fills it in (infra/README.md
// step 4): the committed placeholder and the path printed by the real `token --format path`
// command both pass the API server's path rule, and the server accepts the filled-in path.
// Reads the raw manifest, so kubectl is not needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { createApp } from '../../src/http/app.js';
import { createAuthenticator } from '../../src/http/auth.js';
import { Readiness } from '../../src/telemetry/readiness.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { tempDir } from '../auth/support.js';
import { FILES, PLACEHOLDERS, REPO_ROOT, loadWebhookConfiguration, readRepoFile } from './load.js';
import { webhookServicePathErrors } from './webhook-path.js';

const dir = tempDir('k8s-consul-sync-infra-');
process.on('exit', () => dir.remove());
const keyFile = dir.write('jwt-hmac-key', 'infra-test-hmac-key-0123456789abcdef-0123');

/** `k8s-consul-sync token …` as the README runs it (through the CLI, with a test key). */
function mintCli(args: string[]): string {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('SYNC_')) delete env[name];
  const out = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli.ts', 'token', '--auth-jwt-secret-file', keyFile, ...args],
    { cwd: REPO_ROOT, encoding: 'utf8', env },
  );
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.trim();
}

const servicePath = (token?: string): string => {
  const hook = loadWebhookConfiguration(token === undefined ? {} : { token }).webhooks![0]!;
  const path = hook.clientConfig.service?.path;
  assert.ok(path, 'clientConfig.service.path is set');
  return path;
};

const readme = readRepoFile(FILES.readme);

test('the committed placeholder path passes the API server path rule', () => {
  assert.equal(servicePath(), `/k8s/admission/${PLACEHOLDERS.admissionToken}`);
  assert.deepEqual(webhookServicePathErrors(servicePath()), []);
});

test('a path minted by `token --format path` passes the rule; a plain JWT would not', () => {
  const minted = mintCli([
    '--subject',
    'kube-apiserver',
    '--scope',
    'k8s:admission',
    '--format',
    'path',
  ]);
  assert.ok(!minted.startsWith('/'), 'printed without a leading slash');
  assert.deepEqual(webhookServicePathErrors(servicePath(minted)), []);
  const jwt = mintCli(['--subject', 'kube-apiserver', '--scope', 'k8s:admission']);
  assert.notDeepEqual(webhookServicePathErrors(servicePath(jwt)), []);
});

test('the README steps: mint with --format path, sed it into the manifest, and the server accepts it', async () => {
  const mintLine = /^\s*ADMISSION_PATH=\$\(mint kube-apiserver k8s:admission --format path\)$/m;
  assert.match(readme, mintLine, 'step 3 mints the admission token with --format path');
  const sed = [...readme.matchAll(/sed "s\|([^|"]+)\|([^|"]+)\|"/g)].find((m) =>
    m[1]!.includes(PLACEHOLDERS.admissionToken),
  );
  assert.ok(sed, 'step 4 has the sed command for the admission placeholder');
  const [, from, to] = sed as unknown as [string, string, string];
  assert.equal(from, `/k8s/admission/${PLACEHOLDERS.admissionToken}`);
  assert.ok(to.includes('${ADMISSION_PATH}'), 'the sed puts ADMISSION_PATH in');

  const minted = mintCli([
    '--subject',
    'kube-apiserver',
    '--scope',
    'k8s:admission',
    '--format',
    'path',
  ]);
  const text = readRepoFile(FILES.webhookConfiguration).replaceAll(
    from,
    to.replace('${ADMISSION_PATH}', minted),
  );
  const path = /^\s*path: (\S+)$/m.exec(text)?.[1];
  assert.equal(path, `/k8s/admission/${minted}`);
  assert.deepEqual(webhookServicePathErrors(path), []);

  // The server, with the key the Deployment mounts, accepts a call on that path.
  const config = parseConfig(['serve', '--insecure-http', '--auth-jwt-secret-file', keyFile]);
  const logger = createLogger({ level: 'silent' });
  const metrics = createMetrics({ defaultMetrics: false });
  const app = createApp({
    config,
    logger,
    metrics,
    readiness: new Readiness(),
    auth: createAuthenticator(config, logger, metrics),
    handlers: { admission: async (_q, r) => void r.json(r.locals.principal) },
  });
  const res = await request(app).post(path).send({}).expect(200);
  assert.deepEqual(res.body, {
    subject: 'kube-apiserver',
    scopes: ['k8s:admission'],
    via: 'jwt-path',
  });
  // The placeholder itself is refused (401), never a server error.
  await request(app).post(servicePath()).send({}).expect(401);
});

test('the README no longer tells operators that a JWT cannot be used on the service path', () => {
  assert.doesNotMatch(readme, /Use the `sed` below only with a token that meets that rule/);
  assert.match(readme, /token --format path/);
});
