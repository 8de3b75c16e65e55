// Endpoints mode translation (issue 16): both modes side by side from one view, instances →
// EndpointSlices (discovery.k8s.io/v1; IPv4 and IPv6 apart; hostnames and addresses the API
// server refuses left out; ready only when every check passes; at most 100 endpoints a slice),
// the name lists, the opt-out tag and the tags annotation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  EMPTY_DIGEST,
  desiredServiceObject,
  digestsOfDelivery,
  matchesGlob,
  translateInstances,
  translateServicesView,
} from '../../src/translate/index.js';
import { endpointAddressType } from '../../src/translate/ip.js';
import type { HealthInstance, ToK8sSettings } from '../../src/translate/types.js';

const base: ToK8sSettings = {
  consulK8sTag: 'k8s',
  k8sServicePrefix: '',
  k8sWriteNamespace: 'default',
  consulDomain: 'consul',
};
/** 59 characters: `meta-` + it is longer than the 63 an annotation name may have. */
const LONG = 'k'.repeat(59);
const SYNC = { consulNodeName: 'k8s-sync', consulK8sTag: 'k8s' };

function instance(o: Partial<HealthInstance> & { serviceId: string }): HealthInstance {
  return {
    node: 'n1',
    nodeAddress: '10.0.0.1',
    serviceAddress: '',
    port: 8080,
    tags: [],
    meta: {},
    checks: [],
    ...o,
  };
}

describe('both modes from one view', () => {
  it('externalname: an ExternalName Service; endpoints: a headless selector-less ClusterIP Service', () => {
    const view = { web: ['v1'] };
    const [ext] = translateServicesView(view, base).services;
    assert.deepEqual(desiredServiceObject(ext!).spec, {
      type: 'ExternalName',
      externalName: 'web.service.consul',
    });
    const [eps] = translateServicesView(view, { ...base, consulToK8sMode: 'endpoints' }).services;
    assert.equal(eps!.mode, 'endpoints');
    assert.deepEqual(desiredServiceObject(eps!).spec, { type: 'ClusterIP', clusterIP: 'None' });
    const [vip] = translateServicesView(view, {
      ...base,
      consulToK8sMode: 'endpoints',
      consulToK8sServiceType: 'ClusterIP',
    }).services;
    // A virtual IP needs a port before any instance is known: the placeholder 80.
    assert.deepEqual(desiredServiceObject(vip!).spec, {
      type: 'ClusterIP',
      ports: [{ name: 'default', protocol: 'TCP', port: 80, targetPort: 80 }],
    });
    for (const d of [ext!, eps!, vip!])
      assert.equal(d.annotations['consul.hashicorp.com/tags'], 'v1');
  });

  it('meta k8s-sync-mode overrides the flag per service and is recorded on the Service', () => {
    const out = translateServicesView(
      { a: [], b: [] },
      { ...base, consulToK8sMode: 'endpoints' },
      { modes: new Map([['a', 'externalname']]) },
    );
    const [a, b] = out.services;
    assert.equal(a!.mode, undefined);
    assert.equal(a!.annotations['k8s-consul-sync/mode'], 'externalname');
    assert.equal(b!.mode, 'endpoints');
    assert.equal(b!.annotations['k8s-consul-sync/mode'], undefined);
  });
});

describe('per-service control', () => {
  const cases: {
    name: string;
    settings: Partial<ToK8sSettings>;
    view: Record<string, string[]>;
    optedOut?: string[];
    synced: string[];
    skipped: [string, string][];
  }[] = [
    {
      name: 'by default every service is synced, consul included',
      settings: {},
      view: { consul: [], db: [] },
      synced: ['consul', 'db'],
      skipped: [],
    },
    {
      name: 'the tag k8s-sync-disabled opts a service out',
      settings: {},
      view: { db: ['k8s-sync-disabled'], web: [] },
      synced: ['web'],
      skipped: [['db', 'disabled']],
    },
    {
      name: 'meta k8s-sync "false" (read by the caller) opts a service out',
      settings: {},
      view: { db: [], web: [] },
      optedOut: ['web'],
      synced: ['db'],
      skipped: [['web', 'disabled']],
    },
    {
      name: 'allow globs select, deny wins',
      settings: { allowConsulServices: ['db-*', 'web'], denyConsulServices: ['*-test'] },
      view: { 'db-main': [], 'db-test': [], web: [], api: [] },
      synced: ['db-main', 'web'],
      skipped: [
        ['api', 'denied'],
        ['db-test', 'denied'],
      ],
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const out = translateServicesView(
        c.view,
        { ...base, ...c.settings },
        c.optedOut ? { optedOut: new Set(c.optedOut) } : {},
      );
      assert.deepEqual(
        out.services.map((s) => s.consulName),
        c.synced,
      );
      assert.deepEqual(
        out.skipped.map((s) => [s.consulName, s.reason]),
        c.skipped,
      );
    });

  it('globs', () => {
    assert.equal(matchesGlob('*', ''), true);
    assert.equal(matchesGlob('db-*', 'db-'), true);
    assert.equal(matchesGlob('db-*', 'xdb-1'), false);
    assert.equal(matchesGlob('a*b*c', 'abc'), true);
    assert.equal(matchesGlob('a*b*c', 'acb'), false);
    assert.equal(matchesGlob('*-test', 'test'), false);
    assert.equal(matchesGlob('web', 'Web'), false);
  });
});

describe('translateInstances', () => {
  const [desired] = translateServicesView(
    { billing: [] },
    { ...base, consulToK8sMode: 'endpoints' },
  ).services;

  it('service address, else node address; ready only when every check passes', () => {
    const t = translateInstances(
      desired!,
      [
        instance({
          serviceId: 'b1',
          node: 'n1',
          nodeAddress: '10.0.0.1',
          checks: [{ checkId: 'c', serviceId: 'b1', status: 'passing' }],
        }),
        instance({
          serviceId: 'b2',
          node: 'n2',
          nodeAddress: '10.0.0.2',
          serviceAddress: '10.9.9.2',
          checks: [
            { checkId: 'c', serviceId: 'b2', status: 'passing' },
            { checkId: 'serfHealth', serviceId: '', status: 'critical' },
          ],
        }),
        instance({ serviceId: 'b3', node: 'n3', nodeAddress: '10.0.0.3' }),
        instance({
          serviceId: 'b4',
          node: 'n4',
          nodeAddress: '10.0.0.4',
          checks: [{ checkId: 'c', serviceId: 'b4', status: 'warning' }],
        }),
      ],
      SYNC,
    );
    assert.equal(t.slices.length, 1);
    const [slice] = t.slices;
    assert.equal(slice!.name, 'billing-v4-8080-0');
    assert.equal(slice!.addressType, 'IPv4');
    assert.deepEqual(slice!.labels, {
      consul: 'true',
      'kubernetes.io/service-name': 'billing',
      'endpointslice.kubernetes.io/managed-by': 'k8s-consul-sync',
      'service.kubernetes.io/headless': '',
    });
    assert.deepEqual(slice!.ports, [{ name: 'default', protocol: 'TCP', port: 8080 }]);
    assert.deepEqual(
      slice!.endpoints.map((e) => [e.addresses[0], e.conditions?.ready]),
      [
        ['10.0.0.1', true],
        ['10.0.0.3', true], // no check at all: nothing fails
        ['10.0.0.4', false], // warning is not passing
        ['10.9.9.2', false], // its node's check is critical
      ],
    );
    assert.deepEqual(t.service.ports, [
      { name: 'default', protocol: 'TCP', port: 8080, targetPort: 8080 },
    ]);
  });

  it('IPv4 and IPv6 apart, by port; hostnames and refused addresses left out with a warning', () => {
    const t = translateInstances(
      desired!,
      [
        instance({ serviceId: 'a', serviceAddress: 'fd00::1', port: 80 }),
        instance({ serviceId: 'b', serviceAddress: '10.0.0.2', port: 81 }),
        instance({ serviceId: 'c', serviceAddress: '10.0.0.3', port: 80 }),
        instance({ serviceId: 'd', serviceAddress: 'db.example.com' }),
        instance({ serviceId: 'e', serviceAddress: '127.0.0.1' }),
        instance({ serviceId: 'f', serviceAddress: 'fe80::1' }),
      ],
      SYNC,
    );
    assert.deepEqual(
      t.slices.map((s) => [s.name, s.addressType, s.endpoints.map((e) => e.addresses[0])]),
      [
        ['billing-v4-80-0', 'IPv4', ['10.0.0.3']],
        ['billing-v4-81-0', 'IPv4', ['10.0.0.2']],
        ['billing-v6-80-0', 'IPv6', ['fd00::1']],
      ],
    );
    assert.equal(t.warnings.length, 3);
    // The Service port: the one most instances in the slices use (80: a and c).
    assert.equal(t.service.ports?.[0]?.port, 80);
  });

  it('instances from Kubernetes (sync node, k8s tag) are never mirrored back', () => {
    const t = translateInstances(
      desired!,
      [
        instance({ serviceId: 'x', node: 'k8s-sync', serviceAddress: '10.0.0.5' }),
        instance({ serviceId: 'y', tags: ['k8s'], serviceAddress: '10.0.0.6' }),
      ],
      SYNC,
    );
    assert.deepEqual(
      t.slices.map((s) => [s.name, s.endpoints.length]),
      [['billing-empty', 0]],
    );
    assert.equal(t.digest, EMPTY_DIGEST);
  });

  it('at most 100 endpoints a slice, split in address order', () => {
    const many = Array.from({ length: 250 }, (_, i) =>
      instance({ serviceId: `s${i}`, serviceAddress: `10.1.${Math.floor(i / 200)}.${i % 200}` }),
    );
    const t = translateInstances(desired!, many, SYNC);
    assert.deepEqual(
      t.slices.map((s) => s.endpoints.length),
      [100, 100, 50],
    );
    const all = t.slices.flatMap((s) => s.endpoints.map((e) => e.addresses[0]!));
    assert.deepEqual(all, [...all].sort());
  });

  it('meta shared by every instance becomes annotations; an impossible key is skipped', () => {
    const t = translateInstances(
      desired!,
      [
        instance({ serviceId: 'a', meta: { team: 'x', v: '1', [LONG]: 'y' } }),
        instance({ serviceId: 'b', meta: { team: 'x', v: '2', [LONG]: 'y' } }),
      ],
      SYNC,
    );
    assert.equal(t.service.annotations['consul.hashicorp.com/meta-team'], 'x');
    assert.equal(t.service.annotations['consul.hashicorp.com/meta-v'], undefined);
    assert.equal(t.service.annotations[`consul.hashicorp.com/meta-${LONG}`], undefined);
    assert.equal(t.warnings.length, 1);
  });

  it('the digest of the written slices equals the digest of a checks delivery', () => {
    const instances = [
      instance({
        serviceId: 'a',
        node: 'n1',
        checks: [
          { checkId: 'svc', serviceId: 'a', status: 'passing' },
          { checkId: 'serfHealth', serviceId: '', status: 'passing' },
        ],
      }),
      instance({ serviceId: 'b', node: 'n2' }),
    ];
    const t = translateInstances(desired!, instances, SYNC);
    const delivery = digestsOfDelivery(
      [
        {
          node: 'n1',
          checkId: 'serfHealth',
          status: 'passing',
          serviceId: '',
          serviceName: '',
          serviceTags: [],
        },
        {
          node: 'n1',
          checkId: 'svc',
          status: 'passing',
          serviceId: 'a',
          serviceName: 'billing',
          serviceTags: [],
        },
        {
          node: 'n2',
          checkId: 'serfHealth',
          status: 'critical',
          serviceId: '',
          serviceName: '',
          serviceTags: [],
        },
        {
          node: 'k8s-sync',
          checkId: 'x',
          status: 'critical',
          serviceId: 'k',
          serviceName: 'billing',
          serviceTags: [],
        },
      ],
      SYNC,
    );
    assert.equal(delivery.get('billing'), t.digest);
  });
});

describe('endpointAddressType (what the API server accepts in a slice)', () => {
  const table: [string, string][] = [
    ['10.0.0.1', 'IPv4'],
    ['2001:db8::1', 'IPv6'],
    ['fd00::', 'IPv6'],
    ['010.0.0.1', 'not an IP address'],
    ['0.0.0.0', 'unspecified address'],
    ['127.0.0.2', 'loopback address'],
    ['169.254.1.1', 'link-local address'],
    ['::1', 'loopback address'],
    ['::', 'unspecified address'],
    ['fe80::1', 'link-local address'],
    ['::ffff:10.0.0.1', 'IPv4-mapped IPv6 address'],
    ['db.example.com', 'not an IP address'],
    ['1:2:3:4:5:6:7:8:9', 'not an IP address'],
  ];
  for (const [address, expected] of table)
    it(address, () => {
      const got = endpointAddressType(address);
      assert.equal('type' in got ? got.type : got.problem, expected);
    });
});

describe('property: the ready endpoints are exactly the passing instances', () => {
  it('for any instances and check states', () => {
    const [desired] = translateServicesView(
      { s: [] },
      { ...base, consulToK8sMode: 'endpoints' },
    ).services;
    const arb = fc.uniqueArray(
      fc.record({
        host: fc.integer({ min: 1, max: 250 }),
        port: fc.integer({ min: 1, max: 3 }),
        statuses: fc.array(fc.constantFrom('passing', 'warning', 'critical'), { maxLength: 3 }),
      }),
      { selector: (r) => r.host, maxLength: 300 },
    );
    fc.assert(
      fc.property(arb, (specs) => {
        const instances = specs.map((s, i) =>
          instance({
            serviceId: `i${i}`,
            node: `n${i}`,
            serviceAddress: `10.2.0.${s.host}`,
            port: s.port,
            checks: s.statuses.map((status, j) => ({
              checkId: `c${j}`,
              serviceId: `i${i}`,
              status,
            })),
          }),
        );
        const t = translateInstances(desired!, instances, SYNC);
        const ready = t.slices.flatMap((sl) =>
          sl.endpoints
            .filter((e) => e.conditions?.ready)
            .map((e) => `${e.addresses[0]}:${sl.ports[0]?.port}`),
        );
        const passing = specs
          .filter((s) => s.statuses.every((x) => x === 'passing'))
          .map((s) => `10.2.0.${s.host}:${s.port}`);
        assert.deepEqual(ready.sort(), passing.sort());
        for (const sl of t.slices) assert.ok(sl.endpoints.length <= 100);
      }),
    );
  });
});
