// The admission path token through the real app (docs/reference.md "HTTP API"): a JWT carried as base32 path
// segments the API server accepts in clientConfig.service.path authenticates like a header token
// (same keys, iss/aud/exp, scope); a corrupted path is a 401, a raw JWT segment and the header
// still work, and neither the segments nor the JWT reach a log line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { createApp, type Handler } from '../../src/http/app.js';
import { createAuthenticator } from '../../src/http/auth.js';
import { Readiness } from '../../src/telemetry/readiness.js';
import { parseConfig } from '../../src/config/index.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { encodePathToken } from '../../src/auth/path-token.js';
import { webhookServicePathErrors } from '../infra/webhook-path.js';
import { authFailureCounts, captureLogs, ecKeyPair, nowSeconds, tempDir } from '../auth/support.js';

const UNAUTHENTICATED = {
  error: { code: 'UNAUTHENTICATED', message: 'a valid credential is required' },
};

const dir = tempDir();
process.on('exit', () => dir.remove());
const hmacSecret = 'path-token-hmac-secret-0123456789abcdefXYZ';
const secretFile = dir.write('secret', `${hmacSecret}\n`);
const ec = ecKeyPair('P-256');
const ecFile = dir.write('ec.pem', ec.publicPem);

/** Claims as docs/reference.md "HTTP API" requires them (iss/aud default to k8s-consul-sync, §2.3). */
function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  return {
    iss: 'k8s-consul-sync',
    aud: 'k8s-consul-sync',
    sub: 'kube-apiserver',
    scope: 'k8s:admission',
    iat: now,
    exp: now + 600,
    ...overrides,
  };
}

const hs256 = (overrides: Record<string, unknown> = {}): string =>
  jwt.sign(claims(overrides), hmacSecret, { algorithm: 'HS256' });

interface Setup {
  app: ReturnType<typeof createApp>;
  metrics: Metrics;
  lines: string[];
  principals: unknown[];
}

function setup(args: string[] = ['--auth-jwt-secret-file', secretFile]): Setup {
  const config = parseConfig(['serve', '--insecure-http', ...args]);
  const { logger, lines } = captureLogs();
  const metrics = createMetrics({ defaultMetrics: false });
  const auth = createAuthenticator(config, logger, metrics);
  const principals: unknown[] = [];
  const handler: Handler = async (req, res) => {
    principals.push(res.locals.principal);
    res.json({ got: req.body as unknown });
  };
  const app = createApp({
    config,
    logger,
    metrics,
    readiness: new Readiness(),
    auth,
    handlers: { admission: handler, audit: handler, reconcile: handler },
  });
  return { app, metrics, lines, principals };
}

/** The path as an operator configures it: /k8s/admission/<seg1>/<seg2>… */
const admissionPath = (token: string): string =>
  `/k8s/admission/${encodePathToken(token).join('/')}`;

test('a path token authenticates with the scopes of its JWT, and the API server accepts the path', async () => {
  const s = setup();
  const token = hs256({ scope: 'k8s:admission k8s:audit' });
  const path = admissionPath(token);
  assert.deepEqual(webhookServicePathErrors(path), []);
  assert.ok(path.split('/').length >= 5, 'the token spans at least two segments');
  const res = await request(s.app).post(path).send({ a: 1 }).expect(200);
  assert.deepEqual(res.body, { got: { a: 1 } });
  assert.deepEqual(s.principals, [
    { subject: 'kube-apiserver', scopes: ['k8s:admission', 'k8s:audit'], via: 'jwt-path' },
  ]);
  assert.deepEqual(await authFailureCounts(s.metrics), {});
});

test('the same for an ES256 token against a public key, on every event route', async () => {
  const s = setup(['--auth-jwt-public-key-file', ecFile]);
  const token = jwt.sign(claims({ scope: 'k8s:audit reconcile' }), ec.privateKey, {
    algorithm: 'ES256',
  });
  const suffix = encodePathToken(token).join('/');
  await request(s.app).post(`/k8s/audit/${suffix}`).send({}).expect(200);
  await request(s.app).post(`/reconcile/${suffix}`).send({}).expect(200);
  await request(s.app).post(`/k8s/admission/${suffix}`).send({}).expect(403);
});

test('a trailing slash is allowed (the API server allows one too)', async () => {
  const s = setup();
  await request(s.app)
    .post(admissionPath(hs256()) + '/')
    .send({})
    .expect(200);
});

test('wrong scope: 403 insufficient_scope, counted as wrong-scope', async () => {
  const s = setup();
  const res = await request(s.app)
    .post(admissionPath(hs256({ scope: 'k8s:audit consul:watch' })))
    .send({})
    .expect(403);
  assert.equal(res.body.error.code, 'FORBIDDEN');
  assert.match(String(res.headers['www-authenticate']), /insufficient_scope/);
  assert.deepEqual(await authFailureCounts(s.metrics), { 'wrong-scope': 1 });
  assert.deepEqual(s.principals, []);
});

test('verified exactly like a header token: expiry, issuer, audience, signature, key', async () => {
  const s = setup();
  const cases: [string, string, string][] = [
    ['expired', hs256({ exp: nowSeconds() - 300 }), 'expired'],
    ['other issuer', hs256({ iss: 'someone-else' }), 'wrong-issuer'],
    ['other audience', hs256({ aud: 'someone-else' }), 'wrong-audience'],
    [
      'other HMAC key',
      jwt.sign(claims(), 'another-secret-of-enough-length-0123456789'),
      'bad-signature',
    ],
    [
      'ES256 while only an HMAC key is configured',
      jwt.sign(claims(), ec.privateKey, { algorithm: 'ES256' }),
      'bad-algorithm',
    ],
    ['alg none', `${jwt.sign(claims(), hmacSecret).split('.').slice(0, 2).join('.')}.`, ''],
  ];
  for (const [name, token, reason] of cases) {
    const before = await authFailureCounts(s.metrics);
    const res = await request(s.app).post(admissionPath(token)).send({});
    assert.equal(res.status, 401, name);
    assert.deepEqual(res.body, UNAUTHENTICATED, name);
    const after = await authFailureCounts(s.metrics);
    if (reason) assert.equal((after[reason] ?? 0) - (before[reason] ?? 0), 1, `${name}: ${reason}`);
  }
  assert.deepEqual(s.principals, []);
});

test('a corrupted or malformed path: 401 with the same body, counted as malformed', async () => {
  const s = setup();
  const segments = encodePathToken(hs256());
  const [first, ...rest] = segments as [string, ...string[]];
  const corrupt = (i: number, c: string): string => first.slice(0, i) + c + first.slice(i + 1);
  const malformed: [string, string[]][] = [
    ['upper case', segments.map((x) => x.toUpperCase())],
    ['a character outside base32', [corrupt(10, '1'), ...rest]],
    ['a hyphen', [corrupt(10, '-'), ...rest]],
    ['an empty label', [first.replace('.', '..'), ...rest]],
    ['segments swapped', [...segments].reverse()],
    ['the last segment dropped', segments.slice(0, -1)],
    ['an extra segment', [...segments, 'aa']],
    ['an empty segment in between', [first, '', ...rest]],
    ['a base64url segment among base32 ones', [first, 'eyJhbGciOiJIUzI1NiJ9']],
    ['plain words', ['replace-with-admission-token']],
  ];
  for (const [name, parts] of malformed) {
    const before = (await authFailureCounts(s.metrics)).malformed ?? 0;
    const res = await request(s.app)
      .post(`/k8s/admission/${parts.join('/')}`)
      .send({});
    assert.equal(res.status, 401, name);
    assert.deepEqual(res.body, UNAUTHENTICATED, name);
    assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/, name);
    assert.equal((await authFailureCounts(s.metrics)).malformed ?? 0, before + 1, name);
  }
  // A valid base32 character swapped for another: the JWT's bytes change, so the token either
  // stops being a JWS or fails its signature; never accepted.
  for (const i of [0, 30, 100, first.length - 1]) {
    if (first[i] === '.') continue;
    const swapped = corrupt(i, first[i] === 'a' ? 'b' : 'a');
    await request(s.app)
      .post(`/k8s/admission/${[swapped, ...rest].join('/')}`)
      .send({})
      .expect(401);
  }
  assert.deepEqual(s.principals, []);
});

test('an oversized path token is a 401, not an error', async () => {
  const s = setup();
  const label = 'a'.repeat(63);
  const segment = [label, label, label, 'a'.repeat(61)].join('.');
  const res = await request(s.app)
    .post(`/k8s/admission/${Array<string>(33).fill(segment).join('/')}`)
    .send({});
  assert.equal(res.status, 401);
  assert.deepEqual(await authFailureCounts(s.metrics), { malformed: 1 });
});

test('a raw JWT segment still works (clientConfig.url), and so does the header', async () => {
  const s = setup();
  const token = hs256();
  await request(s.app).post(`/k8s/admission/${token}`).send({}).expect(200);
  await request(s.app)
    .post('/k8s/admission')
    .set('Authorization', `Bearer ${token}`)
    .send({})
    .expect(200);
  assert.deepEqual(
    s.principals.map((p) => (p as { via: string }).via),
    ['jwt-path', 'jwt-header'],
  );
  // A raw JWT is one segment: split over two it is neither form.
  const cut = token.indexOf('.') + 5;
  await request(s.app)
    .post(`/k8s/admission/${token.slice(0, cut)}/${token.slice(cut)}`)
    .send({})
    .expect(401);
});

test('the header is used when both are given', async () => {
  const s = setup();
  const headerToken = hs256({ sub: 'from-header', scope: 'k8s:admission' });
  await request(s.app)
    .post('/k8s/admission/not-a-token')
    .set('Authorization', `Bearer ${headerToken}`)
    .send({})
    .expect(200);
  assert.equal((s.principals[0] as { subject: string }).subject, 'from-header');
  await request(s.app)
    .post(admissionPath(hs256()))
    .set('Authorization', 'Bearer garbage')
    .send({})
    .expect(401);
});

test('neither the path segments nor the JWT reach a log line; the path is redacted', async () => {
  const s = setup();
  const token = hs256();
  const segments = encodePathToken(token);
  await request(s.app).post(admissionPath(token)).send({}).expect(200);
  await request(s.app)
    .post(admissionPath(hs256({ scope: 'reconcile' })))
    .send({})
    .expect(403);
  // Express routes case-insensitively; the redaction must too.
  await request(s.app)
    .post(`/K8S/Admission/${segments.join('/')}`)
    .send({})
    .expect(200);
  const logged = s.lines.join('\n');
  for (const secret of [token, ...segments, ...segments.flatMap((x) => x.split('.'))]) {
    assert.ok(!logged.includes(secret), 'a path token part was logged');
  }
  const paths = s.lines
    .map((l) => JSON.parse(l) as { event?: string; path?: string })
    .filter((l) => l.event === 'http-request' || l.event === 'auth-failure')
    .map((l) => l.path);
  assert.ok(paths.length >= 4);
  for (const p of paths) assert.match(String(p), /^\/k8s\/admission\/\[REDACTED\]$/i);
});
