// What a real API server can still do to a write after every validating webhook allowed it:
// refuse it (a later admission plugin such as ResourceQuota, storage) or be slow to commit it.
// Test-controlled rules, consulted by the pipeline between admission and storage.
import { denial, type Operation } from './admission.js';
import {
  conflict,
  forbidden,
  invalid,
  OPTIMISTIC_LOCK_MESSAGE,
  timeoutError,
  type FieldError,
  type FieldErrorType,
  type KubeError,
  type StatusDetails,
} from './status.js';

/** Why a request is refused; each cause answers with the Status the API server builds for it. */
export type AfterAdmissionRefusal =
  | {
      /**
       * A validating webhook the emulator does not call denied the request (403 unless
       * `status.code` says otherwise): `admission webhook "<webhook>" denied the request: ...`,
       * with `status.reason` / `status.details` passed through as the webhook sent them.
       */
      cause: 'webhook';
      webhook: string;
      status?: { code?: number; reason?: string; message?: string; details?: StatusDetails };
    }
  | {
      /**
       * The ResourceQuota admission plugin (403 Forbidden): `<resource> "<name>" is forbidden:
       * exceeded quota: <quota>, requested: ..., used: ..., limited: ...`. The maps hold the
       * exceeded resource names only, as the plugin masks them; `requested` defaults to 1 of each
       * name in `limited`.
       */
      cause: 'quota';
      quota: string;
      used: Record<string, number | string>;
      limited: Record<string, number | string>;
      requested?: Record<string, number | string>;
    }
  | {
      /** 422 Invalid (errors.NewInvalid) with one details.causes entry per field error. */
      cause: 'invalid';
      causes: { field: string; type?: FieldErrorType; value?: unknown; detail?: string }[];
    }
  | {
      /** 409 Conflict, `Operation cannot be fulfilled on ...: <message>` (default: optimistic lock). */
      cause: 'conflict';
      message?: string;
    }
  | {
      /**
       * 504 Timeout, `Timeout: request did not complete within requested timeout - context
       * deadline exceeded`. With `committed`, the write is stored anyway and only the answer is
       * the 504, as when the API server's handler outlives the request deadline.
       */
      cause: 'timeout';
      committed?: boolean;
    };

export interface AfterAdmissionRule {
  /** plural resource name: 'services', 'endpointslices', 'namespaces', ... */
  resource: string;
  /** 'status' matches only writes to that subresource, '*' any; absent: the main resource only */
  subresource?: string;
  /** absent: any namespace (cluster-scoped objects have namespace '') */
  namespace?: string;
  /** the object's name (for a create: the final name, after generateName) */
  name?: string;
  /** the admission operation: a patch is an UPDATE (or a CREATE when apply creates) */
  operation?: 'CREATE' | 'UPDATE' | 'DELETE';
  /** how many matching requests the rule applies to; absent = until cleared */
  times?: number;
  /** also match dryRun=All requests (they are skipped by default and consume no `times`) */
  dryRun?: boolean;
  /** hold the store step this long (other requests proceed meanwhile) */
  delayMs?: number;
  /** then fail the request instead of storing it */
  refuse?: AfterAdmissionRefusal;
}

export interface AfterAdmissionInjector {
  add(rule: AfterAdmissionRule): void;
  clear(): void;
}

/** The request as the rules see it. */
export interface AfterAdmissionTarget {
  group: string;
  kind: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  operation: Operation;
  dryRun: boolean;
}

const CAUSES = ['webhook', 'quota', 'invalid', 'conflict', 'timeout'];

export class AfterAdmission implements AfterAdmissionInjector {
  private rules: { rule: AfterAdmissionRule; left: number }[] = [];

  add(rule: AfterAdmissionRule): void {
    // a mistyped rule would silently never fire and let a test pass for the wrong reason
    if (!rule.resource) throw new Error('afterAdmission rule: resource is required');
    if (rule.delayMs === undefined && rule.refuse === undefined) {
      throw new Error('afterAdmission rule: set delayMs, refuse or both');
    }
    if (rule.delayMs !== undefined && !(rule.delayMs >= 0 && Number.isFinite(rule.delayMs))) {
      throw new Error(`afterAdmission rule: bad delayMs ${rule.delayMs}`);
    }
    if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times > 0)) {
      throw new Error(`afterAdmission rule: bad times ${rule.times}`);
    }
    if (rule.refuse && !CAUSES.includes(rule.refuse.cause)) {
      throw new Error(`afterAdmission rule: unknown refuse cause ${String(rule.refuse.cause)}`);
    }
    this.rules.push({ rule: { ...rule }, left: rule.times ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.rules = [];
  }

  /** The first rule matching this request (consuming one of its `times`), if any. */
  take(t: AfterAdmissionTarget): AfterAdmissionRule | undefined {
    for (const entry of this.rules) {
      const r = entry.rule;
      if (entry.left <= 0) continue;
      if (r.resource !== t.resource) continue;
      const sub = r.subresource ?? '';
      if (sub !== '*' && sub !== t.subresource) continue;
      if (r.namespace !== undefined && r.namespace !== t.namespace) continue;
      if (r.name !== undefined && r.name !== t.name) continue;
      if (r.operation !== undefined && r.operation !== t.operation) continue;
      if (t.dryRun && !r.dryRun) continue;
      entry.left--;
      return r;
    }
    return undefined;
  }
}

/** resourcequota's prettyPrint: sorted `name=quantity`, comma-separated. */
function prettyPrint(list: Record<string, number | string>): string {
  return Object.keys(list)
    .sort()
    .map((k) => `${k}=${String(list[k])}`)
    .join(',');
}

/** The error a refusal answers with, and whether the write is stored all the same. */
export function refusal(
  r: AfterAdmissionRefusal,
  t: AfterAdmissionTarget,
): { error: KubeError; committed: boolean } {
  const gr = { group: t.group, resource: t.resource };
  switch (r.cause) {
    case 'webhook':
      return { error: denial(r.webhook, r.status ?? {}), committed: false };
    case 'quota': {
      const requested =
        r.requested ?? Object.fromEntries(Object.keys(r.limited).map((k) => [k, 1]));
      // admission.NewForbidden: the resource without its subresource, the object's name
      const message = `exceeded quota: ${r.quota}, requested: ${prettyPrint(requested)}, used: ${prettyPrint(r.used)}, limited: ${prettyPrint(r.limited)}`;
      return { error: forbidden(gr, t.name, message), committed: false };
    }
    case 'invalid': {
      const errs: FieldError[] = r.causes.map((c) => ({
        type: c.type ?? 'FieldValueInvalid',
        field: c.field,
        value: c.value,
        detail: c.detail,
      }));
      return { error: invalid({ group: t.group, kind: t.kind }, t.name, errs), committed: false };
    }
    case 'conflict':
      return {
        error: conflict(gr, t.name, r.message ?? OPTIMISTIC_LOCK_MESSAGE),
        committed: false,
      };
    case 'timeout':
      return {
        error: timeoutError(
          'request did not complete within requested timeout - context deadline exceeded',
        ),
        committed: r.committed === true,
      };
  }
}
