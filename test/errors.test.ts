// The error table (issue 17): every code a reconcile direction can end with has its own HTTP
// status, CLI exit code and retry verdict, and a run whose directions fail differently answers
// with the most severe code (non-retryable before retryable), both directions in the details.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ERROR_TABLE,
  SEVERITY,
  SyncError,
  codeOf,
  isRetryable,
  mostSevere,
  type ErrorCode,
} from '../src/errors.js';
import {
  reconcileExitCode,
  reconcileFailure,
  type DirectionReport,
  type ReconcileReport,
} from '../src/sync/reconcile.js';

/** The table as the README states it: code → status, exit code, retryable. */
const RECONCILE_CODES: Record<string, [status: number, exitCode: number, retryable: boolean]> = {
  CONSUL_UNAVAILABLE: [503, 1, true],
  KUBE_UNAVAILABLE: [503, 1, true],
  WRITE_FAILED: [503, 1, true],
  CONSUL_REJECTED: [502, 3, false],
  KUBE_REJECTED: [502, 3, false],
  CONSUL_READ_FILTERED: [502, 3, false],
  DELETE_RATIO_EXCEEDED: [409, 3, false],
  INTERNAL: [500, 3, false],
};

function direction(code?: ErrorCode, error = `failed with ${code}`): DirectionReport {
  return {
    created: 0,
    updated: 0,
    deleted: 0,
    unchanged: 0,
    skipped: 0,
    failed: 0,
    conflicts: 0,
    ...(code ? { error, errorCode: code } : {}),
  };
}

function run(toConsul?: DirectionReport, toK8s?: DirectionReport): ReconcileReport {
  return {
    ...(toConsul ? { toConsul } : {}),
    ...(toK8s ? { toK8s } : {}),
    changes: [],
    skipped: [],
    warnings: [],
    dryRun: false,
    ok: !toConsul?.error && !toK8s?.error,
  };
}

for (const [code, [status, exitCode, retryable]] of Object.entries(RECONCILE_CODES)) {
  test(`${code}: ${status}, exit ${exitCode}, ${retryable ? 'retryable' : 'needs an operator'}`, () => {
    const c = code as ErrorCode;
    assert.deepEqual(ERROR_TABLE[c], { status, exitCode, retryable });
    assert.equal(new SyncError(c, 'x').status, status);
    assert.equal(isRetryable(new SyncError(c, 'x')), retryable);
    // One direction ending with the code: the run answers with it, whichever direction it is.
    for (const report of [run(direction(c)), run(direction(), direction(c))]) {
      const failure = reconcileFailure(report);
      assert.ok(failure);
      assert.equal(failure.code, c);
      assert.equal(failure.status, status);
      assert.equal(reconcileExitCode(report), exitCode);
    }
  });
}

test('every code of the table is in SEVERITY or a request code; every ErrorCode has a row', () => {
  for (const code of SEVERITY) assert.ok(code in RECONCILE_CODES, code);
  assert.deepEqual(Object.keys(RECONCILE_CODES).sort(), [...SEVERITY].sort());
  for (const [code, row] of Object.entries(ERROR_TABLE)) {
    if (SEVERITY.includes(code as ErrorCode)) continue;
    // Request codes: the HTTP pipeline's 4xx, never the end of a run.
    assert.ok(row.status >= 400 && row.status < 500, code);
    assert.equal(row.retryable, false, code);
    assert.equal(row.exitCode, 2, code);
  }
});

test('SEVERITY puts every code that needs an operator before every retryable one', () => {
  const firstRetryable = SEVERITY.findIndex((c) => ERROR_TABLE[c].retryable);
  assert.ok(firstRetryable > 0);
  assert.ok(SEVERITY.slice(0, firstRetryable).every((c) => !ERROR_TABLE[c].retryable));
  assert.ok(SEVERITY.slice(firstRetryable).every((c) => ERROR_TABLE[c].retryable));
});

test('two directions failing differently: the most severe code, both in the details', () => {
  const cases: [ErrorCode, ErrorCode, ErrorCode][] = [
    ['CONSUL_REJECTED', 'KUBE_UNAVAILABLE', 'CONSUL_REJECTED'],
    ['KUBE_UNAVAILABLE', 'INTERNAL', 'INTERNAL'],
    ['WRITE_FAILED', 'CONSUL_READ_FILTERED', 'CONSUL_READ_FILTERED'],
    ['DELETE_RATIO_EXCEEDED', 'CONSUL_UNAVAILABLE', 'DELETE_RATIO_EXCEEDED'],
    ['KUBE_REJECTED', 'DELETE_RATIO_EXCEEDED', 'KUBE_REJECTED'],
    ['CONSUL_UNAVAILABLE', 'WRITE_FAILED', 'WRITE_FAILED'],
    ['WRITE_FAILED', 'WRITE_FAILED', 'WRITE_FAILED'],
  ];
  for (const [a, b, expected] of cases) {
    const report = run(direction(a, 'consul side'), direction(b, 'kubernetes side'));
    const failure = reconcileFailure(report)!;
    assert.equal(failure.code, expected, `${a} + ${b}`);
    assert.equal(failure.status, ERROR_TABLE[expected].status);
    assert.equal(reconcileExitCode(report), ERROR_TABLE[expected].exitCode);
    assert.equal(failure.message, 'to-consul: consul side; to-k8s: kubernetes side');
    const details = failure.details as { toConsul: DirectionReport; toK8s: DirectionReport };
    assert.equal(details.toConsul.errorCode, a);
    assert.equal(details.toK8s.errorCode, b);
    assert.equal(mostSevere([b, a]), expected);
  }
});

test('a converged run is no failure (exit 0); a direction without a code counts as INTERNAL', () => {
  assert.equal(reconcileFailure(run(direction(), direction())), undefined);
  assert.equal(reconcileExitCode(run(direction())), 0);
  const noCode = run({ ...direction(), error: 'something broke' });
  assert.equal(reconcileFailure(noCode)?.code, 'INTERNAL');
  assert.equal(codeOf(new Error('x')), 'INTERNAL');
  assert.equal(isRetryable(new TypeError('bug')), false);
});
