import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScopeClaim } from '../../src/auth/scopes.js';

// RFC 8693 §4.2: `scope` is a space-separated list; some issuers send a JSON array.
test('scope claim: space-separated string or array; unknown and non-string entries ignored', () => {
  assert.deepEqual(parseScopeClaim('k8s:admission k8s:audit'), ['k8s:admission', 'k8s:audit']);
  assert.deepEqual(parseScopeClaim('  reconcile   consul:watch '), ['reconcile', 'consul:watch']);
  assert.deepEqual(parseScopeClaim(['consul:watch', 7, 'admin', 'consul:watch']), ['consul:watch']);
  assert.deepEqual(parseScopeClaim('k8s:admission,k8s:audit'), []);
  assert.deepEqual(parseScopeClaim('K8S:ADMISSION'), []);
  assert.deepEqual(parseScopeClaim(undefined), []);
  assert.deepEqual(parseScopeClaim({ scope: 'reconcile' }), []);
});
