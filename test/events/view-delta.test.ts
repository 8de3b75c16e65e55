import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { indexView, viewDelta } from '../../src/events/view-delta.js';
import { diffEntries } from '../../src/plan/view-scope.js';
import type { ServicesView } from '../../src/translate/types.js';

type Entries = [string, string[] | null][];

/** A body as Consul's watch sends it: compact JSON, names sorted, a newline at the end. */
function body(entries: Entries, { sorted = true, newline = true } = {}): Buffer {
  const list = sorted ? [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : entries;
  const text = `{${list.map(([n, t]) => `${JSON.stringify(n)}:${JSON.stringify(t)}`).join(',')}}`;
  return Buffer.from(newline ? `${text}\n` : text);
}

/** What the full path makes of a body: JSON.parse, null tags as []. */
function parsed(bytes: Buffer): ServicesView {
  const view = JSON.parse(bytes.toString('utf8')) as Record<string, string[] | null>;
  for (const name of Object.keys(view)) view[name] ??= [];
  return view as ServicesView;
}

function indexed(bytes: Buffer) {
  const out = indexView(bytes, parsed(bytes));
  assert.ok(out, `indexable: ${bytes.toString()}`);
  return out;
}

const name = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/),
  fc.constantFrom(
    'web',
    'web-1',
    'web-10',
    'api',
    '0',
    '7',
    '123',
    'é-svc',
    'q"uote',
    'back\\slash',
    'tab\there',
    '☃',
  ),
);
const tags = fc.option(
  fc.array(fc.oneof(fc.constantFrom('k8s', 'v1', 'a"b', 'x\\y', ''), fc.string({ maxLength: 6 })), {
    maxLength: 3,
  }),
  { nil: null },
);
const entries: fc.Arbitrary<Entries> = fc.uniqueArray(fc.tuple(name, tags), {
  selector: ([n]) => n,
  maxLength: 25,
});

/** Edits of a view: remove some names, retag some, add some. */
function edit(base: Entries): fc.Arbitrary<Entries> {
  return fc
    .tuple(
      fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
      fc.array(fc.option(tags, { nil: undefined }), {
        minLength: base.length,
        maxLength: base.length,
      }),
      fc.uniqueArray(fc.tuple(name, tags), { selector: ([n]) => n, maxLength: 4 }),
    )
    .map(([keep, retag, extra]) => {
      const out: Entries = [];
      base.forEach(([n, t], i) => {
        if (!keep[i]) return;
        const newTags = retag[i];
        out.push([n, newTags === undefined ? t : newTags]);
      });
      const have = new Set(out.map(([n]) => n));
      for (const [n, t] of extra) if (!have.has(n)) out.push([n, t]);
      return out;
    });
}

test('viewDelta: the view, its order and its diff are what a full parse and diffEntries give', () => {
  let read = 0;
  let runs = 0;
  fc.assert(
    fc.property(
      entries.chain((a) => fc.tuple(fc.constant(a), edit(a), fc.boolean(), fc.boolean())),
      ([a, b, sorted, newline]) => {
        const before = body(a, { sorted, newline });
        const after = body(b, { sorted, newline });
        const previous = indexed(before);
        const delta = viewDelta(previous, after);
        runs++;
        if (!delta) return;
        read++;
        const whole = parsed(after);
        assert.deepEqual(delta.indexed.view, whole);
        assert.deepEqual(Object.keys(delta.indexed.view), Object.keys(whole));
        const expected = diffEntries(new Map(Object.entries(previous.view)), whole);
        assert.deepEqual([...delta.changed].sort(), [...expected.changed].sort());
        assert.deepEqual([...delta.added].sort(), [...expected.added].sort());
        assert.deepEqual([...delta.removed].sort(), [...expected.removed].sort());
        // The index it leaves is the one a full read of the new body builds.
        const fresh = indexed(after);
        assert.deepEqual(delta.indexed.names, fresh.names);
        assert.deepEqual(delta.indexed.keyStarts, fresh.keyStarts);
        assert.deepEqual(delta.indexed.keyEnds, fresh.keyEnds);
        assert.deepEqual(delta.indexed.valueEnds, fresh.valueEnds);
      },
    ),
    { numRuns: 2000 },
  );
  // Most of these bodies are read as deltas (the rest: an edit at the very first or last byte).
  assert.ok(read > runs * 0.8, `${read} of ${runs} read as deltas`);
});

test('viewDelta: a chain of deliveries read one against the other ends where a full parse does', () => {
  fc.assert(
    fc.property(
      entries.chain((a) =>
        fc.tuple(fc.constant(a), edit(a)).chain(([x, y]) => fc.tuple(fc.constant([x, y]), edit(y))),
      ),
      ([[a, b], c]) => {
        let current = indexed(body(a));
        for (const next of [b, c, a]) {
          const bytes = body(next);
          current = viewDelta(current, bytes)?.indexed ?? indexed(bytes);
          assert.deepEqual(current.view, parsed(bytes));
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('viewDelta: a body in another order than the one before gives the order a full parse does', () => {
  fc.assert(
    fc.property(entries, fc.array(fc.nat(), { maxLength: 25 }), (list, keys) => {
      // The same entries, unsorted and then shuffled (a producer other than Consul's watch).
      const shuffled = list
        .map((e, i) => [keys[i] ?? i, e] as const)
        .sort(([x], [y]) => x - y)
        .map(([, e]) => e);
      let current = indexed(body(list, { sorted: false }));
      for (const next of [shuffled, list, shuffled]) {
        const bytes = body(next, { sorted: false });
        current = viewDelta(current, bytes)?.indexed ?? indexed(bytes);
        assert.deepEqual(Object.keys(current.view), Object.keys(parsed(bytes)));
        assert.deepEqual(current.view, parsed(bytes));
      }
    }),
    { numRuns: 300 },
  );
});

test('viewDelta: one name added, removed or retagged among many is read without parsing the rest', () => {
  const many: Entries = Array.from({ length: 5000 }, (_, i) => [
    `svc-${String(i).padStart(5, '0')}`,
    ['k8s'],
  ]);
  const previous = indexed(body(many));
  const added = viewDelta(previous, body([...many, ['svc-02500x', ['k8s', 'v2']]]));
  assert.deepEqual(added?.added, ['svc-02500x']);
  assert.deepEqual(added?.removed, []);
  assert.deepEqual([...(added?.changed ?? [])], ['svc-02500x']);
  const removed = viewDelta(previous, body(many.filter(([n]) => n !== 'svc-04999')));
  assert.deepEqual(removed?.removed, ['svc-04999']);
  assert.equal(Object.keys(removed?.indexed.view ?? {}).length, 4999);
  const retagged = viewDelta(
    previous,
    body(many.map(([n, t]) => [n, n === 'svc-00000' ? ['k8s', 'x'] : t])),
  );
  assert.deepEqual([...(retagged?.changed ?? [])], ['svc-00000']);
  assert.deepEqual(retagged?.added, []);
  const same = viewDelta(previous, body(many));
  assert.equal(same?.changed.size, 0);
  // Untouched entries are the previous view's own arrays, not parsed again.
  assert.equal(added?.indexed.view['svc-00001'], previous.view['svc-00001']);
});

test('viewDelta: a body no full read would accept is never read as a delta', () => {
  const base: Entries = [
    ['api', ['k8s']],
    ['db', null],
    ['web', ['k8s', 'v1']],
    ['web-1', []],
  ];
  const before = body(base);
  const previous = indexed(before);
  const text = before.toString();
  fc.assert(
    fc.property(
      fc.nat({ max: text.length }),
      fc.nat({ max: 3 }),
      fc.constantFrom(
        '',
        ',',
        '"',
        '\\',
        ':',
        '[',
        ']',
        '{',
        '}',
        ' ',
        'null',
        'x',
        '\u0001',
        '"k8s"',
      ),
      (at, cut, insert) => {
        const mutated = Buffer.from(text.slice(0, at) + insert + text.slice(at + cut));
        let whole: ServicesView | undefined;
        try {
          const candidate = JSON.parse(mutated.toString()) as unknown;
          if (candidate && typeof candidate === 'object' && !Array.isArray(candidate)) {
            const ok = Object.values(candidate).every(
              (v) => v === null || (Array.isArray(v) && v.every((t) => typeof t === 'string')),
            );
            if (ok) whole = parsed(mutated);
          }
        } catch {
          // not JSON
        }
        const delta = viewDelta(previous, mutated);
        if (whole === undefined) assert.equal(delta, undefined, mutated.toString());
        else if (delta) assert.deepEqual(delta.indexed.view, whole);
      },
    ),
    { numRuns: 5000 },
  );
  // Repeated names, and `__proto__`, are left to the full read.
  assert.equal(
    viewDelta(
      previous,
      Buffer.from('{"api":["k8s"],"api":[],"db":null,"web":["k8s","v1"],"web-1":[]}'),
    ),
    undefined,
  );
  assert.equal(
    viewDelta(
      previous,
      Buffer.from('{"__proto__":[],"api":["k8s"],"db":null,"web":["k8s","v1"],"web-1":[]}'),
    ),
    undefined,
  );
  // Whitespace between tokens is valid JSON but not the compact form: read whole.
  assert.equal(
    viewDelta(previous, Buffer.from('{"api":["k8s"], "db":null,"web":["k8s","v1"],"web-1":[]}')),
    undefined,
  );
});
