// Audit: policy evaluation (audit.k8s.io/v1 Policy) and the batching webhook backend that POSTs
// EventList bodies, as k8s.io/apiserver/pkg/audit and plugin/pkg/audit/webhook do.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parse as parseYaml } from 'yaml';
import { asArray, asObject, isObject, sleep, type JsonObject, type UserInfo, str } from './util.js';

export interface AuditOptions {
  url?: string;
  token?: string;
  /** the audit webhook kubeconfig file content (YAML): server URL + user token */
  kubeconfig?: string;
  /** audit.k8s.io/v1 Policy; default: RequestResponse for writes to services, services/status, endpointslices,
   *  ingresses, ingresses/status */
  policy?: unknown;
  batchMaxSize?: number;
  batchMaxWaitMs?: number;
  /** retries of one batch on 5xx / network errors before it is dropped */
  retries?: number;
}

export interface AuditDelivery {
  status?: number;
  error?: string;
  events: number;
}

export type Level = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
export type Stage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';

export const DEFAULT_POLICY = {
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  omitStages: ['RequestReceived'],
  rules: [
    {
      level: 'RequestResponse',
      verbs: ['create', 'update', 'patch', 'delete'],
      resources: [
        { group: '', resources: ['services', 'services/status'] },
        { group: 'discovery.k8s.io', resources: ['endpointslices'] },
        { group: 'networking.k8s.io', resources: ['ingresses', 'ingresses/status'] },
      ],
    },
    { level: 'None' },
  ],
};

export interface PolicyAttributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
}

export interface PolicyDecision {
  level: Level;
  omitStages: Stage[];
  omitManagedFields: boolean;
}

const LEVELS: Level[] = ['None', 'Metadata', 'Request', 'RequestResponse'];

function strings(v: unknown): string[] {
  return asArray(v).map(String);
}

function ruleMatchesResource(rule: JsonObject, a: PolicyAttributes): boolean {
  const namespaces = strings(rule.namespaces);
  if (namespaces.length && !namespaces.includes(a.namespace)) return false;
  const groups = asArray(rule.resources).filter(isObject);
  if (groups.length === 0) return true;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  for (const gr of groups) {
    if (str(gr.group ?? '') !== a.group) continue;
    const resources = strings(gr.resources);
    if (resources.length === 0) return true;
    const names = strings(gr.resourceNames);
    if (names.length && !names.includes(a.name)) continue;
    for (const res of resources) {
      if (res === combined || res === '*') return true;
      if (a.subresource && res.startsWith('*/') && a.subresource === res.slice(2)) return true;
      if (res.endsWith('/*') && a.resource === res.slice(0, -2)) return true;
    }
  }
  return false;
}

function ruleMatches(rule: JsonObject, a: PolicyAttributes): boolean {
  const users = strings(rule.users);
  if (users.length && !users.includes(a.user.username)) return false;
  const groups = strings(rule.userGroups);
  if (groups.length && !groups.some((g) => a.user.groups.includes(g))) return false;
  const verbs = strings(rule.verbs);
  if (verbs.length && !verbs.includes(a.verb)) return false;
  if (a.resourceRequest) {
    if (strings(rule.nonResourceURLs).length) return false;
    return ruleMatchesResource(rule, a);
  }
  if (asArray(rule.resources).length || strings(rule.namespaces).length) return false;
  const urls = strings(rule.nonResourceURLs);
  if (!urls.length) return true;
  return urls.some((u) => u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
}

export function evaluatePolicy(policy: unknown, a: PolicyAttributes): PolicyDecision {
  const p = asObject(policy);
  const topOmit = strings(p.omitStages) as Stage[];
  const topManaged = p.omitManagedFields === true;
  for (const rule of asArray(p.rules).filter(isObject)) {
    if (!ruleMatches(rule, a)) continue;
    const level = (LEVELS.includes(rule.level as Level) ? rule.level : 'None') as Level;
    return {
      level,
      omitStages: [...topOmit, ...(strings(rule.omitStages) as Stage[])],
      omitManagedFields:
        typeof rule.omitManagedFields === 'boolean' ? rule.omitManagedFields : topManaged,
    };
  }
  return { level: 'None', omitStages: topOmit, omitManagedFields: topManaged };
}

export function stripManagedFields(obj: unknown): unknown {
  if (!isObject(obj)) return obj;
  let out = obj;
  if (isObject(obj.metadata) && 'managedFields' in obj.metadata) {
    const meta = { ...obj.metadata };
    delete meta.managedFields;
    out = { ...obj, metadata: meta };
  }
  if (Array.isArray(out.items)) out = { ...out, items: out.items.map(stripManagedFields) };
  return out;
}

interface Target {
  url: string;
  token?: string;
}

function targetFrom(opts: AuditOptions): Target {
  if (opts.kubeconfig) {
    const cfg = asObject(parseYaml(opts.kubeconfig));
    const contexts = asArray(cfg.contexts).filter(isObject);
    const current = contexts.find((c) => c.name === cfg['current-context']) ?? contexts[0];
    const ctx = asObject(current?.context);
    const clusters = asArray(cfg.clusters).filter(isObject);
    const users = asArray(cfg.users).filter(isObject);
    const cluster = asObject(
      (clusters.find((c) => c.name === ctx.cluster) ?? clusters[0])?.cluster,
    );
    const user = asObject((users.find((u) => u.name === ctx.user) ?? users[0])?.user);
    const url = str(cluster.server ?? '');
    if (!url) throw new Error('audit kubeconfig has no cluster server');
    return { url, token: typeof user.token === 'string' ? user.token : opts.token };
  }
  if (!opts.url) throw new Error('audit needs url or kubeconfig');
  return { url: opts.url, token: opts.token };
}

function postBatch(
  t: Target,
  body: string,
  timeoutMs: number,
): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const u = new URL(t.url);
    const doRequest = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      accept: 'application/json, */*',
      'user-agent': 'kube-apiserver-audit',
      'content-length': Buffer.byteLength(body),
    };
    if (t.token) headers.authorization = `Bearer ${t.token}`;
    const req = doRequest(u, { method: 'POST', headers, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode });
      });
      res.on('error', (e) => resolve({ error: e.message }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ error: 'context deadline exceeded' });
    }, timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      resolve({ error: e.message });
    });
    req.end(body);
  });
}

/** Buffers events and sends them in order, one batch at a time. */
export class AuditBackend {
  readonly policy: unknown;
  private readonly target: Target;
  private readonly maxSize: number;
  private readonly maxWait: number;
  private readonly retries: number;
  private buffer: JsonObject[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    opts: AuditOptions,
    readonly deliveries: AuditDelivery[],
    private readonly log: (line: string) => void,
  ) {
    this.target = targetFrom(opts);
    this.policy = opts.policy ?? DEFAULT_POLICY;
    this.maxSize = opts.batchMaxSize ?? 400;
    this.maxWait = opts.batchMaxWaitMs ?? 30;
    this.retries = opts.retries ?? 3;
  }

  enqueue(event: JsonObject): void {
    if (this.closed) return;
    this.buffer.push(event);
    if (this.buffer.length >= this.maxSize) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.maxWait);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.buffer.length) return;
    const batch = this.buffer;
    this.buffer = [];
    this.chain = this.chain.then(() => this.send(batch));
  }

  private async send(items: JsonObject[]): Promise<void> {
    const body = JSON.stringify({
      kind: 'EventList',
      apiVersion: 'audit.k8s.io/v1',
      metadata: {},
      items,
    });
    for (let attempt = 0; ; attempt++) {
      const res = await postBatch(this.target, body, 10_000);
      const retryable = res.error !== undefined || (res.status !== undefined && res.status >= 500);
      const delivery: AuditDelivery = { events: items.length };
      if (res.status !== undefined) delivery.status = res.status;
      if (res.error !== undefined) delivery.error = res.error;
      this.deliveries.push(delivery);
      if (!retryable) {
        if (res.status !== undefined && res.status >= 300) {
          this.log(`audit batch of ${items.length} rejected with ${res.status}; dropped`);
        }
        return;
      }
      if (attempt >= this.retries || this.closed) {
        this.log(
          `audit batch of ${items.length} dropped after ${attempt + 1} attempts: ${res.error ?? res.status}`,
        );
        return;
      }
      await sleep(20 * 2 ** attempt);
    }
  }

  /** Flush what is buffered and wait (bounded) for in-flight batches. */
  async close(): Promise<void> {
    this.flush();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2000);
    });
    await Promise.race([this.chain, bound]);
    clearTimeout(timer);
    this.closed = true;
  }
}
