// The development tools' own flags (dev/cli.ts): parsed like the product's, kept out of its Config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDevArgs } from '../../dev/cli.js';

test('--once and --kubeconfig-out: flags, SYNC_* variables, Go booleans', () => {
  assert.deepEqual(parseDevArgs(['sandbox'], {}).dev, { once: false });
  assert.deepEqual(parseDevArgs(['sandbox', '--once'], {}).dev, { once: true });
  assert.deepEqual(parseDevArgs(['sandbox', '--once=F'], {}).dev, { once: false });
  assert.deepEqual(parseDevArgs(['sandbox'], { SYNC_ONCE: 'true' }).dev, { once: true });
  assert.deepEqual(parseDevArgs(['emulate', 'kube', '--kubeconfig-out', '/tmp/kc'], {}).dev, {
    once: false,
    kubeconfigOut: '/tmp/kc',
  });
  assert.equal(parseDevArgs(['emulate', 'kube'], {}).config.args[0], 'kube');
  assert.throws(() => parseDevArgs(['sandbox', '--once=maybe'], {}), /--once/);
  assert.ok(!('sandbox' in parseDevArgs(['sandbox'], {}).config), 'not in the product Config');
});
