// Consul → Kubernetes translation, from docs/reference.md "Consul → Kubernetes" and the reference text (ExternalName services
// named lower-case(prefix + name), label consul=true, synced/service-sync annotations).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  desiredServiceObject,
  isValidServiceName,
  translateServicesView,
} from '../../src/translate/to-k8s.js';
import type { ServicesView, ToK8sSettings } from '../../src/translate/types.js';

const settings: ToK8sSettings = {
  consulK8sTag: 'k8s',
  k8sServicePrefix: '',
  k8sWriteNamespace: 'default',
  consulDomain: 'consul',
};

const LABELS = { consul: 'true' };
const ANNOTATIONS = {
  'consul.hashicorp.com/synced': 'true',
  'consul.hashicorp.com/service-sync': 'false',
};

describe('translateServicesView', () => {
  const cases: {
    name: string;
    view: ServicesView;
    settings?: Partial<ToK8sSettings>;
    services: {
      name: string;
      consulName: string;
      externalName: string;
      namespace?: string;
      /** The consul.hashicorp.com/tags annotation expected (absent: the service has no tag). */
      tags?: string;
    }[];
    skipped?: { consulName: string; reason: 'k8s-tag' | 'invalid-name' | 'duplicate' }[];
    warnings?: number;
  }[] = [
    {
      name: 'one service → one ExternalName service',
      view: { 'billing-db': ['primary'] },
      services: [
        {
          name: 'billing-db',
          consulName: 'billing-db',
          externalName: 'billing-db.service.consul',
          tags: 'primary',
        },
      ],
    },
    {
      name: 'services carrying the k8s tag are skipped (they came from Kubernetes)',
      view: { consul: [], web: ['k8s', 'x'] },
      services: [{ name: 'consul', consulName: 'consul', externalName: 'consul.service.consul' }],
      skipped: [{ consulName: 'web', reason: 'k8s-tag' }],
      warnings: 0,
    },
    {
      name: 'a custom consul-k8s-tag is the one that is skipped',
      view: { a: ['k8s'], b: ['from-k8s'] },
      settings: { consulK8sTag: 'from-k8s' },
      services: [{ name: 'a', consulName: 'a', externalName: 'a.service.consul', tags: 'k8s' }],
      skipped: [{ consulName: 'b', reason: 'k8s-tag' }],
    },
    {
      name: 'name and externalName are lower-cased',
      view: { 'Billing-DB': [] },
      services: [
        { name: 'billing-db', consulName: 'Billing-DB', externalName: 'billing-db.service.consul' },
      ],
    },
    {
      name: 'k8s-service-prefix is prepended to the name, not the externalName',
      view: { redis: [] },
      settings: { k8sServicePrefix: 'Consul-' },
      services: [
        { name: 'consul-redis', consulName: 'redis', externalName: 'redis.service.consul' },
      ],
    },
    {
      name: 'consul-domain is used in externalName',
      view: { redis: [] },
      settings: { consulDomain: 'dc1.example' },
      services: [{ name: 'redis', consulName: 'redis', externalName: 'redis.service.dc1.example' }],
    },
    {
      name: 'written to the write namespace',
      view: { redis: [] },
      settings: { k8sWriteNamespace: 'consul-synced' },
      services: [
        {
          name: 'redis',
          consulName: 'redis',
          externalName: 'redis.service.consul',
          namespace: 'consul-synced',
        },
      ],
    },
    {
      name: 'invalid DNS-1035 names are skipped with a warning',
      view: { '1abc': [], under_score: [], 'dot.ted': [], ok: [], ünï: [], '-x': [], 'x-': [] },
      services: [{ name: 'ok', consulName: 'ok', externalName: 'ok.service.consul' }],
      skipped: [
        { consulName: '-x', reason: 'invalid-name' },
        { consulName: '1abc', reason: 'invalid-name' },
        { consulName: 'dot.ted', reason: 'invalid-name' },
        { consulName: 'under_score', reason: 'invalid-name' },
        { consulName: 'x-', reason: 'invalid-name' },
        { consulName: 'ünï', reason: 'invalid-name' },
      ],
      warnings: 6,
    },
    {
      name: 'names over 63 characters (prefix included) are skipped',
      view: { ['a'.repeat(63)]: [], ['b'.repeat(60)]: [] },
      settings: { k8sServicePrefix: 'pre-' },
      services: [],
      skipped: [
        { consulName: 'a'.repeat(63), reason: 'invalid-name' },
        { consulName: 'b'.repeat(60), reason: 'invalid-name' },
      ],
      warnings: 2,
    },
    {
      name: 'two names that lower-case to one: one kept, the other skipped with a warning',
      view: { web: [], WEB: [] },
      services: [{ name: 'web', consulName: 'WEB', externalName: 'web.service.consul' }],
      skipped: [{ consulName: 'web', reason: 'duplicate' }],
      warnings: 1,
    },
    {
      name: 'empty view → nothing',
      view: {},
      services: [],
    },
    {
      name: 'output is sorted by name',
      view: { zeta: [], alpha: [], Mid: [] },
      services: [
        { name: 'alpha', consulName: 'alpha', externalName: 'alpha.service.consul' },
        { name: 'mid', consulName: 'Mid', externalName: 'mid.service.consul' },
        { name: 'zeta', consulName: 'zeta', externalName: 'zeta.service.consul' },
      ],
    },
    {
      name: 'null tags do not throw',
      view: { a: null } as unknown as ServicesView,
      services: [{ name: 'a', consulName: 'a', externalName: 'a.service.consul' }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = { ...settings, ...c.settings };
      const out = translateServicesView(c.view, s);
      assert.deepEqual(
        out.services,
        c.services.map((e) => ({
          namespace: e.namespace ?? s.k8sWriteNamespace,
          name: e.name,
          consulName: e.consulName,
          externalName: e.externalName,
          labels: LABELS,
          annotations:
            e.tags === undefined
              ? ANNOTATIONS
              : { ...ANNOTATIONS, 'consul.hashicorp.com/tags': e.tags },
        })),
      );
      assert.deepEqual(
        out.skipped
          .map(({ consulName, reason }) => ({ consulName, reason }))
          .sort((a, b) => (a.consulName < b.consulName ? -1 : 1)),
        c.skipped ?? [],
      );
      for (const sk of out.skipped) assert.ok(sk.message.includes(sk.consulName));
      assert.equal(out.warnings.length, c.warnings ?? 0, JSON.stringify(out.warnings));
    });
  }
});

describe('desiredServiceObject', () => {
  it('is the full v1 ExternalName Service of docs/reference.md "Consul → Kubernetes"', () => {
    const [d] = translateServicesView({ 'billing-db': [] }, settings).services;
    assert.deepEqual(desiredServiceObject(d!), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'billing-db',
        namespace: 'default',
        labels: { consul: 'true' },
        annotations: {
          'consul.hashicorp.com/synced': 'true',
          'consul.hashicorp.com/service-sync': 'false',
        },
      },
      spec: { type: 'ExternalName', externalName: 'billing-db.service.consul' },
    });
  });
  it('does not share label/annotation objects with the desired record', () => {
    const [d] = translateServicesView({ a: [] }, settings).services;
    const obj = desiredServiceObject(d!);
    obj.metadata!.labels!.extra = 'x';
    assert.equal(d!.labels.extra, undefined);
  });
});

describe('isValidServiceName', () => {
  const cases: [string, boolean][] = [
    ['a', true],
    ['web-1', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['', false],
    ['1web', false],
    ['web-', false],
    ['Web', false],
    ['we.b', false],
    ['we_b', false],
  ];
  for (const [name, expected] of cases)
    it(`${JSON.stringify(name.length > 20 ? `${name.slice(0, 5)}…(${name.length})` : name)} → ${expected}`, () =>
      assert.equal(isValidServiceName(name), expected));
});

// Not in docs/reference.md (issue 20): a name with any instance not registered from Kubernetes keeps its
// mirror even when other instances carry the k8s tag.
describe('translateServicesView with names not only from Kubernetes', () => {
  const view: ServicesView = { 'billing-db': ['k8s', 'primary'], web: ['k8s'] };
  it('mirrors the shared name, still skips the Kubernetes-only one', () => {
    const t = translateServicesView(view, settings, {
      notOnlyFromKubernetes: new Set(['billing-db']),
    });
    assert.deepEqual(
      t.services.map((s) => s.name),
      ['billing-db'],
    );
    assert.deepEqual(
      t.skipped.map((s) => [s.consulName, s.reason]),
      [['web', 'k8s-tag']],
    );
  });
  it('without the set, every k8s-tagged name is skipped (the reference text)', () => {
    assert.deepEqual(translateServicesView(view, settings).services, []);
  });
});
