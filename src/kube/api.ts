// The Kubernetes edge: reads Services, EndpointSlices, Nodes and namespaces (paginated lists for
// reconcile), and writes the ExternalName services of the Consul → Kubernetes direction.
import type { KubeHandle } from './client.js';
import { kubeError, statusOf } from './errors.js';
import type { EndpointSlice, Node, Service, ServiceRef } from '../translate/types.js';
import { LABEL_CONSUL, LABEL_CONSUL_VALUE, LABEL_SERVICE_NAME } from '../translate/keys.js';
import type { Readiness } from '../telemetry/readiness.js';

/** Page size for list calls; the API server's own default for kubectl is 500. */
export const LIST_PAGE_SIZE = 500;

interface ListPage<T> {
  items: T[];
  metadata?: { _continue?: string; continue?: string; resourceVersion?: string };
}

/**
 * What translation reads of a Node: its addresses. A full Node (status.images alone can be tens
 * of kilobytes) is not worth keeping in the node cache.
 */
function addressesOnly(node: Node): Node {
  const addresses = node.status?.addresses;
  return {
    metadata: { ...(node.metadata?.name !== undefined ? { name: node.metadata.name } : {}) },
    ...(addresses
      ? { status: { addresses: addresses.map((a) => ({ type: a.type, address: a.address })) } }
      : {}),
  };
}

/** Most Nodes kept by the node cache; the oldest read is dropped first. */
export const NODE_CACHE_MAX = 10_000;

export interface KubeApiOptions {
  /**
   * How long readNodes reuses a Node it read (0 = never). A Node's addresses outlive many
   * EndpointSlice changes, and an EndpointSlice review otherwise reads every node its endpoints
   * run on; a missing Node is never remembered. Lists (reconcile) never use it.
   */
  nodeCacheTtlMs?: number;
}

export class KubeApi {
  private readonly nodeCache = new Map<string, { node: Node; expires: number }>();

  constructor(
    private readonly kube: KubeHandle,
    private readonly readiness?: Readiness,
    private readonly options: KubeApiOptions = {},
  ) {}

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      this.readiness?.ok('kubernetes');
      return out;
    } catch (err) {
      throw kubeError(err, what);
    }
  }

  /** Reads a value that may not exist: 404 → null, any other failure throws. */
  private async maybe<T>(what: string, fn: () => Promise<T>): Promise<T | null> {
    try {
      const out = await fn();
      this.readiness?.ok('kubernetes');
      return out;
    } catch (err) {
      if (statusOf(err) === 404) {
        this.readiness?.ok('kubernetes');
        return null;
      }
      throw kubeError(err, what);
    }
  }

  /** Follows `continue` tokens to the end; any failed page fails the whole list. */
  private async listAll<T>(
    what: string,
    page: (cont: string | undefined) => Promise<ListPage<T>>,
  ): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const res = await this.call(what, () => page(cont));
      items.push(...res.items);
      cont = res.metadata?._continue ?? res.metadata?.continue ?? undefined;
    } while (cont);
    return items;
  }

  readService(ref: ServiceRef): Promise<Service | null> {
    return this.maybe(`read service ${ref.namespace}/${ref.name}`, () =>
      this.kube.core.readNamespacedService({ name: ref.name, namespace: ref.namespace }),
    );
  }

  listEndpointSlices(ref: ServiceRef): Promise<EndpointSlice[]> {
    return this.listAll(`list endpointslices of ${ref.namespace}/${ref.name}`, (cont) =>
      this.kube.discovery.listNamespacedEndpointSlice({
        namespace: ref.namespace,
        labelSelector: `${LABEL_SERVICE_NAME}=${ref.name}`,
        limit: LIST_PAGE_SIZE,
        ...(cont ? { _continue: cont } : {}),
      }),
    );
  }

  /**
   * Reads the named nodes (missing ones are left out), a few at a time, keeping their name and
   * addresses; one read within `nodeCacheTtlMs` is reused.
   */
  async readNodes(names: Iterable<string>, concurrency = 8): Promise<Map<string, Node>> {
    const ttl = this.options.nodeCacheTtlMs ?? 0;
    const nodes = new Map<string, Node>();
    const queue: string[] = [];
    const now = Date.now();
    for (const name of new Set(names)) {
      const cached = ttl > 0 ? this.nodeCache.get(name) : undefined;
      if (cached && cached.expires > now) nodes.set(name, cached.node);
      else queue.push(name);
    }
    const worker = async (): Promise<void> => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const n = name;
        const node = await this.maybe(`read node ${n}`, () => this.kube.core.readNode({ name: n }));
        this.nodeCache.delete(n);
        if (!node) continue;
        const slim = addressesOnly(node);
        nodes.set(n, slim);
        if (ttl > 0) {
          this.nodeCache.set(n, { node: slim, expires: Date.now() + ttl });
          if (this.nodeCache.size > NODE_CACHE_MAX) {
            const oldest = this.nodeCache.keys().next().value;
            if (oldest !== undefined) this.nodeCache.delete(oldest);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    return nodes;
  }

  async namespaceUid(name: string): Promise<string> {
    const ns = await this.call(`read namespace ${name}`, () =>
      this.kube.core.readNamespace({ name }),
    );
    const uid = ns.metadata?.uid;
    if (!uid) throw kubeError(new Error(`namespace ${name} has no uid`), `read namespace ${name}`);
    return uid;
  }

  /** Every Service, of all namespaces or of the given one. */
  listAllServices(namespace?: string): Promise<Service[]> {
    const page = { limit: LIST_PAGE_SIZE };
    return this.listAll(`list services${namespace ? ` in ${namespace}` : ''}`, (cont) =>
      namespace
        ? this.kube.core.listNamespacedService({
            namespace,
            ...page,
            ...(cont ? { _continue: cont } : {}),
          })
        : this.kube.core.listServiceForAllNamespaces({
            ...page,
            ...(cont ? { _continue: cont } : {}),
          }),
    );
  }

  /** Every EndpointSlice, of all namespaces or of the given one. */
  listAllEndpointSlices(namespace?: string): Promise<EndpointSlice[]> {
    const page = { limit: LIST_PAGE_SIZE };
    return this.listAll(`list endpointslices${namespace ? ` in ${namespace}` : ''}`, (cont) =>
      namespace
        ? this.kube.discovery.listNamespacedEndpointSlice({
            namespace,
            ...page,
            ...(cont ? { _continue: cont } : {}),
          })
        : this.kube.discovery.listEndpointSliceForAllNamespaces({
            ...page,
            ...(cont ? { _continue: cont } : {}),
          }),
    );
  }

  listAllNodes(): Promise<Node[]> {
    return this.listAll('list nodes', (cont) =>
      this.kube.core.listNode({ limit: LIST_PAGE_SIZE, ...(cont ? { _continue: cont } : {}) }),
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
    return this.listAll(`list services in ${namespace}`, (cont) =>
      this.kube.core.listNamespacedService({
        namespace,
        ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
        limit: LIST_PAGE_SIZE,
        ...(options.cached && !cont ? { resourceVersion: '0' } : {}),
        ...(cont ? { _continue: cont } : {}),
      }),
    );
  }

  /** Creates a service; null when one of that name already exists (409 AlreadyExists). */
  async createService(namespace: string, body: Service): Promise<Service | null> {
    const name = body.metadata?.name ?? '';
    try {
      const out = await this.kube.core.createNamespacedService({ namespace, body: body as never });
      this.readiness?.ok('kubernetes');
      return out;
    } catch (err) {
      if (statusOf(err) === 409) return null;
      throw kubeError(err, `create service ${namespace}/${name}`);
    }
  }

  /** Replaces a service at the resourceVersion in `body` (409 on a concurrent change). */
  replaceService(namespace: string, body: Service): Promise<Service> {
    const name = body.metadata?.name ?? '';
    return this.call(`replace service ${namespace}/${name}`, () =>
      this.kube.core.replaceNamespacedService({ name, namespace, body: body as never }),
    );
  }

  /** Deletes a service only if it is still the object we looked at (uid + resourceVersion). */
  async deleteService(
    namespace: string,
    name: string,
    preconditions: { uid?: string; resourceVersion?: string },
  ): Promise<void> {
    try {
      await this.kube.core.deleteNamespacedService({
        name,
        namespace,
        body: { preconditions },
      });
      this.readiness?.ok('kubernetes');
    } catch (err) {
      if (statusOf(err) === 404) return; // already gone: the goal is reached
      throw kubeError(err, `delete service ${namespace}/${name}`);
    }
  }

  async ping(): Promise<void> {
    await this.call('read version', () => this.kube.version.getCode());
  }
}
