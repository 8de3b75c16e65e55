// POST /reconcile?direction=to-consul|to-k8s|both&dryRun=true: one full convergence.
import { reconcile, type ReconcileOptions } from '../src/sync/reconcile.js';
import { SyncError } from '../src/errors.js';
import { formatChange, formatSkipped } from '../src/plan/index.js';
import type { Direction } from '../src/config/index.js';
import type { Handler, HandlerContext } from './context.js';

const DIRECTIONS: readonly Direction[] = ['both', 'to-consul', 'to-k8s'];

/**
 * `?dryRun` alone means true (as a flag would); `true` and `false` say so; anything else,
 * repeated parameters included, is a 400: a dry run must never be mistaken for a real one.
 */
function boolParam(value: unknown, name: string): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === '' || value === 'true') return true;
  throw new SyncError('INVALID_QUERY', `${name} must be true or false (or given alone for true)`);
}

export function createReconcileHandler(
  ctx: HandlerContext,
  defaults: { maxDeleteRatio: number; deleteGuardMin: number },
): Handler {
  return async (req, res) => {
    const q = req.query as Record<string, unknown>;
    const direction = (q.direction ?? 'both') as Direction;
    if (!DIRECTIONS.includes(direction)) {
      throw new SyncError('INVALID_QUERY', 'direction must be to-consul, to-k8s or both');
    }
    const options: ReconcileOptions = {
      direction,
      dryRun: boolParam(q.dryRun, 'dryRun'),
      force: boolParam(q.force, 'force'),
      maxDeleteRatio: defaults.maxDeleteRatio,
      deleteGuardMin: defaults.deleteGuardMin,
    };
    const deps = await ctx.deps();
    const report = await reconcile(deps, options);
    const failed = [report.toConsul, report.toK8s].filter((r) => r?.error);
    if (failed.length > 0) {
      const codes = failed.map((r) => r!.errorCode);
      const code = codes.includes('DELETE_RATIO_EXCEEDED')
        ? 'DELETE_RATIO_EXCEEDED'
        : codes.every((c) => c === codes[0]) &&
            (codes[0] === 'WRITE_FAILED' || codes[0] === 'CONSUL_READ_FILTERED')
          ? codes[0]
          : 'READ_FAILED';
      // What each direction planned and did (or did not) write goes with the error.
      throw new SyncError(code, failed.map((r) => r!.error).join('; '), {
        details: {
          ...(report.toConsul ? { toConsul: report.toConsul } : {}),
          ...(report.toK8s ? { toK8s: report.toK8s } : {}),
        },
      });
    }
    res.json({
      dryRun: report.dryRun,
      ...(report.toConsul ? { toConsul: report.toConsul } : {}),
      ...(report.toK8s ? { toK8s: report.toK8s } : {}),
      changes: report.changes.map(formatChange),
      skipped: report.skipped.map(formatSkipped),
    });
  };
}
