// POST /k8s/admission: AdmissionReview v1 in → the affected Service converged in Consul to the
// admitted object (an Ingress: every Service it names now or named before, --enable-ingress)
// → AdmissionReview out, always allowed. The admitted object is intent, not
// what gets stored: a confirmation from stored state follows (src/sync/service-events.ts). A
// slow or failed write is logged and counted; it never blocks or fails the API server's request.
import {
  admissionResponse,
  decodeAdmissionReview,
  type AdmissionEvent,
} from '../src/events/admission.js';
import { convergeService } from '../src/sync/to-consul.js';
import type { AdmissionInput } from '../src/sync/service-events.js';
import { describeError } from '../src/errors.js';
import { createLimiter } from '../src/concurrency.js';
import { LARGE_BODY_BYTES, yieldTurn } from '../src/http/json-turns.js';
import {
  counted,
  elapsedSeconds,
  withDeadline,
  type Handler,
  type HandlerContext,
} from './context.js';

type Reviewed = Extract<AdmissionEvent, { kind: 'service' | 'endpointslice' }>;
type IngressReviewed = Extract<AdmissionEvent, { kind: 'ingress' }>;
type Invalid = Extract<AdmissionEvent, { kind: 'invalid' }>;

/** At most this many problems are named in the warnings (the API server shows a few). */
const SHOWN_PROBLEMS = 3;

/** Why an invalid object was not synced, as warnings the user sees in kubectl. */
function invalidWarnings(event: Invalid): string[] {
  const named = event.problems.filter((p) => p.field !== '(more)');
  const lines = named
    .slice(0, SHOWN_PROBLEMS)
    .map((p) => `k8s-consul-sync: not synced: ${p.field}: ${p.message}`);
  const rest = event.problems.length - lines.length;
  if (rest > 0) lines.push(`k8s-consul-sync: not synced: and ${rest} more problem(s)`);
  return lines;
}

interface Answer {
  warnings: string[];
  outcome: 'written' | 'unchanged' | 'superseded' | 'deferred' | 'dry-run';
  changes?: number;
}

function inputOf(event: Reviewed): AdmissionInput {
  return event.kind === 'service'
    ? { ref: event.ref, service: event.object, previous: event.oldObject }
    : { ref: event.ref, slice: { name: event.sliceName, object: event.object } };
}

async function respond(ctx: HandlerContext, event: Reviewed): Promise<Answer> {
  const events = ctx.events.services;
  const admitted = event.kind === 'service' ? event.object : undefined;
  if (event.dryRun) {
    // Dry run: the plan for the warnings, no write, no confirmation; never wait on a sick Consul.
    if (!events.breaker.closed)
      return { warnings: await events.warningsOf(admitted), outcome: 'dry-run' };
    const input = inputOf(event);
    const result = await convergeService(await ctx.deps(), {
      ref: input.ref,
      ...(input.service !== undefined ? { service: input.service, previous: input.previous } : {}),
      ...(input.slice ? { slices: [input.slice] } : {}),
      dryRun: true,
    });
    return { warnings: result.warnings, outcome: 'dry-run', changes: result.changes.length };
  }
  const admission = await events.admit(inputOf(event));
  if (admission.outcome !== 'converged') {
    return { warnings: await events.warningsOf(admitted), outcome: admission.outcome };
  }
  const { result } = admission;
  return {
    warnings: result.warnings,
    outcome: result.changes.length > 0 ? 'written' : 'unchanged',
    changes: result.changes.length,
  };
}

/** Outcomes of several converges (an Ingress's Services), most telling first. */
const OUTCOME_RANK: readonly Answer['outcome'][] = [
  'written',
  'deferred',
  'superseded',
  'dry-run',
  'unchanged',
];

/**
 * An Ingress review: each Service it names now or named before converged to the admitted
 * Ingress (null on DELETE: the Service's normal instances come back at once), a few at a time.
 */
async function respondIngress(ctx: HandlerContext, event: IngressReviewed): Promise<Answer> {
  const ingress = { name: event.ref.name, object: event.object };
  const limit = createLimiter(ctx.settings.concurrency);
  const answers = await Promise.all(
    event.services.map((ref) =>
      limit(async (): Promise<Answer> => {
        const events = ctx.events.services;
        if (event.dryRun) {
          if (!events.breaker.closed) return { warnings: [], outcome: 'dry-run' };
          const result = await convergeService(await ctx.deps(), {
            ref,
            ingresses: [ingress],
            dryRun: true,
          });
          const warnings = result.warnings.map((w) => `${ref.name}: ${w}`);
          return { warnings, outcome: 'dry-run', changes: result.changes.length };
        }
        const admission = await events.admit({ ref, ingress });
        if (admission.outcome !== 'converged') return { warnings: [], outcome: admission.outcome };
        const { result } = admission;
        return {
          warnings: result.warnings.map((w) => `${ref.name}: ${w}`),
          outcome: result.changes.length > 0 ? 'written' : 'unchanged',
          changes: result.changes.length,
        };
      }),
    ),
  );
  const outcome =
    OUTCOME_RANK.find((o) => answers.some((a) => a.outcome === o)) ??
    (event.dryRun ? 'dry-run' : 'unchanged');
  return {
    warnings: [...new Set(answers.flatMap((a) => a.warnings))],
    outcome,
    changes: answers.reduce((n, a) => n + (a.changes ?? 0), 0),
  };
}

export function createAdmissionHandler(ctx: HandlerContext): Handler {
  return counted(ctx, 'admission', async (req, res, count) => {
    const start = process.hrtime.bigint();
    const large = Number(req.headers['content-length']) > LARGE_BODY_BYTES;
    if (large) await yieldTurn();
    const event = decodeAdmissionReview(req.body);
    if (large) await yieldTurn();
    let warnings: string[] = [];
    let outcome: string;
    if (
      event.kind === 'ignored' ||
      !ctx.settings.toConsul ||
      (!ctx.settings.enableIngress &&
        (event.kind === 'ingress' || (event.kind === 'invalid' && event.what === 'Ingress')))
    ) {
      outcome = 'ignored';
    } else if (event.kind === 'invalid') {
      // Defence in depth: a real API server never sends this (it validates before webhooks).
      outcome = 'invalid';
      warnings = invalidWarnings(event);
      ctx.metrics.skipped.inc({ reason: 'invalid-object' });
      ctx.logger.warn(
        {
          event: 'admission',
          source: 'admission',
          'namespace/name': `${event.ref.namespace}/${event.ref.name}`,
          kind: event.what,
          outcome,
          problems: event.problems.slice(0, SHOWN_PROBLEMS),
          durationMs: elapsedSeconds(start) * 1000,
        },
        `admission event: invalid ${event.what}, not synced (no API server would store it)`,
      );
    } else {
      const where = `${event.ref.namespace}/${event.ref.name}`;
      try {
        const answer = await withDeadline(
          event.kind === 'ingress' ? respondIngress(ctx, event) : respond(ctx, event),
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
        warnings = answer.warnings;
        outcome = answer.outcome;
        ctx.logger.info(
          {
            event: 'admission',
            source: 'admission',
            'namespace/name': where,
            operation: event.operation,
            kind: event.kind,
            ...(event.kind === 'ingress'
              ? { services: event.services.map((r) => r.name).slice(0, 20) }
              : {}),
            outcome,
            changes: answer.changes ?? 0,
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
          'admission event: write failed (answered allowed; the confirmation or reconcile repairs it)',
        );
      }
    }
    count(outcome);
    res.json(admissionResponse(event.uid, warnings));
  });
}
