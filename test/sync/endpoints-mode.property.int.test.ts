// Issue 16's property, end to end: whatever the Consul catalog holds for a service (instances
// coming and going, service and node checks in any state), after a reconcile in endpoints mode the
// EndpointSlices stored in the Kubernetes emulator hold exactly its instances' addresses, and an
// endpoint is ready exactly when every check of its instance (its own and its node's) passes.
// Expected values come from the rule, computed from what was registered, not from the
// product's translation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startWorld, type World } from '../support/world.js';
import { reconcile } from '../../src/sync/reconcile.js';

const NS = 'default';
const SERVICE = 'ledger';
const STATUSES = ['passing', 'warning', 'critical'] as const;
type Status = (typeof STATUSES)[number];

let w: World;

before(async () => {
  w = await startWorld({
    kube: { controllers: { endpointSlices: true } },
    flags: [
      '--sync-id=cluster-a',
      '--consul-to-k8s-mode=endpoints',
      '--deny-consul-service=consul',
    ],
  });
  await w.runtime.deps();
});
after(async () => {
  await w.close();
});

interface Instance {
  /** 10.9.0.<host> on node vm-<host>. */
  host: number;
  port: number;
  /** Whether the instance registers its own address (else the node's, the same here). */
  serviceAddress: boolean;
  checks: Status[];
  nodeCheck: Status | null;
}

const instanceArb: fc.Arbitrary<Instance> = fc.record({
  host: fc.integer({ min: 1, max: 40 }),
  port: fc.constantFrom(8080, 9090),
  serviceAddress: fc.boolean(),
  checks: fc.array(fc.constantFrom(...STATUSES), { maxLength: 2 }),
  nodeCheck: fc.option(fc.constantFrom(...STATUSES), { nil: null }),
});

/** One state of the catalog: 1–8 instances on distinct hosts. */
const roundArb = fc.uniqueArray(instanceArb, {
  minLength: 1,
  maxLength: 8,
  selector: (i) => i.host,
});

async function put(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${w.consulEmu.url}${path}`, {
    method: 'PUT',
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}

/** Makes the catalog hold exactly `round` for SERVICE (one node per host). */
async function apply(round: Instance[], previous: Instance[]): Promise<void> {
  const hosts = new Set(round.map((i) => i.host));
  for (const gone of previous.filter((p) => !hosts.has(p.host))) {
    await put('/v1/catalog/deregister', { Node: `vm-${gone.host}` });
  }
  for (const i of round) {
    const node = `vm-${i.host}`;
    const id = `${SERVICE}-${i.host}`;
    // A node re-registered from scratch: its old checks go with it.
    await put('/v1/catalog/deregister', { Node: node });
    await put('/v1/catalog/register', {
      Node: node,
      Address: `10.9.0.${i.host}`,
      Service: {
        ID: id,
        Service: SERVICE,
        Port: i.port,
        Address: i.serviceAddress ? `10.9.0.${i.host}` : '',
      },
      Checks: [
        ...i.checks.map((status, n) => ({
          CheckID: `${id}-check-${n}`,
          Name: `check ${n}`,
          Status: status,
          ServiceID: id,
        })),
        ...(i.nodeCheck
          ? [{ CheckID: 'serfHealth', Name: 'Serf Health Status', Status: i.nodeCheck }]
          : []),
      ],
    });
  }
}

/** address → ready, from the rule. */
function expected(round: Instance[]): Record<string, { ready: boolean; port: number }> {
  const out: Record<string, { ready: boolean; port: number }> = {};
  for (const i of round) {
    const statuses = [...i.checks, ...(i.nodeCheck ? [i.nodeCheck] : [])];
    out[`10.9.0.${i.host}`] = { ready: statuses.every((s) => s === 'passing'), port: i.port };
  }
  return out;
}

/** address → ready and port, over every slice of the Service as stored. */
async function stored(): Promise<Record<string, { ready: boolean; port: number }>> {
  const list = await w.discovery.listNamespacedEndpointSlice({
    namespace: NS,
    labelSelector: `kubernetes.io/service-name=${SERVICE}`,
  });
  const out: Record<string, { ready: boolean; port: number }> = {};
  for (const slice of list.items) {
    const port = slice.ports?.[0]?.port ?? 0;
    for (const e of slice.endpoints ?? [])
      for (const a of e.addresses) {
        assert.equal(out[a], undefined, `${a} is in one slice only`);
        out[a] = { ready: e.conditions?.ready === true, port };
      }
  }
  return out;
}

test('after reconcile the slices equal the instances, ready exactly when every check passes', async () => {
  let previous: Instance[] = [];
  await fc.assert(
    fc.asyncProperty(fc.array(roundArb, { minLength: 1, maxLength: 4 }), async (rounds) => {
      for (const round of rounds) {
        await apply(round, previous);
        previous = round;
        const report = await reconcile(await w.runtime.deps(), {
          direction: 'to-k8s',
          dryRun: false,
          force: false,
          maxDeleteRatio: 1,
        });
        assert.equal(report.ok, true, JSON.stringify(report));
        assert.deepEqual(await stored(), expected(round));
        const again = await reconcile(await w.runtime.deps(), {
          direction: 'to-k8s',
          dryRun: true,
          force: false,
          maxDeleteRatio: 1,
        });
        assert.equal(again.changes.length, 0, 'a converged world plans nothing');
      }
    }),
    { numRuns: 12, seed: 16 },
  );
});
