// The admission path token (src/auth/path-token.ts): RFC 4648 base32 test vectors, round trips
// over random bytes and real JWTs, every emitted segment accepted by the API server's path rule,
// and a decoder that refuses everything else without throwing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import {
  MAX_PATH_TOKEN_BYTES,
  MAX_PATH_TOKEN_CHARS,
  base32Decode,
  base32Encode,
  decodePathBytes,
  decodePathToken,
  encodePathBytes,
  encodePathToken,
  formatPathToken,
  isRawJwtSegment,
} from '../../src/auth/path-token.js';
import { isRfc1123Subdomain, webhookServicePathErrors } from '../infra/webhook-path.js';
import { ecKeyPair } from './support.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b);

// RFC 4648 §10, base32 column, lower-cased and without the `=` padding.
const RFC4648_VECTORS: [string, string][] = [
  ['', ''],
  ['f', 'my'],
  ['fo', 'mzxq'],
  ['foo', 'mzxw6'],
  ['foob', 'mzxw6yq'],
  ['fooba', 'mzxw6ytb'],
  ['foobar', 'mzxw6ytboi'],
];

test('base32: the RFC 4648 §10 test vectors, lower case, no padding', () => {
  for (const [plain, encoded] of RFC4648_VECTORS) {
    assert.equal(base32Encode(bytes(plain)), encoded, plain);
    assert.equal(text(base32Decode(encoded)), plain, encoded);
  }
});

test('base32: only the canonical lower-case unpadded form decodes', () => {
  assert.equal(base32Decode('MZXW6YTBOI'), undefined, 'upper case');
  assert.equal(base32Decode('mzxw6ytboi======'), undefined, 'padding');
  // "my" is "f"; "mz" carries a 1 in the two unused trailing bits (RFC 4648 §3.5).
  assert.equal(base32Decode('mz'), undefined, 'non-zero trailing bits');
  // ("a" is all zero bits, so only the length can refuse these.)
  for (const bad of ['m', 'mzx', 'mzxw6y', 'a', 'aaa', 'aaaaaa', 'aaaaaaaaa']) {
    // 1, 3 and 6 characters past a multiple of 8 encode no whole number of bytes.
    assert.equal(base32Decode(bad), undefined, `length ${bad.length}`);
  }
  for (const outside of ['0', '1', '8', '9', '-', '_', '+', '/']) {
    assert.equal(base32Decode(`m${outside}`), undefined, `character ${outside}`);
  }
});

/** Base32 characters per 5-byte group is 8 (RFC 4648 §6); the tail follows §6's table. */
function base32Length(n: number): number {
  return Math.ceil((n * 8) / 5);
}

test('round trip over random byte strings; every segment is one the API server accepts', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: MAX_PATH_TOKEN_BYTES }), (data) => {
      const segments = encodePathBytes(data);
      assert.deepEqual(decodePathBytes(segments), data);
      for (const segment of segments) {
        assert.ok(isRfc1123Subdomain(segment), segment);
      }
      assert.deepEqual(webhookServicePathErrors(`/k8s/admission/${segments.join('/')}`), []);
      // Only dots and slashes are added to the base32 text: nothing is lost or padded.
      assert.equal(segments.join('').replaceAll('.', '').length, base32Length(data.length));
      assert.ok(segments.join('/').length <= MAX_PATH_TOKEN_CHARS);
    }),
    { numRuns: 300 },
  );
});

test('segments are as full as the rules allow: 253 characters except the last', () => {
  const segments = encodePathBytes(new Uint8Array(1000).fill(0xa5));
  // 1000 bytes = 1600 base32 characters; 250 of them (labels 63+63+63+61) fill 253.
  assert.equal(segments.length, Math.ceil(1600 / 250));
  for (const s of segments.slice(0, -1)) {
    assert.equal(s.length, 253);
    assert.deepEqual(
      s.split('.').map((l) => l.length),
      [63, 63, 63, 61],
    );
  }
  assert.equal(segments.at(-1)!.replaceAll('.', '').length, 1600 - 250 * (segments.length - 1));
});

test('round trip over real JWTs (any claims), and a raw JWT is told apart from a path token', () => {
  const ec = ecKeyPair('P-256');
  fc.assert(
    fc.property(
      fc.record({
        sub: fc.string({ maxLength: 80 }),
        scope: fc.constantFrom('k8s:admission', 'k8s:audit', 'consul:watch reconcile'),
        extra: fc.dictionary(
          fc.string({ maxLength: 10 }),
          fc.string({ unit: 'binary', maxLength: 20 }),
        ),
      }),
      fc.constantFrom('hs', 'es'),
      (claims, kind) => {
        const token =
          kind === 'hs'
            ? jwt.sign(claims, 'a-long-enough-hmac-secret-for-the-tests-0123456789', {
                algorithm: 'HS256',
              })
            : jwt.sign(claims, ec.privateKey, { algorithm: 'ES256' });
        const segments = encodePathToken(token);
        assert.equal(decodePathToken(segments), token);
        assert.equal(formatPathToken(token), segments.join('/'));
        assert.ok(isRawJwtSegment(token), 'the JWT itself is a raw JWT segment');
        for (const s of segments) {
          assert.ok(isRfc1123Subdomain(s));
          assert.equal(isRawJwtSegment(s), false, 'a path segment is never a raw JWT');
        }
      },
    ),
    { numRuns: 150 },
  );
});

test('a path segment of exactly three labels is still a path token, not a raw JWT', () => {
  // "abc.def.ghi" has the shape of a compact JWS, but only path token characters.
  assert.equal(isRawJwtSegment('abc.def.ghi'), false);
  assert.equal(isRawJwtSegment('eyJhbGciOiJIUzI1NiJ9.e30.sig'), true);
  assert.equal(isRawJwtSegment('eyJhbGciOiJIUzI1NiJ9.e30'), false, 'two parts');
  assert.equal(isRawJwtSegment('ey J.a.b'), false);
});

test('decode refuses malformed path tokens and returns undefined, never throws', () => {
  const claims = {
    iss: 'k8s-consul-sync',
    aud: 'k8s-consul-sync',
    sub: 'kube-apiserver',
    scope: 'k8s:admission',
    exp: 2_000_000_000,
  };
  const good = encodePathToken(jwt.sign(claims, 'secret-secret-secret-secret-secret!!'));
  assert.ok(good.length >= 2, 'a typical token spans two segments');
  const first = good[0]!;
  const cases: [string, unknown[]][] = [
    ['no segments', []],
    ['an empty segment', ['']],
    ['an empty segment in between', [first, '', ...good.slice(1)]],
    ['upper case', good.map((s) => s.toUpperCase())],
    ['one upper-case character', [first.slice(0, 5) + 'A' + first.slice(6), ...good.slice(1)]],
    ['digit 1 (not base32)', [first.slice(0, 5) + '1' + first.slice(6), ...good.slice(1)]],
    ['a hyphen (RFC 1123 yes, base32 no)', [first.slice(0, 5) + '-' + first.slice(6)]],
    ['base64url characters', ['eyJhbGciOiJIUzI1NiJ9.e30.sig']],
    ['padding', [first + '======']],
    ['an empty label', [first.replace('.', '..'), ...good.slice(1)]],
    ['a leading dot', ['.' + first, ...good.slice(1)]],
    ['a trailing dot', [first + '.', ...good.slice(1)]],
    ['a label over 63 characters', ['a'.repeat(64)]],
    ['a segment over 253 characters', [Array(5).fill('a'.repeat(56)).join('.')]],
    ['a segment dropped', good.slice(1)],
    ['segments swapped', [...good].reverse()],
    ['percent-encoding left in', [first.slice(0, 5) + '%41' + first.slice(8)]],
    ['not a string', [42]],
    ['not a compact JWS', encodePathBytes(bytes('hello world'))],
    ['a JWS with a fourth part', encodePathBytes(bytes('eyJh.e30.c2ln.eHh4'))],
    ['bytes outside ASCII', encodePathBytes(new Uint8Array([0x65, 0x79, 0xff, 0x2e, 0x61, 0x2e]))],
  ];
  for (const [name, segments] of cases) {
    let result: string | undefined;
    assert.doesNotThrow(() => {
      result = decodePathToken(segments as string[]);
    }, name);
    assert.equal(result, undefined, name);
  }
});

test('oversized input is refused by its length, before decoding', () => {
  // Every segment valid, 8 KiB + 1 in total: refused by the bound alone.
  const label = 'a'.repeat(63);
  const segment = [label, label, label, 'a'.repeat(61)].join('.');
  const count = Math.ceil((MAX_PATH_TOKEN_CHARS + 1) / (segment.length + 1));
  const oversized = Array<string>(count).fill(segment);
  assert.ok(oversized.join('/').length > MAX_PATH_TOKEN_CHARS);
  assert.equal(decodePathBytes(oversized), undefined);
  // The same data one segment shorter (and within the bound) decodes.
  const within = oversized.slice(0, Math.floor(MAX_PATH_TOKEN_CHARS / (segment.length + 1)));
  assert.ok(decodePathBytes(within) instanceof Uint8Array);
  // A megabyte in one segment is refused quickly.
  const started = process.hrtime.bigint();
  assert.equal(decodePathToken(['a'.repeat(1 << 20)]), undefined);
  assert.equal(decodePathToken(Array<string>(1 << 16).fill('a')), undefined);
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 200, 'refused within 200 ms');
});

test('encode refuses what decode could not accept: empty or over the byte bound', () => {
  assert.throws(() => encodePathBytes(new Uint8Array(0)), RangeError);
  assert.throws(() => encodePathToken(''), RangeError);
  assert.throws(() => encodePathBytes(new Uint8Array(MAX_PATH_TOKEN_BYTES + 1)), RangeError);
  const largest = encodePathBytes(new Uint8Array(MAX_PATH_TOKEN_BYTES).fill(0xff));
  assert.equal(decodePathBytes(largest)?.length, MAX_PATH_TOKEN_BYTES);
});

test('any input: decode never throws, and what it accepts is canonical (re-encodes the same)', () => {
  const segmentish = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.stringMatching(/^[a-z2-7.]{0,300}$/),
    fc.stringMatching(/^[a-z2-7]{1,63}(\.[a-z2-7]{1,63}){0,3}$/),
  );
  fc.assert(
    fc.property(fc.array(segmentish, { maxLength: 6 }), (segments) => {
      const decoded = decodePathBytes(segments);
      assert.doesNotThrow(() => decodePathToken(segments));
      if (decoded !== undefined) {
        assert.equal(base32Encode(decoded), segments.join('').replaceAll('.', ''));
      }
    }),
    { numRuns: 500 },
  );
});
