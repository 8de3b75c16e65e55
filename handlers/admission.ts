// POST /k8s/admission: AdmissionReview v1 in → converge the affected Service in Consul →
// AdmissionReview out, always allowed. A slow or failed write is logged and counted; it never
// blocks or fails the API server's request (the reconcile repairs it).
import {
  admissionResponse,
  decodeAdmissionReview,
  type AdmissionEvent,
} from '../src/events/admission.js';
import { convergeService, type ServiceConvergeResult } from '../src/sync/to-consul.js';
import { describeError } from '../src/errors.js';
import { elapsedSeconds, withDeadline, type Handler, type HandlerContext } from './context.js';

function converge(
  ctx: HandlerContext,
  event: Exclude<AdmissionEvent, { kind: 'ignored' }>,
): Promise<ServiceConvergeResult> {
  return ctx.deps().then((deps) =>
    event.kind === 'service'
      ? convergeService(deps, {
          ref: event.ref,
          service: event.object,
          previous: event.oldObject,
          dryRun: event.dryRun,
        })
      : convergeService(deps, {
          ref: event.ref,
          slice: { name: event.sliceName, object: event.object },
          dryRun: event.dryRun,
        }),
  );
}

export function createAdmissionHandler(ctx: HandlerContext): Handler {
  return async (req, res) => {
    const start = process.hrtime.bigint();
    const event = decodeAdmissionReview(req.body);
    let warnings: string[] = [];
    let outcome: string;
    if (event.kind === 'ignored' || !ctx.settings.toConsul) {
      outcome = 'ignored';
    } else {
      const where = `${event.ref.namespace}/${event.ref.name}`;
      try {
        const result = await withDeadline(
          converge(ctx, event),
          ctx.settings.writeTimeoutMs,
          (late) => {
            ctx.logger[late.ok ? 'info' : 'error'](
              {
                event: 'late-write',
                source: 'admission',
                'namespace/name': where,
                outcome: late.ok ? 'ok' : 'error',
                err: late.err ? describeError(late.err) : undefined,
              },
              'admission write finished after the answer',
            );
          },
        );
        warnings = result.warnings;
        outcome = event.dryRun ? 'dry-run' : result.changes.length > 0 ? 'written' : 'unchanged';
        ctx.logger.info(
          {
            event: 'admission',
            source: 'admission',
            'namespace/name': where,
            operation: event.operation,
            kind: event.kind,
            outcome,
            changes: result.changes.length,
            durationMs: elapsedSeconds(start) * 1000,
          },
          'admission event',
        );
      } catch (err) {
        outcome = 'error';
        ctx.logger.error(
          {
            event: 'admission',
            source: 'admission',
            'namespace/name': where,
            outcome,
            err: describeError(err),
            durationMs: elapsedSeconds(start) * 1000,
          },
          'admission event: write failed (answered allowed; reconcile will repair)',
        );
      }
    }
    ctx.metrics.events.inc({ source: 'admission', outcome });
    ctx.metrics.eventDuration.observe({ source: 'admission' }, elapsedSeconds(start));
    res.json(admissionResponse(event.uid, warnings));
  };
}
