// The Consul edge: reads the registrations on the sync node (one Kubernetes service's, or all of
// them for reconcile), reads the services view, and applies planned changes as /v1/txn writes.
import { EventEmitter } from 'node:events';
import type { ConsulHandle, NamespacedContext } from './client.js';
import { SyncError } from '../errors.js';
import { createLimiter } from '../concurrency.js';
import { consulError } from './errors.js';
import { nodeSetOp, packTransactions, type TxnChain, type TxnOp } from './txn.js';
import { TxnGroupCommit } from './txn-group.js';
import type { RegistrationChange } from '../plan/index.js';
import type {
  CheckStatus,
  HealthInstance,
  Registration,
  ServiceRef,
  ServicesView,
} from '../translate/types.js';
import {
  META_EXTERNAL_SOURCE,
  META_EXTERNAL_SOURCE_VALUE,
  META_K8S_NAME,
  META_K8S_NAMESPACE,
} from '../translate/keys.js';
import {
  DEFAULT_CONSUL_NAMESPACE,
  qualifyConsulName,
  splitConsulName,
} from '../translate/namespaces.js';
import type { Readiness } from '../telemetry/readiness.js';

interface NodeService {
  ID: string;
  Service: string;
  Tags?: string[] | null;
  Address?: string;
  Port?: number;
  Meta?: Record<string, string> | null;
  Weights?: { Passing?: number; Warning?: number } | null;
  ModifyIndex?: number;
  /** Consul Enterprise only. */
  Namespace?: string;
}

interface HealthCheck {
  Node: string;
  CheckID: string;
  Name?: string;
  Status?: string;
  Output?: string;
  ServiceID?: string;
  ServiceName?: string;
  ModifyIndex?: number;
  /** Consul Enterprise only. */
  Namespace?: string;
}

/** One `/v1/health/service/:name` entry. */
interface HealthEntry {
  Service: NodeService;
  Checks?: HealthCheck[] | null;
}

/** One `/v1/health/service/:name` entry with its node. */
interface FullHealthEntry {
  Node?: { Node?: string; Address?: string } | null;
  Service?: NodeService | null;
  Checks?: HealthCheck[] | null;
}

/** `/v1/catalog/node/:node` answer: null when the node does not exist. */
type NodeServices = { Node?: unknown; Services?: Record<string, NodeService> | null } | null;

/** `/v1/catalog/node-services/:node` answer (Services null when the node does not exist). */
type NodeServiceList = { Node?: unknown; Services?: NodeService[] | null } | null;

/** `/v1/namespaces` entry (Consul Enterprise). */
interface NamespaceEntry {
  Name: string;
  DeletedAt?: string;
}

/** Checks keyed by namespace and ServiceID (the namespace '' when namespaces are off). */
function checkKey(namespace: string | undefined, serviceId: string): string {
  return `${namespace ?? ''}\u0000${serviceId}`;
}

/** Quotes a value for a Consul filter expression (go-bexpr string literal). */
export function filterString(value: string): string {
  return JSON.stringify(value);
}

function toRegistration(
  node: string,
  s: NodeService,
  checks: ReadonlyMap<string, HealthCheck>,
  /** The instance's Consul namespace as registrations carry it (ConsulCatalog.nsOf). */
  namespace: string | undefined,
): Registration {
  const reg: Registration = {
    node,
    id: s.ID,
    service: s.Service,
    address: s.Address ?? '',
    port: s.Port ?? 0,
    tags: s.Tags ?? [],
    meta: s.Meta ?? {},
    weights: { passing: s.Weights?.Passing ?? 1, warning: s.Weights?.Warning ?? 1 },
  };
  if (typeof s.ModifyIndex === 'number') reg.modifyIndex = s.ModifyIndex;
  if (namespace !== undefined) reg.namespace = namespace;
  const check = checks.get(checkKey(namespace, s.ID));
  if (check) reg.check = toCheck(check);
  return reg;
}

function toCheck(check: HealthCheck): NonNullable<Registration['check']> {
  return {
    checkId: check.CheckID,
    name: check.Name ?? '',
    status: (check.Status ?? 'critical') as CheckStatus,
    ...(check.Output ? { output: check.Output } : {}),
    ...(typeof check.ModifyIndex === 'number' ? { modifyIndex: check.ModifyIndex } : {}),
  };
}

/**
 * What a read of registrations found. `filtered`: Consul hid part of the answer from our token
 * (X-Consul-Results-Filtered-By-ACLs), so what is missing may still exist: never a reason to
 * delete (docs/reference.md "Ownership and safety").
 */
export interface RegistrationsRead {
  registrations: Registration[];
  filtered: boolean;
}

/** The services view with the same completeness flag and the raft index it was read at. */
export interface ServicesViewRead {
  view: ServicesView;
  filtered: boolean;
  index: number | undefined;
}

/** A blocking query's parameters: Consul answers once its index passes `index`, or after `waitMs`. */
export interface BlockingRead {
  index: number;
  waitMs: number;
}

interface ReadAnswer<T> {
  body: T;
  filtered: boolean;
  index: number | undefined;
}

export interface ApplyResult {
  transactions: number;
  operations: number;
  /** Groups not written because their Consul namespace could not be created (empty without). */
  skipped: SkippedNamespace[];
  /**
   * What Consul answered for the services and checks written, as stored (their ModifyIndex
   * included), keyed by namespace and ID (`written`'s keys: see `registrationsAfter`). A
   * transaction's results can hold other services' too (the group commit).
   */
  written: TxnWritten;
}

/** `/v1/txn` results: one per op that returns something (a set, never a delete). */
interface TxnResult {
  Node?: unknown;
  Service?: NodeService | null;
  Check?: HealthCheck | null;
}

/** Services and checks a transaction wrote, as Consul stored them. */
export interface TxnWritten {
  services: Map<string, NodeService>;
  checks: Map<string, HealthCheck>;
}

export interface ConsulCatalogOptions {
  nodeName: string;
  readiness?: Readiness;
  /** Transactions in flight at once during one apply (`--concurrency`). */
  concurrency: number;
  /**
   * --enable-namespaces (Consul Enterprise): reads span every namespace (`ns=*`), registrations
   * name theirs, and a namespace written to is created first when missing (never deleted), with
   * the cross-namespace policy as its default (docs/reference.md "Consul namespaces").
   */
  namespaces?: { crossNamespaceAclPolicy?: string };
  /** Told the number of services of each event-path transaction sent (group commit). */
  onTransaction?: (services: number) => void;
}

/** What `apply` left out: the changes of services whose Consul namespace could not be created. */
export interface SkippedNamespace {
  namespace: string;
  error: unknown;
  changes: RegistrationChange[];
}

/** A namespace created (or found) is taken as present for this long before it is looked up again. */
const NAMESPACE_KNOWN_MS = 5 * 60_000;

export class ConsulCatalog {
  private readonly node: string;
  private readonly namespaces: boolean;
  /** Namespaces known to exist, with when that was last confirmed. */
  private readonly knownNamespaces = new Map<string, number>();
  /**
   * The event path's one-transaction writes, grouped while one is in flight; full transactions
   * beside it up to `concurrency` (txn-group.ts).
   */
  private readonly group: TxnGroupCommit<TxnResult[]>;

  constructor(
    private readonly consul: ConsulHandle,
    private readonly options: ConsulCatalogOptions,
  ) {
    this.node = options.nodeName;
    this.namespaces = options.namespaces !== undefined;
    this.group = new TxnGroupCommit({
      run: (ops, timeoutMs) => this.runTxn(ops, timeoutMs),
      lead: nodeSetOp(this.node, consul.connection.partition),
      maxInFlight: options.concurrency,
      ...(options.onTransaction ? { onSend: options.onTransaction } : {}),
    });
  }

  /** Whether reads span Consul namespaces and names in views are qualified (--enable-namespaces). */
  get namespacesEnabled(): boolean {
    return this.namespaces;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      this.options.readiness?.ok('consul');
      return out;
    } catch (err) {
      throw consulError(err, what);
    }
  }

  /**
   * A read whose completeness we can check: with a token lacking read rights Consul answers 200
   * with results silently filtered (X-Consul-Results-Filtered-By-ACLs). The caller decides what
   * a partial answer may still be used for (creates and updates, never deletions).
   */
  private async read<T>(
    what: string,
    fn: (ctx: EventEmitter) => Promise<unknown>,
    namespace?: string,
  ): Promise<ReadAnswer<T>> {
    const ctx: NamespacedContext = Object.assign(new EventEmitter(), {
      includeResponse: true,
      ...(this.namespaces && namespace !== undefined ? { consulNamespace: namespace } : {}),
    });
    const [res, body] = (await this.call(what, () => fn(ctx))) as [
      { headers?: Record<string, string | undefined> },
      T,
    ];
    const index = Number(res.headers?.['x-consul-index']);
    return {
      body,
      filtered: res.headers?.['x-consul-results-filtered-by-acls'] === 'true',
      index: Number.isSafeInteger(index) && index > 0 ? index : undefined,
    };
  }

  /** Checks on our node, keyed by ServiceID; `names` narrows the read to those services. */
  private async readChecks(
    names: readonly string[] | undefined,
    timeoutMs?: number,
  ): Promise<{ checks: Map<string, HealthCheck>; filtered: boolean }> {
    const filter = names?.length
      ? names.map((n) => `ServiceName == ${filterString(n)}`).join(' or ')
      : undefined;
    // The package's typings name the option `name`; its code reads `node`.
    const health = this.consul.client.health as unknown as {
      node(opts: object): Promise<HealthCheck[] | null>;
    };
    const answer = await this.read<HealthCheck[] | null>(
      'health read',
      (ctx) =>
        health.node({
          node: this.node,
          ...(filter ? { filter } : {}),
          ...this.consul.opts(timeoutMs),
          ctx,
        }),
      '*',
    );
    const checks = new Map<string, HealthCheck>();
    for (const c of answer.body ?? [])
      if (c.ServiceID) checks.set(checkKey(this.nsOf(c.Namespace), c.ServiceID), c);
    return { checks, filtered: answer.filtered };
  }

  /**
   * A service name of a view as a read takes it: with namespaces the name is qualified
   * (translate/namespaces.ts) and read in its namespace; without, as it is.
   */
  private located(name: string): { name: string; namespace: string | undefined } {
    return this.namespaces ? splitConsulName(name) : { name, namespace: undefined };
  }

  /** A read object's namespace as registrations carry it: undefined when namespaces are off. */
  private nsOf(namespace: string | undefined): string | undefined {
    return this.namespaces ? (namespace ?? DEFAULT_CONSUL_NAMESPACE) : undefined;
  }

  private async readNodeServices(
    filter: string,
    timeoutMs?: number,
    block?: BlockingRead,
  ): Promise<{ services: NodeService[]; filtered: boolean; index: number | undefined }> {
    const blocking: Record<string, string> = block
      ? { index: String(block.index), wait: `${Math.ceil(block.waitMs / 1000)}s` }
      : {};
    if (this.namespaces) {
      // Every namespace at once: the node-services list keeps instances of one ID in two
      // namespaces apart, where /catalog/node's map (keyed by ID) would merge them.
      const answer = await this.read<NodeServiceList>('catalog read', (ctx) =>
        this.consul.request({
          method: 'GET',
          path: '/catalog/node-services/{node}',
          params: { node: this.node },
          query: { filter, ns: '*', ...blocking },
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
          ctx,
        }),
      );
      return {
        services: answer.body?.Services ?? [],
        filtered: answer.filtered,
        index: answer.index,
      };
    }
    const answer = await this.read<NodeServices>('catalog read', (ctx) =>
      this.consul.client.catalog.node.services({
        node: this.node,
        filter,
        ...blocking,
        ...this.consul.opts(timeoutMs),
        ctx,
      } as never),
    );
    return {
      services: Object.values(answer.body?.Services ?? {}),
      filtered: answer.filtered,
      index: answer.index,
    };
  }

  /**
   * Every registration on our node made from one Kubernetes service, whoever owns it (the plan
   * decides ownership), across service names, so a rename still finds the old name. Checks are
   * a second read, made only when the caller needs them (`withChecks`).
   */
  async readForService(
    ref: ServiceRef,
    timeoutMs?: number,
  ): Promise<RegistrationsRead & { withChecks(): Promise<RegistrationsRead> }> {
    const filter =
      `Meta[${filterString(META_K8S_NAMESPACE)}] == ${filterString(ref.namespace)} and ` +
      `Meta[${filterString(META_K8S_NAME)}] == ${filterString(ref.name)}`;
    const { services, filtered } = await this.readNodeServices(filter, timeoutMs);
    const none = new Map<string, HealthCheck>();
    return {
      registrations: services.map((s) =>
        toRegistration(this.node, s, none, this.nsOf(s.Namespace)),
      ),
      filtered,
      withChecks: async () => {
        if (services.length === 0) return { registrations: [], filtered };
        const checks = await this.readChecks(
          [...new Set(services.map((s) => s.Service))],
          timeoutMs,
        );
        return {
          registrations: services.map((s) =>
            toRegistration(this.node, s, checks.checks, this.nsOf(s.Namespace)),
          ),
          filtered: filtered || checks.filtered,
        };
      },
    };
  }

  /**
   * The registrations on our node made from one Kubernetes service under the given Consul
   * names, with their checks: one indexed read per name (`/v1/health/service/:name`), instead
   * of a scan of the whole node. The event path uses it when it knows every name that can hold
   * the service's instances (the current and the previous name of an admission review).
   */
  async readForServiceByNames(
    ref: ServiceRef,
    names: readonly string[],
    timeoutMs?: number,
    namespace?: string,
  ): Promise<RegistrationsRead> {
    const filter =
      `Node.Node == ${filterString(this.node)} and ` +
      `Service.Meta[${filterString(META_K8S_NAMESPACE)}] == ${filterString(ref.namespace)} and ` +
      `Service.Meta[${filterString(META_K8S_NAME)}] == ${filterString(ref.name)}`;
    const perName = await Promise.all(
      [...new Set(names)].map((name) =>
        this.read<HealthEntry[] | null>(
          'health read',
          (ctx) =>
            this.consul.client.health.service({
              service: name,
              filter,
              ...this.consul.opts(timeoutMs),
              ctx,
            } as never),
          namespace,
        ),
      ),
    );
    const registrations: Registration[] = [];
    for (const answer of perName) {
      for (const entry of answer.body ?? []) {
        const checks = new Map<string, HealthCheck>();
        const ns = this.nsOf(entry.Service.Namespace);
        for (const c of entry.Checks ?? [])
          if (c.ServiceID === entry.Service.ID) checks.set(checkKey(ns, c.ServiceID), c);
        registrations.push(toRegistration(this.node, entry.Service, checks, ns));
      }
    }
    return { registrations, filtered: perName.some((a) => a.filtered) };
  }

  /**
   * Every Kubernetes-sourced registration on our node (any owner), with checks: two reads. With
   * `block`, the services' read is a blocking query (it answers once the catalog's index passes
   * `block.index`, or after `block.waitMs`) and the checks are read after it; `index` is the
   * services' read's.
   */
  async readAll(
    timeoutMs?: number,
    block?: BlockingRead,
  ): Promise<RegistrationsRead & { index: number | undefined }> {
    const filter = `Meta[${filterString(META_EXTERNAL_SOURCE)}] == ${filterString(META_EXTERNAL_SOURCE_VALUE)}`;
    const [services, checks] = block
      ? [
          await this.readNodeServices(filter, timeoutMs, block),
          await this.readChecks(undefined, timeoutMs),
        ]
      : await Promise.all([
          this.readNodeServices(filter, timeoutMs),
          this.readChecks(undefined, timeoutMs),
        ]);
    return {
      index: services.index,
      registrations: services.services.map((s) =>
        toRegistration(this.node, s, checks.checks, this.nsOf(s.Namespace)),
      ),
      filtered: services.filtered || checks.filtered,
    };
  }

  /**
   * The services view (name → tags), as a `services` watch delivers it. With namespaces, every
   * namespace's, the names qualified (`<namespace>/<name>` outside `default`).
   */
  async readServicesView(timeoutMs?: number): Promise<ServicesViewRead> {
    return this.readViewWhere(undefined, timeoutMs);
  }

  /**
   * The services view, filtered: one read, or with namespaces the namespaces' list and one read
   * per namespace, merged under qualified names (the newest index of them).
   */
  private async readViewWhere(
    filter: string | undefined,
    timeoutMs?: number,
  ): Promise<ServicesViewRead> {
    const one = (namespace?: string): Promise<ReadAnswer<ServicesView | null>> =>
      this.read<ServicesView | null>(
        'services read',
        (ctx) =>
          this.consul.client.catalog.service.list({
            ...(filter !== undefined ? { filter } : {}),
            ...this.consul.opts(timeoutMs),
            ctx,
          } as never),
        namespace,
      );
    if (!this.namespaces) {
      const answer = await one();
      return { view: answer.body ?? {}, filtered: answer.filtered, index: answer.index };
    }
    const listed = await this.listNamespaces(timeoutMs);
    const answers = await Promise.all(listed.names.map((ns) => one(ns)));
    const view: ServicesView = {};
    let index: number | undefined;
    let filtered = listed.filtered;
    answers.forEach((answer, i) => {
      const ns = listed.names[i]!;
      for (const [name, tags] of Object.entries(answer.body ?? {}))
        view[qualifyConsulName(ns, name)] = tags;
      filtered ||= answer.filtered;
      if (answer.index !== undefined) index = Math.max(index ?? 0, answer.index);
    });
    return { view, filtered, index };
  }

  /** The namespaces of the partition (`/v1/namespaces`), without those being deleted. */
  async listNamespaces(timeoutMs?: number): Promise<{ names: string[]; filtered: boolean }> {
    const answer = await this.read<NamespaceEntry[] | null>('namespaces read', (ctx) =>
      this.consul.request({
        method: 'GET',
        path: '/namespaces',
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ctx,
      }),
    );
    const names = (answer.body ?? []).filter((n) => !n.DeletedAt).map((n) => n.Name);
    return { names, filtered: answer.filtered };
  }

  /**
   * Names of services with at least one instance without the k8s tag (not registered from
   * Kubernetes): one filtered read of the services view.
   */
  async readNamesWithoutTag(
    tag: string,
    timeoutMs?: number,
  ): Promise<{ names: Set<string>; filtered: boolean }> {
    return this.readNamesWhere(`${filterString(tag)} not in ServiceTags`, timeoutMs);
  }

  /** The names of the services view that match a Consul filter expression (qualified with namespaces). */
  private async readNamesWhere(
    filter: string,
    timeoutMs?: number,
  ): Promise<{ names: Set<string>; filtered: boolean }> {
    const answer = await this.readViewWhere(filter, timeoutMs);
    return { names: new Set(Object.keys(answer.view)), filtered: answer.filtered };
  }

  /**
   * Every instance of one service with its checks and its node's (`/v1/health/service/:name`),
   * for endpoints mode: one indexed read per service.
   */
  async readHealthInstances(
    name: string,
    timeoutMs?: number,
  ): Promise<{ instances: HealthInstance[]; filtered: boolean }> {
    // With namespaces the name is qualified: read it in its namespace.
    const target = this.located(name);
    const answer = await this.read<FullHealthEntry[] | null>(
      'health read',
      (ctx) =>
        this.consul.client.health.service({
          service: target.name,
          ...this.consul.opts(timeoutMs),
          ctx,
        } as never),
      target.namespace,
    );
    const instances: HealthInstance[] = [];
    for (const entry of answer.body ?? []) {
      const s = entry.Service;
      if (!s) continue;
      instances.push({
        node: entry.Node?.Node ?? '',
        nodeAddress: entry.Node?.Address ?? '',
        serviceId: s.ID,
        serviceAddress: s.Address ?? '',
        port: s.Port ?? 0,
        tags: s.Tags ?? [],
        meta: s.Meta ?? {},
        checks: (entry.Checks ?? []).map((c) => ({
          checkId: c.CheckID,
          serviceId: c.ServiceID ?? '',
          status: c.Status ?? 'critical',
        })),
      });
    }
    return { instances, filtered: answer.filtered };
  }

  /**
   * Names of services with an instance whose meta `key` is `value`: one filtered read of the
   * services view (per-service control: meta k8s-sync, k8s-sync-mode).
   */
  async readNamesWithMeta(
    key: string,
    value: string,
    timeoutMs?: number,
  ): Promise<{ names: Set<string>; filtered: boolean }> {
    return this.readNamesWhere(
      `ServiceMeta[${filterString(key)}] == ${filterString(value)}`,
      timeoutMs,
    );
  }

  /**
   * The meta of every instance of one service (`/v1/catalog/service/:name`): one indexed read,
   * for the per-service control of a few names (meta k8s-sync, k8s-sync-mode) instead of three
   * filtered reads of the whole view. With namespaces the name is qualified.
   */
  async readServiceMetas(
    name: string,
    timeoutMs?: number,
  ): Promise<{ metas: Record<string, string>[]; filtered: boolean }> {
    const target = this.located(name);
    const answer = await this.read<{ ServiceMeta?: Record<string, string> | null }[] | null>(
      'catalog read',
      (ctx) =>
        this.consul.client.catalog.service.nodes({
          service: target.name,
          ...this.consul.opts(timeoutMs),
          ctx,
        } as never),
      target.namespace,
    );
    return {
      metas: (answer.body ?? []).map((n) => n.ServiceMeta ?? {}),
      filtered: answer.filtered,
    };
  }

  async ping(timeoutMs = 2000): Promise<void> {
    await this.call('status read', () =>
      this.consul.client.status.leader(this.consul.opts(timeoutMs)),
    );
  }

  private async runTxn(ops: Record<string, unknown>[], timeoutMs?: number): Promise<TxnResult[]> {
    const txn = this.consul.client.transaction as unknown as {
      create(ops: unknown[], opts: object): Promise<{ Results?: TxnResult[] | null } | null>;
    };
    const body = await this.call('txn', () => txn.create(ops, this.consul.opts(timeoutMs)));
    return Array.isArray(body?.Results) ? body.Results : [];
  }

  /** Adds a transaction's results to `written` (keys as `registrationsAfter` looks them up). */
  private collect(written: TxnWritten, results: readonly TxnResult[]): void {
    for (const r of results) {
      const s = r?.Service;
      if (s && typeof s.ID === 'string')
        written.services.set(checkKey(this.nsOf(s.Namespace), s.ID), s);
      const c = r?.Check;
      if (c && typeof c.CheckID === 'string')
        written.checks.set(checkKey(this.nsOf(c.Namespace), c.CheckID), c);
    }
  }

  /**
   * What Consul holds for one Kubernetes service after `changes` were applied to `current`,
   * from the transaction's results: undefined when a result is missing (a token that may write
   * but not read, say), so the caller reads again instead of guessing an index.
   */
  registrationsAfter(
    current: readonly Registration[],
    changes: readonly RegistrationChange[],
    applied: ApplyResult,
  ): Registration[] | undefined {
    const key = (r: Registration): string => checkKey(r.namespace, r.id);
    const after = new Map(current.map((r) => [key(r), r]));
    for (const change of changes) {
      const k = key(change.registration);
      if (change.op === 'delete') {
        after.delete(k);
        continue;
      }
      const before = change.previous;
      let next: Registration;
      if (change.writeService) {
        const stored = applied.written.services.get(k);
        if (!stored) return undefined;
        next = toRegistration(this.node, stored, new Map(), this.nsOf(stored.Namespace));
        if (before?.check) next.check = before.check;
      } else if (before) {
        next = { ...before };
      } else {
        return undefined;
      }
      if (change.writeCheck === 'set' && change.registration.check) {
        const ns = change.registration.namespace;
        const stored = applied.written.checks.get(checkKey(ns, change.registration.check.checkId));
        if (!stored) return undefined;
        next.check = toCheck(stored);
      } else if (change.writeCheck === 'delete') {
        delete next.check;
      }
      after.set(k, next);
    }
    return [...after.values()];
  }

  /**
   * Applies changes grouped per Kubernetes service, every transaction within the concurrency
   * bound. A service past the op limit (a chain) writes its sets in transactions that run at once
   * (each registration whole in one), then its deletes in order once every set succeeded, so it
   * never has fewer instances than it needs. Throws on the first failure after in-flight
   * transactions settle; transactions are atomic, so none is half-written, and after a failure
   * no further transaction starts (a later converge finishes the service). Changes that fit one
   * transaction which starts with the node's `set` (an event's, `ensureNode`) go out through the
   * group commit: with other services' writes when one is already in flight.
   */
  async apply(
    groups: readonly (readonly RegistrationChange[])[],
    timeoutMs?: number,
    options: { ensureNode?: boolean; cas?: boolean } = {},
  ): Promise<ApplyResult> {
    const { writable, skipped } = await this.withNamespaces(groups, timeoutMs);
    const partition = this.consul.connection.partition;
    const chains = packTransactions(writable, this.node, {
      ...options,
      ...(partition ? { partition } : {}),
    });
    const written: TxnWritten = { services: new Map(), checks: new Map() };
    const result: ApplyResult = { transactions: 0, operations: 0, skipped, written };
    const [only, ...others] = chains;
    const ops = only?.ordered.length === 0 && only.sets.length === 1 ? only.sets[0]! : undefined;
    if (ops && others.length === 0 && (options.ensureNode ?? true)) {
      try {
        // packTransactions put the node's `set` first; the group adds it once per transaction.
        this.collect(written, await this.group.submit(ops.slice(1), timeoutMs));
      } catch (err) {
        this.knownNamespaces.clear();
        throw err;
      }
      return { transactions: 1, operations: ops.length, skipped, written };
    }
    const limit = createLimiter(this.options.concurrency);
    let failure: unknown;
    const one = (ops: TxnOp[]): Promise<void> =>
      limit(async () => {
        if (failure !== undefined) return;
        try {
          this.collect(written, await this.runTxn(ops, timeoutMs));
        } catch (err) {
          failure ??= err;
          return;
        }
        result.transactions++;
        result.operations += ops.length;
      });
    const run = async (chain: TxnChain): Promise<void> => {
      await Promise.all(chain.sets.map(one));
      for (const ops of chain.ordered) {
        if (failure !== undefined) return;
        await one(ops);
      }
    };
    await Promise.all(chains.map(run));
    if (failure !== undefined) {
      // A namespace deleted by hand fails the write: look the namespaces up again next time.
      this.knownNamespaces.clear();
      throw failure instanceof Error
        ? failure
        : new SyncError('CONSUL_UNAVAILABLE', 'consul txn failed');
    }
    return result;
  }

  /**
   * The groups whose every Consul namespace exists or was just created, and the others (a
   * service is written whole or not at all: its old instances stay until its namespace exists).
   */
  private async withNamespaces(
    groups: readonly (readonly RegistrationChange[])[],
    timeoutMs?: number,
  ): Promise<{ writable: (readonly RegistrationChange[])[]; skipped: SkippedNamespace[] }> {
    const all = { writable: [...groups], skipped: [] };
    if (!this.namespaces) return all;
    const namespaceOf = (c: RegistrationChange): string | undefined =>
      c.op === 'delete' ? undefined : c.registration.namespace;
    const wanted = new Set<string>();
    for (const group of groups)
      for (const c of group) {
        const ns = namespaceOf(c);
        if (ns !== undefined) wanted.add(ns);
      }
    if (wanted.size === 0) return all;
    const failed = await this.ensureNamespaces(wanted, timeoutMs);
    if (failed.size === 0) return all;
    const writable: (readonly RegistrationChange[])[] = [];
    const skipped: SkippedNamespace[] = [];
    for (const group of groups) {
      const missing = group.map(namespaceOf).find((ns) => ns !== undefined && failed.has(ns));
      if (missing === undefined) writable.push(group);
      else skipped.push({ namespace: missing, error: failed.get(missing), changes: [...group] });
    }
    return { writable, skipped };
  }

  /**
   * Makes sure each Consul namespace exists: looked up (`GET /v1/namespace/:name`) unless seen in
   * the last minutes, created when missing (`PUT /v1/namespace`) with `Meta {external-source:
   * kubernetes}` and the cross-namespace policy as `ACLs.PolicyDefaults`, as consul-k8s creates
   * them. Never deletes one. Answers the namespaces that could not be made, with why.
   */
  async ensureNamespaces(
    names: Iterable<string>,
    timeoutMs?: number,
  ): Promise<Map<string, unknown>> {
    const failed = new Map<string, unknown>();
    const now = Date.now();
    const needed = [...new Set(names)].filter(
      (n) => now - (this.knownNamespaces.get(n) ?? -Infinity) >= NAMESPACE_KNOWN_MS,
    );
    await Promise.all(
      needed.map(async (name) => {
        try {
          if (!(await this.namespaceExists(name, timeoutMs))) {
            try {
              await this.createNamespace(name, timeoutMs);
            } catch (err) {
              // Another replica may have created it meanwhile.
              if (!(await this.namespaceExists(name, timeoutMs))) throw err;
            }
          }
          this.knownNamespaces.set(name, Date.now());
        } catch (err) {
          failed.set(name, err);
        }
      }),
    );
    return failed;
  }

  private async namespaceExists(name: string, timeoutMs?: number): Promise<boolean> {
    try {
      const found = await this.consul.request<NamespaceEntry | null>({
        method: 'GET',
        path: '/namespace/{name}',
        params: { name },
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      });
      return found !== null && found !== undefined && !found.DeletedAt;
    } catch (err) {
      if ((err as { statusCode?: unknown } | null)?.statusCode === 404) return false;
      throw consulError(err, 'namespace read');
    }
  }

  private async createNamespace(name: string, timeoutMs?: number): Promise<void> {
    const policy = this.options.namespaces?.crossNamespaceAclPolicy;
    await this.call('namespace create', () =>
      this.consul.request({
        method: 'PUT',
        path: '/namespace',
        body: {
          Name: name,
          Description: 'Created by k8s-consul-sync for services synced from Kubernetes',
          Meta: { [META_EXTERNAL_SOURCE]: META_EXTERNAL_SOURCE_VALUE },
          ...(policy ? { ACLs: { PolicyDefaults: [{ Name: policy }] } } : {}),
        },
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      }),
    );
  }
}
