// infra/consul/forward-watch.sh against a local node:http server: the watch payload piped in
// arrives as POST /consul/services with the bearer token, and every failure (an error status,
// no server, a hung server, missing settings) exits non-zero with a message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROUTES } from '../../src/http/app.js';
import { FILES, REPO_ROOT } from './load.js';

const SCRIPT = join(REPO_ROOT, FILES.forwardWatch);
const CONSUL_SERVICES = ROUTES.find((r) => r.name === 'consulServices')!.path;

const curlVersion = spawnSync('curl', ['--version'], { encoding: 'utf8' });
const curlMinor = /^curl (\d+)\.(\d+)/.exec(curlVersion.stdout ?? '');
// --fail-with-body arrived in curl 7.76.
const skip =
  curlVersion.status !== 0 || !curlMinor
    ? 'curl is not installed: forward-watch.sh needs it'
    : Number(curlMinor[1]) * 1000 + Number(curlMinor[2]) < 7076
      ? `curl ${curlMinor[1]}.${curlMinor[2]} has no --fail-with-body (needs >= 7.76)`
      : false;

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runScript(env: Record<string, string>, stdin: string, timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT], {
      // Only what the script needs: no K8S_CONSUL_SYNC_* leaks in from the test's environment.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`forward-watch.sh did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // The script may refuse to run before it reads stdin: that EPIPE is not a failure.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

describe('forward-watch.sh against a local server', { skip }, () => {
  let server: Server;
  let base: string;
  const received: Received[] = [];
  let respond: (res: ServerResponse) => void = (res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"created":1}');
  };
  const dir = mkdtempSync(join(tmpdir(), 'forward-watch-'));

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        respond(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const payload = '{"consul":[],"web":["v1","primary"],"db":[]}\n';

  test('POSTs the watch payload to /consul/services with the bearer token', async () => {
    received.length = 0;
    const run = await runScript(
      { K8S_CONSUL_SYNC_URL: base + '/', K8S_CONSUL_SYNC_TOKEN: 'aaa.bbb.ccc', CONSUL_INDEX: '42' },
      payload,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(received.length, 1);
    const req = received[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, CONSUL_SERVICES);
    assert.equal(req.headers.authorization, 'Bearer aaa.bbb.ccc');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers['x-consul-index'], '42');
    assert.equal(req.body, payload, 'the payload arrives byte for byte');
    assert.match(run.stdout, /"created":1/);
  });

  test('reads the token from K8S_CONSUL_SYNC_TOKEN_FILE (whitespace trimmed)', async () => {
    received.length = 0;
    const file = join(dir, 'token');
    writeFileSync(file, 'from.the.file\n');
    const run = await runScript(
      { K8S_CONSUL_SYNC_URL: base, K8S_CONSUL_SYNC_TOKEN_FILE: file },
      payload,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(received[0]?.headers.authorization, 'Bearer from.the.file');
  });

  test('a 500 from the server: non-zero exit, a message with the status and body', async () => {
    received.length = 0;
    respond = (res) =>
      res
        .writeHead(500, { 'Content-Type': 'application/json' })
        .end('{"error":{"code":"INTERNAL","message":"boom"}}');
    try {
      const run = await runScript(
        { K8S_CONSUL_SYNC_URL: base, K8S_CONSUL_SYNC_TOKEN: 't.o.k' },
        payload,
      );
      assert.notEqual(run.code, 0);
      assert.equal(received.length, 1, 'one attempt');
      assert.match(run.stderr, /forward-watch\.sh: POST .*\/consul\/services failed/);
      assert.match(run.stderr, /HTTP 500/);
      assert.match(run.stderr, /INTERNAL/);
      assert.doesNotMatch(run.stderr + run.stdout, /t\.o\.k/, 'the token is never printed');
    } finally {
      respond = (res) => res.writeHead(200).end('{}');
    }
  });

  test('a server that never answers: gives up after K8S_CONSUL_SYNC_TIMEOUT', async () => {
    respond = () => undefined; // hold the request open
    try {
      const started = Date.now();
      const run = await runScript(
        { K8S_CONSUL_SYNC_URL: base, K8S_CONSUL_SYNC_TOKEN: 'x', K8S_CONSUL_SYNC_TIMEOUT: '1' },
        payload,
      );
      assert.notEqual(run.code, 0);
      assert.ok(Date.now() - started < 8_000, 'returned soon after the timeout');
      assert.match(run.stderr, /failed \(curl exit 28/);
    } finally {
      respond = (res) => res.writeHead(200).end('{}');
      server.closeAllConnections();
    }
  });

  test('nothing listening: non-zero exit with a message', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const run = await runScript(
      { K8S_CONSUL_SYNC_URL: `http://127.0.0.1:${port}`, K8S_CONSUL_SYNC_TOKEN: 'x' },
      payload,
    );
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /forward-watch\.sh: POST .* failed \(curl exit 7/);
  });

  test('refuses to run without its settings, each with a message', async () => {
    received.length = 0;
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ K8S_CONSUL_SYNC_TOKEN: 'x' }, payload, /K8S_CONSUL_SYNC_URL is not set/],
      [{ K8S_CONSUL_SYNC_URL: base }, payload, /no token/],
      [
        { K8S_CONSUL_SYNC_URL: base, K8S_CONSUL_SYNC_TOKEN_FILE: join(dir, 'missing') },
        payload,
        /cannot read/,
      ],
      [{ K8S_CONSUL_SYNC_URL: base, K8S_CONSUL_SYNC_TOKEN: 'x' }, '', /no watch data on stdin/],
      [
        { K8S_CONSUL_SYNC_URL: base, K8S_CONSUL_SYNC_TOKEN: 'a b\nX-Evil: 1' },
        payload,
        /characters/,
      ],
      [
        { K8S_CONSUL_SYNC_URL: base, K8S_CONSUL_SYNC_TOKEN: 'x', K8S_CONSUL_SYNC_TIMEOUT: '0' },
        payload,
        /TIMEOUT/,
      ],
      // A bearer token over plain HTTP is only allowed to loopback.
      [
        { K8S_CONSUL_SYNC_URL: 'http://sync.example.com', K8S_CONSUL_SYNC_TOKEN: 'x' },
        payload,
        /https/,
      ],
    ];
    for (const [env, stdin, message] of cases) {
      const run = await runScript(env, stdin);
      assert.notEqual(run.code, 0, JSON.stringify(env));
      assert.match(run.stderr, message, JSON.stringify(env));
    }
    assert.equal(received.length, 0, 'none of them sent anything');
  });
});
