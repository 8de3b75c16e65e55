// POST /consul/checks (issue 16): the `checks` watch body is validated like the services view
// (zod, bounded, 4xx JSON errors, nothing written), needs scope consul:watch, and is ignored with
// --to-k8s=false.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startWorld, type World } from '../support/world.js';

let w: World;

before(async () => {
  w = await startWorld({ flags: ['--sync-id=cluster-a', '--consul-to-k8s-mode=endpoints'] });
});
after(async () => {
  await w.close();
});

const check = {
  Node: 'vm-1',
  CheckID: 'svc:1',
  Name: 'alive',
  Status: 'passing',
  ServiceID: 'svc-1',
  ServiceName: 'svc',
  ServiceTags: [],
};

test('a body that is not an array of HealthCheck objects is 400 INVALID_HEALTH_CHECKS', async () => {
  w.kubeEmu.resetRequestCounts();
  for (const body of [
    {},
    [{ ...check, Status: 'fine' }],
    [{ ...check, Node: '' }],
    [{ ...check, CheckID: 7 }],
    [{ ...check, ServiceTags: ['x'.repeat(513)] }],
    ['not-a-check'],
  ]) {
    const res = await request(w.app).post('/consul/checks').send(body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.body.error.code, 'INVALID_HEALTH_CHECKS');
  }
  const writes = Object.entries(w.kubeEmu.requestCounts()).filter(([k]) =>
    /^(create|update|patch|delete)/.test(k),
  );
  assert.deepEqual(writes, []);
});

test('a valid delivery with no service of ours changes nothing', async () => {
  const res = await request(w.app)
    .post('/consul/checks')
    .set('X-Consul-Index', '42')
    .send([check, { ...check, CheckID: 'serfHealth', ServiceID: '', ServiceName: '' }]);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.index, '42');
  assert.deepEqual(res.body.changed, []);
  assert.equal(res.body.failed, 0);
});

test('the route needs scope consul:watch', async () => {
  const { ROUTES } = await import('../../src/http/routes.js');
  assert.equal(ROUTES.find((r) => r.path === '/consul/checks')?.scope, 'consul:watch');
});
