// POST /k8s/audit: an audit EventList → every affected Service re-read from the API and
// converged, so duplicated, late or reordered batches never roll state back. Events for one
// object are coalesced, the sync node is read once per batch, converges run a few at a time
// under one deadline. 503 only when a resend can help (an upstream down or slow, the deadline
// passed): the API server's audit webhook resends any failed batch, a 4xx included
// (k8s.io/apiserver plugin/pkg/audit/webhook retryOnError), so a failure only an operator can fix
// (RBAC, ACL: KUBE_REJECTED, CONSUL_REJECTED) is answered 200 with the failures counted,
// logged and reported in the body.
import { decodeAuditEventList, type AuditIngress } from '../src/events/audit.js';
import { META_K8S_INGRESS, META_K8S_NAMESPACE } from '../src/translate/keys.js';
import { SyncError, codeOf, describeError, isRetryable, type ErrorCode } from '../src/errors.js';
import { registrationSource } from '../src/plan/index.js';
import type { RegistrationsRead } from '../src/consul/catalog.js';
import { createLimiter } from '../src/concurrency.js';
import type { Registration, ServiceRef } from '../src/translate/types.js';
import { counted, withDeadline, type Handler, type HandlerContext } from './context.js';

const keyOf = (ref: ServiceRef): string => `${ref.namespace}/${ref.name}`;

/**
 * The sync node's registrations grouped by the Kubernetes service they name: one read for a
 * batch instead of one scan of the node per service. Undefined when the read failed: each
 * converge then reads for itself.
 */
async function readOnce(
  ctx: HandlerContext,
  all?: { registrations: Registration[]; filtered: boolean },
): Promise<((ref: ServiceRef) => RegistrationsRead) | undefined> {
  try {
    if (!all) {
      const deps = await ctx.deps();
      all = await deps.consul.readAll(deps.settings.writeTimeoutMs);
    }
    const groups = new Map<string, Registration[]>();
    for (const r of all.registrations) {
      const ref = registrationSource(r);
      if (!ref) continue;
      const group = groups.get(keyOf(ref));
      if (group) group.push(r);
      else groups.set(keyOf(ref), [r]);
    }
    const filtered = all.filtered;
    return (ref) => ({ registrations: groups.get(keyOf(ref)) ?? [], filtered });
  } catch {
    return undefined;
  }
}

/** A service whose converge failed: its code says whether a resend of the batch can help. */
interface Failure {
  service: string;
  code: ErrorCode;
  retryable: boolean;
}

/** At most this many failed services are named in a 200 answer (all of them are logged). */
const REPORTED_FAILURES = 10;

interface BatchOutcome {
  failures: Failure[];
  /** The deadline passed with converges still running (they go on; the resend repeats them). */
  late: boolean;
  /** Services not converged when the answer went out. */
  pending: number;
  /** Services of the batch (with those its Ingress writes reach). */
  total: number;
}

/**
 * The Services an Ingress write may change (--enable-ingress): the ones its stored object names
 * and the ones registered in Consul from one of its rules (meta external-k8s-ingress), which it
 * may no longer name (a rule dropped, the Ingress deleted): their normal instances come back.
 */
function ingressServices(
  ingresses: readonly AuditIngress[],
  registrations: readonly Registration[],
): ServiceRef[] {
  const out: ServiceRef[] = [];
  const wanted = new Set(ingresses.map((i) => `${i.namespace}/${i.name}`));
  for (const i of ingresses) out.push(...i.services);
  for (const r of registrations) {
    const ingress = r.meta[META_K8S_INGRESS];
    if (ingress === undefined || !wanted.has(`${r.meta[META_K8S_NAMESPACE] ?? ''}/${ingress}`))
      continue;
    const ref = registrationSource(r);
    if (ref) out.push(ref);
  }
  return out;
}

/** The batch's Services with those of its Ingress writes, once each, in first-seen order. */
function dedupeRefs(refs: readonly ServiceRef[]): ServiceRef[] {
  const seen = new Map<string, ServiceRef>();
  for (const ref of refs) if (!seen.has(keyOf(ref))) seen.set(keyOf(ref), ref);
  return [...seen.values()];
}

/**
 * Converges every affected service of a batch, `concurrency` at a time, under the deadline.
 * With Ingress writes (and --enable-ingress), the sync node is read first to find the Services
 * they named before; a failed read fails the batch (the API server resends it).
 */
async function convergeBatch(
  ctx: HandlerContext,
  batchServices: ServiceRef[],
  ingresses: readonly AuditIngress[] = [],
): Promise<BatchOutcome> {
  let services = batchServices;
  let all: { registrations: Registration[]; filtered: boolean } | undefined;
  if (ingresses.length > 0 && ctx.settings.enableIngress) {
    const deps = await ctx.deps();
    all = await deps.consul.readAll(deps.settings.writeTimeoutMs);
    services = dedupeRefs([...batchServices, ...ingressServices(ingresses, all.registrations)]);
  }
  const out: BatchOutcome = {
    failures: [],
    late: false,
    pending: services.length,
    total: services.length,
  };
  if (services.length === 0) return out;
  const prefetched = services.length > 1 || all ? await readOnce(ctx, all) : undefined;
  const limit = createLimiter(ctx.settings.concurrency);
  const converge = async (ref: ServiceRef): Promise<void> => {
    if (out.late) return; // past the deadline: the resent batch does it
    const where = keyOf(ref);
    try {
      // Audit is post-commit and carries no previous version: every name of the service
      // counts (from the batch's read of the node, or a scan of it). In turn with the
      // admissions and confirmations of the same service.
      const result = await ctx.events.services.converge(ref, {
        exhaustive: true,
        ...(prefetched ? { current: prefetched(ref) } : {}),
      });
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
      const failure = { service: where, code: codeOf(err), retryable: isRetryable(err) };
      out.failures.push(failure);
      ctx.logger.error(
        {
          event: 'audit',
          source: 'audit',
          'namespace/name': where,
          outcome: 'error',
          code: failure.code,
          retryable: failure.retryable,
          err: describeError(err),
        },
        'audit event: write failed',
      );
    } finally {
      out.pending--;
    }
  };
  try {
    await withDeadline(
      Promise.all(services.map((ref) => limit(() => converge(ref)))),
      ctx.settings.auditDeadlineMs,
      () => undefined, // each converge logs its own late outcome
    );
  } catch {
    out.late = true;
  }
  return out;
}

export function createAuditHandler(ctx: HandlerContext): Handler {
  return counted(ctx, 'audit', async (req, res, count) => {
    const batch = decodeAuditEventList(req.body);
    if (!ctx.settings.toConsul) {
      count('ignored');
      res.json({ processed: 0, ignored: batch.processed + batch.ignored });
      return;
    }
    const { failures, late, pending, total } = await convergeBatch(
      ctx,
      batch.services,
      batch.ingresses,
    );
    count(late || failures.length > 0 ? 'error' : batch.processed > 0 ? 'ok' : 'ignored');
    if (late) {
      throw new SyncError(
        'WRITE_FAILED',
        `audit batch not converged within ${ctx.settings.auditDeadlineMs} ms: ${pending} of ${total} service(s) left (the API server resends the batch)`,
      );
    }
    const retryable = failures.filter((f) => f.retryable);
    if (retryable.length > 0) {
      throw new SyncError(
        'WRITE_FAILED',
        `convergence failed for ${retryable.length} service(s): ${retryable
          .slice(0, 5)
          .map((f) => `${f.service} (${f.code})`)
          .join(', ')} (the API server resends the batch)`,
      );
    }
    if (failures.length > 0) {
      // A resend would fail the same way: acknowledged, so the API server does not back off
      // and resend in vain; fixed by the operator, then by the next event or reconcile.
      ctx.logger.error(
        {
          event: 'audit-not-retried',
          source: 'audit',
          failed: failures.length,
          codes: [...new Set(failures.map((f) => f.code))],
        },
        'audit batch acknowledged with failures a resend cannot fix (RBAC, ACL): fix them; the next event or reconcile repairs',
      );
    }
    res.json({
      processed: batch.processed,
      ignored: batch.ignored,
      ...(failures.length > 0
        ? {
            failed: failures.length,
            failures: failures
              .slice(0, REPORTED_FAILURES)
              .map(({ service, code }) => ({ service, code })),
          }
        : {}),
    });
  });
}
