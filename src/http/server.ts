// Starts the HTTP(S) server with timeouts suited to the API server as a client, and shuts it
// down gracefully: stop accepting, let in-flight requests finish, then resolve. With TLS, the
// certificate, key and client CA are re-read when their files change (cert-manager rotation)
// and swapped in with setSecureContext, without a restart; TLS 1.2 is the minimum.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Config } from '../config/index.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { filesStamp } from '../auth/file-stamp.js';

/** The API server keeps webhook connections alive for up to 90 s; never close them first. */
export const KEEP_ALIVE_TIMEOUT_MS = 95_000;
/**
 * A sender gets 10 s for its headers and 30 s for the whole request (408 after that), so a slow
 * or stalled sender cannot hold a socket for minutes. The API server sends a whole review in
 * milliseconds; 30 s is 16 MiB (--max-body-bytes) at about 0.5 MiB/s.
 */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
/** How often the TLS files are stat'ed for changes. */
export const TLS_RELOAD_INTERVAL_MS = 1000;
export const TLS_MIN_VERSION = 'TLSv1.2';

export interface RunningServer {
  server: http.Server | https.Server;
  url: string;
  port: number;
  close(graceMs?: number): Promise<void>;
}

export interface ServerOptions {
  /** Where TLS reloads and their failures are logged (default: a logger at SYNC_LOG_LEVEL). */
  logger?: Logger;
  tlsReloadIntervalMs?: number;
}

type TlsFiles = { certFile: string; keyFile: string; caFile?: string };

/** The secure-context options from the files; throws (without file contents) if unusable. */
function readSecureContextOptions(files: TlsFiles): tls.SecureContextOptions {
  const options: tls.SecureContextOptions = {
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
    minVersion: TLS_MIN_VERSION,
  };
  if (files.caFile) options.ca = readFileSync(files.caFile);
  // Fails on a certificate/key mismatch, which a non-atomic rotation can show for a moment.
  tls.createSecureContext(options);
  return options;
}

function watchTlsFiles(
  server: https.Server,
  files: TlsFiles,
  logger: Logger,
  intervalMs: number,
): () => void {
  const paths = [files.certFile, files.keyFile, ...(files.caFile ? [files.caFile] : [])];
  let stamp = filesStamp(paths);
  const check = (): void => {
    const next = filesStamp(paths);
    if (next === stamp) return;
    // Remember failed stamps too: one error line per change, retried on the next change.
    stamp = next;
    try {
      server.setSecureContext(readSecureContextOptions(files));
      logger.info(
        { event: 'tls-reloaded', certFile: files.certFile, caFile: files.caFile },
        'serving certificate reloaded',
      );
    } catch (err) {
      logger.error(
        {
          event: 'tls-reload-failed',
          certFile: files.certFile,
          keyFile: files.keyFile,
          err: err instanceof Error ? err.message : String(err),
        },
        'TLS files changed but could not be loaded; keeping the previous certificate',
      );
    }
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

export async function startServer(
  app: Express,
  config: Pick<Config, 'server'>,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const { tlsCertFile, tlsKeyFile, tlsClientCaFile } = config.server;
  const logger = options.logger ?? createLogger();
  let stopWatching = (): void => undefined;
  let server: http.Server | https.Server;
  if (tlsCertFile && tlsKeyFile) {
    const files: TlsFiles = { certFile: tlsCertFile, keyFile: tlsKeyFile, caFile: tlsClientCaFile };
    const secure = https.createServer(
      {
        ...readSecureContextOptions(files),
        // Ask for a client certificate only when a CA can verify it; never refuse the handshake
        // without one, so JWT callers keep working (the authenticator reads socket.authorized).
        requestCert: Boolean(tlsClientCaFile),
        rejectUnauthorized: false,
      },
      app,
    );
    secure.on('tlsClientError', (err: NodeJS.ErrnoException) => {
      logger.debug({ event: 'tls-client-error', code: err.code }, 'TLS handshake failed');
    });
    stopWatching = watchTlsFiles(
      secure,
      files,
      logger,
      options.tlsReloadIntervalMs ?? TLS_RELOAD_INTERVAL_MS,
    );
    server = secure;
  } else {
    server = http.createServer(app);
  }
  const tlsOn = server instanceof https.Server;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.server.port, config.server.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    stopWatching();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    port: address.port,
    url: `${tlsOn ? 'https' : 'http'}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    close: (graceMs = 25_000) => {
      stopWatching();
      return closeGracefully(server, graceMs);
    },
  };
}

function closeGracefully(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    // Idle keep-alive sockets would hold close() open; in-flight requests keep theirs, and a
    // socket that goes idle after its last response is closed on the next sweep.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    sweep.unref();
    server.close(() => {
      clearTimeout(force);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}
