// POST /consul/checks: a Consul `checks` watch result (`/v1/health/state/any`, an array of
// HealthCheck objects) → the EndpointSlices of the endpoints-mode services whose checks changed
// converged (docs/reference.md "Checks watch"), in turn with the services deliveries and newest
// first (X-Consul-Index). Same scope and validation style as /consul/services; nothing is
// written for a refused body. 503 when a Kubernetes write failed or the API server is down (the
// next delivery or reconcile repairs).
import { decodeHealthChecks } from '../src/events/checks.js';
import { assertNoFailures } from '../src/sync/to-k8s.js';
import { SyncError } from '../src/errors.js';
import { counted, indexOf, watchDelivery, type Handler, type HandlerContext } from './context.js';

export function createConsulChecksHandler(ctx: HandlerContext): Handler {
  return counted(ctx, 'consul-watch', async (req, res, count) => {
    const start = process.hrtime.bigint();
    const checks = decodeHealthChecks(req.body);
    const index = req.get('X-Consul-Index') ?? null;
    const done = watchDelivery(ctx, req, res, count, {
      event: 'consul-checks',
      message: 'consul checks',
      start,
      size: { checks: checks.length },
    });
    if (!done) return;
    let delivered;
    try {
      delivered = await ctx.events.view.deliverChecks({
        checks,
        index: indexOf(req.get('X-Consul-Index')),
      });
      if (delivered.outcome === 'converged') assertNoFailures(delivered.result);
    } catch (err) {
      done('error');
      throw err;
    }
    if (delivered.outcome === 'coalesced') {
      done('coalesced');
      res.json({ index, coalesced: true });
      return;
    }
    if (delivered.outcome === 'deferred') {
      done('deferred');
      throw new SyncError(
        'KUBE_UNAVAILABLE',
        'kubernetes breaker open: the current view, slices included, is converged when the API server answers again',
      );
    }
    const { result } = delivered;
    done(result.changes.length > 0 ? 'written' : 'unchanged', {
      ...result.summary,
      changed: result.changed.length,
    });
    res.json({
      index,
      ...result.summary,
      services: result.services,
      changed: result.changed,
      warnings: result.warnings,
    });
  });
}
