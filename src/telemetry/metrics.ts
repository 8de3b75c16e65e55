// The one prom-client registry and every metric of docs/reference.md "Observability", declared in one place.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  events: Counter<'source' | 'outcome'>;
  eventDuration: Histogram<'source'>;
  writes: Counter<'target' | 'op' | 'outcome'>;
  skipped: Counter<'reason'>;
  authFailures: Counter<'reason'>;
  lastReconcile: Gauge;
  breakerState: Gauge<'target' | 'state'>;
  breakerRemembered: Gauge<'target'>;
  confirmations: Counter<'outcome'>;
  confirmationCorrections: Counter;
  deletesWithheld: Counter<'target' | 'reason'>;
  kubeEvents: Counter<'reason' | 'outcome'>;
  transactionServices: Histogram;
  registrationView: Counter<'outcome'>;
}

export const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;
export type BreakerState = (typeof BREAKER_STATES)[number];

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: 'k8s_consul_sync_' });
  }
  const registers = [registry];
  return {
    registry,
    events: new Counter({
      name: 'k8s_consul_sync_events_total',
      help: 'Events received, by source (admission, audit, consul-watch, reconcile) and outcome.',
      labelNames: ['source', 'outcome'],
      registers,
    }),
    eventDuration: new Histogram({
      name: 'k8s_consul_sync_event_duration_seconds',
      help: 'Time from receiving an event to answering it, by source.',
      labelNames: ['source'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    writes: new Counter({
      name: 'k8s_consul_sync_writes_total',
      help: 'Writes to a target system (consul, kubernetes), by operation and outcome.',
      labelNames: ['target', 'op', 'outcome'],
      registers,
    }),
    skipped: new Counter({
      name: 'k8s_consul_sync_skipped_total',
      help: 'Objects not synced, by reason (conflict, invalid-name, not-owned, ...).',
      labelNames: ['reason'],
      registers,
    }),
    authFailures: new Counter({
      name: 'k8s_consul_sync_auth_failures_total',
      help: 'Requests refused by authentication or authorization, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    lastReconcile: new Gauge({
      name: 'k8s_consul_sync_last_reconcile_timestamp_seconds',
      help: 'Unix time of the last completed reconcile.',
      registers,
    }),
    breakerState: new Gauge({
      name: 'k8s_consul_sync_breaker_state',
      help: 'Circuit breaker of a target (consul: admission path; kubernetes: Consul watch path): 1 for its current state (closed, open, half-open), 0 for the others.',
      labelNames: ['target', 'state'],
      registers,
    }),
    breakerRemembered: new Gauge({
      name: 'k8s_consul_sync_breaker_remembered',
      help: 'Services (consul) or views (kubernetes) that arrived while the breaker was open, converged when it closes.',
      labelNames: ['target'],
      registers,
    }),
    confirmations: new Counter({
      name: 'k8s_consul_sync_confirmations_total',
      help: 'Post-admission confirmations from stored state, by outcome (unchanged, corrected, deferred, error).',
      labelNames: ['outcome'],
      registers,
    }),
    confirmationCorrections: new Counter({
      name: 'k8s_consul_sync_confirmation_corrections_total',
      help: 'Confirmations that found Consul different from what the API server stored and corrected it.',
      registers,
    }),
    deletesWithheld: new Counter({
      name: 'k8s_consul_sync_deletes_withheld_total',
      help: 'Planned deletions not made because the read behind them was partial, by target and reason (acl-filtered).',
      labelNames: ['target', 'reason'],
      registers,
    }),
    kubeEvents: new Counter({
      name: 'k8s_consul_sync_kube_events_total',
      help: 'Kubernetes Events about synced Services (--emit-events), by reason and outcome: created, patched (a series update), folded (a repeat aggregated into a later write), dropped (queue full), error.',
      labelNames: ['reason', 'outcome'],
      registers,
    }),
    transactionServices: new Histogram({
      name: 'k8s_consul_sync_consul_transaction_services',
      help: 'Kubernetes services per Consul transaction of the event path: more than 1 when writes that became ready while one was in flight left together (group commit).',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    }),
    registrationView: new Counter({
      name: 'k8s_consul_sync_registration_view_total',
      help: "Admissions by what they planned against: hit (the registration view, no read before the write), miss (the view could not tell: read), unchanged-read (the view's plan changed nothing: read to be sure).",
      labelNames: ['outcome'],
      registers,
    }),
  };
}
