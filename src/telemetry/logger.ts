// The one pino logger. Secrets (bearer tokens, Consul tokens, key material) are redacted by path
// here, and token-shaped strings are scrubbed from URLs by the request logger (src/http).
import { pino, type Logger, type DestinationStream, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Paths redacted in every log line, wherever they appear in the logged object. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  '*.headers["x-consul-token"]',
  'headers["x-consul-token"]',
  'consulToken',
  '*.consulToken',
  'secret',
  '*.secret',
  'key',
  '*.key',
  'privateKey',
  '*.privateKey',
  'password',
  '*.password',
];

export interface LoggerSettings {
  level?: string;
  destination?: DestinationStream;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? process.env.SYNC_LOG_LEVEL ?? 'info',
    base: { service: 'k8s-consul-sync' },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  // Without a destination: stdout, written asynchronously in chunks (a synchronous write per
  // line costs more than the event it logs); `serve` flushes it on shutdown.
  return pino(options, settings.destination ?? pino.destination({ dest: 1, sync: false }));
}

const JWT_SHAPE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

/** Removes anything shaped like a JWT from a string (URLs carrying a path token, error text). */
export function scrubSecrets(text: string): string {
  return text.replace(JWT_SHAPE, '[REDACTED]');
}
