// Scale sanity: 20,000 instances registered through txn batches (of Consul's maximum size, to
// keep the test quick) are all there and readable per service name.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startConsulEmulator, type ConsulEmulator } from '../../../dev/emulators/consul/index.js';
import { get, put } from './helpers.js';

const NAMES = 20;
const PER_NAME = 1000;
const BATCH = 128;

describe('consul emulator: scale', () => {
  let emu: ConsulEmulator;
  before(async () => {
    emu = await startConsulEmulator();
  });
  after(async () => {
    await emu.close();
  });

  it('holds 20,000 instances registered in txn batches', async () => {
    const setup = await put(emu, '/v1/txn', [
      { Node: { Verb: 'set', Node: { Node: 'k8s-sync', Address: '127.0.0.1' } } },
    ]);
    assert.equal(setup.status, 200);
    const ops: unknown[] = [];
    for (let n = 0; n < NAMES; n++) {
      for (let i = 0; i < PER_NAME; i++) {
        ops.push({
          Service: {
            Verb: 'set',
            Node: 'k8s-sync',
            Service: {
              ID: `svc-${n}-${i}`,
              Service: `svc-${n}`,
              Tags: ['k8s', `shard-${i % 3}`],
              Address: `10.${n}.${Math.floor(i / 250)}.${i % 250}`,
              Port: 8080,
              Meta: { 'external-source': 'kubernetes', 'external-k8s-ns': 'default' },
            },
          },
        });
      }
    }
    const batches: unknown[][] = [];
    for (let i = 0; i < ops.length; i += BATCH) batches.push(ops.slice(i, i + BATCH));
    // a few concurrent writers, like several handlers converging at once
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < batches.length) {
          const batch = batches[next++];
          const res = await put(emu, '/v1/txn', batch);
          assert.equal(res.status, 200, res.text);
        }
      }),
    );

    const one = await get(emu, '/v1/catalog/service/svc-7');
    const list = one.json as { ServiceID: string; ServiceAddress: string }[];
    assert.equal(list.length, PER_NAME);
    assert.equal(new Set(list.map((s) => s.ServiceID)).size, PER_NAME);
    assert.ok(list.every((s) => s.ServiceID.startsWith('svc-7-')));

    const services = (await get(emu, '/v1/catalog/services')).json as Record<string, string[]>;
    assert.equal(Object.keys(services).length, NAMES + 1); // + consul
    assert.deepEqual(services['svc-0'], ['k8s', 'shard-0', 'shard-1', 'shard-2']);

    const filtered = await get(
      emu,
      `/v1/catalog/service/svc-3?filter=${encodeURIComponent('"shard-1" in ServiceTags')}`,
    );
    const shard1 = Array.from({ length: PER_NAME }, (_, i) => i).filter((i) => i % 3 === 1).length;
    assert.equal((filtered.json as unknown[]).length, shard1);
    assert.equal(emu.snapshot().services.length, NAMES * PER_NAME + 1);
  });
});
