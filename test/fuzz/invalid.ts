// Objects an API server refuses (it validates before calling any webhook), as edits of a valid
// Service or EndpointSlice: the invalid cases of test/events/validate.test.ts (kube-apiserver 1.32
// ValidateService / ValidateEndpointSlice / ValidateObjectMeta) and more of the same rules. Each
// edit makes exactly one rule fail, so a write caused by one names the rule. An admission of
// any of them must be answered allowed:true with a warning and write nothing.

type Obj = Record<string, any>;
export type Edit = [name: string, edit: (o: Obj) => void];

const spec = (o: Obj): Obj => o.spec as Obj;
const meta = (o: Obj): Obj => o.metadata as Obj;
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const ipv4 = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** Edits of a valid Service (any type: each edit sets what it needs). */
export const INVALID_SERVICE_EDITS: Edit[] = [
  // externalIPs: IsValidIP, then ValidateNonSpecialIP.
  ...(
    [
      'not-an-ip',
      '../../etc',
      '999.1.1.1',
      'fe80::1%eth0',
      '',
      '127.0.0.1',
      '127.255.255.254',
      '169.254.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '::',
      '::1',
      'fe80::1',
      '224.0.0.1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '1.2.3',
      '1.2.3.4.5',
      '1::2::3',
      ' 10.1.2.3',
      '10.1.2.3 ',
      '10.1.2.3/32',
    ] as const
  ).map((ip): Edit => [
    `externalIP ${JSON.stringify(ip)}`,
    (o) => {
      spec(o).externalIPs = ['192.0.2.10', ip];
    },
  ]),
  ['externalIP a number', (o) => (spec(o).externalIPs = [10])],
  ['externalIPs a string', (o) => (spec(o).externalIPs = '192.0.2.10')],
  [
    '1,000 externalIPs, the last one loopback',
    (o) => (spec(o).externalIPs = [...times(999, (i) => ipv4(i + 256)), '127.0.0.1']),
  ],
  // validateServicePort
  ...([65536, 0, -1, 80.5, '80', 2 ** 31, 1e21] as const).map((port): Edit => [
    `port ${JSON.stringify(port)}`,
    (o) => (spec(o).ports = [{ name: 'http', port, targetPort: 8080 }]),
  ]),
  ['port absent', (o) => (spec(o).ports = [{ name: 'http' }])],
  ['protocol HTTP', (o) => (spec(o).ports = [{ name: 'http', port: 80, protocol: 'HTTP' }])],
  ['protocol tcp', (o) => (spec(o).ports = [{ name: 'http', port: 80, protocol: 'tcp' }])],
  ['two ports, one unnamed', (o) => (spec(o).ports = [{ name: 'a', port: 80 }, { port: 81 }])],
  [
    'duplicate port name',
    (o) =>
      (spec(o).ports = [
        { name: 'http', port: 80 },
        { name: 'http', port: 81 },
      ]),
  ],
  ['port name HTTP', (o) => (spec(o).ports = [{ name: 'HTTP', port: 80 }])],
  ['port name of 64 characters', (o) => (spec(o).ports = [{ name: 'a'.repeat(64), port: 80 }])],
  ['targetPort 70000', (o) => (spec(o).ports = [{ name: 'http', port: 80, targetPort: 70000 }])],
  [
    'targetPort http_alt',
    (o) => (spec(o).ports = [{ name: 'http', port: 80, targetPort: 'http_alt' }]),
  ],
  ['targetPort "8080"', (o) => (spec(o).ports = [{ name: 'http', port: 80, targetPort: '8080' }])],
  ['targetPort a--b', (o) => (spec(o).ports = [{ name: 'http', port: 80, targetPort: 'a--b' }])],
  ['targetPort an object', (o) => (spec(o).ports = [{ name: 'http', port: 80, targetPort: {} }])],
  ['appProtocol --', (o) => (spec(o).ports = [{ name: 'http', port: 80, appProtocol: '--' }])],
  [
    'nodePort on ClusterIP',
    (o) => {
      spec(o).type = 'ClusterIP';
      spec(o).externalIPs = ['192.0.2.10'];
      spec(o).ports = [{ name: 'http', port: 80, nodePort: 30080 }];
    },
  ],
  [
    'duplicate nodePort',
    (o) => {
      spec(o).type = 'NodePort';
      spec(o).ports = [
        { name: 'a', port: 80, nodePort: 30080 },
        { name: 'b', port: 81, nodePort: 30080 },
      ];
    },
  ],
  [
    'nodePort 70000',
    (o) => {
      spec(o).type = 'NodePort';
      spec(o).ports = [{ name: 'http', port: 80, nodePort: 70000 }];
    },
  ],
  [
    'duplicate port and protocol',
    (o) =>
      (spec(o).ports = [
        { name: 'a', port: 80 },
        { name: 'b', port: 80, protocol: 'TCP' },
      ]),
  ],
  [
    'no ports on NodePort',
    (o) => {
      spec(o).type = 'NodePort';
      spec(o).ports = [];
    },
  ],
  [
    'kubelet port on LoadBalancer',
    (o) => {
      spec(o).type = 'LoadBalancer';
      spec(o).ports = [{ name: 'kubelet', port: 10250 }];
    },
  ],
  ['ports not a list', (o) => (spec(o).ports = { port: 80 })],
  ['a port that is not an object', (o) => (spec(o).ports = [42])],
  // ObjectMeta: names, labels, annotations.
  ['name 9a.b', (o) => (meta(o).name = '9a.b')],
  ['name with a dot', (o) => (meta(o).name = 'web.shop')],
  ['name Web (upper case)', (o) => (meta(o).name = 'Web')],
  ['name of 64 characters', (o) => (meta(o).name = 'a'.repeat(64))],
  ['name a number', (o) => (meta(o).name = 42)],
  ['label key with a space', (o) => (meta(o).labels = { 'bad key': 'v' })],
  ['label key with two slashes', (o) => (meta(o).labels = { 'a/b/c': 'v' })],
  ['label key with an uppercase prefix', (o) => (meta(o).labels = { 'Example.com/x': 'v' })],
  ['label value of 64 characters', (o) => (meta(o).labels = { app: 'a'.repeat(64) })],
  ['label value with a slash', (o) => (meta(o).labels = { app: 'a/b' })],
  ['annotation key _x', (o) => (meta(o).annotations = { _x: 'v' })],
  [
    'annotations over 256 KiB',
    (o) => (meta(o).annotations = { a: 'x'.repeat(200 * 1024), b: 'y'.repeat(60 * 1024) }),
  ],
  ['selector value a b', (o) => (spec(o).selector = { app: 'a b' })],
  // type, ExternalName, cluster IPs, session affinity, traffic policies.
  ['type Bogus', (o) => (spec(o).type = 'Bogus')],
  ['type nodeport (lower case)', (o) => (spec(o).type = 'nodeport')],
  [
    'externalName UPPER.example',
    (o) => {
      spec(o).type = 'ExternalName';
      spec(o).externalName = 'UPPER.example';
      delete spec(o).ports;
    },
  ],
  [
    'externalName absent',
    (o) => {
      spec(o).type = 'ExternalName';
      delete spec(o).externalName;
    },
  ],
  ['clusterIP not-an-ip', (o) => (spec(o).clusterIP = 'not-an-ip')],
  [
    'clusterIPs[0] differs from clusterIP',
    (o) => {
      spec(o).clusterIP = '10.96.0.10';
      spec(o).clusterIPs = ['10.96.0.11'];
    },
  ],
  [
    'two IPv4 clusterIPs',
    (o) => {
      spec(o).clusterIP = '10.96.0.10';
      spec(o).clusterIPs = ['10.96.0.10', '10.96.0.11'];
    },
  ],
  [
    'headless NodePort',
    (o) => {
      spec(o).type = 'NodePort';
      spec(o).clusterIP = 'None';
    },
  ],
  ['ipFamilies IPv5', (o) => (spec(o).ipFamilies = ['IPv5'])],
  ['sessionAffinity Sticky', (o) => (spec(o).sessionAffinity = 'Sticky')],
  [
    'externalTrafficPolicy Global',
    (o) => {
      spec(o).type = 'NodePort';
      spec(o).externalTrafficPolicy = 'Global';
    },
  ],
  // ValidateLoadBalancerStatus.
  ...(
    [
      ['ingress ip not-an-ip', { ip: 'not-an-ip' }],
      ['ingress ip 999.1.1.1', { ip: '999.1.1.1' }],
      ['ingress hostname UPPER.example', { hostname: 'UPPER.example' }],
      ['ingress hostname Lb-1.Example.com', { hostname: 'Lb-1.Example.com' }],
      ['ingress hostname that is an IP', { hostname: '1.2.3.4' }],
      ['ingress hostname with an underscore', { hostname: 'lb_1.example.com' }],
      ['ingress ipMode Bogus', { ip: '198.51.100.9', ipMode: 'Bogus' }],
      ['ingress ipMode without ip', { hostname: 'lb.example.com', ipMode: 'VIP' }],
    ] as const
  ).map(([name, ingress]): Edit => [
    name,
    (o) => {
      spec(o).type = 'LoadBalancer';
      o.status = { loadBalancer: { ingress: [{ ...ingress }] } };
    },
  ]),
];

/** Edits of a valid EndpointSlice. */
export const INVALID_SLICE_EDITS: Edit[] = [
  ['addressType bogus', (o) => (o.addressType = 'bogus')],
  ['addressType IP', (o) => (o.addressType = 'IP')],
  ['addressType ipv4 (lower case)', (o) => (o.addressType = 'ipv4')],
  ['addressType absent', (o) => delete o.addressType],
  ...(
    [
      ['IPv4', '123.456.789.012'],
      ['IPv4', '2001:4860:4860::8888'],
      ['IPv6', '10.1.2.3'],
      ['IPv6', '2001:4860:4860:defg'],
      ['IPv4', '127.0.0.1'],
      ['IPv6', '::1'],
      ['IPv6', 'fe80::9656:d028:8652:66b6'],
      ['IPv4', '169.254.169.254'],
      ['IPv4', '0.0.0.0'],
      ['IPv4', '224.0.0.1'],
      ['IPv6', 'ff02::1'],
      ['IPv4', '../../etc'],
      ['FQDN', 'FOO.example.com'],
      ['FQDN', '*.example.com'],
      ['FQDN', 'underscores_are_bad.example.com'],
      ['FQDN', 'localhost'],
      ['FQDN', `${'a'.repeat(64)}.example.com`],
    ] as const
  ).map(([addressType, address]): Edit => [
    `${addressType} address ${JSON.stringify(address)}`,
    (o) => {
      o.addressType = addressType;
      o.endpoints = [{ addresses: [address], conditions: { ready: true } }];
    },
  ]),
  ['address a number', (o) => (o.endpoints = [{ addresses: [167772161] }])],
  ['1,001 endpoints', (o) => (o.endpoints = times(1001, (i) => ({ addresses: [ipv4(i + 256)] })))],
  ['no endpoint addresses', (o) => (o.endpoints = [{ addresses: [] }])],
  ['addresses absent', (o) => (o.endpoints = [{ nodeName: 'node-a' }])],
  ['101 addresses', (o) => (o.endpoints = [{ addresses: times(101, (i) => ipv4(i + 256)) }])],
  [
    'hostname --INVALID',
    (o) => (o.endpoints = [{ addresses: ['10.244.9.1'], hostname: '--INVALID' }]),
  ],
  [
    'hostname Web-0 (upper case)',
    (o) => (o.endpoints = [{ addresses: ['10.244.9.1'], hostname: 'Web-0' }]),
  ],
  [
    'nodeName INvalid-node-name',
    (o) => (o.endpoints = [{ addresses: ['10.244.9.1'], nodeName: 'INvalid-node-name' }]),
  ],
  [
    'condition ready "yes"',
    (o) => (o.endpoints = [{ addresses: ['10.244.9.1'], conditions: { ready: 'yes' } }]),
  ],
  ['endpoint a string', (o) => (o.endpoints = ['10.244.9.1'])],
  [
    'duplicate port name ""',
    (o) => (o.ports = [{ name: '', protocol: 'TCP' }, { protocol: 'TCP' }]),
  ],
  ['port name aCapital', (o) => (o.ports = [{ name: 'aCapital', port: 80 }])],
  ['port name almost_valid', (o) => (o.ports = [{ name: 'almost_valid', port: 80 }])],
  ['port name of 64 characters', (o) => (o.ports = [{ name: 'a'.repeat(64), port: 80 }])],
  ['port protocol foo', (o) => (o.ports = [{ name: 'http', protocol: 'foo', port: 80 }])],
  ['port appProtocol --', (o) => (o.ports = [{ name: 'http', appProtocol: '--', port: 80 }])],
  ['port 0', (o) => (o.ports = [{ name: 'http', port: 0 }])],
  ['port 65536', (o) => (o.ports = [{ name: 'http', port: 65536 }])],
  ['name *&^', (o) => (meta(o).name = '*&^')],
  ['name of 254 characters', (o) => (meta(o).name = 'a'.repeat(254))],
  ['metadata a string', (o) => (o.metadata = 'x')],
];
