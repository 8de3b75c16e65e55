// "Did you mean": edit distance and the nearest names for a mistyped flag or command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLAGS, editDistance, suggest } from '../../src/config/index.js';
import { didYouMean } from '../../src/config/suggest.js';

test('edit distance counts insertions, deletions and substitutions', () => {
  const cases: [string, string, number][] = [
    ['', '', 0],
    ['plan', 'plan', 0],
    ['pln', 'plan', 1],
    ['plan', 'plam', 1],
    ['listen', 'lisetn', 2],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
  ];
  for (const [a, b, d] of cases) {
    assert.equal(editDistance(a, b), d, `${a} → ${b}`);
    assert.equal(editDistance(b, a), d, `${b} → ${a}`);
  }
});

const flagNames = FLAGS.map((f) => f.name);

// word, the first suggestion expected
const nearest: [string, string][] = [
  ['k8s-tag', 'consul-k8s-tag'], // a part of the name
  ['lisen', 'listen'], // a typo
  ['to-k8', 'to-k8s'],
  ['kubecontext', 'kube-context'],
  ['kube-config', 'kubeconfig'],
  ['dryrun', 'dry-run'],
  ['out', 'output'], // the start of the name
  ['deny-k8s-namespaces', 'deny-k8s-namespace'], // infra/README.md once wrote the plural
  ['consul-addr', 'consul-http-addr'],
];

for (const [word, expected] of nearest) {
  test(`--${word} → --${expected}`, () => {
    assert.equal(suggest(word, flagNames)[0], expected);
  });
}

test('commands: typos within two edits; nothing near gives nothing', () => {
  const commands = ['serve', 'reconcile', 'plan', 'token', 'sandbox', 'emulate', 'version', 'help'];
  assert.deepEqual(suggest('pln', commands), ['plan']);
  assert.deepEqual(suggest('recocile', commands), ['reconcile']);
  assert.deepEqual(suggest('serv', commands), ['serve']);
  assert.deepEqual(suggest('frobnicate', commands), []);
  assert.deepEqual(suggest('', commands), []);
  assert.deepEqual(suggest('plan', commands), [], 'the word itself is not a suggestion');
});

test('at most three suggestions, the nearest first', () => {
  const found = suggest('k8s', flagNames);
  assert.ok(found.length > 0 && found.length <= 3, found.join(', '));
  assert.deepEqual(suggest('to-k8s-x', ['to-k8s', 'to-consul', 'to-k8s-xy']), [
    'to-k8s-xy',
    'to-k8s',
  ]);
});

test('the sentence', () => {
  assert.equal(didYouMean([]), '');
  assert.equal(didYouMean(['a'], '--'), '; did you mean --a?');
  assert.equal(didYouMean(['a', 'b', 'c'], '--'), '; did you mean --a, --b or --c?');
});
