// The Kubernetes API over HTTP, with client-node's KubeConfig for everything that makes a request
// kubectl's: the cluster's address, its TLS settings, the user's credentials (tokens, client
// certificates, exec and auth-provider plugins, their refresh) and proxies. What it leaves out is
// client-node's generated API classes: they turn every request body and every answer into
// model classes field by field, and loading them is most of the process's memory and start
// (README, "Performance"). The few calls the sync makes are plain paths; answers are the API
// server's JSON as sent.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { PACKAGE_NAME, packageVersion } from '../config/version.js';
import { statusMessage } from './errors.js';

/** A non-2xx answer of the API server: `code` is its status, `body` its Status object (or text). */
export class KubeHttpError extends Error {
  constructor(
    readonly code: number,
    readonly body: unknown,
  ) {
    super(`HTTP-Code: ${code} Message: ${statusMessage(body) ?? ''}`.trim());
    this.name = 'KubeHttpError';
  }
}

export type KubeQuery = Record<string, string | number | boolean | undefined>;

export interface KubeRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The API path, its segments already encoded (see `kubePath`). */
  path: string;
  query?: KubeQuery;
  /** Sent as JSON. */
  body?: unknown;
  /** Default application/json (a PATCH names its patch type). */
  contentType?: string;
  signal?: AbortSignal;
}

/** Joins path segments, each percent-encoded: `kubePath('api/v1/namespaces', ns, 'services')`. */
export function kubePath(...segments: string[]): string {
  return segments
    .map((s, i) => (i === 0 ? s.replace(/^\/*/, '/') : encodeURIComponent(s)))
    .join('/');
}

/** Where a namespaced kind lives in the API: its group/version prefix and its resource. */
export interface KubeKind {
  prefix: string;
  resource: string;
}

export const SERVICES: KubeKind = { prefix: 'api/v1', resource: 'services' };
export const ENDPOINT_SLICES: KubeKind = {
  prefix: 'apis/discovery.k8s.io/v1',
  resource: 'endpointslices',
};
export const INGRESSES: KubeKind = { prefix: 'apis/networking.k8s.io/v1', resource: 'ingresses' };
export const EVENTS: KubeKind = { prefix: 'apis/events.k8s.io/v1', resource: 'events' };

/** The path of a kind's collection in a namespace (all namespaces without one), or of one object. */
export function resourcePath(kind: KubeKind, namespace?: string, name?: string): string {
  const collection = namespace
    ? kubePath(kind.prefix, 'namespaces', namespace, kind.resource)
    : kubePath(kind.prefix, kind.resource);
  return name === undefined ? collection : `${collection}/${encodeURIComponent(name)}`;
}

function queryString(query: KubeQuery | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined) params.append(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** What the API server's audit log records as the userAgent, kubectl-style: name/version (os/arch). */
export function userAgent(version = packageVersion()): string {
  return `${PACKAGE_NAME}/${version} (${process.platform}/${process.arch})`;
}

export class KubeRest {
  private readonly base: string;
  private readonly userAgent = userAgent();

  constructor(readonly kubeConfig: KubeConfig) {
    this.base = (kubeConfig.getCurrentCluster()?.server ?? '').replace(/\/+$/, '');
  }

  /**
   * One request; resolves with the answer's JSON (undefined when it has no JSON body), rejects
   * with KubeHttpError on a non-2xx answer, and with the transport's error (an AbortError when
   * `signal` fired) when there is no answer.
   */
  async request<T>(req: KubeRequest): Promise<T> {
    const url = new URL(`${this.base}${req.path}${queryString(req.query)}`);
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string | number> = {
      Accept: 'application/json',
      'User-Agent': this.userAgent,
    };
    if (payload) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = payload.length;
    }
    const options: https.RequestOptions = { method: req.method ?? 'GET', headers };
    // The user's credentials and the cluster's TLS settings, as client-node applies them to
    // its own requests (the agent is the kept-alive one of src/kube/client.ts).
    await this.kubeConfig.applyToHTTPSOptions(options);
    req.signal?.throwIfAborted();
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<T>((resolve, reject) => {
      const request = send(url, options);
      // What http.request's own `signal` option does, without the stream machinery it attaches
      // to every request for it (a tenth of a request's preparation).
      const signal = req.signal;
      const onAbort = (): void => {
        request.destroy(abortError(signal?.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      request.once('close', () => signal?.removeEventListener('abort', onAbort));
      request.on('error', reject);
      request.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        // Cut off before its end (aborted, the connection lost): never a truncated answer.
        res.on('close', () => {
          if (!res.complete) reject(new Error('the API server closed the answer before its end'));
        });
        res.on('end', () => {
          try {
            resolve(answer<T>(res, Buffer.concat(chunks).toString('utf8')));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      });
      request.end(payload);
    });
  }
}

/**
 * Runs `fn` with a signal that aborts after `ms`: a controller and a plain timer, cleared when
 * `fn` settles. AbortSignal.timeout tracks its timer for garbage collection, which costs more
 * than the rest of a call's bookkeeping. A failure after the deadline passed is a
 * DeadlinePassed carrying `fn`'s failure as its cause.
 */
export async function withDeadline<T>(
  ms: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      ),
    ms,
  );
  try {
    return await fn(controller.signal);
  } catch (err) {
    throw controller.signal.aborted ? new DeadlinePassed(err) : err;
  } finally {
    clearTimeout(timer);
  }
}

/** What withDeadline's call failed with after its deadline passed (`cause`: the failure). */
export class DeadlinePassed extends Error {
  constructor(cause: unknown) {
    super('deadline passed', { cause });
    this.name = 'DeadlinePassed';
  }
}

/** The error a request aborted by its signal fails with, as http.request's `signal` makes it. */
function abortError(reason: unknown): Error {
  return Object.assign(new Error('The operation was aborted', { cause: reason }), {
    name: 'AbortError',
    code: 'ABORT_ERR',
  });
}

function answer<T>(res: http.IncomingMessage, text: string): T {
  const status = res.statusCode ?? 0;
  const json = String(res.headers['content-type'] ?? '').includes('json');
  if (status < 200 || status > 299) {
    let body: unknown = text;
    if (json) {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        // Kept as text.
      }
    }
    throw new KubeHttpError(status, body);
  }
  if (!json || text === '') return undefined as T;
  // A 2xx answer that is not the JSON it says it is fails the call, as a garbled read would.
  return JSON.parse(text) as T;
}
