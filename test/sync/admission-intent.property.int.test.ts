// Admission is intent, as a property (issue 14): random histories of Service, Service status and
// EndpointSlice writes go through the Kubernetes emulator, which calls our admission webhook (the
// only event source: no audit, no reconcile). Writes are refused after admission or committed
// late at random, run in concurrent waves so that they and their converges finish out of order,
// and Consul's transactions are delayed at random. Once the confirmations have run, Consul must
// hold exactly the translation of what the API server stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { startWiredWorld, waitFor, type WiredWorld } from '../support/wired.js';
import { expectedState, ownedState } from '../support/exact.js';
import { endpointSlice } from '../fixtures/reviews.js';
import { ANNOTATION_SERVICE_NAME } from '../../src/translate/keys.js';
import type { AfterAdmissionRule } from '../../dev/emulators/kube/index.js';

const RUNS = Number(process.env.ADMISSION_PROPERTY_RUNS ?? 200);
const NS = 'shop';
const SLOTS = ['web', 'api'] as const;
/**
 * Longest slow commit: well below the last confirmation delay (200 ms here), as production's
 * commits are below its 5 s, with room for a loaded CI machine's stalls.
 */
const MAX_COMMIT_DELAY = 30;

type Kind = 'ExternalIPs' | 'NodePort' | 'LoadBalancer';
type Fate = 'ok' | 'refused' | 'slow';
type Op =
  | { op: 'put'; slot: number; kind: Kind; ips: string[]; rename: boolean }
  | { op: 'ingress'; slot: number; ips: string[] }
  | { op: 'delete'; slot: number }
  | {
      op: 'slice';
      slot: number;
      slice: number;
      hosts: { host: number; node: string; ready: boolean }[];
    }
  | { op: 'deleteSlice'; slot: number; slice: number };
interface Step {
  op: Op;
  fate: Fate;
  delayMs: number;
  /** Delay of the next Consul transaction, so that converges finish out of order. */
  consulDelayMs: number;
}

const slotArb = fc.integer({ min: 0, max: SLOTS.length - 1 });
const ipsArb = fc.subarray(['192.0.2.1', '192.0.2.2', '192.0.2.3'], { minLength: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('put' as const),
      slot: slotArb,
      kind: fc.constantFrom<Kind>('ExternalIPs', 'NodePort', 'LoadBalancer'),
      ips: ipsArb,
      rename: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('ingress' as const),
      slot: slotArb,
      ips: fc.subarray(['198.51.100.1', '198.51.100.2']),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), slot: slotArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('slice' as const),
      slot: slotArb,
      slice: fc.integer({ min: 0, max: 1 }),
      hosts: fc.uniqueArray(
        fc.record({
          host: fc.integer({ min: 1, max: 4 }),
          node: fc.constantFrom('n1', 'n2', 'n3'),
          ready: fc.boolean(),
        }),
        { selector: (h) => h.host, maxLength: 3 },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('deleteSlice' as const),
      slot: slotArb,
      slice: fc.integer({ min: 0, max: 1 }),
    }),
  },
);
const stepArb: fc.Arbitrary<Step> = fc.record({
  op: opArb,
  fate: fc.constantFrom<Fate>('ok', 'ok', 'refused', 'slow'),
  delayMs: fc.integer({ min: 5, max: MAX_COMMIT_DELAY }),
  consulDelayMs: fc.constantFrom(0, 0, 5, 25),
});
/** Waves of steps; the steps of a wave run at once. */
const historyArb = fc.array(fc.array(stepArb, { minLength: 1, maxLength: 3 }), {
  minLength: 1,
  maxLength: 4,
});

let w: WiredWorld;

before(async () => {
  w = await startWiredWorld({
    flags: [
      '--sync-id=cluster-a',
      '--confirm-after=20ms,200ms',
      '--write-timeout=2s',
      // No Consul failures are injected: only delays, which must never open the breaker.
      '--breaker-failures=3',
    ],
  });
  w.kubeEmu.seed([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    ...['n1', 'n2', 'n3'].map((name, i) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name },
      status: { addresses: [{ type: 'InternalIP', address: `10.0.0.${i + 1}` }] },
    })),
  ]);
  await w.runtime.deps();
});
after(async () => {
  await w.close();
});

function serviceBody(op: Extract<Op, { op: 'put' }>): V1Service {
  const name = SLOTS[op.slot]!;
  const ports = [{ name: 'http', port: 80, protocol: 'TCP' }];
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: NS,
      ...(op.rename ? { annotations: { [ANNOTATION_SERVICE_NAME]: `${name}-renamed` } } : {}),
    },
    spec:
      op.kind === 'ExternalIPs'
        ? { type: 'ClusterIP', externalIPs: op.ips, ports }
        : op.kind === 'NodePort'
          ? { type: 'NodePort', selector: { app: name }, ports }
          : { type: 'LoadBalancer', selector: { app: name }, ports },
  };
}

const ignore = (): undefined => undefined;

/** One write through the API, create-or-replace; refusals and conflicts are part of the game. */
async function apply(op: Op): Promise<void> {
  const name = SLOTS[op.slot]!;
  switch (op.op) {
    case 'put': {
      const current = await w.core.readNamespacedService({ namespace: NS, name }).catch(ignore);
      const body = serviceBody(op);
      if (!current) await w.core.createNamespacedService({ namespace: NS, body });
      else
        await w.core.replaceNamespacedService({
          namespace: NS,
          name,
          body: {
            ...body,
            metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion },
            spec: {
              ...body.spec,
              clusterIP: current.spec?.clusterIP,
              clusterIPs: current.spec?.clusterIPs,
            },
          },
        });
      return;
    }
    case 'ingress': {
      const current = await w.core.readNamespacedService({ namespace: NS, name });
      await w.core.replaceNamespacedServiceStatus({
        namespace: NS,
        name,
        body: { ...current, status: { loadBalancer: { ingress: op.ips.map((ip) => ({ ip })) } } },
      });
      return;
    }
    case 'delete':
      await w.core.deleteNamespacedService({ namespace: NS, name });
      return;
    case 'slice': {
      const sliceName = `${name}-s${op.slice}`;
      const body = endpointSlice(
        NS,
        name,
        sliceName,
        op.hosts.map((h) => ({ ip: `10.1.${op.slot}.${h.host}`, node: h.node, ready: h.ready })),
        [{ name: 'http', port: 8080 }],
      ) as unknown as V1EndpointSlice;
      const current = await w.discovery
        .readNamespacedEndpointSlice({ namespace: NS, name: sliceName })
        .catch(ignore);
      if (!current) await w.discovery.createNamespacedEndpointSlice({ namespace: NS, body });
      else
        await w.discovery.replaceNamespacedEndpointSlice({
          namespace: NS,
          name: sliceName,
          body: {
            ...body,
            metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion },
          },
        });
      return;
    }
    case 'deleteSlice':
      await w.discovery.deleteNamespacedEndpointSlice({
        namespace: NS,
        name: `${name}-s${op.slice}`,
      });
      return;
  }
}

function ruleFor(step: Step): AfterAdmissionRule | undefined {
  if (step.fate === 'ok') return undefined;
  const name = SLOTS[step.op.slot]!;
  const slice = step.op.op === 'slice' || step.op.op === 'deleteSlice';
  return {
    resource: slice ? 'endpointslices' : 'services',
    ...(step.op.op === 'ingress' ? { subresource: 'status' } : {}),
    namespace: NS,
    ...(slice ? { name: `${name}-s${(step.op as { slice: number }).slice}` } : { name }),
    times: 1,
    ...(step.fate === 'slow' ? { delayMs: step.delayMs } : {}),
    ...(step.fate === 'refused'
      ? { refuse: { cause: 'quota', quota: 'q', used: { services: 1 }, limited: { services: 1 } } }
      : {}),
  };
}

async function settled(): Promise<void> {
  const events = w.runtime.events.services;
  await waitFor('confirmations to run', () => events.pendingConfirmations === 0, 10_000);
  await events.idle();
}

async function cleanUp(): Promise<void> {
  w.kubeEmu.afterAdmission.clear();
  w.consulEmu.faults.clear();
  for (const name of SLOTS) {
    for (const s of [0, 1])
      await w.discovery
        .deleteNamespacedEndpointSlice({ namespace: NS, name: `${name}-s${s}` })
        .catch(ignore);
    await w.core.deleteNamespacedService({ namespace: NS, name }).catch(ignore);
  }
}

test('admitted, refused, slow and reordered writes: Consul ends equal to what the API server stored', async () => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(historyArb, async (waves) => {
      runs++;
      await cleanUp();
      for (const wave of waves) {
        for (const step of wave) {
          const rule = ruleFor(step);
          if (rule) w.kubeEmu.afterAdmission.add(rule);
          if (step.consulDelayMs > 0)
            w.consulEmu.faults.add({
              method: 'PUT',
              path: '/v1/txn',
              delayMs: step.consulDelayMs,
              times: 1,
            });
        }
        await Promise.allSettled(wave.map((step) => apply(step.op)));
      }
      w.kubeEmu.afterAdmission.clear();
      await settled();
      const [owned, expected] = await Promise.all([ownedState(w), expectedState(w)]);
      assert.deepEqual(owned.registrations, expected.registrations);
    }),
    { numRuns: RUNS, endOnFailure: true },
  );
  assert.equal(runs, RUNS);
  // The histories did exercise what the property is about.
  const corrections = await w.metrics.registry
    .getSingleMetric('k8s_consul_sync_confirmation_corrections_total')
    ?.get();
  assert.ok((corrections?.values[0]?.value ?? 0) > 0, 'some confirmations corrected Consul');
  const breaker = await w.metrics.registry.getSingleMetric('k8s_consul_sync_breaker_state')?.get();
  assert.equal(
    breaker?.values.find((v) => v.labels.target === 'consul' && v.labels.state === 'closed')?.value,
    1,
  );
});
