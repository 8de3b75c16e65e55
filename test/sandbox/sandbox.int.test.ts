// The sandbox end to end. `sandbox --once` as a newcomer runs it (a child process through tsx):
// exit 0 and the final catalogs docs/reference.md "Kubernetes → Consul", "Consul → Kubernetes" give for the seeded world. The interactive command
// as a child too: what it prints to reach it (KUBECONFIG, CONSUL_HTTP_ADDR, a token, a curl line)
// works as printed, and its log outlives it. Then the interactive mode in process: an example
// manifest created with kubectl (or the client when kubectl is absent) is registered in Consul
// within a second and shows up in the live view; the Consul register/deregister examples come
// and go in Kubernetes; unauthenticated calls are refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CoreV1Api, KubeConfig, type V1Service } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '../../dev/sandbox/index.js';
import { startLiveView } from '../../dev/sandbox/live.js';
import { runScenario } from '../../dev/sandbox/scenario.js';
import { KUBE_SYSTEM_UID } from '../../dev/emulators/kube/index.js';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
const example = (name: string): string => join(REPO_ROOT, 'examples', name);

// The children's temp dir: their fixed sandbox directory is not the developer's.
const CHILD_TMP = mkdtempSync(join(tmpdir(), 'sandbox-int-'));
after(() => rmSync(CHILD_TMP, { recursive: true, force: true }));
const RUN_DIR = join(CHILD_TMP, 'k8s-consul-sync-sandbox');

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: CHILD_TMP };
  for (const name of Object.keys(env)) {
    if (name.startsWith('SYNC_') || name.startsWith('CONSUL_') || name === 'KUBECONFIG') {
      delete env[name];
    }
  }
  return env;
}

/** The values of the `export NAME=value` lines and the printed `curl … /reconcile` line. */
function printedConnection(stdout: string): {
  kubeconfig: string;
  consulAddr: string;
  token: string;
  curl: string;
  logFile: string;
} {
  const value = (re: RegExp, what: string): string => {
    const m = re.exec(stdout);
    assert.ok(m?.[1], `${what} is printed\n${stdout}`);
    return m[1];
  };
  return {
    kubeconfig: value(/^ {2}export KUBECONFIG=(\S+)$/m, 'export KUBECONFIG'),
    consulAddr: value(/^ {2}export CONSUL_HTTP_ADDR=(\S+)$/m, 'export CONSUL_HTTP_ADDR'),
    token: value(/^ {2}export TOKEN=([\w.-]+)$/m, 'export TOKEN'),
    curl: value(
      /^ {2}(curl -H "Authorization: Bearer \$TOKEN" -X POST \S+\/reconcile\S*)$/m,
      'the curl line',
    ),
    logFile: value(/^ {2}server log {2}(\S+) {2}\(kept after exit\)$/m, 'the server log'),
  };
}

function run(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: REPO_ROOT,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('sandbox --once: exits 0 within 15 s and prints the catalogs docs/reference.md gives for the seed', async () => {
  const { code, stdout, stderr, ms } = await run(['sandbox', '--once'], 30_000);
  // Where it ran, before the steps; what it left, after.
  const printed = printedConnection(stdout.slice(0, stdout.indexOf('  ok    ')));
  assert.equal(printed.kubeconfig, join(RUN_DIR, 'kubeconfig'));
  assert.equal(printed.logFile, join(RUN_DIR, 'server.log'));
  assert.match(
    stdout,
    /^done in [\d.]+ s\n {2}server log {2}(\S+) {2}\(kept\)\n {2}kubeconfig {2}\S+ {2}\(removed with the emulator\)\n$/m,
  );
  assert.match(
    readFileSync(printed.logFile, 'utf8'),
    /"event":"admission"/,
    'the log outlives the run',
  );
  assert.ok(!existsSync(printed.kubeconfig), 'the kubeconfig went with the emulator');
  assert.equal(code, 0, `exit code 0\n${stdout}\n${stderr}`);
  assert.ok(ms < 15_000, `finished in ${ms} ms, tsx start-up included`);
  assert.match(stdout, /^PASS: both catalogs match the expected state\.$/m);
  for (const step of [
    'create shop/cart',
    'scale shop/cart',
    'rename',
    'opt out',
    'delete shop/cart',
    'register ledger',
    'deregister ledger',
  ]) {
    assert.match(stdout, new RegExp(`^  ok    .*${step}`, 'm'), `step "${step}" passed`);
  }
  const final = stdout.slice(stdout.indexOf('Final catalogs:'));
  assert.ok(final.length > 0, 'the final catalogs are printed');
  // docs/reference.md "Kubernetes → Consul", NodePort with --node-port-sync-type ExternalFirst: one instance per node running
  // an endpoint, node ExternalIP else InternalIP, nodePort, readiness check passing.
  assert.match(final, /^shop\/web {2}\(NodePort\)$/m);
  assert.match(final, /^ {2}→ web {2}192\.0\.2\.11:30080 {2}passing {2}node node-a$/m);
  assert.match(final, /^ {2}→ web {2}10\.0\.0\.12:30080 {2}passing {2}node node-b$/m);
  // LoadBalancer: the ingress IP and the service port; externalIPs: the IP and the service port.
  assert.match(final, /^ {2}→ checkout {2}198\.51\.100\.1:443 {2}no check$/m);
  assert.match(final, /^ {2}→ search {2}192\.0\.2\.50:9200 {2}no check$/m);
  // Not synced: opted out, denied namespace; the scenario's service is gone again.
  assert.match(final, /^shop\/internal-admin {2}\(NodePort\)\n {2}not synced: .*service-sync/m);
  assert.match(final, /^kube-system\/dashboard {2}\(NodePort\)\n {2}not synced: .*kube-system/m);
  assert.doesNotMatch(final, /cart|ledger/);
  // docs/reference.md "Consul → Kubernetes": every Consul service not tagged k8s → default/<name> ExternalName.
  for (const name of ['billing-db', 'consul', 'legacy-api']) {
    assert.ok(
      final.includes(`  → default/${name}  ExternalName ${name}.service.consul`),
      `${name} became an ExternalName service`,
    );
  }
  assert.match(final, /^inventory {2}\[k8s\].*\n {2}tagged k8s: never synced/m);
});

/** The interactive command as a child, its stdout a pipe (plain lines). */
function startChild(args: string[]): {
  child: ChildProcess;
  stdout: () => string;
  until: (re: RegExp, timeoutMs: number) => Promise<RegExpExecArray>;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: REPO_ROOT,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.on('close', resolveExit));
  return {
    child,
    stdout: () => stdout,
    until: (re, timeoutMs) =>
      waitFor(
        `${re} in the output\n${stdout}\n${stderr}`,
        () => re.exec(stdout) ?? undefined,
        timeoutMs,
      ),
    exited,
  };
}

test('sandbox: the printed exports, token and curl line work as printed; the log outlives it', async (t) => {
  const sandbox = startChild(['sandbox']);
  t.after(() => sandbox.child.kill('SIGKILL'));
  await sandbox.until(/^Ctrl-C stops everything\.$/m, 20_000);
  const printed = printedConnection(sandbox.stdout());
  assert.equal(
    printed.kubeconfig,
    join(RUN_DIR, 'kubeconfig'),
    'the fixed path under the temp dir',
  );
  assert.equal(printed.logFile, join(RUN_DIR, 'server.log'));

  // KUBECONFIG: the file is there while it runs and reaches the emulator.
  const kc = new KubeConfig();
  kc.loadFromFile(printed.kubeconfig);
  const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
  assert.ok(namespaces.items.some((n) => n.metadata?.name === 'kube-system'));
  // CONSUL_HTTP_ADDR: the Consul emulator.
  assert.equal((await fetch(`http://${printed.consulAddr}/v1/status/leader`)).status, 200);

  // The curl line with the printed token: 200 and a dry run. Run as printed when curl is here.
  const url = /'(http:\/\/[^']+)'$/.exec(printed.curl)?.[1];
  assert.ok(url, `the URL is quoted for the shell: ${printed.curl}`);
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${printed.token}` },
  });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.equal((JSON.parse(body) as { dryRun: boolean }).dryRun, true);
  if (spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0) {
    const out = await promisify(execFile)(
      'sh',
      ['-c', `${printed.curl} --silent --show-error --fail-with-body`],
      { env: { ...process.env, TOKEN: printed.token }, encoding: 'utf8', timeout: 10_000 },
    );
    assert.match(out.stdout, /"dryRun":true/);
  } else {
    t.diagnostic('curl is not installed: the line was checked with fetch only');
  }
  const refused = await fetch(url, { method: 'POST' });
  assert.equal(refused.status, 401, 'without the token: refused');

  // Ctrl-C: exit 0, and it says what it kept and where.
  sandbox.child.kill('SIGINT');
  assert.equal(await sandbox.exited, 0, sandbox.stdout());
  const tail = sandbox.stdout().slice(sandbox.stdout().indexOf('SIGINT: stopping'));
  assert.match(tail, /^stopped\.\n {2}server log {2}(\S+) {2}\(kept\)\n/m);
  assert.ok(tail.includes(`  server log  ${printed.logFile}  (kept)`));
  assert.ok(tail.includes(`  kubeconfig  ${printed.kubeconfig}  (removed with the emulator)`));
  assert.ok(existsSync(printed.logFile), 'the server log is still there');
  assert.match(readFileSync(printed.logFile, 'utf8'), /\/reconcile/, 'with the reconcile in it');
  assert.ok(!existsSync(printed.kubeconfig));
});

describe('sandbox, interactive mode in process', () => {
  let sandbox: Sandbox;
  const screen: string[] = [];
  let view: ReturnType<typeof startLiveView>;

  before(async () => {
    sandbox = await startSandbox({ lbDelayMs: 50, logLevel: 'info' });
    view = startLiveView(sandbox, { write: (t: string) => screen.push(t), isTTY: false }, ['hdr'], {
      intervalMs: 50,
    });
    // The seeded world has converged once web's two NodePort instances are in Consul.
    await waitFor(
      'the seeded web instances',
      () => {
        const web = sandbox.consul.snapshot().services.filter((s) => s.Service === 'web');
        return web.length === 2 ? web : undefined;
      },
      5000,
    );
  });
  after(async () => {
    await view?.stop();
    await sandbox?.stop();
  });

  test('the default sync id is the uid of kube-system', () => {
    assert.equal(sandbox.settings.syncId, KUBE_SYSTEM_UID);
  });

  test('kubectl create -f examples/web-admin-nodeport.yaml: registered in Consul within a second', async (t) => {
    const file = example('web-admin-nodeport.yaml');
    const kubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
    if (kubectl) {
      // Asynchronously: the emulator answering kubectl runs in this process.
      const out = await promisify(execFile)(
        'kubectl',
        ['--kubeconfig', sandbox.kubeconfigPath, 'create', '-f', file],
        { encoding: 'utf8', timeout: 20_000 },
      );
      assert.match(out.stdout, /service\/web-admin created/);
    } else {
      t.diagnostic('kubectl is not installed: creating the manifest with the Kubernetes client');
      const body = parseYaml(readFileSync(file, 'utf8')) as V1Service;
      await sandbox.core.createNamespacedService({ namespace: 'shop', body });
    }
    const created = Date.now();
    const instances = await waitFor(
      'web-admin in Consul',
      () => {
        const found = sandbox.consul
          .snapshot()
          .services.filter((s) => s.Service === 'web-admin' && s.Node === 'k8s-sync');
        return found.length === 2 ? found : undefined;
      },
      1000,
    );
    t.diagnostic(`registered ${Date.now() - created} ms after the create was sent`);
    // docs/reference.md "Kubernetes → Consul": node address per ExternalFirst, the nodePort, tags k8s then the annotation's,
    // the service-meta annotation, the readiness check.
    const byAddress = new Map(instances.map((s) => [`${s.Address}:${s.Port}`, s]));
    assert.deepEqual([...byAddress.keys()].sort(), ['10.0.0.12:30082', '192.0.2.11:30082']);
    for (const s of instances) {
      assert.deepEqual(s.Tags, ['k8s', 'admin', 'internal']);
      assert.equal(s.Meta?.team, 'storefront');
      assert.equal(s.Meta?.['external-k8s-ns'], 'shop');
      assert.equal(s.Meta?.['external-k8s-name'], 'web-admin');
      assert.equal(s.Meta?.['external-k8s-sync-id'], KUBE_SYSTEM_UID);
    }
    // The admission webhook from infra/ carried it: the API server called the server.
    assert.ok(
      sandbox.kube.admissionCalls.some(
        (c) =>
          c.webhook === 'service-sync.k8s-consul-sync.io' &&
          c.name === 'web-admin' &&
          c.operation === 'CREATE' &&
          c.status === 200,
      ),
    );
    // The live view shows it, and the event list has the admission review.
    await waitFor(
      'web-admin in the view',
      () =>
        screen.join('').includes('  → web-admin  192.0.2.11:30082  passing  node node-a')
          ? true
          : undefined,
      1000,
    );
    const events = sandbox.events.recent(100);
    assert.ok(
      events.some(
        (e) =>
          e.source === 'admission' &&
          e.subject === 'shop/web-admin' &&
          e.detail.startsWith('CREATE services'),
      ),
    );
    assert.match(
      screen.join(''),
      /^event \d\d:\d\d:\d\d\.\d{3} {2}admission {5}shop\/web-admin {2}CREATE services {2}\d+\.\d ms$/m,
    );
  });

  test('kubectl create namespace, create service nodeport, run: the pod becomes Ready and its node instance is in Consul', async (t) => {
    const hasKubectl =
      spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
    const kubectl = async (...args: string[]): Promise<string> =>
      (
        await promisify(execFile)('kubectl', ['--kubeconfig', sandbox.kubeconfigPath, ...args], {
          encoding: 'utf8',
          timeout: 20_000,
        })
      ).stdout;
    if (hasKubectl) {
      // The README's first-hour commands, as an operator types them.
      assert.match(await kubectl('create', 'namespace', 'team-a'), /namespace\/team-a created/);
      assert.match(
        await kubectl('-n', 'team-a', 'create', 'service', 'nodeport', 'hello', '--tcp=80:8080'),
        /service\/hello created/,
      );
      assert.match(
        await kubectl('-n', 'team-a', 'run', 'hello', '--image=nginx', '--labels=app=hello'),
        /pod\/hello created/,
      );
      const waited = await kubectl(
        '-n',
        'team-a',
        'wait',
        '--for=condition=Ready',
        'pod/hello',
        '--timeout=10s',
      );
      assert.match(waited, /pod\/hello condition met/);
    } else {
      t.diagnostic('kubectl is not installed: the same objects through the Kubernetes client');
      await sandbox.core.createNamespace({ body: { metadata: { name: 'team-a' } } });
      // What `kubectl create service nodeport hello --tcp=80:8080` sends.
      await sandbox.core.createNamespacedService({
        namespace: 'team-a',
        body: {
          metadata: { name: 'hello', labels: { app: 'hello' } },
          spec: {
            type: 'NodePort',
            selector: { app: 'hello' },
            ports: [{ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 }],
          },
        },
      });
      await sandbox.core.createNamespacedPod({
        namespace: 'team-a',
        body: {
          metadata: { name: 'hello', labels: { app: 'hello' } },
          spec: { containers: [{ name: 'hello', image: 'nginx' }] },
        },
      });
    }
    const pod = await waitFor(
      'pod team-a/hello Ready',
      async () => {
        const p = await sandbox.core.readNamespacedPod({ namespace: 'team-a', name: 'hello' });
        const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        return ready ? p : undefined;
      },
      5000,
    );
    const svc = await sandbox.core.readNamespacedService({ namespace: 'team-a', name: 'hello' });
    const nodePort = svc.spec?.ports?.[0]?.nodePort;
    assert.ok(nodePort, 'the API server allocated a nodePort');
    const node = await sandbox.core.readNode({ name: pod.spec?.nodeName ?? '' });
    // ExternalFirst: the node's ExternalIP when it has one, else its InternalIP.
    const addresses = node.status?.addresses ?? [];
    const nodeAddress = (
      addresses.find((a) => a.type === 'ExternalIP') ??
      addresses.find((a) => a.type === 'InternalIP')
    )?.address;
    const instances = await waitFor(
      'hello in Consul',
      () => {
        const found = sandbox.consul
          .snapshot()
          .services.filter((s) => s.Service === 'hello' && s.Node === 'k8s-sync');
        return found.length === 1 ? found : undefined;
      },
      3000,
    );
    const [hello] = instances;
    assert.equal(`${hello?.Address}:${hello?.Port}`, `${nodeAddress}:${nodePort}`);
    assert.equal(hello?.Meta?.['external-k8s-ns'], 'team-a');
    assert.equal(hello?.Meta?.['external-k8s-name'], 'hello');
    const checks = sandbox.consul
      .snapshot()
      .checks.filter((c) => c.ServiceID === hello?.ID && c.Node === 'k8s-sync');
    assert.deepEqual(
      checks.map((c) => c.Status),
      ['passing'],
    );
  });

  test('curl register/deregister examples: the ExternalName service comes and goes', async () => {
    const put = async (path: string, file: string): Promise<void> => {
      const res = await fetch(`${sandbox.consul.url}${path}`, {
        method: 'PUT',
        body: readFileSync(example(file), 'utf8'),
      });
      assert.equal(res.status, 200, await res.text());
    };
    const payments = async (): Promise<V1Service | undefined> => {
      const list = await sandbox.core.listNamespacedService({ namespace: 'default' });
      return list.items.find((s) => s.metadata?.name === 'payments');
    };
    await put('/v1/catalog/register', 'consul-register.json');
    const svc = await waitFor('default/payments', payments, 1000);
    assert.equal(svc.spec?.type, 'ExternalName');
    assert.equal(svc.spec?.externalName, 'payments.service.consul');
    assert.equal(svc.metadata?.labels?.consul, 'true');
    await put('/v1/catalog/deregister', 'consul-deregister.json');
    await waitFor(
      'default/payments deleted',
      async () => ((await payments()) ? undefined : true),
      1000,
    );
    // delivery records are written when the handler's response ends, after its writes
    const deliveries = await waitFor(
      'the register and deregister delivery records',
      () => {
        const seen = sandbox.consul.deliveries.filter(
          (d) => new URL(d.url).pathname === '/consul/services',
        );
        return seen.length >= 2 ? seen : undefined;
      },
      3000,
    );
    assert.deepEqual(
      deliveries.filter((d) => d.status !== 200).map((d) => [d.status, d.error, d.body]),
      [],
      'every watch delivery was answered 200',
    );
  });

  test('the server refuses unauthenticated calls as in production', async () => {
    for (const path of ['/k8s/admission', '/consul/services', '/k8s/audit', '/reconcile']) {
      const res = await fetch(`${sandbox.server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(res.status, 401, path);
    }
    await waitFor(
      'the refusal in the events',
      () =>
        sandbox.events
          .recent(100)
          .some((e) => e.source === 'auth' && e.status === 401 && e.subject === '/k8s/admission')
          ? true
          : undefined,
      1000,
    );
  });

  test('--once fails with a diff when a catalog does not reach the expected state', async () => {
    const other = await startSandbox({ lbDelayMs: 20 });
    try {
      // A registration that looks like ours but that no Kubernetes service explains: only a
      // reconcile would remove it, so the first step cannot converge.
      const res = await fetch(`${other.consul.url}/v1/catalog/register`, {
        method: 'PUT',
        body: JSON.stringify({
          Node: 'k8s-sync',
          Address: '127.0.0.1',
          Service: {
            ID: 'ghost-000000000000',
            Service: 'ghost',
            Address: '192.0.2.200',
            Port: 80,
            Tags: ['k8s'],
            Meta: {
              'external-source': 'kubernetes',
              'external-k8s-ns': 'shop',
              'external-k8s-name': 'ghost',
              'external-k8s-sync-id': KUBE_SYSTEM_UID,
            },
          },
        }),
      });
      assert.equal(res.status, 200);
      const lines: string[] = [];
      const ok = await runScenario(other, (l) => lines.push(l), { stepTimeoutMs: 300 });
      assert.equal(ok, false);
      const out = lines.join('\n');
      assert.match(out, /^ {2}FAIL {2}seeded world converged/m);
      assert.doesNotMatch(out, /^ {2}ok {4}create shop\/cart/m, 'stops at the first failed step');
      assert.match(out, /^FAIL: the catalogs differ/m);
      assert.match(out, /^ {2}\+ ghost-000000000000 service=ghost addr=192\.0\.2\.200:80 /m);
      assert.match(out, /^Final catalogs:$/m);
    } finally {
      await other.stop();
    }
  });

  test('stop() closes the server and both emulators', async () => {
    const other = await startSandbox({ seed: false });
    const urls = [
      other.server.url + '/healthz',
      other.consul.url + '/v1/status/leader',
      other.kube.url + '/version',
    ];
    for (const url of urls) assert.equal((await fetch(url)).status, 200, url);
    await other.stop();
    for (const url of urls) {
      await assert.rejects(fetch(url), TypeError, `${url} no longer answers`);
    }
  });
});
