// The Kubernetes edge: reads Services, EndpointSlices, Nodes and namespaces (paginated lists for
// reconcile), and writes the ExternalName services of the Consul → Kubernetes direction. Every
// call is bounded: `timeoutMs` for one call of the event path, `listTimeoutMs` for one page of a
// reconcile list; past it the request is aborted and fails with KUBE_UNAVAILABLE.
import type { KubeHandle } from './client.js';
import {
  ENDPOINT_SLICES,
  INGRESSES,
  SERVICES,
  kubePath,
  resourcePath,
  type KubeKind,
  type KubeQuery,
  withDeadline,
  DeadlinePassed,
} from './rest.js';
import { kubeError, statusOf } from './errors.js';
import { SyncError } from '../errors.js';
import { createLimiter } from '../concurrency.js';
import { appendAll } from '../translate/arrays.js';
import type { EndpointSlice, Ingress, Node, Service, ServiceRef } from '../translate/types.js';
import {
  LABEL_CONSUL,
  LABEL_CONSUL_VALUE,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  MANAGED_BY_US,
} from '../translate/keys.js';
import type { Readiness } from '../telemetry/readiness.js';
import { slimEndpointSlice, slimIngress, slimNode, slimService } from './slim.js';
import { GroupedLabelLists } from './list-group.js';

/** Page size for list calls; the API server's own default for kubectl is 500. */
export const LIST_PAGE_SIZE = 500;

interface ListPage<T> {
  items: T[];
  metadata?: { continue?: string; resourceVersion?: string };
}

/** Most Nodes kept by the node cache; the oldest read is dropped first. */
export const NODE_CACHE_MAX = 10_000;

/** A call's bound when none is configured: the default of --write-timeout. */
export const DEFAULT_KUBE_TIMEOUT_MS = 3000;

/** Node reads in flight at once for one readNodes call, when none is configured. */
export const DEFAULT_NODE_READ_CONCURRENCY = 8;

export interface KubeApiOptions {
  /**
   * How long readNodes reuses a Node it read (0 = never). A Node's addresses outlive many
   * EndpointSlice changes, and an EndpointSlice review otherwise reads every node its endpoints
   * run on; a missing Node is never remembered. Lists (reconcile) never use it.
   */
  nodeCacheTtlMs?: number;
  /**
   * Bound on one call of the event path (reads, writes, the namespace read of the sync id, the
   * readiness ping): --write-timeout (default DEFAULT_KUBE_TIMEOUT_MS).
   */
  timeoutMs?: number;
  /**
   * Bound on one page of the reconcile lists (listAllServices, listAllEndpointSlices,
   * listAllNodes) when the caller gives none: default four times `timeoutMs`, as for Consul.
   */
  listTimeoutMs?: number;
  /** Node reads in flight at once in one readNodes call that names no bound (default 8). */
  concurrency?: number;
}

export class KubeApi {
  private readonly nodeCache = new Map<string, { node: Node; expires: number }>();
  private readonly timeoutMs: number;
  private readonly listTimeoutMs: number;
  /** One Service's slices on the event path, grouped per namespace while a list is in flight. */
  private readonly sliceLists: GroupedLabelLists<EndpointSlice>;

  constructor(
    private readonly kube: KubeHandle,
    private readonly readiness?: Readiness,
    private readonly options: KubeApiOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_KUBE_TIMEOUT_MS;
    this.listTimeoutMs = options.listTimeoutMs ?? this.timeoutMs * 4;
    this.sliceLists = new GroupedLabelLists<EndpointSlice>(
      LABEL_SERVICE_NAME,
      (namespace, labelSelector) =>
        this.listAll(
          `list endpointslices of ${namespace} (${labelSelector})`,
          this.timeoutMs,
          resourcePath(ENDPOINT_SLICES, namespace),
          { labelSelector, limit: LIST_PAGE_SIZE },
        ),
      (slice) => slice.metadata?.labels?.[LABEL_SERVICE_NAME],
    );
  }

  /**
   * One API call bounded by `timeoutMs`: the request is aborted at the deadline and fails with
   * KUBE_UNAVAILABLE; any other failure is mapped by kubeError, except the statuses `accept`
   * turns into a value (404 → null on a read). A call that answered marks Kubernetes ready.
   */
  private async request<T, A = never>(
    what: string,
    timeoutMs: number,
    fn: (signal: AbortSignal) => Promise<T>,
    accept?: (status: number | undefined) => { value: A } | undefined,
  ): Promise<T | A> {
    try {
      const out = await withDeadline(timeoutMs, fn);
      this.readiness?.ok('kubernetes');
      return out;
    } catch (err) {
      if (err instanceof DeadlinePassed) {
        throw new SyncError(
          'KUBE_UNAVAILABLE',
          `kubernetes ${what} timed out after ${timeoutMs} ms`,
          { cause: err.cause },
        );
      }
      const accepted = accept?.(statusOf(err));
      if (accepted) {
        this.readiness?.ok('kubernetes');
        return accepted.value;
      }
      throw kubeError(err, what);
    }
  }

  private call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.request(what, this.timeoutMs, fn);
  }

  /** A GET of one object: 404 → null, any other failure throws. */
  private maybe<T>(what: string, path: string): Promise<T | null> {
    return this.request(
      what,
      this.timeoutMs,
      (signal) => this.kube.rest.request<T>({ path, signal }),
      (status) => (status === 404 ? { value: null } : undefined),
    );
  }

  /**
   * Follows `continue` tokens to the end, each page bounded; any failed page fails the list (no
   * partial list is ever returned). `keep` turns each item into what is kept of it (the reconcile
   * lists keep the fields translation reads, src/kube/slim.ts): it runs as soon as a page is
   * parsed, so only one page of whole objects is alive at a time. `onPage` is given each page's
   * kept items before the next page is asked for.
   */
  private async listAll<T, K = T>(
    what: string,
    timeoutMs: number,
    path: string,
    query: KubeQuery,
    keep?: (item: T) => K,
    onPage?: (page: readonly K[]) => void,
  ): Promise<K[]> {
    const items: K[] = [];
    let cont: string | undefined;
    do {
      // resourceVersion=0 (a read from the watch cache) is for the first page only.
      const pageQuery: KubeQuery = cont
        ? { ...query, resourceVersion: undefined, continue: cont }
        : query;
      const res = await this.request(what, timeoutMs, (signal) =>
        this.kube.rest.request<ListPage<T> | undefined>({ path, query: pageQuery, signal }),
      );
      // A page without its items is a failed read, never an empty list (nothing is deleted on it).
      if (!Array.isArray(res?.items)) throw kubeError(new Error('a list page without items'), what);
      // Appended item by item: a server that ignores `limit` can answer the whole list in one
      // page, more items than a spread's arguments may be.
      const page: K[] = keep ? res.items.map((item) => keep(item)) : (res.items as unknown as K[]);
      appendAll(items, page);
      onPage?.(page);
      cont = res.metadata?.continue || undefined;
    } while (cont);
    return items;
  }

  readService(ref: ServiceRef): Promise<Service | null> {
    return this.maybe(
      `read service ${ref.namespace}/${ref.name}`,
      resourcePath(SERVICES, ref.namespace, ref.name),
    );
  }

  /**
   * The EndpointSlices of one Service, as the API server stores them. Reads of one namespace
   * made while its list is in flight go together in the next list (list-group.ts).
   */
  listEndpointSlices(ref: ServiceRef): Promise<EndpointSlice[]> {
    return this.sliceLists.read(ref.namespace, ref.name);
  }

  /** The Ingresses of one namespace (--enable-ingress: an Ingress rule may decide a Service's instance). */
  listIngresses(namespace: string): Promise<Ingress[]> {
    return this.listAll(
      `list ingresses in ${namespace}`,
      this.timeoutMs,
      resourcePath(INGRESSES, namespace),
      { limit: LIST_PAGE_SIZE },
    );
  }

  /**
   * Every Ingress, of all namespaces or of the given one (reconcile); each page bounded. Their
   * metadata slimmed (slimIngress).
   */
  listAllIngresses(namespace?: string, timeoutMs = this.listTimeoutMs): Promise<Ingress[]> {
    return this.listAll(
      `list ingresses${namespace ? ` in ${namespace}` : ''}`,
      timeoutMs,
      resourcePath(INGRESSES, namespace),
      { limit: LIST_PAGE_SIZE },
      slimIngress,
    );
  }

  /**
   * Reads the named nodes (missing ones are left out), a few at a time, keeping their name and
   * addresses; one read within `nodeCacheTtlMs` is reused. `concurrency` reads at once
   * (--concurrency, from the caller's SyncSettings).
   */
  async readNodes(
    names: Iterable<string>,
    concurrency = this.options.concurrency ?? DEFAULT_NODE_READ_CONCURRENCY,
  ): Promise<Map<string, Node>> {
    const ttl = this.options.nodeCacheTtlMs ?? 0;
    const nodes = new Map<string, Node>();
    const toRead: string[] = [];
    const now = Date.now();
    for (const name of new Set(names)) {
      const cached = ttl > 0 ? this.nodeCache.get(name) : undefined;
      if (cached && cached.expires > now) nodes.set(name, cached.node);
      else toRead.push(name);
    }
    const limit = createLimiter(concurrency);
    const readOne = async (name: string): Promise<void> => {
      const node = await this.maybe<Node>(`read node ${name}`, kubePath('api/v1/nodes', name));
      this.nodeCache.delete(name);
      if (!node) return;
      const slim = slimNode(node);
      nodes.set(name, slim);
      if (ttl > 0) this.remember(name, slim, ttl);
    };
    await Promise.all(toRead.map((name) => limit(() => readOne(name))));
    return nodes;
  }

  private remember(name: string, node: Node, ttl: number): void {
    this.nodeCache.set(name, { node, expires: Date.now() + ttl });
    if (this.nodeCache.size > NODE_CACHE_MAX) {
      const oldest = this.nodeCache.keys().next().value;
      if (oldest !== undefined) this.nodeCache.delete(oldest);
    }
  }

  async namespaceUid(name: string): Promise<string> {
    const what = `read namespace ${name}`;
    const ns = await this.call(what, (signal) =>
      this.kube.rest.request<{ metadata?: { uid?: string } } | undefined>({
        path: kubePath('api/v1/namespaces', name),
        signal,
      }),
    );
    const uid = ns?.metadata?.uid;
    if (!uid) throw kubeError(new Error(`namespace ${name} has no uid`), what);
    return uid;
  }

  /**
   * Every Service, of all namespaces or of the given one; each page bounded by `timeoutMs`.
   * Each Service as translation reads it (slimService), not as listed; `onPage` is given each
   * page's as it arrives.
   */
  listAllServices(
    namespace?: string,
    timeoutMs = this.listTimeoutMs,
    onPage?: (page: readonly Service[]) => void,
  ): Promise<Service[]> {
    return this.listAll(
      `list services${namespace ? ` in ${namespace}` : ''}`,
      timeoutMs,
      resourcePath(SERVICES, namespace),
      { limit: LIST_PAGE_SIZE },
      slimService,
      onPage,
    );
  }

  /**
   * Every EndpointSlice, of all namespaces or of the given one; each page bounded by `timeoutMs`.
   * Each slice as translation reads it (slimEndpointSlice), not as listed; `onPage` is given
   * each page's as it arrives.
   */
  listAllEndpointSlices(
    namespace?: string,
    timeoutMs = this.listTimeoutMs,
    onPage?: (page: readonly EndpointSlice[]) => void,
  ): Promise<EndpointSlice[]> {
    return this.listAll(
      `list endpointslices${namespace ? ` in ${namespace}` : ''}`,
      timeoutMs,
      resourcePath(ENDPOINT_SLICES, namespace),
      { limit: LIST_PAGE_SIZE },
      slimEndpointSlice,
      onPage,
    );
  }

  /** Every Node (its name and addresses: slimNode); each page bounded by `timeoutMs`. */
  listAllNodes(timeoutMs = this.listTimeoutMs): Promise<Node[]> {
    return this.listAll(
      'list nodes',
      timeoutMs,
      kubePath('api/v1/nodes'),
      { limit: LIST_PAGE_SIZE },
      slimNode,
    );
  }

  /**
   * Services labelled consul=true in a namespace: the ones the Consul → Kubernetes side owns.
   * `cached` reads with resourceVersion=0, which the API server answers from its watch cache
   * instead of etcd (cheap on every watch delivery; possibly a moment stale, which the plan
   * tolerates: a create that exists is a 409 handled idempotently, a delete of a gone one a 404).
   */
  listLabelledServices(namespace: string, options: { cached?: boolean } = {}): Promise<Service[]> {
    return this.listServices(namespace, {
      ...options,
      labelSelector: `${LABEL_CONSUL}=${LABEL_CONSUL_VALUE}`,
    });
  }

  /** Services of one namespace (optionally by label selector), possibly from the watch cache. */
  listServices(
    namespace: string,
    options: { cached?: boolean; labelSelector?: string } = {},
  ): Promise<Service[]> {
    return this.listAll(
      `list services in ${namespace}`,
      this.timeoutMs,
      resourcePath(SERVICES, namespace),
      {
        labelSelector: options.labelSelector,
        limit: LIST_PAGE_SIZE,
        ...(options.cached ? { resourceVersion: '0' } : {}),
      },
    );
  }

  /** Creates an object; null when one of that name already exists (409 AlreadyExists). */
  private create<T extends { metadata?: { name?: string } }>(
    kind: KubeKind,
    namespace: string,
    body: T,
  ): Promise<T | null> {
    const name = body.metadata?.name ?? '';
    return this.request(
      `create ${kind.resource.slice(0, -1)} ${namespace}/${name}`,
      this.timeoutMs,
      (signal) =>
        this.kube.rest.request<T>({
          method: 'POST',
          path: resourcePath(kind, namespace),
          body,
          signal,
        }),
      (status) => (status === 409 ? { value: null } : undefined),
    );
  }

  /** Replaces an object at the resourceVersion in `body` (409 on a concurrent change). */
  private replace<T extends { metadata?: { name?: string } }>(
    kind: KubeKind,
    namespace: string,
    body: T,
  ): Promise<T> {
    const name = body.metadata?.name ?? '';
    return this.call(`replace ${kind.resource.slice(0, -1)} ${namespace}/${name}`, (signal) =>
      this.kube.rest.request<T>({
        method: 'PUT',
        path: resourcePath(kind, namespace, name),
        body,
        signal,
      }),
    );
  }

  /** Deletes an object only if it is still the one we looked at; 404 (already gone) is success. */
  private async remove(
    kind: KubeKind,
    namespace: string,
    name: string,
    preconditions: { uid?: string; resourceVersion?: string },
  ): Promise<void> {
    await this.request(
      `delete ${kind.resource.slice(0, -1)} ${namespace}/${name}`,
      this.timeoutMs,
      (signal) =>
        this.kube.rest.request({
          method: 'DELETE',
          path: resourcePath(kind, namespace, name),
          body: { preconditions },
          signal,
        }),
      (status) => (status === 404 ? { value: undefined } : undefined),
    );
  }

  /** Creates a service; null when one of that name already exists (409 AlreadyExists). */
  createService(namespace: string, body: Service): Promise<Service | null> {
    return this.create(SERVICES, namespace, body);
  }

  /** Replaces a service at the resourceVersion in `body` (409 on a concurrent change). */
  replaceService(namespace: string, body: Service): Promise<Service> {
    return this.replace(SERVICES, namespace, body);
  }

  /** Deletes a service only if it is still the object we looked at (uid + resourceVersion). */
  deleteService(
    namespace: string,
    name: string,
    preconditions: { uid?: string; resourceVersion?: string },
  ): Promise<void> {
    return this.remove(SERVICES, namespace, name, preconditions);
  }

  /**
   * The EndpointSlices of the Consul → Kubernetes side in a namespace: labelled consul=true and
   * managed-by k8s-consul-sync (which Service they belong to, and whether it is ours, the plan
   * decides). `cached` as for listLabelledServices.
   */
  listOwnedEndpointSlices(
    namespace: string,
    options: { cached?: boolean } = {},
  ): Promise<EndpointSlice[]> {
    return this.listAll(
      `list endpointslices in ${namespace}`,
      this.timeoutMs,
      resourcePath(ENDPOINT_SLICES, namespace),
      {
        labelSelector: `${LABEL_CONSUL}=${LABEL_CONSUL_VALUE},${LABEL_MANAGED_BY}=${MANAGED_BY_US}`,
        limit: LIST_PAGE_SIZE,
        ...(options.cached ? { resourceVersion: '0' } : {}),
      },
    );
  }

  /** Reads one EndpointSlice: null when there is none. */
  readEndpointSlice(namespace: string, name: string): Promise<EndpointSlice | null> {
    return this.maybe(
      `read endpointslice ${namespace}/${name}`,
      resourcePath(ENDPOINT_SLICES, namespace, name),
    );
  }

  /** Creates an EndpointSlice; null when one of that name already exists (409). */
  createEndpointSlice(namespace: string, body: EndpointSlice): Promise<EndpointSlice | null> {
    return this.create(ENDPOINT_SLICES, namespace, body);
  }

  /** Replaces an EndpointSlice at the resourceVersion in `body` (409 on a concurrent change). */
  replaceEndpointSlice(namespace: string, body: EndpointSlice): Promise<EndpointSlice> {
    return this.replace(ENDPOINT_SLICES, namespace, body);
  }

  /** Deletes an EndpointSlice only if it is still the one we looked at; 404 is success. */
  deleteEndpointSlice(
    namespace: string,
    name: string,
    preconditions: { uid?: string; resourceVersion?: string },
  ): Promise<void> {
    return this.remove(ENDPOINT_SLICES, namespace, name, preconditions);
  }

  async ping(): Promise<void> {
    await this.call('read version', (signal) =>
      this.kube.rest.request({ path: kubePath('version'), signal }),
    );
  }
}
