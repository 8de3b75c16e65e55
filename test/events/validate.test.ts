// Table-driven tests of the admission-time validation of Services and EndpointSlices. Expected
// fields and messages are written from the kube-apiserver 1.32 source (the function is named
// with each group of cases) and the Kubernetes docs, not from the output of validate.ts.
import fc from 'fast-check';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_PROBLEMS,
  MORE_PROBLEMS_FIELD,
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isIanaSvcName,
  validateEndpointIp,
  validateEndpointSlice,
  validateService,
  type FieldProblem,
} from '../../src/events/validate.js';

type Json = Record<string, unknown>;

const META = { name: 'web', namespace: 'shop' };

function service(spec: Json, extra: Json = {}): Json {
  return { apiVersion: 'v1', kind: 'Service', metadata: { ...META }, spec, ...extra };
}
function withMeta(metadata: Json, spec: Json = { ports: [{ port: 80 }] }): Json {
  return { apiVersion: 'v1', kind: 'Service', metadata, spec };
}
function lbWithIngress(...ingress: Json[]): Json {
  return service(
    { type: 'LoadBalancer', ports: [{ port: 80 }] },
    { status: { loadBalancer: { ingress } } },
  );
}
function slice(fields: Json, metadata: Json = {}): Json {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'web-abc12',
      namespace: 'shop',
      labels: { 'kubernetes.io/service-name': 'web' },
      ...metadata,
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.1.2.3'] }],
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    ...fields,
  };
}
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const ipv4 = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function show(problems: readonly FieldProblem[]): string {
  return problems.map((p) => `  ${p.field}: ${p.message}`).join('\n') || '  (none)';
}
/** Some problem names `field` and its message contains `message`. */
function assertProblem(problems: readonly FieldProblem[], field: string, message: string): void {
  assert.ok(
    problems.some((p) => p.field === field && p.message.includes(message)),
    `expected ${field}: ...${message}...\ngot:\n${show(problems)}`,
  );
}

// IsValidIP (apimachinery util/validation/ip.go) and ValidateNonSpecialIP (core validation).
const INVALID_IP = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';
const LOOPBACK = 'may not be in the loopback range (127.0.0.0/8, ::1/128)';
const LINK_LOCAL = 'may not be in the link-local range (169.254.0.0/16, fe80::/10)';
const LINK_LOCAL_MULTICAST =
  'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)';
// apimachinery util/validation/validation.go
const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const DNS1123_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const PORT_RANGE = 'must be between 1 and 65535, inclusive'; // IsValidPortNum
const PROTOCOLS = 'supported values: "SCTP", "TCP", "UDP"';

// ---------------------------------------------------------------------------------------------
// Valid objects

const validServices: [string, Json][] = [
  // Defaults applied before validation: type ClusterIP, protocol TCP, targetPort = port.
  ['minimal ClusterIP (defaults)', service({ ports: [{ port: 80 }] })],
  [
    'ClusterIP as stored (defaulted fields present)',
    service({
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/name': 'web' },
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
    }),
  ],
  [
    'NodePort (docs: nodePort 30007, named targetPort)',
    service({
      type: 'NodePort',
      externalTrafficPolicy: 'Local',
      ports: [
        { name: 'http', port: 80, targetPort: 'http-web', nodePort: 30007 },
        { name: 'metrics', port: 9090, targetPort: 9090, nodePort: 30008, appProtocol: 'http' },
      ],
    }),
  ],
  [
    'LoadBalancer with status (ip with ipMode, ip defaulted to VIP, hostname)',
    service(
      { type: 'LoadBalancer', ports: [{ port: 443, nodePort: 31443 }] },
      {
        status: {
          loadBalancer: {
            ingress: [
              { ip: '203.0.113.10', ipMode: 'VIP' },
              { ip: '2001:db8::10', ipMode: 'Proxy' },
              { ip: '198.51.100.7' },
              { hostname: 'a1b2c3-1234567890.us-east-1.elb.amazonaws.com' },
            ],
          },
        },
      },
    ),
  ],
  // ExternalName: the docs' my.database.example.com; a trailing dot marks it fully qualified.
  ['ExternalName', service({ type: 'ExternalName', externalName: 'my.database.example.com' })],
  [
    'ExternalName with a trailing dot',
    service({ type: 'ExternalName', externalName: 'db.example.com.' }),
  ],
  [
    'externalIPs (docs example 198.51.100.32, IPv6, duplicates are not checked)',
    service({
      ports: [{ name: 'http', port: 80, targetPort: 9376 }],
      externalIPs: ['198.51.100.32', '2001:db8::32', '198.51.100.32'],
      externalTrafficPolicy: 'Cluster',
    }),
  ],
  // ValidateService: ports are not required when clusterIP is None.
  ['headless without ports', service({ clusterIP: 'None', selector: { app: 'web' } })],
  [
    'dual-stack clusterIPs',
    service({
      clusterIP: '10.96.0.11',
      clusterIPs: ['10.96.0.11', 'fd00::11'],
      ports: [{ port: 80 }],
    }),
  ],
  [
    'same port number on TCP and UDP (kube-dns)',
    service({
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
    }),
  ],
  [
    'labels and annotations (annotation keys are checked lowercased)',
    withMeta({
      ...META,
      labels: { 'app.kubernetes.io/name': 'web', tier: '', 'Example.com_v1': 'A.b-c_d' },
      annotations: { 'Example.COM/Owner': 'anything at all: {"json": true}' },
    }),
  ],
  // ValidateObjectMeta: the name is generated from generateName (trailing '-' allowed).
  ['generateName only', withMeta({ generateName: 'web-', namespace: 'shop' })],
  ['no namespace in the object (the request carries it)', withMeta({ name: 'web' })],
  // 1.32 parses IPs with ParseIPSloppy: leading zeros only warn (strict parsing is 1.33 alpha).
  ['externalIP with leading zeros', service({ ports: [{ port: 80 }], externalIPs: ['010.1.1.1'] })],
  // ValidateNonSpecialIP refuses link-local multicast only ("allows global multicast IPs").
  [
    'externalIP in global multicast',
    service({ ports: [{ port: 80 }], externalIPs: ['239.1.1.1', 'ff05::1'] }),
  ],
];

for (const [name, obj] of validServices) {
  test(`validateService: valid: ${name}`, () => {
    assert.deepEqual(validateService(obj), []);
  });
}

const validSlices: [string, Json][] = [
  [
    'IPv4 as the controller writes it',
    slice({
      endpoints: [
        {
          addresses: ['10.1.2.3'],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: 'node-1.example',
          hostname: 'web-0',
          zone: 'us-east-1a',
          targetRef: { kind: 'Pod', name: 'web-0', namespace: 'shop' },
        },
        { addresses: ['10.1.2.4'], conditions: { ready: null } },
      ],
    }),
  ],
  // validation_test.go good-ipv6 / good-fqdns
  ['IPv6', slice({ addressType: 'IPv6', endpoints: [{ addresses: ['a00:100::4'] }] })],
  [
    'FQDN',
    slice({
      addressType: 'FQDN',
      endpoints: [
        {
          addresses: [
            'foo.example.com',
            'example.com',
            'example.com.',
            'hyphens-are-good.example.com',
          ],
        },
      ],
    }),
  ],
  ['empty ports and endpoints', slice({ ports: [], endpoints: [] })],
  [
    'empty port name, 63-character port name, unrestricted port, defaults',
    slice({
      ports: [
        { name: '', protocol: 'TCP', port: 80 },
        { name: 'a'.repeat(63), protocol: 'UDP' },
        { port: null, name: 'x' },
        { port: 9090, name: 'metrics', appProtocol: 'example.com/custom-protocol' },
      ],
    }),
  ],
  [
    '1000 endpoints (maxEndpoints)',
    slice({ endpoints: times(1000, (i) => ({ addresses: [ipv4(i + 1)] })) }),
  ],
  [
    '100 addresses (maxAddresses)',
    slice({ endpoints: [{ addresses: times(100, (i) => ipv4(i + 1)) }] }),
  ],
  ['generateName only', slice({}, { name: undefined, generateName: 'web-' })],
];

for (const [name, obj] of validSlices) {
  test(`validateEndpointSlice: valid: ${name}`, () => {
    assert.deepEqual(validateEndpointSlice(obj), []);
  });
}

// ---------------------------------------------------------------------------------------------
// Invalid Services: [case, object, field, message]

type Case = [string, unknown, string, string];

const withIPs = (...externalIPs: unknown[]): Json =>
  service({ ports: [{ port: 80 }], externalIPs });
const withPorts = (ports: unknown[], extra: Json = {}): Json => service({ ports, ...extra });

const invalidServices: Case[] = [
  // ValidateService externalIPs: IsValidIP, then ValidateNonSpecialIP.
  [
    'externalIP not-an-ip',
    withIPs('not-an-ip'),
    'spec.externalIPs[0]',
    `Invalid value: "not-an-ip": ${INVALID_IP}`,
  ],
  [
    'externalIP ../../etc',
    withIPs('10.0.0.1', '../../etc'),
    'spec.externalIPs[1]',
    `Invalid value: "../../etc": ${INVALID_IP}`,
  ],
  ['externalIP 999.1.1.1', withIPs('999.1.1.1'), 'spec.externalIPs[0]', INVALID_IP],
  ['externalIP with a zone', withIPs('fe80::1%eth0'), 'spec.externalIPs[0]', INVALID_IP],
  ['externalIP empty', withIPs(''), 'spec.externalIPs[0]', INVALID_IP],
  [
    'externalIP 127.0.0.1',
    withIPs('127.0.0.1'),
    'spec.externalIPs[0]',
    `Invalid value: "127.0.0.1": ${LOOPBACK}`,
  ],
  ['externalIP 169.254.1.1', withIPs('169.254.1.1'), 'spec.externalIPs[0]', LINK_LOCAL],
  [
    'externalIP 0.0.0.0',
    withIPs('0.0.0.0'),
    'spec.externalIPs[0]',
    'may not be unspecified (0.0.0.0)',
  ],
  ['externalIP ::', withIPs('::'), 'spec.externalIPs[0]', 'may not be unspecified (::)'],
  ['externalIP ::1', withIPs('::1'), 'spec.externalIPs[0]', LOOPBACK],
  ['externalIP fe80::1', withIPs('fe80::1'), 'spec.externalIPs[0]', LINK_LOCAL],
  ['externalIP 224.0.0.1', withIPs('224.0.0.1'), 'spec.externalIPs[0]', LINK_LOCAL_MULTICAST],
  ['externalIP ff02::1', withIPs('ff02::1'), 'spec.externalIPs[0]', LINK_LOCAL_MULTICAST],
  // Go's IsLoopback reads an IPv4-mapped IPv6 address as IPv4.
  ['externalIP ::ffff:127.0.0.1', withIPs('::ffff:127.0.0.1'), 'spec.externalIPs[0]', LOOPBACK],
  ['externalIP a number', withIPs(10), 'spec.externalIPs[0]', 'Invalid value: 10'],
  [
    'externalIPs not a list',
    service({ ports: [{ port: 80 }], externalIPs: '1.2.3.4' }),
    'spec.externalIPs',
    'Invalid value',
  ],

  // validateServicePort
  [
    'port 65536',
    withPorts([{ port: 65536 }]),
    'spec.ports[0].port',
    `Invalid value: 65536: ${PORT_RANGE}`,
  ],
  ['port 0', withPorts([{ port: 0 }]), 'spec.ports[0].port', `Invalid value: 0: ${PORT_RANGE}`],
  ['port absent', withPorts([{ name: 'http' }]), 'spec.ports[0].port', PORT_RANGE],
  ['port -1', withPorts([{ port: -1 }]), 'spec.ports[0].port', PORT_RANGE],
  ['port 80.5', withPorts([{ port: 80.5 }]), 'spec.ports[0].port', 'Invalid value: 80.5'],
  ['port "80"', withPorts([{ port: '80' }]), 'spec.ports[0].port', 'Invalid value: "80"'],
  [
    'protocol HTTP',
    withPorts([{ port: 80, protocol: 'HTTP' }]),
    'spec.ports[0].protocol',
    `Unsupported value: "HTTP": ${PROTOCOLS}`,
  ],
  [
    'two ports, one unnamed',
    withPorts([{ name: 'a', port: 80 }, { port: 81 }]),
    'spec.ports[1].name',
    'Required value',
  ],
  [
    'duplicate port name',
    withPorts([
      { name: 'http', port: 80 },
      { name: 'http', port: 81 },
    ]),
    'spec.ports[1].name',
    'Duplicate value: "http"',
  ],
  // Service port names are DNS-1123 labels (ValidateDNS1123Label), not IANA_SVC_NAMEs.
  ['port name HTTP', withPorts([{ name: 'HTTP', port: 80 }]), 'spec.ports[0].name', DNS1123_LABEL],
  [
    'port name of 64 characters',
    withPorts([{ name: 'a'.repeat(64), port: 80 }]),
    'spec.ports[0].name',
    'must be no more than 63 characters',
  ],
  // ValidatePortNumOrName: a number 1-65535 or an IANA_SVC_NAME (IsValidPortName).
  [
    'targetPort 70000',
    withPorts([{ port: 80, targetPort: 70000 }]),
    'spec.ports[0].targetPort',
    `Invalid value: 70000: ${PORT_RANGE}`,
  ],
  [
    'targetPort http_alt',
    withPorts([{ port: 80, targetPort: 'http_alt' }]),
    'spec.ports[0].targetPort',
    'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
  ],
  [
    'targetPort "8080"',
    withPorts([{ port: 80, targetPort: '8080' }]),
    'spec.ports[0].targetPort',
    'must contain at least one letter (a-z)',
  ],
  [
    'targetPort of 16 characters',
    withPorts([{ port: 80, targetPort: 'abcdefghijklmnop' }]),
    'spec.ports[0].targetPort',
    'must be no more than 15 characters',
  ],
  [
    'targetPort a--b',
    withPorts([{ port: 80, targetPort: 'a--b' }]),
    'spec.ports[0].targetPort',
    'must not contain consecutive hyphens',
  ],
  [
    'targetPort -ab',
    withPorts([{ port: 80, targetPort: '-ab' }]),
    'spec.ports[0].targetPort',
    'must not begin or end with a hyphen',
  ],
  [
    'targetPort an object',
    withPorts([{ port: 80, targetPort: {} }]),
    'spec.ports[0].targetPort',
    'Invalid value',
  ],
  [
    'appProtocol',
    withPorts([{ port: 80, appProtocol: '--' }]),
    'spec.ports[0].appProtocol',
    QUALIFIED_NAME,
  ],
  // ValidateService: cross-port rules.
  [
    'nodePort on ClusterIP',
    withPorts([{ port: 80, nodePort: 30080 }]),
    'spec.ports[0].nodePort',
    "Forbidden: may not be used when `type` is 'ClusterIP'",
  ],
  [
    'duplicate port and protocol',
    withPorts([
      { name: 'a', port: 80 },
      { name: 'b', port: 80, protocol: 'TCP' },
    ]),
    'spec.ports[1]',
    'Duplicate value',
  ],
  [
    'duplicate nodePort',
    withPorts(
      [
        { name: 'a', port: 80, nodePort: 30080 },
        { name: 'b', port: 81, nodePort: 30080 },
      ],
      { type: 'NodePort' },
    ),
    'spec.ports[1].nodePort',
    'Duplicate value: 30080',
  ],
  [
    'nodePort beyond any port',
    withPorts([{ port: 80, nodePort: 70000 }], { type: 'NodePort' }),
    'spec.ports[0].nodePort',
    'Invalid value: 70000',
  ],
  ['no ports on ClusterIP', service({}), 'spec.ports', 'Required value'],
  [
    'no ports on NodePort',
    service({ type: 'NodePort', ports: [] }),
    'spec.ports',
    'Required value',
  ],
  [
    'kubelet port on LoadBalancer',
    withPorts([{ port: 10250 }], { type: 'LoadBalancer' }),
    'spec.ports[0]',
    'may not expose port 10250 externally since it is used by kubelet',
  ],
  ['ports not a list', service({ ports: { port: 80 } }), 'spec.ports', 'Invalid value'],
  ['a port that is not an object', withPorts([42]), 'spec.ports[0]', 'Invalid value: 42'],

  // ValidateObjectMeta with ValidateServiceName = NameIsDNS1035Label
  [
    'name 9a.b (a DNS-1123 subdomain, not a DNS-1035 label)',
    withMeta({ name: '9a.b' }),
    'metadata.name',
    `Invalid value: "9a.b": ${DNS1035}`,
  ],
  [
    'name of 64 characters',
    withMeta({ name: 'a'.repeat(64) }),
    'metadata.name',
    'must be no more than 63 characters',
  ],
  ['name with a dot', withMeta({ name: 'web.shop' }), 'metadata.name', DNS1035],
  [
    'name absent',
    withMeta({ namespace: 'shop' }),
    'metadata.name',
    'Required value: name or generateName is required',
  ],
  ['name a number', withMeta({ name: 42 }), 'metadata.name', 'Invalid value: 42'],
  ['generateName 9web-', withMeta({ generateName: '9web-' }), 'metadata.generateName', DNS1035],
  // ValidateNamespaceName = NameIsDNSLabel
  [
    'namespace Shop',
    withMeta({ name: 'web', namespace: 'Shop' }),
    'metadata.namespace',
    DNS1123_LABEL,
  ],
  [
    'namespace ../etc',
    withMeta({ name: 'web', namespace: '../etc' }),
    'metadata.namespace',
    DNS1123_LABEL,
  ],
  // ValidateLabels: IsQualifiedName keys, IsValidLabelValue values
  [
    'label key with a space',
    withMeta({ ...META, labels: { 'bad key': 'v' } }),
    'metadata.labels',
    `name part ${QUALIFIED_NAME}`,
  ],
  [
    'label key with two slashes',
    withMeta({ ...META, labels: { 'a/b/c': 'v' } }),
    'metadata.labels',
    'a qualified name',
  ],
  [
    'label key with an empty prefix',
    withMeta({ ...META, labels: { '/x': 'v' } }),
    'metadata.labels',
    'prefix part must be non-empty',
  ],
  [
    'label key with an uppercase prefix',
    withMeta({ ...META, labels: { 'Example.com/x': 'v' } }),
    'metadata.labels',
    `prefix part ${DNS1123_SUBDOMAIN}`,
  ],
  [
    'label value of 64 characters',
    withMeta({ ...META, labels: { app: 'a'.repeat(64) } }),
    'metadata.labels',
    'must be no more than 63 characters',
  ],
  [
    'label value with a slash',
    withMeta({ ...META, labels: { app: 'a/b' } }),
    'metadata.labels',
    LABEL_VALUE,
  ],
  [
    'label value a number',
    withMeta({ ...META, labels: { app: 42 } }),
    'metadata.labels',
    'Invalid value: 42',
  ],
  ['labels a list', withMeta({ ...META, labels: ['a'] }), 'metadata.labels', 'Invalid value'],
  // ValidateAnnotations: lowercased qualified-name keys, total size ≤ 256 KiB
  [
    'annotation key _x',
    withMeta({ ...META, annotations: { _x: 'v' } }),
    'metadata.annotations',
    QUALIFIED_NAME,
  ],
  [
    'annotations over 256 KiB',
    withMeta({ ...META, annotations: { a: 'x'.repeat(200 * 1024), b: 'y'.repeat(60 * 1024) } }),
    'metadata.annotations',
    'Too long',
  ],
  [
    'selector value',
    service({ ports: [{ port: 80 }], selector: { app: 'a b' } }),
    'spec.selector',
    LABEL_VALUE,
  ],

  // ValidateService: type, ExternalName, cluster IPs, session affinity, traffic policies. Before
  // ValidateServiceClusterIPsRelatedFields the strategy copies clusterIP into clusterIPs[0], so
  // the API server names a bad clusterIP spec.clusterIPs[0].
  [
    'type Bogus',
    service({ type: 'Bogus', ports: [{ port: 80 }] }),
    'spec.type',
    'Unsupported value: "Bogus": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
  ],
  [
    'externalName UPPER.example',
    service({ type: 'ExternalName', externalName: 'UPPER.example' }),
    'spec.externalName',
    DNS1123_SUBDOMAIN,
  ],
  ['externalName absent', service({ type: 'ExternalName' }), 'spec.externalName', 'Required value'],
  [
    'externalName with a slash',
    service({ type: 'ExternalName', externalName: 'a/b' }),
    'spec.externalName',
    DNS1123_SUBDOMAIN,
  ],
  [
    'clusterIP on ExternalName',
    service({ type: 'ExternalName', externalName: 'db.example.com', clusterIP: '10.96.0.10' }),
    'spec.clusterIPs',
    'Forbidden: may not be set for ExternalName services',
  ],
  [
    'clusterIP not-an-ip',
    service({ clusterIP: 'not-an-ip', ports: [{ port: 80 }] }),
    'spec.clusterIPs[0]',
    INVALID_IP,
  ],
  [
    'clusterIPs[1] not-an-ip',
    service({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10', 'x'], ports: [{ port: 80 }] }),
    'spec.clusterIPs[1]',
    INVALID_IP,
  ],
  [
    'clusterIPs[0] differs from clusterIP',
    service({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.11'], ports: [{ port: 80 }] }),
    'spec.clusterIPs',
    'first value must match `clusterIP`',
  ],
  [
    'two IPv4 clusterIPs',
    service({
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10', '10.96.0.11'],
      ports: [{ port: 80 }],
    }),
    'spec.clusterIPs',
    'may specify no more than one IP for each IP family',
  ],
  [
    'headless NodePort',
    service({ type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] }),
    'spec.clusterIPs[0]',
    "may not be set to 'None' for NodePort services",
  ],
  [
    'headless LoadBalancer',
    service({
      type: 'LoadBalancer',
      clusterIP: 'None',
      clusterIPs: ['None'],
      ports: [{ port: 80 }],
    }),
    'spec.clusterIPs[0]',
    "may not be set to 'None' for LoadBalancer services",
  ],
  [
    'ipFamilies IPv5',
    service({ ipFamilies: ['IPv5'], ports: [{ port: 80 }] }),
    'spec.ipFamilies[0]',
    'Unsupported value: "IPv5"',
  ],
  [
    'sessionAffinity Sticky',
    service({ sessionAffinity: 'Sticky', ports: [{ port: 80 }] }),
    'spec.sessionAffinity',
    'supported values: "ClientIP", "None"',
  ],
  [
    'externalTrafficPolicy on a plain ClusterIP',
    service({ externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }),
    'spec.externalTrafficPolicy',
    'may only be set for externally-accessible services',
  ],
  [
    'externalTrafficPolicy Global',
    service({ type: 'NodePort', externalTrafficPolicy: 'Global', ports: [{ port: 80 }] }),
    'spec.externalTrafficPolicy',
    'supported values: "Cluster", "Local"',
  ],

  // ValidateLoadBalancerStatus
  [
    'ingress ip not-an-ip',
    lbWithIngress({ ip: 'not-an-ip' }),
    'status.loadBalancer.ingress[0].ip',
    INVALID_IP,
  ],
  [
    'ingress hostname UPPER.example',
    lbWithIngress({ hostname: 'UPPER.example' }),
    'status.loadBalancer.ingress[0].hostname',
    `Invalid value: "UPPER.example": ${DNS1123_SUBDOMAIN}`,
  ],
  [
    'ingress hostname that is an IP',
    lbWithIngress({ ip: '1.2.3.4' }, { hostname: '1.2.3.4' }),
    'status.loadBalancer.ingress[1].hostname',
    'must be a DNS name, not an IP address',
  ],
  [
    'ingress ipMode Bogus',
    lbWithIngress({ ip: '1.2.3.4', ipMode: 'Bogus' }),
    'status.loadBalancer.ingress[0].ipMode',
    'supported values: "Proxy", "VIP"',
  ],
  [
    'ingress ipMode without ip',
    lbWithIngress({ hostname: 'lb.example.com', ipMode: 'VIP' }),
    'status.loadBalancer.ingress[0].ipMode',
    'may not be specified when `ip` is not set',
  ],
];

for (const [name, obj, field, message] of invalidServices) {
  test(`validateService: invalid: ${name} → ${field}`, () => {
    assertProblem(validateService(obj), field, message);
  });
}

// ---------------------------------------------------------------------------------------------
// Invalid EndpointSlices (ValidateEndpointSlice; named cases are from its validation_test.go)

const at = (addressType: string, ...addresses: unknown[]): Json =>
  slice({ addressType, endpoints: [{ addresses }] });

const invalidSlices: Case[] = [
  [
    'addressType bogus',
    slice({ addressType: 'bogus' }),
    'addressType',
    'Unsupported value: "bogus": supported values: "FQDN", "IPv4", "IPv6"',
  ],
  [
    'addressType IP (deprecated, refused on create)',
    slice({ addressType: 'IP' }),
    'addressType',
    'Unsupported value: "IP"',
  ],
  ['addressType absent', slice({ addressType: undefined }), 'addressType', 'Required value'],
  // IPv4/IPv6: IsValidIPv4Address / IsValidIPv6Address, then ValidateNonSpecialIP
  [
    'bad-ip 123.456.789.012',
    at('IPv4', '123.456.789.012'),
    'endpoints[0].addresses[0]',
    'must be a valid IPv4 address',
  ],
  [
    'IPv6 in an IPv4 slice',
    at('IPv4', '10.0.0.1', '2001:4860:4860::8888'),
    'endpoints[0].addresses[1]',
    'must be a valid IPv4 address',
  ],
  [
    'IPv4 in an IPv6 slice',
    at('IPv6', '123.456.789.012'),
    'endpoints[0].addresses[0]',
    'must be a valid IPv6 address',
  ],
  [
    'bad-ipv6',
    at('IPv6', '2001:4860:4860:defg'),
    'endpoints[0].addresses[0]',
    'must be a valid IPv6 address',
  ],
  ['special-ipv4 127.0.0.1', at('IPv4', '127.0.0.1'), 'endpoints[0].addresses[0]', LOOPBACK],
  [
    'special-ipv6 fe80::9656:d028:8652:66b6',
    at('IPv6', 'fe80::9656:d028:8652:66b6'),
    'endpoints[0].addresses[0]',
    LINK_LOCAL,
  ],
  [
    'IPv4 169.254.169.254 (metadata service)',
    at('IPv4', '169.254.169.254'),
    'endpoints[0].addresses[0]',
    LINK_LOCAL,
  ],
  [
    'IPv4 0.0.0.0',
    at('IPv4', '0.0.0.0'),
    'endpoints[0].addresses[0]',
    'may not be unspecified (0.0.0.0)',
  ],
  ['IPv4 224.0.0.1', at('IPv4', '224.0.0.1'), 'endpoints[0].addresses[0]', LINK_LOCAL_MULTICAST],
  ['IPv6 ::1', at('IPv6', '::1'), 'endpoints[0].addresses[0]', LOOPBACK],
  ['IPv6 ff02::1', at('IPv6', 'ff02::1'), 'endpoints[0].addresses[0]', LINK_LOCAL_MULTICAST],
  [
    'address ../../etc',
    at('IPv4', '../../etc'),
    'endpoints[0].addresses[0]',
    'must be a valid IPv4 address',
  ],
  [
    'address a number',
    at('IPv4', 167772161),
    'endpoints[0].addresses[0]',
    'Invalid value: 167772161',
  ],
  // FQDN: IsFullyQualifiedDomainName (bad-fqdns)
  [
    'FQDN FOO.example.com',
    at('FQDN', 'FOO.example.com'),
    'endpoints[0].addresses[0]',
    DNS1123_SUBDOMAIN,
  ],
  [
    'FQDN *.example.com',
    at('FQDN', '*.example.com'),
    'endpoints[0].addresses[0]',
    DNS1123_SUBDOMAIN,
  ],
  [
    'FQDN underscores_are_bad.example.com',
    at('FQDN', 'underscores_are_bad.example.com'),
    'endpoints[0].addresses[0]',
    DNS1123_SUBDOMAIN,
  ],
  [
    'FQDN of one segment',
    at('FQDN', 'localhost'),
    'endpoints[0].addresses[0]',
    'should be a domain with at least two segments separated by dots',
  ],
  [
    'FQDN with a 64-character label',
    at('FQDN', `${'a'.repeat(64)}.example.com`),
    'endpoints[0].addresses[0]',
    'must be no more than 63 characters',
  ],
  // validateEndpoints
  [
    'too-many-endpoints',
    slice({ endpoints: times(1001, (i) => ({ addresses: [ipv4(i + 1)] })) }),
    'endpoints',
    'Too many: 1001: must have at most 1000 items',
  ],
  [
    'no-endpoint-addresses',
    slice({ endpoints: [{ addresses: [] }] }),
    'endpoints[0].addresses',
    'Required value: must contain at least 1 address',
  ],
  ['addresses absent', slice({ endpoints: [{}] }), 'endpoints[0].addresses', 'Required value'],
  [
    'too-many-addresses',
    slice({ endpoints: [{ addresses: times(101, (i) => ipv4(i + 1)) }] }),
    'endpoints[0].addresses',
    'Too many: 101: must have at most 100 items',
  ],
  [
    'bad-hostname',
    slice({ endpoints: [{ addresses: ['10.0.0.1'], hostname: '--INVALID' }] }),
    'endpoints[0].hostname',
    DNS1123_LABEL,
  ],
  [
    'bad-node-name',
    slice({ endpoints: [{ addresses: ['10.0.0.1'], nodeName: 'INvalid-node-name' }] }),
    'endpoints[0].nodeName',
    DNS1123_SUBDOMAIN,
  ],
  [
    'condition not a boolean',
    slice({ endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: 'yes' } }] }),
    'endpoints[0].conditions.ready',
    'Invalid value: "yes"',
  ],
  [
    'endpoint not an object',
    slice({ endpoints: ['10.0.0.1'] }),
    'endpoints[0]',
    'Invalid value: "10.0.0.1"',
  ],
  // validatePorts
  [
    'duplicate-port-name ""',
    slice({ ports: [{ name: '', protocol: 'TCP' }, { protocol: 'TCP' }] }),
    'ports[1].name',
    'Duplicate value: ""',
  ],
  [
    'bad-port-name-caps',
    slice({ ports: [{ name: 'aCapital', protocol: 'TCP' }] }),
    'ports[0].name',
    DNS1123_LABEL,
  ],
  [
    'bad-port-name-chars',
    slice({ ports: [{ name: 'almost_valid', protocol: 'TCP' }] }),
    'ports[0].name',
    DNS1123_LABEL,
  ],
  [
    'bad-port-name-length',
    slice({ ports: [{ name: 'a'.repeat(64), protocol: 'TCP' }] }),
    'ports[0].name',
    'must be no more than 63 characters',
  ],
  [
    'invalid-port-protocol',
    slice({ ports: [{ name: 'http', protocol: 'foo' }] }),
    'ports[0].protocol',
    `Unsupported value: "foo": ${PROTOCOLS}`,
  ],
  [
    'bad-app-protocol',
    slice({ ports: [{ name: 'http', appProtocol: '--' }] }),
    'ports[0].appProtocol',
    QUALIFIED_NAME,
  ],
  [
    'too-many-ports (maxPorts is 20000)',
    slice({ ports: times(20001, (i) => ({ name: `p-${i}` })) }),
    'ports',
    'Too many: 20001: must have at most 20000 items',
  ],
  // Stricter than the API server, which only decodes the port as an int32 (see validate.ts).
  [
    'port 0',
    slice({ ports: [{ name: 'http', port: 0 }] }),
    'ports[0].port',
    `Invalid value: 0: ${PORT_RANGE}`,
  ],
  [
    'port 65536',
    slice({ ports: [{ name: 'http', port: 65536 }] }),
    'ports[0].port',
    `Invalid value: 65536: ${PORT_RANGE}`,
  ],
  // ValidateObjectMeta with ValidateEndpointSliceName = NameIsDNSSubdomain (bad-meta)
  ['bad-meta *&^', slice({}, { name: '*&^' }), 'metadata.name', DNS1123_SUBDOMAIN],
  [
    'name of 254 characters',
    slice({}, { name: 'a'.repeat(254) }),
    'metadata.name',
    'must be no more than 253 characters',
  ],
  ['name absent', slice({}, { name: undefined }), 'metadata.name', 'Required value'],
  [
    'service-name label value',
    slice({}, { labels: { 'kubernetes.io/service-name': 'web/../../x' } }),
    'metadata.labels',
    LABEL_VALUE,
  ],
  ['metadata a string', { ...slice({}), metadata: 'x' }, 'metadata', 'Invalid value: "x"'],
];

for (const [name, obj, field, message] of invalidSlices) {
  test(`validateEndpointSlice: invalid: ${name} → ${field}`, () => {
    assertProblem(validateEndpointSlice(obj), field, message);
  });
}

// ---------------------------------------------------------------------------------------------
// Building blocks

test('validateEndpointIp: as ValidateNonSpecialIP (undefined = valid)', () => {
  const cases: [string, string | undefined][] = [
    ['10.1.2.3', undefined],
    ['2001:db8::1', undefined],
    ['::ffff:10.1.2.3', undefined],
    ['010.001.002.003', undefined], // ParseIPSloppy: leading zeros read as decimal
    [`${'0'.repeat(1000)}1.2.3.4`, undefined], // ...and any number of them (Go's dtoi)
    ['239.255.0.1', undefined],
    ['not-an-ip', 'must be a valid IP address'],
    ['1.2.3', 'must be a valid IP address'],
    ['1.2.3.4.5', 'must be a valid IP address'],
    ['1::2::3', 'must be a valid IP address'],
    ['1:2:3:4:5:6:7:8:9', 'must be a valid IP address'],
    [' 10.1.2.3', 'must be a valid IP address'],
    ['127.1.2.3', LOOPBACK],
    ['::1', LOOPBACK],
    ['169.254.0.1', LINK_LOCAL],
    ['febf::1', LINK_LOCAL],
    ['224.0.0.251', LINK_LOCAL_MULTICAST],
    ['ff12::1', LINK_LOCAL_MULTICAST], // Go: ff0X::/8 with scope 2, any flags
    ['0.0.0.0', 'may not be unspecified (0.0.0.0)'],
    ['0:0:0:0:0:0:0:0', 'may not be unspecified (0:0:0:0:0:0:0:0)'],
  ];
  for (const [ip, expected] of cases) assert.equal(validateEndpointIp(ip), expected, ip);
});

test('name predicates follow apimachinery util/validation', () => {
  assert.equal(isDns1035Label('web'), true);
  assert.equal(isDns1035Label('9a'), false);
  assert.equal(isDns1035Label('9a.b'), false);
  assert.equal(isDns1035Label('a'.repeat(63)), true);
  assert.equal(isDns1035Label('a'.repeat(64)), false);
  assert.equal(isDns1123Label('9a'), true);
  assert.equal(isDns1123Label('a-'), false);
  assert.equal(isDns1123Label('a.b'), false);
  assert.equal(isDns1123Subdomain('9a.b'), true);
  assert.equal(isDns1123Subdomain('a..b'), false);
  assert.equal(isDns1123Subdomain('UPPER.example'), false);
  assert.equal(
    isDns1123Subdomain(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`),
    true,
  );
  assert.equal(isDns1123Subdomain('a'.repeat(254)), false);
  assert.equal(isIanaSvcName('http'), true);
  assert.equal(isIanaSvcName('h2c'), true);
  assert.equal(isIanaSvcName('a'.repeat(15)), true);
  assert.equal(isIanaSvcName('a'.repeat(16)), false);
  assert.equal(isIanaSvcName('8080'), false);
  assert.equal(isIanaSvcName('a--b'), false);
  assert.equal(isIanaSvcName('-ab'), false);
  assert.equal(isIanaSvcName('HTTP'), false);
  assert.equal(isIanaSvcName(''), false);
});

// ---------------------------------------------------------------------------------------------
// Hostile shapes and size

const hostile: [string, unknown][] = [
  ['null', null],
  ['undefined', undefined],
  ['a list', []],
  ['a number', 42],
  ['a string', 'Service'],
  ['true', true],
  ['metadata a string', { metadata: 'x' }],
  ['spec a list', { metadata: { name: 'web' }, spec: [] }],
  ['status a number', { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] }, status: 1 }],
  ['ports a string', { metadata: { name: 'web' }, spec: { ports: 'x' } }],
  [
    'ports of junk',
    { metadata: { name: 'web' }, spec: { ports: [null, 1, 'x', [], { port: {} }] } },
  ],
  [
    'numbers for strings',
    { metadata: { name: 1, namespace: 2, labels: { a: 3 } }, spec: { type: 4, externalIPs: [5] } },
  ],
  [
    'strings for numbers',
    { metadata: { name: 'web' }, spec: { ports: [{ port: '80', nodePort: 'x' }] }, addressType: 7 },
  ],
  [
    'a huge string',
    { metadata: { name: 'a'.repeat(2_000_000) }, spec: { type: 'x'.repeat(1_000_000) } },
  ],
  [
    'a huge IP-like string',
    {
      metadata: { name: 'web' },
      spec: { ports: [{ port: 1 }], externalIPs: [`${'0'.repeat(1_000_000)}1.2.3.4.5`] },
    },
  ],
  [
    'no prototype',
    Object.assign(Object.create(null) as object, { metadata: Object.create(null) as object }),
  ],
  [
    '__proto__ keys (as JSON.parse makes them)',
    JSON.parse(
      '{"__proto__":{"polluted":1},"metadata":{"name":"web","__proto__":{"x":1},"labels":{"__proto__":"x","constructor":"y"},"annotations":{"__proto__":"z"}},"spec":{"__proto__":[],"ports":[{"__proto__":{"port":80}}]},"addressType":"IPv4","endpoints":[{"__proto__":{"addresses":["10.0.0.1"]}}]}',
    ),
  ],
];

for (const [name, input] of hostile) {
  test(`hostile input never throws and is never valid: ${name}`, () => {
    for (const validate of [validateService, validateEndpointSlice]) {
      const problems = validate(input);
      assert.ok(problems.length > 0, `${validate.name} accepted ${name}`);
      assert.ok(problems.length <= MAX_PROBLEMS + 1);
      for (const p of problems) assert.ok(p.message.length < 400, p.message.slice(0, 100));
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
}

test('__proto__ keys are own keys to validate, not prototypes', () => {
  const problems = validateService(
    JSON.parse(
      '{"metadata":{"name":"web","labels":{"__proto__":"x"}},"spec":{"ports":[{"port":80}]}}',
    ),
  );
  assertProblem(
    problems,
    'metadata.labels',
    `Invalid value: "__proto__": name part ${QUALIFIED_NAME}`,
  );
  // An inherited field is not a field: a ports entry whose prototype has port 80 has no port.
  const inherited = validateService({
    metadata: { name: 'web' },
    spec: { ports: [Object.create({ port: 80 }) as object] },
  });
  assertProblem(inherited, 'spec.ports[0].port', `Invalid value: 0: ${PORT_RANGE}`);
});

test('user input is echoed cut at 64 characters', () => {
  const long = `${'x'.repeat(100)}.1.1.1`;
  const [problem] = validateService(withIPs(long));
  assert.ok(problem);
  assert.equal(problem.message, `Invalid value: "${'x'.repeat(64)}...": ${INVALID_IP}`);
});

test('a Service with 40,000 bad externalIPs: the first 20 problems and a count', () => {
  const ips = times(40_000, (i) =>
    i % 2 === 0 ? `not-an-ip-${i}` : `127.0.${(i >> 8) & 255}.${i & 255}`,
  );
  const problems = validateService(service({ ports: [{ port: 80 }], externalIPs: ips }));
  assert.equal(problems.length, MAX_PROBLEMS + 1);
  assert.deepEqual(
    problems.slice(0, MAX_PROBLEMS).map((p) => p.field),
    times(MAX_PROBLEMS, (i) => `spec.externalIPs[${i}]`),
  );
  assert.equal(problems[0]?.message, `Invalid value: "not-an-ip-0": ${INVALID_IP}`);
  assert.equal(problems[1]?.message, `Invalid value: "127.0.0.1": ${LOOPBACK}`);
  assert.deepEqual(problems[MAX_PROBLEMS], {
    field: MORE_PROBLEMS_FIELD,
    message: `39980 more problems not listed (40000 in all)`,
  });
});

test('a Service with 40,000 valid externalIPs is valid', () => {
  const ips = times(40_000, (i) => ipv4(i + 1));
  assert.deepEqual(validateService(service({ ports: [{ port: 80 }], externalIPs: ips })), []);
});

// ---------------------------------------------------------------------------------------------
// Properties

const objectish = fc.dictionary(
  fc.constantFrom('metadata', 'spec', 'status', 'addressType', 'endpoints', 'ports', '__proto__'),
  fc.jsonValue({ maxDepth: 4 }),
);
const shaped = fc.record({
  metadata: fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.record({
      name: fc.string(),
      namespace: fc.string(),
      labels: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 1 })),
    }),
  ),
  spec: fc.record({
    type: fc.oneof(
      fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    clusterIP: fc.oneof(fc.constant('None'), fc.ipV4(), fc.string()),
    ports: fc.array(
      fc.record({
        name: fc.jsonValue({ maxDepth: 1 }),
        port: fc.oneof(fc.integer(), fc.jsonValue({ maxDepth: 1 })),
        targetPort: fc.oneof(fc.integer(), fc.string()),
        nodePort: fc.integer(),
      }),
    ),
    externalIPs: fc.array(
      fc.oneof(fc.ipV4(), fc.ipV6(), fc.string(), fc.jsonValue({ maxDepth: 1 })),
    ),
    externalName: fc.oneof(fc.domain(), fc.string()),
  }),
  status: fc.jsonValue({ maxDepth: 4 }),
  addressType: fc.oneof(fc.constantFrom('IPv4', 'IPv6', 'FQDN'), fc.jsonValue({ maxDepth: 1 })),
  endpoints: fc.array(
    fc.record({
      addresses: fc.array(
        fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain(), fc.jsonValue({ maxDepth: 1 })),
      ),
      conditions: fc.jsonValue({ maxDepth: 2 }),
    }),
  ),
});

test('property: for any JSON, validate* never throws and lists at most the capped number', () => {
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), objectish, shaped), (input) => {
      for (const validate of [validateService, validateEndpointSlice]) {
        const problems = validate(input);
        assert.ok(Array.isArray(problems));
        assert.ok(problems.length <= MAX_PROBLEMS + 1);
        for (const [i, p] of problems.entries()) {
          assert.equal(typeof p.field, 'string');
          assert.equal(typeof p.message, 'string');
          assert.ok(p.message.length < 400);
          assert.equal(p.field === MORE_PROBLEMS_FIELD, i === MAX_PROBLEMS);
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('property: Services built within the API server rules are valid', () => {
  const label = fc.stringMatching(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
  const port = fc.integer({ min: 1, max: 65535 });
  fc.assert(
    fc.property(
      label,
      fc.uniqueArray(fc.tuple(label, port), { minLength: 2, maxLength: 5, selector: ([n]) => n }),
      fc.array(
        fc.ipV4().filter((ip) => validateEndpointIp(ip) === undefined),
        { maxLength: 5 },
      ),
      (name, ports, externalIPs) => {
        const uniquePorts = [...new Map(ports.map(([n, p]) => [p, n])).entries()].map(([p, n]) => ({
          name: n,
          port: p,
        }));
        const spec: Json = { type: 'NodePort', ports: uniquePorts, externalIPs };
        assert.deepEqual(validateService(withMeta({ name, namespace: 'shop' }, spec)), []);
      },
    ),
  );
});
