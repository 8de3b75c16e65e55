// Builds the `consul` package client from the connection settings (CONSUL_* variables and
// flags): TLS through one https.Agent shared with any raw call, the token re-read from
// CONSUL_HTTP_TOKEN_FILE when it changes. The token is never logged.
import type { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { readFileSync, statSync } from 'node:fs';
import Consul from 'consul';
import type { ConsulConnection } from '../config/index.js';

export type ConsulClient = InstanceType<typeof Consul>;

export interface ConsulHandle {
  client: ConsulClient;
  /** The current ACL token (re-read from the token file when it changed), or undefined. */
  token(): string | undefined;
  /**
   * Options to pass to every `consul` call: token and timeout (DEFAULT_CONSUL_TIMEOUT_MS when
   * the caller gives none: no call goes out unbounded).
   */
  opts(timeoutMs?: number): { token?: string; timeout: number; partition?: string };
  /**
   * A call the `consul` package has no method for (the namespace endpoints,
   * `/catalog/node-services`), made through the package's own client: the same agent, token,
   * partition, timeout and errors. `path` is under /v1 and may name `{params}`.
   */
  request<T>(call: RawCall): Promise<T>;
  agent: http.Agent | https.Agent;
  connection: ConsulConnection;
  close(): void;
}

export interface RawCall {
  method: 'GET' | 'PUT';
  path: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
  /** As the package's calls take it: `includeResponse` answers [response, body]. */
  ctx?: EventEmitter;
}

/**
 * A package call's context may carry the Consul namespace to read (`consulNamespace`): the
 * `consul` package has no `ns` option, so this request hook adds `?ns=` to the query.
 */
export type NamespacedContext = EventEmitter & {
  includeResponse?: boolean;
  consulNamespace?: string;
};

interface PapiRequest {
  opts: { query: Record<string, string> };
  ctx?: NamespacedContext;
  err?: Error & { response?: unknown };
  res?: { body?: unknown };
}
type PapiNext = (err?: unknown, value?: unknown, maybeValue?: unknown) => void;
interface PapiClient {
  _ext(event: string, fn: (request: PapiRequest, next: PapiNext) => void): void;
  _get(
    req: object,
    ...middleware: ((request: PapiRequest, next: PapiNext) => void)[]
  ): Promise<unknown>;
  _put(
    req: object,
    ...middleware: ((request: PapiRequest, next: PapiNext) => void)[]
  ): Promise<unknown>;
}

/** The package's `body` step: the decoded body, or [response, body] when the context asks. */
function bodyOf(request: PapiRequest, next: PapiNext): void {
  if (request.err) {
    if (request.ctx?.includeResponse) request.err.response = request.res;
    next(false, request.err);
    return;
  }
  const body = request.res?.body;
  next(false, undefined, request.ctx?.includeResponse ? [request.res, body] : body);
}

function tokenReader(connection: ConsulConnection): () => string | undefined {
  if (connection.token) {
    const token = connection.token;
    return () => token;
  }
  const file = connection.tokenFile;
  if (!file) return () => undefined;
  let cached: { mtimeMs: number; size: number; token: string } | undefined;
  let checkedAt = 0;
  return () => {
    const now = Date.now();
    if (cached && now - checkedAt < 1000) return cached.token || undefined;
    checkedAt = now;
    const stat = statSync(file);
    if (!cached || stat.mtimeMs !== cached.mtimeMs || stat.size !== cached.size) {
      cached = { mtimeMs: stat.mtimeMs, size: stat.size, token: readFileSync(file, 'utf8').trim() };
    }
    return cached.token || undefined;
  };
}

/** A call's bound when its caller gives none: the default of --write-timeout. */
export const DEFAULT_CONSUL_TIMEOUT_MS = 3000;

export function createConsulHandle(connection: ConsulConnection): ConsulHandle {
  const secure = connection.scheme === 'https';
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        maxSockets: 64,
        ca: connection.caCert ? readFileSync(connection.caCert) : undefined,
        cert: connection.clientCert ? readFileSync(connection.clientCert) : undefined,
        key: connection.clientKey ? readFileSync(connection.clientKey) : undefined,
        servername: connection.tlsServerName,
        rejectUnauthorized: connection.sslVerify,
      })
    : new http.Agent({ keepAlive: true, maxSockets: 64 });
  const client = new Consul({
    host: connection.host,
    port: connection.port,
    secure,
    agent,
  });
  const papi = client as unknown as PapiClient;
  papi._ext('onCreate', (request, next) => {
    const ns = request.ctx?.consulNamespace;
    if (ns) request.opts.query.ns = ns;
    next();
  });
  const token = tokenReader(connection);
  const opts = (timeoutMs?: number): ReturnType<ConsulHandle['opts']> => {
    const t = token();
    return {
      ...(t ? { token: t } : {}),
      timeout: timeoutMs && timeoutMs > 0 ? timeoutMs : DEFAULT_CONSUL_TIMEOUT_MS,
      // The consul package sends it as ?partition= on every call (Consul Enterprise).
      ...(connection.partition ? { partition: connection.partition } : {}),
    };
  };
  return {
    client,
    token,
    opts,
    request: async <T>(call: RawCall): Promise<T> => {
      const o = opts(call.timeoutMs);
      const req = {
        name: `consul.${call.method.toLowerCase()} ${call.path}`,
        path: call.path,
        params: call.params ?? {},
        query: { ...call.query, ...(o.partition ? { partition: o.partition } : {}) },
        headers: o.token ? { 'x-consul-token': o.token } : {},
        timeout: o.timeout,
        ...(call.body !== undefined ? { body: call.body, type: 'json' } : {}),
        ...(call.ctx ? { ctx: call.ctx } : {}),
      };
      return (await (call.method === 'GET' ? papi._get(req, bodyOf) : papi._put(req, bodyOf))) as T;
    },
    agent,
    connection,
    close: () => agent.destroy(),
  };
}
