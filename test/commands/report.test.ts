// What plan and reconcile print (issue 19): one table with the changes and the objects left
// alone, each direction's counts, the warnings, and a last line that says what happened, the
// same words in both commands; and the exit codes, Terraform's with --detailed-exitcode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exitCodeOf, humanLogLine, renderReport } from '../../src/commands/reconcile.js';
import type { DirectionReport, ReconcileReport } from '../../src/sync/reconcile.js';
import type { Change } from '../../src/plan/index.js';

const direction = (over: Partial<DirectionReport> = {}): DirectionReport => ({
  created: 0,
  updated: 0,
  deleted: 0,
  unchanged: 0,
  skipped: 0,
  failed: 0,
  conflicts: 0,
  ...over,
});

const created: Change = {
  target: 'kubernetes',
  op: 'create',
  namespace: 'default',
  name: 'ledger',
  reason: 'consul service ledger added',
};
const deleted: Change = {
  target: 'kubernetes',
  op: 'delete',
  namespace: 'default',
  name: 'old',
  reason: 'consul service old removed',
};
const conflict = {
  target: 'kubernetes' as const,
  object: 'default/billing-db',
  reason: 'service default/billing-db exists without label consul=true',
};

const report = (over: Partial<ReconcileReport>): ReconcileReport => ({
  changes: [],
  skipped: [],
  warnings: [],
  dryRun: true,
  ok: true,
  toConsul: direction({ unchanged: 3 }),
  toK8s: direction(),
  ...over,
});

test('a plan: changes and skips in one table, counts per direction, the plan line last', () => {
  const text = renderReport(
    report({
      changes: [deleted, created],
      skipped: [conflict],
      warnings: ['shop/web: port 8080 not found'],
      toK8s: direction({ created: 1, deleted: 1, skipped: 1, conflicts: 1 }),
    }),
    'table',
  );
  assert.equal(
    text,
    [
      'OP       TARGET       OBJECT               REASON',
      'create   kubernetes   default/ledger       consul service ledger added',
      'delete   kubernetes   default/old          consul service old removed',
      'skip     kubernetes   default/billing-db   service default/billing-db exists without label consul=true',
      '',
      'to-consul: 0 to create, 0 to update, 0 to delete, 3 unchanged, 0 skipped',
      'to-k8s:    1 to create, 0 to update, 1 to delete, 0 unchanged, 1 skipped',
      '',
      'Warnings:',
      '  shop/web: port 8080 not found',
      '',
      'Plan: 1 to create, 0 to update, 1 to delete. 1 object left alone. Nothing was written (dry run); k8s-consul-sync reconcile applies it.',
    ].join('\n'),
  );
});

test('reconcile says what it applied; both say "No changes." when there is nothing to do', () => {
  const applied = renderReport(
    report({ dryRun: false, changes: [created], toK8s: direction({ created: 1 }) }),
    'table',
  );
  assert.match(applied, /^to-k8s: {4}1 created, 0 updated, 0 deleted, 0 unchanged, 0 skipped$/m);
  assert.match(applied, /\n\nApplied: 1 created, 0 updated, 0 deleted\.$/);
  for (const dryRun of [true, false]) {
    const none = renderReport(report({ dryRun }), 'table');
    assert.ok(none.endsWith('\n\nNo changes.'), none);
    assert.doesNotMatch(none, /OP\s+TARGET/, 'no empty table');
  }
  const off = renderReport(report({ toK8s: undefined }), 'table');
  assert.match(off, /^to-k8s: {4}off$/m);
});

test('a failed direction: ERROR on its line and a last line that says so', () => {
  const text = renderReport(
    report({
      ok: false,
      dryRun: false,
      changes: [created],
      toConsul: direction({
        error: 'consul read failed: no leader',
        errorCode: 'CONSUL_UNAVAILABLE',
      }),
      toK8s: direction({ created: 1 }),
    }),
    'table',
  );
  assert.match(text, /^to-consul: 0 created, .* — ERROR: consul read failed: no leader$/m);
  assert.match(
    text,
    /\n\nFailed: to-consul \(see ERROR above\)\. Applied: 1 created, 0 updated, 0 deleted\.$/,
  );
});

test('--output json keeps its fields', () => {
  const parsed = JSON.parse(
    renderReport(report({ changes: [created], skipped: [conflict] }), 'json'),
  ) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), [
    'dryRun',
    'ok',
    'toConsul',
    'toK8s',
    'changes',
    'skipped',
    'warnings',
  ]);
  assert.deepEqual(parsed.changes, [
    {
      op: 'create',
      target: 'kubernetes',
      object: 'default/ledger',
      reason: 'consul service ledger added',
    },
  ]);
});

test('exit codes: the error table, or Terraform’s with --detailed-exitcode', () => {
  const pending = report({ changes: [created] });
  const clean = report({});
  const failed = report({ ok: false, changes: [created] });
  assert.equal(exitCodeOf(pending, 0, false), 0);
  assert.equal(exitCodeOf(failed, 3, false), 3);
  assert.equal(exitCodeOf(clean, 0, true), 0);
  assert.equal(exitCodeOf(pending, 0, true), 2);
  assert.equal(exitCodeOf(report({ skipped: [conflict] }), 0, true), 0, 'a skip is not a change');
  assert.equal(exitCodeOf(failed, 3, true), 1);
});

test('log lines for a person: warnings as text, none the table already shows', () => {
  const line = (o: Record<string, unknown>): string => JSON.stringify(o) + '\n';
  assert.equal(
    humanLogLine(
      line({
        level: 'warn',
        event: 'empty-services-view',
        msg: 'empty Consul services view: deleting nothing',
      }),
    ),
    'k8s-consul-sync: warning: empty Consul services view: deleting nothing\n',
  );
  assert.equal(
    humanLogLine(
      line({
        level: 'warn',
        event: 'shared-names-read-failed',
        err: 'timeout',
        msg: 'could not tell',
      }),
    ),
    'k8s-consul-sync: warning: could not tell: timeout\n',
  );
  for (const event of ['k8s-conflict', 'reconcile-failed', 'sync-id-failed'])
    assert.equal(humanLogLine(line({ level: 'warn', event, msg: 'x' })), '', event);
  assert.equal(humanLogLine('not json\n'), 'not json\n');
});
