// `serve` listens before it loads the clients (issue 18): with the loading of
// @kubernetes/client-node held back by a module hook, /healthz already answers 200 and /readyz
// 503; once the hold ends the server gets ready and serves events. Then the bundled build (what
// the Dockerfile runs) starts in a directory with no node_modules at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startConsulEmulator } from '../../dev/emulators/consul/index.js';
import { startKubeEmulator } from '../../dev/emulators/kube/index.js';
import { cleanEnv, REPO_ROOT } from './run-cli.js';

const HOLD_MS = 4000;

/**
 * Holds back the import of @kubernetes/client-node by HOLD_MS (module hooks run off-thread), and
 * creates `released` when it lets it through.
 */
function holdImport(released: string): string {
  const hooks = `
import { writeFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (specifier === '@kubernetes/client-node') {
    await new Promise((r) => setTimeout(r, ${HOLD_MS}));
    writeFileSync(${JSON.stringify(released)}, '');
  }
  return resolved;
}`;
  return `data:text/javascript,${encodeURIComponent(
    `import { register } from 'node:module';\nregister(${JSON.stringify(
      `data:text/javascript,${encodeURIComponent(hooks)}`,
    )});`,
  )}`;
}

async function status(url: string): Promise<number> {
  try {
    const res = await fetch(url);
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Starts a command that prints `serving on URL`; resolves with the URL and when it was printed. */
function started(child: ChildProcess): Promise<{ url: string; at: number }> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving on (\S+)/.exec(out);
      if (m) resolve({ url: m[1]!.replace(/\/$/, ''), at: Date.now() });
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}${out}`)));
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const gone = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return gone;
}

test('serve answers /healthz while @kubernetes/client-node is still loading, and gets ready after', async () => {
  const consul = await startConsulEmulator();
  const dir = mkdtempSync(join(tmpdir(), 'serve-start-'));
  const kube = await startKubeEmulator({ kubeconfigOut: join(dir, 'kubeconfig') });
  const released = join(dir, 'client-node-released');
  const child = spawn(
    process.execPath,
    [
      '--import',
      holdImport(released),
      '--import',
      'tsx',
      join(REPO_ROOT, 'src', 'cli.ts'),
      'serve',
      '--insecure-http',
      '--auth-disabled',
      '--listen=127.0.0.1:0',
      `--consul-http-addr=${consul.address}`,
      `--kubeconfig=${join(dir, 'kubeconfig')}`,
      '--log-level=warn',
    ],
    { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    const { url } = await started(child);
    assert.equal(await status(`${url}/healthz`), 200, '/healthz answers while the client loads');
    assert.equal(await status(`${url}/readyz`), 503, 'not ready before the backends answered');
    assert.equal(existsSync(released), false, 'both answered before client-node was imported');
    const deadline = Date.now() + 20_000;
    while ((await status(`${url}/readyz`)) !== 200) {
      assert.ok(Date.now() < deadline, 'ready once the clients are loaded');
      await sleep(50);
    }
    // An event path works through the handlers loaded after the listen.
    const res = await fetch(`${url}/consul/services`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 200, await res.text());
  } finally {
    assert.equal(await stop(child), 0);
    await kube.close();
    await consul.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bundle (dist/bundle, as the Dockerfile ships it) runs with no node_modules', async (t) => {
  const bundle = join(REPO_ROOT, 'dist', 'bundle');
  if (!existsSync(join(bundle, 'k8s-consul-sync.mjs'))) {
    const built = spawnSync('npm', ['run', '-s', 'bundle'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
  }
  const dir = mkdtempSync(join(tmpdir(), 'bundle-alone-'));
  cpSync(bundle, join(dir, 'dist', 'bundle'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"k8s-consul-sync","version":"9.9.9"}');
  const consul = await startConsulEmulator();
  const kube = await startKubeEmulator({ kubeconfigOut: join(dir, 'kubeconfig') });
  const entry = join(dir, 'dist', 'bundle', 'k8s-consul-sync.mjs');
  try {
    const version = spawnSync(process.execPath, [entry, '--version'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(version.stdout.trim(), 'k8s-consul-sync 9.9.9', version.stderr);
    const child = spawn(
      process.execPath,
      [
        entry,
        'serve',
        '--insecure-http',
        '--auth-disabled',
        '--listen=127.0.0.1:0',
        `--consul-http-addr=${consul.address}`,
        `--kubeconfig=${join(dir, 'kubeconfig')}`,
        '--log-level=warn',
      ],
      { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const { url } = await started(child);
      const deadline = Date.now() + 20_000;
      while ((await status(`${url}/readyz`)) !== 200) {
        assert.ok(Date.now() < deadline, 'ready: both clients work from the bundle');
        await sleep(50);
      }
      // client-node's Watch, bundled apart from its generated client (bundle.mjs), follows the
      // mirrors: a failed watch would only show as deliveries listing them again.
      while ((kube.requestCounts()['watch services'] ?? 0) === 0) {
        assert.ok(Date.now() < deadline, "the mirrors' watch runs from the bundle");
        await sleep(50);
      }
    } finally {
      assert.equal(await stop(child), 0);
    }
    t.diagnostic(`bundle started from ${dir} without node_modules`);
  } finally {
    await kube.close();
    await consul.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
