// TLS serving (docs/reference.md "Flags and environment"): certificate rotation by file change without restart (in place and by
// symlink swap), TLS 1.2 minimum, no plain HTTP on the TLS port, and mTLS as authentication.
// Certificates are made with the openssl CLI (node:crypto cannot sign X.509 certificates).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { createApp, type Handler } from '../../src/http/app.js';
import { createAuthenticator } from '../../src/http/auth.js';
import { Readiness } from '../../src/telemetry/readiness.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { parseConfig } from '../../src/config/index.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { authFailureCounts, captureLogs, pemBodyChunks, tempDir } from '../auth/support.js';

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const skip =
  openssl.status === 0
    ? false
    : 'openssl CLI not found: these tests need it to make X.509 certificates (node:crypto cannot sign them)';

const dir = tempDir('k8s-consul-sync-tls-');
after(() => dir.remove());
const allLines: string[] = [];
const secretTexts: string[] = [];

function run(args: string[]): void {
  const out = spawnSync('openssl', args, { cwd: dir.path, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`openssl ${args[0]} failed: ${out.stderr}`);
}

interface Pem {
  cert: string;
  key: string;
}

let serial = 0x1000;
function ca(name: string): Pem & { name: string } {
  run([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { name, ...read(name) };
}

function leaf(name: string, issuer: { name: string }, usage: 'serverAuth' | 'clientAuth'): Pem {
  writeFileSync(
    dir.file(`${name}.ext`),
    `subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=${usage}\nbasicConstraints=CA:FALSE\n`,
  );
  run([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name.replace(/-\d+$/, '')}`,
  ]);
  run([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${issuer.name}.crt`,
    '-CAkey',
    `${issuer.name}.key`,
    '-set_serial',
    `0x${(serial++).toString(16)}`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
  return read(name);
}

function read(name: string): Pem {
  const pem = {
    cert: readFileSync(dir.file(`${name}.crt`), 'utf8'),
    key: readFileSync(dir.file(`${name}.key`), 'utf8'),
  };
  secretTexts.push(...pemBodyChunks(pem.key));
  return pem;
}

const fingerprint = (pem: Pem) => new X509Certificate(pem.cert).fingerprint256;

interface Pki {
  serverCa: Pem;
  server1: Pem;
  server2: Pem;
  clientCa: Pem;
  client: Pem;
  rogue: Pem;
}
let pkiCache: Pki | undefined;
function pki(): Pki {
  if (pkiCache) return pkiCache;
  const serverCa = ca('server-ca');
  const clientCa = ca('client-ca');
  const otherCa = ca('other-ca');
  pkiCache = {
    serverCa,
    server1: leaf('server-1', serverCa, 'serverAuth'),
    server2: leaf('server-2', serverCa, 'serverAuth'),
    clientCa,
    client: leaf('kube-apiserver-1', clientCa, 'clientAuth'),
    rogue: leaf('kube-apiserver-2', otherCa, 'clientAuth'),
  };
  return pkiCache;
}

const HMAC_SECRET = 'tls-test-hmac-secret-0123456789abcdef';
secretTexts.push(HMAC_SECRET);

const principalEcho: Handler = async (_req, res) => {
  res.json(res.locals.principal);
};

async function serve(args: string[]): Promise<{ server: RunningServer; metrics: Metrics }> {
  const config = parseConfig(['serve', '--listen=127.0.0.1:0', ...args]);
  const { logger } = captureLogs(allLines);
  const metrics = createMetrics({ defaultMetrics: false });
  const auth = createAuthenticator(config, logger, metrics);
  const app = createApp({
    config,
    logger,
    metrics,
    readiness: new Readiness(),
    auth,
    handlers: { admission: principalEcho, reconcile: principalEcho },
  });
  const server = await startServer(app, config, { logger, tlsReloadIntervalMs: 50 });
  return { server, metrics };
}

interface Call {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  ca?: string;
  cert?: string;
  key?: string;
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  ciphers?: string;
}

interface Answer {
  status: number;
  body: unknown;
  peer: string;
  protocol: string | null;
}

function call(port: number, c: Call): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method: c.method ?? 'GET',
        path: c.path ?? '/healthz',
        headers: { 'content-type': 'application/json', ...c.headers },
        ca: c.ca,
        cert: c.cert,
        key: c.key,
        minVersion: c.minVersion,
        maxVersion: c.maxVersion,
        ciphers: c.ciphers,
        agent: false,
      },
      (res) => {
        const socket = res.socket as tls.TLSSocket;
        const peer = socket.getPeerCertificate().fingerprint256;
        const protocol = socket.getProtocol();
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text ? JSON.parse(text) : null,
            peer,
            protocol,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(c.method === 'POST' ? '{}' : undefined);
  });
}

async function eventually(check: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test(
  'certificate rotation without restart: symlink swap, broken files, in-place rewrite',
  { skip },
  async () => {
    const { serverCa, server1, server2 } = pki();
    // The kubelet's Secret volume layout: tls.crt -> ..data/tls.crt, ..data -> ..v1
    for (const [v, pem] of [
      ['..v1', server1],
      ['..v2', server2],
    ] as const) {
      mkdirSync(dir.file(v));
      writeFileSync(dir.file(`${v}/tls.crt`), pem.cert);
      writeFileSync(dir.file(`${v}/tls.key`), pem.key);
    }
    symlinkSync('..v1', dir.file('..data'));
    symlinkSync(join('..data', 'tls.crt'), dir.file('tls.crt'));
    symlinkSync(join('..data', 'tls.key'), dir.file('tls.key'));
    const { server } = await serve([
      '--tls-cert-file',
      dir.file('tls.crt'),
      '--tls-key-file',
      dir.file('tls.key'),
      '--auth-disabled',
    ]);
    try {
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const first = await call(server.port, { ca: serverCa.cert });
      assert.equal(first.status, 200);
      assert.equal(first.peer, fingerprint(server1));

      symlinkSync('..v2', dir.file('..data_tmp'));
      renameSync(dir.file('..data_tmp'), dir.file('..data'));
      await eventually(
        async () => (await call(server.port, { ca: serverCa.cert })).peer === fingerprint(server2),
        'the swapped certificate to be served',
      );

      // A broken rotation (garbage certificate) keeps the previous certificate and logs an error.
      writeFileSync(dir.file('..v2/tls.crt'), 'not a certificate');
      await eventually(
        async () => allLines.some((l) => l.includes('"event":"tls-reload-failed"')),
        'the reload failure to be logged',
      );
      assert.equal((await call(server.port, { ca: serverCa.cert })).peer, fingerprint(server2));

      // In-place rewrite of both files (key first, as a non-atomic writer might).
      writeFileSync(dir.file('..v2/tls.key'), server1.key);
      writeFileSync(dir.file('..v2/tls.crt'), server1.cert);
      await eventually(
        async () => (await call(server.port, { ca: serverCa.cert })).peer === fingerprint(server1),
        'the rewritten certificate to be served',
      );

      // Still TLS 1.2 minimum after the context was replaced.
      await assert.rejects(
        call(server.port, {
          ca: serverCa.cert,
          minVersion: 'TLSv1.1',
          maxVersion: 'TLSv1.1',
          ciphers: 'DEFAULT@SECLEVEL=0',
        }),
      );
    } finally {
      await server.close(1000);
    }
  },
);

test('TLS 1.2 minimum: TLS 1.1 refused, 1.2 and 1.3 accepted', { skip }, async (t) => {
  const { serverCa, server1 } = pki();
  const cert = dir.write('v.crt', server1.cert);
  const key = dir.write('v.key', server1.key);
  // As if node ran with --tls-min-v1.0 (e.g. via NODE_OPTIONS): the server's own minimum holds.
  const defaultMin = tls.DEFAULT_MIN_VERSION;
  tls.DEFAULT_MIN_VERSION = 'TLSv1';
  t.after(() => {
    tls.DEFAULT_MIN_VERSION = defaultMin;
  });
  const { server } = await serve([
    '--tls-cert-file',
    cert,
    '--tls-key-file',
    key,
    '--auth-disabled',
  ]);
  // A control server that allows TLS 1.1 shows this client can speak it here at all.
  const control = tls.createServer(
    { cert: server1.cert, key: server1.key, minVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
    (s) => s.end(),
  );
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
  const tls11 = {
    ca: serverCa.cert,
    minVersion: 'TLSv1.1',
    maxVersion: 'TLSv1.1',
    ciphers: 'DEFAULT@SECLEVEL=0',
  } as const;
  try {
    const controlOk = await new Promise<boolean>((resolve) => {
      const s = tls.connect(
        { host: '127.0.0.1', port: (control.address() as { port: number }).port, ...tls11 },
        () => {
          resolve(s.getProtocol() === 'TLSv1.1');
          s.destroy();
        },
      );
      s.on('error', () => resolve(false));
    });
    if (!controlOk)
      t.diagnostic('this OpenSSL build cannot speak TLS 1.1 at all; the refusal below proves less');
    await assert.rejects(call(server.port, tls11), (err: NodeJS.ErrnoException) => {
      // The server answers a protocol_version alert (RFC 8446 §6.2).
      if (controlOk)
        assert.match(
          `${err.code} ${err.message}`,
          /protocol version|UNSUPPORTED_PROTOCOL|VERSION/i,
        );
      return true;
    });
    const v12 = await call(server.port, { ca: serverCa.cert, maxVersion: 'TLSv1.2' });
    assert.equal(v12.protocol, 'TLSv1.2');
    const v13 = await call(server.port, { ca: serverCa.cert });
    assert.equal(v13.protocol, 'TLSv1.3');
  } finally {
    control.close();
    await server.close(1000);
  }
});

test('plain HTTP on the TLS port gets no HTTP answer', { skip }, async () => {
  const { server1 } = pki();
  const cert = dir.write('p.crt', server1.cert);
  const key = dir.write('p.key', server1.key);
  const { server } = await serve([
    '--tls-cert-file',
    cert,
    '--tls-key-file',
    key,
    '--auth-disabled',
  ]);
  try {
    await assert.rejects(
      new Promise((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: server.port, path: '/healthz', agent: false },
          (res) => {
            resolve(res.statusCode);
            res.resume();
          },
        );
        req.on('error', reject);
        req.end();
      }),
      (err: NodeJS.ErrnoException) => {
        assert.match(String(err.code), /ECONNRESET|HPE_|EPIPE/);
        return true;
      },
    );
  } finally {
    await server.close(1000);
  }
});

test(
  'mTLS: a client certificate from --tls-client-ca-file authenticates; another CA does not',
  { skip },
  async () => {
    const { serverCa, server1, clientCa, client, rogue } = pki();
    const cert = dir.write('m.crt', server1.cert);
    const key = dir.write('m.key', server1.key);
    const caFile = dir.write('client-ca.crt', clientCa.cert);
    const secret = dir.write('m.secret', HMAC_SECRET);
    const { server, metrics } = await serve([
      '--tls-cert-file',
      cert,
      '--tls-key-file',
      key,
      '--tls-client-ca-file',
      caFile,
      '--auth-jwt-secret-file',
      secret,
    ]);
    const token = jwt.sign(
      {
        iss: 'k8s-consul-sync',
        aud: 'k8s-consul-sync',
        sub: 'consul-watch',
        scope: 'k8s:admission',
      },
      HMAC_SECRET,
      { algorithm: 'HS256', expiresIn: 600 },
    );
    secretTexts.push(token);
    const post = (path: string, extra: Call = {}) =>
      call(server.port, { method: 'POST', path, ca: serverCa.cert, ...extra });
    const allScopes = ['k8s:admission', 'k8s:audit', 'consul:watch', 'reconcile'];
    try {
      const byCert = await post('/k8s/admission', { cert: client.cert, key: client.key });
      assert.equal(byCert.status, 200);
      assert.deepEqual(byCert.body, {
        subject: 'kube-apiserver',
        scopes: allScopes,
        via: 'client-cert',
      });
      assert.equal((await post('/reconcile', { cert: client.cert, key: client.key })).status, 200);

      const byRogue = await post('/k8s/admission', { cert: rogue.cert, key: rogue.key });
      assert.equal(byRogue.status, 401);
      assert.deepEqual(byRogue.body, {
        error: { code: 'UNAUTHENTICATED', message: 'a valid credential is required' },
      });

      const rogueWithJwt = await post('/k8s/admission', {
        cert: rogue.cert,
        key: rogue.key,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(rogueWithJwt.status, 200);
      assert.equal((rogueWithJwt.body as { via: string }).via, 'jwt-header');

      const jwtOnly = await post('/k8s/admission', {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(
        jwtOnly.status,
        200,
        'a caller without a certificate still gets through with a JWT',
      );
      assert.equal((await post('/k8s/admission')).status, 401);
      assert.equal(
        (await post('/reconcile', { headers: { authorization: `Bearer ${token}` } })).status,
        403,
      );

      assert.deepEqual(await authFailureCounts(metrics), {
        'untrusted-client-cert': 1,
        missing: 1,
        'wrong-scope': 1,
      });
    } finally {
      await server.close(1000);
    }
  },
);

test(
  'without --tls-client-ca-file a client certificate is not asked for and means nothing',
  { skip },
  async () => {
    const { serverCa, server1, client } = pki();
    const cert = dir.write('n.crt', server1.cert);
    const key = dir.write('n.key', server1.key);
    const secret = dir.write('n.secret', HMAC_SECRET);
    const { server, metrics } = await serve([
      '--tls-cert-file',
      cert,
      '--tls-key-file',
      key,
      '--auth-jwt-secret-file',
      secret,
    ]);
    try {
      const res = await call(server.port, {
        method: 'POST',
        path: '/k8s/admission',
        ca: serverCa.cert,
        cert: client.cert,
        key: client.key,
      });
      assert.equal(res.status, 401);
      assert.deepEqual(await authFailureCounts(metrics), { missing: 1 });
    } finally {
      await server.close(1000);
    }
  },
);

test(
  'a JWT public key file may hold certificates: their keys verify tokens',
  { skip },
  async () => {
    const { client } = pki();
    const { createAuthenticator: create } = await import('../../src/http/auth.js');
    const file = dir.write('jwt-certs.pem', client.cert);
    const auth = create(
      parseConfig(['serve', '--auth-jwt-public-key-file', file]),
      captureLogs(allLines).logger,
      createMetrics({ defaultMetrics: false }),
    );
    const token = jwt.sign(
      { iss: 'k8s-consul-sync', aud: 'k8s-consul-sync', sub: 's', scope: 'reconcile' },
      client.key,
      { algorithm: 'ES256' },
    );
    secretTexts.push(token);
    const verdict = auth.verify(token);
    assert.ok(verdict.ok);
    assert.deepEqual(verdict.scopes, ['reconcile']);
  },
);

test('no private key, secret or token text in any log line of the TLS suite', { skip }, () => {
  assert.ok(allLines.length > 5);
  const text = allLines.join('\n');
  for (const secret of secretTexts)
    assert.ok(!text.includes(secret), `leaked ${secret.slice(0, 10)}…`);
  assert.doesNotMatch(text, /BEGIN [A-Z ]*(KEY|CERTIFICATE)/);
});
