// POST /consul/services: a Consul `services` watch result → the ExternalName services we own
// converged to it. The newest view (X-Consul-Index) wins: an older delivery is acknowledged and
// skipped, a burst is coalesced. 503 when a Kubernetes write failed or the API server is down
// (the next delivery or reconcile repairs; the breaker converges the current view on its return).
import { decodeCountedServicesView } from '../src/events/services-view.js';
import { indexView, viewDelta, type IndexedView } from '../src/events/view-delta.js';
import { parseJsonBytes } from '../src/http/json-body.js';
import { assertNoFailures } from '../src/sync/to-k8s.js';
import { noteDeliveredDiff } from '../src/sync/view-tracker.js';
import type { ServicesView } from '../src/translate/types.js';
import { SyncError } from '../src/errors.js';
import { counted, indexOf, watchDelivery, type Handler, type HandlerContext } from './context.js';

/**
 * Reads the deliveries of one handler: a body (the route hands over its bytes) is read against
 * the previous one where src/events/view-delta.ts can, else parsed and validated whole; an object
 * (a body parsed by a caller) is validated. A cache of work: the first delivery, and any after a
 * body that could not be indexed, is parsed whole.
 */
function deliveryReader(): (body: unknown) => {
  view: ServicesView;
  names: number;
  read: 'delta' | 'whole';
} {
  let last: IndexedView | undefined;
  return (body) => {
    if (!Buffer.isBuffer(body)) return { ...decodeCountedServicesView(body), read: 'whole' };
    const previous = last;
    const delta = previous ? viewDelta(previous, body) : undefined;
    if (previous && delta) {
      last = delta.indexed;
      noteDeliveredDiff(delta.indexed.view, previous.view, delta);
      return { view: delta.indexed.view, names: delta.indexed.names.length, read: 'delta' };
    }
    const decoded = decodeCountedServicesView(parseJsonBytes(body));
    last = indexView(body, decoded.view);
    return { ...decoded, read: 'whole' };
  };
}

export function createConsulServicesHandler(ctx: HandlerContext): Handler {
  const readDelivery = deliveryReader();
  return counted(ctx, 'consul-watch', async (req, res, count) => {
    const start = process.hrtime.bigint();
    const { view, names, read } = readDelivery(req.body);
    const index = req.get('X-Consul-Index') ?? null;
    const done = watchDelivery(ctx, req, res, count, {
      event: 'consul-watch',
      message: 'consul services view',
      start,
      // `read`: "delta" when only what differs from the previous body was parsed.
      size: { services: names, read },
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
