// Validating admission webhooks as the API server dispatches them
// (k8s.io/apiserver/pkg/admission/plugin/webhook): rule / selector matching, AdmissionReview v1
// requests in parallel, failurePolicy, timeouts, denials and warnings.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { defaultWebhook } from './resources.js';
import { matchesLabelSelectorObject } from './selectors.js';
import { badRequest, internalError, KubeError, type StatusBody } from './status.js';
import {
  asArray,
  asObject,
  isObject,
  uuid,
  type JsonObject,
  type KubeObject,
  type UserInfo,
  str,
} from './util.js';

export interface AdmissionOptions {
  /** ValidatingWebhookConfiguration objects (admissionregistration.k8s.io/v1), as parsed from YAML */
  webhooks: unknown[];
  /** base URL for clientConfig.service; clientConfig.url is used as-is */
  resolveService?: (ref: {
    namespace: string;
    name: string;
    port?: number;
    path?: string;
  }) => string;
  caBundle?: unknown;
}

export interface AdmissionCallRecord {
  webhook: string;
  uid: string;
  operation: string;
  resource: string;
  subResource: string;
  namespace: string;
  name: string;
  dryRun: boolean;
  /** HTTP status of the webhook's answer */
  status?: number;
  allowed?: boolean;
  error?: string;
  durationMs: number;
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  group: string;
  version: string;
  resource: string;
  subresource: string;
  kind: string;
  namespaced: boolean;
  namespace: string;
  name: string;
  operation: Operation;
  object: KubeObject | null;
  oldObject: KubeObject | null;
  dryRun: boolean;
  options: JsonObject;
  user: UserInfo;
  /** labels of the request's namespace (namespaced resources) */
  namespaceLabels?: Record<string, string>;
}

interface Webhook {
  name: string;
  configName: string;
  clientConfig: JsonObject;
  rules: JsonObject[];
  failurePolicy: string;
  namespaceSelector: unknown;
  objectSelector: unknown;
  sideEffects: string;
  timeoutSeconds: number;
}

/** Flatten configurations (or bare webhook entries) into defaulted webhooks. */
export function collectWebhooks(configs: unknown[]): Webhook[] {
  const out: Webhook[] = [];
  const add = (w: unknown, configName: string): void => {
    const d = asObject(defaultWebhook(w));
    out.push({
      name: str(d.name ?? ''),
      configName,
      clientConfig: asObject(d.clientConfig),
      rules: asArray(d.rules).filter(isObject),
      failurePolicy: str(d.failurePolicy ?? 'Fail'),
      namespaceSelector: d.namespaceSelector,
      objectSelector: d.objectSelector,
      sideEffects: str(d.sideEffects ?? 'Unknown'),
      timeoutSeconds: Number(d.timeoutSeconds ?? 10),
    });
  };
  for (const c of configs) {
    if (!isObject(c)) continue;
    if (c.kind === 'List' && Array.isArray(c.items)) {
      out.push(...collectWebhooks(c.items));
    } else if (Array.isArray(c.webhooks)) {
      const name = str(asObject(c.metadata).name ?? '');
      for (const w of c.webhooks) add(w, name);
    } else if (isObject(c.clientConfig)) {
      add(c, '');
    }
  }
  return out;
}

function listHas(list: unknown, value: string): boolean {
  const l = asArray(list).map(String);
  return l.includes('*') || l.includes(value);
}

function resourceMatches(patterns: unknown, resource: string, sub: string): boolean {
  for (const p of asArray(patterns).map(String)) {
    if (p === '*/*') return true;
    const [res, s] = p.split('/', 2) as [string, string | undefined];
    const resOk = res === '*' || res === resource;
    if (!resOk) continue;
    if (s === undefined) {
      if (sub === '') return true;
    } else if (s === '*' || s === sub) {
      return true;
    }
  }
  return false;
}

function ruleMatches(rule: JsonObject, a: AdmissionAttributes): boolean {
  if (!listHas(rule.operations, a.operation)) return false;
  if (!listHas(rule.apiGroups, a.group)) return false;
  if (!listHas(rule.apiVersions, a.version)) return false;
  if (!resourceMatches(rule.resources, a.resource, a.subresource)) return false;
  const scope = str(rule.scope ?? '*');
  if (scope === 'Cluster' && a.namespaced) return false;
  if (scope === 'Namespaced' && !a.namespaced) return false;
  return true;
}

function webhookMatches(w: Webhook, a: AdmissionAttributes): boolean {
  if (!w.rules.some((r) => ruleMatches(r, a))) return false;
  // namespaceSelector: namespaced objects use their namespace's labels, a Namespace its own
  let nsLabels: Record<string, string> | undefined;
  if (a.namespaced) nsLabels = a.namespaceLabels ?? {};
  else if (a.resource === 'namespaces') {
    nsLabels = (a.object ?? a.oldObject)?.metadata.labels ?? {};
  }
  if (nsLabels !== undefined && !matchesLabelSelectorObject(w.namespaceSelector, nsLabels)) {
    return false;
  }
  const objMatch = (o: KubeObject | null): boolean =>
    o !== null && matchesLabelSelectorObject(w.objectSelector, o.metadata.labels ?? {});
  if (!objMatch(a.object) && !objMatch(a.oldObject)) return false;
  return true;
}

interface CallResult {
  status?: number;
  body?: unknown;
  error?: string;
}

function post(url: string, body: string, timeoutMs: number): Promise<CallResult> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve({ error: `Post "${url}": invalid URL` });
      return;
    }
    const doRequest = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = doRequest(
      u,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, */*',
          'user-agent': 'kube-apiserver-admission',
          'content-length': Buffer.byteLength(body),
        },
        rejectUnauthorized: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode, body: parsed });
        });
        res.on('error', (e) => resolve({ error: `Post "${url}": ${e.message}` }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ error: `Post "${url}": context deadline exceeded` });
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const reason =
        e.code === 'ECONNREFUSED' ? `dial tcp ${u.host}: connect: connection refused` : e.message;
      resolve({ error: `Post "${url}": ${reason}` });
    });
    req.end(body);
  });
}

export interface AdmissionOutcome {
  warnings: string[];
}

export class AdmissionDispatcher {
  private webhooks: Webhook[] = [];
  readonly calls: AdmissionCallRecord[] = [];

  constructor(
    private opts: AdmissionOptions | undefined,
    private readonly storedConfigs: () => unknown[],
    private readonly log: (line: string) => void,
  ) {
    this.webhooks = collectWebhooks(opts?.webhooks ?? []);
  }

  setWebhooks(webhooks: unknown[]): void {
    this.opts = { ...(this.opts ?? {}), webhooks };
    this.webhooks = collectWebhooks(webhooks);
  }

  private urlFor(w: Webhook): string {
    const cc = w.clientConfig;
    let base: string;
    if (typeof cc.url === 'string' && cc.url) {
      base = cc.url;
    } else {
      const svc = asObject(cc.service);
      const ref = {
        namespace: str(svc.namespace ?? ''),
        name: str(svc.name ?? ''),
        port: svc.port === undefined ? 443 : Number(svc.port),
        path: typeof svc.path === 'string' ? svc.path : undefined,
      };
      const resolved = this.opts?.resolveService?.(ref);
      base = resolved
        ? resolved.replace(/\/$/, '') + (ref.path ?? '')
        : `https://${ref.name}.${ref.namespace}.svc:${ref.port}${ref.path ?? ''}`;
    }
    // the API server's REST client passes the webhook timeout as a query parameter
    return base + (base.includes('?') ? '&' : '?') + `timeout=${w.timeoutSeconds}s`;
  }

  /** Run every matching webhook in parallel; throws the first denial or hard failure. */
  async validate(a: AdmissionAttributes): Promise<AdmissionOutcome> {
    const all = [...this.webhooks, ...collectWebhooks(this.storedConfigs())];
    const matching = all.filter((w) => webhookMatches(w, a));
    if (matching.length === 0) return { warnings: [] };
    if (a.dryRun) {
      for (const w of matching) {
        if (w.sideEffects !== 'None' && w.sideEffects !== 'NoneOnDryRun') {
          throw badRequest(`admission webhook "${w.name}" does not support dry run`);
        }
      }
    }
    const results = await Promise.all(matching.map((w) => this.call(w, a)));
    const warnings = results.flatMap((r) => r.warnings);
    for (const r of results) if (r.error) throw r.error;
    return { warnings };
  }

  private async call(
    w: Webhook,
    a: AdmissionAttributes,
  ): Promise<{ warnings: string[]; error?: KubeError }> {
    const uid = uuid();
    const gvk = { group: a.group, version: a.version, kind: a.kind };
    const gvr = { group: a.group, version: a.version, resource: a.resource };
    const request: JsonObject = {
      uid,
      kind: gvk,
      resource: gvr,
      subResource: a.subresource || undefined,
      requestKind: gvk,
      requestResource: gvr,
      requestSubResource: a.subresource || undefined,
      name: a.name || undefined,
      namespace: a.namespace || undefined,
      operation: a.operation,
      userInfo: a.user,
      object: a.object,
      oldObject: a.oldObject,
      dryRun: a.dryRun,
      options: a.options,
    };
    const review = { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1', request };
    const started = performance.now();
    const url = this.urlFor(w);
    const res = await post(url, JSON.stringify(review), w.timeoutSeconds * 1000);
    const record: AdmissionCallRecord = {
      webhook: w.name,
      uid,
      operation: a.operation,
      resource: a.resource,
      subResource: a.subresource,
      namespace: a.namespace,
      name: a.name,
      dryRun: a.dryRun,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    };
    if (res.status !== undefined) record.status = res.status;
    let callError: string | undefined = res.error
      ? `failed to call webhook: ${res.error}`
      : undefined;
    let response: JsonObject | undefined;
    if (!callError && res.status !== undefined && (res.status < 200 || res.status >= 300)) {
      const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
      callError = `failed to call webhook: an error on the server (${JSON.stringify(text)}) has prevented the request from succeeding`;
    }
    if (!callError) {
      const body = asObject(res.body);
      if (body.apiVersion !== 'admission.k8s.io/v1' || body.kind !== 'AdmissionReview') {
        callError = `received invalid webhook response: expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${str(body.apiVersion ?? '')}, Kind=${str(body.kind ?? '')}`;
      } else if (!isObject(body.response)) {
        callError = 'received invalid webhook response: webhook response was absent';
      } else if (body.response.uid !== uid) {
        callError = `received invalid webhook response: expected response.uid="${uid}", got "${str(body.response.uid ?? '')}"`;
      } else {
        response = body.response;
      }
    }
    if (callError || !response) {
      const message = `failed calling webhook "${w.name}": ${callError ?? 'no further details available'}`;
      record.error = message;
      this.calls.push(record);
      this.log(
        `admission ${w.name} ${a.operation} ${a.resource}: ${message} (failurePolicy ${w.failurePolicy})`,
      );
      if (w.failurePolicy === 'Ignore') return { warnings: [] };
      return { warnings: [], error: internalError(message) };
    }
    record.allowed = response.allowed === true;
    this.calls.push(record);
    const warnings = asArray(response.warnings).map(String);
    if (response.allowed === true) return { warnings };
    return { warnings, error: denial(w.name, response.status) };
  }
}

/** webhookerrors.ToStatusErr */
export function denial(webhookName: string, result: unknown): KubeError {
  const r = asObject(result);
  const deniedBy = `admission webhook "${webhookName}" denied the request`;
  let code = typeof r.code === 'number' ? r.code : 0;
  if (code < 400) code = 403;
  const message =
    typeof r.message === 'string' && r.message
      ? `${deniedBy}: ${r.message}`
      : typeof r.reason === 'string' && r.reason
        ? `${deniedBy}: ${r.reason}`
        : `${deniedBy} without explanation`;
  const status: StatusBody = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    code,
  };
  if (typeof r.reason === 'string' && r.reason) status.reason = r.reason;
  if (isObject(r.details)) status.details = r.details;
  // keep the Status field order of the real encoder
  const ordered: StatusBody = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    ...(status.reason ? { reason: status.reason } : {}),
    ...(status.details ? { details: status.details } : {}),
    code,
  };
  return new KubeError(ordered);
}
