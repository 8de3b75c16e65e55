// The Consul side of infra/: the agent watch config (JSON and HCL must say the same thing and
// reach POST /consul/services with a bearer token), the ACL policy, and the handler script's
// structure (its behaviour is in forward-watch.int.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { FLAGS, parseDuration } from '../../src/config/index.js';
import { ROUTES } from '../../src/http/app.js';
import {
  FILES,
  PLACEHOLDERS,
  REPO_ROOT,
  loadWatchConfig,
  parseEnvFile,
  parseHcl,
  readRepoFile,
} from './load.js';

describe('parseHcl (the small HCL reader the tests use)', () => {
  test('attributes, nested blocks, labelled blocks, lists, objects and comments', () => {
    const text = `
      # comment
      name = "a \\"quoted\\" value" // trailing comment
      count = 3
      enabled = true
      /* block
         comment */
      list = ["x", "y",]
      obj = { x-key = ["v"], "quoted key" = false }
      block {
        inner = -1.5
      }
      node "n1" { policy = "write" }
      node "n2" { policy = "read" }
    `;
    assert.deepEqual(parseHcl(text), {
      name: 'a "quoted" value',
      count: 3,
      enabled: true,
      list: ['x', 'y'],
      obj: { 'x-key': ['v'], 'quoted key': false },
      block: { inner: -1.5 },
      node: { n1: { policy: 'write' }, n2: { policy: 'read' } },
    });
  });

  test('refuses what it does not understand instead of guessing', () => {
    for (const bad of [
      'a = ',
      'a = "unterminated',
      'a = [1 2]',
      'a = 1\na = 2',
      'block {',
      'a = nope',
      'a = "x" }',
      'node "n" { policy = "read" }\nnode "n" { policy = "write" }',
      'a = @',
    ]) {
      assert.throws(() => parseHcl(bad), Error, JSON.stringify(bad));
    }
  });
});

describe('Consul watch config (infra/consul/watch.json, watch.hcl)', () => {
  const json = loadWatchConfig({ format: 'json' });
  const hcl = loadWatchConfig({ format: 'hcl' });

  test('JSON and HCL say the same thing', () => {
    assert.deepEqual(hcl, json);
  });

  test('one services watch, delivered by the agent over HTTPS to POST /consul/services', () => {
    assert.equal(json.length, 1);
    const watch = json[0]!;
    assert.equal(watch.type, 'services');
    assert.equal(watch.handler_type, 'http');
    assert.equal(watch.handler, undefined, 'no script handler next to the http one');
    assert.equal(watch.args, undefined, 'no script handler next to the http one');
    const http = watch.http_handler_config;
    assert.ok(http);
    const url = new URL(http.path);
    assert.equal(url.protocol, 'https:');
    assert.equal(url.origin, PLACEHOLDERS.watchBaseUrl, 'the placeholder host');
    assert.equal(url.pathname, ROUTES.find((r) => r.name === 'consulServices')!.path);
    assert.equal(http.method, 'POST');
    assert.deepEqual(http.header, { Authorization: [`Bearer ${PLACEHOLDERS.watchToken}`] });
    assert.equal(http.timeout, '10s');
    assert.equal(parseDuration(http.timeout), 10_000);
    assert.equal(http.tls_skip_verify, false);
  });

  test('the loader fills in the real address and token', () => {
    for (const format of ['json', 'hcl'] as const) {
      const [watch] = loadWatchConfig({
        format,
        baseUrl: 'http://127.0.0.1:1234/',
        token: 'a.b.c',
      });
      assert.equal(watch!.http_handler_config!.path, 'http://127.0.0.1:1234/consul/services');
      assert.deepEqual(watch!.http_handler_config!.header, { Authorization: ['Bearer a.b.c'] });
    }
  });
});

describe('Consul ACL policy (infra/consul/acl-policy.hcl)', () => {
  const policy = parseHcl(readRepoFile(FILES.aclPolicy));
  const defaultNode = FLAGS.find((f) => f.name === 'consul-node-name')!.default as string;

  test('write on the sync node and on services, read on nodes, nothing else', () => {
    assert.deepEqual(Object.keys(policy).sort(), ['node', 'node_prefix', 'service_prefix']);
    assert.deepEqual(policy.node, { [defaultNode]: { policy: 'write' } });
    assert.deepEqual(policy.service_prefix, { '': { policy: 'write' } });
    assert.deepEqual(policy.node_prefix, { '': { policy: 'read' } });
  });

  test('the node it grants is the one the deployment configures', () => {
    const configured = parseEnvFile(readRepoFile(FILES.configEnv)).get('SYNC_CONSUL_NODE_NAME');
    assert.equal(configured ?? defaultNode, defaultNode);
  });

  test('the reasoning is written down next to each rule', () => {
    const text = readRepoFile(FILES.aclPolicy);
    for (const rule of ['node "', 'service_prefix ""', 'node_prefix ""']) {
      const before = text.slice(0, text.indexOf(rule)).trimEnd().split('\n').at(-1) ?? '';
      assert.match(before, /^#/, `a comment precedes ${rule}`);
    }
  });
});

describe('forward-watch.sh (structure)', () => {
  const path = join(REPO_ROOT, FILES.forwardWatch);
  const text = readRepoFile(FILES.forwardWatch);

  test('is executable bash that parses (bash -n)', () => {
    assert.ok((statSync(path).mode & 0o111) !== 0, 'has the executable bit');
    assert.equal(text.split('\n')[0], '#!/usr/bin/env bash');
    const check = spawnSync('bash', ['-n', path], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
  });

  test('fails loudly: set -euo pipefail, curl --fail-with-body with a timeout', () => {
    assert.match(text, /^set -euo pipefail$/m);
    assert.match(text, /--fail-with-body/);
    assert.match(text, /--max-time/);
    assert.match(text, /\/consul\/services/);
  });
});
