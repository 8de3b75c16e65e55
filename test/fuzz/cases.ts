// What the suite sends: small fast-check-generated descriptors (so a seed gives the same
// sequence, and a huge body is built only when sent) and the builders that turn one into an HTTP
// request. Every endpoint of `serve` is covered: AdmissionReviews (valid, API-server-invalid
// objects, foreign / absent / denied namespaces, dry runs, huge-but-legal objects, broken
// envelopes, odd encodings, hostile mutations), audit EventLists of up to 400 events, Consul
// services views with odd names and X-Consul-Index values, reconcile query strings, the probes,
// wrong methods and paths, malformed / deep JSON, wrong media types and encodings, and bodies
// announcing a Content-Length past the limit. Every request carries a credential from tokens.ts.
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  deepArray,
  deepObjectText,
  mutate,
  mutation,
  type Json,
  type Mutation,
} from '../support/hostile.js';
import type { Scope } from '../../src/auth/scopes.js';
import { INVALID_SERVICE_EDITS, INVALID_SLICE_EDITS } from './invalid.js';
import {
  FORBIDDEN_CREDS,
  GOOD_CREDS,
  UNAUTHENTICATED_CREDS,
  type Cred,
  type Credentials,
} from './tokens.js';
import { NODES, WORLD_SERVICES, WORLD_VIEW, slice } from './world.js';

export type Endpoint = 'admission' | 'audit' | 'view' | 'reconcile';
export const ENDPOINTS: Record<Endpoint, { path: string; scope: Scope }> = {
  admission: { path: '/k8s/admission', scope: 'k8s:admission' },
  audit: { path: '/k8s/audit', scope: 'k8s:audit' },
  view: { path: '/consul/services', scope: 'consul:watch' },
  reconcile: { path: '/reconcile', scope: 'reconcile' },
};

export const TRANSPORTS = [
  'plain',
  'gzip',
  'deflate',
  'chunked',
  'plus-json',
  'upper-json',
  'text/plain',
  'no-content-type',
  'latin1',
  'form',
  'x-evil-encoding',
] as const;
export type Transport = (typeof TRANSPORTS)[number];
/** Transports that must be refused with 415 before the body is looked at. */
export const REFUSED_TRANSPORTS: readonly Transport[] = [
  'text/plain',
  'no-content-type',
  'latin1',
  'form',
  'x-evil-encoding',
];

const NAMESPACES = [
  'shop',
  'shop',
  'shop',
  'team-a',
  'team-a',
  'kube-system',
  'kube-public',
  'default',
  'ghost',
] as const;
/** Namespaces no API server sends (not DNS-1123 labels). */
const BAD_NAMESPACES = ['Shop', 'team_a', '-shop', 'x'.repeat(64), 'shop/../kube-system'];
const POOL_NAMES = Array.from({ length: 10 }, (_, i) => `svc-${i}`);
/** Names no API server sends for a Service (the event is ignored). */
const BAD_NAMES = ['Web', 'web_1', '-web', 'web.', '"quoted"', 'a/b', 'wéb', 'x'.repeat(254)];

const SERVICE_KINDS = [
  'nodeport',
  'nodeport',
  'lb-ip',
  'lb-ip',
  'lb-host',
  'extip',
  'extip',
  'extip6',
  'clusterip',
  'externalname',
  'huge-ips',
  'huge-ports',
] as const;
const SLICE_KINDS = [
  'slice',
  'slice',
  'slice',
  'slice-notready',
  'slice-unknown-node',
  'slice-ipv6',
  'slice-fqdn',
  'slice-huge',
  'slice-nolabel',
] as const;
type ObjKind = (typeof SERVICE_KINDS)[number] | (typeof SLICE_KINDS)[number];

const ANNOTATIONS = [
  'none',
  'none',
  'none',
  'sync-false',
  'sync-true',
  'sync-maybe',
  'rename',
  'tags',
  'meta',
  'port',
  'weight',
] as const;

export interface AdmissionSpec {
  op: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  resource: 'services' | 'services/status' | 'endpointslices' | 'pods';
  ns: string;
  name: string;
  kind: number;
  oldKind: number;
  annotation: (typeof ANNOTATIONS)[number];
  /** -1: a valid object; else an index into the invalid edits of the resource. */
  invalid: number;
  objNs: 'same' | 'absent' | 'other';
  otherNs: string;
  reqNs: 'present' | 'absent' | 'empty';
  dryRun: 'absent' | 'false' | 'true';
  /** -1: a valid envelope; else an index into ADMISSION_ENVELOPE_BREAKS. */
  envelope: number;
  encoding: 'json' | 'pretty' | 'escaped' | 'dup-namespace' | 'dup-dryrun' | 'proto';
  mutations: Mutation[];
  n: number;
  huge: number;
}

export interface EventSpec {
  verb: string;
  stage: string;
  code: number;
  resource: 'services' | 'services/status' | 'endpointslices' | 'pods';
  ns: string;
  name: string;
  dryRun: boolean;
  label: 'right' | 'none' | 'other';
}

export interface ViewEntry {
  name: string;
  tags: string[] | null;
}

export type IndexSpec =
  | { k: 'none' }
  | { k: 'next'; step: number }
  | { k: 'same' }
  | { k: 'lower'; by: number }
  | { k: 'huge' }
  | { k: 'odd'; value: string };

export type RawVariant =
  | { k: 'malformed'; i: number }
  | { k: 'deep'; depth: number; objects: boolean }
  | { k: 'oversize'; factor: 'plus-one' | 'ten' | 'huge'; sent: number }
  | { k: 'gzip-garbage' }
  | { k: 'empty' };

export type Spec =
  | {
      k: 'admission';
      cred: Cred;
      transport: Transport;
      query: string | null;
      a: AdmissionSpec;
    }
  | {
      k: 'audit';
      cred: Cred;
      transport: Transport;
      query: string | null;
      events: EventSpec[];
      envelope: number;
    }
  | {
      k: 'view';
      cred: Cred;
      transport: Transport;
      query: string | null;
      base: boolean[];
      extra: ViewEntry[];
      index: IndexSpec;
      envelope: number;
    }
  | { k: 'reconcile'; cred: Cred; query: string; body: boolean }
  | { k: 'raw'; endpoint: Endpoint; cred: Cred; variant: RawVariant }
  | { k: 'probe'; path: '/healthz' | '/readyz' | '/metrics'; method: string; query: string | null }
  | { k: 'route'; method: string; path: string; cred: Cred };

// ---- arbitraries ---------------------------------------------------------------------------

const credArb: fc.Arbitrary<Cred> = fc.oneof(
  { weight: 14, arbitrary: fc.constant<Cred>('header') },
  { weight: 2, arbitrary: fc.constantFrom<Cred>(...GOOD_CREDS) },
  { weight: 3, arbitrary: fc.constantFrom<Cred>(...UNAUTHENTICATED_CREDS) },
  { weight: 1, arbitrary: fc.constantFrom<Cred>(...FORBIDDEN_CREDS) },
);

const transportArb: fc.Arbitrary<Transport> = fc.oneof(
  { weight: 40, arbitrary: fc.constant<Transport>('plain') },
  { weight: 6, arbitrary: fc.constantFrom<Transport>(...TRANSPORTS) },
);

/** Query strings on the event endpoints other than reconcile (no meaning there). */
const noiseQueryArb: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 12, arbitrary: fc.constant(null) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('dryRun', 'dryRun=maybe', 'dryRun=true', 'timeout=10s', 'a=%00'),
  },
);

const nsArb = fc.oneof(
  { weight: 19, arbitrary: fc.constantFrom(...NAMESPACES) },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_NAMESPACES) },
);

const nameArb = (ns: string): fc.Arbitrary<string> => {
  const world = WORLD_SERVICES[ns] ?? [];
  return fc.oneof(
    {
      weight: world.length > 0 ? 10 : 0,
      arbitrary: fc.constantFrom(...(world.length ? world : ['web'])),
    },
    { weight: 8, arbitrary: fc.constantFrom(...POOL_NAMES) },
    { weight: 1, arbitrary: fc.constantFrom(...BAD_NAMES) },
  );
};

const ADMISSION_ENVELOPE_BREAKS: [string, (r: any) => void][] = [
  ['apiVersion admission.k8s.io/v1beta1', (r) => (r.apiVersion = 'admission.k8s.io/v1beta1')],
  ['apiVersion missing', (r) => delete r.apiVersion],
  ['kind AdmissionResponse', (r) => (r.kind = 'AdmissionResponse')],
  ['request null', (r) => (r.request = null)],
  ['request missing', (r) => delete r.request],
  ['request an array', (r) => (r.request = [])],
  ['uid missing', (r) => delete r.request.uid],
  ['uid empty', (r) => (r.request.uid = '')],
  ['uid a number', (r) => (r.request.uid = 12345)],
  ['uid 10,000 characters', (r) => (r.request.uid = 'u'.repeat(10_000))],
  ['operation PATCH', (r) => (r.request.operation = 'PATCH')],
  ['operation create', (r) => (r.request.operation = 'create')],
  ['resource null', (r) => (r.request.resource = null)],
  ['kind null', (r) => (r.request.kind = null)],
  ['object an array', (r) => (r.request.object = [])],
  ['object a string', (r) => (r.request.object = 'Service')],
  ['name 254 characters', (r) => (r.request.name = 'n'.repeat(254))],
  ['namespace a number', (r) => (r.request.namespace = 7)],
  ['dryRun "true"', (r) => (r.request.dryRun = 'true')],
  ['dryRun 1', (r) => (r.request.dryRun = 1)],
  [
    'a 70,000-character annotation',
    (r) => {
      const o = r.request.object ?? r.request.oldObject;
      o.metadata.annotations = { 'consul.hashicorp.com/service-tags': 'x'.repeat(70_000) };
    },
  ],
  [
    'annotation value a number',
    (r) => ((r.request.object ?? r.request.oldObject).metadata.annotations = { a: 1 }),
  ],
  ['metadata null', (r) => ((r.request.object ?? r.request.oldObject).metadata = null)],
];

export const admissionArb: fc.Arbitrary<AdmissionSpec> = nsArb.chain((ns) =>
  fc.record({
    op: fc.constantFrom('CREATE', 'CREATE', 'UPDATE', 'UPDATE', 'UPDATE', 'DELETE', 'CONNECT'),
    resource: fc.constantFrom(
      'services',
      'services',
      'services',
      'services/status',
      'endpointslices',
      'endpointslices',
      'pods',
    ),
    ns: fc.constant(ns),
    name: nameArb(ns),
    kind: fc.nat(),
    oldKind: fc.nat(),
    annotation: fc.constantFrom(...ANNOTATIONS),
    invalid: fc.oneof(
      { weight: 3, arbitrary: fc.constant(-1) },
      { weight: 1, arbitrary: fc.nat() },
    ),
    objNs: fc.constantFrom('same', 'same', 'same', 'same', 'same', 'absent', 'absent', 'other'),
    otherNs: fc.constantFrom('shop', 'team-a', 'kube-system', 'default', 'ghost'),
    reqNs: fc.constantFrom(...Array<'present'>(14).fill('present'), 'absent', 'empty'),
    dryRun: fc.constantFrom('absent', 'absent', 'absent', 'absent', 'absent', 'false', 'true'),
    envelope: fc.oneof(
      { weight: 12, arbitrary: fc.constant(-1) },
      { weight: 1, arbitrary: fc.nat(ADMISSION_ENVELOPE_BREAKS.length - 1) },
    ),
    encoding: fc.constantFrom(
      ...Array<'json'>(20).fill('json'),
      'pretty',
      'escaped',
      'dup-namespace',
      'dup-dryrun',
      'proto',
    ),
    mutations: fc.oneof(
      { weight: 12, arbitrary: fc.constant<Mutation[]>([]) },
      { weight: 1, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) },
    ),
    n: fc.integer({ min: 1, max: 250 }),
    huge: fc.nat(),
  }),
);

const AUDIT_ENVELOPE_BREAKS: [string, (l: any) => void][] = [
  ['apiVersion audit.k8s.io/v1beta1', (l) => (l.apiVersion = 'audit.k8s.io/v1beta1')],
  ['kind Event', (l) => (l.kind = 'Event')],
  ['items a string', (l) => (l.items = 'x')],
  ['items [null]', (l) => (l.items = [null])],
  ['items [[]]', (l) => (l.items = [[]])],
  ['code -1', (l) => l.items[0] && (l.items[0].responseStatus.code = -1)],
  ['code 200.5', (l) => l.items[0] && (l.items[0].responseStatus.code = 200.5)],
  ['code "200"', (l) => l.items[0] && (l.items[0].responseStatus.code = '200')],
  ['code 2^53+2', (l) => l.items[0] && (l.items[0].responseStatus.code = 2 ** 53 + 2)],
  ['stage missing', (l) => l.items[0] && delete l.items[0].stage],
  ['verb null', (l) => l.items[0] && (l.items[0].verb = null)],
  ['objectRef a string', (l) => l.items[0] && (l.items[0].objectRef = 'services/web')],
  [
    'objectRef.name 254 characters',
    (l) => l.items[0] && (l.items[0].objectRef.name = 'n'.repeat(254)),
  ],
  [
    'requestURI 10,000 characters',
    (l) => l.items[0] && (l.items[0].requestURI = `/api/v1/${'x'.repeat(10_000)}`),
  ],
  [
    'responseObject metadata null',
    (l) => l.items[0] && (l.items[0].responseObject = { metadata: null }),
  ],
];

const eventArb: fc.Arbitrary<EventSpec> = nsArb.chain((ns) =>
  fc.record({
    verb: fc.constantFrom(
      'create',
      'update',
      'update',
      'patch',
      'patch',
      'delete',
      'get',
      'list',
      'watch',
    ),
    stage: fc.constantFrom(
      'ResponseComplete',
      'ResponseComplete',
      'ResponseComplete',
      'ResponseComplete',
      'RequestReceived',
      'ResponseStarted',
      'Panic',
    ),
    code: fc.constantFrom(200, 200, 200, 201, 200, 404, 409, 422, 500, 100),
    resource: fc.constantFrom(
      'services',
      'services',
      'services/status',
      'endpointslices',
      'endpointslices',
      'pods',
    ),
    ns: fc.constant(ns),
    name: nameArb(ns),
    dryRun: fc.constantFrom(false, false, false, false, true),
    label: fc.constantFrom('right', 'right', 'right', 'none', 'other'),
  }),
);

const auditEventsArb = fc.oneof(
  { weight: 14, arbitrary: fc.array(eventArb, { minLength: 0, maxLength: 5 }) },
  { weight: 4, arbitrary: fc.array(eventArb, { minLength: 6, maxLength: 50 }) },
  { weight: 1, arbitrary: fc.array(eventArb, { minLength: 150, maxLength: 400 }) },
);

/** Consul service names a view may carry: pool, colliding and odd ones. */
const VIEW_NAMES = [
  'ext-0',
  'ext-1',
  'ext-2',
  'ext-3',
  'ext-4',
  'web',
  'checkout',
  'billing-db',
  'consul',
  'UPPER-Case',
  'MiXeD',
  'with.dot',
  'under_score',
  '9start',
  '-lead',
  'trail-',
  'x'.repeat(63),
  'y'.repeat(64),
  'z'.repeat(512),
  'ünïcødé',
  '😀',
  'a b',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '"quoted"',
  'a/b',
  '../../etc',
  '\u0000nul',
  '\u202eevil',
];
const TAG_SETS: (string[] | null)[] = [
  [],
  [],
  null,
  ['k8s'],
  ['v1', 'primary'],
  ['K8S'],
  ['k8s', 'v1'],
  ['', ' '],
  ['😀', 'a\nb'],
  Array.from({ length: 1024 }, (_, i) => `t${i}`),
];

const VIEW_ENVELOPE_BREAKS: [string, string][] = [
  ['an array', '[]'],
  ['a tag that is a number', '{"web":[1]}'],
  ['tags a string', '{"web":"k8s"}'],
  ['tags an object', '{"web":{"0":"k8s"}}'],
  ['a null tag', '{"web":[null]}'],
  ['an empty name', '{"":[]}'],
  ['a 513-character name', JSON.stringify({ ['n'.repeat(513)]: [] })],
  ['a 513-character tag', JSON.stringify({ web: ['t'.repeat(513)] })],
  ['1,025 tags', JSON.stringify({ web: Array.from({ length: 1025 }, (_, i) => `t${i}`) })],
  ['tags nested', '{"web":[["k8s"]]}'],
  ['true', 'true'],
];

const indexArb: fc.Arbitrary<IndexSpec> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<IndexSpec>({ k: 'none' }) },
  {
    weight: 10,
    arbitrary: fc.integer({ min: 1, max: 5 }).map((step): IndexSpec => ({ k: 'next', step })),
  },
  { weight: 2, arbitrary: fc.constant<IndexSpec>({ k: 'same' }) },
  {
    weight: 3,
    arbitrary: fc.integer({ min: 1, max: 20 }).map((by): IndexSpec => ({ k: 'lower', by })),
  },
  { weight: 1, arbitrary: fc.constant<IndexSpec>({ k: 'huge' }) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        'abc',
        '-1',
        '1e3',
        '',
        '0x10',
        ' 5',
        '5 ',
        '0',
        '9007199254740993',
        '1234567890123456',
        '12,13',
        '0.5',
      )
      .map((value): IndexSpec => ({ k: 'odd', value })),
  },
);

const viewArb = fc.record({
  base: fc.array(fc.boolean(), {
    minLength: Object.keys(WORLD_VIEW).length,
    maxLength: Object.keys(WORLD_VIEW).length,
  }),
  extra: fc.array(
    fc.record({ name: fc.constantFrom(...VIEW_NAMES), tags: fc.constantFrom(...TAG_SETS) }),
    { maxLength: 6 },
  ),
  index: indexArb,
  envelope: fc.oneof(
    { weight: 12, arbitrary: fc.constant(-1) },
    { weight: 1, arbitrary: fc.nat(VIEW_ENVELOPE_BREAKS.length - 1) },
  ),
});

/** Reconcile query strings: dry runs of every spelling, bad values, and some real runs. */
const reconcileQueryArb: fc.Arbitrary<string> = fc
  .record({
    dryRun: fc.constantFrom(
      null,
      null,
      'true',
      'true',
      'true',
      'false',
      '',
      'BARE',
      'BARE',
      'BARE',
      'maybe',
      'TRUE',
      '1',
      'yes',
      'true&dryRun=true',
      'true&dryRun=false',
    ),
    direction: fc.constantFrom(
      null,
      null,
      null,
      'both',
      'to-consul',
      'to-k8s',
      'sideways',
      '',
      'to-consul&direction=to-k8s',
      '%00',
    ),
    force: fc.constantFrom(null, null, null, null, 'true', 'false', 'yes'),
  })
  .map(({ dryRun, direction, force }) =>
    [
      dryRun === null ? null : dryRun === 'BARE' ? 'dryRun' : `dryRun=${dryRun}`,
      direction === null ? null : `direction=${direction}`,
      force === null ? null : `force=${force}`,
    ]
      .filter((p) => p !== null)
      .join('&'),
  );

const MALFORMED = [
  '{',
  '{"apiVersion":',
  '{"a":1}garbage',
  "{'single':'quotes'}",
  '{"a":1,}',
  'nul',
  'NaN',
  '\u0000',
  '[1,2',
  '\ufeff{"a":',
  'null',
  '1',
  '"text"',
  '1e309',
  '{"a":"\\ud800"',
  '{"a":1}{"b":2}',
];

const rawArb: fc.Arbitrary<RawVariant> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.nat(MALFORMED.length - 1).map((i): RawVariant => ({ k: 'malformed', i })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({ depth: fc.constantFrom(99, 100, 101, 1000, 10_000), objects: fc.boolean() })
      .map((d): RawVariant => ({ k: 'deep', ...d })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        factor: fc.constantFrom('plus-one', 'plus-one', 'ten', 'huge'),
        sent: fc.constantFrom(0, 0, 1, 100, 65_536),
      })
      .map((o): RawVariant => ({ k: 'oversize', ...o })),
  },
  { weight: 1, arbitrary: fc.constant<RawVariant>({ k: 'gzip-garbage' }) },
  { weight: 1, arbitrary: fc.constant<RawVariant>({ k: 'empty' }) },
);

const endpointArb = fc.constantFrom<Endpoint>('admission', 'audit', 'view', 'reconcile');

export const specArb: fc.Arbitrary<Spec> = fc.oneof(
  {
    weight: 45,
    arbitrary: fc
      .record({ cred: credArb, transport: transportArb, query: noiseQueryArb, a: admissionArb })
      .map((r): Spec => ({ k: 'admission', ...r })),
  },
  {
    weight: 17,
    arbitrary: fc
      .record({
        cred: credArb,
        transport: transportArb,
        query: noiseQueryArb,
        events: auditEventsArb,
        envelope: fc.oneof(
          { weight: 12, arbitrary: fc.constant(-1) },
          { weight: 1, arbitrary: fc.nat(AUDIT_ENVELOPE_BREAKS.length - 1) },
        ),
      })
      .map((r): Spec => ({ k: 'audit', ...r })),
  },
  {
    weight: 14,
    arbitrary: fc
      .record({ cred: credArb, transport: transportArb, query: noiseQueryArb, v: viewArb })
      .map(({ v, ...r }): Spec => ({ k: 'view', ...r, ...v })),
  },
  {
    weight: 5,
    arbitrary: fc
      .record({ cred: credArb, query: reconcileQueryArb, body: fc.boolean() })
      .map((r): Spec => ({ k: 'reconcile', ...r, body: r.body && r.query.length % 3 === 0 })),
  },
  {
    weight: 8,
    arbitrary: fc
      .record({ endpoint: endpointArb, cred: credArb, variant: rawArb })
      .map((r): Spec => ({ k: 'raw', ...r })),
  },
  {
    weight: 5,
    arbitrary: fc
      .record({
        path: fc.constantFrom('/healthz', '/healthz', '/readyz', '/metrics'),
        method: fc.constantFrom('GET', 'GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE'),
        query: fc.constantFrom(null, null, null, 'verbose', 'x=%00', 'a'.repeat(3000), 'dryRun'),
      })
      .map((r): Spec => ({ k: 'probe', ...r })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        method: fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'POST'),
        path: fc.constantFrom(
          '/k8s/admission',
          '/k8s/audit',
          '/consul/services',
          '/reconcile',
          '/k8s',
          '/k8s/admissions',
          '/consul',
          '/v1/txn',
          '/k8s/%2e%2e/reconcile',
          '/%00',
          `/${'x'.repeat(5000)}`,
        ),
        cred: credArb,
      })
      .map((r): Spec => ({ k: 'route', ...r })),
  },
);

/** `count` descriptors for a seed: the same sequence every time. */
export function generateSpecs(seed: number, count: number): Spec[] {
  if (count <= 0) return [];
  return fc.sample(specArb, { seed, numRuns: count });
}

// ---- builders ------------------------------------------------------------------------------

/** One HTTP request as the suite sends it, with what it was built to be. */
export interface Built {
  index: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The bytes sent (after any content encoding). */
  body?: Buffer;
  /** The JSON text as the server decodes it (before any content encoding). */
  text?: string;
  /** Oversize requests: the Content-Length announced (the body sent is `body`, shorter). */
  announce?: number;
  /** Send the body chunked, without Content-Length. */
  chunked?: boolean;
  endpoint: Endpoint | 'probe' | 'route';
  /** The path before the credential's segments (and the query) were added. */
  base?: string;
  cred?: Cred;
  transport?: Transport;
  /** What the generator meant, e.g. `admission CREATE services shop/web invalid: port 0`. */
  label: string;
  /** Coarse family for the tallies: `admission/invalid-object`, `audit/valid`, … */
  family: string;
  /** Broken by construction: must be answered 400 (after authentication). */
  broken?: string;
  /** A hostile mutation was applied: the answer can be anything below 500. */
  mutated?: boolean;
  /** For admissions: the uid the answer must echo. */
  uid?: string;
  /** For admissions built from an invalid edit: its name. */
  invalidEdit?: string;
  /** For views: the X-Consul-Index value sent (undefined when none). */
  consulIndex?: string;
}

export interface BuildContext {
  creds: Credentials;
  seed: number;
  maxBodyBytes: number;
  /** The newest X-Consul-Index the suite has sent so far (views are numbered in order). */
  viewIndex: { last: number };
}

const clone = <T>(v: T): T => structuredClone(v);

function nodePortOf(name: string): number {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) % 2000;
  return 30100 + h;
}

/** A Service the API server would store (before any invalid edit). */
function serviceObject(
  ns: string,
  name: string,
  kind: (typeof SERVICE_KINDS)[number],
  annotation: AdmissionSpec['annotation'],
  n: number,
  huge: number,
): Record<string, any> {
  const ports = [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }];
  let spec: Record<string, any>;
  let status: Record<string, any> | undefined;
  switch (kind) {
    case 'nodeport':
      spec = {
        type: 'NodePort',
        selector: { app: name },
        ports: [{ ...ports[0], nodePort: nodePortOf(name) }],
        externalTrafficPolicy: 'Cluster',
      };
      break;
    case 'lb-ip':
      spec = { type: 'LoadBalancer', ports: [{ ...ports[0], nodePort: nodePortOf(name) }] };
      status = { loadBalancer: { ingress: [{ ip: `198.51.100.${n}`, ipMode: 'VIP' }] } };
      break;
    case 'lb-host':
      spec = { type: 'LoadBalancer', ports };
      status = { loadBalancer: { ingress: [{ hostname: `lb-${n}.example.com` }] } };
      break;
    case 'extip':
      spec = { type: 'ClusterIP', externalIPs: [`192.0.2.${n}`], ports };
      break;
    case 'extip6':
      spec = {
        type: 'ClusterIP',
        externalIPs: [`2001:db8::${n.toString(16)}`, `203.0.113.${n}`],
        ports,
      };
      break;
    case 'clusterip':
      spec = { type: 'ClusterIP', selector: { app: name }, ports };
      break;
    case 'externalname':
      spec = { type: 'ExternalName', externalName: `${name}.example.com` };
      break;
    case 'huge-ips': {
      // Many externalIPs: one registration each. 100 / 400 / 1,000.
      const count = [100, 100, 400, 1000][huge % 4]!;
      spec = {
        type: 'ClusterIP',
        ports,
        externalIPs: Array.from(
          { length: count },
          (_, i) => `10.${100 + (n % 100)}.${Math.floor(i / 250)}.${(i % 250) + 1}`,
        ),
      };
      break;
    }
    case 'huge-ports': {
      // Many ports on one service: 200 / 1,000 / 5,000, each named and unique.
      const count = [200, 200, 1000, 5000][huge % 4]!;
      spec = {
        type: 'ClusterIP',
        externalIPs: [`192.0.2.${n}`],
        ports: Array.from({ length: count }, (_, i) => ({
          name: `p-${i}`,
          port: 1024 + i,
          targetPort: 1024 + i,
          protocol: i % 7 === 0 ? 'UDP' : 'TCP',
        })),
      };
      break;
    }
  }
  const annotations: Record<string, string> = {};
  switch (annotation) {
    case 'sync-false':
      annotations['consul.hashicorp.com/service-sync'] = 'false';
      break;
    case 'sync-true':
      annotations['consul.hashicorp.com/service-sync'] = 'true';
      break;
    case 'sync-maybe':
      annotations['consul.hashicorp.com/service-sync'] = 'maybe';
      break;
    case 'rename':
      annotations['consul.hashicorp.com/service-name'] = `renamed-${name}`;
      break;
    case 'tags':
      annotations['consul.hashicorp.com/service-tags'] = 'blue, green,blue';
      break;
    case 'meta':
      annotations['consul.hashicorp.com/service-meta-team'] = 'fuzz';
      break;
    case 'port':
      annotations['consul.hashicorp.com/service-port'] = 'http';
      break;
    case 'weight':
      annotations['consul.hashicorp.com/service-weight'] = String(n);
      break;
    case 'none':
      break;
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: ns,
      uid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      resourceVersion: String(1000 + n),
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
    spec,
    ...(status ? { status } : {}),
  };
}

function sliceObject(
  ns: string,
  serviceName: string,
  kind: (typeof SLICE_KINDS)[number],
  n: number,
): Record<string, any> {
  const nodes = NODES.map((x) => x.name);
  const ep = (i: number, ready = true) => ({
    ip: `10.244.${(n + i) % 250}.${(i % 250) + 1}`,
    node: nodes[(n + i) % nodes.length]!,
    ready,
  });
  const name = `${serviceName}-${(n * 7919).toString(36).slice(0, 5).padEnd(5, 'x')}`;
  let s: Record<string, any>;
  switch (kind) {
    case 'slice':
      s = slice(ns, serviceName, name, [ep(0), ep(1)]);
      break;
    case 'slice-notready':
      s = slice(ns, serviceName, name, [ep(0, false), ep(1, false)]);
      break;
    case 'slice-unknown-node':
      s = slice(ns, serviceName, name, [ep(0)]);
      s.endpoints[0].nodeName = 'node-z';
      break;
    case 'slice-ipv6':
      s = slice(ns, serviceName, name, [ep(0)]);
      s.addressType = 'IPv6';
      s.endpoints = [{ addresses: [`2001:db8:1::${n.toString(16)}`], conditions: { ready: true } }];
      break;
    case 'slice-fqdn':
      s = slice(ns, serviceName, name, [ep(0)]);
      s.addressType = 'FQDN';
      s.endpoints = [{ addresses: [`pod-${n}.example.com`], conditions: { ready: true } }];
      break;
    case 'slice-huge':
      // The API server's maximum: 1,000 endpoints.
      s = slice(
        ns,
        serviceName,
        name,
        Array.from({ length: 1000 }, (_, i) => ep(i)),
      );
      break;
    case 'slice-nolabel':
      s = slice(ns, serviceName, name, [ep(0)]);
      delete s.metadata.labels['kubernetes.io/service-name'];
      break;
  }
  return s;
}

/** JSON with every ASCII letter of every string value written as a \u escape. */
function escapedJson(value: unknown): string {
  return JSON.stringify(value).replace(/"((?:[^"\\]|\\.)*)"(?!\s*:)/g, (_m, inner: string) => {
    const escaped = inner.replace(
      /[a-z]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    return `"${escaped}"`;
  });
}

function buildAdmission(
  a: AdmissionSpec,
  index: number,
  seed: number,
): {
  text: string;
  uid: string;
  label: string;
  family: string;
  broken?: string;
  invalidEdit?: string;
} {
  const slices = a.resource === 'endpointslices';
  const kinds = slices ? SLICE_KINDS : SERVICE_KINDS;
  const kind = kinds[a.kind % kinds.length] as ObjKind;
  const oldKind = kinds[a.oldKind % kinds.length] as ObjKind;
  const objNs =
    a.objNs === 'other'
      ? a.otherNs !== a.ns
        ? a.otherNs
        : a.ns === 'ghost'
          ? 'shop'
          : 'ghost'
      : a.ns;
  const make = (k: ObjKind, n: number): Record<string, any> =>
    slices
      ? sliceObject(objNs, a.name, k as (typeof SLICE_KINDS)[number], n)
      : serviceObject(objNs, a.name, k as (typeof SERVICE_KINDS)[number], a.annotation, n, a.huge);
  let object: Record<string, any> | null = a.op === 'DELETE' ? null : make(kind, a.n);
  const oldObject: Record<string, any> | null =
    a.op === 'CREATE' ? null : make(oldKind, ((a.n + 17) % 250) + 1);
  let invalidEdit: string | undefined;
  if (a.invalid >= 0 && object) {
    const edits = slices ? INVALID_SLICE_EDITS : INVALID_SERVICE_EDITS;
    const [editName, edit] = edits[a.invalid % edits.length]!;
    edit(object);
    invalidEdit = editName;
  }
  for (const o of [object, oldObject]) {
    if (o && a.objNs === 'absent' && o.metadata && typeof o.metadata === 'object')
      delete o.metadata.namespace;
  }
  // The request names what the object names (an API server sends both), after the edit.
  const objName = (object?.metadata as Record<string, unknown> | undefined)?.name;
  const requestName = slices
    ? typeof objName === 'string'
      ? objName
      : (oldObject?.metadata?.name ?? a.name)
    : typeof objName === 'string'
      ? objName
      : a.name;
  if (a.op === 'DELETE') object = null;
  const resource =
    a.resource === 'endpointslices'
      ? { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' }
      : a.resource === 'pods'
        ? { group: '', version: 'v1', resource: 'pods' }
        : { group: '', version: 'v1', resource: 'services' };
  const kindGvk =
    a.resource === 'endpointslices'
      ? { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice' }
      : a.resource === 'pods'
        ? { group: '', version: 'v1', kind: 'Pod' }
        : { group: '', version: 'v1', kind: 'Service' };
  const uid = `fuzz-${seed}-${index}`;
  const request: Record<string, any> = {
    uid,
    kind: kindGvk,
    resource,
    ...(a.resource === 'services/status' ? { subResource: 'status' } : {}),
    requestKind: kindGvk,
    requestResource: resource,
    name: requestName,
    ...(a.reqNs === 'present' ? { namespace: a.ns } : a.reqNs === 'empty' ? { namespace: '' } : {}),
    operation: a.op,
    userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
    object,
    oldObject,
    ...(a.dryRun === 'absent' ? {} : { dryRun: a.dryRun === 'true' }),
    options: {
      apiVersion: 'meta.k8s.io/v1',
      kind:
        a.op === 'DELETE' ? 'DeleteOptions' : a.op === 'CREATE' ? 'CreateOptions' : 'UpdateOptions',
    },
  };
  let review: Record<string, any> = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request,
  };
  let broken: string | undefined;
  if (a.envelope >= 0) {
    const [breakName, edit] = ADMISSION_ENVELOPE_BREAKS[a.envelope]!;
    const target = review.request.object ?? review.request.oldObject;
    // The metadata edits need an object with metadata.
    if (!breakName.includes('annotation') && breakName !== 'metadata null') {
      edit(review);
      broken = breakName;
    } else if (target && typeof target.metadata === 'object' && target.metadata !== null) {
      edit(review);
      broken = breakName;
    }
  }
  let mutatedNote = '';
  if (a.mutations.length > 0) {
    review = mutate(review as Json, a.mutations) as Record<string, any>;
    mutatedNote = ` mutated×${a.mutations.length}`;
  }
  let text: string;
  switch (a.encoding) {
    case 'pretty':
      text = JSON.stringify(review, null, '\t');
      break;
    case 'escaped':
      text = escapedJson(review);
      break;
    case 'dup-namespace':
      // JSON.parse (and the server) keep the last of duplicate keys.
      text = JSON.stringify(review).replace(
        '"request":{',
        '"request":{"namespace":"kube-system","dryRun":false,',
      );
      break;
    case 'dup-dryrun':
      text = JSON.stringify(review).replace('"request":{', '"request":{"dryRun":true,');
      break;
    case 'proto':
      text = JSON.stringify(review).replace(
        '"request":{',
        '"request":{"__proto__":{"dryRun":true,"namespace":"kube-system"},',
      );
      break;
    case 'json':
      text = JSON.stringify(review);
      break;
  }
  const tags = [
    a.objNs !== 'same' ? `object namespace ${a.objNs === 'absent' ? 'absent' : objNs}` : '',
    a.reqNs !== 'present' ? `request namespace ${a.reqNs}` : '',
    a.dryRun !== 'absent' ? `dryRun ${a.dryRun}` : '',
    invalidEdit ? `invalid: ${invalidEdit}` : '',
    broken ? `envelope: ${broken}` : '',
    a.encoding !== 'json' ? `encoding ${a.encoding}` : '',
    `${kind}${a.annotation !== 'none' ? `+${a.annotation}` : ''}`,
  ]
    .filter(Boolean)
    .join(', ');
  const family = broken
    ? 'admission/broken-envelope'
    : invalidEdit
      ? 'admission/invalid-object'
      : a.dryRun === 'true'
        ? 'admission/dry-run'
        : a.objNs === 'other'
          ? 'admission/foreign-namespace'
          : (['kube-system', 'kube-public'] as string[]).includes(a.ns)
            ? 'admission/denied-namespace'
            : kind.startsWith('huge') || kind === 'slice-huge'
              ? 'admission/huge'
              : 'admission/valid';
  return {
    text,
    uid,
    label: `admission ${a.op} ${a.resource} ${a.reqNs === 'present' ? a.ns : '-'}/${requestName.slice(0, 40)} (${tags})${mutatedNote}`,
    family: a.mutations.length > 0 ? 'admission/mutated' : family,
    ...(broken ? { broken } : {}),
    ...(invalidEdit ? { invalidEdit } : {}),
  };
}

function auditEvent(e: EventSpec, i: number, index: number): Record<string, any> {
  const slices = e.resource === 'endpointslices';
  const group = slices ? 'discovery.k8s.io' : '';
  const resource = e.resource === 'services/status' ? 'services' : e.resource;
  const sub = e.resource === 'services/status' ? 'status' : undefined;
  const objName = slices ? `${e.name}-${(i * 31 + index).toString(36).padStart(5, 'q')}` : e.name;
  const base = `/api${group ? 's/' + group : ''}/v1/namespaces/${e.ns}/${resource}`;
  const uri = `${base}${e.verb === 'create' ? '' : '/' + objName}${sub ? '/' + sub : ''}${e.dryRun ? '?dryRun=All' : ''}`;
  const labels =
    e.label === 'right'
      ? { 'kubernetes.io/service-name': e.name }
      : e.label === 'other'
        ? { 'kubernetes.io/service-name': 'svc-9' }
        : {};
  const obj = slices
    ? {
        kind: 'EndpointSlice',
        apiVersion: 'discovery.k8s.io/v1',
        metadata: { name: objName, namespace: e.ns, labels },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.244.1.10'], conditions: { ready: true } }],
      }
    : {
        kind: 'Service',
        apiVersion: 'v1',
        metadata: { name: objName, namespace: e.ns },
        spec: { type: 'ClusterIP', ports: [{ port: 80 }] },
      };
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: `00000000-0000-4000-9000-${String(index * 1000 + i).padStart(12, '0')}`,
    stage: e.stage,
    requestURI: uri,
    verb: e.verb,
    user: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
    sourceIPs: ['10.0.0.1'],
    userAgent: 'kubectl/v1.32.0',
    objectRef: {
      resource,
      namespace: e.ns,
      name: objName,
      apiGroup: group,
      apiVersion: 'v1',
      ...(sub ? { subresource: sub } : {}),
    },
    responseStatus: { metadata: {}, code: e.code },
    ...(e.verb === 'delete' ? {} : { requestObject: obj }),
    ...(e.verb === 'delete' || e.stage !== 'ResponseComplete' ? {} : { responseObject: obj }),
    requestReceivedTimestamp: '2026-01-01T00:00:00.000000Z',
    stageTimestamp: '2026-01-01T00:00:00.010000Z',
  };
}

function applyTransport(
  text: string,
  transport: Transport,
): { body: Buffer; headers: Record<string, string>; chunked?: boolean } {
  const raw = Buffer.from(text, 'utf8');
  switch (transport) {
    case 'plain':
      return { body: raw, headers: { 'content-type': 'application/json' } };
    case 'gzip':
      return {
        body: gzipSync(raw),
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      };
    case 'deflate':
      return {
        body: deflateSync(raw),
        headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' },
      };
    case 'chunked':
      return { body: raw, headers: { 'content-type': 'application/json' }, chunked: true };
    case 'plus-json':
      return { body: raw, headers: { 'content-type': 'application/merge-patch+json' } };
    case 'upper-json':
      return { body: raw, headers: { 'content-type': 'APPLICATION/JSON; charset=UTF-8' } };
    case 'text/plain':
      return { body: raw, headers: { 'content-type': 'text/plain' } };
    case 'no-content-type':
      return { body: raw, headers: {} };
    case 'latin1':
      return { body: raw, headers: { 'content-type': 'application/json; charset=latin1' } };
    case 'form':
      return { body: raw, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    case 'x-evil-encoding':
      return {
        body: raw,
        headers: { 'content-type': 'application/json', 'content-encoding': 'x-evil' },
      };
  }
}

function viewIndexHeader(spec: IndexSpec, ctx: BuildContext): string | undefined {
  const state = ctx.viewIndex;
  switch (spec.k) {
    case 'none':
      return undefined;
    case 'next':
      state.last += spec.step;
      return String(state.last);
    case 'same':
      return String(Math.max(1, state.last));
    case 'lower':
      return String(Math.max(1, state.last - spec.by));
    case 'huge':
      return '999999999999999';
    case 'odd':
      return spec.value;
  }
}

/** The HTTP request for descriptor `spec`, the `index`-th of the run. */
export function build(spec: Spec, index: number, ctx: BuildContext): Built {
  const withCred = (endpoint: Endpoint, cred: Cred, query: string | null) => {
    const { path, headers } = ctx.creds.apply(
      cred,
      ENDPOINTS[endpoint].scope,
      ENDPOINTS[endpoint].path,
    );
    return { path: query === null ? path : `${path}?${query}`, headers };
  };
  switch (spec.k) {
    case 'admission': {
      const a = buildAdmission(spec.a, index, ctx.seed);
      const { path, headers } = withCred('admission', spec.cred, spec.query);
      const t = applyTransport(a.text, spec.transport);
      return {
        index,
        method: 'POST',
        path,
        headers: { ...t.headers, ...headers },
        body: t.body,
        text: a.text,
        ...(t.chunked ? { chunked: true } : {}),
        endpoint: 'admission',
        base: ENDPOINTS.admission.path,
        cred: spec.cred,
        transport: spec.transport,
        label: a.label,
        family: a.family,
        ...(a.broken ? { broken: a.broken } : {}),
        ...(spec.a.mutations.length > 0 ? { mutated: true } : {}),
        uid: a.uid,
        ...(a.invalidEdit ? { invalidEdit: a.invalidEdit } : {}),
      };
    }
    case 'audit': {
      const list: Record<string, any> = {
        kind: 'EventList',
        apiVersion: 'audit.k8s.io/v1',
        metadata: {},
        items: spec.events.map((e, i) => auditEvent(e, i, index)),
      };
      let broken: string | undefined;
      if (spec.envelope >= 0) {
        const [name, edit] = AUDIT_ENVELOPE_BREAKS[spec.envelope]!;
        const needsItem = !['apiVersion', 'kind E', 'items'].some((p) => name.startsWith(p));
        if (!needsItem || list.items.length > 0) {
          edit(list);
          broken = name;
        }
      }
      const text = JSON.stringify(list);
      const { path, headers } = withCred('audit', spec.cred, spec.query);
      const t = applyTransport(text, spec.transport);
      const summary = `${spec.events.length} event(s)${broken ? `, envelope: ${broken}` : ''}`;
      return {
        index,
        method: 'POST',
        path,
        headers: { ...t.headers, ...headers },
        body: t.body,
        text,
        ...(t.chunked ? { chunked: true } : {}),
        endpoint: 'audit',
        base: ENDPOINTS.audit.path,
        cred: spec.cred,
        transport: spec.transport,
        label: `audit EventList: ${summary}`,
        family: broken
          ? 'audit/broken-envelope'
          : spec.events.length > 100
            ? 'audit/large-batch'
            : 'audit/batch',
        ...(broken ? { broken } : {}),
      };
    }
    case 'view': {
      let text: string;
      let broken: string | undefined;
      if (spec.envelope >= 0) {
        [broken, text] = VIEW_ENVELOPE_BREAKS[spec.envelope]!;
      } else {
        const view: Record<string, string[] | null> = {};
        const names = Object.keys(WORLD_VIEW);
        names.forEach((name, i) => {
          if (spec.base[i]) view[name] = clone(WORLD_VIEW[name]!);
        });
        for (const e of spec.extra) {
          Object.defineProperty(view, e.name, {
            value: e.tags === null ? null : [...e.tags],
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        text = JSON.stringify(view);
      }
      const consulIndex = viewIndexHeader(spec.index, ctx);
      const { path, headers } = withCred('view', spec.cred, spec.query);
      const t = applyTransport(text, spec.transport);
      const extraNames = spec.extra.map((e) => JSON.stringify(e.name.slice(0, 20))).join(',');
      return {
        index,
        method: 'POST',
        path,
        headers: {
          ...t.headers,
          ...headers,
          ...(consulIndex !== undefined ? { 'x-consul-index': consulIndex } : {}),
        },
        body: t.body,
        text,
        ...(t.chunked ? { chunked: true } : {}),
        endpoint: 'view',
        base: ENDPOINTS.view.path,
        cred: spec.cred,
        transport: spec.transport,
        label: `consul view (${broken ? `envelope: ${broken}` : `extra [${extraNames}]`}, X-Consul-Index ${consulIndex === undefined ? 'none' : JSON.stringify(consulIndex)})`,
        family: broken ? 'view/broken-envelope' : 'view/valid',
        ...(broken ? { broken } : {}),
        ...(consulIndex !== undefined ? { consulIndex } : {}),
      };
    }
    case 'reconcile': {
      const { path, headers } = withCred('reconcile', spec.cred, spec.query || null);
      const body = spec.body ? Buffer.from('{"direction":"to-consul"}') : undefined;
      return {
        index,
        method: 'POST',
        path,
        headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body, text: body.toString() } : {}),
        endpoint: 'reconcile',
        base: ENDPOINTS.reconcile.path,
        cred: spec.cred,
        label: `reconcile ?${spec.query}${body ? ' (with a body)' : ''}`,
        family: 'reconcile',
      };
    }
    case 'raw': {
      const { path, headers } = withCred(spec.endpoint, spec.cred, null);
      const json = { 'content-type': 'application/json' };
      const base = {
        index,
        method: 'POST',
        path,
        endpoint: spec.endpoint,
        base: ENDPOINTS[spec.endpoint].path,
        cred: spec.cred,
      } as const;
      const v = spec.variant;
      switch (v.k) {
        case 'malformed': {
          const text = MALFORMED[v.i]!;
          return {
            ...base,
            headers: { ...json, ...headers },
            body: Buffer.from(text),
            text,
            label: `${spec.endpoint} malformed JSON ${JSON.stringify(text)}`,
            family: 'transport/malformed-json',
            broken: 'malformed JSON',
          };
        }
        case 'deep': {
          const text = v.objects ? deepObjectText(v.depth) : deepArray(v.depth);
          return {
            ...base,
            headers: { ...json, ...headers },
            body: Buffer.from(text),
            text,
            label: `${spec.endpoint} JSON nested ${v.depth} deep (${v.objects ? 'objects' : 'arrays'})`,
            family: 'transport/deep-json',
            // Reconcile ignores a body the parser accepts (nesting up to 100 levels).
            ...(spec.endpoint !== 'reconcile' || v.depth > 100
              ? { broken: `nested ${v.depth}` }
              : {}),
          };
        }
        case 'oversize': {
          const announce =
            v.factor === 'plus-one'
              ? ctx.maxBodyBytes + 1
              : v.factor === 'ten'
                ? ctx.maxBodyBytes * 10
                : 1e15;
          const body = Buffer.alloc(Math.min(v.sent, 65_536), 0x20);
          return {
            ...base,
            headers: { ...json, ...headers },
            body,
            announce,
            label: `${spec.endpoint} Content-Length ${announce} (limit ${ctx.maxBodyBytes}), ${body.length} bytes sent, then waiting`,
            family: 'transport/oversize',
          };
        }
        case 'gzip-garbage':
          return {
            ...base,
            headers: { ...json, 'content-encoding': 'gzip', ...headers },
            body: Buffer.from('not gzip at all'),
            label: `${spec.endpoint} content-encoding gzip, body not gzip`,
            family: 'transport/bad-gzip',
            broken: 'bad gzip',
          };
        case 'empty':
          return {
            ...base,
            headers: { ...json, ...headers, 'content-length': '0' },
            body: Buffer.alloc(0),
            text: '',
            label: `${spec.endpoint} empty body`,
            family: 'transport/empty-body',
            // No body reads as {}: an empty view for the watch endpoint, no query for reconcile.
            ...(spec.endpoint === 'reconcile' || spec.endpoint === 'view'
              ? {}
              : { broken: 'empty body' }),
          };
      }
      break;
    }
    case 'probe':
      return {
        index,
        method: spec.method,
        path: spec.query === null ? spec.path : `${spec.path}?${spec.query}`,
        headers: {},
        endpoint: 'probe',
        label: `${spec.method} ${spec.path}${spec.query === null ? '' : '?' + spec.query.slice(0, 40)}`,
        family: `probe${spec.path}`,
      };
    case 'route': {
      const endpoint = (Object.keys(ENDPOINTS) as Endpoint[]).find(
        (e) => ENDPOINTS[e].path === spec.path,
      );
      const { path, headers } = endpoint
        ? ctx.creds.apply(spec.cred, ENDPOINTS[endpoint].scope, spec.path)
        : ctx.creds.apply(spec.cred, 'reconcile', spec.path);
      // POST on an event path is an event request, not a routing case: send PUT instead.
      const method = endpoint && spec.method === 'POST' ? 'PUT' : spec.method;
      const body = method === 'GET' || method === 'OPTIONS' ? undefined : Buffer.from('{}');
      return {
        index,
        method,
        path,
        headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body, text: '{}' } : {}),
        endpoint: 'route',
        base: spec.path,
        cred: spec.cred,
        label: `${method} ${spec.path.slice(0, 60)}`,
        family: endpoint ? 'route/method' : 'route/unknown-path',
      };
    }
  }
  throw new Error('unreachable');
}
