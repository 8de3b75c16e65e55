import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { Writable } from 'node:stream';
import { createApp, type Handler } from '../../src/http/app.js';
import { Readiness, READY_WINDOW_MS } from '../../src/telemetry/readiness.js';
import { createAuthenticator } from '../../src/http/auth.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { parseConfig } from '../../src/config/index.js';
import { SyncError } from '../../src/errors.js';

function setup(handlers: Record<string, Handler> = {}, now = () => 0) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const config = parseConfig(['serve', '--auth-disabled', '--max-body-bytes=2048']);
  const logger = createLogger({ level: 'debug', destination });
  const metrics = createMetrics({ defaultMetrics: false });
  const readiness = new Readiness(now);
  const auth = createAuthenticator(config, logger, metrics);
  const app = createApp({ config, logger, metrics, readiness, auth, handlers });
  return { app, readiness, lines, metrics };
}

const echo: Handler = async (req, res) => {
  res.json({ got: req.body as unknown });
};

test('GET /healthz answers 200 while serving', async () => {
  const { app } = setup();
  const res = await request(app).get('/healthz').expect(200);
  assert.deepEqual(res.body, { status: 'ok' });
});

test('GET /readyz: 503 until both Consul and Kubernetes answered within 30 s', async () => {
  let t = 1_000_000;
  const { app, readiness } = setup({}, () => t);
  let res = await request(app).get('/readyz').expect(503);
  assert.equal(res.body.ready, false);
  readiness.ok('consul');
  await request(app).get('/readyz').expect(503);
  readiness.ok('kubernetes');
  res = await request(app).get('/readyz').expect(200);
  assert.equal(res.body.ready, true);
  t += READY_WINDOW_MS;
  await request(app).get('/readyz').expect(200);
  t += 1;
  res = await request(app).get('/readyz').expect(503);
  assert.equal(res.body.consul.lastOkAgoMs, READY_WINDOW_MS + 1);
});

test('GET /metrics is Prometheus text with the metrics of docs/reference.md "Observability"', async () => {
  const { app, metrics } = setup();
  metrics.events.inc({ source: 'admission', outcome: 'ok' });
  const res = await request(app).get('/metrics').expect(200);
  assert.match(res.headers['content-type'] ?? '', /^text\/plain/);
  for (const name of [
    'k8s_consul_sync_events_total',
    'k8s_consul_sync_event_duration_seconds',
    'k8s_consul_sync_writes_total',
    'k8s_consul_sync_skipped_total',
    'k8s_consul_sync_auth_failures_total',
    'k8s_consul_sync_last_reconcile_timestamp_seconds',
  ]) {
    assert.match(res.text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
  assert.match(res.text, /^k8s_consul_sync_events_total\{source="admission",outcome="ok"\} 1$/m);
});

test('unknown path: 404 JSON error', async () => {
  const { app } = setup();
  const res = await request(app).get('/nope').expect(404);
  assert.equal(res.body.error.code, 'NOT_FOUND');
  assert.equal(typeof res.body.error.message, 'string');
});

test('wrong method: 405 with Allow', async () => {
  const { app } = setup({ admission: echo });
  let res = await request(app).get('/k8s/admission').expect(405);
  assert.equal(res.body.error.code, 'METHOD_NOT_ALLOWED');
  assert.equal(res.headers.allow, 'POST');
  res = await request(app).post('/healthz').expect(405);
  assert.equal(res.headers.allow, 'GET');
});

test('a disabled route does not exist', async () => {
  const { app } = setup({});
  await request(app).post('/k8s/audit').send({}).expect(404);
});

test('body over --max-body-bytes: 413 JSON error, handler not called', async () => {
  let called = false;
  const { app } = setup({
    admission: async (_req, res) => {
      called = true;
      res.end();
    },
  });
  const res = await request(app)
    .post('/k8s/admission')
    .set('content-type', 'application/json')
    .send(JSON.stringify({ pad: 'x'.repeat(4096) }))
    .expect(413);
  assert.equal(res.body.error.code, 'PAYLOAD_TOO_LARGE');
  assert.equal(called, false);
});

test('malformed JSON: 400 with the JSON error shape', async () => {
  const { app } = setup({ admission: echo });
  const res = await request(app)
    .post('/k8s/admission')
    .set('content-type', 'application/json')
    .send('{"apiVersion": ')
    .expect(400);
  assert.deepEqual(Object.keys(res.body), ['error']);
  assert.equal(res.body.error.code, 'INVALID_JSON');
});

test('JSON body forms json({strict: true}) accepts: BOM, surrounding whitespace, UTF8 charset, empty body', async () => {
  const { app } = setup({ admission: echo });
  const cases: [string, string, unknown][] = [
    ['application/json', '\ufeff{"a":1}', { a: 1 }],
    ['application/json', ' \r\n\t[1, "é"] \n', [1, 'é']],
    ['application/json; charset=UTF8', '{"b":"ü"}', { b: 'ü' }],
    ['application/json; charset="utf-8"', '{"c":true}', { c: true }],
    ['application/merge-patch+json', '{}', {}],
    ['application/json', '   ', {}],
  ];
  for (const [type, body, expected] of cases) {
    const res = await request(app).post('/k8s/admission').set('content-type', type).send(body);
    assert.equal(res.status, 200, `${type} ${JSON.stringify(body)}: ${res.text}`);
    assert.deepEqual(res.body, { got: expected }, `${type} ${body}`);
  }
});

test('JSON body: a top-level scalar is 400 INVALID_JSON, another charset is 415', async () => {
  const { app } = setup({ admission: echo });
  for (const body of ['"text"', '42', 'null', 'true']) {
    const res = await request(app)
      .post('/k8s/admission')
      .set('content-type', 'application/json')
      .send(body)
      .expect(400);
    assert.equal(res.body.error.code, 'INVALID_JSON', body);
  }
  for (const charset of ['utf-16le', 'latin1', 'iso-8859-1']) {
    const res = await request(app)
      .post('/k8s/admission')
      .set('content-type', `application/json; charset=${charset}`)
      .send('{}')
      .expect(415);
    assert.equal(res.body.error.code, 'UNSUPPORTED_MEDIA_TYPE', charset);
  }
});

test('deeply nested JSON is refused before parsing', async () => {
  const { app } = setup({ admission: echo });
  const res = await request(app)
    .post('/k8s/admission')
    .set('content-type', 'application/json')
    .send('['.repeat(500) + ']'.repeat(500))
    .expect(400);
  assert.equal(res.body.error.code, 'BAD_REQUEST');
  assert.match(res.body.error.message, /nested/);
});

test('non-JSON content type: 415', async () => {
  const { app } = setup({ admission: echo });
  const res = await request(app)
    .post('/k8s/admission')
    .set('content-type', 'text/plain')
    .send('hello')
    .expect(415);
  assert.equal(res.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
});

test('the path token segment reaches the same handler', async () => {
  const { app } = setup({ admission: echo });
  const res = await request(app)
    .post('/k8s/admission/eyJhbGciOiJIUzI1NiJ9.e30.sig')
    .send({ a: 1 })
    .expect(200);
  assert.deepEqual(res.body, { got: { a: 1 } });
});

test('errors never leak stack traces; typed errors keep code and status', async () => {
  const { app, lines } = setup({
    admission: async () => {
      throw new Error('secret internals at /app/src/x.ts:12');
    },
    audit: async () => {
      throw new SyncError('CONSUL_UNAVAILABLE', 'consul did not answer');
    },
  });
  const res = await request(app).post('/k8s/admission').send({}).expect(500);
  assert.deepEqual(res.body, { error: { code: 'INTERNAL', message: 'internal error' } });
  assert.ok(!JSON.stringify(res.body).includes('/app/src'));
  const res2 = await request(app).post('/k8s/audit').send({}).expect(503);
  assert.deepEqual(res2.body, {
    error: { code: 'CONSUL_UNAVAILABLE', message: 'consul did not answer' },
  });
  assert.ok(
    lines.some((l) => l.includes('"request-error"')),
    'the failure is logged',
  );
});

test('no x-powered-by, and request lines are logged with the path token scrubbed', async () => {
  const { app, lines } = setup({ admission: echo });
  const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
  const res = await request(app).post(`/k8s/admission/${token}`).send({}).expect(200);
  assert.equal(res.headers['x-powered-by'], undefined);
  const logged = lines.join('');
  assert.match(logged, /"path":"\/k8s\/admission\/\[REDACTED\]"/);
  assert.ok(!logged.includes(token));
});

test('redactPath: nothing after an event path, nor after the first segment of a path that is not ours', async () => {
  const { redactPath } = await import('../../src/http/routes.js');
  const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
  assert.equal(redactPath(`/k8s/admission/${token}`), '/k8s/admission/[REDACTED]');
  assert.equal(redactPath(`/k8s/admissions/mfrgg.mfrgg/${token}`), '/k8s/[REDACTED]');
  assert.equal(redactPath(`/consul/${token}`), '/consul/[REDACTED]');
  assert.equal(redactPath(`/%00/${token}`), '/%00/[REDACTED]');
  assert.equal(redactPath('/healthz'), '/healthz');
  assert.equal(redactPath('/k8s/audit'), '/k8s/audit');
  assert.equal(redactPath('/nothing-here'), '/nothing-here');
  assert.ok(!redactPath(`/${token}`).includes('c2ln'), 'a token as the only segment is scrubbed');
});
