// POST /k8s/audit: an audit EventList → every affected Service re-read from the API and
// converged, so duplicated, late or reordered batches never roll state back. 503 when a write
// failed: the API server retries the batch.
import { decodeAuditEventList } from '../src/events/audit.js';
import { SyncError, describeError } from '../src/errors.js';
import type { ServiceRef } from '../src/translate/types.js';
import { elapsedSeconds, type Handler, type HandlerContext } from './context.js';

const CONCURRENCY = 8;

export function createAuditHandler(ctx: HandlerContext): Handler {
  return async (req, res) => {
    const start = process.hrtime.bigint();
    const batch = decodeAuditEventList(req.body);
    if (!ctx.settings.toConsul) {
      ctx.metrics.events.inc({ source: 'audit', outcome: 'ignored' });
      res.json({ processed: 0, ignored: batch.processed + batch.ignored });
      return;
    }
    const failures: string[] = [];
    if (batch.services.length > 0) {
      const queue: ServiceRef[] = [...batch.services];
      const worker = async (): Promise<void> => {
        for (let ref = queue.shift(); ref; ref = queue.shift()) {
          const where = `${ref.namespace}/${ref.name}`;
          try {
            // Audit is post-commit and carries no previous version: read every name. In turn
            // with the admissions and confirmations of the same service.
            const result = await ctx.events.services.converge(ref, { exhaustive: true });
            ctx.logger.info(
              {
                event: 'audit',
                source: 'audit',
                'namespace/name': where,
                outcome: !result ? 'superseded' : result.changes.length ? 'written' : 'unchanged',
                changes: result?.changes.length ?? 0,
              },
              'audit event',
            );
          } catch (err) {
            failures.push(where);
            ctx.logger.error(
              {
                event: 'audit',
                source: 'audit',
                'namespace/name': where,
                outcome: 'error',
                err: describeError(err),
              },
              'audit event: write failed',
            );
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
    }
    const outcome = failures.length > 0 ? 'error' : batch.processed > 0 ? 'ok' : 'ignored';
    ctx.metrics.events.inc({ source: 'audit', outcome });
    ctx.metrics.eventDuration.observe({ source: 'audit' }, elapsedSeconds(start));
    if (failures.length > 0) {
      throw new SyncError(
        'WRITE_FAILED',
        `convergence failed for ${failures.length} service(s): ${failures.slice(0, 5).join(', ')}`,
      );
    }
    res.json({ processed: batch.processed, ignored: batch.ignored });
  };
}
