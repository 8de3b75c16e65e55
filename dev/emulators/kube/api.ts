// The API server's request pipeline, independent of HTTP: decode → default → allocate →
// validate → validating admission → after-admission rules → store (compare-and-swap), plus
// list/pagination, deletion with finalizers, namespace termination, ownerReference garbage
// collection and audit events. The HTTP layer and the built-in controllers both go through
// `handle`, so controller writes are admitted, refused or delayed and audited like any client's.
import { parse as parseYaml } from 'yaml';
import type { AdmissionDispatcher, Operation } from './admission.js';
import { AfterAdmission, refusal } from './after-admission.js';
import {
  evaluatePolicy,
  stripManagedFields,
  type AuditBackend,
  type PolicyDecision,
} from './audit.js';
import { jsonMergePatch, jsonPatch, strategicMerge } from './patch.js';
import { apiVersionOf, type ResourceDef } from './resource-def.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  expired,
  fieldErr,
  forbidden,
  internalError,
  invalid,
  KubeError,
  methodNotSupported,
  notFound,
  OPTIMISTIC_LOCK_MESSAGE,
  successStatus,
  timeoutError,
  unsupportedMediaType,
  type FieldError,
  type GroupResource,
} from './status.js';
import { keyFor, lowerBound, matchesFilter, type Store, type WatchFilter } from './store.js';
import {
  clone,
  deepEqual,
  isObject,
  nowMicro,
  nowRfc3339,
  orderKeys,
  orderMeta,
  randomSuffix,
  sleep,
  str,
  stringMap,
  uuid,
  type JsonObject,
  type KubeObject,
  type UserInfo,
} from './util.js';

export type Verb =
  'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface ApiRequest {
  verb: Verb;
  def: ResourceDef;
  namespace: string;
  name: string;
  subresource: string;
  query: URLSearchParams;
  body?: unknown;
  contentType?: string;
  requestURI: string;
  user: UserInfo;
  userAgent: string;
  sourceIP: string;
  /**
   * Set by `handle`, shared by a deletecollection's items: a failure to answer with although the
   * write was stored (a timeout the handler outlived).
   */
  late?: { error?: KubeError };
}

export interface ApiResponse {
  status: number;
  body: unknown;
  warnings: string[];
  auditID?: string;
}

export const ADMIN_USER: UserInfo = {
  username: 'kubernetes-admin',
  groups: ['system:masters', 'system:authenticated'],
};

const UNDELETABLE_NAMESPACES = ['default', 'kube-system', 'kube-public'];
const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

function decodeContinue(token: string): ContinueToken {
  const invalidToken = (why: string): KubeError =>
    badRequest(`invalid continue token: continue key is not valid: ${why}`);
  if (!/^[A-Za-z0-9_-]+$/.test(token)) {
    const idx = token.search(/[^A-Za-z0-9_-]/);
    throw invalidToken(`illegal base64 data at input byte ${idx}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (e) {
    throw invalidToken((e as Error).message);
  }
  if (!isObject(parsed) || parsed.v !== 'meta.k8s.io/v1') {
    throw invalidToken('server does not recognize this encoded key version');
  }
  if (typeof parsed.rv !== 'number' || parsed.rv <= 0) {
    throw badRequest(
      'invalid continue token: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
    );
  }
  if (typeof parsed.start !== 'string' || !parsed.start) {
    throw badRequest('invalid continue token: encoded start key empty (version meta.k8s.io/v1)');
  }
  return { v: parsed.v, rv: parsed.rv, start: parsed.start };
}

function gr(def: ResourceDef): GroupResource {
  return { group: def.group, resource: def.resource };
}

function gk(def: ResourceDef): { group: string; kind: string } {
  return { group: def.group, kind: def.kind };
}

/** The stored form: kind, apiVersion, metadata, then the kind's fields in Go struct order. */
export function canonical(def: ResourceDef, obj: KubeObject): KubeObject {
  const rest: JsonObject = { ...obj };
  delete rest.kind;
  delete rest.apiVersion;
  delete rest.metadata;
  const out = {
    kind: def.kind,
    apiVersion: apiVersionOf(def),
    metadata: orderMeta(obj.metadata),
    ...orderKeys(rest, def.fieldOrder),
  };
  return out;
}

/** A rough FieldsV1 set: which fields the manager set (maps nested, lists atomic). */
function fieldsOf(value: unknown, top = true): JsonObject {
  const out: JsonObject = {};
  if (!isObject(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    if (top && (k === 'kind' || k === 'apiVersion')) continue;
    if (k === 'metadata' && top) {
      const m = isObject(v) ? v : {};
      const meta: JsonObject = {};
      for (const mk of ['labels', 'annotations', 'ownerReferences', 'finalizers']) {
        if (m[mk] !== undefined)
          meta[`f:${mk}`] = isObject(m[mk]) ? { '.': {}, ...fieldsOf(m[mk], false) } : {};
      }
      if (Object.keys(meta).length) out['f:metadata'] = meta;
      continue;
    }
    out[`f:${k}`] = isObject(v) ? { ...(top ? {} : { '.': {} }), ...fieldsOf(v, false) } : {};
  }
  return out;
}

/** The part of the object a write through the main resource or a subresource manages. */
function managedPart(source: unknown, subresource: string | undefined): unknown {
  if (!isObject(source)) return source;
  if (subresource === 'status') return { status: source.status };
  const out = { ...source };
  delete out.status;
  return out;
}

function managerName(req: ApiRequest): string {
  const fm = req.query.get('fieldManager');
  if (fm) return fm;
  const ua = req.userAgent || 'unknown';
  return ua.split('/')[0] ?? ua;
}

function withManagedFields(
  req: ApiRequest,
  obj: KubeObject,
  operation: 'Update' | 'Apply',
  source: unknown,
): void {
  const manager = managerName(req);
  const entries = Array.isArray(obj.metadata.managedFields)
    ? obj.metadata.managedFields.filter(isObject)
    : [];
  const sub = req.subresource || undefined;
  const entry: JsonObject = {
    manager,
    operation,
    apiVersion: apiVersionOf(req.def),
    time: nowRfc3339(),
    fieldsType: 'FieldsV1',
    fieldsV1: fieldsOf(managedPart(source, sub)),
  };
  if (sub) entry.subresource = sub;
  const idx = entries.findIndex(
    (e) => e.manager === manager && e.operation === operation && e.subresource === sub,
  );
  if (idx >= 0) entries[idx] = entry;
  else entries.push(entry);
  obj.metadata.managedFields = entries;
}

function withoutVolatile(obj: KubeObject): unknown {
  const meta = { ...obj.metadata };
  delete meta.resourceVersion;
  delete meta.managedFields;
  return { ...obj, metadata: meta };
}

/**
 * The stored object changed (or went away) while the request was in admission: storage's
 * compare-and-swap failed, and the request goes round again on the current object, as
 * GuaranteedUpdate and conditionalDelete do.
 */
class StaleObject extends Error {}

/** The real retry loop is unbounded and ends at the request deadline; ours ends the same way. */
const MAX_STORAGE_RETRIES = 100;

export interface ApiHooks {
  /** called after every stored change (controllers subscribe here) */
  onChange?: (resource: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject) => void;
}

/** A stored object as the resource's version serves it (ResourceDef.fromStorage). */
export function asServed(def: ResourceDef, obj: KubeObject): KubeObject {
  return def.fromStorage ? def.fromStorage(obj) : obj;
}

export class KubeApi {
  /** the resources with storage of their own, by resource name */
  readonly defs = new Map<string, ResourceDef>();
  /** every resource served, including those served from another's storage */
  readonly served: readonly ResourceDef[];
  gcEnabled = false;
  hooks: ApiHooks = {};
  /** set on close: background work (namespace termination, garbage collection) stops */
  stopped = false;
  /** test-controlled refusals and slow commits between validating admission and storage */
  readonly afterAdmission = new AfterAdmission();
  /** requests that already consulted the after-admission rules (a storage retry does not again) */
  private readonly gated = new WeakSet<ApiRequest>();

  constructor(
    readonly store: Store,
    defs: ResourceDef[],
    private readonly admission: AdmissionDispatcher,
    private readonly audit: AuditBackend | undefined,
    private readonly log: (line: string) => void,
  ) {
    this.served = defs;
    for (const d of defs) if (!d.fromStorage) this.defs.set(d.resource, d);
  }

  def(resource: string): ResourceDef {
    const d = this.defs.get(resource);
    if (!d) throw new Error(`unknown resource ${resource}`);
    return d;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.resource(resource).get(keyFor(namespace, name));
  }

  // ---- the pipeline --------------------------------------------------------------------------

  async handle(req: ApiRequest): Promise<ApiResponse> {
    const auditID = uuid();
    const received = nowMicro();
    const decision = this.auditDecision(req);
    if (decision && !decision.omitStages.includes('RequestReceived')) {
      this.audit?.enqueue(this.auditEvent(req, decision, auditID, 'RequestReceived', received));
    }
    let res: ApiResponse;
    const warnings: string[] = [];
    const late: { error?: KubeError } = {};
    try {
      res = await this.dispatch({ ...req, late }, warnings);
      if (late.error && res.status < 300) {
        res = { status: late.error.code, body: late.error.status, warnings };
      }
    } catch (e) {
      if (e instanceof KubeError) res = { status: e.code, body: e.status, warnings };
      else {
        this.log(`internal error: ${(e as Error).stack ?? str(e)}`);
        const err = internalError((e as Error).message);
        res = { status: 500, body: err.status, warnings };
      }
    }
    // the warning recorder keeps one of each text (a storage retry admits the request again)
    res.warnings = [...new Set(res.warnings)];
    if (decision && !decision.omitStages.includes('ResponseComplete')) {
      this.audit?.enqueue(
        this.auditEvent(req, decision, auditID, 'ResponseComplete', received, res),
      );
    }
    res.auditID = auditID;
    return res;
  }

  private async dispatch(req: ApiRequest, warnings: string[]): Promise<ApiResponse> {
    const def = req.def;
    if (req.subresource && !def.subresources.includes(req.subresource)) {
      throw notFound(gr(def), req.name);
    }
    // pods/binding only creates (BindingREST has no other verb)
    if (req.subresource === 'binding' && req.verb !== 'create') {
      throw methodNotSupported({ group: '', resource: 'pods/binding' }, req.verb);
    }
    // a resource served from another's storage only reads (and its discovery says so)
    if (def.fromStorage && !def.verbs.includes(req.verb))
      throw methodNotSupported(gr(def), req.verb);
    const dryRun = this.dryRun(req);
    switch (req.verb) {
      case 'get': {
        const obj = this.get(def.resource, req.namespace || undefined, req.name);
        if (!obj) throw notFound(gr(def), req.name);
        return { status: 200, body: asServed(def, obj), warnings };
      }
      case 'list':
        return { status: 200, body: this.list(req), warnings };
      case 'create':
        if (req.subresource === 'binding') return this.bind(req, dryRun, warnings);
        if (req.subresource) throw methodNotSupported(gr(def), 'create');
        return this.create(req, this.decodeBody(req), dryRun, warnings);
      case 'update':
        return this.retryStale(() => this.update(req, this.decodeBody(req), dryRun, warnings));
      case 'patch':
        return this.retryStale(() => this.patch(req, dryRun, warnings));
      case 'delete':
        return this.retryStale(() => this.delete(req, dryRun, warnings));
      case 'deletecollection':
        return this.deleteCollection(req, dryRun, warnings);
      default:
        throw badRequest(`unsupported verb ${req.verb}`);
    }
  }

  /** Run a write again on the current object while storage finds what it read has changed. */
  private async retryStale(attempt: () => Promise<ApiResponse>): Promise<ApiResponse> {
    for (let i = 0; ; i++) {
      try {
        return await attempt();
      } catch (e) {
        if (!(e instanceof StaleObject)) throw e;
        if (i >= MAX_STORAGE_RETRIES) {
          throw timeoutError(
            'request did not complete within requested timeout - context deadline exceeded',
          );
        }
      }
    }
  }

  /**
   * Between validating admission and storage: the first after-admission rule matching the
   * request may hold the commit (delayMs) and then refuse it. Consulted once per request.
   */
  private async afterAdmit(
    req: ApiRequest,
    operation: Operation,
    name: string,
    dryRun: boolean,
  ): Promise<void> {
    if (this.gated.has(req)) return;
    this.gated.add(req);
    const def = req.def;
    const target = {
      group: def.group,
      kind: def.kind,
      resource: def.resource,
      subresource: req.subresource,
      namespace: def.namespaced ? req.namespace : '',
      name,
      operation,
      dryRun,
    };
    const rule = this.afterAdmission.take(target);
    if (!rule) return;
    if (rule.delayMs) await sleep(rule.delayMs);
    if (!rule.refuse) return;
    const { error, committed } = refusal(rule.refuse, target);
    if (committed && req.late) {
      req.late.error = error;
      return;
    }
    throw error;
  }

  private dryRun(req: ApiRequest): boolean {
    const values = req.query.getAll('dryRun');
    for (const v of values) {
      if (v !== 'All') throw badRequest(`Invalid dry run value: ${v}`);
    }
    return values.length > 0;
  }

  private decodeBody(req: ApiRequest): KubeObject {
    const body = req.body;
    if (!isObject(body)) {
      throw badRequest(
        `the object provided is unrecognized (must be of type ${req.def.kind}): couldn't get version/kind; json parse error: unexpected end of JSON input`,
      );
    }
    const kind = body.kind;
    const apiVersion = body.apiVersion;
    if (kind !== undefined && kind !== req.def.kind) {
      throw badRequest(
        `the object provided is unrecognized (must be of type ${req.def.kind}): ${str(kind)} in version "${str(apiVersion ?? '')}" cannot be handled as a ${req.def.kind}`,
      );
    }
    if (apiVersion !== undefined && apiVersion !== apiVersionOf(req.def)) {
      throw badRequest(
        `the API version in the data (${str(apiVersion)}) does not match the expected API version (${apiVersionOf(req.def)})`,
      );
    }
    const obj = clone(body) as KubeObject;
    if (!isObject(obj.metadata)) obj.metadata = {};
    return obj;
  }

  private checkNamespace(
    def: ResourceDef,
    namespace: string,
    creating: boolean,
  ): Record<string, string> {
    if (!def.namespaced) return {};
    const ns = this.get('namespaces', undefined, namespace);
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (creating && ns.metadata.deletionTimestamp) {
      throw forbidden(
        gr(def),
        '',
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
    return ns.metadata.labels ?? {};
  }

  private async admit(
    req: ApiRequest,
    operation: Operation,
    obj: KubeObject | null,
    old: KubeObject | null,
    dryRun: boolean,
    warnings: string[],
    nsLabels: Record<string, string>,
  ): Promise<void> {
    // the API server never sends webhook configurations to webhooks (no lock-out)
    if (req.def.group === 'admissionregistration.k8s.io') return;
    const optionsKind =
      operation === 'CREATE'
        ? 'CreateOptions'
        : operation === 'UPDATE'
          ? 'UpdateOptions'
          : 'DeleteOptions';
    let options: JsonObject = { kind: optionsKind, apiVersion: 'meta.k8s.io/v1' };
    if (operation === 'DELETE') {
      if (isObject(req.body))
        options = { ...req.body, kind: optionsKind, apiVersion: 'meta.k8s.io/v1' };
    } else {
      const fm = req.query.get('fieldManager');
      if (fm) options.fieldManager = fm;
    }
    if (dryRun) options.dryRun = ['All'];
    const outcome = await this.admission.validate({
      group: req.def.group,
      version: req.def.version,
      resource: req.def.resource,
      subresource: req.subresource,
      kind: req.def.kind,
      namespaced: req.def.namespaced,
      namespace: req.def.namespaced ? req.namespace : '',
      name: (obj ?? old)?.metadata.name ?? req.name,
      operation,
      object: obj,
      oldObject: old,
      dryRun,
      options,
      user: req.user,
      namespaceLabels: nsLabels,
    });
    warnings.push(...outcome.warnings);
  }

  // ---- create --------------------------------------------------------------------------------

  private async create(
    req: ApiRequest,
    input: KubeObject,
    dryRun: boolean,
    warnings: string[],
    operation: 'Update' | 'Apply' = 'Update',
  ): Promise<ApiResponse> {
    const def = req.def;
    const rs = this.store.resource(def.resource);
    const meta = input.metadata;
    if (def.namespaced) {
      if (meta.namespace && meta.namespace !== req.namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = req.namespace;
    } else {
      delete meta.namespace;
    }
    if (meta.resourceVersion) {
      throw internalError('resourceVersion should not be set on objects to be created');
    }
    def.defaults(input);
    const nsLabels = this.checkNamespace(def, req.namespace, true);
    const obj = input;
    obj.metadata.uid = uuid();
    obj.metadata.creationTimestamp = nowRfc3339();
    delete obj.metadata.deletionTimestamp;
    delete obj.metadata.deletionGracePeriodSeconds;
    if (!obj.metadata.name && obj.metadata.generateName) {
      let name = '';
      for (let i = 0; i < 8; i++) {
        name = obj.metadata.generateName + randomSuffix();
        if (!rs.get(keyFor(obj.metadata.namespace, name))) break;
      }
      obj.metadata.name = name;
    }
    if (def.resource === 'namespaces') def.defaults(obj); // the name label needs the final name
    const txn = obj.metadata.name ? def.beginCreate?.(obj, dryRun) : undefined;
    try {
      def.prepareForCreate(obj, false);
      if (def.hasGeneration) obj.metadata.generation = 1;
      else delete obj.metadata.generation;
      const errs = def.validate(obj);
      if (errs.length) throw invalid(gk(def), obj.metadata.name ?? '', errs);
      const stored = canonical(def, obj);
      await this.admit(req, 'CREATE', stored, null, dryRun, warnings, nsLabels);
      await this.afterAdmit(req, 'CREATE', obj.metadata.name ?? '', dryRun);
      const key = keyFor(obj.metadata.namespace, obj.metadata.name ?? '');
      if (rs.get(key)) {
        // apply creates only while nothing is there; otherwise it goes round again as an update
        if (operation === 'Apply') throw new StaleObject();
        throw alreadyExists(gr(def), obj.metadata.name ?? '');
      }
      if (dryRun) {
        txn?.revert();
        return { status: 201, body: stored, warnings };
      }
      withManagedFields(req, stored, operation, input);
      const rv = this.store.nextRv();
      stored.metadata.resourceVersion = str(rv);
      rs.apply({ rv, type: 'ADDED', key, obj: stored });
      txn?.commit();
      this.hooks.onChange?.(def.resource, 'ADDED', stored);
      return { status: 201, body: stored, warnings };
    } catch (e) {
      txn?.revert();
      throw e;
    }
  }

  // ---- update / patch ------------------------------------------------------------------------

  private async update(
    req: ApiRequest,
    input: KubeObject,
    dryRun: boolean,
    warnings: string[],
    managed: { operation: 'Update' | 'Apply'; source: unknown } = {
      operation: 'Update',
      source: undefined,
    },
  ): Promise<ApiResponse> {
    const def = req.def;
    const rs = this.store.resource(def.resource);
    const ns = def.namespaced ? req.namespace : undefined;
    const key = keyFor(ns, req.name);
    const existing = rs.get(key);
    if (!existing) throw notFound(gr(def), req.name);
    const obj = input;
    if (obj.metadata.name !== req.name) {
      throw badRequest(
        `the name of the object (${obj.metadata.name ?? ''}) does not match the name on the URL (${req.name})`,
      );
    }
    if (def.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== req.namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      obj.metadata.namespace = req.namespace;
    } else {
      delete obj.metadata.namespace;
    }
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== existing.metadata.resourceVersion) {
      throw conflict(gr(def), req.name, OPTIMISTIC_LOCK_MESSAGE);
    }
    if (obj.metadata.uid && obj.metadata.uid !== existing.metadata.uid) {
      throw conflict(
        gr(def),
        req.name,
        `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${existing.metadata.uid ?? ''}`,
      );
    }
    const nsLabels = this.checkNamespace(def, req.namespace, false);
    const em = existing.metadata;
    obj.metadata.uid = em.uid;
    obj.metadata.creationTimestamp = em.creationTimestamp;
    obj.metadata.resourceVersion = em.resourceVersion;
    if (em.generateName && obj.metadata.generateName === undefined)
      obj.metadata.generateName = em.generateName;
    if (em.deletionTimestamp) {
      obj.metadata.deletionTimestamp = em.deletionTimestamp;
      obj.metadata.deletionGracePeriodSeconds = em.deletionGracePeriodSeconds;
    } else {
      delete obj.metadata.deletionTimestamp;
      delete obj.metadata.deletionGracePeriodSeconds;
    }
    if (obj.metadata.managedFields === undefined && em.managedFields) {
      obj.metadata.managedFields = clone(em.managedFields);
    }
    if (req.subresource === 'status') {
      def.prepareForStatusUpdate(obj, existing);
      def.defaults(obj);
    } else {
      def.defaults(obj);
      def.prepareForUpdate(obj, existing);
    }
    if (def.hasGeneration) {
      const strip = (o: KubeObject): unknown => ({ ...o, metadata: undefined, status: undefined });
      obj.metadata.generation = Number(em.generation ?? 1);
      if (!deepEqual(strip(obj), strip(existing))) obj.metadata.generation += 1;
    } else {
      delete obj.metadata.generation;
    }
    const errs = def.validateUpdate(obj, existing);
    if (errs.length) throw invalid(gk(def), req.name, errs);
    const txn = req.subresource ? undefined : def.beginUpdate?.(obj, existing, dryRun);
    try {
      const next = canonical(def, obj);
      await this.admit(req, 'UPDATE', next, existing, dryRun, warnings, nsLabels);
      await this.afterAdmit(req, 'UPDATE', req.name, dryRun);
      if (rs.get(key) !== existing) throw new StaleObject();
      if (dryRun) {
        txn?.revert();
        return { status: 200, body: next, warnings };
      }
      if (deepEqual(withoutVolatile(next), withoutVolatile(existing))) {
        txn?.commit();
        return { status: 200, body: existing, warnings }; // no-op: nothing written, no event
      }
      withManagedFields(req, next, managed.operation, managed.source ?? input);
      if (next.metadata.deletionTimestamp && !(next.metadata.finalizers ?? []).length) {
        txn?.commit();
        this.remove(def, key, next);
        return { status: 200, body: next, warnings };
      }
      const newRv = this.store.nextRv();
      next.metadata.resourceVersion = str(newRv);
      rs.apply({ rv: newRv, type: 'MODIFIED', key, obj: next, prev: existing });
      txn?.commit();
      this.hooks.onChange?.(def.resource, 'MODIFIED', next);
      return { status: 200, body: next, warnings };
    } catch (e) {
      txn?.revert();
      throw e;
    }
  }

  private parsePatch(req: ApiRequest, type: string): unknown {
    const raw = req.body;
    if (type === 'application/apply-patch+yaml') {
      if (typeof raw === 'string') {
        try {
          return parseYaml(raw) as unknown;
        } catch (e) {
          throw badRequest(`error decoding YAML: ${(e as Error).message}`);
        }
      }
      return raw;
    }
    if (typeof raw === 'string') {
      try {
        return JSON.parse(raw) as unknown;
      } catch (e) {
        throw badRequest(`error decoding patch: ${(e as Error).message}`);
      }
    }
    return raw;
  }

  private async patch(req: ApiRequest, dryRun: boolean, warnings: string[]): Promise<ApiResponse> {
    const def = req.def;
    const type = (req.contentType ?? '').split(';')[0]?.trim() ?? '';
    if (!PATCH_TYPES.includes(type)) throw unsupportedMediaType(PATCH_TYPES);
    const patch = this.parsePatch(req, type);
    const existing = this.get(def.resource, def.namespaced ? req.namespace : undefined, req.name);
    if (type === 'application/apply-patch+yaml') {
      if (!req.query.get('fieldManager')) {
        throw invalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [
          {
            type: 'FieldValueRequired',
            field: 'fieldManager',
            detail: 'is required for apply patch',
          },
        ]);
      }
      if (!isObject(patch)) throw badRequest('error decoding YAML: object expected');
      if (!existing) {
        if (req.subresource) throw notFound(gr(def), req.name);
        const input = clone(patch) as KubeObject;
        if (!isObject(input.metadata)) input.metadata = {};
        if (!input.metadata.name) input.metadata.name = req.name;
        return this.create(
          req,
          this.decodeBody({ ...req, body: input }),
          dryRun,
          warnings,
          'Apply',
        );
      }
      // Server-side apply, approximated: the applied configuration is merged over the live
      // object (field ownership and removal of fields no longer applied are not modelled).
      const merged = strategicMerge(existing, patch, '', def.patchMeta) as KubeObject;
      merged.metadata.resourceVersion =
        isObject(patch.metadata) && typeof patch.metadata.resourceVersion === 'string'
          ? patch.metadata.resourceVersion
          : existing.metadata.resourceVersion;
      return this.update(req, this.decodeBody({ ...req, body: merged }), dryRun, warnings, {
        operation: 'Apply',
        source: patch,
      });
    }
    if (!existing) throw notFound(gr(def), req.name);
    let patched: unknown;
    switch (type) {
      case 'application/json-patch+json':
        patched = jsonPatch(existing, patch);
        break;
      case 'application/merge-patch+json':
        if (!isObject(patch))
          throw badRequest(
            'json: cannot unmarshal non-object into Go value of type map[string]interface {}',
          );
        patched = jsonMergePatch(existing, patch);
        break;
      default:
        if (!isObject(patch))
          throw badRequest(
            'json: cannot unmarshal non-object into Go value of type map[string]interface {}',
          );
        patched = strategicMerge(existing, patch, '', def.patchMeta);
    }
    if (!isObject(patched) || !isObject(patched.metadata)) {
      throw badRequest('the patch produced an object without metadata');
    }
    const obj = this.decodeBody({ ...req, body: patched });
    return this.update(req, obj, dryRun, warnings, { operation: 'Update', source: patch });
  }

  // ---- pods/binding ---------------------------------------------------------------------------

  /**
   * POST pods/NAME/binding (what the scheduler does): sets spec.nodeName and the PodScheduled
   * condition of a pod not yet bound, as BindingREST's assignPod does, and answers a Success
   * Status. Admission sees a CREATE of pods/binding with the Binding object.
   */
  private async bind(req: ApiRequest, dryRun: boolean, warnings: string[]): Promise<ApiResponse> {
    const def = req.def;
    const body = req.body;
    if (!isObject(body)) {
      throw badRequest(
        "the object provided is unrecognized (must be of type Binding): couldn't get version/kind; json parse error: unexpected end of JSON input",
      );
    }
    if (body.kind !== undefined && body.kind !== 'Binding') {
      throw badRequest(
        `the object provided is unrecognized (must be of type Binding): ${str(body.kind)} in version "${str(body.apiVersion ?? '')}" cannot be handled as a Binding`,
      );
    }
    const meta = isObject(body.metadata) ? body.metadata : {};
    if (typeof meta.name === 'string' && meta.name && meta.name !== req.name) {
      throw badRequest('name in URL does not match name in Binding object');
    }
    const target = isObject(body.target) ? body.target : {};
    const errs: FieldError[] = [];
    const targetKind = str(target.kind ?? '');
    if (targetKind && targetKind !== 'Node') {
      errs.push(fieldErr.notSupported('target.kind', targetKind, ['Node', '<empty>']));
    }
    const nodeName = str(target.name ?? '');
    if (!nodeName) errs.push(fieldErr.required('target.name'));
    if (errs.length) throw invalid({ group: '', kind: 'Binding' }, req.name, errs);
    const binding = {
      kind: 'Binding',
      apiVersion: 'v1',
      metadata: { ...meta, name: req.name, namespace: req.namespace },
      target: { ...target, kind: targetKind || undefined, name: nodeName },
    } as KubeObject;
    const nsLabels = this.checkNamespace(def, req.namespace, true);
    await this.admit(req, 'CREATE', binding, null, dryRun, warnings, nsLabels);
    await this.afterAdmit(req, 'CREATE', req.name, dryRun);
    const rs = this.store.resource(def.resource);
    const key = keyFor(req.namespace, req.name);
    const existing = rs.get(key);
    if (!existing) throw notFound(gr(def), req.name);
    const bindingGr = { group: '', resource: 'pods/binding' };
    if (existing.metadata.deletionTimestamp) {
      throw conflict(
        bindingGr,
        req.name,
        `pod ${req.name} is being deleted, cannot be assigned to a host`,
      );
    }
    const spec = isObject(existing.spec) ? existing.spec : {};
    if (typeof spec.nodeName === 'string' && spec.nodeName) {
      throw conflict(
        bindingGr,
        req.name,
        `pod ${req.name} is already assigned to node "${spec.nodeName}"`,
      );
    }
    const done = {
      status: 201,
      body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 },
      warnings,
    };
    if (dryRun) return done;
    const next = clone(existing);
    next.spec = { ...spec, nodeName };
    const annotations = isObject(meta.annotations) ? stringMap(meta.annotations) : {};
    if (Object.keys(annotations).length) {
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), ...annotations };
    }
    const status = isObject(next.status) ? next.status : {};
    const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isObject) : [];
    const scheduled: JsonObject = {
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: nowRfc3339(),
    };
    const idx = conditions.findIndex((c) => c.type === 'PodScheduled');
    if (idx >= 0) {
      if (conditions[idx]?.status === 'True')
        scheduled.lastTransitionTime = conditions[idx].lastTransitionTime;
      conditions[idx] = scheduled;
    } else conditions.push(scheduled);
    next.status = { ...status, conditions };
    const stored = canonical(def, next);
    const rv = this.store.nextRv();
    stored.metadata.resourceVersion = str(rv);
    rs.apply({ rv, type: 'MODIFIED', key, obj: stored, prev: existing });
    this.hooks.onChange?.(def.resource, 'MODIFIED', stored);
    return done;
  }

  // ---- delete --------------------------------------------------------------------------------

  private async delete(req: ApiRequest, dryRun: boolean, warnings: string[]): Promise<ApiResponse> {
    const def = req.def;
    if (req.subresource) throw methodNotSupported(gr(def), 'delete');
    const ns = def.namespaced ? req.namespace : undefined;
    const key = keyFor(ns, req.name);
    const existing = this.store.resource(def.resource).get(key);
    if (!existing) throw notFound(gr(def), req.name);
    const options = isObject(req.body) ? req.body : {};
    const pre = isObject(options.preconditions) ? options.preconditions : {};
    if (typeof pre.uid === 'string' && pre.uid !== existing.metadata.uid) {
      throw conflict(
        gr(def),
        req.name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid ?? ''}`,
      );
    }
    if (
      typeof pre.resourceVersion === 'string' &&
      pre.resourceVersion !== existing.metadata.resourceVersion
    ) {
      throw conflict(
        gr(def),
        req.name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion ?? ''}`,
      );
    }
    if (def.resource === 'namespaces' && UNDELETABLE_NAMESPACES.includes(req.name)) {
      throw forbidden(gr(def), req.name, 'this namespace may not be deleted');
    }
    const nsLabels = this.checkNamespace(def, req.namespace, false);
    await this.admit(req, 'DELETE', null, existing, dryRun, warnings, nsLabels);
    await this.afterAdmit(req, 'DELETE', req.name, dryRun);
    if (this.store.resource(def.resource).get(key) !== existing) throw new StaleObject();
    const gone = (): unknown =>
      def.returnDeletedObject
        ? existing
        : successStatus({
            name: req.name,
            ...(def.group ? { group: def.group } : {}),
            kind: def.resource,
            uid: existing.metadata.uid,
          });
    if (dryRun) return { status: 200, body: gone(), warnings };
    if (existing.metadata.deletionTimestamp) return { status: 200, body: existing, warnings };
    const pending =
      (existing.metadata.finalizers ?? []).length > 0 || def.resource === 'namespaces';
    if (pending) {
      const next = clone(existing);
      next.metadata.deletionTimestamp = nowRfc3339();
      next.metadata.deletionGracePeriodSeconds = 0;
      if (def.resource === 'namespaces')
        next.status = { ...(isObject(next.status) ? next.status : {}), phase: 'Terminating' };
      const stored = canonical(def, next);
      const rv = this.store.nextRv();
      stored.metadata.resourceVersion = str(rv);
      this.store
        .resource(def.resource)
        .apply({ rv, type: 'MODIFIED', key, obj: stored, prev: existing });
      this.hooks.onChange?.(def.resource, 'MODIFIED', stored);
      if (def.resource === 'namespaces') setImmediate(() => void this.terminateNamespace(req.name));
      return { status: 200, body: stored, warnings };
    }
    this.remove(def, key, existing);
    return { status: 200, body: gone(), warnings };
  }

  /** Remove from storage: DELETED event carrying the deletion resourceVersion. */
  private remove(def: ResourceDef, key: string, obj: KubeObject): void {
    const rv = this.store.nextRv();
    const last = clone(obj);
    last.metadata.resourceVersion = str(rv);
    this.store.resource(def.resource).apply({ rv, type: 'DELETED', key, obj: last, prev: obj });
    def.afterDelete?.(obj);
    this.hooks.onChange?.(def.resource, 'DELETED', last);
    if (this.gcEnabled && obj.metadata.uid) {
      const uid = obj.metadata.uid;
      setImmediate(() => void this.collectDependents(uid, obj.metadata.namespace));
    }
  }

  /** The garbage collector: delete objects whose only owner is gone. */
  private async collectDependents(ownerUid: string, namespace: string | undefined): Promise<void> {
    for (const def of this.defs.values()) {
      if (this.stopped) return;
      if (!def.namespaced || !namespace) continue;
      const rs = this.store.resource(def.resource);
      const start = lowerBound(rs.keys, `${namespace}/`);
      const victims: KubeObject[] = [];
      for (let i = start; i < rs.keys.length; i++) {
        const k = rs.keys[i] as string;
        if (!k.startsWith(`${namespace}/`)) break;
        const o = rs.get(k);
        const owners = o?.metadata.ownerReferences ?? [];
        if (o && owners.length && owners.every((r) => r.uid === ownerUid)) victims.push(o);
      }
      for (const v of victims) {
        await this.handle(
          this.internalRequest(
            'delete',
            def,
            v.metadata.namespace ?? '',
            v.metadata.name ?? '',
            {
              propagationPolicy: 'Background',
            },
            GC_USER,
            'kube-controller-manager/v1.32.4 (linux/amd64) kubernetes/generic-garbage-collector',
          ),
        );
      }
    }
  }

  private async terminateNamespace(name: string): Promise<void> {
    for (const def of this.defs.values()) {
      if (this.stopped) return;
      if (!def.namespaced) continue;
      const rs = this.store.resource(def.resource);
      const start = lowerBound(rs.keys, `${name}/`);
      const victims: KubeObject[] = [];
      for (let i = start; i < rs.keys.length; i++) {
        const k = rs.keys[i] as string;
        if (!k.startsWith(`${name}/`)) break;
        const o = rs.get(k);
        if (o) victims.push(o);
      }
      for (const v of victims) {
        const res = await this.handle(
          this.internalRequest(
            'delete',
            def,
            name,
            v.metadata.name ?? '',
            undefined,
            NS_CONTROLLER_USER,
            'kube-controller-manager/v1.32.4 (linux/amd64) kubernetes/namespace-controller',
          ),
        );
        if (res.status >= 300 && res.status !== 404)
          this.log(`namespace ${name}: delete ${def.resource}/${v.metadata.name}: ${res.status}`);
      }
    }
    // objects held by finalizers keep the namespace until they are gone (as the controller does)
    for (let attempt = 0; attempt < 600 && !this.stopped; attempt++) {
      const left = [...this.defs.values()].some((d) => {
        if (!d.namespaced) return false;
        const rs = this.store.resource(d.resource);
        const i = lowerBound(rs.keys, `${name}/`);
        return (rs.keys[i] ?? '').startsWith(`${name}/`);
      });
      if (!left) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const ns = this.get('namespaces', undefined, name);
    if (ns && !this.stopped) this.remove(this.def('namespaces'), name, ns);
  }

  private async deleteCollection(
    req: ApiRequest,
    dryRun: boolean,
    warnings: string[],
  ): Promise<ApiResponse> {
    const def = req.def;
    if (def.resource === 'namespaces') throw methodNotSupported(gr(def), 'deletecollection');
    const listed = this.list({ ...req, query: new URLSearchParams(req.query) });
    const items = listed.items.slice();
    const deleted: unknown[] = [];
    for (const item of items) {
      const itemReq: ApiRequest = {
        ...req,
        verb: 'delete',
        name: item.metadata.name ?? '',
        namespace: item.metadata.namespace ?? req.namespace,
      };
      const res = await this.retryStale(() => this.delete(itemReq, dryRun, warnings));
      deleted.push(res.body);
    }
    return {
      status: 200,
      body: {
        kind: def.listKind,
        apiVersion: apiVersionOf(def),
        metadata: { resourceVersion: str(this.store.currentRv()) },
        items: deleted,
      },
      warnings,
    };
  }

  // ---- list / watch --------------------------------------------------------------------------

  filterFor(req: ApiRequest): WatchFilter {
    return {
      namespace: req.def.namespaced && req.namespace ? req.namespace : undefined,
      labels: parseLabelSelector(req.query.get('labelSelector')),
      fields: parseFieldSelector(req.query.get('fieldSelector'), req.def.selectableFields),
      fieldValue: req.def.fieldValue,
    };
  }

  /** A list at the current revision (or the continue token's), paginated in key order. */
  list(req: ApiRequest): {
    kind: string;
    apiVersion: string;
    metadata: JsonObject;
    items: KubeObject[];
  } {
    const def = req.def;
    const rs = this.store.resource(def.resource);
    const filter = this.filterFor(req);
    const limitParam = req.query.get('limit');
    const cont = req.query.get('continue');
    // resourceVersion=0 is served from the watch cache, which ignores limit and returns
    // everything in one answer (kubernetes#70735): only a quorum list is paginated.
    const fromCache = !cont && req.query.get('resourceVersion') === '0';
    const limit = !fromCache && limitParam && /^\d+$/.test(limitParam) ? Number(limitParam) : 0;
    let rv = this.store.currentRv();
    let startKey = filter.namespace ? `${filter.namespace}/` : '';
    if (cont) {
      if (req.query.get('resourceVersion')) {
        throw badRequest('specifying resource version is not allowed when using continue');
      }
      const token = decodeContinue(cont);
      if (token.rv < rs.oldestRv()) {
        const err = expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
        err.status.metadata = { continue: encodeContinue(this.store.currentRv(), token.start) };
        throw err;
      }
      rv = token.rv;
      startKey = token.start;
    }
    const prefix = filter.namespace ? `${filter.namespace}/` : '';
    // keys and values as of `rv`: live state with later changes undone
    const overlay = new Map<string, KubeObject | null>();
    if (rv < rs.lastChangeRv()) {
      for (const ev of rs.changesSince(rv) ?? []) {
        if (!overlay.has(ev.key)) overlay.set(ev.key, ev.prev ?? null);
      }
    }
    let keys: string[];
    let from: number;
    if (overlay.size === 0) {
      keys = rs.keys;
      from = lowerBound(keys, startKey);
    } else {
      const set = new Set<string>();
      for (let i = lowerBound(rs.keys, startKey); i < rs.keys.length; i++) {
        const k = rs.keys[i] as string;
        if (!k.startsWith(prefix)) break;
        set.add(k);
      }
      for (const [k, v] of overlay) {
        if (k >= startKey && k.startsWith(prefix)) {
          if (v) set.add(k);
          else set.delete(k);
        }
      }
      keys = [...set].sort();
      from = 0;
    }
    const valueAt = (k: string): KubeObject | undefined =>
      overlay.has(k) ? (overlay.get(k) ?? undefined) : rs.get(k);
    const selectors = filter.labels.length > 0 || filter.fields.length > 0;
    const items: KubeObject[] = [];
    let i = from;
    let lastKey = '';
    for (; i < keys.length; i++) {
      const k = keys[i] as string;
      if (!k.startsWith(prefix)) break;
      if (limit && items.length >= limit) break;
      const o = valueAt(k);
      lastKey = k;
      if (o && (!selectors || matchesFilter(filter, o))) items.push(asServed(def, o));
    }
    const meta: JsonObject = { resourceVersion: str(rv) };
    let more = false;
    if (limit && items.length >= limit) {
      // is anything (matching) left?
      for (let j = i; j < keys.length; j++) {
        const k = keys[j] as string;
        if (!k.startsWith(prefix)) break;
        const o = valueAt(k);
        if (o && (!selectors || matchesFilter(filter, o))) {
          more = true;
          break;
        }
      }
    }
    if (more) {
      meta.continue = encodeContinue(rv, `${lastKey}\u0000`);
      if (!selectors) {
        // remaining keys in the range: the prefix range ends before prefix-with-'/'+1 ('0')
        const end =
          overlay.size === 0
            ? prefix
              ? lowerBound(keys, `${prefix.slice(0, -1)}0`)
              : keys.length
            : keys.length;
        meta.remainingItemCount = end - i;
      }
    }
    return { kind: def.listKind, apiVersion: apiVersionOf(def), metadata: meta, items };
  }

  // ---- audit ---------------------------------------------------------------------------------

  private auditDecision(req: ApiRequest): PolicyDecision | undefined {
    if (!this.audit) return undefined;
    const d = evaluatePolicy(this.audit.policy, {
      user: req.user,
      verb: req.verb,
      resourceRequest: true,
      group: req.def.group,
      resource: req.def.resource,
      subresource: req.subresource,
      namespace: req.def.namespaced ? req.namespace : '',
      name: req.name,
      path: req.requestURI.split('?')[0] ?? '',
    });
    return d.level === 'None' ? undefined : d;
  }

  auditEvent(
    req: ApiRequest,
    d: PolicyDecision,
    auditID: string,
    stage: string,
    received: string,
    res?: ApiResponse,
  ): JsonObject {
    const objectRef: JsonObject = { resource: req.def.resource };
    if (req.def.namespaced && req.namespace) objectRef.namespace = req.namespace;
    if (req.name) objectRef.name = req.name;
    let requestObject: unknown;
    const level = d.level;
    if ((level === 'Request' || level === 'RequestResponse') && req.body !== undefined) {
      if (req.verb === 'patch') {
        requestObject = typeof req.body === 'string' ? safeJson(req.body) : req.body;
      } else if (req.verb === 'delete' || req.verb === 'deletecollection') {
        requestObject = isObject(req.body)
          ? { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', ...req.body }
          : undefined;
      } else if (isObject(req.body)) {
        requestObject = { kind: req.def.kind, apiVersion: apiVersionOf(req.def), ...req.body };
        const meta = isObject(req.body.metadata) ? req.body.metadata : {};
        if (!objectRef.namespace && typeof meta.namespace === 'string' && meta.namespace)
          objectRef.namespace = meta.namespace;
        if (!objectRef.name && typeof meta.name === 'string' && meta.name)
          objectRef.name = meta.name;
        if (typeof meta.uid === 'string' && meta.uid) objectRef.uid = meta.uid;
        if (typeof meta.resourceVersion === 'string' && meta.resourceVersion)
          objectRef.resourceVersion = meta.resourceVersion;
      }
    }
    if (req.def.group) objectRef.apiGroup = req.def.group;
    objectRef.apiVersion = req.def.version;
    if (req.subresource) objectRef.subresource = req.subresource;
    const ordered = orderKeys(objectRef, [
      'resource',
      'namespace',
      'name',
      'uid',
      'apiGroup',
      'apiVersion',
      'resourceVersion',
      'subresource',
    ]);
    const event: JsonObject = {
      level,
      auditID,
      stage,
      requestURI: req.requestURI,
      verb: req.verb,
      user: req.user,
      sourceIPs: [req.sourceIP],
      userAgent: req.userAgent,
      objectRef: ordered,
    };
    if (res) {
      const rs: JsonObject = { metadata: {} };
      if (res.status >= 300 && isObject(res.body) && res.body.kind === 'Status') {
        const b = res.body;
        rs.status = b.status;
        if (b.message) rs.message = b.message;
        if (b.reason) rs.reason = b.reason;
        if (b.details) rs.details = b.details;
      }
      rs.code = res.status;
      event.responseStatus = rs;
    }
    if (requestObject !== undefined) {
      event.requestObject = d.omitManagedFields ? stripManagedFields(requestObject) : requestObject;
    }
    if (res && level === 'RequestResponse' && res.body !== undefined) {
      event.responseObject = d.omitManagedFields ? stripManagedFields(res.body) : res.body;
    }
    event.requestReceivedTimestamp = received;
    event.stageTimestamp = nowMicro();
    event.annotations = {
      'authorization.k8s.io/decision': 'allow',
      'authorization.k8s.io/reason': '',
    };
    return event;
  }

  /** A request made by a built-in controller (admitted and audited like any client's). */
  internalRequest(
    verb: Verb,
    def: ResourceDef,
    namespace: string,
    name: string,
    body: unknown,
    user: UserInfo,
    userAgent: string,
    subresource = '',
    contentType?: string,
  ): ApiRequest {
    const base = def.group ? `/apis/${def.group}/${def.version}` : `/api/${def.version}`;
    const nsPart = def.namespaced && namespace ? `/namespaces/${namespace}` : '';
    // a create names its object in the body, except on a subresource (pods/NAME/binding)
    const named = verb !== 'create' || subresource !== '';
    const namePart = name && named ? `/${name}` : '';
    const subPart = subresource ? `/${subresource}` : '';
    return {
      verb,
      def,
      namespace,
      name: named ? name : '',
      subresource,
      query: new URLSearchParams(),
      body,
      contentType,
      requestURI: `${base}${nsPart}/${def.resource}${namePart}${subPart}`,
      user,
      userAgent,
      sourceIP: '127.0.0.1',
    };
  }

  // ---- seeding -------------------------------------------------------------------------------

  /** Store objects directly (no admission, no audit); defaults and allocation still apply. */
  seedObject(raw: unknown): void {
    if (!isObject(raw) || !isObject(raw.metadata)) throw new Error('seed: object without metadata');
    const def = [...this.defs.values()].find(
      (d) =>
        d.kind === raw.kind && (raw.apiVersion === undefined || raw.apiVersion === apiVersionOf(d)),
    );
    if (!def) throw new Error(`seed: unsupported kind ${str(raw.kind)} ${str(raw.apiVersion)}`);
    const obj = clone(raw) as KubeObject;
    const meta = obj.metadata;
    if (def.namespaced) {
      meta.namespace ||= 'default';
      if (!this.get('namespaces', undefined, meta.namespace)) {
        this.seedObject({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: meta.namespace },
        });
      }
    } else delete meta.namespace;
    const rs = this.store.resource(def.resource);
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
    const key = keyFor(meta.namespace, meta.name ?? '');
    const existing = rs.get(key);
    meta.uid = existing?.metadata.uid ?? meta.uid ?? uuid();
    meta.creationTimestamp =
      existing?.metadata.creationTimestamp ?? meta.creationTimestamp ?? nowRfc3339();
    def.defaults(obj);
    if (existing) def.afterDelete?.(existing);
    try {
      def.beginCreate?.(obj, false).commit();
    } catch (e) {
      if (existing) def.beginCreate?.(clone(existing), false).commit();
      throw e;
    }
    def.prepareForCreate(obj, true);
    if (def.hasGeneration) meta.generation ??= 1;
    const errs = def.validate(obj);
    if (errs.length) {
      def.afterDelete?.(obj);
      if (existing) def.beginCreate?.(clone(existing), false).commit();
      throw invalid(gk(def), meta.name ?? '', errs);
    }
    const stored = canonical(def, obj);
    const rv = this.store.nextRv();
    stored.metadata.resourceVersion = str(rv);
    rs.apply({ rv, type: existing ? 'MODIFIED' : 'ADDED', key, obj: stored, prev: existing });
    this.hooks.onChange?.(def.resource, existing ? 'MODIFIED' : 'ADDED', stored);
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s;
  }
}

export const GC_USER: UserInfo = {
  username: 'system:serviceaccount:kube-system:generic-garbage-collector',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
};

export const NS_CONTROLLER_USER: UserInfo = {
  username: 'system:serviceaccount:kube-system:namespace-controller',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
};
