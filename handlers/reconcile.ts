// POST /reconcile?direction=to-consul|to-k8s|both&dryRun=true: one full convergence. A failed run
// answers with the most severe code of its directions (src/errors.ts ERROR_TABLE and SEVERITY):
// its own status, both directions' summaries in error.details.
import { reconcile, reconcileFailure, type ReconcileOptions } from '../src/sync/reconcile.js';
import { SyncError } from '../src/errors.js';
import { formatChange, formatSkipped } from '../src/plan/index.js';
import type { Direction } from '../src/config/index.js';
import { counted, type Handler, type HandlerContext } from './context.js';

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

function optionsOf(
  query: Record<string, unknown>,
  defaults: { maxDeleteRatio: number; deleteGuardMin: number },
): ReconcileOptions {
  const direction = (query.direction ?? 'both') as Direction;
  if (!DIRECTIONS.includes(direction)) {
    throw new SyncError('INVALID_QUERY', 'direction must be to-consul, to-k8s or both');
  }
  return {
    direction,
    dryRun: boolParam(query.dryRun, 'dryRun'),
    force: boolParam(query.force, 'force'),
    maxDeleteRatio: defaults.maxDeleteRatio,
    deleteGuardMin: defaults.deleteGuardMin,
  };
}

export function createReconcileHandler(
  ctx: HandlerContext,
  defaults: { maxDeleteRatio: number; deleteGuardMin: number },
): Handler {
  return counted(ctx, 'reconcile', async (req, res, count) => {
    const options = optionsOf(req.query, defaults);
    const deps = await ctx.deps();
    count.handOff(); // reconcile() counts its run, failed or not
    const report = await reconcile(deps, options);
    const failure = reconcileFailure(report);
    if (failure) throw failure;
    res.json({
      dryRun: report.dryRun,
      ...(report.toConsul ? { toConsul: report.toConsul } : {}),
      ...(report.toK8s ? { toK8s: report.toK8s } : {}),
      changes: report.changes.map(formatChange),
      skipped: report.skipped.map(formatSkipped),
    });
  });
}
