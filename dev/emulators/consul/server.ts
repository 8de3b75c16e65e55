// The HTTP layer of the emulator (plain node:http, no framework): routing, ACL token handling,
// blocking queries, fault injection and the response headers Consul sets on reads.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_SCOPE, type CheckRec, type Scope, type Store, type ServiceRec } from './state.js';
import {
  checkServiceNodeSchema,
  compileFilter,
  FilterError,
  healthCheckSchema,
  nodeSchema,
  nodeServiceSchema,
  serviceNodeSchema,
  type Predicate,
} from './filter.js';
import {
  renderCheck,
  renderNamespace,
  renderNode,
  renderNodeService,
  renderPartition,
  renderServiceNode,
  serviceNodeFieldsRenderer,
  type Json,
} from './render.js';
import {
  DecodeError,
  decodeDeregister,
  decodeRegister,
  decodeTenancy,
  decodeTxn,
} from './decode.js';
import {
  deregister,
  MAX_TXN_OPS,
  OSS_TENANCY,
  register,
  txn,
  type Reply,
  type WriteTenancy,
} from './writes.js';
import { Authorizer, type AclTokens } from './acl.js';
import { parseGoDuration } from './duration.js';
import type { Faults } from '../faults.js';

export const CONSUL_VERSION = '1.20.5';
export const LEADER_ADDRESS = '127.0.0.1:8300';
const DEFAULT_WAIT_MS = 5 * 60_000;
const MAX_WAIT_MS = 10 * 60_000;
const TXN_MAX_REQ_LEN = 524_288;

export interface ServerContext {
  store: Store;
  datacenter: string;
  nodeName: string;
  nodeId: string;
  acl: AclTokens;
  faults: Faults;
  counts: Map<string, number>;
  log: (line: string) => void;
  /** Called after every write that changed the catalog. */
  onCatalogChange: () => void;
  /** Consul Enterprise namespaces and admin partitions (default: open source). */
  enterprise: boolean;
}

/** A read endpoint once validated: how to compute its index and its body. */
interface ReadPlan {
  index: () => number;
  produce: () => { json: unknown; filtered: boolean };
}

interface Waiter {
  min: number;
  index: () => number;
  wake: () => void;
  cancel: () => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

const ROUTES: {
  prefix: string;
  exact: boolean;
  pattern: string;
  methods: string[];
  /** Consul Enterprise only (open source has no such endpoint). */
  ent?: boolean;
}[] = [
  {
    prefix: '/v1/catalog/register',
    exact: true,
    pattern: '/v1/catalog/register',
    methods: ['PUT'],
  },
  {
    prefix: '/v1/catalog/deregister',
    exact: true,
    pattern: '/v1/catalog/deregister',
    methods: ['PUT'],
  },
  {
    prefix: '/v1/catalog/services',
    exact: true,
    pattern: '/v1/catalog/services',
    methods: ['GET'],
  },
  {
    prefix: '/v1/catalog/datacenters',
    exact: true,
    pattern: '/v1/catalog/datacenters',
    methods: ['GET'],
  },
  { prefix: '/v1/catalog/nodes', exact: true, pattern: '/v1/catalog/nodes', methods: ['GET'] },
  {
    prefix: '/v1/catalog/service/',
    exact: false,
    pattern: '/v1/catalog/service/:name',
    methods: ['GET'],
  },
  {
    prefix: '/v1/catalog/node/',
    exact: false,
    pattern: '/v1/catalog/node/:node',
    methods: ['GET'],
  },
  {
    prefix: '/v1/catalog/node-services/',
    exact: false,
    pattern: '/v1/catalog/node-services/:node',
    methods: ['GET'],
  },
  {
    prefix: '/v1/health/service/',
    exact: false,
    pattern: '/v1/health/service/:name',
    methods: ['GET'],
  },
  {
    prefix: '/v1/health/checks/',
    exact: false,
    pattern: '/v1/health/checks/:name',
    methods: ['GET'],
  },
  { prefix: '/v1/health/node/', exact: false, pattern: '/v1/health/node/:node', methods: ['GET'] },
  {
    prefix: '/v1/health/state/',
    exact: false,
    pattern: '/v1/health/state/:state',
    methods: ['GET'],
  },
  { prefix: '/v1/agent/self', exact: true, pattern: '/v1/agent/self', methods: ['GET'] },
  { prefix: '/v1/status/leader', exact: true, pattern: '/v1/status/leader', methods: ['GET'] },
  { prefix: '/v1/status/peers', exact: true, pattern: '/v1/status/peers', methods: ['GET'] },
  { prefix: '/v1/txn', exact: true, pattern: '/v1/txn', methods: ['PUT'] },
  { prefix: '/v1/namespace', exact: true, pattern: '/v1/namespace', methods: ['PUT'], ent: true },
  {
    prefix: '/v1/namespace/',
    exact: false,
    pattern: '/v1/namespace/:name',
    methods: ['GET', 'PUT', 'DELETE'],
    ent: true,
  },
  { prefix: '/v1/namespaces', exact: true, pattern: '/v1/namespaces', methods: ['GET'], ent: true },
  { prefix: '/v1/partition', exact: true, pattern: '/v1/partition', methods: ['PUT'], ent: true },
  {
    prefix: '/v1/partition/',
    exact: false,
    pattern: '/v1/partition/:name',
    methods: ['GET', 'PUT', 'DELETE'],
    ent: true,
  },
  { prefix: '/v1/partitions', exact: true, pattern: '/v1/partitions', methods: ['GET'], ent: true },
];

function findRoute(pathname: string, enterprise: boolean): (typeof ROUTES)[number] | undefined {
  return ROUTES.find(
    (r) =>
      (enterprise || r.ent !== true) &&
      (r.exact ? pathname === r.prefix : pathname.startsWith(r.prefix)),
  );
}

/** Endpoints that take ?ns= (and ?partition=); catalog/nodes takes only ?partition=. */
const NAMESPACED = new Set([
  '/v1/catalog/register',
  '/v1/catalog/deregister',
  '/v1/catalog/services',
  '/v1/catalog/service/:name',
  '/v1/catalog/node/:node',
  '/v1/catalog/node-services/:node',
  '/v1/health/service/:name',
  '/v1/health/checks/:name',
  '/v1/health/node/:node',
  '/v1/health/state/:state',
]);
const PARTITIONED = new Set([...NAMESPACED, '/v1/catalog/nodes']);

function parseBoolParam(params: URLSearchParams, key: string): boolean {
  if (!params.has(key)) return false;
  const v = params.get(key) ?? '';
  if (v === '') return true;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new HttpError(400, `Invalid value for ?${key}`);
}

/** ?node-meta=key:value (repeatable); all pairs must match. */
function nodeMetaFilter(
  params: URLSearchParams,
): ((meta: Record<string, string> | null) => boolean) | null {
  const pairs = params.getAll('node-meta');
  if (pairs.length === 0) return null;
  const wanted = pairs.map((p) => {
    const i = p.indexOf(':');
    return i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
  });
  return (meta) => wanted.every(([k, v]) => meta !== null && meta[k ?? ''] === v);
}

function hasAllTags(svc: ServiceRec, tags: string[]): boolean {
  // Consul compares tags case-insensitively (strings.EqualFold)
  return tags.every((t) => (svc.Tags ?? []).some((have) => have.toLowerCase() === t.toLowerCase()));
}

export class ConsulHttp {
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly ctx: ServerContext) {}

  /** Wakes blocking queries whose index moved past their ?index. */
  commitHappened(): void {
    for (const w of [...this.waiters]) if (w.index() > w.min) w.wake();
  }

  /** Ends every pending blocking query (server shutdown). */
  releaseAll(): void {
    for (const w of [...this.waiters]) w.cancel();
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const started = Date.now();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    let pathname: string;
    try {
      pathname = decodeURIComponent(rawPath);
    } catch {
      pathname = rawPath;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const route = findRoute(pathname, this.ctx.enterprise);
    const kind = `${method} ${route?.pattern ?? pathname}`;
    this.ctx.counts.set(kind, (this.ctx.counts.get(kind) ?? 0) + 1);
    res.on('finish', () =>
      this.ctx.log(`${method} ${rawUrl} ${res.statusCode} ${Date.now() - started}ms`),
    );

    const fault = this.ctx.faults.take(method, rawUrl);
    if (fault !== undefined) {
      const apply = (): void => {
        if (fault.reset === true) {
          req.socket.destroy();
          return;
        }
        if (fault.status !== undefined) {
          sendText(res, fault.status, fault.body ?? '');
          return;
        }
        this.route(req, res, method, pathname, params, route);
      };
      if (fault.delayMs !== undefined && fault.delayMs > 0) setTimeout(apply, fault.delayMs);
      else apply();
      return;
    }
    this.route(req, res, method, pathname, params, route);
  }

  private route(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    pathname: string,
    params: URLSearchParams,
    route: (typeof ROUTES)[number] | undefined,
  ): void {
    if (res.destroyed) return;
    if (route === undefined) {
      const text = pathname.includes('/v1/')
        ? 'Invalid URL path: not a recognized HTTP API endpoint\n'
        : "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n";
      sendText(res, 404, text);
      return;
    }
    if (method === 'OPTIONS') {
      res.writeHead(200, { Allow: ['OPTIONS', ...route.methods].join(',') });
      res.end();
      return;
    }
    if (!route.methods.includes(method)) {
      sendText(res, 405, `method ${method} not allowed`, {
        Allow: ['OPTIONS', ...route.methods].join(','),
      });
      return;
    }
    const suffix = route.exact ? '' : pathname.slice(route.prefix.length);
    try {
      if (route.ent === true) {
        this.tenancy(req, res, method, route.pattern, suffix, params);
        return;
      }
      if (method === 'PUT') {
        this.write(req, res, route.pattern, params);
        return;
      }
      this.read(req, res, route.pattern, suffix, params);
    } catch (err) {
      this.fail(res, err);
    }
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (err instanceof HttpError) sendText(res, err.status, err.message, err.headers);
    else if (err instanceof FilterError) sendText(res, 500, err.message);
    else sendText(res, 500, err instanceof Error ? err.message : String(err));
  }

  /** Token from ?token=, X-Consul-Token or Authorization: Bearer (Consul's order). */
  private access(req: IncomingMessage, params: URLSearchParams): Authorizer {
    if (!this.ctx.acl.enabled) return Authorizer.management();
    let given = params.get('token') ?? '';
    if (given === '') given = headerValue(req, 'x-consul-token');
    if (given === '') {
      const auth = headerValue(req, 'authorization');
      const m = /^Bearer\s+(.+)$/i.exec(auth);
      if (m) given = (m[1] ?? '').trim();
    }
    const authz = this.ctx.acl.resolve(given);
    if (authz === undefined) throw new HttpError(403, 'ACL not found');
    return authz;
  }

  /**
   * parseEntMeta: open source rejects ?ns= / ?partition= (and the X-Consul-Namespace /
   * X-Consul-Partition headers) with 400 on the endpoints that take them; Enterprise reads them
   * (the query parameter over the header), defaulting both to "default".
   */
  private scope(req: IncomingMessage, params: URLSearchParams, pattern: string): Scope {
    const withNs = NAMESPACED.has(pattern);
    const withAp = PARTITIONED.has(pattern);
    const nsHeader = headerValue(req, 'x-consul-namespace');
    const apHeader = headerValue(req, 'x-consul-partition');
    const nsQuery = params.get('ns') ?? '';
    const apQuery = params.get('partition') ?? '';
    if (!this.ctx.enterprise) {
      if (withNs && nsHeader !== '')
        throw new HttpError(
          400,
          'Invalid header: "X-Consul-Namespace" - Namespaces are a Consul Enterprise feature',
        );
      if (withNs && nsQuery !== '')
        throw new HttpError(
          400,
          'Invalid query parameter: "ns" - Namespaces are a Consul Enterprise feature',
        );
      if (withAp && apHeader !== '')
        throw new HttpError(
          400,
          'Invalid header: "X-Consul-Partition" - Partitions are a Consul Enterprise feature',
        );
      if (withAp && apQuery !== '')
        throw new HttpError(
          400,
          'Invalid query parameter: "partition" - Partitions are a Consul Enterprise feature',
        );
      return DEFAULT_SCOPE;
    }
    const ns = nsQuery !== '' ? nsQuery : nsHeader !== '' ? nsHeader : 'default';
    const ap = apQuery !== '' ? apQuery : apHeader !== '' ? apHeader : 'default';
    return { ap, ns };
  }

  private tenancyFor(req: IncomingMessage, params: URLSearchParams, pattern: string): WriteTenancy {
    if (!this.ctx.enterprise) {
      this.scope(req, params, pattern);
      return OSS_TENANCY;
    }
    return { enterprise: true, scope: this.scope(req, params, pattern) };
  }

  // ------------------------------------------------------------ namespaces and partitions

  /** /v1/namespace(s) and /v1/partition(s) (Consul Enterprise; operator rights needed). */
  private tenancy(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    pattern: string,
    suffix: string,
    params: URLSearchParams,
  ): void {
    this.withBody(req, res, (raw) =>
      this.finishTenancy(req, res, method, pattern, suffix, params, raw),
    );
  }

  /** Reads the whole request body, then runs `then`; what it throws is answered as an error. */
  private withBody(req: IncomingMessage, res: ServerResponse, then: (raw: Buffer) => void): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        then(Buffer.concat(chunks));
      } catch (err) {
        this.fail(res, err);
      }
    });
  }

  private finishTenancy(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    pattern: string,
    suffix: string,
    params: URLSearchParams,
    raw: Buffer,
  ): void {
    const { store } = this.ctx;
    const authz = this.access(req, params);
    const level = method === 'GET' ? 'read' : 'write';
    if (!authz.isManagement) {
      const who = authz.isAnonymous
        ? 'anonymous token'
        : `token with AccessorID '${authz.accessorId}'`;
      throw new HttpError(403, `Permission denied: ${who} lacks permission 'operator:${level}'`);
    }
    const isNs = pattern.startsWith('/v1/namespace');
    const apParam = params.get('partition') || headerValue(req, 'x-consul-partition') || 'default';
    const meta = {
      'X-Consul-Index': '',
      'X-Consul-KnownLeader': 'true',
      'X-Consul-LastContact': '0',
    };
    const reply = (json: unknown): void => {
      meta['X-Consul-Index'] = String(Math.max(1, store.tenancyIndex));
      sendJson(res, 200, json, params, method === 'GET' ? meta : {});
    };
    const body = (): ReturnType<typeof decodeTenancy> => {
      const text = raw.toString('utf8');
      let parsed: unknown;
      try {
        parsed = text.trim() === '' ? {} : JSON.parse(text);
      } catch (err) {
        throw new HttpError(400, `Request decode failed: ${(err as Error).message}`);
      }
      try {
        return decodeTenancy(parsed, isNs ? 'Namespace' : 'Partition');
      } catch (err) {
        if (err instanceof DecodeError)
          throw new HttpError(400, `Request decode failed: ${err.message}`);
        throw err;
      }
    };
    const what = isNs ? 'Namespace' : 'Partition';

    if (method === 'GET' && (pattern === '/v1/namespaces' || pattern === '/v1/partitions')) {
      if (isNs) return reply(store.namespacesIn(apParam).map(renderNamespace));
      return reply(
        [...store.partitions.values()]
          .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
          .map(renderPartition),
      );
    }
    if (method === 'GET') {
      const ns = isNs ? store.getNamespace(apParam, suffix) : undefined;
      const ap = isNs ? undefined : store.getPartition(suffix);
      const json =
        ns !== undefined ? renderNamespace(ns) : ap !== undefined ? renderPartition(ap) : null;
      // the api client's Read answers (nil, nil) on a 404
      if (json === null) return sendText(res, 404, '');
      return reply(json);
    }
    if (method === 'DELETE') {
      if (suffix === 'default')
        throw new HttpError(400, `Cannot delete the default ${what.toLowerCase()}`);
      store.write(() => {
        if (isNs) store.deleteNamespace(apParam, suffix);
        else store.deletePartition(suffix);
        return { ok: true, value: null };
      });
      this.ctx.onCatalogChange();
      this.commitHappened();
      sendText(res, 200, '');
      return;
    }
    // PUT /v1/namespace, /v1/namespace/:name (create or update), same for partitions
    const b = body();
    if (suffix !== '' && b.Name !== '' && b.Name !== suffix)
      throw new HttpError(
        400,
        `${what} name in the URL path (${JSON.stringify(suffix)}) does not match the name in the body (${JSON.stringify(b.Name)})`,
      );
    const name = suffix !== '' ? suffix : b.Name;
    if (name === '') throw new HttpError(400, `Must specify a Name for ${what}`);
    if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(name))
      throw new HttpError(
        400,
        `${what} name ${JSON.stringify(name)} is not a valid DNS hostname label`,
      );
    const ap = isNs ? (b.Partition !== '' ? b.Partition : apParam) : name;
    if (isNs && store.getPartition(ap) === undefined)
      throw new HttpError(500, `Partition ${JSON.stringify(ap)} does not exist`);
    const out = store.write(() => {
      if (!isNs) {
        const created = store.getPartition(name) === undefined;
        const rec = store.putPartition({ Name: name, Description: b.Description });
        // every partition has its own builtin default namespace
        if (created)
          store.putNamespace({
            Name: 'default',
            Description: 'Builtin Default Namespace',
            ACLs: null,
            Meta: null,
            Partition: name,
          });
        return { ok: true, value: renderPartition(rec) };
      }
      const rec = store.putNamespace({
        Name: name,
        Description: b.Description,
        ACLs: b.ACLs,
        Meta: b.Meta,
        Partition: ap,
      });
      return { ok: true, value: renderNamespace(rec) };
    });
    this.commitHappened();
    reply(out.value);
  }

  // ------------------------------------------------------------ writes

  private write(
    req: IncomingMessage,
    res: ServerResponse,
    pattern: string,
    params: URLSearchParams,
  ): void {
    const declared = Number(req.headers['content-length'] ?? '-1');
    if (pattern === '/v1/txn' && declared > TXN_MAX_REQ_LEN) {
      req.resume();
      sendText(
        res,
        413,
        `Request body(${declared} bytes) too large, max size: ${TXN_MAX_REQ_LEN} bytes. See https://www.consul.io/docs/agent/config/config-files#txn_max_req_len.`,
      );
      return;
    }
    this.withBody(req, res, (raw) =>
      this.finishWrite(req, res, pattern, params, raw.toString('utf8')),
    );
  }

  private finishWrite(
    req: IncomingMessage,
    res: ServerResponse,
    pattern: string,
    params: URLSearchParams,
    text: string,
  ): void {
    const { store, datacenter } = this.ctx;
    const decodePrefix = pattern === '/v1/txn' ? 'Failed to parse body' : 'Request decode failed';
    let body: unknown;
    try {
      body = text.trim() === '' ? undefined : JSON.parse(text);
      if (body === undefined) throw new DecodeError('EOF');
    } catch (err) {
      const msg =
        err instanceof DecodeError ? err.message : `invalid character: ${(err as Error).message}`;
      throw new HttpError(400, `${decodePrefix}: ${msg}`);
    }
    let reply: Reply & { changed: boolean };
    const tenancy = this.tenancyFor(req, params, pattern);
    try {
      if (pattern === '/v1/catalog/register') {
        const decoded = decodeRegister(body);
        reply = register(
          store,
          datacenter,
          decoded,
          this.writeAccess(req, params, decoded.Node !== ''),
          tenancy,
        );
      } else if (pattern === '/v1/catalog/deregister') {
        const decoded = decodeDeregister(body);
        reply = deregister(
          store,
          decoded,
          this.writeAccess(req, params, decoded.Node !== ''),
          tenancy,
        );
      } else {
        const ops = decodeTxn(body);
        // the operation limit is enforced while decoding, before the token is resolved
        reply = txn(
          store,
          datacenter,
          ops,
          ops.length > MAX_TXN_OPS ? Authorizer.management() : this.access(req, params),
          tenancy,
        );
      }
    } catch (err) {
      if (err instanceof DecodeError) throw new HttpError(400, `${decodePrefix}: ${err.message}`);
      throw err;
    }
    if (reply.changed) this.ctx.onCatalogChange();
    this.commitHappened();
    if (reply.text !== undefined) sendText(res, reply.status, reply.text, reply.headers);
    else sendJson(res, reply.status, reply.json, params, reply.headers);
  }

  /** Catalog.Register/Deregister validate the node before resolving the token. */
  private writeAccess(
    req: IncomingMessage,
    params: URLSearchParams,
    nodeGiven: boolean,
  ): Authorizer {
    if (!nodeGiven) return Authorizer.management();
    return this.access(req, params);
  }

  // ------------------------------------------------------------ reads

  private read(
    req: IncomingMessage,
    res: ServerResponse,
    pattern: string,
    suffix: string,
    params: URLSearchParams,
  ): void {
    if (pattern === '/v1/status/leader') return sendJson(res, 200, LEADER_ADDRESS, params);
    if (pattern === '/v1/status/peers') return sendJson(res, 200, [LEADER_ADDRESS], params);

    // parseWait / parseConsistency
    let waitMs = DEFAULT_WAIT_MS;
    const wait = params.get('wait');
    if (wait !== null && wait !== '') {
      const ms = parseGoDuration(wait);
      if (ms === null) throw new HttpError(400, 'Invalid wait time');
      waitMs = ms <= 0 ? DEFAULT_WAIT_MS : Math.min(ms, MAX_WAIT_MS);
    }
    let minIndex = 0;
    const idx = params.get('index');
    if (idx !== null && idx !== '') {
      if (!/^[0-9]+$/.test(idx)) throw new HttpError(400, 'Invalid index');
      minIndex = Number(idx);
    }
    const stale = params.has('stale');
    const consistent = params.has('consistent');
    if (stale && consistent) {
      throw new HttpError(400, 'Cannot specify ?stale with ?consistent, conflicting semantics.');
    }
    const consistency = stale ? 'stale' : consistent ? 'consistent' : 'leader';

    const authz = this.access(req, params);
    if (pattern === '/v1/agent/self') {
      // policy-scoped tokens carry no agent rules: only the management token reads it
      if (!authz.allowed('agent', 'read', this.ctx.nodeName))
        throw new HttpError(403, authz.denied('agent', 'read', this.ctx.nodeName));
      return sendJson(res, 200, this.agentSelf(), params);
    }
    if (pattern === '/v1/catalog/datacenters')
      return sendJson(res, 200, [this.ctx.datacenter], params);

    const plan = this.plan(pattern, suffix, params, authz, this.scope(req, params, pattern));
    const respond = (): void => {
      if (res.destroyed || res.headersSent) return;
      const { json, filtered } = plan.produce();
      const headers: Record<string, string> = {
        'X-Consul-Index': String(Math.max(1, plan.index())),
        'X-Consul-KnownLeader': 'true',
        'X-Consul-LastContact': '0',
        'X-Consul-Effective-Consistency': consistency,
      };
      if (filtered) headers['X-Consul-Results-Filtered-By-ACLs'] = 'true';
      sendJson(res, 200, json, params, headers);
    };
    if (minIndex > 0 && plan.index() <= minIndex) {
      this.block(res, minIndex, plan.index, waitMs, respond);
      return;
    }
    respond();
  }

  private block(
    res: ServerResponse,
    min: number,
    index: () => number,
    waitMs: number,
    respond: () => void,
  ): void {
    const done = (): void => {
      clearTimeout(timer);
      this.waiters.delete(waiter);
      res.off('close', onClose);
    };
    const waiter: Waiter = {
      min,
      index,
      wake: () => {
        done();
        respond();
      },
      cancel: () => {
        done();
        res.destroy();
      },
    };
    const timer = setTimeout(waiter.wake, waitMs);
    const onClose = (): void => {
      if (!res.writableFinished) done();
    };
    res.on('close', onClose);
    this.waiters.add(waiter);
  }

  private compile(params: URLSearchParams, schema: Parameters<typeof compileFilter>[1]): Predicate {
    return compileFilter(params.get('filter') ?? '', schema);
  }

  private plan(
    pattern: string,
    suffix: string,
    params: URLSearchParams,
    authz: Authorizer,
    sc: Scope,
  ): ReadPlan {
    const { store } = this.ctx;
    // a wildcard namespace lists every namespace of the partition where Consul supports it;
    // the single-service endpoints take it literally (no namespace is called "*")
    const one: Scope = sc;
    const metaOk = nodeMetaFilter(params);
    const tags = params.getAll('tag');
    const requireName = (what: 'service' | 'node' | 'check state'): void => {
      if (suffix === '') {
        throw new HttpError(
          400,
          what === 'check state' ? 'Missing check state' : `Missing ${what} name`,
        );
      }
    };
    // aclfilter: allowService("") is true (node-level checks carry no service name)
    const nodeOk = (node: string): boolean => authz.allowed('node', 'read', node);
    const serviceOk = (name: string): boolean =>
      name === '' || authz.allowed('service', 'read', name);
    const checkOk = (c: CheckRec): boolean => nodeOk(c.Node) && serviceOk(c.ServiceName);
    // the ACL filter runs after ?filter, ?node-meta and ?tag, so the flag only counts what the
    // token hid, never what the query left out anyway
    const acl = <T>(
      items: T[],
      readable: (item: T) => boolean,
    ): { kept: T[]; filtered: boolean } => {
      if (authz.isManagement) return { kept: items, filtered: false };
      const kept = items.filter(readable);
      return { kept, filtered: kept.length !== items.length };
    };
    const checkList = (
      checks: CheckRec[],
      pred: Predicate,
    ): { json: unknown; filtered: boolean } => {
      const rendered = checks.map((c) => ({ c, json: renderCheck(c, true) }));
      const { kept, filtered } = acl(
        rendered.filter((r) => pred(r.json)),
        (r) => checkOk(r.c),
      );
      return { json: kept.map((r) => r.json), filtered };
    };

    switch (pattern) {
      case '/v1/catalog/services': {
        const pred = this.compile(params, serviceNodeSchema);
        // Only what the filter reads: the rendering is thrown away.
        const render = serviceNodeFieldsRenderer(pred.fields);
        const filtering = params.get('filter') || metaOk !== null;
        return {
          index: () => store.servicesIndex,
          produce: () => {
            const view = filtering
              ? store.servicesView((svc) => {
                  const node = store.getNode(svc.Node, sc.ap);
                  if (metaOk !== null && !metaOk(node?.Meta ?? null)) return false;
                  return pred(render(svc, node));
                }, sc)
              : store.servicesView(undefined, sc);
            // filterServices: service read on the name only, whatever nodes hold the instances
            const { kept, filtered } = acl(Object.keys(view), serviceOk);
            if (!filtered) return { json: view, filtered: false };
            const out: Record<string, string[]> = {};
            for (const name of kept) out[name] = view[name] ?? [];
            return { json: out, filtered };
          },
        };
      }
      case '/v1/catalog/service/:name': {
        requireName('service');
        const pred = this.compile(params, serviceNodeSchema);
        return {
          index: () => store.indexForService(suffix, one),
          produce: () => {
            const out: { svc: ServiceRec; json: Json }[] = [];
            for (const svc of store.instancesOf(suffix, one)) {
              if (tags.length > 0 && !hasAllTags(svc, tags)) continue;
              const node = store.getNode(svc.Node, sc.ap);
              if (metaOk !== null && !metaOk(node?.Meta ?? null)) continue;
              const json = renderServiceNode(svc, node);
              if (pred(json)) out.push({ svc, json });
            }
            // filterServiceNodes
            const { kept, filtered } = acl(
              out,
              ({ svc }) => nodeOk(svc.Node) && serviceOk(svc.Service),
            );
            return { json: kept.map((e) => e.json), filtered };
          },
        };
      }
      case '/v1/catalog/node/:node':
      case '/v1/catalog/node-services/:node': {
        requireName('node');
        const pred = this.compile(params, nodeServiceSchema);
        const asMap = pattern === '/v1/catalog/node/:node';
        return {
          index: () => store.catalogIndex,
          produce: () => {
            const node = store.getNode(suffix, sc.ap);
            const none = asMap ? null : { Node: null, Services: null };
            if (node === undefined) return { json: none, filtered: false };
            // a node the token cannot read is answered as if it did not exist
            if (!nodeOk(node.Node)) return { json: none, filtered: true };
            const all = store
              .servicesOfNode(node.Node, sc)
              .map((s) => renderNodeService(s, true))
              .filter((s) => pred(s));
            // filterNodeServices checks service read on the map key, which is the service
            // *ID*; filterNodeServiceList checks the service name
            const { kept: services, filtered } = acl(all, (s) =>
              serviceOk(String(asMap ? s.ID : s.Service)),
            );
            if (!asMap) return { json: { Node: renderNode(node), Services: services }, filtered };
            const map: Record<string, Json> = {};
            for (const s of services) map[String(s.ID)] = s;
            return { json: { Node: renderNode(node), Services: map }, filtered };
          },
        };
      }
      case '/v1/catalog/nodes': {
        const pred = this.compile(params, nodeSchema);
        return {
          index: () => store.nodesIndex,
          produce: () => {
            const nodes = store
              .nodesIn(sc.ap)
              .sort((a, b) => (a.Node < b.Node ? -1 : a.Node > b.Node ? 1 : 0))
              .filter((n) => metaOk === null || metaOk(n.Meta))
              .map(renderNode)
              .filter((n) => pred(n));
            const { kept, filtered } = acl(nodes, (n) => nodeOk(String(n.Node)));
            return { json: kept, filtered };
          },
        };
      }
      case '/v1/health/service/:name': {
        requireName('service');
        const passing = parseBoolParam(params, 'passing');
        const pred = this.compile(params, checkServiceNodeSchema);
        return {
          index: () => store.indexForService(suffix, one),
          produce: () => {
            const out: { svc: ServiceRec; checks: CheckRec[]; json: Json }[] = [];
            for (const svc of store.instancesOf(suffix, one)) {
              if (tags.length > 0 && !hasAllTags(svc, tags)) continue;
              const node = store.getNode(svc.Node, sc.ap);
              if (node === undefined) continue;
              if (metaOk !== null && !metaOk(node.Meta)) continue;
              const checks = store.checksForInstance(svc);
              const json: Json = {
                Node: renderNode(node),
                Service: renderNodeService(svc, true),
                Checks: checks.map((c) => renderCheck(c, true)),
              };
              if (pred(json)) out.push({ svc, checks, json });
            }
            // CheckServiceNode.CanRead in the RPC; ?passing is applied afterwards by the HTTP
            // handler, so hidden entries count even when they would not have passed
            const { kept, filtered } = acl(
              out,
              ({ svc }) => nodeOk(svc.Node) && serviceOk(svc.Service),
            );
            const shown = passing
              ? kept.filter((e) => e.checks.every((c) => c.Status === 'passing'))
              : kept;
            return { json: shown.map((e) => e.json), filtered };
          },
        };
      }
      case '/v1/health/checks/:name': {
        requireName('service');
        const pred = this.compile(params, healthCheckSchema);
        return {
          index: () => store.indexForService(suffix, one),
          produce: () => {
            const checks: CheckRec[] = [];
            for (const svc of store.instancesOf(suffix, one)) {
              for (const c of store.checksForInstance(svc)) if (c.ServiceID !== '') checks.push(c);
            }
            return checkList(checks, pred);
          },
        };
      }
      case '/v1/health/node/:node': {
        requireName('node');
        const pred = this.compile(params, healthCheckSchema);
        return {
          index: () => store.checksIndex,
          produce: () => checkList(store.checksOfNode(suffix, sc), pred),
        };
      }
      case '/v1/health/state/:state': {
        requireName('check state');
        const pred = this.compile(params, healthCheckSchema);
        const valid = ['any', 'passing', 'warning', 'critical'].includes(suffix);
        return {
          index: () => store.checksIndex,
          produce: () => checkList(valid ? store.checksInState(suffix, sc) : [], pred),
        };
      }
    }
    throw new HttpError(404, 'Invalid URL path: not a recognized HTTP API endpoint\n');
  }

  private agentSelf(): Json {
    const { datacenter, nodeName, nodeId } = this.ctx;
    return {
      Config: {
        Datacenter: datacenter,
        PrimaryDatacenter: datacenter,
        NodeName: nodeName,
        NodeID: nodeId,
        Partition: '',
        Revision: 'emulator',
        Server: true,
        Version: CONSUL_VERSION,
        BuildDate: '2025-01-01T00:00:00Z',
      },
      DebugConfig: {},
      Coord: { Vec: [0, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 },
      Member: {
        Name: nodeName,
        Addr: '127.0.0.1',
        Port: 8301,
        Tags: {
          acls: this.ctx.acl.enabled ? '1' : '0',
          build: `${CONSUL_VERSION}:emulator`,
          dc: datacenter,
          id: nodeId,
          port: '8300',
          role: 'consul',
          vsn: '2',
        },
        Status: 1,
        ProtocolMin: 1,
        ProtocolMax: 5,
        ProtocolCur: 2,
        DelegateMin: 2,
        DelegateMax: 5,
        DelegateCur: 4,
      },
      Stats: {},
      Meta: { 'consul-network-segment': '', 'consul-version': CONSUL_VERSION },
      xDS: null,
    };
  }
}

function headerValue(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  params: URLSearchParams,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = params.has('pretty') ? `${JSON.stringify(body, null, 4)}\n` : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}
