// The Consul edge: reads the registrations on the sync node (one Kubernetes service's, or all of
// them for reconcile), reads the services view, and applies planned changes as /v1/txn writes.
import { EventEmitter } from 'node:events';
import type { ConsulHandle } from './client.js';
import { SyncError } from '../errors.js';
import { consulError } from './errors.js';
import { packTransactions, type TxnChain } from './txn.js';
import type { RegistrationChange } from '../plan/index.js';
import type { CheckStatus, Registration, ServiceRef, ServicesView } from '../translate/types.js';
import {
  META_EXTERNAL_SOURCE,
  META_EXTERNAL_SOURCE_VALUE,
  META_K8S_NAME,
  META_K8S_NAMESPACE,
} from '../translate/keys.js';
import type { Readiness } from '../http/readiness.js';

interface NodeService {
  ID: string;
  Service: string;
  Tags?: string[] | null;
  Address?: string;
  Port?: number;
  Meta?: Record<string, string> | null;
  Weights?: { Passing?: number; Warning?: number } | null;
}

interface HealthCheck {
  Node: string;
  CheckID: string;
  Name?: string;
  Status?: string;
  Output?: string;
  ServiceID?: string;
  ServiceName?: string;
}

/** One `/v1/health/service/:name` entry. */
interface HealthEntry {
  Service: NodeService;
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
  const check = checks.get(s.ID);
  if (check) {
    reg.check = {
      checkId: check.CheckID,
      name: check.Name ?? '',
      status: (check.Status ?? 'critical') as CheckStatus,
      ...(check.Output ? { output: check.Output } : {}),
    };
  }
  return reg;
}

export interface ApplyResult {
  transactions: number;
  operations: number;
}

export interface ConsulCatalogOptions {
  nodeName: string;
  readiness?: Readiness;
  /** Transactions in flight at once during bulk applies. */
  concurrency?: number;
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
   * with results silently filtered (X-Consul-Results-Filtered-By-ACLs). That is not "nothing
   * exists", so it fails the read (SPEC.md §6).
   */
  private async read<T>(what: string, fn: (ctx: EventEmitter) => Promise<unknown>): Promise<T> {
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
    const [res, body] = (await this.call(what, () => fn(ctx))) as [
      { headers?: Record<string, string | undefined> },
      T,
    ];
    if (res.headers?.['x-consul-results-filtered-by-acls'] === 'true') {
      throw new SyncError(
        'CONSUL_REJECTED',
        `consul ${what} was filtered by ACLs: the token cannot read everything it must (see infra/consul/acl-policy.hcl)`,
        { upstreamStatus: 403 },
      );
    }
    return body;
  }

  /** Checks on our node, keyed by ServiceID; `names` narrows the read to those services. */
  private async readChecks(
    names: readonly string[] | undefined,
    timeoutMs?: number,
  ): Promise<Map<string, HealthCheck>> {
    const filter = names?.length
      ? names.map((n) => `ServiceName == ${filterString(n)}`).join(' or ')
      : undefined;
    // The package's typings name the option `name`; its code reads `node`.
    const health = this.consul.client.health as unknown as {
      node(opts: object): Promise<HealthCheck[] | null>;
    };
    const checks = await this.read<HealthCheck[] | null>('health read', (ctx) =>
      health.node({
        node: this.node,
        ...(filter ? { filter } : {}),
        ...this.consul.opts(timeoutMs),
        ctx,
      }),
    );
    const byService = new Map<string, HealthCheck>();
    for (const c of checks ?? []) if (c.ServiceID) byService.set(c.ServiceID, c);
    return byService;
  }

  private async readNodeServices(filter: string, timeoutMs?: number): Promise<NodeService[]> {
    const out = await this.call(
      'catalog read',
      () =>
        this.consul.client.catalog.node.services({
          node: this.node,
          filter,
          ...this.consul.opts(timeoutMs),
        }) as Promise<NodeServices>,
    );
    return Object.values(out?.Services ?? {});
  }

  /**
   * Every registration on our node made from one Kubernetes service, whoever owns it (the plan
   * decides ownership), across service names, so a rename still finds the old name. Checks are
   * a second read, made only when the caller needs them (`withChecks`).
   */
  async readForService(
    ref: ServiceRef,
    timeoutMs?: number,
  ): Promise<{ registrations: Registration[]; withChecks(): Promise<Registration[]> }> {
    const filter =
      `Meta[${filterString(META_K8S_NAMESPACE)}] == ${filterString(ref.namespace)} and ` +
      `Meta[${filterString(META_K8S_NAME)}] == ${filterString(ref.name)}`;
    const services = await this.readNodeServices(filter, timeoutMs);
    const none = new Map<string, HealthCheck>();
    return {
      registrations: services.map((s) => toRegistration(this.node, s, none)),
      withChecks: async () => {
        if (services.length === 0) return [];
        const checks = await this.readChecks(
          [...new Set(services.map((s) => s.Service))],
          timeoutMs,
        );
        return services.map((s) => toRegistration(this.node, s, checks));
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
  ): Promise<Registration[]> {
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
    const out: Registration[] = [];
    for (const entries of perName) {
      for (const entry of entries ?? []) {
        const checks = new Map<string, HealthCheck>();
        for (const c of entry.Checks ?? [])
          if (c.ServiceID === entry.Service.ID) checks.set(c.ServiceID, c);
        out.push(toRegistration(this.node, entry.Service, checks));
      }
    }
    return out;
  }

  /** Every Kubernetes-sourced registration on our node (any owner), with checks: two reads. */
  async readAll(timeoutMs?: number): Promise<Registration[]> {
    const filter = `Meta[${filterString(META_EXTERNAL_SOURCE)}] == ${filterString(META_EXTERNAL_SOURCE_VALUE)}`;
    const [services, checks] = await Promise.all([
      this.readNodeServices(filter, timeoutMs),
      this.readChecks(undefined, timeoutMs),
    ]);
    return services.map((s) => toRegistration(this.node, s, checks));
  }

  /** The services view (name → tags), as a `services` watch delivers it. */
  async readServicesView(timeoutMs?: number): Promise<ServicesView> {
    const view = await this.call(
      'services read',
      () =>
        this.consul.client.catalog.service.list(
          this.consul.opts(timeoutMs),
        ) as Promise<ServicesView | null>,
    );
    return view ?? {};
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
   * Applies changes grouped per Kubernetes service. Chains (one service past the op limit) run
   * in order; independent chains run with bounded concurrency. Throws on the first failure
   * after in-flight transactions settle; transactions are atomic, so nothing is half-written.
   */
  async apply(
    groups: readonly (readonly RegistrationChange[])[],
    timeoutMs?: number,
    options: { ensureNode?: boolean } = {},
  ): Promise<ApplyResult> {
    const chains = packTransactions(groups, this.node, options);
    const result: ApplyResult = { transactions: 0, operations: 0 };
    const concurrency = this.options.concurrency ?? 8;
    let next = 0;
    let failure: unknown;
    const worker = async (): Promise<void> => {
      while (failure === undefined && next < chains.length) {
        const chain: TxnChain = chains[next++]!;
        for (const ops of chain) {
          try {
            await this.runTxn(ops, timeoutMs);
          } catch (err) {
            failure ??= err;
            return;
          }
          result.transactions++;
          result.operations += ops.length;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, chains.length) }, worker));
    if (failure !== undefined) {
      throw failure instanceof Error
        ? failure
        : new SyncError('CONSUL_UNAVAILABLE', 'consul txn failed');
    }
    return result;
  }
}
