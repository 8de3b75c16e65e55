// The nesting-depth guard of src/http/json-body.ts: the bracket count is an upper bound of the
// depth, so a body it clears is never deeper than allowed, and one it does not clear is walked
// byte by byte as before. Expected depths come from the JSON text itself (fast-check's JSON
// values, nested by hand), not from the code under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_JSON_DEPTH,
  jsonDepth,
  openBrackets,
  parseJsonBytes,
} from '../../src/http/json-body.js';

/** Depth of a parsed JSON value: objects and arrays count one level each. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

test('the bracket count bounds the depth from above, brackets inside strings included', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
      const buf = Buffer.from(JSON.stringify(value));
      const count = openBrackets(buf, Number.MAX_SAFE_INTEGER);
      assert.equal(jsonDepth(buf), depthOf(value));
      assert.ok(count >= depthOf(value), `${count} < ${depthOf(value)}`);
    }),
    { numRuns: 1000 },
  );
  assert.equal(openBrackets(Buffer.from('{"a":"[[[{{{"}'), 1000), 7);
  // Counting stops one past the limit.
  assert.equal(openBrackets(Buffer.from('['.repeat(50)), 10), 11);
});

test('deep bodies are refused whichever way they are found; wide and bracket-heavy strings pass', () => {
  const deep = (n: number) => Buffer.from('['.repeat(n) + ']'.repeat(n));
  assert.throws(() => parseJsonBytes(deep(MAX_JSON_DEPTH + 1)), /nested deeper/);
  assert.deepEqual(depthOf(parseJsonBytes(deep(MAX_JSON_DEPTH))), MAX_JSON_DEPTH);
  // Many brackets, little depth: the byte walk decides, and lets it through.
  const wide = Buffer.from(JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ i, t: [i] }))));
  assert.equal((parseJsonBytes(wide) as unknown[]).length, 500);
  const inStrings = Buffer.from(JSON.stringify({ s: '['.repeat(5000) }));
  assert.equal((parseJsonBytes(inStrings) as { s: string }).s.length, 5000);
  // A big body with few brackets (a Service with many addresses) parses.
  const ips = Array.from({ length: 40_000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
  const big = Buffer.from(JSON.stringify({ spec: { externalIPs: ips } }));
  assert.equal(
    (parseJsonBytes(big) as { spec: { externalIPs: string[] } }).spec.externalIPs.length,
    40_000,
  );
});
