// Builds the `consul` package client from the connection settings (CONSUL_* variables and
// flags): TLS through one https.Agent shared with any raw call, the token re-read from
// CONSUL_HTTP_TOKEN_FILE when it changes. The token is never logged.
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
  agent: http.Agent | https.Agent;
  connection: ConsulConnection;
  close(): void;
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
  const token = tokenReader(connection);
  return {
    client,
    token,
    opts: (timeoutMs) => {
      const t = token();
      return {
        ...(t ? { token: t } : {}),
        timeout: timeoutMs && timeoutMs > 0 ? timeoutMs : DEFAULT_CONSUL_TIMEOUT_MS,
        // The consul package sends it as ?partition= on every call (Consul Enterprise).
        ...(connection.partition ? { partition: connection.partition } : {}),
      };
    },
    agent,
    connection,
    close: () => agent.destroy(),
  };
}
