// --partition (Consul Enterprise admin partitions, issue 15): every catalog, health and txn call
// names the partition, so the sync node and its registrations live in it and the services view
// is read from it; the default partition is untouched. Against the Consul emulator answering as
// Enterprise (dev/emulators/consul/README.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startConsulEmulator } from '../../dev/emulators/consul/index.js';
import { consulCall } from '../support/consul-http.js';
import { startWorld } from '../support/world.js';
import { reconcile } from '../../src/sync/reconcile.js';
import { service } from '../fixtures/reviews.js';

const call = consulCall;

test('--partition: the sync node, its registrations and the services view are in that partition', async () => {
  const consulEmu = await startConsulEmulator({ enterprise: true });
  assert.equal((await call(consulEmu.url, 'PUT', '/v1/partition', { Name: 'team-a' })).status, 200);
  // A VM service in team-a (mirrored to Kubernetes), and one in default (not seen).
  for (const [partition, name] of [
    ['team-a', 'ledger'],
    ['default', 'elsewhere'],
  ] as const) {
    const r = await call(consulEmu.url, 'PUT', `/v1/catalog/register?partition=${partition}`, {
      Node: 'vm-1',
      Address: '10.9.0.1',
      Service: { ID: name, Service: name, Port: 5432 },
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  }
  const w = await startWorld({ consulEmu, flags: ['--sync-id=cluster-a', '--partition=team-a'] });
  try {
    w.kubeEmu.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }]);
    await w.core.createNamespacedService({
      namespace: 'shop',
      body: service('shop', 'api', {
        type: 'ClusterIP',
        externalIPs: ['192.0.2.1'],
        ports: [{ port: 8080 }],
      }),
    });
    const report = await reconcile(await w.runtime.deps(), {
      direction: 'both',
      dryRun: false,
      force: false,
      maxDeleteRatio: 1,
    });
    assert.equal(report.ok, true, JSON.stringify(report));

    const inTeamA = (
      await call(consulEmu.url, 'GET', '/v1/catalog/node-services/k8s-sync?partition=team-a')
    ).json as { Node: { Partition?: string }; Services: { ID: string; Partition?: string }[] };
    assert.equal(inTeamA.Node.Partition, 'team-a');
    assert.deepEqual(
      inTeamA.Services.map((s) => [s.ID.replace(/-[0-9a-f]{12}$/, ''), s.Partition]),
      [['api', 'team-a']],
    );
    const inDefault = await call(consulEmu.url, 'GET', '/v1/catalog/node-services/k8s-sync');
    // Consul's answer for a node it does not have: Node and Services null.
    assert.deepEqual(inDefault.json, { Node: null, Services: null }, 'no sync node in default');

    const mirrors = (await w.core.listNamespacedService({ namespace: 'default' })).items
      .filter((s) => s.metadata?.labels?.consul === 'true')
      .map((s) => s.metadata?.name)
      .sort();
    // The servers' own `consul` service is in the default partition: only team-a's are mirrored.
    assert.deepEqual(mirrors, ['ledger'], "team-a's services only");

    const again = await reconcile(await w.runtime.deps(), {
      direction: 'both',
      dryRun: true,
      force: false,
      maxDeleteRatio: 1,
    });
    assert.deepEqual(again.changes, [], 'converged in the partition');
  } finally {
    await w.close();
    await consulEmu.close();
  }
});
