// The reconcile lists (issue 18): page by page (limit/continue), each item slimmed as its page
// arrives; a failed page or a page without items fails the whole list (nothing partial, so a
// reconcile never deletes on a partial read); the event path's slice reads grouped per namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeConfigFor } from '../support/kube-config.js';
import { startKubeEmulator } from '../../dev/emulators/kube/index.js';
import { createKubeHandle } from '../../src/kube/client.js';
import { KubeApi, LIST_PAGE_SIZE } from '../../src/kube/api.js';
import { isSyncError } from '../../src/errors.js';
import { endpointSlice, service } from '../fixtures/reviews.js';

test('listAllServices follows continue tokens and keeps slim Services', async () => {
  const emu = await startKubeEmulator();
  try {
    const count = LIST_PAGE_SIZE * 2 + 7;
    emu.seed([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      ...Array.from({ length: count }, (_, i) =>
        service('shop', `svc-${i}`, { type: 'ClusterIP', ports: [{ port: 80 }] }),
      ),
    ]);
    const kc = new KubeConfig();
    kc.loadFromString(emu.kubeconfig);
    const api = new KubeApi(createKubeHandle(kc));
    const services = (await api.listAllServices()).filter((s) =>
      s.metadata?.name?.startsWith('svc-'),
    );
    assert.equal(services.length, count);
    assert.equal(new Set(services.map((s) => s.metadata?.name)).size, count);
    const first = services[0] as { metadata: Record<string, unknown> };
    assert.equal(first.metadata.creationTimestamp, undefined, 'slimmed');
    assert.equal(typeof first.metadata.uid, 'string');
  } finally {
    await emu.close();
  }
});

/** A fake API server answering list pages from `pages` (by continue token). */
async function fakeLists(
  pages: (cont: string | null) => { status: number; body: unknown },
): Promise<{ api: KubeApi; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const cont = new URL(req.url ?? '/', 'http://x').searchParams.get('continue');
    const { status, body } = pages(cont);
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kc = kubeConfigFor(server);
  return {
    api: new KubeApi(createKubeHandle(kc), undefined, { timeoutMs: 2000 }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const item = (name: string): unknown => ({
  metadata: { name, namespace: 'shop', managedFields: [{}] },
  endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }],
});

test('a failed second page fails the list', async () => {
  const fake = await fakeLists((cont) =>
    cont === null
      ? { status: 200, body: { items: [item('a')], metadata: { continue: 'next' } } }
      : { status: 500, body: { kind: 'Status', status: 'Failure', code: 500 } },
  );
  try {
    await assert.rejects(fake.api.listAllEndpointSlices(), (err: unknown) => {
      assert.ok(isSyncError(err), String(err));
      return true;
    });
  } finally {
    await fake.close();
  }
});

test('a page without items fails the list instead of reading as empty', async () => {
  const fake = await fakeLists((cont) =>
    cont === null
      ? { status: 200, body: { items: [item('a')], metadata: { continue: 'next' } } }
      : { status: 200, body: { metadata: {} } },
  );
  try {
    await assert.rejects(fake.api.listAllEndpointSlices(), /without items/);
  } finally {
    await fake.close();
  }
});

test('pages are joined in order, each item slimmed', async () => {
  const fake = await fakeLists((cont) =>
    cont === null
      ? { status: 200, body: { items: [item('a'), item('b')], metadata: { continue: 'p2' } } }
      : { status: 200, body: { items: [item('c')], metadata: {} } },
  );
  try {
    const slices = await fake.api.listAllEndpointSlices();
    assert.deepEqual(
      slices.map((s) => s.metadata?.name),
      ['a', 'b', 'c'],
    );
    assert.equal((slices[0]!.metadata as Record<string, unknown>).managedFields, undefined);
  } finally {
    await fake.close();
  }
});

test('EndpointSlice reads of one namespace made while its list is in flight share the next list', async () => {
  const emu = await startKubeEmulator();
  try {
    const names = ['web', 'api', 'db', 'cache'];
    emu.seed([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      ...names.flatMap((n, i) => [
        endpointSlice('shop', n, `${n}-a`, [{ ip: `10.1.${i}.1` }]),
        endpointSlice('shop', n, `${n}-b`, [{ ip: `10.1.${i}.2` }]),
      ]),
      endpointSlice('shop', 'not-asked', 'not-asked-a', [{ ip: '10.1.9.1' }]),
    ]);
    const kc = new KubeConfig();
    kc.loadFromString(emu.kubeconfig);
    const api = new KubeApi(createKubeHandle(kc));
    // The first list is held on its way; the other three are asked for meanwhile.
    emu.faults.add({
      method: 'GET',
      path: '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices',
      delayMs: 200,
      times: 1,
    });
    emu.resetRequestCounts();
    const reads = names.map((n) => api.listEndpointSlices({ namespace: 'shop', name: n }));
    const answers = await Promise.all(reads);
    names.forEach((n, i) =>
      assert.deepEqual(answers[i]!.map((s) => s.metadata?.name).sort(), [`${n}-a`, `${n}-b`], n),
    );
    assert.equal(emu.requestCounts()['list endpointslices'], 2, 'web alone, then the three others');
  } finally {
    await emu.close();
  }
});
