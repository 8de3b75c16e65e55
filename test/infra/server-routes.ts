// Asks the real express app (through supertest, as test/http does) how it answers a GET, so the
// probes in the manifests are checked against the routes the server has, not a copied list.
import request from 'supertest';
import { createApp } from '../../src/http/app.js';
import { createAuthenticator } from '../../src/http/auth.js';
import { Readiness } from '../../src/telemetry/readiness.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';

let app: ReturnType<typeof createApp> | undefined;

export async function getStatus(path: string): Promise<number> {
  if (!app) {
    const config = parseConfig(['serve', '--auth-disabled']);
    const logger = createLogger({ level: 'silent' });
    const metrics = createMetrics({ defaultMetrics: false });
    const auth = createAuthenticator(config, logger, metrics);
    app = createApp({ config, logger, metrics, readiness: new Readiness(), auth, handlers: {} });
  }
  const res = await request(app).get(path);
  return res.status;
}
