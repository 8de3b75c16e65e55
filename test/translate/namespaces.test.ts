// Consul namespaces (docs/reference.md "Consul namespaces"; issue 15). Expected values come from
// consul-k8s's documented behaviour (destination namespace, mirroring with and without prefix,
// mirroring taking precedence) and from the naming rule the reference states for Consul →
// Kubernetes; none is computed by the code under test.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import {
  consulNamespaceFor,
  qualifyConsulName,
  splitConsulName,
  translateService,
} from '../../src/translate/to-consul.js';
import {
  isConsulServiceAllowed,
  mirrorNames,
  translateServicesView,
} from '../../src/translate/to-k8s.js';
import { digestsOfDelivery } from '../../src/translate/endpoint-slices.js';
import { planAllRegistrations } from '../../src/plan/registrations.js';
import { opsForChange } from '../../src/consul/txn.js';
import type {
  CheckState,
  Registration,
  Service,
  ToConsulSettings,
  ToK8sSettings,
} from '../../src/translate/types.js';

const base: ToConsulSettings = {
  syncId: 'sync-123',
  consulNodeName: 'k8s-sync',
  consulK8sTag: 'k8s',
  consulServicePrefix: '',
  addK8sNamespaceSuffix: false,
  k8sDefaultSync: true,
  allowK8sNamespaces: ['*'],
  denyK8sNamespaces: [],
  syncClusterIPServices: false,
  syncLBServicesEndpoints: false,
  nodePortSyncType: 'ExternalFirst',
};

function lb(namespace: string, name: string, ip = '203.0.113.7'): Service {
  return {
    metadata: { namespace, name },
    spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}

describe('the Consul namespace of a Kubernetes service', () => {
  const cases: [string, Partial<ToConsulSettings>, string, string | undefined][] = [
    ['namespaces off: none named', {}, 'shop', undefined],
    ['namespaces off, other flags ignored', { consulDestinationNamespace: 'x' }, 'shop', undefined],
    ['destination default', { enableNamespaces: true }, 'shop', 'default'],
    [
      'destination given',
      { enableNamespaces: true, consulDestinationNamespace: 'team-a' },
      'shop',
      'team-a',
    ],
    [
      'mirroring without prefix',
      { enableNamespaces: true, enableK8sNamespaceMirroring: true },
      'shop',
      'shop',
    ],
    [
      'mirroring with prefix',
      {
        enableNamespaces: true,
        enableK8sNamespaceMirroring: true,
        k8sNamespaceMirroringPrefix: 'k8s-',
      },
      'shop',
      'k8s-shop',
    ],
    [
      'mirroring wins over the destination',
      {
        enableNamespaces: true,
        enableK8sNamespaceMirroring: true,
        consulDestinationNamespace: 'team-a',
      },
      'default',
      'default',
    ],
    [
      'mirroring off: the prefix is not used',
      { enableNamespaces: true, k8sNamespaceMirroringPrefix: 'k8s-' },
      'shop',
      'default',
    ],
  ];
  for (const [what, settings, k8sNs, expected] of cases) {
    it(what, () => {
      assert.equal(consulNamespaceFor(k8sNs, settings), expected);
      const [r] = translateService(
        { service: lb(k8sNs, 'web') },
        { ...base, ...settings },
      ).registrations;
      assert.equal(r?.namespace, expected);
    });
  }

  it('a mirrored name Consul would refuse skips the service, with the reason', () => {
    const t = translateService(
      { service: lb('a'.repeat(60), 'web') },
      {
        ...base,
        enableNamespaces: true,
        enableK8sNamespaceMirroring: true,
        k8sNamespaceMirroringPrefix: 'mirror-',
      },
    );
    assert.equal(t.eligible, false);
    assert.deepEqual(t.registrations, []);
    assert.match(t.skipReason ?? '', /not a valid namespace name/);
  });
});

describe('qualified Consul names (Consul → Kubernetes across namespaces)', () => {
  it('default keeps the plain name; other namespaces are prefixed', () => {
    assert.equal(qualifyConsulName('default', 'web'), 'web');
    assert.equal(qualifyConsulName(undefined, 'web'), 'web');
    assert.equal(qualifyConsulName('team-a', 'web'), 'team-a/web');
    assert.equal(qualifyConsulName('default', 'a/b'), 'default/a/b');
    assert.deepEqual(splitConsulName('web'), { namespace: 'default', name: 'web' });
    assert.deepEqual(splitConsulName('team-a/web'), { namespace: 'team-a', name: 'web' });
    assert.deepEqual(splitConsulName('default/a/b'), { namespace: 'default', name: 'a/b' });
  });

  it('split undoes qualify for every namespace and name', () => {
    const namespace = fc.stringMatching(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?$/);
    fc.assert(
      fc.property(namespace, fc.string({ minLength: 1 }), (ns, name) => {
        assert.deepEqual(splitConsulName(qualifyConsulName(ns, name)), { namespace: ns, name });
      }),
    );
  });
});

const toK8s: ToK8sSettings = {
  consulK8sTag: 'k8s',
  k8sServicePrefix: '',
  k8sWriteNamespace: 'consul',
  consulDomain: 'consul',
  enableNamespaces: true,
};

describe('mirror names with namespaces', () => {
  it('the default namespace keeps the name and DNS name it had without namespaces', () => {
    assert.deepEqual(mirrorNames('web', toK8s, 'consul'), {
      name: 'web',
      externalName: 'web.service.consul',
    });
  });

  it('another namespace: <name>-<namespace> and the .ns DNS form', () => {
    assert.deepEqual(mirrorNames('Team-A/Web', { ...toK8s, k8sServicePrefix: 'c-' }, 'consul'), {
      name: 'c-web-team-a',
      externalName: 'web.service.team-a.ns.consul',
    });
  });

  it('without namespaces a / is part of the name', () => {
    const off = { ...toK8s, enableNamespaces: false };
    assert.equal(mirrorNames('a/b', off, 'consul').name, 'a/b');
  });

  it('two namespaces never fight over one Service: the default namespace wins, the other is named', () => {
    const t = translateServicesView({ 'a/web': [], 'web-a': [], 'b/api': [] }, toK8s);
    assert.deepEqual(
      t.services.map((s) => [s.name, s.consulName, s.externalName]),
      [
        ['api-b', 'b/api', 'api.service.b.ns.consul'],
        ['web-a', 'web-a', 'web-a.service.consul'],
      ],
    );
    assert.deepEqual(
      t.skipped.map((s) => [s.consulName, s.reason]),
      [['a/web', 'duplicate']],
    );
    assert.match(
      t.warnings[0] ?? '',
      /a\/web skipped: web-a already maps to Kubernetes service web-a/,
    );
  });

  it('globs with / match <namespace>/<name>; others the name in any namespace', () => {
    const s = {
      ...toK8s,
      allowConsulServices: ['web*', 'legacy/*'],
      denyConsulServices: ['*/web-old'],
    };
    assert.equal(isConsulServiceAllowed('web', s), true);
    assert.equal(isConsulServiceAllowed('team-a/web-2', s), true);
    assert.equal(isConsulServiceAllowed('legacy/db', s), true);
    assert.equal(isConsulServiceAllowed('db', s), false);
    assert.equal(isConsulServiceAllowed('web-old', s), false);
    assert.equal(isConsulServiceAllowed('team-a/web-old', s), false);
    assert.equal(isConsulServiceAllowed('default/web-old', s), false);
  });

  it('check digests are keyed by qualified name', () => {
    const check = (namespace: string | undefined): CheckState => ({
      node: 'vm-1',
      checkId: 'c',
      status: 'passing',
      serviceId: 'db-1',
      serviceName: 'db',
      serviceTags: [],
      ...(namespace ? { namespace } : {}),
    });
    const sync = { consulNodeName: 'k8s-sync', consulK8sTag: 'k8s', enableNamespaces: true };
    const keys = [...digestsOfDelivery([check(undefined), check('team-a')], sync).keys()];
    assert.deepEqual(keys.sort(), ['db', 'team-a/db']);
    const off = [
      ...digestsOfDelivery([check('team-a')], { ...sync, enableNamespaces: false }).keys(),
    ];
    assert.deepEqual(off, ['db']);
  });
});

describe('planning and writing across namespaces', () => {
  const ours = (namespace: string, id = 'web-1'): Registration => ({
    node: 'k8s-sync',
    id,
    service: 'web',
    address: '203.0.113.7',
    port: 80,
    tags: ['k8s'],
    meta: {
      'external-source': 'kubernetes',
      'external-k8s-ns': 'shop',
      'external-k8s-name': 'web',
      'external-k8s-sync-id': 'sync-123',
    },
    weights: { passing: 1, warning: 1 },
    namespace,
  });

  it('a move to another Consul namespace creates there, then deletes the old one', () => {
    const plan = planAllRegistrations({
      translations: [
        {
          ref: { namespace: 'shop', name: 'web' },
          eligible: true,
          registrations: [ours('shop')],
          warnings: [],
        },
      ],
      current: [ours('default')],
      syncId: 'sync-123',
    });
    assert.deepEqual(
      plan.changes.map((c) => [c.op, c.registration.namespace, c.reason]),
      [
        ['create', 'shop', 'new instance 203.0.113.7:80 of k8s service shop/web'],
        ['delete', 'default', 'k8s service shop/web moved to Consul namespace shop'],
      ],
    );
  });

  it('the same ID in two namespaces is two instances; another sync id is never touched', () => {
    const theirs = {
      ...ours('team-b'),
      meta: { ...ours('team-b').meta, 'external-k8s-sync-id': 'other' },
    };
    const plan = planAllRegistrations({
      translations: [
        {
          ref: { namespace: 'shop', name: 'web' },
          eligible: true,
          registrations: [ours('team-a')],
          warnings: [],
        },
      ],
      current: [ours('team-a'), theirs],
      syncId: 'sync-123',
    });
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.unchanged, 1);
    assert.deepEqual(plan.conflicts, []);
  });

  it('txn ops name the namespace in their bodies', () => {
    const r = ours('team-a');
    const create = opsForChange({
      target: 'consul',
      op: 'create',
      registration: {
        ...r,
        check: { checkId: 'shop/web-1', name: 'Kubernetes Readiness Check', status: 'passing' },
      },
      writeService: true,
      writeCheck: 'set',
      source: { namespace: 'shop', name: 'web' },
      reason: 'new',
    });
    const [service, check] = create.sets as Record<string, { Service?: object; Check?: object }>[];
    assert.equal((service!.Service!.Service as { Namespace?: string }).Namespace, 'team-a');
    assert.equal((check!.Check!.Check as { Namespace?: string }).Namespace, 'team-a');
    const del = opsForChange({
      target: 'consul',
      op: 'delete',
      registration: r,
      writeService: true,
      writeCheck: null,
      source: { namespace: 'shop', name: 'web' },
      reason: 'gone',
    });
    assert.deepEqual(del.deletes, [
      {
        Service: {
          Verb: 'delete',
          Node: 'k8s-sync',
          Service: { ID: 'web-1', Service: 'web', Namespace: 'team-a' },
        },
      },
    ]);
  });
});
