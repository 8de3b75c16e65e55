// Ingress sync (docs/reference.md "Ingress"; issue 15): with --enable-ingress, the Service named
// by an Ingress rule's `/` path is registered once, at the rule's host (or the Ingress's first
// load balancer IP with --loadBalancer-ips), port 443 when the host is a TLS host, else 80.
// Expected values come from the issue and consul-k8s's serviceIngressResource; IDs are computed
// here from the docs/reference.md formula.
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  ingressRuleFor,
  ingressServiceNames,
  sourcesNeeded,
  translateService,
} from '../../src/translate/to-consul.js';
import type {
  EndpointSlice,
  Ingress,
  IngressPath,
  IngressRule,
  Service,
  ToConsulSettings,
} from '../../src/translate/types.js';

const base: ToConsulSettings = {
  syncId: 'sync-123',
  consulNodeName: 'k8s-sync',
  consulK8sTag: 'k8s',
  consulServicePrefix: '',
  addK8sNamespaceSuffix: false,
  k8sDefaultSync: true,
  allowK8sNamespaces: ['*'],
  denyK8sNamespaces: ['kube-system', 'kube-public'],
  syncClusterIPServices: true,
  syncLBServicesEndpoints: false,
  nodePortSyncType: 'ExternalFirst',
  enableIngress: true,
};

function sha1Id(consulName: string, ns: string, name: string, address: string): string {
  const hex = createHash('sha1').update(`${ns}/${name}/${address}`).digest('hex');
  return `${consulName}-${hex.slice(0, 12)}`;
}

const web: Service = {
  metadata: { name: 'web', namespace: 'shop' },
  spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
};
const lb: Service = {
  metadata: { name: 'web', namespace: 'shop' },
  spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 8080 }] },
  status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } },
};
const slice: EndpointSlice = {
  metadata: { name: 'web-abc', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  endpoints: [
    { addresses: ['10.0.0.1'], conditions: { ready: true } },
    { addresses: ['10.0.0.2'], conditions: { ready: false } },
  ],
  ports: [{ name: 'http', port: 8080 }],
};

const root = (service: string, port: { number?: number; name?: string } = { number: 80 }) =>
  ({ path: '/', pathType: 'Prefix', backend: { service: { name: service, port } } }) as IngressPath;

function ingress(
  name: string,
  rules: IngressRule[],
  extra: { tls?: string[]; lbIp?: string | null; ns?: string } = {},
): Ingress {
  return {
    metadata: { name, namespace: extra.ns ?? 'shop' },
    spec: {
      rules,
      ...(extra.tls ? { tls: [{ hosts: extra.tls, secretName: 'cert' }] } : {}),
    },
    ...(extra.lbIp !== undefined
      ? { status: { loadBalancer: { ingress: extra.lbIp === null ? [] : [{ ip: extra.lbIp }] } } }
      : {}),
  };
}

interface Row {
  name: string;
  service?: Service;
  ingresses: Ingress[];
  settings?: Partial<ToConsulSettings>;
  /** Expected addresses and ports, or 'normal' for the Service's own instances. */
  want: { address: string; port: number; ingress: string }[] | 'normal';
  /** A warning matching this is expected. */
  warning?: RegExp;
}

const rows: Row[] = [
  {
    name: 'rule with path / names the service: its host, port 80 without TLS',
    ingresses: [ingress('web', [{ host: 'web.example.com', http: { paths: [root('web')] } }])],
    want: [{ address: 'web.example.com', port: 80, ingress: 'web' }],
  },
  {
    name: 'the host listed in spec.tls[].hosts: port 443',
    ingresses: [
      ingress('web', [{ host: 'web.example.com', http: { paths: [root('web')] } }], {
        tls: ['other.example.com', 'web.example.com'],
      }),
    ],
    want: [{ address: 'web.example.com', port: 443, ingress: 'web' }],
  },
  {
    name: 'TLS for another host only: port 80',
    ingresses: [
      ingress('web', [{ host: 'web.example.com', http: { paths: [root('web')] } }], {
        tls: ['other.example.com'],
      }),
    ],
    want: [{ address: 'web.example.com', port: 80, ingress: 'web' }],
  },
  {
    name: 'only a path other than / names the service: normal instances',
    ingresses: [
      ingress('web', [
        {
          host: 'web.example.com',
          http: {
            paths: [
              { path: '/api', pathType: 'Prefix', backend: root('web').backend! },
              { path: '/', pathType: 'Prefix', backend: root('other').backend! },
            ],
          },
        },
      ]),
    ],
    want: 'normal',
  },
  {
    name: 'a later path / of the same rule names the service',
    ingresses: [
      ingress('web', [
        {
          host: 'web.example.com',
          http: { paths: [{ ...root('web'), path: '/api' }, root('other'), root('web')] },
        },
      ]),
    ],
    want: [{ address: 'web.example.com', port: 80, ingress: 'web' }],
  },
  {
    name: '--loadBalancer-ips: the Ingress first load balancer IP, TLS decided by the rule host',
    ingresses: [
      ingress('web', [{ host: 'web.example.com', http: { paths: [root('web')] } }], {
        tls: ['web.example.com'],
        lbIp: '198.51.100.4',
      }),
    ],
    settings: { loadBalancerIPs: true },
    want: [{ address: '198.51.100.4', port: 443, ingress: 'web' }],
  },
  {
    name: '--loadBalancer-ips with an empty host: the IP, port 80',
    ingresses: [ingress('web', [{ http: { paths: [root('web')] } }], { lbIp: '198.51.100.4' })],
    settings: { loadBalancerIPs: true },
    want: [{ address: '198.51.100.4', port: 80, ingress: 'web' }],
  },
  {
    name: '--loadBalancer-ips without an IP yet: rule skipped (consul-k8s panics on an empty list)',
    ingresses: [
      ingress('web', [{ host: 'web.example.com', http: { paths: [root('web')] } }], { lbIp: null }),
    ],
    settings: { loadBalancerIPs: true },
    want: 'normal',
    warning: /no load balancer IP/,
  },
  {
    name: '--loadBalancer-ips with an empty ip (hostname only): rule skipped',
    ingresses: [
      ingress('web', [{ host: 'web.example.com', http: { paths: [root('web')] } }], { lbIp: '' }),
    ],
    settings: { loadBalancerIPs: true },
    want: 'normal',
    warning: /no load balancer IP/,
  },
  {
    name: 'empty host without --loadBalancer-ips: rule skipped with a warning',
    ingresses: [ingress('web', [{ http: { paths: [root('web')] } }])],
    want: 'normal',
    warning: /has no host/,
  },
  {
    name: 'rule without http: skipped; the next rule decides',
    ingresses: [
      ingress('web', [
        { host: 'bare.example.com' },
        { host: 'web.example.com', http: { paths: [root('web')] } },
      ]),
    ],
    want: [{ address: 'web.example.com', port: 80, ingress: 'web' }],
  },
  {
    name: 'a resource backend on path /: skipped, not fatal',
    ingresses: [
      ingress('web', [
        {
          host: 'web.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { resource: { apiGroup: 'k8s.example.com', kind: 'Bucket', name: 'web' } },
              },
            ],
          },
        },
      ]),
    ],
    want: 'normal',
  },
  {
    name: 'backend port by name: skipped with a warning',
    ingresses: [
      ingress('web', [
        { host: 'web.example.com', http: { paths: [root('web', { name: 'http' })] } },
      ]),
    ],
    want: 'normal',
    warning: /by name/,
  },
  {
    name: 'wildcard host is not an address: skipped with a warning',
    ingresses: [ingress('web', [{ host: '*.example.com', http: { paths: [root('web')] } }])],
    want: 'normal',
    warning: /wildcard/,
  },
  {
    name: 'two Ingresses name the service: the first by name wins, whatever the list order',
    ingresses: [
      ingress('zeta', [{ host: 'z.example.com', http: { paths: [root('web')] } }]),
      ingress('alpha', [{ host: 'a.example.com', http: { paths: [root('web')] } }]),
    ],
    want: [{ address: 'a.example.com', port: 80, ingress: 'alpha' }],
  },
  {
    name: 'two rules of one Ingress name the service: the first in order wins',
    ingresses: [
      ingress('web', [
        { host: 'one.example.com', http: { paths: [root('web')] } },
        { host: 'two.example.com', http: { paths: [root('web')] } },
      ]),
    ],
    want: [{ address: 'one.example.com', port: 80, ingress: 'web' }],
  },
  {
    name: 'a skipped rule falls through to the next Ingress',
    ingresses: [
      ingress('alpha', [{ http: { paths: [root('web')] } }]),
      ingress('beta', [{ host: 'b.example.com', http: { paths: [root('web')] } }]),
    ],
    want: [{ address: 'b.example.com', port: 80, ingress: 'beta' }],
    warning: /has no host/,
  },
  {
    name: 'an Ingress of another namespace names nothing here',
    ingresses: [
      ingress('web', [{ host: 'web.example.com', http: { paths: [root('web')] } }], {
        ns: 'other',
      }),
    ],
    want: 'normal',
  },
  {
    name: 'an Ingress being deleted decides nothing',
    ingresses: [
      {
        ...ingress('web', [{ host: 'web.example.com', http: { paths: [root('web')] } }]),
        metadata: { name: 'web', namespace: 'shop', deletionTimestamp: '2024-01-01T00:00:00Z' },
      },
    ],
    want: 'normal',
  },
  {
    name: '--enable-ingress off: normal instances',
    ingresses: [ingress('web', [{ host: 'web.example.com', http: { paths: [root('web')] } }])],
    settings: { enableIngress: false },
    want: 'normal',
  },
  {
    name: 'LoadBalancer service: the rule replaces the load balancer ingress address',
    service: lb,
    ingresses: [ingress('web', [{ host: 'web.example.com', http: { paths: [root('web')] } }])],
    want: [{ address: 'web.example.com', port: 80, ingress: 'web' }],
  },
];

describe('Ingress rule → the Service instance (docs/reference.md "Ingress")', () => {
  for (const row of rows) {
    it(row.name, () => {
      const settings = { ...base, ...row.settings };
      const service = row.service ?? web;
      const got = translateService(
        { service, endpointSlices: [slice], ingresses: row.ingresses },
        settings,
      );
      assert.equal(got.eligible, true);
      if (row.want === 'normal') {
        const normal = translateService({ service, endpointSlices: [slice] }, settings);
        assert.deepEqual(got.registrations, normal.registrations);
        assert.ok(
          got.registrations.every((r) => r.meta['external-k8s-ingress'] === undefined),
          'no ingress meta',
        );
      } else {
        assert.deepEqual(
          got.registrations.map((r) => ({
            id: r.id,
            address: r.address,
            port: r.port,
            ingress: r.meta['external-k8s-ingress'],
          })),
          row.want.map((w) => ({
            id: sha1Id('web', 'shop', 'web', w.address),
            address: w.address,
            port: w.port,
            ingress: w.ingress,
          })),
        );
      }
      if (row.warning) {
        assert.ok(
          got.warnings.some((w) => row.warning!.test(w)),
          `a warning matching ${String(row.warning)} in ${JSON.stringify(got.warnings)}`,
        );
      }
    });
  }

  it('the ingress instance keeps the other rules: tags, meta, weights, a passing check', () => {
    const service: Service = {
      ...web,
      metadata: {
        ...web.metadata,
        annotations: {
          'consul.hashicorp.com/service-tags': 'blue',
          'consul.hashicorp.com/service-meta-team': 'shop',
          'consul.hashicorp.com/service-weight': '5',
          'consul.hashicorp.com/service-port': '9999',
        },
      },
    };
    const got = translateService(
      {
        service,
        endpointSlices: [slice],
        ingresses: [ingress('web', [{ host: 'web.example.com', http: { paths: [root('web')] } }])],
      },
      base,
    );
    const id = sha1Id('web', 'shop', 'web', 'web.example.com');
    assert.deepEqual(got.registrations, [
      {
        node: 'k8s-sync',
        id,
        service: 'web',
        address: 'web.example.com',
        // The ingress port wins over the service-port annotation: only it is reachable there.
        port: 80,
        tags: ['k8s', 'blue'],
        meta: {
          'external-source': 'kubernetes',
          'external-k8s-ns': 'shop',
          'external-k8s-name': 'web',
          'external-k8s-sync-id': 'sync-123',
          'external-k8s-ingress': 'web',
          'port-http': '80',
          team: 'shop',
        },
        weights: { passing: 5, warning: 1 },
        check: {
          checkId: `shop/${id}`,
          name: 'Kubernetes Readiness Check',
          status: 'passing',
          output: 'Kubernetes health checks passing',
        },
      },
    ]);
  });

  it('ineligible services stay ineligible (ClusterIP without --sync-clusterip-services)', () => {
    const got = translateService(
      {
        service: web,
        ingresses: [ingress('web', [{ host: 'web.example.com', http: { paths: [root('web')] } }])],
      },
      { ...base, syncClusterIPServices: false },
    );
    assert.equal(got.eligible, false);
    assert.deepEqual(got.registrations, []);
  });

  it('sourcesNeeded asks for the Ingresses only with --enable-ingress', () => {
    assert.equal(sourcesNeeded(web, base).ingresses, true);
    assert.equal(sourcesNeeded(web, { ...base, enableIngress: false }).ingresses, undefined);
  });

  it('ingressRuleFor and ingressServiceNames never throw on junk', () => {
    const junk = [
      null,
      1,
      'x',
      {},
      { spec: { rules: [null, 1, { http: { paths: [null, {}] } }] } },
    ];
    assert.equal(
      ingressRuleFor({ namespace: 'shop', name: 'web' }, junk as unknown as Ingress[], base, []),
      undefined,
    );
    for (const j of junk) assert.deepEqual(ingressServiceNames(j as unknown as Ingress), []);
    assert.deepEqual(
      ingressServiceNames(
        ingress('web', [
          { host: 'a', http: { paths: [root('web'), root('api'), { ...root('x'), path: '/x' }] } },
          { host: 'b', http: { paths: [root('web')] } },
        ]),
      ),
      ['web', 'api'],
    );
  });
});
