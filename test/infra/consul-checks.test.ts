// infra/consul/watch-checks.{json,hcl} (issue 16): the `checks` watch of endpoints mode reaches
// POST /consul/checks with a consul:watch bearer token, in both formats alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTES } from '../../src/http/app.js';
import { PLACEHOLDERS, parseHcl, readRepoFile } from './load.js';

const json = (JSON.parse(readRepoFile('infra/consul/watch-checks.json')) as { watches: unknown[] })
  .watches as Record<string, unknown>[];
const hcl = (parseHcl(readRepoFile('infra/consul/watch-checks.hcl')) as { watches: unknown[] })
  .watches as Record<string, unknown>[];

test('JSON and HCL say the same thing', () => {
  assert.deepEqual(hcl, json);
});

test('one checks watch over every state, delivered over HTTPS to POST /consul/checks', () => {
  assert.equal(json.length, 1);
  const watch = json[0]!;
  assert.equal(watch.type, 'checks');
  // /v1/health/state/any: the handler needs the passing checks too, to see recoveries.
  assert.equal(watch.state, 'any');
  assert.equal(watch.handler_type, 'http');
  const http = watch.http_handler_config as Record<string, unknown>;
  const url = new URL(http.path as string);
  assert.equal(url.protocol, 'https:');
  assert.equal(url.origin, PLACEHOLDERS.watchBaseUrl);
  assert.equal(url.pathname, ROUTES.find((r) => r.name === 'consulChecks')!.path);
  assert.equal(ROUTES.find((r) => r.name === 'consulChecks')!.scope, 'consul:watch');
  assert.equal(http.method, 'POST');
  assert.deepEqual(http.header, { Authorization: [`Bearer ${PLACEHOLDERS.watchToken}`] });
  assert.equal(http.tls_skip_verify, false);
});
