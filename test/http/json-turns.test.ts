// A large body parsed in turns (src/http/json-turns.ts) must be exactly what JSON.parse makes of
// the whole text, key order and repeated keys included, and bad JSON must be refused as it is
// refused whole. Expected values are JSON.parse's, never the code's own. Tiny turn sizes make
// every container of a generated text be rebuilt in parts; a counter of pauses shows the parts
// really were parsed apart, so the properties cannot pass by falling back to the whole parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseInTurns } from '../../src/http/json-turns.js';
import { parseJsonBytesInTurns } from '../../src/http/json-body.js';
import { SyncError } from '../../src/errors.js';

/** Options that count pauses; every container longer than `turnBytes` is rebuilt in parts. */
function counted(turnBytes: number): {
  options: { turnBytes: number; scanTurnBytes: number; pause: () => Promise<void> };
  pauses: () => number;
} {
  let n = 0;
  return {
    options: {
      turnBytes,
      scanTurnBytes: 7,
      pause: () => {
        n++;
        return Promise.resolve();
      },
    },
    pauses: () => n,
  };
}

const gap = fc.constantFrom('', '', ' ', '\n', '\t', ' \r\n ');

/**
 * JSON text of a value with arbitrary whitespace between tokens, and sometimes a repeated key (a
 * member written twice: JSON.parse keeps the last value at the first place) or a key spelled
 * with escapes.
 */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ text: string }>((tie) => ({
  text: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 0 }).map((v) => JSON.stringify(v)),
    fc
      .tuple(fc.array(fc.tuple(gap, tie('text'), gap), { maxLength: 6 }), gap)
      .map(([items, g]) =>
        items.length === 0 ? `[${g}]` : `[${items.map(([a, t, b]) => a + t + b).join(',')}]`,
      ),
    fc
      .tuple(
        fc.array(
          fc.tuple(
            fc.constantFrom('a', 'b', '__proto__', '1', 'object', 'x y'),
            fc.boolean(),
            gap,
            tie('text'),
            gap,
          ),
          { maxLength: 6 },
        ),
        gap,
      )
      .map(([members, g]) =>
        members.length === 0
          ? `{${g}}`
          : `{${members
              .map(
                ([k, escaped, a, t, b]) =>
                  `${a}${escaped ? JSON.stringify(k).replace(/[a-z]/, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) : JSON.stringify(k)}${b}:${a}${t}${b}`,
              )
              .join(',')}}`,
      ),
  ),
})).text;

/** A text whose top level is an object or an array (what a body may be). */
const bodyText = fc
  .tuple(jsonText, gap)
  .map(([t, g]) => (t.startsWith('{') || t.startsWith('[') ? t + g : `[${t}]${g}`));

const same = (actual: unknown, text: string): void => {
  const expected: unknown = JSON.parse(text);
  assert.deepStrictEqual(actual, expected);
  // Key order too: JSON.stringify walks own keys in order.
  assert.equal(JSON.stringify(actual), JSON.stringify(expected));
};

test('parsed in turns, any JSON text is what JSON.parse makes of it', async () => {
  let apart = 0;
  await fc.assert(
    fc.asyncProperty(bodyText, fc.integer({ min: 1, max: 40 }), async (text, turnBytes) => {
      const buf = Buffer.from(text);
      const start = text.search(/[[{]/);
      const { options, pauses } = counted(turnBytes);
      let whole = false;
      same(await parseInTurns(buf, start, { ...options, onWhole: () => (whole = true) }), text);
      // Valid JSON longer than a turn is always rebuilt from its parts, never parsed whole.
      assert.equal(whole, text.trim().length - 1 <= turnBytes);
      if (pauses() > 2) apart++;
    }),
    { numRuns: 2000 },
  );
  assert.ok(apart > 800, `only ${apart} runs parsed in parts`);
});

test('a text with one byte changed is refused exactly when JSON.parse refuses it', async () => {
  let refused = 0;
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(
      bodyText.filter((t) => t.length > 2),
      fc.nat(),
      fc.constantFrom(...'"\\{}[],: x0-.eE\u00e9\u0001'.split('')),
      fc.integer({ min: 1, max: 40 }),
      async (text, at, char, turnBytes) => {
        const chars = [...text];
        chars[at % chars.length] = char;
        const changed = chars.join('');
        let expected: unknown;
        try {
          expected = JSON.parse(changed);
        } catch {
          expected = undefined;
        }
        const { options } = counted(turnBytes);
        const buf = Buffer.from(changed);
        if (expected === undefined || typeof expected !== 'object' || expected === null) {
          // Not JSON, or a JSON scalar (refused before parsing, as parseJsonBytes does).
          await assert.rejects(parseJsonBytesInTurns(buf, options), SyncError);
          refused++;
        } else {
          same(await parseJsonBytesInTurns(buf, options), changed);
          accepted++;
        }
      },
    ),
    { numRuns: 3000 },
  );
  assert.ok(refused > 500 && accepted > 300, `refused ${refused}, accepted ${accepted}`);
});

test('cases the parts could get wrong on their own', async () => {
  const cases: [string, 'same' | 'refused'][] = [
    // An empty member next to a rebuilt one: `[ ]` and `{}` parse, the whole does not.
    ['[[1,2,3,4,5,6,7,8],]', 'refused'],
    ['[ ,[1,2,3,4,5,6,7,8]]', 'refused'],
    ['{"a":[1,2,3,4,5,6,7,8],}', 'refused'],
    ['{"a":[1,2,3,4,5,6,7,8] "b":1}', 'refused'],
    ['{"a" "b":[1,2,3,4,5,6,7,8]}', 'refused'],
    ['{1:[1,2,3,4,5,6,7,8]}', 'refused'],
    // A value with no key.
    ['{[1,2,3,4,5,6,7,8]}', 'refused'],
    ['{"a":1,[1,2,3,4,5,6,7,8]}', 'refused'],
    ['{"a":1 [1,2,3,4,5,6,7,8]}', 'refused'],
    ['[[1,2,3,4,5,6,7,8] 1]', 'refused'],
    ['[[1,2,3,4,5,6,7,8]] x', 'refused'],
    ['[[1,2,3,4,5,6,7,8}]', 'refused'],
    // Repeated and escaped keys, __proto__, integer-like keys (ordered first).
    ['{"a":[1,2,3,4,5,6,7,8],"b":2,"\\u0061":[9,9,9,9,9,9,9,9,9]}', 'same'],
    ['{"__proto__":[1,2,3,4,5,6,7,8],"__proto__":{"x":[1,2,3,4,5,6,7]}}', 'same'],
    ['{"b":1,"2":[1,2,3,4,5,6,7,8],"a":2,"1":[3,4,5,6,7,8,9,0]}', 'same'],
  ];
  for (const [text, outcome] of cases) {
    const { options } = counted(4);
    if (outcome === 'refused')
      await assert.rejects(parseJsonBytesInTurns(Buffer.from(text), options), SyncError, text);
    else same(await parseJsonBytesInTurns(Buffer.from(text), options), text);
  }
  const proto = (await parseJsonBytesInTurns(
    Buffer.from('{"__proto__":[1,2,3,4,5,6,7,8,9,10]}'),
    counted(4).options,
  )) as object;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.ok(Object.hasOwn(proto, '__proto__'));
});

test('a body of the largest legal Service is parsed in parts of about a turn each', async () => {
  const ips = Array.from(
    { length: 111_729 },
    (_, i) => `11.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  );
  const svc = { metadata: { name: 'big' }, spec: { externalIPs: ips } };
  const text = JSON.stringify({ request: { uid: 'u', object: svc, oldObject: svc } });
  const { options, pauses } = counted(128 * 1024);
  options.scanTurnBytes = 1024 * 1024;
  same(await parseJsonBytesInTurns(Buffer.from(text), options), text);
  // 3 MiB: three pauses in the scan, and one per 128 KiB parsed (about 24).
  assert.ok(pauses() >= 20 && pauses() <= 30, `${pauses()} pauses`);
});
