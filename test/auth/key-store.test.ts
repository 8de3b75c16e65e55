// Key rotation without restart: stat checks at most once per interval, symlink swaps (Kubernetes
// Secret volumes) detected, a broken new file keeps the previous keys and logs an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { KeyStore } from '../../src/auth/key-store.js';
import { captureLogs, ecKeyPair, pemBodyChunks, rsaKeyPair, tempDir } from './support.js';

const one = rsaKeyPair();
const two = ecKeyPair();

test('symlink swap of the data directory is seen; broken swaps keep the old keys', () => {
  const dir = tempDir();
  try {
    // The layout the kubelet writes: key.pem -> ..data/key.pem, ..data -> ..v1
    mkdirSync(dir.file('..v1'));
    mkdirSync(dir.file('..v2'));
    mkdirSync(dir.file('..v3'));
    dir.write('..v1/key.pem', one.publicPem);
    dir.write('..v2/key.pem', two.publicPem);
    dir.write('..v3/key.pem', 'garbage');
    symlinkSync('..v1', dir.file('..data'));
    symlinkSync(join('..data', 'key.pem'), dir.file('key.pem'));
    const swap = (target: string) => {
      symlinkSync(target, dir.file('..data_tmp'));
      renameSync(dir.file('..data_tmp'), dir.file('..data'));
    };

    const { logger, lines } = captureLogs();
    let now = 0;
    const store = new KeyStore(
      { publicKeyFiles: [dir.file('key.pem')] },
      { logger, now: () => now },
    );
    const types = () => store.current().publicKeys.map((k) => k.key.asymmetricKeyType);
    assert.deepEqual(types(), ['rsa']);

    swap('..v2');
    now = 999;
    assert.deepEqual(types(), ['rsa'], 'not before the interval');
    now = 1000;
    assert.deepEqual(types(), ['ec']);

    swap('..v3');
    now = 2000;
    assert.deepEqual(types(), ['ec'], 'broken file: previous keys kept');
    const failed = lines.filter((l) => l.includes('"event":"auth-keys-reload-failed"'));
    assert.equal(failed.length, 1);
    now = 3000;
    store.current();
    assert.equal(
      lines.filter((l) => l.includes('"event":"auth-keys-reload-failed"')).length,
      1,
      'logged once per change, not once per check',
    );

    unlinkSync(dir.file('..data'));
    now = 4000;
    assert.deepEqual(types(), ['ec'], 'a vanished file keeps its keys until it is back');
    symlinkSync('..v1', dir.file('..data'));
    now = 5000;
    assert.deepEqual(types(), ['rsa']);

    const text = lines.join('\n');
    for (const chunk of [...pemBodyChunks(one.publicPem), ...pemBodyChunks(two.publicPem)]) {
      assert.ok(!text.includes(chunk), 'no key text in logs');
    }
    assert.ok(lines.some((l) => l.includes('"event":"auth-keys-reloaded"')));
  } finally {
    dir.remove();
  }
});

test('start-up: an unusable file is an error, not an empty key set', () => {
  const dir = tempDir();
  try {
    const { logger } = captureLogs();
    assert.throws(
      () => new KeyStore({ publicKeyFiles: [dir.write('bad.pem', 'nothing')] }, { logger }),
      /no PEM public key found/,
    );
  } finally {
    dir.remove();
  }
});
