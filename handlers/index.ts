// Every handler, built from one Runtime; mounted by `serve` and the sandbox, or alone (standalone.ts).
import type { RouteName } from '../src/http/app.js';
import type { Runtime } from '../src/sync/runtime.js';
import { createAdmissionHandler } from './admission.js';
import { createAuditHandler } from './audit.js';
import { createConsulServicesHandler } from './consul-services.js';
import { createConsulChecksHandler } from './consul-checks.js';
import { createReconcileHandler } from './reconcile.js';
import type { Handler, HandlerContext } from './context.js';

export type { Handler, HandlerContext } from './context.js';

export function handlerContext(runtime: Runtime): HandlerContext {
  return {
    deps: () => runtime.deps(),
    events: runtime.events,
    logger: runtime.logger,
    metrics: runtime.metrics,
    settings: {
      toConsul: runtime.config.toConsul,
      toK8s: runtime.config.toK8s,
      writeTimeoutMs: runtime.config.server.writeTimeoutMs,
      auditDeadlineMs: runtime.config.server.auditDeadlineMs,
      concurrency: runtime.config.server.concurrency,
      enableIngress: runtime.config.enableIngress,
    },
  };
}

export function createHandlers(runtime: Runtime): Record<RouteName, Handler> {
  const ctx = handlerContext(runtime);
  return {
    admission: createAdmissionHandler(ctx),
    audit: createAuditHandler(ctx),
    consulServices: createConsulServicesHandler(ctx),
    consulChecks: createConsulChecksHandler(ctx),
    reconcile: createReconcileHandler(ctx, {
      maxDeleteRatio: runtime.config.reconcile.maxDeleteRatio,
      deleteGuardMin: runtime.config.reconcile.deleteGuardMin,
    }),
  };
}
