// Agent watches of type "services" with an HTTP handler, as a Consul agent runs them: the watch
// plan delivers the view once, then again only when the view (name → tags) differs from the last
// one handed to the handler. The handler is called synchronously by the plan, so deliveries for
// one watch are serialized and changes during a delivery collapse into one later delivery.
// A failed delivery is logged and not retried.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseGoDuration } from './duration.js';

export interface WatchConfig {
  type: 'services';
  url: string;
  /** Default POST. */
  method?: string;
  headers?: Record<string, string[]>;
  /** Default 10000. */
  timeoutMs?: number;
  /**
   * The watch's ACL token (`token` in the agent's watch config): the view then holds only the
   * services it may read, and an unknown token delivers nothing. Unset: the management token.
   */
  token?: string;
}

export interface WatchDelivery {
  url: string;
  index: number;
  at: number;
  /** The watch handler's HTTP status, when it answered. */
  status?: number;
  /** Why no status was received (connection refused, timeout, ...). */
  error?: string;
  /**
   * The JSON body that was sent; kept for the last BODIES_KEPT deliveries only (at 15,000
   * services every body is ~0.5 MB: a run of 10,000 deliveries held 3 GB).
   */
  body?: string;
}

export interface WatchSource {
  /**
   * The current services view as JSON as `token` sees it, and the index Consul would report
   * with it; `error` when the watch's query itself fails (unknown token).
   */
  view(token: string | undefined): { body: string; index: number } | { error: string };
  /** Changes whenever the view may have changed (cheap to read). */
  version(): number;
}

/** Deliveries that keep their body (the older ones keep the rest of their record). */
export const BODIES_KEPT = 100;

interface WatchState {
  config: WatchConfig;
  lastBody: string | null;
  seenVersion: number;
  running: boolean;
}

export class WatchRunner {
  private readonly watches: WatchState[] = [];
  private closed = false;
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly source: WatchSource,
    private readonly deliveries: WatchDelivery[],
    private readonly log: (line: string) => void,
  ) {}

  add(config: WatchConfig): void {
    const state: WatchState = { config, lastBody: null, seenVersion: -1, running: false };
    this.watches.push(state);
    this.kick(state);
  }

  /** Called after every commit; checks all watches on the next tick (coalescing bursts). */
  notify(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const w of this.watches) this.kick(w);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
  }

  private kick(w: WatchState): void {
    if (w.running || this.closed) return;
    if (w.seenVersion === this.source.version()) return;
    w.running = true;
    const run = this.run(w).finally(() => {
      this.inFlight.delete(run);
      w.running = false;
      if (!this.closed && w.seenVersion !== this.source.version()) this.kick(w);
    });
    this.inFlight.add(run);
  }

  private async run(w: WatchState): Promise<void> {
    while (!this.closed && w.seenVersion !== this.source.version()) {
      w.seenVersion = this.source.version();
      const view = this.source.view(w.config.token);
      if ('error' in view) {
        // the watch plan logs a failed query and retries; its handler is not called
        this.log(`watch ${w.config.url} error=${view.error}`);
        continue;
      }
      const { body, index } = view;
      if (body === w.lastBody) continue;
      // the plan records the value before invoking the handler: a failure is not retried
      w.lastBody = body;
      await this.deliver(w.config, body, index);
    }
  }

  private deliver(config: WatchConfig, body: string, index: number): Promise<void> {
    const url = new URL(config.url);
    const payload = `${body}\n`;
    const headers: Record<string, string | string[]> = {
      'Content-Type': 'application/json',
      'X-Consul-Index': String(index),
      'Content-Length': String(Buffer.byteLength(payload)),
    };
    for (const [name, values] of Object.entries(config.headers ?? {})) headers[name] = values;
    const record: WatchDelivery = { url: config.url, index, at: Date.now(), body };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<void>((resolve) => {
      let settled = false;
      const finish = (patch: Partial<WatchDelivery>): void => {
        if (settled) return;
        settled = true;
        Object.assign(record, patch);
        this.deliveries.push(record);
        const old = this.deliveries[this.deliveries.length - 1 - BODIES_KEPT];
        if (old !== undefined) delete old.body;
        this.log(
          `watch ${config.url} index=${index} ` +
            (record.status !== undefined
              ? `status=${record.status}`
              : `error=${record.error ?? ''}`),
        );
        resolve();
      };
      const req = request(
        url,
        {
          method: config.method ?? 'POST',
          headers,
          agent: false,
          timeout: config.timeoutMs ?? 10_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => finish({ status: res.statusCode ?? 0 }));
          res.on('error', (err) => finish({ error: err.message }));
        },
      );
      req.on('timeout', () => {
        req.destroy(new Error(`timeout after ${config.timeoutMs ?? 10_000}ms`));
      });
      req.on('error', (err) => finish({ error: err.message }));
      req.end(payload);
    });
  }
}

/**
 * Reads the agent configuration's `watches` (JSON: {"watches":[{"type":"services","token",
 * "handler_type":"http","http_handler_config":{"path","method","header","timeout"}}]}).
 *
 * URL rule: a relative `path` ("/consul/services") is resolved against `baseUrl`; an absolute
 * `path` keeps its path and query but takes scheme, host and port from `baseUrl` (the config
 * names the in-cluster address, the emulator delivers on loopback). With an empty `baseUrl`
 * an absolute `path` is used unchanged. Watches of other types or handler types are skipped.
 */
export function watchesFromAgentConfig(config: unknown, baseUrl: string): WatchConfig[] {
  const parsed: unknown = typeof config === 'string' ? JSON.parse(config) : config;
  if (parsed === null || typeof parsed !== 'object')
    throw new Error('agent config must be an object');
  const watches = (parsed as { watches?: unknown }).watches;
  if (watches === undefined) return [];
  if (!Array.isArray(watches)) throw new Error('agent config "watches" must be an array');
  const out: WatchConfig[] = [];
  for (const raw of watches as unknown[]) {
    if (raw === null || typeof raw !== 'object') throw new Error('each watch must be an object');
    const w = raw as Record<string, unknown>;
    if (w.type !== 'services') continue;
    const handlerType =
      w.handler_type ?? (w.http_handler_config !== undefined ? 'http' : undefined);
    if (handlerType !== 'http') continue;
    const h = w.http_handler_config;
    if (h === null || typeof h !== 'object')
      throw new Error('http watch without http_handler_config');
    const hc = h as Record<string, unknown>;
    if (typeof hc.path !== 'string' || hc.path === '')
      throw new Error('http_handler_config.path is required');
    const watch: WatchConfig = { type: 'services', url: resolveWatchUrl(hc.path, baseUrl) };
    if (typeof w.token === 'string' && w.token !== '') watch.token = w.token;
    if (typeof hc.method === 'string' && hc.method !== '') watch.method = hc.method.toUpperCase();
    if (hc.header !== undefined && hc.header !== null) {
      if (typeof hc.header !== 'object')
        throw new Error('http_handler_config.header must be an object');
      const headers: Record<string, string[]> = {};
      for (const [name, value] of Object.entries(hc.header as Record<string, unknown>)) {
        headers[name] = Array.isArray(value) ? value.map(String) : [String(value)];
      }
      watch.headers = headers;
    }
    if (hc.timeout !== undefined) {
      // a JSON number is nanoseconds (Go time.Duration), a string is a Go duration
      const t = hc.timeout;
      const ms =
        typeof t === 'number' ? t / 1e6 : typeof t === 'string' ? parseGoDuration(t) : null;
      if (ms === null || ms <= 0)
        throw new Error(`invalid http_handler_config.timeout: ${JSON.stringify(t)}`);
      watch.timeoutMs = ms;
    }
    out.push(watch);
  }
  return out;
}

function resolveWatchUrl(path: string, baseUrl: string): string {
  const absolute = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(path);
  if (!absolute) {
    if (baseUrl === '') throw new Error(`relative watch path ${path} needs a baseUrl`);
    return new URL(path, baseUrl).toString();
  }
  if (baseUrl === '') return path;
  const target = new URL(path);
  const base = new URL(baseUrl);
  target.protocol = base.protocol;
  target.host = base.host;
  return target.toString();
}
