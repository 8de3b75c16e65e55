// Key loading: the algorithms each key type may verify (RFC 7518 §3.1–3.5), several PEM blocks
// per file, and refusals that never quote the key material.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  KeyLoadError,
  parseHmacSecret,
  parsePublicKeys,
  readPrivateKey,
  signingAlgorithm,
} from '../../src/auth/keys.js';
import { ecKeyPair, pemBodyChunks, rsaKeyPair, tempDir } from './support.js';

const rsa = rsaKeyPair();
const p256 = ecKeyPair('P-256');
const p384 = ecKeyPair('P-384');
const p521 = ecKeyPair('P-521');

test('RSA public key: RS256/384/512 and PS256/384/512, nothing else', () => {
  const [key] = parsePublicKeys(rsa.publicPem, 'rsa.pem');
  assert.deepEqual([...key!.algorithms].sort(), [
    'PS256',
    'PS384',
    'PS512',
    'RS256',
    'RS384',
    'RS512',
  ]);
});

test('EC public keys: exactly the ES algorithm of their curve', () => {
  assert.deepEqual(parsePublicKeys(p256.publicPem, 'f')[0]!.algorithms, ['ES256']);
  assert.deepEqual(parsePublicKeys(p384.publicPem, 'f')[0]!.algorithms, ['ES384']);
  assert.deepEqual(parsePublicKeys(p521.publicPem, 'f')[0]!.algorithms, ['ES512']);
});

test('HMAC secret: HS256/384/512 only; trailing line breaks are not part of the key', () => {
  const secret = 'x'.repeat(32);
  const a = parseHmacSecret(Buffer.from(`${secret}\r\n`), 'f');
  const b = parseHmacSecret(Buffer.from(secret), 'f');
  assert.deepEqual(a.algorithms, ['HS256', 'HS384', 'HS512']);
  assert.equal(a.key.type, 'secret');
  assert.ok(a.key.equals(b.key));
  assert.equal(a.key.symmetricKeySize, 32);
});

test('several PEM blocks in one file, with certificates and unrelated blocks', () => {
  const dir = tempDir();
  try {
    // A self-signed certificate made by openssl would need the CLI; an RSA PKCS#1 block and
    // an SPKI block cover the two key encodings, and an unrelated block is skipped.
    const pkcs1 = rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    assert.match(pkcs1, /BEGIN RSA PUBLIC KEY/);
    const text = `# rotation: old and new\n${pkcs1}\n-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${p256.publicPem}`;
    const keys = parsePublicKeys(text, 'bundle.pem');
    assert.equal(keys.length, 2);
    assert.equal(keys[0]!.key.asymmetricKeyType, 'rsa');
    assert.deepEqual(keys[1]!.algorithms, ['ES256']);
  } finally {
    dir.remove();
  }
});

test('refusals name the problem, never the key text', () => {
  const small = rsaKeyPair(1024);
  const ed = generateKeyPairSync('ed25519')
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
  const cases: [string, RegExp][] = [
    ['no pem here', /no PEM public key/],
    [rsa.privatePem, /private key does not belong/],
    [small.publicPem, /1024 bits; at least 2048/],
    [ed, /ed25519 keys are not supported/],
    ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', /not a valid public key/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(
      () => parsePublicKeys(text, 'keys.pem'),
      (err: Error) => {
        assert.ok(err instanceof KeyLoadError);
        assert.match(err.message, pattern);
        for (const chunk of pemBodyChunks(text))
          assert.ok(!err.message.includes(chunk), err.message);
        return true;
      },
    );
  }
  assert.throws(() => parseHmacSecret(Buffer.from('short\n'), 's'), /5 bytes; at least 32/);
  assert.throws(() => parseHmacSecret(Buffer.from(rsa.publicPem), 's'), /holds a PEM key/);
});

test('signing keys: RS256 for RSA, ES256/384/512 by curve, HS256 for the secret', () => {
  const dir = tempDir();
  try {
    assert.equal(readPrivateKey(dir.write('rsa.key', rsa.privatePem)).algorithm, 'RS256');
    const pkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    assert.equal(readPrivateKey(dir.write('rsa1.key', pkcs1)).algorithm, 'RS256');
    assert.equal(readPrivateKey(dir.write('p256.key', p256.privatePem)).algorithm, 'ES256');
    const sec1 = p384.privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    assert.equal(readPrivateKey(dir.write('p384.key', sec1)).algorithm, 'ES384');
    assert.equal(readPrivateKey(dir.write('p521.key', p521.privatePem)).algorithm, 'ES512');
    assert.equal(
      signingAlgorithm(parseHmacSecret(Buffer.from('y'.repeat(40)), 'f').key, 'f'),
      'HS256',
    );
    assert.throws(
      () => readPrivateKey(dir.write('pub.key', rsa.publicPem)),
      /not an unencrypted PEM private key/,
    );
    assert.throws(
      () => readPrivateKey(dir.file('absent.key')),
      /cannot read --private-key-file .*ENOENT/,
    );
  } finally {
    dir.remove();
  }
});
