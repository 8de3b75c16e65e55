// The ordering rule of the mirrors' view (src/kube/watch-cache.ts): our own writes enter it at
// once, and a watch event older than what it holds (by resourceVersion, an etcd revision) never
// brings back an older object or a deleted one. Driven through the watch's event entry point.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceWatchCache } from '../../src/kube/watch-cache.js';
import type { KubeHandle } from '../../src/kube/client.js';
import type { Service } from '../../src/translate/types.js';
import { createLogger } from '../../src/telemetry/logger.js';
import fc from 'fast-check';

const svc = (name: string, rv: string, externalName = `${name}.service.consul`): Service => ({
  metadata: { name, namespace: 'default', resourceVersion: rv, labels: { consul: 'true' } },
  spec: { type: 'ExternalName', externalName },
});

/** A cache whose watch "runs" (never started: events are fed by hand). */
function running(isOwned?: (s: Service) => boolean): {
  cache: ServiceWatchCache;
  event: (type: string, object: Service) => void;
} {
  const cache = new ServiceWatchCache(
    {} as KubeHandle,
    { namespace: 'default', labelSelector: 'consul=true', ...(isOwned ? { isOwned } : {}) },
    createLogger({ level: 'silent' }),
  );
  const inner = cache as unknown as {
    live: boolean;
    generation: number;
    event(generation: number, type: string, object: Service): void;
  };
  inner.live = true;
  return { cache, event: (type, object) => inner.event(inner.generation, type, object) };
}

const names = (cache: ServiceWatchCache) =>
  cache.snapshot()?.map((s) => `${s.metadata?.name}@${s.metadata?.resourceVersion}`);

test('our write enters at once; its own (older or equal) watch events change nothing', () => {
  const { cache, event } = running();
  event('ADDED', svc('web', '10'));
  cache.remember(svc('web', '12', 'new.service.consul'));
  event('MODIFIED', svc('web', '11', 'stale.example.com'));
  event('MODIFIED', svc('web', '12', 'new.service.consul'));
  assert.deepEqual(names(cache), ['web@12']);
  assert.equal(cache.snapshot()?.[0]?.spec?.externalName, 'new.service.consul');
  event('MODIFIED', svc('web', '13', 'by-hand.example.com'));
  assert.equal(
    cache.snapshot()?.[0]?.spec?.externalName,
    'by-hand.example.com',
    'a newer edit wins',
  );
});

test('a deleted mirror is not brought back by an older event, only by a newer one', () => {
  const { cache, event } = running();
  event('ADDED', svc('db', '20'));
  cache.forget('db');
  event('MODIFIED', svc('db', '20'));
  assert.deepEqual(names(cache), []);
  event('DELETED', svc('db', '21'));
  event('ADDED', svc('db', '22'));
  assert.deepEqual(names(cache), ['db@22'], 'created again later');
});

test('no snapshot while the watch is not running', () => {
  const cache = new ServiceWatchCache(
    {} as KubeHandle,
    { namespace: 'default', labelSelector: 'consul=true' },
    createLogger({ level: 'silent' }),
  );
  cache.remember(svc('web', '1'));
  assert.equal(cache.snapshot(), undefined);
});

test('takeChanged reports what others changed, once; our own writes are not reported', () => {
  const { cache, event } = running();
  event('ADDED', svc('web', '10'));
  event('ADDED', svc('api', '11'));
  const first = cache.takeChanged();
  assert.deepEqual([...(first?.names ?? [])].sort(), ['api', 'web']);
  assert.deepEqual([...(cache.takeChanged()?.names ?? [])], [], 'each change reported once');
  // Our write, then its own watch event: nothing to report.
  cache.remember(svc('web', '12', 'ours.service.consul'));
  event('MODIFIED', svc('web', '12', 'ours.service.consul'));
  // Our write whose watch event came first: not reported either.
  event('MODIFIED', svc('api', '13', 'ours.service.consul'));
  cache.remember(svc('api', '13', 'ours.service.consul'));
  // Our delete, its event first.
  event('ADDED', svc('db', '14'));
  cache.takeChanged();
  event('DELETED', svc('db', '15'));
  cache.forget('db');
  assert.deepEqual([...(cache.takeChanged()?.names ?? [])], []);
  // An edit by hand after ours is reported.
  event('MODIFIED', svc('web', '16', 'by-hand.example.com'));
  assert.deepEqual([...(cache.takeChanged()?.names ?? [])], ['web']);
  assert.equal(first?.epoch, cache.takeChanged()?.epoch, 'no list in between: same epoch');
});

test('takeChanged, counts and pick answer nothing while the watch is not running', () => {
  const cache = new ServiceWatchCache(
    {} as KubeHandle,
    { namespace: 'default', labelSelector: 'consul=true' },
    createLogger({ level: 'silent' }),
  );
  cache.remember(svc('web', '1'));
  assert.equal(cache.takeChanged(), undefined);
  assert.equal(cache.counts(), undefined);
  assert.equal(cache.pick(['web']), undefined);
});

test('counts and pick agree with the snapshot through any history of events and our writes', () => {
  const owned = (s: Service): boolean => s.metadata?.labels?.consul === 'true';
  const NAMES = ['a', 'b', 'c', 'd'];
  const step = fc.record({
    what: fc.constantFrom('ADDED', 'MODIFIED', 'DELETED', 'remember', 'forget'),
    name: fc.constantFrom(...NAMES),
    rv: fc.integer({ min: 1, max: 30 }),
    type: fc.constantFrom('ExternalName', 'ClusterIP'),
    ours: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(step, { maxLength: 40 }), fc.subarray(NAMES), (steps, scope) => {
      const { cache, event } = running(owned);
      for (const st of steps) {
        const object: Service = {
          metadata: {
            name: st.name,
            namespace: 'default',
            resourceVersion: String(st.rv),
            labels: st.ours ? { consul: 'true' } : { consul: 'no' },
          },
          spec: { type: st.type },
        };
        if (st.what === 'remember') cache.remember(object);
        else if (st.what === 'forget') cache.forget(st.name);
        else event(st.what, object);
      }
      const all = cache.snapshot() ?? [];
      assert.deepEqual(cache.counts(), {
        notExternalName: all.filter((s) => s.spec?.type !== 'ExternalName').length,
      });
      const inScope = all.filter((s) => scope.includes(s.metadata?.name ?? ''));
      const picked = cache.pick(scope);
      assert.deepEqual(
        picked?.items.map((s) => s.metadata?.name).sort(),
        inScope.map((s) => s.metadata?.name).sort(),
      );
      assert.equal(
        picked?.ownedOutside,
        all.filter((s) => !scope.includes(s.metadata?.name ?? '') && owned(s)).length,
      );
    }),
    { numRuns: 500 },
  );
});
