// Hostile input over every event endpoint (issue 7; docs/reference.md "HTTP API"), with authentication on (an
// HMAC key and a PEM public key, a valid token) against the real app, runtime and emulators:
// malformed JSON, wrong apiVersion/kind, missing uid, nulls where objects belong, 10,000-deep
// nesting, 20 MB bodies, a gzip bomb, unicode and control characters in names and annotations,
// numbers out of range, and 10,000 fast-check mutations of real payloads (AdmissionReviews and
// audit events captured from the Kubernetes emulator, the Consul services view). Every answer is
// < 500 with a JSON body; every refused request (4xx) made zero writes to either emulator. All
// log lines of the suite are captured: no token, HMAC secret, PEM text or Consul token in any.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { startWorld, type World } from '../support/world.js';
import {
  captureAuditPolicy,
  captureWebhookConfiguration,
  startEventCapture,
  type EventCapture,
} from '../support/event-capture.js';
import { listen, type Reply, type Served } from '../support/listen.js';
import {
  HUGE_STRING,
  ODD_NUMBERS,
  ODD_STRINGS,
  deepArray,
  deepObjectText,
  mutate,
  mutation,
  type Json,
} from '../support/hostile.js';
import { pemBodyChunks, rsaKeyPair, tempDir } from '../auth/support.js';
import { encodePathToken } from '../../src/auth/path-token.js';

const VARIATIONS = Number(process.env.HOSTILE_VARIATIONS ?? 10_000);
const NS = 'shop';
const ISSUER = 'k8s-consul-sync';
const ALL_SCOPES = 'k8s:admission k8s:audit consul:watch reconcile';

const dir = tempDir('k8s-consul-sync-hostile-');
const hmacSecret = `hostile-hmac-${randomBytes(24).toString('hex')}`;
const keys = rsaKeyPair();
const consulToken = randomUUID();
const secretFile = dir.write('hmac', hmacSecret);
const publicKeyFile = dir.write('keys.pem', keys.publicPem);

function mint(key: string | typeof keys.privateKey, algorithm: 'HS256' | 'RS256'): string {
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign(
    {
      iss: ISSUER,
      aud: ISSUER,
      sub: 'hostile-suite',
      scope: ALL_SCOPES,
      iat: now,
      exp: now + 3600,
    },
    key,
    { algorithm },
  );
}
const hsToken = mint(hmacSecret, 'HS256');
const rsToken = mint(keys.privateKey, 'RS256');

/** Every text that must never reach a log line or an answer. */
const SECRETS: string[] = [hmacSecret, consulToken];
for (const t of [hsToken, rsToken]) {
  SECRETS.push(t, t.split('.')[2]!, ...encodePathToken(t).filter((s) => s.length >= 16));
}
SECRETS.push(...pemBodyChunks(keys.publicPem), ...pemBodyChunks(keys.privatePem));

let w: World;
let capture: EventCapture;
let app: Served;
/** Secret leaks found in answers or log lines (checked as they happen; the texts are not kept). */
const leaks: string[] = [];
let logLinesChecked = 0;
function checkForSecrets(text: string, where: string): void {
  for (const secret of SECRETS) {
    if (text.includes(secret)) leaks.push(`${where}: ${text.slice(0, 200)}`);
  }
}
/** Scans the log lines written since the last call, then lets them go (10,000 requests log a lot). */
function checkLogs(): void {
  for (const chunk of w.logs) {
    for (const line of chunk.split('\n')) {
      if (line) {
        logLinesChecked++;
        checkForSecrets(line, 'log line');
        if (line.includes('/k8s/admission/[REDACTED]')) redactedPathSeen = true;
      }
    }
  }
  w.logs.length = 0;
}
let redactedPathSeen = false;
const crashes: unknown[] = [];
const onCrash = (err: unknown): void => void crashes.push(err);

/** Real payloads to start from, captured from the emulators. */
const bases: { admission: Json[]; audit: Json[]; view: Json[] } = {
  admission: [],
  audit: [],
  view: [],
};

before(async () => {
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  capture = await startEventCapture();
  w = await startWorld({
    flags: [
      '--sync-id=cluster-a',
      '--auth-disabled=false',
      `--auth-jwt-secret-file=${secretFile}`,
      `--auth-jwt-public-key-file=${publicKeyFile}`,
      '--write-timeout=5s',
      // Requests here are built by hand (never stored) and backend failures are injected between
      // them; each assertion is about one request's own writes. Confirmations would undo the
      // writes later and the breaker would (rightly) stop writing after three failures: both are
      // tested on their own in test/sync/admission-intent.int.test.ts.
      '--confirm-after=',
      '--breaker-failures=0',
      // Kubernetes Events are written after the answer, so one request's Events would land
      // among the next one's writes; they are tested in test/sync/events.int.test.ts.
      '--emit-events=false',
    ],
    consulToken,
    kube: {
      admission: { webhooks: [captureWebhookConfiguration(capture.url, [NS])] },
      audit: { url: `${capture.url}/audit`, policy: captureAuditPolicy([NS]), batchMaxWaitMs: 1 },
    },
  });
  w.kubeEmu.seed([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1' },
      status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
    },
  ]);
  // Real writes, so that the bases are what the API server sends and both systems hold state
  // that a wrongly accepted request could damage (a deregistration, a deleted Service).
  const ports = [{ name: 'http', port: 80, targetPort: 8080 }];
  await w.core.createNamespacedService({
    namespace: NS,
    body: {
      metadata: {
        name: 'web',
        annotations: {
          'consul.hashicorp.com/service-tags': 'blue,green',
          'consul.hashicorp.com/service-meta-team': 'shop',
        },
      },
      spec: { type: 'LoadBalancer', ports, externalIPs: ['192.0.2.1'] },
    },
  });
  const web = await w.core.readNamespacedService({ namespace: NS, name: 'web' });
  web.status = { loadBalancer: { ingress: [{ ip: '198.51.100.1' }] } };
  await w.core.replaceNamespacedServiceStatus({ namespace: NS, name: 'web', body: web });
  await w.core.createNamespacedService({
    namespace: NS,
    body: { metadata: { name: 'api' }, spec: { type: 'NodePort', ports } },
  });
  await w.discovery.createNamespacedEndpointSlice({
    namespace: NS,
    body: {
      metadata: { name: 'api-1', labels: { 'kubernetes.io/service-name': 'api' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.1.0.1'], nodeName: 'n1', conditions: { ready: true } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    },
  });
  await w.core.createNamespacedService({
    namespace: NS,
    body: {
      metadata: { name: 'gone' },
      spec: { type: 'ClusterIP', externalIPs: ['192.0.2.9'], ports },
    },
  });
  await w.core.deleteNamespacedService({ namespace: NS, name: 'gone' });
  for (const name of ['billing-db', 'legacy-api']) {
    await w.consul.catalog.register({
      node: 'legacy',
      address: '10.9.0.1',
      service: { id: name, service: name, port: 5432, tags: ['v1'] },
    } as never);
  }
  await capture.waitAudit(6);
  bases.admission.push(...(capture.admissions as Json[]));
  const events = capture.audit as Json[];
  bases.audit.push(
    { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: events },
    ...events.map((e) => ({
      kind: 'EventList',
      apiVersion: 'audit.k8s.io/v1',
      metadata: {},
      items: [e],
    })),
  );
  bases.view.push(await w.consul.catalog.service.list());
  assert.equal(bases.admission.length, 6);

  app = await listen(w.app);
  const res = await app.post('/reconcile', undefined, { authorization: `Bearer ${hsToken}` });
  assert.equal(res.status, 200, res.text);
  assert.equal((await w.registrations()).length, 2, 'registrations a bad request could damage');
});

after(async () => {
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  await app?.close();
  await w?.close();
  await capture?.close();
  dir.remove();
});

// ---- one request --------------------------------------------------------------------------------

const ENDPOINTS = {
  admission: '/k8s/admission',
  audit: '/k8s/audit',
  view: '/consul/services',
  reconcile: '/reconcile',
} as const;
type Endpoint = keyof typeof ENDPOINTS;
type Credential = 'hs-header' | 'rs-header' | 'raw-path' | 'path-token' | 'none';

const CONSUL_WRITE = /^(PUT|POST|DELETE) /;
const KUBE_WRITE = /^(create|update|patch|delete|deletecollection) /;

function writesSinceReset(
  targets: readonly ('consul' | 'kubernetes')[] = ['consul', 'kubernetes'],
) {
  const out: string[] = [];
  if (targets.includes('consul'))
    for (const [k, n] of Object.entries(w.consulEmu.requestCounts()))
      if (n > 0 && CONSUL_WRITE.test(k)) out.push(`consul ${k} ×${n}`);
  if (targets.includes('kubernetes'))
    for (const [k, n] of Object.entries(w.kubeEmu.requestCounts()))
      if (n > 0 && KUBE_WRITE.test(k)) out.push(`kubernetes ${k} ×${n}`);
  return out;
}

/**
 * What a refusal covers. A reconcile refused by the delete-ratio guard (409) is refused per
 * direction: the other direction may have been applied (see the report), so only the refused
 * direction's target must be untouched. Every other refusal covers both systems.
 */
function refusedTargets(a: Attempt, error: { code?: unknown; message?: unknown }) {
  if (a.endpoint !== 'reconcile' || error.code !== 'DELETE_RATIO_EXCEEDED') {
    return ['consul', 'kubernetes'] as const;
  }
  const message = String(error.message);
  return [
    ...(message.includes('to-consul:') ? (['consul'] as const) : []),
    ...(message.includes('to-k8s:') ? (['kubernetes'] as const) : []),
  ];
}

interface Attempt {
  endpoint: Endpoint;
  body?: string | Buffer;
  method?: string;
  query?: string;
  headers?: Record<string, string | number>;
  credential?: Credential;
}

/**
 * Sends one request and checks the invariants: never 5xx, a JSON body, and no write at all when
 * refused (or for a dry-run reconcile). Returns the reply for further checks.
 */
async function hit(a: Attempt, label: string | (() => string)): Promise<Reply> {
  const credential = a.credential ?? 'hs-header';
  let path: string = ENDPOINTS[a.endpoint];
  const headers: Record<string, string | number> = {};
  if (credential === 'hs-header') headers.authorization = `Bearer ${hsToken}`;
  if (credential === 'rs-header') headers.authorization = `Bearer ${rsToken}`;
  if (credential === 'raw-path') path += `/${hsToken}`;
  if (credential === 'path-token') path += `/${encodePathToken(rsToken).join('/')}`;
  if (a.query) path += `?${a.query}`;
  if (a.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(a.body);
  }
  for (const [k, v] of Object.entries(a.headers ?? {})) {
    if (v === '') delete headers[k];
    else headers[k] = v;
  }
  w.consulEmu.resetRequestCounts();
  w.kubeEmu.resetRequestCounts();
  const reply = await app.send(a.method ?? 'POST', path, a.body, headers);
  checkForSecrets(reply.text, 'answer');
  // Built only when an assertion fails (the variations run 10,000 times).
  const where = (): string =>
    `${typeof label === 'string' ? label : label()}: ${a.method ?? 'POST'} ${ENDPOINTS[a.endpoint]}${a.query ? '?' + a.query.slice(0, 100) : ''} → ${reply.status} ${reply.text.slice(0, 300)}`;
  if (reply.status >= 500) assert.fail(`never 5xx: ${where()}`);
  if (reply.json === undefined) assert.fail(`JSON body: ${where()}`);
  if (reply.status >= 400) {
    const error = (reply.json as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof error?.code !== 'string' || typeof error.message !== 'string') {
      assert.fail(`JSON error body {"error":{"code","message"}}: ${where()}`);
    }
    const wrote = writesSinceReset(refusedTargets(a, error));
    if (wrote.length > 0) assert.fail(`a refused request wrote ${wrote.join(', ')}: ${where()}`);
  } else {
    if (reply.status !== 200) assert.fail(`200 or 4xx: ${where()}`);
    const dryRun = new URLSearchParams(a.query ?? '').getAll('dryRun');
    // `dryRun` alone means true (issue 20), like `dryRun=true`.
    if (a.endpoint === 'reconcile' && dryRun.length === 1 && ['true', ''].includes(dryRun[0]!)) {
      const wrote = writesSinceReset();
      if (wrote.length > 0) assert.fail(`a dry run wrote ${wrote.join(', ')}: ${where()}`);
    }
  }
  return reply;
}

const json = (v: unknown): string => JSON.stringify(v);
const admissionBase = (i = 0): Record<string, unknown> =>
  structuredClone(bases.admission[i % bases.admission.length]) as Record<string, unknown>;
const requestOf = (review: Record<string, unknown>): Record<string, unknown> =>
  review.request as Record<string, unknown>;
/** An AdmissionReview for Service shop/web (CREATE), changed by `edit`. */
function review(edit: (r: Record<string, unknown>, req: Record<string, unknown>) => void): string {
  const r = admissionBase(0);
  edit(r, requestOf(r));
  return json(r);
}
function auditList(edit: (list: Record<string, unknown>, event: Record<string, unknown>) => void) {
  const l = structuredClone(bases.audit[1]) as Record<string, unknown>;
  edit(l, (l.items as Record<string, unknown>[])[0]!);
  return json(l);
}

// ---- the table ----------------------------------------------------------------------------------

const MALFORMED = [
  '{',
  '{"apiVersion":',
  '{"a":1}garbage',
  "{'single':'quotes'}",
  '{"a":1,}',
  'nul',
  'NaN',
  '\u0000',
  '{"a":"\u0001"}'.replace('\u0001', '\\x01'),
  '[1,2',
  '\ufeff{',
];
/** Top-level JSON that is not an object (the body parser's strict mode refuses non-containers). */
const NOT_OBJECTS = ['null', '1', '"text"', 'true', '1e309'];

test('malformed JSON, non-objects, deep nesting, 20 MB and a gzip bomb: 4xx, nothing written', async () => {
  const twenty = Buffer.alloc(20 * 1024 * 1024, 0x20);
  twenty.write('{"a":"', 0);
  twenty.write('"}', twenty.length - 2);
  const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
  for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[]) {
    for (const body of [...MALFORMED, ...NOT_OBJECTS]) {
      const r = await hit({ endpoint, body }, `malformed ${JSON.stringify(body)}`);
      assert.equal(r.status, 400, r.text);
    }
    // 10,000 levels, as an array and as objects, and at depth inside a real payload.
    for (const body of [deepArray(10_000), deepObjectText(10_000)]) {
      const r = await hit({ endpoint, body }, 'deep');
      assert.equal(r.status, 400, r.text);
    }
    const deepInside = review((_r, req) => {
      (req.object as Record<string, unknown>).spec = '@deep@';
    }).replace('"@deep@"', deepObjectText(10_000));
    assert.equal((await hit({ endpoint, body: deepInside }, 'deep in object')).status, 400);

    // 20 MB, declared in content-length and sent in chunks without it.
    const big = await hit({ endpoint, body: twenty }, '20 MB');
    assert.equal(big.status, 413, big.text);
    assert.equal((big.json as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
    const chunked = await hit(
      { endpoint, body: twenty, headers: { 'content-length': '', 'transfer-encoding': 'chunked' } },
      '20 MB chunked',
    );
    assert.equal(chunked.status, 413, chunked.text);
    // 50 MB of spaces inflate from a 50 kB gzip body: the limit applies to what is inflated.
    const inflated = await hit(
      { endpoint, body: bomb, headers: { 'content-encoding': 'gzip' } },
      'gzip bomb',
    );
    assert.ok(inflated.status === 413 || inflated.status === 415, inflated.text);
  }
});

test('wrong media types, methods and paths: 4xx JSON, nothing written', async () => {
  for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[]) {
    const body = json(endpoint === 'view' ? bases.view[0] : bases.admission[0]);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const r = await hit({ endpoint, body, headers: { 'content-type': type } }, type);
      assert.equal(r.status, 415, r.text);
    }
    const latin = await hit(
      { endpoint, body, headers: { 'content-type': 'application/json; charset=latin1' } },
      'charset',
    );
    assert.equal(latin.status, 415, latin.text);
    const garbageGzip = await hit(
      { endpoint, body: Buffer.from('not gzip at all'), headers: { 'content-encoding': 'gzip' } },
      'bad gzip',
    );
    assert.ok(garbageGzip.status >= 400 && garbageGzip.status < 500, garbageGzip.text);
    const unknownEncoding = await hit(
      { endpoint, body, headers: { 'content-encoding': 'x-evil' } },
      'unknown encoding',
    );
    assert.equal(unknownEncoding.status, 415, unknownEncoding.text);
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) {
      const r = await hit({ endpoint, method }, method);
      assert.equal(r.status, 405, r.text);
    }
    for (const credential of ['none', 'raw-path', 'path-token'] as const) {
      const r = await hit({ endpoint, body: '{', credential }, `credential ${credential}`);
      assert.equal(r.status, credential === 'none' ? 401 : 400, r.text);
    }
    const garbageToken = await hit(
      {
        endpoint,
        body,
        credential: 'none',
        headers: { authorization: `Bearer ${'A'.repeat(8000)}` },
      },
      'garbage token',
    );
    assert.equal(garbageToken.status, 401);
  }
  for (const path of ['/k8s', '/k8s/admissions', '/consul', '/v1/txn', '/k8s/%2e%2e/reconcile']) {
    w.consulEmu.resetRequestCounts();
    w.kubeEmu.resetRequestCounts();
    const r = await app.send('POST', path, '{}', {
      'content-type': 'application/json',
      'content-length': 2,
      authorization: `Bearer ${hsToken}`,
    });
    checkForSecrets(r.text, 'answer');
    assert.equal(r.status, 404, `${path}: ${r.text}`);
    assert.deepEqual(writesSinceReset(), []);
  }
});

interface Case {
  name: string;
  endpoint: Endpoint;
  body: string;
  status: number;
  code?: string;
}

/** Built once the bases are captured. */
const buildCases = (): Case[] => [
  // AdmissionReview (admission.k8s.io/v1 is the only version the webhook declares).
  ...[
    [
      'apiVersion v1beta1',
      (r: Record<string, unknown>) => (r.apiVersion = 'admission.k8s.io/v1beta1'),
    ],
    ['apiVersion missing', (r: Record<string, unknown>) => delete r.apiVersion],
    ['kind AdmissionResponse', (r: Record<string, unknown>) => (r.kind = 'AdmissionResponse')],
    ['kind Service', (r: Record<string, unknown>) => (r.kind = 'Service')],
    ['request null', (r: Record<string, unknown>) => (r.request = null)],
    ['request missing', (r: Record<string, unknown>) => delete r.request],
    ['request an array', (r: Record<string, unknown>) => (r.request = [])],
  ].map(([name, edit]) => ({
    name: name as string,
    endpoint: 'admission' as const,
    body: review(edit as (r: Record<string, unknown>) => void),
    status: 400,
    code: 'INVALID_ADMISSION_REVIEW',
  })),
  ...(
    [
      ['uid missing', (q) => delete q.uid],
      ['uid empty', (q) => (q.uid = '')],
      ['uid null', (q) => (q.uid = null)],
      ['uid a number', (q) => (q.uid = 12345)],
      ['uid 10,000 characters', (q) => (q.uid = 'u'.repeat(10_000))],
      ['operation unknown', (q) => (q.operation = 'PATCH')],
      ['operation lower case', (q) => (q.operation = 'create')],
      ['resource null', (q) => (q.resource = null)],
      ['kind null', (q) => (q.kind = null)],
      ['object an array', (q) => (q.object = [])],
      ['object a string', (q) => (q.object = 'Service')],
      ['metadata null', (q) => ((q.object as Record<string, unknown>).metadata = null)],
      [
        'annotations with a number',
        (q) =>
          (((q.object as Record<string, unknown>).metadata as Record<string, unknown>).annotations =
            { a: 1 }),
      ],
      [
        'a 70,000-character annotation',
        (q) =>
          (((q.object as Record<string, unknown>).metadata as Record<string, unknown>).annotations =
            {
              'consul.hashicorp.com/service-tags': HUGE_STRING,
            }),
      ],
      ['name 254 characters', (q) => (q.name = 'n'.repeat(254))],
      ['dryRun a string', (q) => (q.dryRun = 'true')],
      ['dryRun a number', (q) => (q.dryRun = 1)],
    ] as [string, (q: Record<string, unknown>) => void][]
  ).map(([name, edit]) => ({
    name,
    endpoint: 'admission' as const,
    body: review((_r, q) => edit(q)),
    status: 400,
    code: 'INVALID_ADMISSION_REVIEW',
  })),
  // Audit EventList.
  ...(
    [
      ['apiVersion v1beta1', (l) => (l.apiVersion = 'audit.k8s.io/v1beta1')],
      ['kind Event (not a list)', (l) => (l.kind = 'Event')],
      ['items a string', (l) => (l.items = 'x')],
      ['items [null]', (l) => (l.items = [null])],
      ['items [[]]', (l) => (l.items = [[]])],
      [
        'code Infinity (1e309)',
        (_l, e) => ((e.responseStatus as Record<string, unknown>).code = 'INF'),
      ],
      ['code -1', (_l, e) => ((e.responseStatus as Record<string, unknown>).code = -1)],
      [
        'code 2^53+2',
        (_l, e) => ((e.responseStatus as Record<string, unknown>).code = 2 ** 53 + 2),
      ],
      ['code 200.5', (_l, e) => ((e.responseStatus as Record<string, unknown>).code = 200.5)],
      ['code "200"', (_l, e) => ((e.responseStatus as Record<string, unknown>).code = '200')],
      ['stage missing', (_l, e) => delete e.stage],
      ['verb null', (_l, e) => (e.verb = null)],
      ['objectRef a string', (_l, e) => (e.objectRef = 'services/web')],
      [
        'objectRef.name 254 characters',
        (_l, e) => ((e.objectRef as Record<string, unknown>).name = 'n'.repeat(254)),
      ],
      ['requestURI 10,000 characters', (_l, e) => (e.requestURI = `/api/v1/${'x'.repeat(10_000)}`)],
      [
        'responseObject metadata null',
        (_l, e) => ((e.responseObject as Record<string, unknown>).metadata = null),
      ],
    ] as [string, (l: Record<string, unknown>, e: Record<string, unknown>) => void][]
  ).map(([name, edit]) => ({
    name,
    endpoint: 'audit' as const,
    body: auditList(edit).replace('"INF"', '1e309'),
    status: 400,
    code: 'INVALID_AUDIT_EVENT_LIST',
  })),
  // Consul services view.
  ...(
    [
      ['an array', '[]'],
      ['a tag that is a number', '{"web":[1]}'],
      ['tags a string', '{"web":"k8s"}'],
      ['tags an object', '{"web":{"0":"k8s"}}'],
      ['a null tag', '{"web":[null]}'],
      ['an empty name', '{"":[]}'],
      ['a 513-character name', json({ ['n'.repeat(513)]: [] })],
      ['a 513-character tag', json({ web: ['t'.repeat(513)] })],
      ['1,025 tags', json({ web: Array.from({ length: 1025 }, (_, i) => `t${i}`) })],
    ] as [string, string][]
  ).map(([name, body]) => ({
    name,
    endpoint: 'view' as const,
    body,
    status: 400,
    code: 'INVALID_SERVICES_VIEW',
  })),
];

test('wrong apiVersion/kind, missing uid, nulls, sizes and types out of range: 400, nothing written', async () => {
  for (const c of buildCases()) {
    const r = await hit({ endpoint: c.endpoint, body: c.body }, c.name);
    assert.equal(r.status, c.status, `${c.name}: ${r.text}`);
    if (c.code) assert.equal((r.json as { error: { code: string } }).error.code, c.code, c.name);
  }
});

test('reconcile: bad query values are refused; dry runs write nothing', async () => {
  for (const query of [
    'direction=sideways',
    'direction=',
    'direction=to-consul&direction=to-k8s',
    'direction=%00',
    'dryRun=maybe',
    'dryRun=TRUE',
    'dryRun=true&dryRun=true',
    'dryRun=1',
    'force=yes',
    `direction=${'x'.repeat(5000)}`,
  ]) {
    const r = await hit({ endpoint: 'reconcile', query }, query.slice(0, 60));
    assert.equal(r.status, 400, `${query.slice(0, 60)}: ${r.text}`);
  }
  for (const query of [
    'dryRun=true',
    'dryRun=true&direction=to-k8s',
    'dryRun=true&direction[$ne]=x',
    // A bare dryRun is a dry run: it once ran for real (issue 20).
    'dryRun&direction=to-k8s',
    'dryRun=&direction=to-consul',
  ]) {
    const r = await hit({ endpoint: 'reconcile', query }, query);
    assert.equal(r.status, 200, r.text);
  }
});

test('odd but valid payloads: unicode, control characters, odd numbers, nulls where allowed', async () => {
  // Valid shapes with odd content are answered (admission: always allowed), never 5xx; what
  // they write is the translation's business (Consul accepts any service name).
  const odd: [string, Endpoint, string][] = [];
  for (const s of ODD_STRINGS) {
    odd.push([`name ${JSON.stringify(s)}`, 'admission', review((_r, q) => (q.name = s))]);
    odd.push([
      `annotation ${JSON.stringify(s)}`,
      'admission',
      review((_r, q) => {
        const meta = (q.object as Record<string, Record<string, unknown>>).metadata!;
        meta.annotations = {
          'consul.hashicorp.com/service-name': s,
          'consul.hashicorp.com/service-tags': `${s},${s}`,
          'consul.hashicorp.com/service-port': s,
          'consul.hashicorp.com/service-weight': s,
          [`consul.hashicorp.com/service-meta-${s}`]: s,
          [s]: s,
        };
      }),
    ]);
    odd.push([
      `audit objectRef.name ${JSON.stringify(s)}`,
      'audit',
      auditList((_l, e) => ((e.objectRef as Record<string, unknown>).name = s)),
    ]);
    odd.push([
      `audit namespace ${JSON.stringify(s)}`,
      'audit',
      auditList((_l, e) => ((e.objectRef as Record<string, unknown>).namespace = s)),
    ]);
    if (s !== '')
      odd.push([
        `view name ${JSON.stringify(s)}`,
        'view',
        json({ ...(bases.view[0] as object), [s]: [s] }),
      ]);
  }
  for (const n of ODD_NUMBERS) {
    odd.push([
      `port ${n}`,
      'admission',
      review((_r, q) => {
        const spec = (q.object as Record<string, Record<string, unknown>>).spec!;
        spec.ports = [{ name: 'http', port: n, targetPort: n, nodePort: n }];
      }),
    ]);
    odd.push([
      `endpoint port ${n}`,
      'admission',
      json(
        (() => {
          const r = admissionBase(3); // the EndpointSlice CREATE
          const slice = requestOf(r).object as Record<string, unknown>;
          slice.ports = [{ name: 'http', port: n }];
          return r;
        })(),
      ),
    ]);
  }
  odd.push(['CREATE without an object', 'admission', review((_r, q) => (q.object = null))]);
  odd.push([
    'annotations null',
    'admission',
    review(
      (_r, q) =>
        ((q.object as Record<string, Record<string, unknown>>).metadata!.annotations = null),
    ),
  ]);
  odd.push([
    'spec null',
    'admission',
    review((_r, q) => ((q.object as Record<string, unknown>).spec = null)),
  ]);
  odd.push([
    'status null',
    'admission',
    review((_r, q) => ((q.object as Record<string, unknown>).status = null)),
  ]);
  odd.push([
    'ports null',
    'admission',
    review((_r, q) => ((q.object as Record<string, Record<string, unknown>>).spec!.ports = null)),
  ]);
  odd.push([
    'externalIPs of numbers',
    'admission',
    review(
      (_r, q) =>
        ((q.object as Record<string, Record<string, unknown>>).spec!.externalIPs = [1, null, {}]),
    ),
  ]);
  odd.push(['items null', 'audit', auditList((l) => (l.items = null))]);
  odd.push(['items empty', 'audit', auditList((l) => (l.items = []))]);
  odd.push(['an empty view', 'view', '{}']);
  odd.push(['a view with null tags', 'view', '{"billing-db":null,"consul":[]}']);
  odd.push([
    'prototype keys in a view',
    'view',
    '{"__proto__":["k8s"],"constructor":[],"toString":[],"consul":[]}',
  ]);
  odd.push([
    'prototype keys in annotations',
    'admission',
    review((_r, q) => {
      const meta = (q.object as Record<string, Record<string, unknown>>).metadata!;
      meta.annotations = JSON.parse('{"__proto__":"x","constructor":"y"}') as Record<
        string,
        unknown
      >;
    }),
  ]);
  odd.push([
    '__proto__ at the top',
    'admission',
    review((r) =>
      Object.defineProperty(r, '__proto__', { value: { polluted: 'yes' }, enumerable: true }),
    ),
  ]);
  for (const [name, endpoint, body] of odd) {
    const r = await hit({ endpoint, body }, name);
    if (endpoint === 'admission' && r.status === 200) {
      const response = (r.json as { response: { allowed: boolean; uid: string } }).response;
      assert.equal(response.allowed, true, name);
    }
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
});

/**
 * Names no API server sends (it validates DNS-1123 names): quotes end a Consul filter string, a
 * lone surrogate cannot be put in a URL, and the rest are simply not Kubernetes names.
 */
const NOT_KUBE_NAMES = [
  '"quoted"',
  'back\\slash',
  '\ud800',
  'a/b',
  'UPPER',
  'wéb',
  'dash-',
  '.dot',
];

test('events naming what no API server would are ignored: answered, nothing written', async () => {
  const writes = (object: Record<string, unknown>): void => {
    const meta = object.metadata as Record<string, unknown>;
    meta.annotations = {};
    object.spec = { type: 'ClusterIP', externalIPs: ['192.0.2.77'], ports: [{ port: 80 }] };
  };
  for (const name of NOT_KUBE_NAMES) {
    for (const field of ['name', 'namespace'] as const) {
      const audit = await hit(
        {
          endpoint: 'audit',
          body: auditList((_l, e) => ((e.objectRef as Record<string, unknown>)[field] = name)),
        },
        `audit ${field} ${JSON.stringify(name)}`,
      );
      assert.equal(audit.status, 200, audit.text);
      assert.deepEqual(audit.json, { processed: 0, ignored: 1 }, `audit ${field} ${name}`);
      // A CREATE that would register a new instance if it were processed.
      const admission = await hit(
        {
          endpoint: 'admission',
          body: review((_r, q) => {
            const object = q.object as Record<string, unknown>;
            writes(object);
            q[field] = name;
            (object.metadata as Record<string, unknown>)[field] = name;
          }),
        },
        `admission ${field} ${JSON.stringify(name)}`,
      );
      assert.equal(admission.status, 200, admission.text);
      assert.deepEqual(writesSinceReset(), [], `admission ${field} ${name}`);
    }
  }
  // An object other than the one the request names: not from an API server, not converged.
  for (const [field, value] of [
    ['name', 'intruder'],
    ['namespace', 'kube-system'],
  ] as const) {
    const r = await hit(
      {
        endpoint: 'admission',
        body: review((_r, q) => {
          const object = q.object as Record<string, unknown>;
          writes(object);
          (object.metadata as Record<string, unknown>)[field] = value;
        }),
      },
      `object ${field} ${value}`,
    );
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(writesSinceReset(), [], `object ${field} ${value}`);
  }
  // The same CREATE, consistent and valid, does write: the cases above are not vacuous.
  const valid = await hit(
    { endpoint: 'admission', body: review((_r, q) => writes(q.object as Record<string, unknown>)) },
    'valid CREATE',
  );
  assert.equal(valid.status, 200, valid.text);
  assert.deepEqual(writesSinceReset(), ['consul PUT /v1/txn ×1']);
});

/** Percent-encodes the UTF-8 bytes of a value (a lone surrogate becomes U+FFFD, as in any client). */
const encodeParam = (v: string): string =>
  [...Buffer.from(v, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
const paramValue = fc.oneof(
  fc.constantFrom('true', 'false', 'both', 'to-consul', 'to-k8s', '', 'TRUE', '1'),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
/** Reconcile takes no body: its variations are of the query, with or without a body. */
const reconcileVariation = fc.record({
  endpoint: fc.constant<Endpoint>('reconcile'),
  query: fc
    .record(
      {
        direction: paramValue,
        dryRun: fc.oneof(fc.constant('true'), paramValue),
        force: paramValue,
      },
      { requiredKeys: ['dryRun'] },
    )
    .map((q) =>
      Object.entries(q)
        .map(([k, v]) => `${k}=${encodeParam(v)}`)
        .join('&'),
    ),
  body: fc.option(
    fc.array(mutation, { maxLength: 2 }).map((m) => JSON.stringify(mutate(bases.view[0]!, m))),
    { nil: undefined },
  ),
});
const payloadVariation = fc
  .record({
    endpoint: fc.oneof(
      { weight: 4, arbitrary: fc.constant<Endpoint>('admission') },
      { weight: 4, arbitrary: fc.constant<Endpoint>('audit') },
      { weight: 2, arbitrary: fc.constant<Endpoint>('view') },
    ),
    pick: fc.nat(),
    mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
  })
  .map(({ endpoint, pick, mutations }) => {
    const pool = bases[endpoint as 'admission' | 'audit' | 'view'];
    return { endpoint, body: JSON.stringify(mutate(pool[pick % pool.length]!, mutations)) };
  });

test(
  `${VARIATIONS} generated variations of real payloads: never 5xx, refused ones write nothing`,
  { timeout: 600_000 },
  async () => {
    const tally = new Map<string, number>();
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { weight: 10, arbitrary: payloadVariation },
          { weight: 1, arbitrary: reconcileVariation },
        ),
        fc.constantFrom<Credential>(
          'hs-header',
          'hs-header',
          'rs-header',
          'raw-path',
          'path-token',
        ),
        async (variation, credential) => {
          const r = await hit(
            { ...variation, credential },
            () => `variation ${variation.endpoint} ${variation.body?.slice(0, 300) ?? ''}`,
          );
          const key = `${variation.endpoint} ${r.status}`;
          tally.set(key, (tally.get(key) ?? 0) + 1);
          if (++runs % 500 === 0) checkLogs();
          // Accepted variations leave junk in both systems (odd registrations, Services for
          // made-up Consul names); a forced reconcile now and then keeps the state small.
          if (runs % 1000 === 0) {
            const clean = await app.post('/reconcile?force=true', undefined, {
              authorization: `Bearer ${hsToken}`,
            });
            assert.equal(clean.status, 200, clean.text);
          }
        },
      ),
      { numRuns: VARIATIONS },
    );
    // Mutations must both keep payloads valid and break them, on every endpoint, or the
    // property proves little.
    const summary = JSON.stringify([...tally].sort());
    for (const endpoint of Object.keys(ENDPOINTS)) {
      const refused = [...tally].filter(([k]) => k.startsWith(`${endpoint} 4`));
      const answered = [...tally].filter(([k]) => k === `${endpoint} 200`);
      assert.ok(refused.length > 0 && answered.length > 0, `${endpoint}: ${summary}`);
    }
  },
);

test('the server still serves, nothing crashed, and no secret reached a log line or an answer', async () => {
  const health = await app.send('GET', '/healthz');
  assert.equal(health.status, 200);
  assert.deepEqual(crashes, []);
  checkLogs();
  assert.ok(logLinesChecked > 1000, `log lines were captured (${logLinesChecked})`);
  assert.deepEqual(leaks, []);
  // The path-token requests were logged, with the token redacted.
  assert.ok(redactedPathSeen, 'a request with a path token was logged with the path redacted');
});
