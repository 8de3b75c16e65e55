// Starts the HTTP(S) server with timeouts suited to the API server as a client, and shuts it
// down gracefully: stop accepting, let in-flight requests finish, then resolve.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Config } from '../config/index.js';

/** The API server keeps webhook connections alive for up to 90 s; never close them first. */
export const KEEP_ALIVE_TIMEOUT_MS = 95_000;
export const HEADERS_TIMEOUT_MS = 32_000;
export const REQUEST_TIMEOUT_MS = 60_000;

export interface RunningServer {
  server: http.Server | https.Server;
  url: string;
  port: number;
  close(graceMs?: number): Promise<void>;
}

export async function startServer(
  app: Express,
  config: Pick<Config, 'server'>,
): Promise<RunningServer> {
  const { tlsCertFile, tlsKeyFile } = config.server;
  const tls = Boolean(tlsCertFile && tlsKeyFile);
  const server: http.Server | https.Server = tls
    ? https.createServer(
        { cert: readFileSync(tlsCertFile!), key: readFileSync(tlsKeyFile!), minVersion: 'TLSv1.2' },
        app,
      )
    : http.createServer(app);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    port: address.port,
    url: `${tls ? 'https' : 'http'}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    close: (graceMs = 25_000) => closeGracefully(server, graceMs),
  };
}

function closeGracefully(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    // Idle keep-alive sockets would hold close() open; in-flight requests keep theirs.
    server.closeIdleConnections();
  });
}
