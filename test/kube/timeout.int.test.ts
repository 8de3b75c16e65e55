// Every Kubernetes call is bounded (issue 17): a call of the event path by `timeoutMs`
// (--write-timeout), one page of a reconcile list by `listTimeoutMs` or the caller's bound. Past
// it the request is aborted and fails with KUBE_UNAVAILABLE (timed out), a retryable code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { startKubeEmulator } from '../../dev/emulators/kube/index.js';
import { createKubeHandle } from '../../src/kube/client.js';
import { KubeApi } from '../../src/kube/api.js';
import { isRetryable, isSyncError } from '../../src/errors.js';
import { service } from '../fixtures/reviews.js';

async function timedOut(call: Promise<unknown>, message: RegExp, withinMs: number): Promise<void> {
  const started = Date.now();
  await assert.rejects(call, (err: unknown) => {
    assert.ok(isSyncError(err), String(err));
    assert.equal(err.code, 'KUBE_UNAVAILABLE');
    assert.match(err.message, message);
    assert.ok(isRetryable(err));
    return true;
  });
  const took = Date.now() - started;
  assert.ok(took < withinMs, `failed after ${took} ms`);
}

test('a call past its timeout is aborted and fails with KUBE_UNAVAILABLE (timed out)', async () => {
  const emu = await startKubeEmulator();
  try {
    emu.seed([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      service('shop', 'web', { type: 'ClusterIP', ports: [{ port: 80 }] }),
    ]);
    const kc = new KubeConfig();
    kc.loadFromString(emu.kubeconfig);
    const api = new KubeApi(createKubeHandle(kc), undefined, {
      timeoutMs: 200,
      listTimeoutMs: 300,
    });
    // Unhindered, the bounded calls answer as before.
    assert.equal(
      (await api.readService({ namespace: 'shop', name: 'web' }))?.metadata?.name,
      'web',
    );
    assert.equal((await api.listAllServices()).length, 1);
    assert.equal(await api.readService({ namespace: 'shop', name: 'gone' }), null);

    // Event path: a read and a write, bounded by timeoutMs.
    emu.faults.add({ method: 'GET', path: '/api/v1/namespaces/shop/services/web', delayMs: 2000 });
    await timedOut(
      api.readService({ namespace: 'shop', name: 'web' }),
      /^kubernetes read service shop\/web timed out after 200 ms$/,
      1500,
    );
    emu.faults.add({ method: 'POST', path: '/api/v1/namespaces/default/services', delayMs: 2000 });
    await timedOut(
      api.createService('default', {
        metadata: { name: 'billing-db' },
        spec: { type: 'ExternalName', externalName: 'billing-db.service.consul' },
      }),
      /create service default\/billing-db timed out after 200 ms/,
      1500,
    );

    // Reconcile lists: each page bounded by listTimeoutMs, or by the caller's bound.
    emu.faults.add({ method: 'GET', path: '/api/v1/services', delayMs: 2000 });
    await timedOut(api.listAllServices(), /list services timed out after 300 ms/, 1500);
    await timedOut(
      api.listAllServices(undefined, 100),
      /list services timed out after 100 ms/,
      1500,
    );
    emu.faults.clear();
    assert.equal((await api.listAllServices()).length, 1, 'the client is usable afterwards');
  } finally {
    emu.faults.clear();
    await emu.close();
  }
});

test('without a configured bound, a call is bounded by the default of --write-timeout (3 s)', async () => {
  const emu = await startKubeEmulator();
  try {
    const kc = new KubeConfig();
    kc.loadFromString(emu.kubeconfig);
    const api = new KubeApi(createKubeHandle(kc));
    emu.faults.add({ method: 'GET', path: '/version', delayMs: 3500 });
    await timedOut(api.ping(), /read version timed out after 3000 ms/, 3400);
    emu.faults.clear();
    await api.ping();
  } finally {
    emu.faults.clear();
    await emu.close();
  }
});
