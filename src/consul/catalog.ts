// The Consul edge: reads the registrations on the sync node (one Kubernetes service's, or all of
// them for reconcile), reads the services view, and applies planned changes as /v1/txn writes.
import { EventEmitter } from 'node:events';
import type { ConsulHandle } from './client.js';
import { SyncError } from '../errors.js';
import { createLimiter } from '../concurrency.js';
import { consulError } from './errors.js';
import { packTransactions, type TxnChain, type TxnOp } from './txn.js';
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

/** Quotes a value for a Consul filter expression (go-bexpr string literal). */
export function filterString(value: string): string {
  return JSON.stringify(value);
}

function toRegistration(
  node: string,
  s: NodeService,
  checks: ReadonlyMap<string, HealthCheck>,
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
  const check = checks.get(s.ID);
  if (check) {
    reg.check = {
      checkId: check.CheckID,
      name: check.Name ?? '',
      status: (check.Status ?? 'critical') as CheckStatus,
      ...(check.Output ? { output: check.Output } : {}),
      ...(typeof check.ModifyIndex === 'number' ? { modifyIndex: check.ModifyIndex } : {}),
    };
  }
  return reg;
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

interface ReadAnswer<T> {
  body: T;
  filtered: boolean;
  index: number | undefined;
}

export interface ApplyResult {
  transactions: number;
  operations: number;
}

export interface ConsulCatalogOptions {
  nodeName: string;
  readiness?: Readiness;
  /** Transactions in flight at once during one apply (`--concurrency`). */
  concurrency: number;
}

export class ConsulCatalog {
  private readonly node: string;

  constructor(
    private readonly consul: ConsulHandle,
    private readonly options: ConsulCatalogOptions,
  ) {
    this.node = options.nodeName;
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
  ): Promise<ReadAnswer<T>> {
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
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
    const answer = await this.read<HealthCheck[] | null>('health read', (ctx) =>
      health.node({
        node: this.node,
        ...(filter ? { filter } : {}),
        ...this.consul.opts(timeoutMs),
        ctx,
      }),
    );
    const checks = new Map<string, HealthCheck>();
    for (const c of answer.body ?? []) if (c.ServiceID) checks.set(c.ServiceID, c);
    return { checks, filtered: answer.filtered };
  }

  private async readNodeServices(
    filter: string,
    timeoutMs?: number,
  ): Promise<{ services: NodeService[]; filtered: boolean }> {
    const answer = await this.read<NodeServices>('catalog read', (ctx) =>
      this.consul.client.catalog.node.services({
        node: this.node,
        filter,
        ...this.consul.opts(timeoutMs),
        ctx,
      } as never),
    );
    return { services: Object.values(answer.body?.Services ?? {}), filtered: answer.filtered };
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
      registrations: services.map((s) => toRegistration(this.node, s, none)),
      filtered,
      withChecks: async () => {
        if (services.length === 0) return { registrations: [], filtered };
        const checks = await this.readChecks(
          [...new Set(services.map((s) => s.Service))],
          timeoutMs,
        );
        return {
          registrations: services.map((s) => toRegistration(this.node, s, checks.checks)),
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
  ): Promise<RegistrationsRead> {
    const filter =
      `Node.Node == ${filterString(this.node)} and ` +
      `Service.Meta[${filterString(META_K8S_NAMESPACE)}] == ${filterString(ref.namespace)} and ` +
      `Service.Meta[${filterString(META_K8S_NAME)}] == ${filterString(ref.name)}`;
    const perName = await Promise.all(
      [...new Set(names)].map((name) =>
        this.read<HealthEntry[] | null>('health read', (ctx) =>
          this.consul.client.health.service({
            service: name,
            filter,
            ...this.consul.opts(timeoutMs),
            ctx,
          } as never),
        ),
      ),
    );
    const registrations: Registration[] = [];
    for (const answer of perName) {
      for (const entry of answer.body ?? []) {
        const checks = new Map<string, HealthCheck>();
        for (const c of entry.Checks ?? [])
          if (c.ServiceID === entry.Service.ID) checks.set(c.ServiceID, c);
        registrations.push(toRegistration(this.node, entry.Service, checks));
      }
    }
    return { registrations, filtered: perName.some((a) => a.filtered) };
  }

  /** Every Kubernetes-sourced registration on our node (any owner), with checks: two reads. */
  async readAll(timeoutMs?: number): Promise<RegistrationsRead> {
    const filter = `Meta[${filterString(META_EXTERNAL_SOURCE)}] == ${filterString(META_EXTERNAL_SOURCE_VALUE)}`;
    const [services, checks] = await Promise.all([
      this.readNodeServices(filter, timeoutMs),
      this.readChecks(undefined, timeoutMs),
    ]);
    return {
      registrations: services.services.map((s) => toRegistration(this.node, s, checks.checks)),
      filtered: services.filtered || checks.filtered,
    };
  }

  /** The services view (name → tags), as a `services` watch delivers it. */
  async readServicesView(timeoutMs?: number): Promise<ServicesViewRead> {
    const answer = await this.read<ServicesView | null>('services read', (ctx) =>
      this.consul.client.catalog.service.list({ ...this.consul.opts(timeoutMs), ctx } as never),
    );
    return { view: answer.body ?? {}, filtered: answer.filtered, index: answer.index };
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

  /** The names of the services view that match a Consul filter expression: one filtered read. */
  private async readNamesWhere(
    filter: string,
    timeoutMs?: number,
  ): Promise<{ names: Set<string>; filtered: boolean }> {
    const answer = await this.read<ServicesView | null>('services read', (ctx) =>
      this.consul.client.catalog.service.list({
        filter,
        ...this.consul.opts(timeoutMs),
        ctx,
      } as never),
    );
    return { names: new Set(Object.keys(answer.body ?? {})), filtered: answer.filtered };
  }

  /**
   * Every instance of one service with its checks and its node's (`/v1/health/service/:name`),
   * for endpoints mode: one indexed read per service.
   */
  async readHealthInstances(
    name: string,
    timeoutMs?: number,
  ): Promise<{ instances: HealthInstance[]; filtered: boolean }> {
    const answer = await this.read<FullHealthEntry[] | null>('health read', (ctx) =>
      this.consul.client.health.service({
        service: name,
        ...this.consul.opts(timeoutMs),
        ctx,
      } as never),
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

  async ping(timeoutMs = 2000): Promise<void> {
    await this.call('status read', () =>
      this.consul.client.status.leader(this.consul.opts(timeoutMs)),
    );
  }

  private async runTxn(ops: Record<string, unknown>[], timeoutMs?: number): Promise<void> {
    const txn = this.consul.client.transaction as unknown as {
      create(ops: unknown[], opts: object): Promise<unknown>;
    };
    await this.call('txn', () => txn.create(ops, this.consul.opts(timeoutMs)));
  }

  /**
   * Applies changes grouped per Kubernetes service, every transaction within the concurrency
   * bound. A service past the op limit (a chain) writes its sets in transactions that run at once
   * (each registration whole in one), then its deletes in order once every set succeeded, so it
   * never has fewer instances than it needs. Throws on the first failure after in-flight
   * transactions settle; transactions are atomic, so none is half-written, and after a failure
   * no further transaction starts (a later converge finishes the service).
   */
  async apply(
    groups: readonly (readonly RegistrationChange[])[],
    timeoutMs?: number,
    options: { ensureNode?: boolean; cas?: boolean } = {},
  ): Promise<ApplyResult> {
    const partition = this.consul.connection.partition;
    const chains = packTransactions(groups, this.node, {
      ...options,
      ...(partition ? { partition } : {}),
    });
    const result: ApplyResult = { transactions: 0, operations: 0 };
    const limit = createLimiter(this.options.concurrency);
    let failure: unknown;
    const one = (ops: TxnOp[]): Promise<void> =>
      limit(async () => {
        if (failure !== undefined) return;
        try {
          await this.runTxn(ops, timeoutMs);
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
      throw failure instanceof Error
        ? failure
        : new SyncError('CONSUL_UNAVAILABLE', 'consul txn failed');
    }
    return result;
  }
}
