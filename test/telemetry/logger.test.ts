import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/telemetry/logger.js';

/** A logger writing synchronously into an array of parsed lines. */
function capture(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString('utf8').split('\n'))
        if (text) lines.push(JSON.parse(text) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}

const SECRET = 'eyJhbGciOi.secret-value.sig';

test('log lines: secrets are redacted at the top level and one level down', () => {
  const { lines, logger } = capture();
  logger.info(
    {
      token: SECRET,
      authorization: SECRET,
      consulToken: SECRET,
      password: SECRET,
      headers: { authorization: SECRET, 'x-consul-token': SECRET, accept: 'application/json' },
      config: { consulToken: SECRET, key: SECRET, privateKey: SECRET, secret: SECRET, port: 8500 },
      request: { headers: { authorization: SECRET, 'x-consul-token': SECRET, host: 'h' } },
    },
    'hello',
  );
  const [line] = lines;
  assert.ok(line);
  assert.ok(!JSON.stringify(line).includes('secret-value'), JSON.stringify(line));
  assert.equal(line.token, '[REDACTED]');
  assert.equal(line.authorization, '[REDACTED]');
  assert.equal(line.consulToken, '[REDACTED]');
  assert.equal(line.password, '[REDACTED]');
  assert.deepEqual(line.headers, {
    authorization: '[REDACTED]',
    'x-consul-token': '[REDACTED]',
    accept: 'application/json',
  });
  assert.deepEqual(line.config, {
    consulToken: '[REDACTED]',
    key: '[REDACTED]',
    privateKey: '[REDACTED]',
    secret: '[REDACTED]',
    port: 8500,
  });
  assert.deepEqual(line.request, {
    headers: { authorization: '[REDACTED]', 'x-consul-token': '[REDACTED]', host: 'h' },
  });
});

test('log lines: the logged objects are left as they were, and lines without secrets are whole', () => {
  const { lines, logger } = capture();
  const nested = { token: SECRET, headers: { authorization: SECRET }, name: 'web' };
  const fields = { event: 'admission', changes: 2, err: nested, list: [{ token: 'in-array' }] };
  logger.warn(fields, 'x');
  assert.deepEqual(nested, { token: SECRET, headers: { authorization: SECRET }, name: 'web' });
  assert.equal(fields.err, nested);
  const [line] = lines;
  assert.deepEqual(line?.err, {
    token: '[REDACTED]',
    headers: { authorization: '[REDACTED]' },
    name: 'web',
  });
  assert.equal(line?.event, 'admission');
  assert.equal(line?.changes, 2);
  // Two levels down is not a path the logger redacts (nor did pino's `*.token`).
  assert.deepEqual(line?.list, [{ token: 'in-array' }]);

  logger.info({ event: 'admission', 'namespace/name': 'ns/web', outcome: 'written' }, 'ok');
  assert.equal(lines[1]?.['namespace/name'], 'ns/web');
  assert.equal(lines[1]?.outcome, 'written');
});

test('log lines: an Error with a secret field keeps its type for the serializer', () => {
  const { lines, logger } = capture();
  const err = Object.assign(new Error('boom'), { token: SECRET });
  logger.error({ err }, 'failed');
  assert.ok(!JSON.stringify(lines[0]).includes('secret-value'));
  const logged = lines[0]?.err as Record<string, unknown>;
  assert.equal(logged.type, 'Error');
  assert.equal(logged.message, 'boom');
  assert.equal(logged.token, '[REDACTED]');
  assert.equal(err.token, SECRET);
});
