// The `token` command (docs/reference.md "Commands"): mint, then verify through the authenticator the server uses;
// usage problems are one line on stderr and exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { parseConfig } from '../../src/config/index.js';
import { mintFromConfig, renderToken, TokenUsageError } from '../../src/commands/token.js';
import { decodePathToken } from '../../src/auth/path-token.js';
import { isRfc1123Subdomain, webhookServicePathErrors } from '../infra/webhook-path.js';
import { createAuthenticator } from '../../src/http/auth.js';
import { createApp } from '../../src/http/app.js';
import { Readiness } from '../../src/telemetry/readiness.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { captureLogs, ecKeyPair, rsaKeyPair, tempDir } from '../auth/support.js';

const dir = tempDir('k8s-consul-sync-token-');
process.on('exit', () => dir.remove());
const secretFile = dir.write('secret', 'a-long-enough-hmac-secret-for-the-token-tests\n');
const rsa = rsaKeyPair();
const rsaPrivate = dir.write('rsa.key', rsa.privatePem);
const rsaPublic = dir.write('rsa.pub', rsa.publicPem);
const ec = ecKeyPair('P-256');
const ecPrivate = dir.write('ec.key', ec.privatePem);
const ecPublic = dir.write('ec.pub', ec.publicPem);

function serveApp(args: string[]) {
  const config = parseConfig(['serve', '--insecure-http', ...args]);
  const { logger } = captureLogs();
  const metrics = createMetrics({ defaultMetrics: false });
  const auth = createAuthenticator(config, logger, metrics);
  const app = createApp({
    config,
    logger,
    metrics,
    readiness: new Readiness(),
    auth,
    handlers: {
      admission: async (_q, r) => void r.json(r.locals.principal),
      audit: async (_q, r) => void r.json(r.locals.principal),
      reconcile: async (_q, r) => void r.json(r.locals.principal),
    },
  });
  return { app, auth };
}

const tokenArgs = [
  '--subject',
  'kube-apiserver',
  '--scope',
  'k8s:admission',
  '--scope',
  'k8s:audit',
];

test('HMAC: mint, then the server accepts it for the granted scopes only', async () => {
  const before = Math.floor(Date.now() / 1000);
  const token = mintFromConfig(
    parseConfig(['token', '--auth-jwt-secret-file', secretFile, ...tokenArgs, '--ttl', '8760h']),
  );
  const header = jwt.decode(token, { complete: true })!.header;
  assert.equal(header.alg, 'HS256');
  const claims = jwt.decode(token) as Record<string, unknown>;
  assert.equal(claims.iss, 'k8s-consul-sync');
  assert.equal(claims.aud, 'k8s-consul-sync');
  assert.equal(claims.sub, 'kube-apiserver');
  assert.equal(claims.scope, 'k8s:admission k8s:audit');
  assert.ok((claims.iat as number) >= before);
  assert.equal((claims.exp as number) - (claims.iat as number), 8760 * 3600);

  const { app, auth } = serveApp(['--auth-jwt-secret-file', secretFile]);
  const verdict = auth.verify(token);
  assert.ok(verdict.ok);
  assert.deepEqual(verdict.scopes, ['k8s:admission', 'k8s:audit']);
  const res = await request(app)
    .post('/k8s/admission')
    .set('Authorization', `Bearer ${token}`)
    .send({})
    .expect(200);
  assert.deepEqual(res.body, {
    subject: 'kube-apiserver',
    scopes: ['k8s:admission', 'k8s:audit'],
    via: 'jwt-header',
  });
  await request(app).post(`/k8s/audit/${token}`).send({}).expect(200);
  await request(app)
    .post('/reconcile')
    .set('Authorization', `Bearer ${token}`)
    .send({})
    .expect(403);
});

test('RS256 with --private-key-file; the server verifies with the public key', async () => {
  const token = mintFromConfig(
    parseConfig([
      'token',
      '--private-key-file',
      rsaPrivate,
      '--subject',
      'cron',
      '--scope',
      'reconcile',
    ]),
  );
  assert.equal(jwt.decode(token, { complete: true })!.header.alg, 'RS256');
  const { app } = serveApp(['--auth-jwt-public-key-file', rsaPublic]);
  const res = await request(app)
    .post('/reconcile')
    .set('Authorization', `Bearer ${token}`)
    .send({})
    .expect(200);
  assert.equal(res.body.subject, 'cron');
  // The HMAC-only server does not know this key.
  const hmacOnly = serveApp(['--auth-jwt-secret-file', secretFile]);
  await request(hmacOnly.app)
    .post('/reconcile')
    .set('Authorization', `Bearer ${token}`)
    .send({})
    .expect(401);
});

test('ES256 with a P-256 private key; custom issuer and audience are used on both sides', async () => {
  const iss = ['--auth-jwt-issuer', 'platform', '--auth-jwt-audience', 'sync-prod'];
  const token = mintFromConfig(
    parseConfig(['token', '--private-key-file', ecPrivate, ...iss, ...tokenArgs]),
  );
  assert.equal(jwt.decode(token, { complete: true })!.header.alg, 'ES256');
  const claims = jwt.decode(token) as Record<string, unknown>;
  assert.equal(claims.iss, 'platform');
  assert.equal(claims.aud, 'sync-prod');
  await request(serveApp(['--auth-jwt-public-key-file', ecPublic, ...iss]).app)
    .post('/k8s/admission')
    .set('Authorization', `Bearer ${token}`)
    .send({})
    .expect(200);
  await request(serveApp(['--auth-jwt-public-key-file', ecPublic]).app)
    .post('/k8s/admission')
    .set('Authorization', `Bearer ${token}`)
    .send({})
    .expect(401);
});

test('--ttl 0: no exp claim; --ttl 90s: exp = iat + 90', () => {
  const forever = jwt.decode(
    mintFromConfig(
      parseConfig(['token', '--auth-jwt-secret-file', secretFile, ...tokenArgs, '--ttl', '0']),
    ),
  ) as Record<string, unknown>;
  assert.equal('exp' in forever, false);
  assert.equal(typeof forever.iat, 'number');
  const short = mintFromConfig(
    parseConfig(['token', '--auth-jwt-secret-file', secretFile, ...tokenArgs, '--ttl', '90s']),
    1_700_000_000_500,
  );
  assert.deepEqual(
    {
      iat: (jwt.decode(short) as Record<string, unknown>).iat,
      exp: (jwt.decode(short) as Record<string, unknown>).exp,
    },
    { iat: 1_700_000_000, exp: 1_700_000_090 },
  );
});

test('usage problems: no subject, no scope, no key, unusable key', () => {
  const cases: [string[], RegExp][] = [
    [['--auth-jwt-secret-file', secretFile, '--scope', 'reconcile'], /--subject is required/],
    [['--auth-jwt-secret-file', secretFile, '--subject', 'x'], /at least one --scope/],
    [['--subject', 'x', '--scope', 'reconcile'], /no signing key/],
    [
      ['--private-key-file', rsaPublic, '--subject', 'x', '--scope', 'reconcile'],
      /not an unencrypted PEM private key/,
    ],
  ];
  for (const [args, pattern] of cases) {
    assert.throws(
      () => mintFromConfig(parseConfig(['token', ...args])),
      (err: Error) => {
        assert.ok(err instanceof TokenUsageError);
        assert.match(err.message, pattern);
        return true;
      },
    );
  }
});

const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const runCli = (args: string[], extraEnv: Record<string, string> = {}) => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SYNC_AUTH_JWT_SECRET_FILE: '',
    SYNC_PRIVATE_KEY_FILE: '',
    ...extraEnv,
  };
  if (!('SYNC_FORMAT' in extraEnv)) delete env.SYNC_FORMAT;
  return spawnSync(process.execPath, ['--import', 'tsx', cli, 'token', ...args], {
    encoding: 'utf8',
    env,
  });
};

test('CLI: prints the token only, one line, exit 0', () => {
  const out = runCli(['--auth-jwt-secret-file', secretFile, ...tokenArgs]);
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stderr, '');
  assert.match(out.stdout, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
  const { auth } = serveApp(['--auth-jwt-secret-file', secretFile]);
  assert.ok(auth.verify(out.stdout.trim()).ok);
});

test('CLI: without a key, one line on stderr and exit 2', () => {
  const out = runCli(tokenArgs);
  assert.equal(out.status, 2);
  assert.equal(out.stdout, '');
  assert.match(out.stderr, /^k8s-consul-sync: token: no signing key[^\n]*\n$/);
});

test('--format: jwt by default; path from the flag or SYNC_FORMAT, the flag winning', () => {
  const base = ['token', '--auth-jwt-secret-file', secretFile, ...tokenArgs];
  const formatOf = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
    parseConfig([...base, ...argv], env).token.format;
  assert.equal(formatOf([]), 'jwt');
  assert.equal(formatOf(['--format', 'path']), 'path');
  assert.equal(formatOf(['--format=path']), 'path');
  assert.equal(formatOf([], { SYNC_FORMAT: 'path' }), 'path');
  assert.equal(formatOf(['--format=jwt'], { SYNC_FORMAT: 'path' }), 'jwt');
  assert.throws(() => parseConfig([...base, '--format', 'base32']), /--format: one of jwt, path/);
});

test('--format path: segments the API server accepts after /k8s/admission/, and the server accepts', async () => {
  const config = parseConfig(['token', '--auth-jwt-secret-file', secretFile, ...tokenArgs]);
  const suffix = renderToken(config, 'path');
  assert.ok(!suffix.startsWith('/') && !suffix.endsWith('/'), 'no leading or trailing slash');
  for (const segment of suffix.split('/')) assert.ok(isRfc1123Subdomain(segment), segment);
  assert.deepEqual(webhookServicePathErrors(`/k8s/admission/${suffix}`), []);
  // The JWT inside carries the claims the verifier needs, and nothing else (compact).
  const token = decodePathToken(suffix.split('/'));
  assert.ok(token);
  assert.deepEqual(Object.keys(jwt.decode(token) as object).sort(), [
    'aud',
    'exp',
    'iat',
    'iss',
    'scope',
    'sub',
  ]);
  const { app } = serveApp(['--auth-jwt-secret-file', secretFile]);
  const res = await request(app).post(`/k8s/admission/${suffix}`).send({}).expect(200);
  assert.deepEqual(res.body, {
    subject: 'kube-apiserver',
    scopes: ['k8s:admission', 'k8s:audit'],
    via: 'jwt-path',
  });
  // The same for a token signed with an EC key.
  const ecSuffix = renderToken(
    parseConfig(['token', '--private-key-file', ecPrivate, ...tokenArgs]),
    'path',
  );
  await request(serveApp(['--auth-jwt-public-key-file', ecPublic]).app)
    .post(`/k8s/admission/${ecSuffix}`)
    .send({})
    .expect(200);
});

test('--format path: an admission token (HS256 or ES256, one scope, one year) takes two segments', () => {
  const admission = ['--subject', 'kube-apiserver', '--scope', 'k8s:admission'];
  for (const key of [
    ['--auth-jwt-secret-file', secretFile],
    ['--private-key-file', ecPrivate],
  ]) {
    const suffix = renderToken(parseConfig(['token', ...key, ...admission]), 'path');
    assert.equal(suffix.split('/').length, 2, `${key[0]}: ${suffix.length} characters`);
  }
});

test('CLI: --format path prints the path suffix only, one line, exit 0', async () => {
  const out = runCli(['--auth-jwt-secret-file', secretFile, ...tokenArgs, '--format', 'path']);
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stderr, '');
  assert.match(out.stdout, /^[a-z2-7.]+(\/[a-z2-7.]+)+\n$/);
  const suffix = out.stdout.trim();
  assert.deepEqual(webhookServicePathErrors(`/k8s/admission/${suffix}`), []);
  const { app } = serveApp(['--auth-jwt-secret-file', secretFile]);
  await request(app).post(`/k8s/admission/${suffix}`).send({}).expect(200);
  const fromEnv = runCli(['--auth-jwt-secret-file', secretFile, ...tokenArgs], {
    SYNC_FORMAT: 'path',
  });
  assert.equal(fromEnv.status, 0, fromEnv.stderr);
  assert.match(fromEnv.stdout, /^[a-z2-7.]+(\/[a-z2-7.]+)+\n$/);
});

test('CLI: an unknown --format is refused with one line naming the flag, exit 2', () => {
  const out = runCli(['--auth-jwt-secret-file', secretFile, ...tokenArgs, '--format', 'b32']);
  assert.equal(out.status, 2);
  assert.equal(out.stdout, '');
  assert.equal(out.stderr, 'k8s-consul-sync: invalid value "b32" for --format: one of jwt, path\n');
});
