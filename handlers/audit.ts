// POST /k8s/audit: an audit EventList → every affected Service re-read from the API and
// converged, so duplicated, late or reordered batches never roll state back. Events for one
// object are coalesced, the sync node is read once per batch, converges run a few at a time
// under one deadline. 503 when a write failed or the deadline passed: the API server resends.
import { decodeAuditEventList } from '../src/events/audit.js';
import { SyncError, describeError } from '../src/errors.js';
import { registrationSource } from '../src/plan/index.js';
import type { RegistrationsRead } from '../src/consul/catalog.js';
import { createLimiter } from '../src/concurrency.js';
import type { Registration, ServiceRef } from '../src/translate/types.js';
import { elapsedSeconds, withDeadline, type Handler, type HandlerContext } from './context.js';

const keyOf = (ref: ServiceRef): string => `${ref.namespace}/${ref.name}`;

/**
 * The sync node's registrations grouped by the Kubernetes service they name: one read for a
 * batch instead of one scan of the node per service. Undefined when the read failed: each
 * converge then reads for itself.
 */
async function readOnce(
  ctx: HandlerContext,
): Promise<((ref: ServiceRef) => RegistrationsRead) | undefined> {
  try {
    const deps = await ctx.deps();
    const all = await deps.consul.readAll(deps.settings.writeTimeoutMs);
    const groups = new Map<string, Registration[]>();
    for (const r of all.registrations) {
      const ref = registrationSource(r);
      if (!ref) continue;
      const group = groups.get(keyOf(ref));
      if (group) group.push(r);
      else groups.set(keyOf(ref), [r]);
    }
    return (ref) => ({ registrations: groups.get(keyOf(ref)) ?? [], filtered: all.filtered });
  } catch {
    return undefined;
  }
}

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
    const pending = new Set(batch.services.map(keyOf));
    let late = false;
    if (batch.services.length > 0) {
      const prefetched = batch.services.length > 1 ? await readOnce(ctx) : undefined;
      const limit = createLimiter(ctx.settings.concurrency);
      const converge = async (ref: ServiceRef): Promise<void> => {
        if (late) return; // past the deadline: the resent batch does it
        const where = keyOf(ref);
        try {
          // Audit is post-commit and carries no previous version: every name of the service
          // counts (from the batch's read of the node, or a scan of it). In turn with the
          // admissions and confirmations of the same service.
          const result = await ctx.events.services.converge(ref, {
            exhaustive: true,
            ...(prefetched ? { current: prefetched(ref) } : {}),
          });
          pending.delete(where);
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
          pending.delete(where);
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
      };
      try {
        await withDeadline(
          Promise.all(batch.services.map((ref) => limit(() => converge(ref)))),
          ctx.settings.auditDeadlineMs,
          () => undefined, // each converge logs its own late outcome
        );
      } catch {
        late = true;
      }
    }
    const outcome = late || failures.length > 0 ? 'error' : batch.processed > 0 ? 'ok' : 'ignored';
    ctx.metrics.events.inc({ source: 'audit', outcome });
    ctx.metrics.eventDuration.observe({ source: 'audit' }, elapsedSeconds(start));
    if (late) {
      throw new SyncError(
        'WRITE_FAILED',
        `audit batch not converged within ${ctx.settings.auditDeadlineMs} ms: ${pending.size} of ${batch.services.length} service(s) left (the API server resends the batch)`,
      );
    }
    if (failures.length > 0) {
      throw new SyncError(
        'WRITE_FAILED',
        `convergence failed for ${failures.length} service(s): ${failures.slice(0, 5).join(', ')}`,
      );
    }
    res.json({ processed: batch.processed, ignored: batch.ignored });
  };
}
