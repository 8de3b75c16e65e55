// A large body parsed in pieces (src/http/json-apart.ts) must be exactly what JSON.parse makes of
// the whole text, and bad JSON must be refused as it is refused whole. Expected values are
// JSON.parse's, never the code's own; a counter of pauses shows the pieces really were parsed
// apart, so the property cannot pass by always falling back to the whole parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { memberValueRanges, parseApart } from '../../src/http/json-apart.js';
import { parseJsonBytesApart } from '../../src/http/json-body.js';
import { SyncError } from '../../src/errors.js';

const APART = { parent: 'request', keys: ['object', 'oldObject'] } as const;

/** A pause that counts how often it was awaited. */
function counter(): { pause: () => Promise<void>; count: () => number } {
  let n = 0;
  return {
    pause: () => {
      n++;
      return Promise.resolve();
    },
    count: () => n,
  };
}

const space = fc.constantFrom('', ' ', '\n', '\t', ' \r\n ');
const value = fc.jsonValue({ maxDepth: 4 });
const otherKey = fc.string({ maxLength: 6 }).filter((k) => !['request', ...APART.keys].includes(k));

/** JSON text of an object from [key, text] members, with arbitrary whitespace between tokens. */
function objectText(members: [string, string][], gaps: string[]): string {
  const g = (i: number): string => gaps[i % gaps.length] ?? '';
  const parts = members.map(
    ([k, v], i) => `${g(i)}${JSON.stringify(k)}${g(i + 1)}:${g(i + 2)}${v}${g(i + 3)}`,
  );
  return `{${parts.join(',')}${members.length === 0 ? g(0) : ''}}`;
}

/** A review-shaped text: wanted members in `request` at any place, others around them. */
const review = fc
  .record({
    object: fc.option(value, { nil: undefined }),
    oldObject: fc.option(value, { nil: undefined }),
    inner: fc.array(fc.tuple(otherKey, value), { maxLength: 4 }),
    outer: fc.array(fc.tuple(otherKey, value), { maxLength: 3 }),
    at: fc.nat(10),
    outerAt: fc.nat(5),
    gaps: fc.array(space, { minLength: 1, maxLength: 7 }),
    indent: fc.constantFrom(undefined, 1, 2),
  })
  .map((r) => {
    const text = (v: unknown): string => JSON.stringify(v, null, r.indent);
    const inner: [string, string][] = r.inner.map(([k, v]) => [k, text(v)]);
    if (r.object !== undefined)
      inner.splice(r.at % (inner.length + 1), 0, ['object', text(r.object)]);
    if (r.oldObject !== undefined)
      inner.splice((r.at * 7) % (inner.length + 1), 0, ['oldObject', text(r.oldObject)]);
    const outer: [string, string][] = r.outer.map(([k, v]) => [k, text(v)]);
    outer.splice(r.outerAt % (outer.length + 1), 0, ['request', objectText(inner, r.gaps)]);
    return {
      text: `${r.gaps[0]}${objectText(outer, r.gaps)}${r.gaps[1] ?? ''}`,
      wanted: (r.object !== undefined ? 1 : 0) + (r.oldObject !== undefined ? 1 : 0),
    };
  });

test('parsed apart, any review-shaped text is what JSON.parse makes of it', async () => {
  let apart = 0;
  await fc.assert(
    fc.asyncProperty(review, async ({ text, wanted }) => {
      const buf = Buffer.from(text);
      const { pause, count } = counter();
      assert.deepStrictEqual(await parseJsonBytesApart(buf, APART, pause), JSON.parse(text));
      // Every wanted value was parsed on a turn of its own.
      assert.equal(count(), wanted);
      if (wanted > 0) apart++;
    }),
    { numRuns: 1000 },
  );
  assert.ok(apart > 500, `only ${apart} runs parsed anything apart`);
});

test('a text with one byte changed is refused exactly when JSON.parse refuses it', async () => {
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(
      review,
      fc.nat(),
      fc.constantFrom(...'"\\{}[],: x0-.eE\u00e9'.split('')),
      async ({ text }, at, byte) => {
        const chars = [...text];
        chars[at % chars.length] = byte;
        const changed = chars.join('');
        let expected: unknown;
        try {
          expected = JSON.parse(changed);
        } catch {
          expected = undefined;
        }
        const buf = Buffer.from(changed);
        if (expected === undefined || typeof expected !== 'object' || expected === null) {
          // Not JSON, or a JSON scalar (refused before parsing, as parseJsonBytes does).
          await assert.rejects(parseJsonBytesApart(buf, APART), SyncError);
          refused++;
        } else assert.deepStrictEqual(await parseJsonBytesApart(buf, APART), expected);
      },
    ),
    { numRuns: 2000 },
  );
  assert.ok(refused > 200, `only ${refused} changed texts were refused`);
});

test('escaped or repeated names are left to the whole parse', async () => {
  const cases = [
    // JSON.parse keeps the last of a repeated key: here the escaped spelling.
    '{"request":{"object":{"a":1},"obj\\u0065ct":{"b":2}}}',
    '{"request":{"obj\\u0065ct":{"b":2},"object":{"a":1}}}',
    '{"request":{"object":{"a":1},"object":{"b":2}}}',
    '{"request":{"object":1},"request":{"object":2}}',
    '{"request":{"object":1},"request":{}}',
    '{"req\\u0075est":{"object":1},"request":{"object":2}}',
    '{"request":{"object":1},"req\\u0075est":{"object":2}}',
  ];
  for (const text of cases) {
    const buf = Buffer.from(text);
    assert.equal(memberValueRanges(buf, 0, APART.parent, APART.keys), undefined, text);
    const { pause, count } = counter();
    assert.deepStrictEqual(await parseJsonBytesApart(buf, APART, pause), JSON.parse(text), text);
    assert.equal(count(), 0, text);
  }
  // Escaped keys that name nothing wanted do not stop it; the ranges are the values' bytes.
  const text =
    '{"k\\"":1,"request":{"x\\\\":"\\"object\\":","object" : [1, {"object":2}] ,"oldObject":null}}';
  const ranges = memberValueRanges(Buffer.from(text), 0, APART.parent, APART.keys)!;
  assert.deepEqual(
    ranges.map((r) => [r.key, text.slice(r.from, r.to)]),
    [
      ['object', '[1, {"object":2}]'],
      ['oldObject', 'null'],
    ],
  );
  assert.deepStrictEqual(
    await parseApart(Buffer.from(text), 0, 'request', APART.keys, () => Promise.resolve()),
    JSON.parse(text),
  );
});

test('a body of the largest legal Service is parsed in three turns', async () => {
  const ips = Array.from(
    { length: 111_729 },
    (_, i) => `11.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  );
  const svc = { metadata: { name: 'big' }, spec: { externalIPs: ips } };
  const text = JSON.stringify({
    request: { uid: 'u', object: svc, oldObject: svc, dryRun: false },
  });
  const { pause, count } = counter();
  assert.deepStrictEqual(
    await parseJsonBytesApart(Buffer.from(text), APART, pause),
    JSON.parse(text),
  );
  assert.equal(count(), 2);
});
