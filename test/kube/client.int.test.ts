// The Kubernetes client reuses keep-alive connections (client-node alone opens one per call).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { kubeConfigFor } from '../support/kube-config.js';
import { agentKey, createKubeHandle } from '../../src/kube/client.js';

test('API calls share one keep-alive connection', async () => {
  let connections = 0;
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' }),
    );
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const kc = kubeConfigFor(server);
    const kube = createKubeHandle(kc);
    for (let i = 0; i < 5; i++) {
      const version = await kube.rest.request<{ gitVersion?: string }>({ path: '/version' });
      assert.equal(version.gitVersion, 'v1.32.0');
    }
    assert.equal(connections, 1);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('agents are told apart by cluster and TLS material, not by Buffer identity', () => {
  const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  const key = (options: Record<string, unknown>, server = 'https://10.0.0.1') =>
    agentKey(server, undefined, options);
  // A CA read afresh from its file on every request is the same agent.
  assert.equal(key({ ca, rejectUnauthorized: undefined }), key({ ca: Buffer.from(ca) }));
  assert.equal(key({ ca, servername: 'api' }), key({ servername: 'api', ca }));
  // Another CA, certificate, server name, cluster or verification setting is another agent.
  assert.notEqual(key({ ca }), key({ ca: Buffer.from('other') }));
  assert.notEqual(key({ ca }), key({ ca, cert: Buffer.from('client') }));
  assert.notEqual(key({ ca, servername: 'a' }), key({ ca, servername: 'b' }));
  assert.notEqual(key({ ca }), key({ ca }, 'https://10.0.0.2'));
  assert.notEqual(key({ rejectUnauthorized: false }), key({}));
  assert.notEqual(key({ ca: [ca] }), key({ ca: [Buffer.from('other')] }));
});
