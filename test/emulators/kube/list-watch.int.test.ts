// Selectors, pagination and watches, as the API concepts page documents them
// (https://kubernetes.io/docs/reference/using-api/api-concepts/): label/field selectors,
// limit/continue with remainingItemCount and a consistent snapshot, and watch streams consumed
// by the real @kubernetes/client-node Watch.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeInformer, Watch, type V1Service } from '@kubernetes/client-node';
import { failure, raw, service, startCluster, waitFor, type Cluster } from './helpers.js';

describe('kube emulator: selectors', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
    const mk = (name: string, labels: Record<string, string>) =>
      c.core.createNamespacedService({ namespace: 'default', body: service(name, {}, { labels }) });
    await mk('a1', { app: 'a', tier: 'web' });
    await mk('a2', { app: 'a' });
    await mk('b1', { app: 'b', tier: 'db' });
    await mk('c1', { app: 'c' });
    await c.core.createNamespace({ body: { metadata: { name: 'other' } } });
    await c.core.createNamespacedService({
      namespace: 'other',
      body: service('a1', {}, { labels: { app: 'a' } }),
    });
  });
  after(() => c.emu.close());

  const names = async (labelSelector?: string, fieldSelector?: string) =>
    (
      await c.core.listNamespacedService({ namespace: 'default', labelSelector, fieldSelector })
    ).items
      .map((s) => s.metadata!.name!)
      .sort();

  it('filters with equality- and set-based label selectors', async () => {
    assert.deepEqual(await names('app=a'), ['a1', 'a2']);
    assert.deepEqual(await names('app==a'), ['a1', 'a2']);
    assert.deepEqual(await names('app!=a'), ['b1', 'c1']);
    assert.deepEqual(await names('tier'), ['a1', 'b1']);
    assert.deepEqual(await names('!tier'), ['a2', 'c1']);
    assert.deepEqual(await names('app in (a,b)'), ['a1', 'a2', 'b1']);
    assert.deepEqual(await names('app notin (a, b)'), ['c1']);
    assert.deepEqual(await names('app=a,tier=web'), ['a1']);
    assert.deepEqual(await names('app=zzz'), []);
  });

  it('filters with field selectors on metadata.name and metadata.namespace', async () => {
    assert.deepEqual(await names(undefined, 'metadata.name=b1'), ['b1']);
    assert.deepEqual(await names(undefined, 'metadata.name!=b1'), ['a1', 'a2', 'c1']);
    const all = await c.core.listServiceForAllNamespaces({
      fieldSelector: 'metadata.namespace=other',
    });
    assert.deepEqual(
      all.items.map((s) => `${s.metadata!.namespace}/${s.metadata!.name}`),
      ['other/a1'],
    );
    const bad = await failure(
      c.core.listNamespacedService({ namespace: 'default', fieldSelector: 'spec.foo=x' }),
    );
    assert.equal(bad.code, 400);
    assert.equal(bad.body.reason, 'BadRequest');
    assert.equal(bad.body.message, 'field label not supported: spec.foo');
  });

  it('lists across namespaces and within one', async () => {
    const all = await c.core.listServiceForAllNamespaces({ labelSelector: 'app=a' });
    assert.deepEqual(all.items.map((s) => `${s.metadata!.namespace}/${s.metadata!.name}`).sort(), [
      'default/a1',
      'default/a2',
      'other/a1',
    ]);
    const list = await raw(c.emu, 'GET', '/api/v1/namespaces/other/services');
    assert.equal(list.body.kind, 'ServiceList');
    assert.equal(list.body.apiVersion, 'v1');
    assert.match(list.body.metadata.resourceVersion, /^\d+$/);
    // items of a typed list carry no kind/apiVersion of their own
    assert.equal(list.body.items[0].kind, undefined);
    assert.equal(list.body.items[0].metadata.name, 'a1');
  });
});

describe('kube emulator: pagination', () => {
  let c: Cluster;
  const total = 1000;
  before(async () => {
    c = await startCluster();
    const objs = [];
    for (let i = 0; i < total; i++) {
      objs.push(
        service(
          `svc-${String(i).padStart(4, '0')}`,
          {},
          { namespace: 'paged', labels: { even: String(i % 2 === 0) } },
        ),
      );
    }
    c.emu.seed(objs);
  });
  after(() => c.emu.close());

  it('pages with limit/continue and reports remainingItemCount', async () => {
    const seen: string[] = [];
    let cont: string | undefined;
    const remaining: (number | undefined)[] = [];
    const rvs = new Set<string>();
    let pages = 0;
    do {
      const page = await c.core.listNamespacedService({
        namespace: 'paged',
        limit: 300,
        _continue: cont,
      });
      pages++;
      seen.push(...page.items.map((s) => s.metadata!.name!));
      remaining.push(page.metadata?.remainingItemCount);
      rvs.add(page.metadata!.resourceVersion!);
      cont = page.metadata?._continue;
    } while (cont);
    assert.equal(pages, 4);
    assert.deepEqual(remaining, [700, 400, 100, undefined]);
    assert.equal(rvs.size, 1, 'every page is served at the first page’s resourceVersion');
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);
    assert.deepEqual(seen, [...seen].sort());
  });

  it('keeps continued pages consistent with the first page’s snapshot', async () => {
    const first = await c.core.listNamespacedService({ namespace: 'paged', limit: 500 });
    // change the part not yet read: delete one, add one, relabel one
    await c.core.deleteNamespacedService({ name: 'svc-0900', namespace: 'paged' });
    await c.core.createNamespacedService({ namespace: 'paged', body: service('svc-0950a') });
    const second = await c.core.listNamespacedService({
      namespace: 'paged',
      limit: 500,
      _continue: first.metadata!._continue,
    });
    const names = second.items.map((s) => s.metadata!.name!);
    assert.equal(names.length, 500);
    assert.ok(names.includes('svc-0900'), 'deleted later, still in the snapshot');
    assert.ok(!names.includes('svc-0950a'), 'created later, not in the snapshot');
    assert.equal(second.metadata?._continue, undefined);
    const fresh = await c.core.listNamespacedService({ namespace: 'paged' });
    assert.equal(fresh.items.length, total);
    assert.ok(!fresh.items.some((s) => s.metadata!.name === 'svc-0900'));
  });

  it('serves resourceVersion=0 from the watch cache: limit ignored, everything at once', async () => {
    const all = await c.core.listNamespacedService({
      namespace: 'paged',
      labelSelector: 'even=true',
      limit: 100,
      resourceVersion: '0',
    });
    // the earlier test deleted svc-0900, one of the even ones
    assert.equal(all.items.length, total / 2 - 1);
    assert.equal(all.metadata?._continue, undefined);
    assert.ok(all.items.every((s) => s.metadata!.labels!.even === 'true'));
  });

  it('pages with a label selector (no remainingItemCount then)', async () => {
    const page = await c.core.listNamespacedService({
      namespace: 'paged',
      labelSelector: 'even=true',
      limit: 100,
    });
    assert.equal(page.items.length, 100);
    assert.ok(page.items.every((s) => s.metadata!.labels!.even === 'true'));
    assert.ok(page.metadata?._continue);
    assert.equal(page.metadata?.remainingItemCount, undefined);
  });

  it('rejects a garbage continue token with 400', async () => {
    const bad = await failure(
      c.core.listNamespacedService({ namespace: 'paged', limit: 10, _continue: 'not a token!' }),
    );
    assert.equal(bad.code, 400);
    assert.equal(bad.body.reason, 'BadRequest');
    assert.match(bad.body.message, /^invalid continue token/);
  });
});

interface Event {
  type: string;
  obj: any;
}

function collect(
  c: Cluster,
  path: string,
  params: Record<string, string | number | boolean | undefined>,
) {
  const events: Event[] = [];
  let done: unknown = 'open';
  const watch = new Watch(c.kc);
  const started = watch.watch(
    path,
    params,
    (type, obj) => events.push({ type, obj }),
    (err) => {
      done = err ?? null;
    },
  );
  return {
    events,
    isDone: () => done !== 'open',
    stop: async () => (await started).abort(),
  };
}

describe('kube emulator: watch', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
  });
  after(() => c.emu.close());

  it('streams ADDED, MODIFIED and DELETED from a resourceVersion to client-node Watch', async () => {
    const list = await c.core.listNamespacedService({ namespace: 'default' });
    const w = collect(c, '/api/v1/namespaces/default/services', {
      resourceVersion: list.metadata!.resourceVersion,
    });
    await new Promise((r) => setTimeout(r, 50));
    const created = await c.core.createNamespacedService({
      namespace: 'default',
      body: service('w1'),
    });
    await c.core.replaceNamespacedService({
      name: 'w1',
      namespace: 'default',
      body: { ...service('w1', { ports: [{ name: 'http', port: 81 }] }) },
    });
    await c.core.deleteNamespacedService({ name: 'w1', namespace: 'default' });
    await waitFor(() => w.events.length >= 3, 'three events');
    assert.deepEqual(
      w.events.map((e) => e.type),
      ['ADDED', 'MODIFIED', 'DELETED'],
    );
    assert.equal(w.events[0]!.obj.kind, 'Service');
    assert.equal(w.events[0]!.obj.metadata.uid, created.metadata!.uid);
    assert.equal(w.events[1]!.obj.spec.ports[0].port, 81);
    const rvs = w.events.map((e) => Number(e.obj.metadata.resourceVersion));
    assert.ok(
      rvs[0]! < rvs[1]! && rvs[1]! < rvs[2]!,
      'DELETED carries the deletion resourceVersion',
    );
    await w.stop();
  });

  it('replays changes after an older resourceVersion', async () => {
    const list = await c.core.listNamespacedService({ namespace: 'default' });
    await c.core.createNamespacedService({ namespace: 'default', body: service('late') });
    const w = collect(c, '/api/v1/namespaces/default/services', {
      resourceVersion: list.metadata!.resourceVersion,
    });
    await waitFor(() => w.events.length >= 1, 'replayed event');
    assert.equal(w.events[0]!.type, 'ADDED');
    assert.equal(w.events[0]!.obj.metadata.name, 'late');
    await w.stop();
  });

  it('sends the current state as ADDED first without a resourceVersion, honouring selectors', async () => {
    await c.core.createNamespacedService({
      namespace: 'default',
      body: service('sel-a', {}, { labels: { team: 'x' } }),
    });
    await c.core.createNamespacedService({
      namespace: 'default',
      body: service('sel-b', {}, { labels: { team: 'y' } }),
    });
    const w = collect(c, '/api/v1/services', { labelSelector: 'team=x' });
    await waitFor(() => w.events.length >= 1, 'initial ADDED');
    assert.deepEqual(
      w.events.map((e) => [e.type, e.obj.metadata.name]),
      [['ADDED', 'sel-a']],
    );
    // leaving the selector is a DELETED for this watch, entering it an ADDED
    await raw(
      c.emu,
      'PATCH',
      '/api/v1/namespaces/default/services/sel-a',
      { metadata: { labels: { team: 'z' } } },
      {
        'content-type': 'application/merge-patch+json',
      },
    );
    await raw(
      c.emu,
      'PATCH',
      '/api/v1/namespaces/default/services/sel-b',
      { metadata: { labels: { team: 'x' } } },
      {
        'content-type': 'application/merge-patch+json',
      },
    );
    await waitFor(() => w.events.length >= 3, 'selector transitions');
    assert.deepEqual(
      w.events.slice(1).map((e) => [e.type, e.obj.metadata.name]),
      [
        ['DELETED', 'sel-a'],
        ['ADDED', 'sel-b'],
      ],
    );
    await w.stop();
  });

  it(
    'drives a client-node informer (list, then watch from the list’s resourceVersion)',
    { timeout: 5000 },
    async () => {
      await c.core.createNamespacedService({ namespace: 'default', body: service('inf-pre') });
      const inf = makeInformer<V1Service>(c.kc, '/api/v1/namespaces/default/services', () =>
        c.core.listNamespacedService({ namespace: 'default' }),
      );
      const seen: string[] = [];
      inf.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
      inf.on('update', (o) => seen.push(`update ${o.metadata?.name}`));
      inf.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
      // start() resolves only once the watch answered: a watch with nothing to send must still
      // send its 200 headers at once
      await inf.start();
      try {
        assert.ok(seen.includes('add inf-pre'));
        await c.core.createNamespacedService({ namespace: 'default', body: service('inf-new') });
        await c.core.deleteNamespacedService({ name: 'inf-new', namespace: 'default' });
        await waitFor(() => seen.includes('delete inf-new'), 'informer delete');
        assert.ok(seen.indexOf('add inf-new') < seen.indexOf('delete inf-new'));
        assert.ok(inf.list().some((s) => s.metadata?.name === 'inf-pre'));
        assert.ok(!inf.list().some((s) => s.metadata?.name === 'inf-new'));
      } finally {
        await inf.stop();
      }
    },
  );

  it('notifies watches of seeded objects, with a new resourceVersion', async () => {
    const list = await c.core.listNamespacedService({ namespace: 'default' });
    const w = collect(c, '/api/v1/namespaces/default/services', {
      resourceVersion: list.metadata!.resourceVersion,
    });
    await new Promise((r) => setTimeout(r, 50));
    c.emu.seed([service('seeded', {}, { namespace: 'default' })]);
    await waitFor(() => w.events.some((e) => e.obj.metadata.name === 'seeded'), 'seeded event');
    const ev = w.events.find((e) => e.obj.metadata.name === 'seeded')!;
    assert.equal(ev.type, 'ADDED');
    assert.ok(Number(ev.obj.metadata.resourceVersion) > Number(list.metadata!.resourceVersion));
    assert.match(ev.obj.spec.clusterIP, /^10\./, 'seeded services are allocated a cluster IP too');
    await w.stop();
  });

  it('ends the stream after timeoutSeconds', async () => {
    const w = collect(c, '/api/v1/namespaces/default/services', {
      timeoutSeconds: 1,
      resourceVersion: '1',
    });
    await waitFor(() => w.isDone(), 'watch end', 3000);
  });

  it('sends a BOOKMARK marking the end of initial events when asked', async () => {
    const r = await fetch(
      `${c.emu.url}/api/v1/namespaces/default/services?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1`,
    );
    const lines = (await r.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const kinds = lines.map((l) => l.type);
    const firstBookmark = kinds.indexOf('BOOKMARK');
    assert.ok(firstBookmark > 0);
    assert.ok(kinds.slice(0, firstBookmark).every((k) => k === 'ADDED'));
    assert.equal(
      lines[firstBookmark].object.metadata.annotations['k8s.io/initial-events-end'],
      'true',
    );
    assert.match(lines[firstBookmark].object.metadata.resourceVersion, /^\d+$/);
  });
});
