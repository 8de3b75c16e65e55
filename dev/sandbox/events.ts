// The sandbox's event feed: every call the emulators make to the server (admission reviews,
// watch deliveries, audit batches), with what it was about and how long the handler took, plus
// refused calls (401/403) picked from the server's log lines. Kept in memory, newest last.
import { LABEL_SERVICE_NAME } from '../../src/translate/keys.js';
import type { Request, Response } from 'express';
import type { Handler } from '../../src/http/app.js';
import type { RouteName } from '../../src/http/routes.js';

export interface SandboxEvent {
  at: Date;
  source: 'admission' | 'audit' | 'consul-watch' | 'reconcile' | 'auth';
  /** What it was about: `shop/web`, `5 services`, the refused path. */
  subject: string;
  /** Operation and resource, the watch index, the write summary, the refusal reason. */
  detail: string;
  status: number;
  durationMs: number;
}

export type EventListener = (event: SandboxEvent) => void;

export class EventLog {
  private readonly items: SandboxEvent[] = [];
  private readonly listeners = new Set<EventListener>();
  private total = 0;

  constructor(private readonly capacity = 100) {}

  add(event: SandboxEvent): void {
    this.items.push(event);
    this.total++;
    if (this.items.length > this.capacity) this.items.shift();
    for (const l of this.listeners) l(event);
  }

  /** The last `n` events, oldest first. */
  recent(n: number): SandboxEvent[] {
    return this.items.slice(-n);
  }

  /** Events seen since start (including those dropped from memory). */
  count(): number {
    return this.total;
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' ? (v as Json) : {});
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** `CREATE services shop/web`: the admission request, with a slice named after its service. */
function describeAdmission(body: unknown): { subject: string; detail: string } {
  const request = obj(obj(body).request);
  const resource = text(obj(request.resource).resource) || '?';
  const sub = text(request.subResource);
  const object = obj(request.object ?? request.oldObject);
  const namespace = text(request.namespace);
  let name = text(request.name) || text(obj(object.metadata).name);
  if (resource === 'endpointslices') {
    const svc = text(obj(obj(object.metadata).labels)[LABEL_SERVICE_NAME]);
    if (svc) name = svc;
  }
  return {
    subject: namespace ? `${namespace}/${name}` : name,
    detail: `${text(request.operation) || '?'} ${sub ? `${resource}/${sub}` : resource}`,
  };
}

function describeAudit(body: unknown): { subject: string; detail: string } {
  const items = Array.isArray(obj(body).items) ? (obj(body).items as unknown[]) : [];
  const refs = new Set<string>();
  for (const item of items) {
    const ref = obj(obj(item).objectRef);
    refs.add(`${text(ref.namespace)}/${text(ref.name)}`);
  }
  const first = [...refs][0] ?? '';
  return {
    subject: refs.size === 1 ? first : `${refs.size} objects`,
    detail: `${items.length} event${items.length === 1 ? '' : 's'}`,
  };
}

function describeWatch(body: unknown, req: Request): { subject: string; detail: string } {
  const names = Object.keys(obj(body));
  const index = req.get('X-Consul-Index');
  return {
    subject: `${names.length} service${names.length === 1 ? '' : 's'}`,
    detail: index ? `index ${index}` : 'view',
  };
}

/** `created 1, deleted 2` from a consul-watch or reconcile answer; '' when nothing changed. */
function summarize(answer: unknown): string {
  const a = obj(answer);
  const parts: string[] = [];
  for (const key of ['created', 'updated', 'deleted', 'failed']) {
    const n = a[key];
    if (typeof n === 'number' && n > 0) parts.push(`${key} ${n}`);
  }
  const warnings = a.warnings;
  if (Array.isArray(warnings) && warnings.length > 0) parts.push(`${warnings.length} warning(s)`);
  const response = obj(a.response);
  if (Array.isArray(response.warnings) && response.warnings.length > 0) {
    parts.push(`${response.warnings.length} warning(s)`);
  }
  return parts.join(', ');
}

const SOURCE: Record<RouteName, SandboxEvent['source']> = {
  admission: 'admission',
  audit: 'audit',
  consulServices: 'consul-watch',
  consulChecks: 'consul-watch',
  reconcile: 'reconcile',
};

/** Each handler, recording one event when its answer has been sent. */
export function recordHandlers(
  handlers: Record<RouteName, Handler>,
  log: EventLog,
): Record<RouteName, Handler> {
  const wrapped = {} as Record<RouteName, Handler>;
  for (const name of Object.keys(handlers) as RouteName[]) {
    const handler = handlers[name];
    wrapped[name] = (req: Request, res: Response): Promise<void> => {
      const started = performance.now();
      let answer: unknown;
      const json = res.json.bind(res);
      res.json = (body: unknown) => {
        answer = body;
        return json(body);
      };
      res.once('finish', () => {
        const what =
          name === 'admission'
            ? describeAdmission(req.body)
            : name === 'audit'
              ? describeAudit(req.body)
              : name === 'consulServices'
                ? describeWatch(req.body, req)
                : { subject: 'all', detail: text(req.query.direction) || 'both' };
        const summary = summarize(answer);
        log.add({
          at: new Date(),
          source: SOURCE[name],
          subject: what.subject,
          detail: summary ? `${what.detail}: ${summary}` : what.detail,
          status: res.statusCode,
          durationMs: performance.now() - started,
        });
      });
      return handler(req, res);
    };
  }
  return wrapped;
}

/**
 * A pino log line → an event, for what no handler sees: refused calls (`auth-failure`).
 * Returns undefined for every other line.
 */
export function eventFromLogLine(line: string): SandboxEvent | undefined {
  if (!line.includes('"auth-failure"')) return undefined;
  let parsed: Json;
  try {
    parsed = obj(JSON.parse(line));
  } catch {
    return undefined;
  }
  if (parsed.event !== 'auth-failure') return undefined;
  const reason = text(parsed.reason) || 'refused';
  return {
    at: new Date(),
    source: 'auth',
    subject: text(parsed.path) || '?',
    detail: `refused: ${reason}`,
    status: reason === 'wrong-scope' ? 403 : 401,
    durationMs: 0,
  };
}
