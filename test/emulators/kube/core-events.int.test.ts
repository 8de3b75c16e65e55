// core/v1 events: the emulator serves the events.k8s.io/v1 Events it stores as core/v1 Events
// too (one stored object, two versions), converted as Kubernetes converts them
// (pkg/apis/events/v1 conversion.go), with the core/v1 field selectors, watches, discovery and
// server-side table, so `kubectl describe service` and `kubectl events` show what the product
// records.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Watch } from '@kubernetes/client-node';
import { raw, service, startCluster, waitFor, type Cluster } from './helpers.js';

const hasKubectl = !spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).error;

/** metav1.MicroTime as the API server encodes it (six fractional digits). */
function micro(msAgo: number): string {
  return new Date(Date.now() - msAgo).toISOString().replace(/Z$/, '000Z');
}

const EVENTS_V1 = '/apis/events.k8s.io/v1/namespaces/ns/events';
const CORE = '/api/v1/namespaces/ns/events';

describe('kube emulator: core/v1 events', () => {
  let c: Cluster;
  let dir: string;
  let webUid: string;
  let dbUid: string;
  const eventTime = micro(100_000);
  const firstSeries = micro(50_000);

  const post = async (path: string, body: unknown): Promise<any> => {
    const r = await raw(c.emu, 'POST', path, body);
    assert.equal(r.status, 201, r.text);
    return r.body;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kube-emu-core-events-'));
    c = await startCluster({ kubeconfigOut: join(dir, 'kubeconfig') });
    await post('/api/v1/namespaces', { metadata: { name: 'ns' } });
    webUid = (await post('/api/v1/namespaces/ns/services', service('web'))).metadata.uid;
    dbUid = (await post('/api/v1/namespaces/ns/services', service('db'))).metadata.uid;
    // what k8s-consul-sync records: an events.k8s.io/v1 Event with a series
    await post(EVENTS_V1, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'web.sync' },
      eventTime,
      series: { count: 2, lastObservedTime: firstSeries },
      reportingController: 'k8s-consul-sync',
      reportingInstance: 'sync-0',
      action: 'Register',
      reason: 'Registered',
      regarding: { apiVersion: 'v1', kind: 'Service', namespace: 'ns', name: 'web', uid: webUid },
      related: { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'web-0' },
      note: 'registered web in the Consul catalog',
      type: 'Normal',
    });
    await post(EVENTS_V1, {
      metadata: { name: 'db.sync' },
      eventTime,
      reportingController: 'k8s-consul-sync',
      reportingInstance: 'sync-0',
      action: 'Deregister',
      reason: 'DeregisterFailed',
      regarding: { apiVersion: 'v1', kind: 'Service', namespace: 'ns', name: 'db', uid: dbUid },
      note: 'Consul refused the deregistration',
      type: 'Warning',
    });
    await post('/apis/events.k8s.io/v1/namespaces/default/events', {
      metadata: { name: 'elsewhere' },
      eventTime,
      reportingController: 'other-controller',
      reportingInstance: 'other-0',
      action: 'Do',
      reason: 'Done',
      regarding: { apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'kubernetes' },
      type: 'Normal',
    });
  });
  after(async () => {
    await c.emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the stored events.k8s.io/v1 Event as a core/v1 Event', async () => {
    const stored = (await raw(c.emu, 'GET', `${EVENTS_V1}/web.sync`)).body;
    const r = await raw(c.emu, 'GET', `${CORE}/web.sync`);
    assert.equal(r.status, 200, r.text);
    // Convert_v1_Event_To_core_Event: regarding→involvedObject, note→message,
    // deprecatedSource→source, deprecated{First,Last}Timestamp→{first,last}Timestamp,
    // deprecatedCount→count, reportingController→reportingComponent; the rest by name. The
    // core/v1 encoding keeps involvedObject, source, the zero Times (null), eventTime,
    // reportingComponent and reportingInstance, and leaves out a zero count.
    const expected = {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: stored.metadata,
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Service',
        namespace: 'ns',
        name: 'web',
        uid: webUid,
      },
      reason: 'Registered',
      message: 'registered web in the Consul catalog',
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      type: 'Normal',
      eventTime,
      series: { count: 2, lastObservedTime: firstSeries },
      action: 'Register',
      related: { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'web-0' },
      reportingComponent: 'k8s-consul-sync',
      reportingInstance: 'sync-0',
    };
    assert.deepEqual(r.body, expected);
    // in the core/v1 Event's Go field order
    assert.deepEqual(Object.keys(r.body), Object.keys(expected));

    const list = await raw(c.emu, 'GET', CORE);
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.kind, 'EventList');
    assert.equal(list.body.apiVersion, 'v1');
    assert.deepEqual(
      list.body.items.map((e: any) => [e.metadata.name, e.involvedObject.name, e.message]),
      [
        ['db.sync', 'db', 'Consul refused the deregistration'],
        ['web.sync', 'web', 'registered web in the Consul catalog'],
      ],
    );
    const db = list.body.items[0];
    assert.equal(db.reason, 'DeregisterFailed');
    assert.equal(db.type, 'Warning');
    assert.equal('series' in db || 'related' in db || 'count' in db, false);

    // across namespaces, from the same storage (same names, uids and resourceVersions)
    const all = await raw(c.emu, 'GET', '/api/v1/events');
    assert.equal(all.status, 200, all.text);
    const v1all = await raw(c.emu, 'GET', '/apis/events.k8s.io/v1/events');
    const ids = (items: any[]): string[][] =>
      items.map((e) => [
        e.metadata.namespace,
        e.metadata.name,
        e.metadata.uid,
        e.metadata.resourceVersion,
      ]);
    assert.deepEqual(ids(all.body.items), ids(v1all.body.items));
    assert.deepEqual(
      all.body.items.map((e: any) => e.metadata.name),
      ['elsewhere', 'db.sync', 'web.sync'],
    );

    const missing = await raw(c.emu, 'GET', `${CORE}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'events "nope" not found');
  });

  it('filters with the core/v1 field selectors', async () => {
    const names = async (selector: string, path = CORE): Promise<string[]> => {
      const r = await raw(c.emu, 'GET', `${path}?fieldSelector=${encodeURIComponent(selector)}`);
      assert.equal(r.status, 200, r.text);
      return r.body.items.map((e: any) => e.metadata.name);
    };
    assert.deepEqual(await names('involvedObject.name=web'), ['web.sync']);
    assert.deepEqual(await names('involvedObject.kind=Service,involvedObject.name=db'), [
      'db.sync',
    ]);
    assert.deepEqual(await names('involvedObject.kind=Pod'), []);
    // what kubectl describe sends (client-go's Events().GetFieldSelector)
    assert.deepEqual(
      await names(
        `involvedObject.name=web,involvedObject.namespace=ns,involvedObject.kind=Service,involvedObject.uid=${webUid}`,
      ),
      ['web.sync'],
    );
    assert.deepEqual(await names('involvedObject.apiVersion=v1,type=Warning'), ['db.sync']);
    assert.deepEqual(await names('reason!=Registered'), ['db.sync']);
    assert.deepEqual(await names('reportingComponent=k8s-consul-sync'), ['db.sync', 'web.sync']);
    // source: the source component, else the reporting controller (ToSelectableFields)
    assert.deepEqual(await names('source=k8s-consul-sync'), ['db.sync', 'web.sync']);
    assert.deepEqual(await names('source=other-controller', '/api/v1/events'), ['elsewhere']);
    assert.deepEqual(await names('metadata.name=web.sync,metadata.namespace=ns'), ['web.sync']);

    // each version takes its own field names
    const bad = await raw(c.emu, 'GET', `${CORE}?fieldSelector=regarding.name%3Dweb`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.message, 'field label not supported: regarding.name');
    assert.deepEqual(await names('regarding.name=web', EVENTS_V1), ['web.sync']);
    const badV1 = await raw(c.emu, 'GET', `${EVENTS_V1}?fieldSelector=involvedObject.name%3Dweb`);
    assert.equal(badV1.status, 400);
  });

  it('lists core events in discovery (shortName ev) with the verbs it serves', async () => {
    const core = await raw(c.emu, 'GET', '/api/v1');
    const ev = core.body.resources.find((r: any) => r.name === 'events');
    assert.deepEqual(ev, {
      name: 'events',
      singularName: 'event',
      namespaced: true,
      kind: 'Event',
      verbs: ['get', 'list', 'watch'],
      shortNames: ['ev'],
    });
    const v1 = await raw(c.emu, 'GET', '/apis/events.k8s.io/v1');
    assert.deepEqual(v1.body.resources.find((r: any) => r.name === 'events').verbs, [
      'create',
      'delete',
      'deletecollection',
      'get',
      'list',
      'patch',
      'update',
      'watch',
    ]);
    // writes go through events.k8s.io/v1 only
    const create = await raw(c.emu, 'POST', CORE, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'x' },
      involvedObject: { kind: 'Service', name: 'web', namespace: 'ns' },
    });
    assert.equal(create.status, 405);
    assert.equal(create.body.reason, 'MethodNotAllowed');
    assert.equal((await raw(c.emu, 'DELETE', `${CORE}/web.sync`)).status, 405);
    assert.equal((await raw(c.emu, 'GET', `${CORE}/web.sync`)).status, 200);
  });

  it('prints core events as kubectl get events shows them (server-side table)', async () => {
    const r = await raw(c.emu, 'GET', CORE, undefined, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.body.columnDefinitions.map((col: any) => [col.name, col.priority]),
      [
        ['Last Seen', 0],
        ['Type', 0],
        ['Reason', 0],
        ['Object', 0],
        ['Subobject', 1],
        ['Source', 1],
        ['Message', 0],
        ['First Seen', 1],
        ['Count', 1],
        ['Name', 1],
      ],
    );
    const web = r.body.rows.find((row: any) => row.cells[9] === 'web.sync').cells;
    assert.deepEqual(web.slice(1), [
      'Normal',
      'Registered',
      'service/web',
      '',
      'k8s-consul-sync, sync-0',
      'registered web in the Consul catalog',
      web[7],
      2,
      'web.sync',
    ]);
    // LAST SEEN: the series' last observation; FIRST SEEN: eventTime (duration.HumanDuration)
    assert.match(web[0], /^[5-9]\ds$/);
    assert.match(web[7], /^1\d\ds$/);
    const db = r.body.rows.find((row: any) => row.cells[9] === 'db.sync').cells;
    assert.match(db[0], /^1\d\ds$/);
    assert.equal(db[7], db[0]);
    assert.equal(db[8], 1, 'a singleton event counts 1');
  });

  it('streams a series update made through events.k8s.io/v1 to a core/v1 watch', async () => {
    const listed = await raw(c.emu, 'GET', CORE);
    const seen: { type: string; obj: any }[] = [];
    const watch = await new Watch(c.kc).watch(
      '/api/v1/namespaces/ns/events',
      {
        resourceVersion: listed.body.metadata.resourceVersion,
        fieldSelector: 'involvedObject.name=web',
      },
      (type, obj) => seen.push({ type, obj }),
      () => {},
    );
    try {
      const lastObservedTime = micro(0);
      const patched = await raw(
        c.emu,
        'PATCH',
        `${EVENTS_V1}/web.sync`,
        { series: { count: 3, lastObservedTime } },
        { 'content-type': 'application/merge-patch+json' },
      );
      assert.equal(patched.status, 200, patched.text);
      // the other service's event is not for this watch
      const dbPatch = await raw(
        c.emu,
        'PATCH',
        `${EVENTS_V1}/db.sync`,
        { series: { count: 2, lastObservedTime } },
        { 'content-type': 'application/merge-patch+json' },
      );
      assert.equal(dbPatch.status, 200, dbPatch.text);
      await waitFor(() => seen.length >= 1, 'the MODIFIED event');
      const { type, obj } = seen[0]!;
      assert.equal(type, 'MODIFIED');
      assert.equal(obj.kind, 'Event');
      assert.equal(obj.apiVersion, 'v1');
      assert.equal(obj.metadata.resourceVersion, patched.body.metadata.resourceVersion);
      assert.deepEqual(obj.series, { count: 3, lastObservedTime });
      assert.equal(obj.message, 'registered web in the Consul catalog');
      assert.equal(obj.involvedObject.uid, webUid);
      assert.equal(obj.reportingComponent, 'k8s-consul-sync');
      assert.equal('note' in obj || 'regarding' in obj || 'reportingController' in obj, false);

      const gone = await raw(c.emu, 'DELETE', `${EVENTS_V1}/web.sync`);
      assert.equal(gone.status, 200, gone.text);
      await waitFor(() => seen.length >= 2, 'the DELETED event');
      assert.equal(seen[1]!.type, 'DELETED');
      assert.equal(seen[1]!.obj.apiVersion, 'v1');
      assert.equal(seen[1]!.obj.involvedObject.name, 'web');
      assert.equal(seen.length, 2);
    } finally {
      watch.abort();
    }
    // put web's event back for the kubectl tests
    const again = await raw(c.emu, 'POST', EVENTS_V1, {
      metadata: { name: 'web.sync' },
      eventTime,
      series: { count: 3, lastObservedTime: micro(0) },
      reportingController: 'k8s-consul-sync',
      reportingInstance: 'sync-0',
      action: 'Register',
      reason: 'Registered',
      regarding: { apiVersion: 'v1', kind: 'Service', namespace: 'ns', name: 'web', uid: webUid },
      note: 'registered web in the Consul catalog',
      type: 'Normal',
    });
    assert.equal(again.status, 201, again.text);
  });

  describe(
    'kubectl',
    { skip: hasKubectl ? false : 'kubectl is not installed (not on PATH)' },
    () => {
      const kubectl = (...args: string[]): Promise<string> =>
        new Promise((resolve, reject) => {
          execFile(
            'kubectl',
            [
              '--kubeconfig',
              join(dir, 'kubeconfig'),
              '--cache-dir',
              join(dir, 'cache'),
              '-n',
              'ns',
              ...args,
            ],
            { timeout: 20_000 },
            (err, stdout, stderr) =>
              err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
          );
        });

      it('describe service prints the Events the product recorded on it', async () => {
        const out = await kubectl('describe', 'service', 'web');
        assert.notEqual(out.indexOf('\nEvents:'), -1, out);
        const events = out.slice(out.indexOf('\nEvents:'));
        const lines = events.trim().split('\n');
        assert.deepEqual(lines[1]!.trim().split(/\s+/), [
          'Type',
          'Reason',
          'Age',
          'From',
          'Message',
        ]);
        assert.match(
          lines[3]!,
          /^\s+Normal\s+Registered\s+\d+s \(x3 over 1\d\ds\)\s+k8s-consul-sync\s+registered web in the Consul catalog$/,
        );
        assert.equal(lines.length, 4, events);
        assert.doesNotMatch(out, /DeregisterFailed/);
        const db = await kubectl('describe', 'service', 'db');
        assert.match(db, /Warning\s+DeregisterFailed\s+.*Consul refused the deregistration/);
      });

      it('kubectl events --for service/NAME lists them', async () => {
        const out = await kubectl('events', '--for', 'service/web');
        const lines = out.trim().split('\n');
        assert.deepEqual(lines[0]!.split(/\s{2,}/), [
          'LAST SEEN',
          'TYPE',
          'REASON',
          'OBJECT',
          'MESSAGE',
        ]);
        assert.equal(lines.length, 2, out);
        assert.match(
          lines[1]!,
          /^\d+s \(x3 over 1\d\ds\)\s+Normal\s+Registered\s+Service\/web\s+registered web in the Consul catalog$/,
        );
      });

      it('kubectl get events prints the core/v1 table', async () => {
        const out = await kubectl('get', 'events');
        const lines = out.trim().split('\n');
        assert.deepEqual(lines[0]!.split(/\s{2,}/), [
          'LAST SEEN',
          'TYPE',
          'REASON',
          'OBJECT',
          'MESSAGE',
        ]);
        assert.ok(
          lines.some((l) => /\bWarning\s+DeregisterFailed\s+service\/db\s+Consul refused/.test(l)),
          out,
        );
        const json = JSON.parse(await kubectl('get', 'events', 'web.sync', '-o', 'json'));
        assert.equal(json.apiVersion, 'v1');
        assert.equal(json.message, 'registered web in the Consul catalog');
      });
    },
  );
});
