// Grouped label lists (src/kube/list-group.ts) against a scripted lister: a lone read lists at
// once by equality; reads of a namespace made while its list is in flight go together in one
// set-based list and each gets only its own objects; namespaces do not wait for each other; a
// failed list fails just the names it carried; the names per list are bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GroupedLabelLists, selectorFor } from '../../src/kube/list-group.js';

const KEY = 'kubernetes.io/service-name';

interface Obj {
  id: string;
  label: string;
}

interface Listed {
  namespace: string;
  selector: string;
  release(items: Obj[]): void;
  fail(err: unknown): void;
}

/** A lister whose lists stay in flight until the test answers them. */
function held(): { lists: GroupedLabelLists<Obj>; calls: Listed[] } {
  const calls: Listed[] = [];
  const lists = new GroupedLabelLists<Obj>(
    KEY,
    (namespace, selector) =>
      new Promise<Obj[]>((resolve, reject) => {
        calls.push({ namespace, selector, release: resolve, fail: reject });
      }),
    (o) => o.label,
    3,
  );
  return { lists, calls };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const obj = (label: string, n = 0): Obj => ({ id: `${label}-${n}`, label });

test('the selector: equality for one name, a set for several', () => {
  assert.equal(selectorFor(KEY, ['web']), 'kubernetes.io/service-name=web');
  assert.equal(selectorFor(KEY, ['web', 'api']), 'kubernetes.io/service-name in (web,api)');
});

test('a lone read lists at once, by equality', async () => {
  const { lists, calls } = held();
  const read = lists.read('shop', 'web');
  assert.equal(calls.length, 1);
  assert.deepEqual([calls[0]!.namespace, calls[0]!.selector], ['shop', `${KEY}=web`]);
  calls[0]!.release([obj('web')]);
  assert.deepEqual(await read, [obj('web')]);
});

test('reads made while the namespace is listed go together next, each with its own objects', async () => {
  const { lists, calls } = held();
  const first = lists.read('shop', 'web');
  const api = lists.read('shop', 'api');
  const db = lists.read('shop', 'db');
  const api2 = lists.read('shop', 'api');
  const other = lists.read('blog', 'web');
  assert.deepEqual(
    calls.map((c) => [c.namespace, c.selector]),
    [
      ['shop', `${KEY}=web`],
      ['blog', `${KEY}=web`],
    ],
    'another namespace does not wait',
  );
  calls[0]!.release([obj('web')]);
  await tick();
  assert.deepEqual([calls[2]!.namespace, calls[2]!.selector], ['shop', `${KEY} in (api,db)`]);
  calls[2]!.release([obj('api', 1), obj('db'), obj('api', 2)]);
  calls[1]!.release([]);
  assert.deepEqual(await first, [obj('web')]);
  assert.deepEqual(await api, [obj('api', 1), obj('api', 2)]);
  assert.deepEqual(await api2, [obj('api', 1), obj('api', 2)]);
  assert.deepEqual(await db, [obj('db')]);
  assert.deepEqual(await other, []);
});

test('a failed list fails the names it carried, and the names waiting behind it still go', async () => {
  const { lists, calls } = held();
  const first = lists.read('shop', 'web');
  const behind = lists.read('shop', 'api');
  const err = new Error('the API server is down');
  calls[0]!.fail(err);
  await assert.rejects(first, (e) => e === err);
  await tick();
  assert.equal(calls[1]!.selector, `${KEY}=api`);
  calls[1]!.release([obj('api')]);
  assert.deepEqual(await behind, [obj('api')]);
});

test('at most maxNames names a list', async () => {
  const { lists, calls } = held();
  const reads = ['a', 'b', 'c', 'd', 'e', 'b'].map((n) => lists.read('shop', n));
  calls[0]!.release([]);
  await tick();
  assert.equal(calls[1]!.selector, `${KEY} in (b,c,d)`);
  calls[1]!.release([obj('b')]);
  await tick();
  assert.equal(calls[2]!.selector, `${KEY}=e`);
  calls[2]!.release([]);
  const answers = await Promise.all(reads);
  assert.deepEqual(answers[5], [obj('b')], 'a repeated name rides with the first');
});

test('property: every read gets exactly the objects its namespace holds under its name', async () => {
  const names = ['a', 'b', 'c', 'd'];
  const namespaces = ['x', 'y'];
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.constantFrom(...namespaces), fc.constantFrom(...names), fc.nat(2)), {
        minLength: 1,
        maxLength: 30,
      }),
      fc.array(
        fc.record({
          namespace: fc.constantFrom(...namespaces),
          label: fc.constantFrom(...names, 'other'),
        }),
        { maxLength: 20 },
      ),
      async (reads, stored) => {
        const store = stored.map((s, i) => ({ ...s, id: `o${i}` }));
        let lists = 0;
        const inFlight = new Set<string>();
        const grouped = new GroupedLabelLists<Obj & { namespace: string }>(
          KEY,
          async (namespace, selector) => {
            assert.ok(!inFlight.has(namespace), 'one list of a namespace at a time');
            inFlight.add(namespace);
            lists++;
            await new Promise((r) => setTimeout(r, selector.length % 3));
            inFlight.delete(namespace);
            const wanted = selector.includes(' in (')
              ? selector.slice(selector.indexOf('(') + 1, -1).split(',')
              : [selector.slice(selector.indexOf('=') + 1)];
            return store.filter((o) => o.namespace === namespace && wanted.includes(o.label));
          },
          (o) => o.label,
          2,
        );
        const answers: Promise<string[]>[] = [];
        for (const [namespace, name, gap] of reads) {
          answers.push(grouped.read(namespace, name).then((items) => items.map((o) => o.id)));
          for (let g = 0; g < gap; g++) await tick();
        }
        const got = await Promise.all(answers);
        reads.forEach(([namespace, name], i) => {
          const want = store
            .filter((o) => o.namespace === namespace && o.label === name)
            .map((o) => o.id);
          assert.deepEqual(got[i], want, `${namespace}/${name}`);
        });
        assert.ok(lists <= reads.length);
      },
    ),
    { numRuns: 200 },
  );
});
