// The reconcile's translation while the lists arrive (src/sync/list-translator.ts): whatever the
// pages, their order and the moments between them, `finish` answers what translating the whole
// lists at once (`translateAll`) answers; in storage-key order most of it is done before.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import fc from 'fast-check';
import { parseConfig } from '../../src/config/index.js';
import { syncSettings } from '../../src/sync/deps.js';
import { ListTranslator, translateAll, type KubeLists } from '../../src/sync/list-translator.js';
import type { EndpointSlice, Ingress, Node, Service } from '../../src/translate/types.js';
import { endpointSlice, service } from '../fixtures/reviews.js';

const settingsFor = (ingress: boolean) =>
  syncSettings(
    parseConfig(
      [
        'reconcile',
        '--sync-id=cluster-a',
        '--sync-clusterip-services',
        ...(ingress ? ['--enable-ingress'] : []),
      ],
      {},
    ),
    'cluster-a',
  );

// Namespaces where plain string order and storage-key order differ ("a-b/" < "a/" < "ab/").
const NAMESPACES = ['a', 'a-b', 'ab', 'shop'];
const NAMES = ['web', 'api', 'db'];
const NODES = ['n1', 'n2', 'n3'];

const storageKey = (o: { metadata?: { namespace?: string; name?: string } }): string =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const byStorageKey = <T extends { metadata?: { namespace?: string; name?: string } }>(
  items: T[],
): T[] => [...items].sort((x, y) => (storageKey(x) < storageKey(y) ? -1 : 1));

const nodes: Node[] = NODES.map((name, i) => ({
  metadata: { name },
  status: {
    addresses: [
      { type: 'InternalIP', address: `10.0.0.${i + 1}` },
      { type: 'ExternalIP', address: `203.0.113.${i + 1}` },
    ],
  },
}));

const serviceArb = fc
  .record({
    ns: fc.constantFrom(...NAMESPACES),
    name: fc.constantFrom(...NAMES),
    type: fc.constantFrom('NodePort', 'LoadBalancer', 'ClusterIP'),
    deleting: fc.nat(9).map((n) => n === 0),
  })
  .map(({ ns, name, type, deleting }) => {
    const s = service(ns, name, {
      type,
      ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }],
      ...(type === 'ClusterIP' ? { clusterIP: '10.96.0.9' } : {}),
    }) as Service;
    if (type === 'LoadBalancer') s.status = { loadBalancer: { ingress: [{ ip: '203.0.113.9' }] } };
    if (deleting)
      s.metadata = {
        ...s.metadata,
        deletionTimestamp: '2026-01-01T00:00:00Z',
      } as Service['metadata'];
    return s;
  });

const sliceArb = fc
  .record({
    ns: fc.constantFrom(...NAMESPACES),
    service: fc.constantFrom(...NAMES, ''),
    n: fc.nat(2),
    hosts: fc.array(fc.record({ host: fc.nat(9), node: fc.constantFrom(...NODES) }), {
      maxLength: 3,
    }),
  })
  .map(({ ns, service: svc, n, hosts }) => {
    const s = endpointSlice(
      ns,
      svc,
      `${svc || 'x'}-${n}`,
      hosts.map((h) => ({ ip: `10.1.0.${h.host}`, node: h.node, ready: true })),
    ) as EndpointSlice;
    if (!svc) delete s.metadata!.labels!['kubernetes.io/service-name'];
    return s;
  });

const uniqueByKey = <T extends { metadata?: { namespace?: string; name?: string } }>(
  items: T[],
): T[] => [...new Map(items.map((i) => [storageKey(i), i])).values()];

/** A list cut into pages of 1 to 4 items. */
const paged = <T>(items: T[], cuts: number[]): T[][] => {
  const pages: T[][] = [];
  for (let i = 0, c = 0; i < items.length; c++) {
    const size = 1 + (cuts[c % cuts.length] ?? 0);
    pages.push(items.slice(i, i + size));
    i += size;
  }
  return pages;
};

describe('ListTranslator', () => {
  it('finish answers what translateAll answers, whatever the pages, order and timing', async () => {
    let withRegistrations = 0;
    let withInstancesFromSlices = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(serviceArb, { maxLength: 12 }),
        fc.array(sliceArb, { maxLength: 14 }),
        fc.boolean(), // storage-key order (else as generated)
        fc.array(fc.nat(3), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(4), { minLength: 1, maxLength: 30 }), // interleaving and pauses
        fc.boolean(), // --enable-ingress
        fc.option(fc.nat(12)), // held until this step (Consul's read), or past the end
        async (rawServices, rawSlices, sorted, cuts, schedule, ingress, releaseAt) => {
          const settings = settingsFor(ingress);
          const order = <T extends { metadata?: { namespace?: string; name?: string } }>(
            items: T[],
          ): T[] => (sorted ? byStorageKey(uniqueByKey(items)) : uniqueByKey(items));
          const services = order(rawServices);
          const slices = order(rawSlices);
          const ingresses: Ingress[] = [];
          const lists: KubeLists = { services, slices, nodes, ingresses };
          const t = new ListTranslator(settings, { purge: false, ingresses: ingress });
          let release = (): void => undefined;
          t.holdUntil(new Promise<void>((resolve) => (release = resolve)));

          // Each step delivers the next piece of one list, then maybe yields to the translation.
          const steps: (() => void)[][] = [
            paged(services, cuts).map((p) => () => t.onServices(p)),
            [...paged(slices, cuts).map((p) => () => t.onSlices(p)), () => t.slicesEnded()],
            [() => t.nodesListed(nodes)],
            ingress ? [() => t.ingressesListed(ingresses)] : [],
          ];
          let k = 0;
          while (steps.some((s) => s.length > 0)) {
            const choice = schedule[k++ % schedule.length]!;
            const list = steps.filter((s) => s.length > 0)[
              choice % steps.filter((s) => s.length > 0).length
            ]!;
            list.shift()!();
            if (k === releaseAt) release();
            if (choice % 2 === 0) await tick();
          }
          const expected = translateAll(settings, lists, false);
          assert.deepEqual(t.finish(lists), expected);
          withRegistrations += expected.some((x) => x.registrations.length > 0) ? 1 : 0;
          withInstancesFromSlices += expected.some((x) =>
            x.registrations.some((r) => r.check !== undefined),
          )
            ? 1
            : 0;
        },
      ),
      { numRuns: 400 },
    );
    // The property says little if most runs translated nothing from the slices.
    assert.ok(withRegistrations > 200, `${withRegistrations} of 400 runs registered anything`);
    assert.ok(withInstancesFromSlices > 100, `${withInstancesFromSlices} of 400 used slices`);
  });

  it('in storage-key order, a namespace is translated once the slices have moved past it', async () => {
    const settings = settingsFor(false);
    const t = new ListTranslator(settings, { purge: false, ingresses: false });
    const svc = (ns: string) =>
      service(ns, 'web', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }) as Service;
    const slice = (ns: string) =>
      endpointSlice(ns, 'web', 'web-1', [
        { ip: '10.1.0.1', node: 'n1', ready: true },
      ]) as EndpointSlice;
    t.nodesListed(nodes);
    t.onServices([svc('a-b'), svc('a'), svc('ab')]);
    t.onSlices([slice('a-b')]);
    await tick();
    assert.equal(t.translatedSoFar, 0, 'more slices of a-b may follow');
    t.onSlices([slice('a')]);
    await tick();
    assert.equal(t.translatedSoFar, 1, 'a-b is complete once a slice of a arrived');
    t.slicesEnded();
    await tick();
    assert.equal(t.translatedSoFar, 3);
    const lists: KubeLists = {
      services: [svc('a-b'), svc('a'), svc('ab')],
      slices: [slice('a-b'), slice('a')],
      nodes,
      ingresses: [],
    };
    // Other objects than the pages carried: translated afresh, the same answer.
    assert.deepEqual(t.finish(lists), translateAll(settings, lists, false));
  });

  it('nothing is translated before the nodes are in, while held, nor after the slices broke the order', async () => {
    const settings = settingsFor(false);
    const t = new ListTranslator(settings, { purge: false, ingresses: false });
    const svc = (ns: string) =>
      service(ns, 'web', { type: 'LoadBalancer', ports: [{ port: 80 }] }) as Service;
    const slice = (ns: string) => endpointSlice(ns, 'web', 'web-1', []) as EndpointSlice;
    t.onServices([svc('a'), svc('b')]);
    t.onSlices([slice('b')]);
    await tick();
    assert.equal(t.translatedSoFar, 0, 'no nodes yet');
    t.nodesListed(nodes);
    await tick();
    assert.equal(t.translatedSoFar, 1);
    const held = new ListTranslator(settings, { purge: false, ingresses: false });
    let release = (): void => undefined;
    held.holdUntil(new Promise<void>((resolve) => (release = resolve)));
    held.nodesListed(nodes);
    held.onServices([svc('a')]);
    held.onSlices([slice('b')]);
    await tick();
    assert.equal(held.translatedSoFar, 0, 'held until the Consul read is in');
    release();
    await tick();
    await tick();
    assert.equal(held.translatedSoFar, 1);
    t.onSlices([slice('a')]); // out of order
    t.onSlices([slice('c')]);
    await tick();
    assert.equal(t.translatedSoFar, 1, 'the order broke: b waits for the end');
  });
});
