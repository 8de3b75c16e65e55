// The emulator's services view (/v1/catalog/services and the watch's body) is kept in order
// incrementally (dev/emulators/consul/state.ts orderedView). For any history of registrations,
// deregistrations and transactions rolled back, it answers exactly what a filtered read that
// rebuilds the view from every instance answers (a filter every instance passes), and a
// `services` watch delivers that same view.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { startConsulEmulator, type ConsulEmulator } from '../../../dev/emulators/consul/index.js';
import { get, put } from './helpers.js';

type Op =
  | { op: 'register'; node: string; name: string; tags: string[] }
  | { op: 'deregister'; node: string; name: string }
  | { op: 'rolledBack'; node: string; name: string; tags: string[] };

const nodeArb = fc.constantFrom('n1', 'n2');
const nameArb = fc.constantFrom('web', 'Web', 'api', 'db', 'a-b', 'zz');
const tagsArb = fc.subarray(['v1', 'v2', 'k8s', 'primary']);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('register' as const), node: nodeArb, name: nameArb, tags: tagsArb }),
  fc.record({ op: fc.constant('deregister' as const), node: nodeArb, name: nameArb }),
  fc.record({
    op: fc.constant('rolledBack' as const),
    node: nodeArb,
    name: nameArb,
    tags: tagsArb,
  }),
);

const instance = (node: string, name: string, tags: string[]) => ({
  Node: node,
  Address: '10.0.0.1',
  Service: { ID: `${name}-1`, Service: name, Port: 80, Tags: tags },
});

describe('consul emulator: the services view kept in order', () => {
  let emu: ConsulEmulator;
  let handler: http.Server;
  before(async () => {
    emu = await startConsulEmulator();
    handler = http.createServer((req, res) => req.resume().on('end', () => res.end()));
    await new Promise<void>((resolve) => handler.listen(0, '127.0.0.1', resolve));
    const { port } = handler.address() as AddressInfo;
    emu.addWatch({ type: 'services', url: `http://127.0.0.1:${port}/` });
  });
  after(async () => {
    await emu.close();
    await new Promise((resolve) => handler.close(resolve));
  });

  /** The watch's last delivery comes to `text` (it delivers only views that changed). */
  async function delivered(text: string): Promise<void> {
    const end = Date.now() + 5000;
    while (emu.deliveries.at(-1)?.body !== text) {
      if (Date.now() > end)
        assert.fail(`the watch delivered ${emu.deliveries.at(-1)?.body}, not ${text}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async function apply(op: Op): Promise<void> {
    if (op.op === 'register') {
      assert.equal(
        (await put(emu, '/v1/catalog/register', instance(op.node, op.name, op.tags))).status,
        200,
      );
    } else if (op.op === 'deregister') {
      const res = await put(emu, '/v1/catalog/deregister', {
        Node: op.node,
        ServiceID: `${op.name}-1`,
      });
      assert.equal(res.status, 200);
    } else {
      // A register then a failing check-and-set: the whole transaction is rolled back.
      const res = await put(emu, '/v1/txn', [
        { Node: { Verb: 'set', Node: { Node: op.node, Address: '10.0.0.1' } } },
        {
          Service: {
            Verb: 'set',
            Node: op.node,
            Service: {
              ID: `${op.name}-1`,
              Service: op.name,
              Port: 80,
              Tags: [...op.tags, 'rolled-back'],
            },
          },
        },
        { Service: { Verb: 'delete-cas', Node: op.node, Service: { ID: 'none', ModifyIndex: 1 } } },
      ]);
      assert.equal(res.status, 409, res.text);
    }
  }

  it('equals the view rebuilt from every instance, after any history', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 15 }), async (ops) => {
        for (const op of ops) {
          await apply(op);
          const kept = await get(emu, '/v1/catalog/services');
          const rebuilt = await get(
            emu,
            `/v1/catalog/services?filter=${encodeURIComponent('ServiceID != ""')}`,
          );
          assert.equal(kept.status, 200);
          assert.equal(kept.text, rebuilt.text);
          await delivered(kept.text);
        }
      }),
      { numRuns: 60 },
    );
  });
});
