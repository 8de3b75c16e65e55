// The credential table of issue 7 against a real app (docs/reference.md "Flags and environment", "HTTP API"): every refusal is a 401
// or 403 with the same detail-free body, counted by reason; the handler runs only when valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import jwt, { type Algorithm } from 'jsonwebtoken';
import request from 'supertest';
import { createApp, type Handler } from '../../src/http/app.js';
import {
  createAuthenticator,
  DISABLED_WARN_EVERY_MS,
  type AuthenticatorOptions,
} from '../../src/http/auth.js';
import { Readiness } from '../../src/telemetry/readiness.js';
import { parseConfig } from '../../src/config/index.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import {
  authFailureCounts,
  captureLogs,
  ecKeyPair,
  hs256ByHand,
  nowSeconds,
  pemBodyChunks,
  rsaKeyPair,
  tempDir,
  unsecuredToken,
  type PemKeyPair,
} from '../auth/support.js';

// docs/reference.md "Flags and environment": both default to k8s-consul-sync.
const ISSUER = 'k8s-consul-sync';
const AUDIENCE = 'k8s-consul-sync';
const UNAUTHENTICATED = {
  error: { code: 'UNAUTHENTICATED', message: 'a valid credential is required' },
};
const DETAIL = /expire|signature|issuer|audience|algorithm|before|malformed|scope|key|jwt/i;

const dir = tempDir();
process.on('exit', () => dir.remove());

const keyA = rsaKeyPair();
const keyB = ecKeyPair('P-256');
const keyC = rsaKeyPair();
const stranger = rsaKeyPair();
const hmacSecret = 'hmac-secret-for-tests-0123456789abcdef-XYZ';

// File A: one RSA key. File B (rotation): an EC key and a second RSA key in one file.
const fileA = dir.write('a.pem', keyA.publicPem);
const fileB = dir.write('b.pem', `${keyB.publicPem}\n${keyC.publicPem}`);
const secretFile = dir.write('secret', `${hmacSecret}\n`);

/** Every credential and key text used in this file: none may reach a log line. */
const secrets = new Set<string>([hmacSecret]);
for (const k of [keyA, keyB, keyC, stranger]) {
  for (const chunk of [...pemBodyChunks(k.publicPem), ...pemBodyChunks(k.privatePem)])
    secrets.add(chunk);
}
const allLines: string[] = [];

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  const base: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'kube-apiserver',
    scope: 'k8s:admission k8s:audit',
    iat: now,
    exp: now + 600,
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

function sign(
  key: PemKeyPair,
  algorithm: Algorithm,
  overrides: Record<string, unknown> = {},
): string {
  const token = jwt.sign(claims(overrides), key.privateKey, { algorithm });
  secrets.add(token);
  return token;
}

interface Setup {
  app: ReturnType<typeof createApp>;
  metrics: Metrics;
  calls: () => number;
  principals: unknown[];
}

function setup(args: string[], options: AuthenticatorOptions = {}): Setup {
  const config = parseConfig(['serve', '--insecure-http', ...args]);
  const { logger } = captureLogs(allLines);
  const metrics = createMetrics({ defaultMetrics: false });
  const auth = createAuthenticator(config, logger, metrics, options);
  const principals: unknown[] = [];
  const handler: Handler = async (_req, res) => {
    principals.push(res.locals.principal);
    res.json({ ok: true });
  };
  const app = createApp({
    config,
    logger,
    metrics,
    readiness: new Readiness(),
    auth,
    handlers: { admission: handler, audit: handler },
  });
  return { app, metrics, calls: () => principals.length, principals };
}

interface Case {
  name: string;
  /** Authorization header value. */
  header?: () => string;
  /** Token sent as the trailing path segment. */
  path?: () => string;
  status: 200 | 401 | 403;
  reason?: string;
  via?: 'jwt-header' | 'jwt-path';
  /** Scopes of the principal (default: the two granted by claims()). */
  scopes?: string[];
}

const bearer = (token: () => string) => () => `Bearer ${token()}`;

const cases: Case[] = [
  { name: 'no credential', status: 401, reason: 'missing' },
  {
    name: 'garbage bearer token',
    header: () => 'Bearer garbage',
    status: 401,
    reason: 'malformed',
  },
  {
    name: 'three segments that are not JSON',
    header: () => 'Bearer abc.def.ghi',
    status: 401,
    reason: 'malformed',
  },
  {
    name: 'Basic scheme instead of Bearer',
    header: () => 'Basic dXNlcjpwYXNz',
    status: 401,
    reason: 'malformed',
  },
  { name: 'Bearer without a token', header: () => 'Bearer ', status: 401, reason: 'malformed' },
  {
    name: 'signed by a key that is not configured',
    header: bearer(() => sign(stranger, 'RS256')),
    status: 401,
    reason: 'bad-signature',
  },
  {
    name: 'payload swapped after signing',
    header: bearer(() => {
      const [h, , s] = sign(keyA, 'RS256', { scope: 'k8s:audit' }).split('.');
      const forged = Buffer.from(JSON.stringify(claims())).toString('base64url');
      const token = `${h}.${forged}.${s}`;
      secrets.add(token);
      return token;
    }),
    status: 401,
    reason: 'bad-signature',
  },
  {
    name: 'alg none',
    header: bearer(() => unsecuredToken(claims())),
    status: 401,
    reason: 'bad-algorithm',
  },
  {
    name: 'HS256 signed with the public key text (algorithm confusion)',
    header: bearer(() => hs256ByHand({ alg: 'HS256', typ: 'JWT' }, claims(), keyA.publicPem)),
    status: 401,
    reason: 'bad-algorithm',
  },
  {
    name: 'ES384 header while the EC key is P-256',
    header: bearer(() => {
      const [, p] = sign(keyB, 'ES256').split('.');
      const h = Buffer.from(JSON.stringify({ alg: 'ES384', typ: 'JWT' })).toString('base64url');
      return `${h}.${p}.AAAA`;
    }),
    status: 401,
    reason: 'bad-algorithm',
  },
  {
    name: 'expired beyond the 30 s tolerance',
    header: bearer(() =>
      sign(keyA, 'RS256', { exp: nowSeconds() - 120, iat: nowSeconds() - 3600 }),
    ),
    status: 401,
    reason: 'expired',
  },
  {
    name: 'expired 10 s ago: within the 30 s tolerance',
    header: bearer(() => sign(keyA, 'RS256', { exp: nowSeconds() - 10, iat: nowSeconds() - 3600 })),
    status: 200,
    via: 'jwt-header',
  },
  {
    name: 'not yet valid beyond the tolerance',
    header: bearer(() => sign(keyA, 'RS256', { nbf: nowSeconds() + 120 })),
    status: 401,
    reason: 'not-yet-valid',
  },
  {
    name: 'nbf 10 s ahead: within the tolerance',
    header: bearer(() => sign(keyA, 'RS256', { nbf: nowSeconds() + 10 })),
    status: 200,
    via: 'jwt-header',
  },
  {
    name: 'wrong issuer',
    header: bearer(() => sign(keyA, 'RS256', { iss: 'someone-else' })),
    status: 401,
    reason: 'wrong-issuer',
  },
  {
    name: 'no issuer',
    header: bearer(() => sign(keyA, 'RS256', { iss: undefined })),
    status: 401,
    reason: 'wrong-issuer',
  },
  {
    name: 'wrong audience',
    header: bearer(() => sign(keyA, 'RS256', { aud: 'consul' })),
    status: 401,
    reason: 'wrong-audience',
  },
  {
    name: 'no audience',
    header: bearer(() => sign(keyA, 'RS256', { aud: undefined })),
    status: 401,
    reason: 'wrong-audience',
  },
  {
    name: 'audience list that includes ours',
    header: bearer(() => sign(keyA, 'RS256', { aud: ['consul', AUDIENCE] })),
    status: 200,
    via: 'jwt-header',
  },
  {
    name: 'wrong scope',
    header: bearer(() => sign(keyA, 'RS256', { scope: 'k8s:audit consul:watch' })),
    status: 403,
    reason: 'wrong-scope',
  },
  {
    name: 'scope that only starts with the endpoint scope',
    header: bearer(() => sign(keyA, 'RS256', { scope: 'k8s:admissions' })),
    status: 403,
    reason: 'wrong-scope',
  },
  {
    name: 'no scope claim',
    header: bearer(() => sign(keyA, 'RS256', { scope: undefined })),
    status: 403,
    reason: 'wrong-scope',
  },
  {
    name: 'valid in the header',
    header: bearer(() => sign(keyA, 'RS256')),
    status: 200,
    via: 'jwt-header',
  },
  {
    name: 'valid, lower-case bearer scheme',
    header: () => `bearer ${sign(keyA, 'RS256')}`,
    status: 200,
    via: 'jwt-header',
  },
  { name: 'valid in the path', path: () => sign(keyA, 'RS256'), status: 200, via: 'jwt-path' },
  {
    name: 'expired in the path',
    path: () => sign(keyA, 'RS256', { exp: nowSeconds() - 120 }),
    status: 401,
    reason: 'expired',
  },
  {
    name: 'valid, scope as an array',
    header: bearer(() => sign(keyA, 'RS256', { scope: ['reconcile', 'k8s:admission'] })),
    status: 200,
    via: 'jwt-header',
    scopes: ['reconcile', 'k8s:admission'],
  },
  {
    name: 'valid, PS256 with the RSA key',
    header: bearer(() => sign(keyA, 'PS256')),
    status: 200,
    via: 'jwt-header',
  },
  {
    name: 'valid, rotated second RSA key (second PEM in the second file)',
    header: bearer(() => sign(keyC, 'RS512')),
    status: 200,
    via: 'jwt-header',
  },
  {
    name: 'valid, ES256 with the P-256 key',
    header: bearer(() => sign(keyB, 'ES256')),
    status: 200,
    via: 'jwt-header',
  },
];

test('credential table: public keys only (RSA + EC, two files)', async (t) => {
  const s = setup(['--auth-jwt-public-key-file', `${fileA},${fileB}`]);
  let firstUnauthenticated: unknown;
  for (const c of cases) {
    await t.test(c.name, async () => {
      const before = await authFailureCounts(s.metrics);
      const calls = s.calls();
      const token = c.path?.();
      let req = request(s.app).post(token ? `/k8s/admission/${token}` : '/k8s/admission');
      if (c.header) req = req.set('Authorization', c.header());
      const res = await req.send({ kind: 'AdmissionReview' });
      assert.equal(res.status, c.status, JSON.stringify(res.body));
      const after = await authFailureCounts(s.metrics);
      if (c.status === 200) {
        assert.equal(s.calls(), calls + 1, 'the handler ran');
        assert.deepEqual(after, before, 'no failure counted');
        assert.deepEqual(s.principals.at(-1), {
          subject: 'kube-apiserver',
          scopes: c.scopes ?? ['k8s:admission', 'k8s:audit'],
          via: c.via,
        });
        return;
      }
      assert.equal(s.calls(), calls, 'the handler did not run');
      assert.equal((after[c.reason!] ?? 0) - (before[c.reason!] ?? 0), 1, `counted as ${c.reason}`);
      const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
      assert.equal(total(after) - total(before), 1, 'counted once');
      assert.doesNotMatch(res.body.error.message, DETAIL);
      if (c.status === 401) {
        assert.deepEqual(res.body, UNAUTHENTICATED);
        firstUnauthenticated ??= res.body;
        assert.deepEqual(res.body, firstUnauthenticated, 'every 401 looks the same');
        assert.match(String(res.headers['www-authenticate']), /^Bearer realm=/);
      } else {
        assert.equal(res.body.error.code, 'FORBIDDEN');
        assert.match(String(res.headers['www-authenticate']), /insufficient_scope/);
      }
    });
  }
});

test('the reason is in the log line, never in the answer', async () => {
  const lines: string[] = [];
  const config = parseConfig(['serve', '--auth-jwt-public-key-file', fileA]);
  const { logger } = captureLogs(lines);
  const metrics = createMetrics({ defaultMetrics: false });
  const auth = createAuthenticator(config, logger, metrics);
  const app = createApp({
    config,
    logger,
    metrics,
    readiness: new Readiness(),
    auth,
    handlers: { admission: async (_q, r) => void r.json({}) },
  });
  const token = sign(keyA, 'RS256', { exp: nowSeconds() - 300 });
  await request(app).post(`/k8s/admission/${token}`).send({}).expect(401);
  allLines.push(...lines);
  const failure = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.event === 'auth-failure');
  assert.ok(failure, 'an auth-failure line');
  assert.equal(failure.reason, 'expired');
  assert.equal(failure.via, 'jwt-path');
  assert.equal(failure.path, '/k8s/admission/[REDACTED]');
});

test('the scope of each endpoint is enforced separately', async () => {
  const s = setup(['--auth-jwt-public-key-file', fileA]);
  const auditOnly = sign(keyA, 'RS256', { scope: 'k8s:audit' });
  await request(s.app)
    .post('/k8s/audit')
    .set('Authorization', `Bearer ${auditOnly}`)
    .send({})
    .expect(200);
  await request(s.app)
    .post('/k8s/admission')
    .set('Authorization', `Bearer ${auditOnly}`)
    .send({})
    .expect(403);
  assert.deepEqual(await authFailureCounts(s.metrics), { 'wrong-scope': 1 });
});

test('HMAC secret: HS256/384/512 accepted, RS256 refused, wrong secret refused', async () => {
  const s = setup(['--auth-jwt-secret-file', secretFile]);
  const hs = (alg: Algorithm, secret = hmacSecret, overrides = {}) => {
    const token = jwt.sign(claims(overrides), secret, { algorithm: alg });
    secrets.add(token);
    return token;
  };
  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    await request(s.app)
      .post('/k8s/admission')
      .set('Authorization', `Bearer ${hs(alg)}`)
      .send({})
      .expect(200);
  }
  // The same token built by hand with node:crypto, to pin the key bytes (newline stripped).
  const byHand = hs256ByHand({ alg: 'HS256', typ: 'JWT' }, claims(), hmacSecret);
  secrets.add(byHand);
  await request(s.app)
    .post('/k8s/admission')
    .set('Authorization', `Bearer ${byHand}`)
    .send({})
    .expect(200);
  await request(s.app)
    .post('/k8s/admission')
    .set('Authorization', `Bearer ${hs('HS256', 'another-secret-of-enough-length-0123456789')}`)
    .send({})
    .expect(401);
  await request(s.app)
    .post('/k8s/admission')
    .set('Authorization', `Bearer ${sign(keyA, 'RS256')}`)
    .send({})
    .expect(401);
  await request(s.app)
    .post('/k8s/admission')
    .set('Authorization', `Bearer ${unsecuredToken(claims())}`)
    .send({})
    .expect(401);
  assert.deepEqual(await authFailureCounts(s.metrics), { 'bad-signature': 1, 'bad-algorithm': 2 });
  assert.equal(s.calls(), 4);
});

test('HMAC and public key together: an HS256 token made with the public key text is never accepted', async () => {
  const s = setup(['--auth-jwt-secret-file', secretFile, '--auth-jwt-public-key-file', fileA]);
  const confused = hs256ByHand({ alg: 'HS256', typ: 'JWT' }, claims(), keyA.publicPem);
  await request(s.app)
    .post('/k8s/admission')
    .set('Authorization', `Bearer ${confused}`)
    .send({})
    .expect(401);
  await request(s.app)
    .post('/k8s/admission')
    .set('Authorization', `Bearer ${sign(keyA, 'RS256')}`)
    .send({})
    .expect(200);
  assert.deepEqual(await authFailureCounts(s.metrics), { 'bad-signature': 1 });
});

test('key file replaced at runtime: old token refused, new accepted, checked at most once a second', async () => {
  const rotating = dir.write('rotating.pem', keyA.publicPem);
  let now = Date.now();
  const s = setup(['--auth-jwt-public-key-file', rotating], { now: () => now });
  const post = (token: string) =>
    request(s.app).post('/k8s/admission').set('Authorization', `Bearer ${token}`).send({});
  const oldToken = sign(keyA, 'RS256');
  const fresh = rsaKeyPair();
  for (const c of pemBodyChunks(fresh.publicPem)) secrets.add(c);
  const newToken = sign(fresh, 'RS256');
  await post(oldToken).expect(200);
  await post(newToken).expect(401);

  dir.write('rotating.pem', fresh.publicPem);
  now += 500; // within the interval: the file is not looked at yet
  await post(oldToken).expect(200);
  now += 500;
  await post(oldToken).expect(401);
  await post(newToken).expect(200);

  // In-place rewrite (same inode) of a broken file: the previous keys stay.
  writeFileSync(rotating, '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n');
  now += 1000;
  await post(newToken).expect(200);
  await post(oldToken).expect(401);
  assert.ok(
    allLines.some((l) => l.includes('"event":"auth-keys-reload-failed"') && l.includes(rotating)),
    'the broken file is logged',
  );
  // Fixed again: both keys in one file.
  writeFileSync(rotating, `${keyA.publicPem}${fresh.publicPem}`);
  now += 1000;
  await post(oldToken).expect(200);
  await post(newToken).expect(200);
});

test('--auth-disabled: every request let through; the first is a warning, then one a minute with how many since', async () => {
  const lines: string[] = [];
  const config = parseConfig(['serve', '--auth-disabled', '--insecure-http']);
  const { logger } = captureLogs(lines);
  const metrics = createMetrics({ defaultMetrics: false });
  const clock = { t: 1_000_000 };
  const auth = createAuthenticator(config, logger, metrics, { now: () => clock.t });
  const principals: unknown[] = [];
  const app = createApp({
    config,
    logger,
    metrics,
    readiness: new Readiness(),
    auth,
    handlers: {
      admission: async (_q, r) => {
        principals.push(r.locals.principal);
        r.json({});
      },
    },
  });
  const send = (authorization?: string) => {
    const req = request(app).post('/k8s/admission');
    return (authorization ? req.set('Authorization', authorization) : req).send({}).expect(200);
  };
  await send();
  await send('Bearer garbage');
  await send();
  clock.t += DISABLED_WARN_EVERY_MS - 1;
  await send();
  clock.t += 1;
  await send();
  allLines.push(...lines);
  const warnings = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.event === 'auth-disabled');
  // The first request; then, a minute later, the four let through since.
  assert.deepEqual(
    warnings.map((w) => [w.level, w.letThrough, w.path]),
    [
      ['warn', 1, '/k8s/admission'],
      ['warn', 4, '/k8s/admission'],
    ],
  );
  assert.equal(principals.length, 5);
  assert.ok(
    principals.every(
      (p) =>
        JSON.stringify(p) ===
        JSON.stringify({
          subject: 'anonymous',
          scopes: ['k8s:admission', 'k8s:audit', 'consul:watch', 'reconcile'],
          via: 'disabled',
        }),
    ),
  );
});

test('start-up: unusable key files are refused without quoting them', () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const { logger } = captureLogs(allLines);
  const short = dir.write('short-secret', 'too-short');
  const pemAsSecret = dir.write('pem-secret', keyA.publicPem);
  const privateAsPublic = dir.write('private.pem', keyA.privatePem);
  for (const [args, pattern] of [
    [['--auth-jwt-secret-file', short], /at least 32/],
    [['--auth-jwt-secret-file', pemAsSecret], /PEM key, not an HMAC secret/],
    [['--auth-jwt-public-key-file', privateAsPublic], /private key/],
    [['--auth-jwt-public-key-file', dir.file('absent.pem')], /ENOENT/],
  ] as const) {
    assert.throws(
      () => createAuthenticator(parseConfig(['serve', ...args]), logger, metrics),
      (err: Error) => {
        assert.match(err.message, pattern);
        for (const chunk of pemBodyChunks(keyA.privatePem)) assert.ok(!err.message.includes(chunk));
        assert.ok(!err.message.includes('too-short'));
        return true;
      },
    );
  }
});

// Runs last (node:test runs a file's top-level tests in order).
test('no token, HMAC secret or PEM text in any log line of this suite', () => {
  assert.ok(allLines.length > 50, `lines were captured (${allLines.length})`);
  assert.ok(allLines.some((l) => l.includes('"event":"auth-failure"')));
  const leaks: string[] = [];
  for (const line of allLines) {
    for (const secret of secrets)
      if (line.includes(secret)) leaks.push(`${secret.slice(0, 12)}… in ${line}`);
    if (/BEGIN [A-Z ]*KEY|eyJ[A-Za-z0-9_-]{10,}\./.test(line)) leaks.push(line);
  }
  assert.deepEqual(leaks, []);
});
