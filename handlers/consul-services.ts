// POST /consul/services: a Consul `services` watch result → the ExternalName services we own
// converged to it. The newest view (X-Consul-Index) wins: an older delivery is acknowledged and
// skipped, a burst is coalesced. 503 when a Kubernetes write failed or the API server is down
// (the next delivery or reconcile repairs; the breaker converges the current view on its return).
import { decodeCountedServicesView } from '../src/events/services-view.js';
import { assertNoFailures } from '../src/sync/to-k8s.js';
import { SyncError } from '../src/errors.js';
import { counted, indexOf, watchDelivery, type Handler, type HandlerContext } from './context.js';

export function createConsulServicesHandler(ctx: HandlerContext): Handler {
  return counted(ctx, 'consul-watch', async (req, res, count) => {
    const start = process.hrtime.bigint();
    const { view, names } = decodeCountedServicesView(req.body);
    const index = req.get('X-Consul-Index') ?? null;
    const done = watchDelivery(ctx, req, res, count, {
      event: 'consul-watch',
      message: 'consul services view',
      start,
      size: { services: names },
    });
    if (!done) return;
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
        // `planned`: the names planned when only what changed since the last delivery was;
        // `sharedNames: "kept"`: the previous delivery's shared-name answer was used unread.
        done(outcome, {
          ...result.summary,
          ...(result.planned !== undefined ? { planned: result.planned } : {}),
          ...(result.sharedNamesKept ? { sharedNames: 'kept' } : {}),
        });
        res.json({ index, ...result.summary, warnings: result.warnings });
      }
    }
  });
}
