import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { foldAt, LayeredView, plainView } from '../../src/events/layered-view.js';
import type { ServicesView } from '../../src/translate/types.js';

// The reference for every view: the object JSON.parse makes of the same entries in the same
// order (integer-like names first, as for any object), which is what the full path hands on.
const plainOf = (entries: [string, string[]][]): ServicesView =>
  JSON.parse(
    `{${entries.map(([n, t]) => `${JSON.stringify(n)}:${JSON.stringify(t)}`).join(',')}}`,
  ) as ServicesView;

const name = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/),
  fc.constantFrom('0', '7', '123', '4294967295', 'toString', 'constructor', 'valueOf'),
);
const tags: fc.Arbitrary<string[]> = fc.array(fc.constantFrom('k8s', 'v1', 'a"b', ''), {
  maxLength: 2,
});
/** One delivery's edit: names to remove or set (in the order the body would hold them). */
const step = fc.array(fc.tuple(name, fc.option(tags, { nil: null })), { maxLength: 6 });

/** Applies an edit to the reference entries; the new names go to the end of the body order. */
function apply(entries: [string, string[]][], edits: [string, string[] | null][]) {
  const map = new Map(entries);
  for (const [n, t] of edits) {
    if (t === null) map.delete(n);
    else map.set(n, t);
  }
  return [...map];
}

/** Every read a consumer makes of a view agrees with the plain reference. */
function assertSame(view: ServicesView, entries: [string, string[]][], probe: string[]): void {
  const plain = plainOf(entries);
  for (const n of [...probe, ...entries.map(([e]) => e)]) {
    assert.equal(Object.hasOwn(view, n), Object.hasOwn(plain, n), `hasOwn ${n}`);
    assert.equal(n in view, n in plain, `in ${n}`);
    assert.deepEqual(view[n], plain[n], `get ${n}`);
  }
  assert.deepEqual(Object.keys(view), Object.keys(plain));
  assert.equal(JSON.stringify(view), JSON.stringify(plain));
  assert.deepEqual({ ...view }, plain);
  const forIn: string[] = [];
  for (const n in view) forIn.push(n);
  assert.deepEqual(forIn, Object.keys(plain));
}

test('a chain of layered views reads as the plain objects of the same entries, and earlier views do not change', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(name, tags)),
      fc.array(step, { maxLength: 30 }),
      fc.array(fc.boolean(), { maxLength: 30 }),
      (start, steps, enumerate) => {
        let entries = [...new Map(start)];
        let layered = LayeredView.of(
          plainOf(entries),
          entries.map(([n]) => n),
        );
        const history: [ServicesView, [string, string[]][]][] = [[layered.view, entries]];
        const probe = steps.flat().map(([n]) => n);
        steps.forEach((edits, i) => {
          entries = apply(entries, edits);
          // The body order of the reference: its insertion order (JSON.parse keeps it).
          layered = layered.next(
            edits,
            entries.map(([n]) => n),
          );
          // Some views are enumerated before the next delivery, as a full plan does.
          if (enumerate[i])
            assert.deepEqual(Object.keys(layered.view), Object.keys(plainOf(entries)));
          history.push([layered.view, entries]);
        });
        for (const [view, at] of history) {
          assertSame(view, at, probe);
          // The plain object of a view: the same entries in the same order, built once.
          const plain = plainView(view);
          assert.equal(plainView(view), plain);
          assert.deepEqual(Object.keys(plain), Object.keys(plainOf(at)));
          assert.deepEqual(plain, plainOf(at));
        }
      },
    ),
  );
});

test('plainView hands back any other view as it is', () => {
  const view = plainOf([['web', ['k8s']]]);
  assert.equal(plainView(view), view);
});

test('a layered view is read-only and keeps the prototype of a plain object', () => {
  const base = plainOf([['web', ['k8s']]]);
  const view = LayeredView.of(base, ['web']).next([['api', ['v1']]], ['api', 'web']).view;
  assert.equal(Object.getPrototypeOf(view), Object.prototype);
  assert.equal(typeof view.toString, 'function');
  assert.equal(view['__proto__' as string], Object.prototype);
  assert.throws(() => {
    view.api = [];
  }, TypeError);
  assert.throws(() => {
    delete view.web;
  }, TypeError);
  assert.throws(() => Object.defineProperty(view, 'x', { value: [] }), TypeError);
  assert.deepEqual(view, { api: ['v1'], web: ['k8s'] });
});

test('changes are folded into a plain object once they outgrow foldAt, and nothing is lost', () => {
  const count = 200;
  const names = Array.from({ length: count }, (_, i) => `svc-${String(i).padStart(4, '0')}`);
  let entries: [string, string[]][] = names.map((n) => [n, []]);
  let layered = LayeredView.of(plainOf(entries), names);
  let plainViews = 0;
  // Each delivery retags one name: more deliveries than foldAt allows changes.
  for (let i = 0; i < 3 * foldAt(count); i++) {
    const n = names[i % count]!;
    entries = apply(entries, [[n, [`v${i}`]]]);
    layered = layered.next([[n, [`v${i}`]]], names);
    // A view with nothing kept apart is its plain object, not a proxy of it.
    if (!isLayered(layered.view)) plainViews++;
    assert.deepEqual(layered.view[n], [`v${i}`]);
  }
  assert.ok(plainViews >= 2, `folded ${plainViews} times`);
  assertSame(layered.view, entries, []);
});

test('foldAt: a few hundred changes at tens of thousands of names, never fewer than 64', () => {
  assert.equal(foldAt(0), 64);
  assert.equal(foldAt(100), 64);
  assert.equal(foldAt(15_000), 490);
  assert.ok(foldAt(1_000_000) <= 4_000);
});

/** Whether writing would throw (a proxied view) rather than land (the plain base). */
function isLayered(view: ServicesView): boolean {
  return !Reflect.defineProperty(view, '\u0000probe', { value: [], configurable: true })
    ? true
    : (Reflect.deleteProperty(view, '\u0000probe'), false);
}

test('a view whose body reorders names, with no entry changed, enumerates in the new order', () => {
  const base = plainOf([
    ['a', []],
    ['b', ['k8s']],
    ['c', []],
  ]);
  const layered = LayeredView.of(base, ['a', 'b', 'c']).next([], ['b', 'a', 'c']);
  assert.deepEqual(Object.keys(layered.view), ['b', 'a', 'c']);
  assert.deepEqual(Object.keys(plainView(layered.view)), ['b', 'a', 'c']);
  // The base it was read against keeps its own order.
  assert.deepEqual(Object.keys(base), ['a', 'b', 'c']);
});
