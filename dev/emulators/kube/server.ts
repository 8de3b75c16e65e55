// The HTTP face of the emulator on node:http: routing of API paths, discovery, authentication,
// content negotiation (JSON, Table), watch streams, fault injection and request counting.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { ApiRequest, ApiResponse, KubeApi, Verb } from './api.js';
import { ADMIN_USER, asServed } from './api.js';
import {
  apiGroupDoc,
  apiGroupList,
  apiResourceList,
  apiVersions,
  groupVersions,
  openApiV3GroupVersion,
  openApiV3Root,
  SERVER_VERSION,
  type GroupVersion,
} from './discovery.js';
import type { Faults } from '../faults.js';
import { apiVersionOf, type ResourceDef } from './resource-def.js';
import {
  badRequest,
  expired,
  KubeError,
  methodNotSupported,
  resourceNotFound,
  statusForCode,
  tooLarge,
  unauthorized,
  unsupportedMediaType,
} from './status.js';
import { decodeProtobufBody, PROTOBUF_MEDIA_TYPE } from './protobuf.js';
import { deliver, matchesFilter, type Watcher, type WatchEventType } from './store.js';
import { toTable, type IncludeObject } from './table.js';
import { isObject, type KubeObject, str } from './util.js';

const MAX_BODY = 3 * 1024 * 1024;
const BOOKMARK_INTERVAL_MS = 5000;

/** Serialized forms of stored objects (immutable once stored), computed once. */
const fullJson = new WeakMap<object, string>();
const itemJson = new WeakMap<object, string>();

export function objectJson(obj: KubeObject): string {
  let s = fullJson.get(obj);
  if (s === undefined) {
    s = JSON.stringify(obj);
    fullJson.set(obj, s);
  }
  return s;
}

/** List items carry no kind/apiVersion (typed lists omit their items' TypeMeta). */
function listItemJson(obj: KubeObject): string {
  let s = itemJson.get(obj);
  if (s === undefined) {
    const full = objectJson(obj);
    const prefix = `{"kind":${JSON.stringify(obj.kind)},"apiVersion":${JSON.stringify(obj.apiVersion)},`;
    if (full.startsWith(prefix)) s = '{' + full.slice(prefix.length);
    else {
      const copy: Record<string, unknown> = { ...obj };
      delete copy.kind;
      delete copy.apiVersion;
      s = JSON.stringify(copy);
    }
    itemJson.set(obj, s);
  }
  return s;
}

function listJson(body: {
  kind: string;
  apiVersion: string;
  metadata: unknown;
  items: KubeObject[];
}): string {
  const parts = body.items.map(listItemJson);
  return `{"kind":${JSON.stringify(body.kind)},"apiVersion":${JSON.stringify(body.apiVersion)},"metadata":${JSON.stringify(body.metadata)},"items":[${parts.join(',')}]}`;
}

interface Route {
  kind: 'resource';
  verb: Verb;
  def: ResourceDef;
  namespace: string;
  name: string;
  subresource: string;
}

type Routed =
  | Route
  | { kind: 'other'; handler: () => unknown }
  | { kind: 'notfound' }
  | { kind: 'text'; text: string };

export interface ServerDeps {
  api: KubeApi;
  faults: Faults;
  counts: Map<string, number>;
  token?: string;
  log: (line: string) => void;
  serverAddress: () => string;
}

function warningHeader(text: string): string {
  return `299 - "${text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/[\r\n]+/g, ' ')}"`;
}

export class HttpFront {
  private readonly gvs: GroupVersion[];
  private readonly watches = new Set<() => void>();

  constructor(private readonly deps: ServerDeps) {
    this.gvs = groupVersions([...deps.api.served]);
  }

  /** End every open watch (server shutdown). */
  closeWatches(): void {
    for (const end of [...this.watches]) end();
  }

  private route(method: string, path: string, query: URLSearchParams): Routed {
    const segs = path.split('/').filter(Boolean);
    if (segs.length === 0)
      return {
        kind: 'other',
        handler: () => ({
          paths: [
            '/api',
            '/api/v1',
            '/apis',
            '/healthz',
            '/livez',
            '/openapi/v2',
            '/openapi/v3',
            '/readyz',
            '/version',
          ],
        }),
      };
    if (segs[0] === 'version' && segs.length === 1)
      return { kind: 'other', handler: () => SERVER_VERSION };
    if (['healthz', 'livez', 'readyz'].includes(segs[0] ?? '')) return { kind: 'text', text: 'ok' };
    if (segs[0] === 'openapi') {
      if (segs[1] === 'v3') {
        if (segs.length === 2) return { kind: 'other', handler: () => openApiV3Root(this.gvs) };
        const rest = segs.slice(2).join('/');
        const gv = this.gvs.find(
          (g) => (g.group ? `apis/${g.group}/${g.version}` : `api/${g.version}`) === rest,
        );
        if (gv) return { kind: 'other', handler: () => openApiV3GroupVersion(gv) };
      }
      return { kind: 'notfound' };
    }
    let gv: GroupVersion | undefined;
    let rest: string[];
    if (segs[0] === 'api') {
      if (segs.length === 1)
        return { kind: 'other', handler: () => apiVersions(this.deps.serverAddress()) };
      gv = this.gvs.find((g) => !g.group && g.version === segs[1]);
      rest = segs.slice(2);
    } else if (segs[0] === 'apis') {
      if (segs.length === 1) return { kind: 'other', handler: () => apiGroupList(this.gvs) };
      const group = segs[1];
      const inGroup = this.gvs.filter((g) => g.group === group);
      if (!inGroup.length) return { kind: 'notfound' };
      if (segs.length === 2)
        return { kind: 'other', handler: () => apiGroupDoc(inGroup[0] as GroupVersion) };
      gv = inGroup.find((g) => g.version === segs[2]);
      rest = segs.slice(3);
    } else {
      return { kind: 'notfound' };
    }
    if (!gv) return { kind: 'notfound' };
    const theGv = gv;
    if (rest.length === 0) return { kind: 'other', handler: () => apiResourceList(theGv) };
    let watchPath = false;
    if (rest[0] === 'watch') {
      watchPath = true;
      rest = rest.slice(1);
    }
    const find = (name: string | undefined): ResourceDef | undefined =>
      theGv.defs.find((d) => d.resource === name);
    let def: ResourceDef | undefined;
    let namespace = '';
    let name = '';
    let subresource = '';
    if (rest[0] === 'namespaces' && rest.length >= 3 && find(rest[2])?.namespaced) {
      namespace = rest[1] ?? '';
      def = find(rest[2]);
      name = rest[3] ?? '';
      subresource = rest[4] ?? '';
      if (rest.length > 5) return { kind: 'notfound' };
    } else {
      def = find(rest[0]);
      name = rest[1] ?? '';
      subresource = rest[2] ?? '';
      if (rest.length > 3) return { kind: 'notfound' };
      // a namespaced resource is only listed/watched across namespaces, never addressed by name
      if (def?.namespaced && name) return { kind: 'notfound' };
    }
    if (!def) return { kind: 'notfound' };
    const isWatch = watchPath || query.get('watch') === 'true' || query.get('watch') === '1';
    let verb: Verb;
    switch (method) {
      case 'GET':
        verb = isWatch ? 'watch' : name ? 'get' : 'list';
        break;
      case 'POST':
        verb = 'create';
        break;
      case 'PUT':
        verb = 'update';
        break;
      case 'PATCH':
        verb = 'patch';
        break;
      case 'DELETE':
        verb = name ? 'delete' : 'deletecollection';
        break;
      default:
        return { kind: 'notfound' };
    }
    return { kind: 'resource', verb, def, namespace, name, subresource };
  }

  private send(res: ServerResponse, status: number, body: unknown, warnings: string[] = []): void {
    let text: string;
    if (
      isObject(body) &&
      Array.isArray(body.items) &&
      typeof body.kind === 'string' &&
      body.kind.endsWith('List') &&
      body.kind !== 'EventList'
    ) {
      text = listJson(body as never);
    } else if (
      isObject(body) &&
      isObject(body.metadata) &&
      typeof body.kind === 'string' &&
      body.kind !== 'Status'
    ) {
      text = objectJson(body as KubeObject);
    } else {
      text = JSON.stringify(body);
    }
    const headers: Record<string, string | string[] | number> = {
      'content-type': 'application/json',
      'cache-control': 'no-cache, private',
      'content-length': Buffer.byteLength(text),
    };
    if (warnings.length) headers.warning = warnings.map(warningHeader);
    res.writeHead(status, headers);
    res.end(text);
  }

  private sendError(res: ServerResponse, e: unknown): void {
    if (e instanceof KubeError) this.send(res, e.code, e.status);
    else {
      this.deps.log(`emulator error: ${(e as Error).stack ?? str(e)}`);
      this.send(res, 500, statusForCode(500, (e as Error).message));
    }
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const qIndex = url.indexOf('?');
    const path = qIndex >= 0 ? url.slice(0, qIndex) : url;
    const query = new URLSearchParams(qIndex >= 0 ? url.slice(qIndex + 1) : '');
    res.on('finish', () => {
      this.deps.log(
        `${method} ${url} ${res.statusCode} ${(performance.now() - started).toFixed(1)}ms`,
      );
    });
    try {
      const routed = this.route(method, path, query);
      if (routed.kind === 'resource') {
        const key = `${routed.verb} ${routed.def.resource}${routed.subresource ? `/${routed.subresource}` : ''}`;
        this.deps.counts.set(key, (this.deps.counts.get(key) ?? 0) + 1);
      }
      const fault = this.deps.faults.take(method, url);
      if (fault) {
        if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
        if (fault.reset) {
          req.socket.destroy();
          return;
        }
        if (fault.status) {
          const text = fault.body ?? JSON.stringify(statusForCode(fault.status));
          res.writeHead(fault.status, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(text),
          });
          res.end(text);
          return;
        }
      }
      if (routed.kind === 'text') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(routed.text);
        return;
      }
      if (this.deps.token !== undefined) {
        const auth = req.headers.authorization ?? '';
        if (auth !== `Bearer ${this.deps.token}`) {
          await drain(req);
          this.sendError(res, unauthorized());
          return;
        }
      }
      if (routed.kind === 'notfound') {
        await drain(req);
        if (path.startsWith('/api') || path.startsWith('/openapi'))
          this.sendError(res, resourceNotFound());
        else {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('404 page not found\n');
        }
        return;
      }
      if (routed.kind === 'other') {
        await drain(req);
        if (method !== 'GET') {
          res.writeHead(405, { 'content-type': 'text/plain' });
          res.end('405: Method Not Allowed');
          return;
        }
        this.send(res, 200, routed.handler());
        return;
      }
      await this.handleResource(req, res, routed, url, query);
    } catch (e) {
      if (!res.headersSent) this.sendError(res, e);
      else res.destroy();
    }
  }

  private async handleResource(
    req: IncomingMessage,
    res: ServerResponse,
    r: Route,
    url: string,
    query: URLSearchParams,
  ): Promise<void> {
    const raw = await readBody(req);
    const contentType = str(req.headers['content-type'] ?? 'application/json');
    const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
    let body: unknown;
    // a patch's own media type is checked by the patch handler (415 with the patch types)
    if (raw.length && r.verb !== 'patch' && mediaType === PROTOBUF_MEDIA_TYPE) {
      // typed client-go clients (kubectl create namespace / service) send protobuf
      body = this.decodeProtobuf(raw, r);
    } else if (raw.length && r.verb !== 'patch' && /protobuf|cbor/i.test(mediaType)) {
      throw unsupportedMediaType(['application/json', 'application/yaml', PROTOBUF_MEDIA_TYPE]);
    } else if (raw.length) {
      const text = raw.toString('utf8');
      if (r.verb === 'patch') body = text;
      else if (/yaml/i.test(contentType)) {
        try {
          body = parseYaml(text) as unknown;
        } catch (e) {
          throw badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
        }
      } else {
        try {
          body = JSON.parse(text) as unknown;
        } catch (e) {
          throw badRequest(
            `the object provided is unrecognized (must be of type ${r.def.kind}): couldn't get version/kind; json parse error: ${(e as Error).message}`,
          );
        }
      }
    }
    if (
      (r.verb === 'create' && r.name && !r.subresource) ||
      ((r.verb === 'update' || r.verb === 'patch') && !r.name)
    ) {
      throw methodNotSupported(
        { group: r.def.group, resource: r.def.resource },
        r.verb === 'create' ? 'create' : r.verb,
      );
    }
    const apiReq: ApiRequest = {
      verb: r.verb,
      def: r.def,
      namespace: r.namespace,
      name: r.name,
      subresource: r.subresource,
      query,
      body,
      contentType,
      requestURI: url,
      user: ADMIN_USER,
      userAgent: str(req.headers['user-agent'] ?? ''),
      sourceIP: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
    };
    const accept = str(req.headers.accept ?? '');
    const asTable = /as=Table/.test(accept);
    const include = (query.get('includeObject') ?? 'Metadata') as IncludeObject;
    if (r.verb === 'watch') {
      this.watch(req, res, apiReq, asTable ? include : undefined);
      return;
    }
    const result: ApiResponse = await this.deps.api.handle(apiReq);
    if (
      asTable &&
      result.status < 300 &&
      (r.verb === 'get' || r.verb === 'list') &&
      isObject(result.body)
    ) {
      const b = result.body;
      const items = r.verb === 'list' ? (b.items as KubeObject[]) : [b as KubeObject];
      const listMeta =
        r.verb === 'list'
          ? (b.metadata as Record<string, unknown>)
          : { resourceVersion: (b as KubeObject).metadata.resourceVersion };
      this.send(res, 200, toTable(r.def, items, listMeta, include), result.warnings);
      return;
    }
    if (result.auditID) res.setHeader('audit-id', result.auditID);
    this.send(res, result.status, result.body, result.warnings);
  }

  /** A protobuf body as the JSON object it encodes (delete bodies are DeleteOptions). */
  private decodeProtobuf(raw: Buffer, r: Route): unknown {
    const defs = this.deps.api.served;
    const deleting = r.verb === 'delete' || r.verb === 'deletecollection';
    const binding = r.subresource === 'binding';
    return decodeProtobufBody(raw, {
      kind: deleting ? 'DeleteOptions' : binding ? 'Binding' : r.def.kind,
      apiVersion: apiVersionOf(r.def),
      served: (apiVersion, kind) =>
        defs.some((d) => d.kind === kind && apiVersionOf(d) === apiVersion),
    });
  }

  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    apiReq: ApiRequest,
    table: IncludeObject | undefined,
  ): void {
    const { api } = this.deps;
    const def = apiReq.def;
    const rs = api.store.resource(def.resource);
    const filter = api.filterFor(apiReq); // throws 400 on a bad selector before anything is sent
    if (apiReq.name) filter.fields.push({ field: 'metadata.name', op: '=', value: apiReq.name });
    const q = apiReq.query;
    const rvParam = q.get('resourceVersion') ?? '';
    const sendInitial = q.get('sendInitialEvents') === 'true' || rvParam === '' || rvParam === '0';
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? '0');
    if (rvParam !== '' && !/^\d+$/.test(rvParam))
      throw badRequest(
        `invalid resource version: strconv.ParseUint: parsing "${rvParam}": invalid syntax`,
      );
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'no-cache, private',
      'transfer-encoding': 'chunked',
    });
    res.flushHeaders(); // a watch with nothing to send yet still answers 200 at once
    let lastRv = api.store.currentRv();
    const write = (type: string, object: string): void => {
      res.write(`{"type":"${type}","object":${object}}\n`);
    };
    const render = (stored: KubeObject): string => {
      const obj = asServed(def, stored);
      return table
        ? JSON.stringify(
            toTable(def, [obj], { resourceVersion: obj.metadata.resourceVersion }, table),
          )
        : objectJson(obj);
    };
    const send = (type: WatchEventType, obj: KubeObject): void => {
      lastRv = Math.max(lastRv, Number(obj.metadata.resourceVersion ?? 0));
      write(type, render(obj));
    };
    const bookmark = (annotations?: Record<string, string>): void => {
      const metadata: Record<string, unknown> = { resourceVersion: str(lastRv) };
      if (annotations) metadata.annotations = annotations;
      write(
        'BOOKMARK',
        JSON.stringify({ kind: def.kind, apiVersion: apiVersionOf(def), metadata }),
      );
    };
    if (sendInitial) {
      const prefix = filter.namespace ? `${filter.namespace}/` : '';
      for (const k of rs.keys) {
        if (prefix && !k.startsWith(prefix)) continue;
        const o = rs.get(k);
        if (o && matchesFilter(filter, o)) send('ADDED', o);
      }
      lastRv = api.store.currentRv();
      if (q.get('sendInitialEvents') === 'true' && bookmarks)
        bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      const from = Number(rvParam);
      const changes = rs.changesSince(from);
      if (!changes) {
        write(
          'ERROR',
          JSON.stringify(
            expired(`too old resource version: ${from} (${rs.oldestRv() + 1})`).status,
          ),
        );
        res.end();
        return;
      }
      const replay: Watcher = { filter, send };
      for (const ev of changes) deliver(replay, ev);
      lastRv = Math.max(lastRv, from);
    }
    const watcher: Watcher = { filter, send };
    rs.watchers.add(watcher);
    const timers: NodeJS.Timeout[] = [];
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      rs.watchers.delete(watcher);
      for (const t of timers) clearTimeout(t);
      this.watches.delete(end);
      if (bookmarks && !res.writableEnded && !res.destroyed) bookmark();
      res.end();
    };
    this.watches.add(end);
    if (timeoutSeconds > 0) timers.push(setTimeout(end, timeoutSeconds * 1000));
    if (bookmarks) {
      const tick = (): void => {
        if (ended) return;
        bookmark();
        timers.push(setTimeout(tick, BOOKMARK_INTERVAL_MS));
      };
      timers.push(setTimeout(tick, BOOKMARK_INTERVAL_MS));
    }
    req.on('close', end);
    res.on('close', end);
  }
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.readableEnded) {
      resolve();
      return;
    }
    req.on('end', () => resolve());
    req.on('error', () => resolve());
    req.resume();
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(tooLarge(MAX_BODY));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
