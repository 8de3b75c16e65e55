// The Events edge against the Kubernetes emulator through client-node: an Event is created as
// the API server stores it, a second create of the same name is 'exists' (409), a series patch
// of an Event that is gone is 'gone' (404), and any other refusal keeps its status. The Event is
// read back through client-node's own EventsV1Api: what src/kube/rest.ts sent decodes as the
// API server's type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventsV1Api, KubeConfig } from '@kubernetes/client-node';
import { startKubeEmulator } from '../../dev/emulators/kube/index.js';
import { KubeEvents, REPORTING_CONTROLLER } from '../../src/kube/events.js';
import { KubeRest } from '../../src/kube/rest.js';
import { isSyncError } from '../../src/errors.js';

test('create, create again, patch the series, patch one that is gone', async () => {
  const emu = await startKubeEmulator();
  try {
    const kc = new KubeConfig();
    kc.loadFromString(emu.kubeconfig);
    const events = new KubeEvents(new KubeRest(kc), {
      reportingInstance: 'pod-1',
      timeoutMs: 3000,
    });
    const record = {
      namespace: 'default',
      name: 'web.synced.1',
      regarding: { name: 'web', uid: '0b6c2d8e-0000-4000-8000-000000000001' },
      reason: 'Synced',
      action: 'Register',
      type: 'Normal' as const,
      note: 'Consul service web: 1 instance(s) (1 created, 0 updated, 0 deregistered)',
      eventTime: Date.UTC(2026, 11, 7, 3, 0, 0, 123),
    };
    assert.equal(await events.create(record), 'created');
    assert.equal(await events.create(record), 'exists');

    const api = kc.makeApiClient(EventsV1Api);
    const stored = await api.readNamespacedEvent({ namespace: 'default', name: 'web.synced.1' });
    assert.equal(stored.reportingController, REPORTING_CONTROLLER);
    assert.equal(stored.reportingInstance, 'pod-1');
    assert.equal(stored.reason, 'Synced');
    assert.equal(stored.regarding?.name, 'web');
    assert.equal(stored.series, undefined);

    const series = { count: 3, lastObservedTime: Date.UTC(2026, 11, 7, 3, 0, 20, 456) };
    assert.equal(await events.patchSeries('default', 'web.synced.1', series), 'patched');
    const patched = await api.readNamespacedEvent({ namespace: 'default', name: 'web.synced.1' });
    assert.equal(patched.series?.count, 3);
    assert.equal(
      new Date(String(patched.series?.lastObservedTime)).getTime(),
      series.lastObservedTime,
    );

    assert.equal(await events.patchSeries('default', 'nothing.here', series), 'gone');
    // Any other refusal is an error that keeps the API server's status.
    await assert.rejects(
      events.create({ ...record, name: 'Not_A_Valid_Name' }),
      (err: unknown) => isSyncError(err) && err.upstreamStatus === 422,
    );
  } finally {
    await emu.close();
  }
});
