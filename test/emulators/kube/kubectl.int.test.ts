// kubectl (v1.32) against the emulator through its generated kubeconfig: the everyday commands
// print what they print against a real cluster, including the ones whose typed clients send
// protobuf (create namespace, create service) and pods that a scheduler and kubelets run.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startKubeEmulator, type KubeEmulator } from '../../../dev/emulators/kube/index.js';

const hasKubectl = !spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).error;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl with the emulator's kubeconfig and a cache of its own, never failing the promise. */
function kubectlIn(dir: string): (...args: string[]) => Promise<Run> {
  return (...args) =>
    new Promise((resolve) => {
      execFile(
        'kubectl',
        ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args],
        { timeout: 20_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
}

describe(
  'kube emulator: kubectl',
  { skip: hasKubectl ? false : 'kubectl is not installed (not on PATH)' },
  () => {
    let emu: KubeEmulator;
    let dir: string;
    const kubectl = (...args: string[]): Promise<Run> => kubectlIn(dir)(...args);
    const file = (name: string, text: string): string => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kube-emu-kubectl-'));
      emu = await startKubeEmulator({
        kubeconfigOut: join(dir, 'kubeconfig'),
        token: 'kubectl-token',
      });
    });
    after(async () => {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const webYaml = `apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 8080
`;

    it('creates from a file, and reports AlreadyExists the second time', async () => {
      const path = file('web.yaml', webYaml);
      const first = await kubectl('create', '-f', path);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout.trim(), 'service/web created');
      const second = await kubectl('create', '-f', path);
      assert.equal(second.code, 1);
      assert.match(
        second.stderr,
        /Error from server \(AlreadyExists\).*services "web" already exists/,
      );
    });

    it('lists with get svc -A -o json', async () => {
      const r = await kubectl('get', 'svc', '-A', '-o', 'json');
      assert.equal(r.code, 0, r.stderr);
      const list = JSON.parse(r.stdout);
      assert.equal(list.kind, 'List');
      const web = list.items.find((s: any) => s.metadata.name === 'web');
      assert.equal(web.kind, 'Service');
      assert.equal(web.metadata.namespace, 'default');
      assert.equal(web.spec.type, 'NodePort');
      assert.ok(web.spec.ports[0].nodePort >= 30000 && web.spec.ports[0].nodePort <= 32767);
    });

    it('prints the server-side table for get svc', async () => {
      const r = await kubectl('get', 'svc', '-A');
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.deepEqual(lines[0]!.split(/\s+/), [
        'NAMESPACE',
        'NAME',
        'TYPE',
        'CLUSTER-IP',
        'EXTERNAL-IP',
        'PORT(S)',
        'AGE',
      ]);
      const row = lines.find((l) => /\bweb\b/.test(l))!.split(/\s+/);
      assert.equal(row[0], 'default');
      assert.equal(row[2], 'NodePort');
      assert.match(row[3]!, /^10\.(9[6-9]|10\d|11[01])\.\d+\.\d+$/);
      assert.equal(row[4], '<none>');
      assert.match(row[5]!, /^80:3\d{4}\/TCP$/);
    });

    it('applies twice: created, then unchanged, then configured after an edit', async () => {
      const text = `apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {app: api}
  ports:
  - name: http
    port: 80
`;
      const path = file('api.yaml', text);
      const a = await kubectl('apply', '-f', path);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(a.stdout.trim(), 'service/api created');
      const b = await kubectl('apply', '-f', path);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(b.stdout.trim(), 'service/api unchanged');
      file('api.yaml', text.replace('port: 80', 'port: 8080'));
      const c = await kubectl('apply', '-f', path);
      assert.equal(c.code, 0, c.stderr);
      assert.equal(c.stdout.trim(), 'service/api configured');
      const got = JSON.parse((await kubectl('get', 'svc', 'api', '-o', 'json')).stdout);
      assert.deepEqual(
        got.spec.ports.map((p: any) => [p.name, p.port, p.targetPort]),
        [['http', 8080, 8080]],
      );
      assert.ok(got.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    });

    it('deletes by name and by file', async () => {
      const a = await kubectl('delete', 'svc', 'api');
      assert.equal(a.code, 0, a.stderr);
      assert.equal(a.stdout.trim(), 'service "api" deleted');
      const b = await kubectl('delete', '-f', join(dir, 'web.yaml'));
      assert.equal(b.code, 0, b.stderr);
      assert.equal(b.stdout.trim(), 'service "web" deleted');
      const missing = await kubectl('get', 'svc', 'web');
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Error from server \(NotFound\): services "web" not found/);
    });

    it('reports a validation error the way the API server words it', async () => {
      const path = file('bad.yaml', webYaml.replace('name: web', 'name: Web'));
      const r = await kubectl('create', '-f', path);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /The Service "Web" is invalid: metadata\.name: Invalid value: "Web": a DNS-1035 label/,
      );
    });
  },
);

describe(
  'kube emulator: kubectl on a cluster with nodes',
  { skip: hasKubectl ? false : 'kubectl is not installed (not on PATH)' },
  () => {
    let emu: KubeEmulator;
    let dir: string;
    const kubectl = (...args: string[]): Promise<Run> => kubectlIn(dir)(...args);
    const ok = async (...args: string[]): Promise<string> => {
      const r = await kubectl(...args);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    /** The endpoints of service web's slices: [address, ready]. */
    const webEndpoints = async (): Promise<[string, boolean][]> => {
      await emu.idle();
      const list = JSON.parse(
        await ok(
          'get',
          'endpointslices',
          '-n',
          'team-a',
          '-l',
          'kubernetes.io/service-name=web',
          '-o',
          'json',
        ),
      );
      return list.items.flatMap((s: any) =>
        (s.endpoints ?? []).map((e: any) => [e.addresses[0], e.conditions.ready]),
      );
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kube-emu-kubectl-nodes-'));
      emu = await startKubeEmulator({
        kubeconfigOut: join(dir, 'kubeconfig'),
        token: 'kubectl-token',
        controllers: { endpointSlices: true },
        nodes: [
          { name: 'node-a', internalIP: '10.0.0.11' },
          { name: 'node-b', internalIP: '10.0.0.12' },
        ],
      });
    });
    after(async () => {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('creates a namespace and a NodePort service from the shortcuts (protobuf bodies)', async () => {
      assert.equal((await ok('create', 'ns', 'team-a')).trim(), 'namespace/team-a created');
      assert.equal(
        (await ok('create', 'service', 'nodeport', 'web', '--tcp=80:8080', '-n', 'team-a')).trim(),
        'service/web created',
      );
      const svc = JSON.parse(await ok('get', 'svc', 'web', '-n', 'team-a', '-o', 'json'));
      assert.deepEqual(svc.spec.selector, { app: 'web' });
      assert.equal(svc.spec.type, 'NodePort');
      assert.deepEqual(
        svc.spec.ports.map((p: any) => [p.name, p.port, p.targetPort, p.protocol]),
        [['80-8080', 80, 8080, 'TCP']],
      );
      assert.ok(svc.spec.ports[0].nodePort >= 30000);
      const ns = JSON.parse(await ok('get', 'ns', 'team-a', '-o', 'json'));
      assert.equal(ns.status.phase, 'Active');
      const again = await kubectl('create', 'ns', 'team-a');
      assert.equal(again.code, 1);
      assert.match(
        again.stderr,
        /Error from server \(AlreadyExists\): namespaces "team-a" already exists/,
      );
    });

    it("runs a pod that becomes Ready and fills the service's EndpointSlice", async () => {
      assert.equal(
        (await ok('run', 'web', '--image=nginx', '--labels=app=web', '-n', 'team-a')).trim(),
        'pod/web created',
      );
      assert.equal(
        (
          await ok('wait', '--for=condition=Ready', 'pod/web', '-n', 'team-a', '--timeout=15s')
        ).trim(),
        'pod/web condition met',
      );
      const pod = JSON.parse(await ok('get', 'pod', 'web', '-n', 'team-a', '-o', 'json'));
      assert.match(pod.spec.nodeName, /^node-[ab]$/);
      assert.match(pod.status.podIP, /^10\.244\.[01]\.\d+$/);
      assert.deepEqual(await webEndpoints(), [[pod.status.podIP, true]]);
      const lines = (await ok('get', 'pods', '-n', 'team-a')).trim().split('\n');
      assert.deepEqual(lines[0]!.split(/\s+/), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
      assert.deepEqual(lines[1]!.split(/\s+/).slice(0, 4), ['web', '1/1', 'Running', '0']);
    });

    it('makes a pod not ready, and ready again, through its readiness gate', async () => {
      const path = join(dir, 'gated.yaml');
      writeFileSync(
        path,
        `apiVersion: v1
kind: Pod
metadata:
  name: web-gated
  namespace: team-a
  labels: {app: web}
spec:
  readinessGates:
  - conditionType: example.com/ready
  containers:
  - name: web
    image: nginx:1.27
    ports: [{containerPort: 8080}]
`,
      );
      assert.equal((await ok('apply', '-f', path)).trim(), 'pod/web-gated created');
      await emu.idle();
      const gated = JSON.parse(await ok('get', 'pod', 'web-gated', '-n', 'team-a', '-o', 'json'));
      const ip = gated.status.podIP as string;
      assert.equal(gated.status.phase, 'Running');
      assert.ok((await webEndpoints()).some(([a, r]) => a === ip && r === false));
      const wide = (await ok('get', 'pod', 'web-gated', '-n', 'team-a', '-o', 'wide')).trim();
      assert.deepEqual(wide.split('\n')[1]!.split(/\s+/).slice(-1), ['0/1']);
      const gate = (status: string) =>
        ok(
          'patch',
          'pod',
          'web-gated',
          '-n',
          'team-a',
          '--subresource=status',
          '-p',
          JSON.stringify({ status: { conditions: [{ type: 'example.com/ready', status }] } }),
        );
      assert.equal((await gate('True')).trim(), 'pod/web-gated patched');
      assert.ok((await webEndpoints()).some(([a, r]) => a === ip && r === true));
      await gate('False');
      assert.ok((await webEndpoints()).some(([a, r]) => a === ip && r === false));
    });
  },
);
