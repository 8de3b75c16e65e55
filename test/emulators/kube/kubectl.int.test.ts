// kubectl (v1.32) against the emulator through its generated kubeconfig: the everyday commands
// print what they print against a real cluster.
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

describe(
  'kube emulator: kubectl',
  { skip: hasKubectl ? false : 'kubectl is not installed (not on PATH)' },
  () => {
    let emu: KubeEmulator;
    let dir: string;
    const kubectl = (...args: string[]): Promise<Run> =>
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
