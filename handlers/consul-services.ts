// POST /consul/services: a Consul `services` watch result → the ExternalName services we own
// converged to it. The newest view (X-Consul-Index) wins: an older delivery is acknowledged and
// skipped, a burst is coalesced. 503 when a Kubernetes write failed or the API server is down
// (the next delivery or reconcile repairs; the breaker converges the current view on its return).
import { decodeServicesView } from '../src/events/services-view.js';
import { assertNoFailures } from '../src/sync/to-k8s.js';
import { SyncError } from '../src/errors.js';
import { counted, elapsedSeconds, type Handler, type HandlerContext } from './context.js';

/** X-Consul-Index as a number; anything else is treated as absent (applied in arrival order). */
export function indexOf(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d{1,15}$/.test(header)) return undefined;
  return Number(header);
}

export function createConsulServicesHandler(ctx: HandlerContext): Handler {
  return counted(ctx, 'consul-watch', async (req, res, count) => {
    const start = process.hrtime.bigint();
    const view = decodeServicesView(req.body);
    const index = req.get('X-Consul-Index') ?? null;
    if (!ctx.settings.toK8s) {
      count('ignored');
      res.json({ index, ignored: true });
      return;
    }
    const done = (outcome: string, fields: Record<string, unknown> = {}): void => {
      count(outcome);
      ctx.logger.info(
        {
          event: 'consul-watch',
          source: 'consul-watch',
          index,
          outcome,
          services: Object.keys(view).length,
          ...fields,
          durationMs: elapsedSeconds(start) * 1000,
        },
        'consul services view',
      );
    };
    let delivered;
    try {
      delivered = await ctx.events.view.deliver({
        view,
        index: indexOf(req.get('X-Consul-Index')),
      });
      if (delivered.outcome === 'converged') assertNoFailures(delivered.result);
    } catch (err) {
      done('error');
      throw err;
    }
    switch (delivered.outcome) {
      case 'stale':
        done('stale', { newest: delivered.newest });
        res.json({ index, stale: true, newest: delivered.newest });
        return;
      case 'coalesced':
        done('coalesced');
        res.json({ index, coalesced: true });
        return;
      case 'deferred':
        done('deferred');
        throw new SyncError(
          'KUBE_UNAVAILABLE',
          'kubernetes breaker open: the newest view is converged when the API server answers again',
        );
      case 'converged': {
        const { result } = delivered;
        const outcome = result.emptyView
          ? 'empty'
          : result.changes.length > 0
            ? 'written'
            : 'unchanged';
        done(outcome, { ...result.summary });
        res.json({ index, ...result.summary, warnings: result.warnings });
      }
    }
  });
}
