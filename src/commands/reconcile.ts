// `reconcile` (apply) and `plan` (= reconcile --dry-run, a table or --output json): the same
// code path as POST /reconcile and serve --reconcile-interval. Exit 0 converged; else the exit
// code of the most severe failure (src/errors.ts ERROR_TABLE): 1 when the next run can succeed
// by itself (an upstream down or slow, a failed write), 3 when an operator must act first (RBAC,
// ACL, the delete guard, an internal error); 2 for a usage or configuration problem.
// `plan --detailed-exitcode` answers as Terraform's: 0 no changes, 2 changes present, 1 any error.
// The clients, the logger and the metrics are loaded only once the configuration is known to be
// usable, so a mistake is answered at once.
import { ConfigError, locateKubeConfig, type Config } from '../config/index.js';
import type { DirectionReport, ReconcileReport } from '../sync/reconcile.js';
import { changeObject, formatPlanTable, type Change } from '../plan/index.js';
import { ERROR_TABLE, codeOf, describeError } from '../errors.js';

const PLANNED = { create: 'to create', update: 'to update', delete: 'to delete' };
const APPLIED = { create: 'created', update: 'updated', delete: 'deleted' };

function directionLine(name: string, r: DirectionReport | undefined, dryRun: boolean): string {
  const label = `${name}:`.padEnd('to-consul:'.length);
  if (!r) return `${label} off`;
  const verb = dryRun ? PLANNED : APPLIED;
  const counts = [
    `${r.created} ${verb.create}`,
    `${r.updated} ${verb.update}`,
    `${r.deleted} ${verb.delete}`,
    `${r.unchanged} unchanged`,
    `${r.skipped} skipped`,
    ...(r.failed > 0 ? [`${r.failed} failed`] : []),
  ].join(', ');
  return `${label} ${counts}${r.error ? ` — ERROR: ${r.error}` : ''}`;
}

/**
 * The last line: `No changes.`, `Plan: 1 to create, 0 to update, 0 to delete.` or
 * `Applied: 1 created, 0 updated, 0 deleted.`, with the objects left alone and any failure.
 */
function headline(report: ReconcileReport): string {
  const failed = (
    [
      ['to-consul', report.toConsul],
      ['to-k8s', report.toK8s],
    ] as const
  )
    .filter(([, r]) => r?.error)
    .map(([name]) => name);
  const left = report.skipped.length;
  const leftAlone = left > 0 ? ` ${left} ${left === 1 ? 'object' : 'objects'} left alone.` : '';
  const verb = report.dryRun ? PLANNED : APPLIED;
  const count = (op: Change['op']): string =>
    `${report.changes.filter((c) => c.op === op).length} ${verb[op]}`;
  const counts = `${count('create')}, ${count('update')}, ${count('delete')}`;
  if (failed.length > 0) {
    const done =
      report.changes.length > 0 ? ` ${report.dryRun ? 'Planned' : 'Applied'}: ${counts}.` : '';
    return `Failed: ${failed.join(' and ')} (see ERROR above).${done}${leftAlone}`;
  }
  if (report.changes.length === 0) return `No changes.${leftAlone}`;
  if (report.dryRun) {
    return `Plan: ${counts}.${leftAlone} Nothing was written (dry run); k8s-consul-sync reconcile applies it.`;
  }
  return `Applied: ${counts}.${leftAlone}`;
}

/** Log events the table already shows: conflicts (skip rows), failures (ERROR, the last line). */
const SHOWN_IN_REPORT = new Set(['k8s-conflict', 'reconcile-failed', 'sync-id-failed']);

/**
 * For a person reading the table: each warning or error log line as one line of text on stderr,
 * `k8s-consul-sync: warning: <message>`, leaving out those the report repeats.
 */
export function humanLogLine(line: string): string {
  let entry: { level?: unknown; event?: unknown; msg?: unknown; err?: unknown };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return line;
  }
  if (typeof entry.event === 'string' && SHOWN_IN_REPORT.has(entry.event)) return '';
  const level = entry.level === 'warn' ? 'warning' : String(entry.level);
  const detail = typeof entry.err === 'string' ? `: ${entry.err}` : '';
  return `k8s-consul-sync: ${level}: ${String(entry.msg)}${detail}\n`;
}

function changeJson(c: Change): Record<string, unknown> {
  return { op: c.op, target: c.target, object: changeObject(c), reason: c.reason };
}

/**
 * The report as `plan` and `reconcile` print it. Table: every change and every object left
 * alone (`skip`) in one table, each direction's counts, the warnings, then the headline.
 */
export function renderReport(report: ReconcileReport, output: 'table' | 'json'): string {
  if (output === 'json') {
    return JSON.stringify(
      {
        dryRun: report.dryRun,
        ok: report.ok,
        ...(report.toConsul ? { toConsul: report.toConsul } : {}),
        ...(report.toK8s ? { toK8s: report.toK8s } : {}),
        changes: report.changes.map(changeJson),
        skipped: report.skipped,
        warnings: report.warnings,
      },
      null,
      2,
    );
  }
  const lines: string[] = [];
  if (report.changes.length > 0 || report.skipped.length > 0)
    lines.push(formatPlanTable(report.changes, report.skipped), '');
  lines.push(
    directionLine('to-consul', report.toConsul, report.dryRun),
    directionLine('to-k8s', report.toK8s, report.dryRun),
  );
  if (report.warnings.length > 0)
    lines.push('', 'Warnings:', ...report.warnings.map((w) => `  ${w}`));
  lines.push('', headline(report));
  return lines.join('\n');
}

/** The exit code of a finished run: ERROR_TABLE's, or Terraform's with --detailed-exitcode. */
export function exitCodeOf(
  report: ReconcileReport,
  failureCode: number,
  detailed: boolean,
): number {
  if (!detailed) return failureCode;
  if (!report.ok) return 1;
  return report.changes.length > 0 ? 2 : 0;
}

async function run(config: Config, dryRun: boolean): Promise<number> {
  const detailed = dryRun && config.reconcile.detailedExitCode;
  const fail = (code: number): number => (detailed ? 1 : code);
  try {
    // Before loading the clients: no credentials is a usage problem, answered at once.
    locateKubeConfig(config.kube);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`k8s-consul-sync: ${err.message}\n`);
    return fail(2);
  }
  const [{ createLogger }, { createMetrics }, { createRuntime }, { reconcile, reconcileExitCode }] =
    await Promise.all([
      import('../telemetry/logger.js'),
      import('../telemetry/metrics.js'),
      import('../sync/runtime.js'),
      import('../sync/reconcile.js'),
    ]);
  // Logs go to stderr so that stdout carries only the plan (pipe it, diff it): JSON lines for
  // --output json or an explicit --log-level, else warnings as text, none the table repeats.
  const human = config.reconcile.output === 'table' && config.logLevel === 'info';
  const logger = createLogger({
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    destination: human
      ? { write: (line: string) => process.stderr.write(humanLogLine(line)) }
      : process.stderr,
  });
  let runtime: ReturnType<typeof createRuntime> | undefined;
  try {
    runtime = createRuntime(config, {
      logger,
      metrics: createMetrics({ defaultMetrics: false }),
    });
    const deps = await runtime.deps();
    const report = await reconcile(deps, {
      direction: config.reconcile.direction,
      dryRun: dryRun || config.dryRun,
      force: config.reconcile.force,
      maxDeleteRatio: config.reconcile.maxDeleteRatio,
      deleteGuardMin: config.reconcile.deleteGuardMin,
      ...(config.reconcile.purge ? { purge: true } : {}),
      ...(config.reconcile.adoptConsulK8s ? { adoptConsulK8s: true } : {}),
    });
    process.stdout.write(renderReport(report, config.reconcile.output) + '\n');
    return exitCodeOf(report, reconcileExitCode(report), detailed);
  } catch (err) {
    process.stderr.write(`k8s-consul-sync: ${describeError(err)}\n`);
    // A kubeconfig that cannot be used is a configuration problem; anything else (the sync id
    // could not be resolved, a bug) is decided by the one table.
    return fail(err instanceof ConfigError ? 2 : ERROR_TABLE[codeOf(err)].exitCode);
  } finally {
    runtime?.close();
  }
}

export const reconcileCommand = (config: Config): Promise<number> => run(config, false);
export const planCommand = (config: Config): Promise<number> => run(config, true);
