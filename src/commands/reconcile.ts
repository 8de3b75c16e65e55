// `reconcile` (apply) and `plan` (= reconcile --dry-run, a table or --output json): the same
// code path as POST /reconcile and serve --reconcile-interval. Exit 0 converged; else the exit
// code of the most severe failure (src/errors.ts ERROR_TABLE): 1 when the next run can succeed
// by itself (an upstream down or slow, a failed write), 3 when an operator must act first (RBAC,
// ACL, the delete guard, an internal error).
import type { Config } from '../config/index.js';
import { createLogger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';
import { createRuntime } from '../sync/runtime.js';
import {
  reconcile,
  reconcileExitCode,
  type DirectionReport,
  type ReconcileReport,
} from '../sync/reconcile.js';
import { changeObject, formatPlanTable, formatSkipped, type Change } from '../plan/index.js';
import { ERROR_TABLE, codeOf, describeError } from '../errors.js';

function summaryLine(name: string, r: DirectionReport | undefined): string {
  if (!r) return `${name}: off`;
  const counts = `created ${r.created}, updated ${r.updated}, deleted ${r.deleted}, unchanged ${r.unchanged}, skipped ${r.skipped}`;
  return `${name}: ${counts}${r.error ? ` — ERROR: ${r.error}` : ''}`;
}

function changeJson(c: Change): Record<string, unknown> {
  return { op: c.op, target: c.target, object: changeObject(c), reason: c.reason };
}

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
  const lines = [formatPlanTable(report.changes), ''];
  if (report.skipped.length > 0)
    lines.push('left alone (not ours):', ...report.skipped.map((x) => `  ${formatSkipped(x)}`), '');
  lines.push(summaryLine('to-consul', report.toConsul), summaryLine('to-k8s', report.toK8s));
  if (report.warnings.length > 0)
    lines.push('', 'warnings:', ...report.warnings.map((w) => `  ${w}`));
  if (report.dryRun) lines.push('', 'dry run: nothing was written');
  return lines.join('\n');
}

async function run(config: Config, dryRun: boolean): Promise<number> {
  // Logs go to stderr so that stdout carries only the plan (pipe it, diff it).
  const logger = createLogger({
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    destination: process.stderr,
  });
  const runtime = createRuntime(config, {
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
  });
  try {
    const deps = await runtime.deps();
    const report = await reconcile(deps, {
      direction: config.reconcile.direction,
      dryRun: dryRun || config.dryRun,
      force: config.reconcile.force,
      maxDeleteRatio: config.reconcile.maxDeleteRatio,
      deleteGuardMin: config.reconcile.deleteGuardMin,
    });
    process.stdout.write(renderReport(report, config.reconcile.output) + '\n');
    return reconcileExitCode(report);
  } catch (err) {
    // The sync id could not be resolved (or a bug): the same table decides.
    process.stderr.write(`k8s-consul-sync: ${describeError(err)}\n`);
    return ERROR_TABLE[codeOf(err)].exitCode;
  } finally {
    runtime.close();
  }
}

export const reconcileCommand = (config: Config): Promise<number> => run(config, false);
export const planCommand = (config: Config): Promise<number> => run(config, true);
