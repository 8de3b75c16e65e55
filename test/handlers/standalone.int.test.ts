// A handler mounted alone as a plain (req, res) function, configured from the environment, as a
// serverless runtime would run it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { standaloneHandler } from '../../handlers/standalone.js';
import { startConsulEmulator } from '../../dev/emulators/consul/index.js';
import { startKubeEmulator } from '../../dev/emulators/kube/index.js';
import { admissionReview, service } from '../fixtures/reviews.js';

test('the admission handler alone: served at / and at its path, authenticated, writing to Consul', async () => {
  const [consul, kube] = await Promise.all([startConsulEmulator(), startKubeEmulator()]);
  const dir = mkdtempSync(join(tmpdir(), 'standalone-'));
  writeFileSync(join(dir, 'kubeconfig'), kube.kubeconfig);
  const env = {
    KUBECONFIG: join(dir, 'kubeconfig'),
    CONSUL_HTTP_ADDR: consul.address,
    SYNC_SYNC_ID: 'fn',
    SYNC_LOG_LEVEL: 'silent',
  };
  const server = http.createServer(
    standaloneHandler('admission', { ...env, SYNC_AUTH_DISABLED: 'true' }),
  );
  try {
    const svc = service('shop', 'fn', {
      type: 'LoadBalancer',
      externalIPs: ['192.0.2.5'],
      ports: [{ port: 80 }],
    });
    const body = admissionReview({
      operation: 'CREATE',
      namespace: 'shop',
      name: 'fn',
      object: svc,
    });
    const res = await request(server).post('/').send(body).expect(200);
    assert.equal(res.body.response.allowed, true);
    await request(server).post('/k8s/admission').send(body).expect(200);
    const regs = consul.snapshot().services.filter((s) => s.Node === 'k8s-sync');
    assert.deepEqual(
      regs.map((r) => [r.Service, r.Address, r.Port]),
      [['fn', '192.0.2.5', 80]],
    );
    // Without --auth-disabled and without a credential, it refuses like the server.
    const locked = http.createServer(standaloneHandler('admission', env));
    await request(locked).post('/').send(body).expect(401);
  } finally {
    await Promise.all([consul.close(), kube.close()]);
  }
});
