// The per-request oracle: from the request as sent (the JSON text the server decodes, its
// credential and transport) what the answer may be and what it may write, decided by an
// independent model of the rules (docs/reference.md, README "HTTP API", "Authentication", "Guarantees"),
// not by the product's decoder; then the check of one answer and the writes attributed to it.
// Validity of Services and EndpointSlices is decided as kube-apiserver does it: an invalid edit
// from invalid.ts is invalid by construction, anything else (a mutated object) by
// src/events/validate.ts, the port of the API server's rules.
import { validateEndpointSlice, validateService } from '../../src/events/validate.js';
import type { Built } from './cases.js';
import { ENDPOINTS, REFUSED_TRANSPORTS } from './cases.js';
import type { Change } from './host-client.js';
import { credVerdict } from './tokens.js';
import { DENIED_NAMESPACES } from './world.js';

/** What one request may be answered and may write. */
export interface Expect {
  /** The statuses it may be answered with (null: anything below 500). */
  statuses: number[] | null;
  /** Why it must write nothing at all (null: it may write within the scope below). */
  noWrite: string | null;
  /** The Kubernetes services ("ns/name") whose Consul registrations it may change. */
  consulRefs: Set<string> | 'any' | 'none';
  /** Which Kubernetes writes it may make: none, owned ExternalName services (view), any. */
  kube: 'none' | 'view' | 'any';
  /** View deliveries: the Kubernetes names the view wants (created/updated must be among them). */
  viewNames?: Set<string>;
  /** Admissions answered 200: the uid to echo; `invalid`: the answer must carry a warning. */
  admission?: { uid: string | undefined; invalid: string | null };
  /** Oversize bodies: must be answered before the announced body is sent. */
  early?: boolean;
  /** Why, in a few words (the model's verdict, for reproducer lines). */
  why: string;
}

export interface ViewState {
  /** The newest X-Consul-Index applied, as the product's rule computes it (undefined: none). */
  applied: number | undefined;
}

type O = Record<string, unknown>;
const isObj = (v: unknown): v is O => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Own properties only: a `__proto__` key parsed by JSON.parse is data, never a prototype. */
const own = (o: unknown, k: string): unknown =>
  isObj(o) && Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const isNamespaceName = (s: unknown): s is string =>
  typeof s === 'string' && s.length <= 63 && DNS1123_LABEL.test(s);
const isObjectName = (s: unknown): s is string =>
  typeof s === 'string' && s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
const DENIED: readonly string[] = DENIED_NAMESPACES;
const SERVICE_LABEL = 'kubernetes.io/service-name';

function parse(text: string | undefined): { ok: true; value: unknown } | { ok: false } {
  if (text === undefined) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Envelope rules an API server's AdmissionReview always meets (shape, types, sizes). */
function admissionEnvelopeOk(body: unknown): boolean {
  if (!isObj(body)) return false;
  if (own(body, 'apiVersion') !== 'admission.k8s.io/v1') return false;
  if (own(body, 'kind') !== 'AdmissionReview') return false;
  const r = own(body, 'request');
  if (!isObj(r)) return false;
  const uid = own(r, 'uid');
  if (typeof uid !== 'string' || uid.length === 0 || uid.length > 128) return false;
  if (!['CREATE', 'UPDATE', 'DELETE', 'CONNECT'].includes(own(r, 'operation') as string))
    return false;
  for (const k of ['resource', 'kind']) if (!isObj(own(r, k))) return false;
  const dryRun = own(r, 'dryRun');
  if (dryRun !== undefined && typeof dryRun !== 'boolean') return false;
  for (const k of ['name', 'namespace']) {
    const v = own(r, k);
    if (v !== undefined && (typeof v !== 'string' || v.length > 253)) return false;
  }
  for (const k of ['object', 'oldObject']) {
    const o = own(r, k);
    if (o === undefined || o === null) continue;
    if (!isObj(o)) return false;
    const meta = own(o, 'metadata');
    if (meta === undefined) continue;
    if (!isObj(meta)) return false;
    for (const f of ['name', 'namespace']) {
      const v = own(meta, f);
      if (v !== undefined && typeof v !== 'string') return false;
    }
    for (const f of ['labels', 'annotations']) {
      const m = own(meta, f);
      if (m === undefined || m === null) continue;
      if (!isObj(m)) return false;
      for (const v of Object.values(m))
        if (typeof v !== 'string' || v.length > 64 * 1024) return false;
    }
  }
  return true;
}

/** The admission model: whether it may write, and for which service. */
function admissionModel(
  body: unknown,
  invalidEdit: string | undefined,
): {
  envelope: boolean;
  reason: string | null;
  refs: Set<string>;
  uid: string | undefined;
  invalid: string | null;
} {
  const none = (reason: string, envelope = true, invalid: string | null = null) => ({
    envelope,
    reason,
    refs: new Set<string>(),
    uid:
      typeof own(own(body, 'request'), 'uid') === 'string'
        ? (own(own(body, 'request'), 'uid') as string)
        : undefined,
    invalid,
  });
  if (!admissionEnvelopeOk(body)) return none('refused-envelope', false);
  const r = own(body, 'request') as O;
  if (own(r, 'dryRun') === true) return none('dry-run');
  const op = own(r, 'operation') as string;
  if (op === 'CONNECT') return none('ignored-operation');
  const ns = own(r, 'namespace');
  if (typeof ns !== 'string' || ns === '') return none('no-request-namespace');
  if (!isNamespaceName(ns)) return none('invalid-name');
  if (DENIED.includes(ns)) return none('denied-namespace');
  const current = op === 'DELETE' ? null : own(r, 'object');
  const previous = own(r, 'oldObject');
  const objects = [current, previous].filter(isObj);
  for (const o of objects) {
    const objNs = own(own(o, 'metadata'), 'namespace');
    if (typeof objNs === 'string' && objNs !== '' && objNs !== ns) return none('foreign-namespace');
  }
  const metaName = (o: unknown): unknown => own(own(o, 'metadata'), 'name');
  const reqName = own(r, 'name');
  const name =
    (typeof reqName === 'string' && reqName) ||
    (typeof metaName(current) === 'string' && metaName(current)) ||
    (typeof metaName(previous) === 'string' && metaName(previous)) ||
    '';
  if (!name) return none('no-name');
  if (!isObjectName(name)) return none('invalid-name');
  for (const o of objects) {
    const n = metaName(o);
    if (typeof n === 'string' && n !== '' && n !== name) return none('foreign-name');
  }
  if (op !== 'DELETE' && !isObj(current)) return none('no-object');
  const resource = own(r, 'resource') as O;
  const group = own(resource, 'group');
  const res = own(resource, 'resource');
  const sub = (own(r, 'subResource') as string | undefined) ?? '';
  if (group === '' && res === 'services' && (sub === '' || sub === 'status')) {
    const problems = isObj(current) ? validateService(current) : [];
    if (invalidEdit) return none('invalid-object', true, invalidEdit);
    if (problems.length > 0)
      return none('invalid-object', true, `${problems[0]!.field}: ${problems[0]!.message}`);
    return {
      envelope: true,
      reason: null,
      refs: new Set([`${ns}/${name}`]),
      uid: own(r, 'uid') as string,
      invalid: null,
    };
  }
  if (group === 'discovery.k8s.io' && res === 'endpointslices' && sub === '') {
    const labelOf = (o: unknown): unknown => own(own(own(o, 'metadata'), 'labels'), SERVICE_LABEL);
    const labels = [labelOf(current), labelOf(previous)].filter(
      (l): l is string => typeof l === 'string' && l !== '',
    );
    if (labels.length === 0) return none('unlabelled-slice');
    if (!labels.every(isObjectName)) return none('invalid-name');
    const problems = isObj(current) ? validateEndpointSlice(current) : [];
    if (invalidEdit) return none('invalid-object', true, invalidEdit);
    if (problems.length > 0)
      return none('invalid-object', true, `${problems[0]!.field}: ${problems[0]!.message}`);
    return {
      envelope: true,
      reason: null,
      refs: new Set(labels.map((l) => `${ns}/${l}`)),
      uid: own(r, 'uid') as string,
      invalid: null,
    };
  }
  return none('other-resource');
}

/** The audit model: the services a batch names with a completed, successful, real write. */
function auditModel(body: unknown): { envelope: boolean; refs: Set<string> } {
  const refs = new Set<string>();
  if (!isObj(body) || own(body, 'apiVersion') !== 'audit.k8s.io/v1')
    return { envelope: false, refs };
  if (own(body, 'kind') !== 'EventList') return { envelope: false, refs };
  const items = own(body, 'items');
  if (items === null) return { envelope: true, refs };
  if (!Array.isArray(items)) return { envelope: false, refs };
  for (const e of items) {
    if (!isObj(e)) return { envelope: false, refs };
    const code = own(own(e, 'responseStatus'), 'code');
    const stage = own(e, 'stage');
    const verb = own(e, 'verb');
    if (typeof stage !== 'string' || typeof verb !== 'string') return { envelope: false, refs };
    if (
      code !== undefined &&
      (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 999)
    )
      return { envelope: false, refs };
    const ref = own(e, 'objectRef');
    if (ref !== undefined && !isObj(ref)) return { envelope: false, refs };
    const uri = own(e, 'requestURI');
    if (uri !== undefined && (typeof uri !== 'string' || uri.length > 8192))
      return { envelope: false, refs };
    const name = own(ref, 'name');
    if (typeof name === 'string' && name.length > 253) return { envelope: false, refs };
    if (stage !== 'ResponseComplete' || typeof code !== 'number' || code >= 300) continue;
    if (!['create', 'update', 'patch', 'delete'].includes(verb)) continue;
    if (typeof uri === 'string' && uri.includes('?')) {
      if (new URLSearchParams(uri.slice(uri.indexOf('?') + 1)).has('dryRun')) continue;
    }
    const ns = own(ref, 'namespace');
    if (!isNamespaceName(ns) || DENIED.includes(ns) || !isObjectName(name)) continue;
    const group = (own(ref, 'apiGroup') as string | undefined) ?? '';
    const resource = own(ref, 'resource');
    const sub = (own(ref, 'subresource') as string | undefined) ?? '';
    if (group === '' && resource === 'services' && (sub === '' || sub === 'status')) {
      refs.add(`${ns}/${name}`);
    } else if (group === 'discovery.k8s.io' && resource === 'endpointslices' && sub === '') {
      for (const o of [own(e, 'responseObject'), own(e, 'requestObject')]) {
        const label = own(own(own(o, 'metadata'), 'labels'), SERVICE_LABEL);
        if (isObjectName(label)) refs.add(`${ns}/${label}`);
      }
      // A DELETE carries no object: the service is guessed from the slice name (name-suffix).
      const cut = name.lastIndexOf('-');
      if (verb === 'delete' && cut > 0 && isObjectName(name.slice(0, cut)))
        refs.add(`${ns}/${name.slice(0, cut)}`);
    }
  }
  return { envelope: true, refs };
}

/** The view model: well-formed, and the Kubernetes names it wants. */
function viewModel(
  body: unknown,
  untagged: ReadonlySet<string>,
): { envelope: boolean; empty: boolean; names: Set<string> } {
  const names = new Set<string>();
  if (!isObj(body)) return { envelope: false, empty: false, names };
  const entries = Object.entries(body);
  for (const [name, tags] of entries) {
    if (name.length < 1 || name.length > 512) return { envelope: false, empty: false, names };
    if (tags === null) continue;
    if (!Array.isArray(tags) || tags.length > 1024) return { envelope: false, empty: false, names };
    for (const t of tags as unknown[])
      if (typeof t !== 'string' || t.length > 512) return { envelope: false, empty: false, names };
  }
  for (const [name, tags] of entries) {
    // A tagged name stays mirrored while Consul holds an instance of it without the tag (README
    // "Shared names keep their mirror").
    if (Array.isArray(tags) && tags.includes('k8s') && !untagged.has(name)) continue;
    const k = name.toLowerCase();
    if (k.length <= 63 && DNS1035_LABEL.test(k)) names.add(k);
  }
  return { envelope: true, empty: entries.length === 0, names };
}

/** A valid X-Consul-Index as the product reads it (absent otherwise). */
export function consulIndexOf(header: string | undefined): number | undefined {
  return header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
}

/** Whether a view delivery is older than the newest applied one (needs Consul's own index). */
export function viewMayBeStale(built: Built, state: ViewState): boolean {
  const i = consulIndexOf(built.consulIndex);
  return i !== undefined && state.applied !== undefined && i < state.applied;
}

function reconcileModel(query: string): { dryRun: boolean; valid: boolean; emptyValue: boolean } {
  const params = new URLSearchParams(query);
  const dry = params.getAll('dryRun');
  // A bare `?dryRun` (no `=`) asks for a dry run, as `dryRun=true` does (issue: bare dryRun).
  const bare = query.split('&').includes('dryRun');
  const dryRun = bare || dry.some((v) => v !== 'false' && v !== '') || dry.length > 1;
  const direction = params.getAll('direction');
  const force = params.getAll('force');
  const valid =
    dry.every((v) => v === 'true' || v === 'false' || v === '') &&
    dry.length <= 1 &&
    direction.length <= 1 &&
    direction.every((v) => ['both', 'to-consul', 'to-k8s'].includes(v)) &&
    force.length <= 1 &&
    force.every((v) => v === 'true' || v === 'false' || v === '');
  // `dryRun=` / `force=` (an empty value): the README leaves it open; either answer is fine.
  const emptyValue = dry.includes('') && !bare;
  return { dryRun, valid, emptyValue };
}

const nothing = (why: string, statuses: number[] | null, noWrite: string): Expect => ({
  statuses,
  noWrite,
  consulRefs: 'none',
  kube: 'none',
  why,
});

/**
 * What `built` may be answered and may write. `staleView` is the verdict on a view delivery
 * older than the newest applied (computed by the caller from Consul's own index).
 */
export function expectFor(
  built: Built,
  staleView = false,
  untagged: ReadonlySet<string> = new Set(),
): Expect {
  if (built.endpoint === 'probe') {
    const [path] = built.path.split('?');
    const ok = built.method === 'GET' || built.method === 'HEAD';
    return nothing(`probe ${path}`, ok ? [200] : [405], 'probe');
  }
  if (built.endpoint === 'route') {
    const known = Object.values(ENDPOINTS).some(
      (e) =>
        built.path.split('?')[0]!.startsWith(e.path + '/') || built.path.split('?')[0] === e.path,
    );
    return nothing('routing', known ? [405] : [404], 'route');
  }
  const verdict = credVerdict(built.cred!);
  if (verdict !== 'ok') {
    // An oversize body may be refused (413) before the credential is looked at; 431 is Node's
    // own header limit, should a credential not fit.
    const statuses = [verdict, ...(built.announce !== undefined ? [413] : [])];
    if (built.cred === 'oversize-token') statuses.push(431);
    return {
      ...nothing(
        `credential ${built.cred}`,
        statuses,
        verdict === 401 ? 'unauthenticated' : 'forbidden',
      ),
      early: built.announce !== undefined,
    };
  }
  if (built.announce !== undefined) {
    return {
      ...nothing(
        'body past --max-body-bytes',
        built.announce > 2 ** 50 ? [413, 400] : [413],
        'payload-too-large',
      ),
      early: true,
    };
  }
  if (built.transport && REFUSED_TRANSPORTS.includes(built.transport))
    return nothing(`transport ${built.transport}`, [415], 'unsupported-media-type');
  if (built.broken) return nothing(`broken: ${built.broken}`, [400], 'refused-envelope');

  const parsed = parse(built.text);
  const statusesIf = (ok: number[]): number[] | null => (built.mutated ? null : ok);
  switch (built.endpoint) {
    case 'admission': {
      if (!parsed.ok) return nothing('not JSON', [400], 'refused-envelope');
      const m = admissionModel(parsed.value, built.invalidEdit);
      if (!m.envelope)
        return nothing('envelope not from an API server', statusesIf([400]), 'refused-envelope');
      return {
        statuses: statusesIf([200]),
        noWrite: m.reason,
        consulRefs: m.reason ? 'none' : m.refs,
        kube: 'none',
        admission: { uid: m.uid, invalid: m.invalid },
        why: m.reason ?? `may write ${[...m.refs].join(', ')}`,
      };
    }
    case 'audit': {
      if (!parsed.ok) return nothing('not JSON', [400], 'refused-envelope');
      const m = auditModel(parsed.value);
      if (!m.envelope)
        return nothing('envelope not from an API server', statusesIf([400]), 'refused-envelope');
      if (m.refs.size === 0)
        return nothing(
          'no completed successful write in the batch',
          statusesIf([200]),
          'audit-nothing-to-do',
        );
      return {
        statuses: statusesIf([200]),
        noWrite: null,
        consulRefs: m.refs,
        kube: 'none',
        why: `may write ${[...m.refs].slice(0, 5).join(', ')}${m.refs.size > 5 ? ', …' : ''}`,
      };
    }
    case 'view': {
      if (built.text === '') return nothing('no body: an empty view', [200, 400], 'empty-view');
      if (!parsed.ok) return nothing('not JSON', [400], 'refused-envelope');
      const m = viewModel(parsed.value, untagged);
      if (!m.envelope) return nothing('not a services view', statusesIf([400]), 'refused-envelope');
      if (m.empty) return nothing('empty view', statusesIf([200]), 'empty-view');
      if (staleView)
        return nothing('older than the newest view applied', statusesIf([200]), 'stale-view');
      return {
        statuses: statusesIf([200]),
        noWrite: null,
        consulRefs: 'none',
        kube: 'view',
        viewNames: m.names,
        why: `may converge ExternalName services to ${m.names.size} name(s)`,
      };
    }
    case 'reconcile': {
      const query = built.path.includes('?') ? built.path.slice(built.path.indexOf('?') + 1) : '';
      const m = reconcileModel(query);
      // A dry run may also be refused by the delete-ratio guard (409): nothing is written.
      if (m.dryRun) return nothing('dry-run reconcile', m.valid ? [200, 409] : null, 'dry-run');
      if (!m.valid) return nothing('bad query', [400], 'refused-query');
      return {
        statuses: m.emptyValue ? null : [200, 409],
        noWrite: null,
        consulRefs: 'any',
        kube: 'any',
        why: 'real reconcile',
      };
    }
  }
}

// ---- checking one answer -------------------------------------------------------------------

export interface Observed {
  status: number;
  text: string;
  json: unknown;
  ms: number;
  /** A transport failure or a timeout instead of an answer. */
  error?: string;
}

export interface Attributed {
  consul: string[];
  kube: string[];
  /** The catalog changes (fetched only when something was written). */
  changes: Change[];
}

export interface Finding {
  class: string;
  detail: string;
}

/** 503 codes a declared backend failure may produce. */
const BACKEND_CODES = ['CONSUL_UNAVAILABLE', 'KUBE_UNAVAILABLE', 'WRITE_FAILED'];

/**
 * Findings for one answer. `fault`: the backend fault in force while it ran (503 with a backend
 * code is then allowed on audit, view, reconcile and /readyz; 502 never is: the suite never makes
 * Consul filter by ACLs). `writes` is null when writes are not attributed (concurrent phase).
 */
export function check(
  built: Built,
  expect: Expect,
  seen: Observed,
  writes: Attributed | null,
  fault: string | null,
): Finding[] {
  const out: Finding[] = [];
  if (seen.error) {
    out.push(
      expect.early
        ? {
            class: 'oversize-not-refused-early',
            detail: `no answer before the announced body was sent: ${seen.error}`,
          }
        : { class: 'no-answer', detail: seen.error },
    );
    return out;
  }
  const errorCode = (own(own(seen.json, 'error'), 'code') as string | undefined) ?? '';
  const s = seen.status;
  const backendEndpoint =
    built.endpoint === 'audit' ||
    built.endpoint === 'view' ||
    built.endpoint === 'reconcile' ||
    (built.endpoint === 'probe' && built.path.startsWith('/readyz'));
  const declared =
    fault !== null &&
    s === 503 &&
    backendEndpoint &&
    (built.endpoint === 'probe' || BACKEND_CODES.includes(errorCode));
  if (s >= 500 && !declared) {
    out.push({
      class: `5xx`,
      detail: `${s} ${errorCode || seen.text.slice(0, 120)}${fault ? ` (fault in force: ${fault})` : ' (no fault injected)'}`,
    });
  } else if (expect.statuses && !expect.statuses.includes(s) && !declared) {
    const auth = expect.noWrite === 'unauthenticated' || expect.noWrite === 'forbidden';
    out.push({
      class:
        auth && s < 400
          ? 'auth-bypass'
          : auth
            ? 'auth-status'
            : `status-${expect.noWrite === 'payload-too-large' ? 'oversize' : built.endpoint}`,
      detail: `expected ${expect.statuses.join('/')} (${expect.why}), got ${s} ${seen.text.slice(0, 160)}`,
    });
  }
  // Answers from Node's HTTP parser (400 for an impossible Content-Length, 431) carry no JSON.
  const fromNode = (s === 400 && expect.early) || s === 431;
  if (s >= 400 && built.method !== 'HEAD' && !(fromNode && !errorCode)) {
    const message = own(own(seen.json, 'error'), 'message');
    if (!errorCode || typeof message !== 'string')
      out.push({
        class: 'error-body',
        detail: `${s} without {"error":{"code","message"}}: ${seen.text.slice(0, 120)}`,
      });
  }
  if (s === 200 && built.endpoint === 'admission' && expect.admission) {
    const response = own(seen.json, 'response');
    if (own(response, 'allowed') !== true || own(response, 'uid') !== expect.admission.uid) {
      out.push({
        class: 'admission-answer',
        detail: `answer must be allowed:true with uid ${JSON.stringify(expect.admission.uid)}: ${seen.text.slice(0, 160)}`,
      });
    }
    const warnings = own(response, 'warnings');
    if (expect.admission.invalid && (!Array.isArray(warnings) || warnings.length === 0)) {
      out.push({
        class: 'invalid-object-no-warning',
        detail: `an object the API server refuses (${expect.admission.invalid}) was answered without a warning`,
      });
    }
  }
  if (!writes) return out;
  const wrote = [...writes.consul, ...writes.kube];
  if (wrote.length === 0) return out;
  const list = wrote.join(', ');
  if (expect.noWrite) {
    out.push({ class: `write-from-${expect.noWrite}`, detail: `${expect.why}: wrote ${list}` });
    return out;
  }
  if (s >= 400) {
    // A reconcile refused by the delete-ratio guard is refused per direction.
    const raw = own(own(seen.json, 'error'), 'message');
    const message = typeof raw === 'string' ? raw : '';
    const refused =
      built.endpoint === 'reconcile' && errorCode === 'DELETE_RATIO_EXCEEDED'
        ? [
            ...(message.includes('to-consul:') ? writes.consul : []),
            ...(message.includes('to-k8s:') ? writes.kube : []),
          ]
        : fault !== null && s === 503
          ? [] // a failed write is attempted and counted: that is the failure answered
          : wrote;
    if (refused.length > 0)
      out.push({
        class: 'write-from-refused-request',
        detail: `${s} ${errorCode}: wrote ${refused.join(', ')}`,
      });
    return out;
  }
  if (expect.kube === 'none' && writes.kube.length > 0)
    out.push({
      class: 'wrong-system-write',
      detail: `${built.endpoint} wrote Kubernetes: ${writes.kube.join(', ')}`,
    });
  if (expect.consulRefs === 'none' && writes.consul.length > 0)
    out.push({
      class: 'wrong-system-write',
      detail: `${built.endpoint} wrote Consul: ${writes.consul.join(', ')}`,
    });
  for (const c of writes.changes) {
    if (!c.ownedBefore || !c.ownedAfter) {
      out.push({
        class: 'ownership',
        detail: `${c.op} ${c.what} (${c.ref}) which is not ours (${c.ownedBefore ? 'after' : 'before'})`,
      });
    }
    if (
      c.system === 'consul' &&
      expect.consulRefs instanceof Set &&
      !expect.consulRefs.has(c.ref)
    ) {
      out.push({
        class: `write-outside-${built.endpoint === 'audit' ? 'batch' : 'ref'}`,
        detail: `${c.op} ${c.what} of ${c.ref}; the request may change only ${[...expect.consulRefs].slice(0, 5).join(', ')}`,
      });
    }
    if (c.system === 'kubernetes' && expect.viewNames) {
      const desired = expect.viewNames.has(c.name);
      if (c.op !== 'delete' && !desired)
        out.push({ class: 'view-wrote-undesired', detail: `${c.op} ${c.what}: not in the view` });
      if (c.op === 'delete' && desired)
        out.push({
          class: 'view-deleted-desired',
          detail: `deleted ${c.what}, which the view holds`,
        });
    }
  }
  return out;
}
