// `plan` and `reconcile` as an operator runs them: the built CLI in its own process against the
// emulators, configured through --kubeconfig and CONSUL_HTTP_ADDR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startConsulEmulator, type ConsulEmulator } from '../../dev/emulators/consul/index.js';
import { startKubeEmulator, type KubeEmulator } from '../../dev/emulators/kube/index.js';
import { service } from '../fixtures/reviews.js';
import { cleanEnv, runCli } from './run-cli.js';

let consul: ConsulEmulator;
let kube: KubeEmulator;
let kubeconfig: string;

before(async () => {
  [consul, kube] = await Promise.all([startConsulEmulator(), startKubeEmulator()]);
  kubeconfig = join(mkdtempSync(join(tmpdir(), 'plan-')), 'kubeconfig');
  writeFileSync(kubeconfig, kube.kubeconfig);
  kube.seed([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    service(
      'shop',
      'web',
      { type: 'LoadBalancer', ports: [{ port: 80 }] },
      { status: { loadBalancer: { ingress: [{ ip: '198.51.100.1' }] } } },
    ),
    service('shop', 'api', {
      type: 'ClusterIP',
      externalIPs: ['192.0.2.1'],
      ports: [{ port: 8080 }],
    }),
  ]);
  await fetch(`${consul.url}/v1/catalog/register`, {
    method: 'PUT',
    body: JSON.stringify({
      Node: 'legacy',
      Address: '10.9.0.1',
      Service: { Service: 'billing-db', Port: 5432 },
    }),
  });
});
after(async () => {
  await Promise.all([consul.close(), kube.close()]);
});

function cliRun(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli([...args, `--kubeconfig=${kubeconfig}`], {
    env: cleanEnv({ CONSUL_HTTP_ADDR: consul.address, SYNC_LOG_LEVEL: 'warn' }),
  });
}

test('plan prints a readable, stable change list and writes nothing; reconcile applies it', async () => {
  const first = await cliRun(['plan']);
  assert.equal(first.code, 0, first.stderr);
  const lines = first.stdout.split('\n');
  assert.match(lines[0]!, /^OP\s+TARGET\s+OBJECT\s+REASON$/);
  assert.ok(
    lines.some((l) =>
      /^create\s+consul\s+web-[0-9a-f]{12}\s+new instance 198\.51\.100\.1:80 of k8s service shop\/web$/.test(
        l,
      ),
    ),
    first.stdout,
  );
  assert.ok(
    lines.some((l) =>
      /^create\s+kubernetes\s+default\/billing-db\s+consul service billing-db added$/.test(l),
    ),
    first.stdout,
  );
  assert.match(
    first.stdout,
    /^Plan: 4 to create, 0 to update, 0 to delete\. Nothing was written \(dry run\)/m,
  );
  const second = await cliRun(['plan']);
  assert.equal(second.stdout, first.stdout, 'two plans of the same state are identical');
  assert.equal(consul.requestCounts()['PUT /v1/txn'] ?? 0, 0);

  const json = await cliRun(['plan', '--output', 'json']);
  const parsed = JSON.parse(json.stdout) as {
    changes: { op: string; target: string; object: string; reason: string }[];
    dryRun: boolean;
  };
  assert.equal(parsed.dryRun, true);
  assert.equal(
    parsed.changes.length,
    lines.filter((l) => /^(create|update|delete)\s/.test(l)).length,
  );

  const applied = await cliRun(['reconcile']);
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /^to-consul: 2 created, 0 updated, 0 deleted/m);
  assert.match(applied.stdout, /^Applied: 4 created, 0 updated, 0 deleted\.$/m);
  const after = await cliRun(['plan']);
  assert.match(after.stdout, /^No changes\.$/m);
});

test('reconcile exits 1 when a read fails in a way the next run can get past (Consul 500)', async () => {
  consul.faults.add({ path: /\/v1\/catalog/, status: 500, body: 'no leader' });
  try {
    const res = await cliRun(['reconcile', '--direction=to-consul']);
    assert.equal(res.code, 1);
    assert.match(res.stdout, /ERROR: consul/);
  } finally {
    consul.faults.clear();
  }
});

test('reconcile and plan exit 3 when an upstream refuses (Consul 403: the token needs fixing)', async () => {
  consul.faults.add({ path: /\/v1\/catalog/, status: 403, body: 'Permission denied' });
  try {
    for (const command of ['reconcile', 'plan']) {
      const res = await cliRun([command, '--direction=to-consul', '--output=json']);
      assert.equal(res.code, 3, `${command}: ${res.stderr}`);
      const out = JSON.parse(res.stdout) as { ok: boolean; toConsul: { errorCode: string } };
      assert.equal(out.ok, false);
      assert.equal(out.toConsul.errorCode, 'CONSUL_REJECTED');
    }
  } finally {
    consul.faults.clear();
  }
});
