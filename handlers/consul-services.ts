// POST /consul/services: a Consul `services` watch result → the ExternalName services we own
// converged to it. 503 when a Kubernetes write failed (the next delivery or reconcile repairs).
import { decodeServicesView } from '../src/events/services-view.js';
import { assertNoFailures, convergeServicesView } from '../src/sync/to-k8s.js';
import { elapsedSeconds, type Handler, type HandlerContext } from './context.js';

export function createConsulServicesHandler(ctx: HandlerContext): Handler {
  return async (req, res) => {
    const start = process.hrtime.bigint();
    const view = decodeServicesView(req.body);
    const index = req.get('X-Consul-Index') ?? null;
    if (!ctx.settings.toK8s) {
      ctx.metrics.events.inc({ source: 'consul-watch', outcome: 'ignored' });
      res.json({ index, ignored: true });
      return;
    }
    const deps = await ctx.deps();
    let result;
    try {
      result = await convergeServicesView(deps, view);
      assertNoFailures(result);
    } catch (err) {
      ctx.metrics.events.inc({ source: 'consul-watch', outcome: 'error' });
      throw err;
    }
    const outcome = result.emptyView
      ? 'empty'
      : result.changes.length > 0
        ? 'written'
        : 'unchanged';
    ctx.metrics.events.inc({ source: 'consul-watch', outcome });
    ctx.metrics.eventDuration.observe({ source: 'consul-watch' }, elapsedSeconds(start));
    ctx.logger.info(
      {
        event: 'consul-watch',
        source: 'consul-watch',
        index,
        outcome,
        services: Object.keys(view).length,
        ...result.summary,
        durationMs: elapsedSeconds(start) * 1000,
      },
      'consul services view',
    );
    res.json({ index, ...result.summary, warnings: result.warnings });
  };
}
