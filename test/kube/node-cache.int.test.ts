// serve reuses a Node it read for --node-cache-ttl: an EndpointSlice review reads each node its
// endpoints run on, and a Node's addresses outlive many slice changes. Missing nodes are never
// remembered, a changed node is seen once the entry expires, and 0 turns the cache off. Only a
// node's name and addresses are kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startKubeEmulator } from '../../dev/emulators/kube/index.js';
import { createKubeHandle } from '../../src/kube/client.js';
import { KubeApi } from '../../src/kube/api.js';

const address = (n: unknown): string | undefined =>
  (n as { status?: { addresses?: { address: string }[] } } | undefined)?.status?.addresses?.[0]
    ?.address;

test('node reads are reused within the TTL; missing nodes and TTL 0 always read', async () => {
  const emu = await startKubeEmulator();
  try {
    const kc = new KubeConfig();
    kc.loadFromString(emu.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNode({
      body: {
        metadata: { name: 'node-a', labels: { zone: 'z1' } },
        status: {
          addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
          images: [{ names: ['registry.example/app:1'], sizeBytes: 1234 }],
        },
      },
    });
    const gets = (): number => emu.requestCounts()['get nodes'] ?? 0;
    const cached = new KubeApi(createKubeHandle(kc), undefined, { nodeCacheTtlMs: 60_000 });
    const uncached = new KubeApi(createKubeHandle(kc), undefined, { nodeCacheTtlMs: 0 });

    const first = await cached.readNodes(['node-a', 'node-b']);
    assert.deepEqual([...first.keys()], ['node-a']);
    // only what translation reads is kept (a Node's image list alone can be tens of kilobytes)
    assert.deepEqual(first.get('node-a'), {
      metadata: { name: 'node-a' },
      status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
    });
    assert.equal(gets(), 2);
    const second = await cached.readNodes(['node-a', 'node-b']);
    assert.equal(address(second.get('node-a')), '10.0.0.1');
    assert.equal(gets(), 3, 'node-a from the cache, the missing node-b read again');

    // node-b appears: found at once (a miss was not remembered)
    await core.createNode({
      body: {
        metadata: { name: 'node-b' },
        status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] },
      },
    });
    assert.equal(address((await cached.readNodes(['node-b'])).get('node-b')), '10.0.0.2');

    // node-a changes: the cache keeps the old read until it expires, TTL 0 sees it at once
    const a = await core.readNode({ name: 'node-a' });
    a.status = { addresses: [{ type: 'InternalIP', address: '10.0.0.9' }] };
    await core.replaceNodeStatus({ name: 'node-a', body: a });
    assert.equal(address((await cached.readNodes(['node-a'])).get('node-a')), '10.0.0.1');
    assert.equal(address((await uncached.readNodes(['node-a'])).get('node-a')), '10.0.0.9');
    const before = gets();
    await uncached.readNodes(['node-a']);
    assert.equal(gets(), before + 1, 'TTL 0 reads every time');

    const short = new KubeApi(createKubeHandle(kc), undefined, { nodeCacheTtlMs: 30 });
    assert.equal(address((await short.readNodes(['node-a'])).get('node-a')), '10.0.0.9');
    const again = await core.readNode({ name: 'node-a' });
    again.status = { addresses: [{ type: 'InternalIP', address: '10.0.0.10' }] };
    await core.replaceNodeStatus({ name: 'node-a', body: again });
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(address((await short.readNodes(['node-a'])).get('node-a')), '10.0.0.10');
  } finally {
    await emu.close();
  }
});
