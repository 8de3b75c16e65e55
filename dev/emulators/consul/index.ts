// Consul HTTP API emulator: a real HTTP server on loopback that answers the catalog, health,
// txn, agent/self and status endpoints with Consul's bodies, status codes and headers, runs
// agent "services" watches with HTTP handlers, and can inject faults. Used by integration
// tests, the sandbox and the benchmarks (indexed for 50,000 registrations).
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Store, type CheckRec, type NodeRec, type ServiceRec } from './state.js';
import { ConsulHttp, CONSUL_VERSION } from './server.js';
import {
  AclTokens,
  Authorizer,
  accessorIdOf,
  type AclPolicy,
  type AclRule,
  type AclRules,
} from './acl.js';
import { Faults, type FaultInjector, type FaultRule } from '../faults.js';
import {
  WatchRunner,
  watchesFromAgentConfig,
  type WatchConfig,
  type WatchDelivery,
} from './watches.js';

export { watchesFromAgentConfig, CONSUL_VERSION, accessorIdOf };
export type { WatchConfig, WatchDelivery, FaultInjector, FaultRule, AclPolicy, AclRule, AclRules };
export { FilterError, compileFilter } from './filter.js';

export interface ConsulEmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /**
   * Turns ACLs on (default policy deny) with this as the management token. A request with a
   * token that is neither this nor one of `tokens` gets 403 "ACL not found"; a request without
   * one uses the anonymous token: reads come back empty (X-Consul-Results-Filtered-By-ACLs:
   * true), writes are denied.
   */
  token?: string;
  /**
   * Policy-scoped tokens, secret → rules (also turns ACLs on, with or without `token`). The
   * rules are Consul's JSON rules form for `service`, `service_prefix`, `node` and
   * `node_prefix`, each name mapping to `{ policy: 'read' | 'write' | 'deny' }`:
   *   { service_prefix: { web: { policy: 'read' } }, node_prefix: { '': { policy: 'read' } } }
   * Decided as Consul's policy authorizer does, default deny: an exact rule on the name wins,
   * else the longest matching prefix rule, whatever its policy (a longer `deny` beats a shorter
   * `read`); `write` implies `read`. Names match case-sensitively. Such a token has no key or
   * agent rights (KV txn ops, /v1/agent/self are denied). Reads drop what it cannot read, as
   * Consul's aclfilter does, and set X-Consul-Results-Filtered-By-ACLs when something was
   * dropped; writes it may not make are refused with Consul's "Permission denied: token with
   * AccessorID '<accessorIdOf(secret)>' lacks permission 'service:write' on \"db\"".
   */
  tokens?: Record<string, AclRules>;
  /** Default 'dc1'. */
  datacenter?: string;
  /** The emulated server agent's node; it carries service `consul`. Default 'consul-server'. */
  nodeName?: string;
  watches?: WatchConfig[];
  logger?: (line: string) => void;
  /**
   * Answer as Consul Enterprise (1.17+) with namespaces and admin partitions: `?ns=` /
   * `?partition=` (or X-Consul-Namespace / X-Consul-Partition) on the catalog, health and txn
   * endpoints, Namespace/Partition fields in bodies and responses, and the /v1/namespace(s) and
   * /v1/partition(s) endpoints. Partition `default` with its namespace `default` always exists.
   * Off by default: open-source Consul, which rejects `ns`/`partition` with 400.
   */
  enterprise?: boolean;
}

export interface CatalogSnapshot {
  nodes: NodeRec[];
  /** Every service instance, with the node it is registered on in `Node`. */
  services: ServiceRec[];
  checks: CheckRec[];
}

export interface ConsulEmulator {
  url: string;
  host: string;
  port: number;
  /** "127.0.0.1:PORT", the form of CONSUL_HTTP_ADDR. */
  address: string;
  /** Current raft index (every write, even one that changed nothing, takes one). */
  index(): number;
  /** Delivers once immediately, then whenever the services view changes. */
  addWatch(w: WatchConfig): void;
  /** Log of attempted watch deliveries. */
  deliveries: WatchDelivery[];
  faults: FaultInjector;
  /** Requests received, by kind: 'GET /v1/catalog/service/:name', 'PUT /v1/txn', ... */
  requestCounts(): Record<string, number>;
  resetRequestCounts(): void;
  /** Plain copy of the catalog, for assertions. */
  snapshot(): CatalogSnapshot;
  /** Closes the server, pending blocking queries and keep-alive sockets. */
  close(): Promise<void>;
}

function seedServerAgent(
  store: Store,
  datacenter: string,
  nodeName: string,
  nodeId: string,
  enterprise: boolean,
): void {
  const ent = enterprise ? { Partition: 'default' } : {};
  const entNs = enterprise ? { Partition: 'default', Namespace: 'default' } : {};
  store.write(() => {
    if (enterprise) {
      store.putPartition({ Name: 'default', Description: 'Builtin Default Partition' });
      store.putNamespace({
        Name: 'default',
        Description: 'Builtin Default Namespace',
        ACLs: null,
        Meta: null,
        Partition: 'default',
      });
    }
    store.ensureNode({
      ...ent,
      ID: nodeId,
      Node: nodeName,
      Address: '127.0.0.1',
      Datacenter: datacenter,
      TaggedAddresses: {
        lan: '127.0.0.1',
        lan_ipv4: '127.0.0.1',
        wan: '127.0.0.1',
        wan_ipv4: '127.0.0.1',
      },
      Meta: { 'consul-network-segment': '', 'consul-version': CONSUL_VERSION },
    });
    store.ensureService(nodeName, {
      Kind: '',
      ID: 'consul',
      Service: 'consul',
      Tags: [],
      Address: '',
      TaggedAddresses: null,
      Meta: {
        non_voter: 'false',
        raft_version: '3',
        read_replica: 'false',
        serf_protocol_current: '2',
        serf_protocol_max: '5',
        serf_protocol_min: '1',
        version: CONSUL_VERSION,
      },
      Port: 8300,
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
      ...entNs,
    });
    store.ensureCheck({
      Node: nodeName,
      CheckID: 'serfHealth',
      Name: 'Serf Health Status',
      Status: 'passing',
      Notes: '',
      Output: 'Agent alive and reachable',
      ServiceID: '',
      ServiceName: '',
      ServiceTags: null,
      Type: '',
      Interval: '',
      Timeout: '',
      ExposedPort: 0,
      Definition: {},
      ...entNs,
    });
    return { ok: true, value: null };
  });
}

export async function startConsulEmulator(
  opts: ConsulEmulatorOptions = {},
): Promise<ConsulEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const datacenter = opts.datacenter ?? 'dc1';
  const nodeName = opts.nodeName ?? 'consul-server';
  const nodeId = randomUUID();
  const log = opts.logger ?? ((): void => undefined);
  const acl = new AclTokens(opts.token, opts.tokens);
  const store = new Store(datacenter);
  const enterprise = opts.enterprise === true;
  seedServerAgent(store, datacenter, nodeName, nodeId, enterprise);

  const deliveries: WatchDelivery[] = [];
  const faults = new Faults('exact');
  const counts = new Map<string, number>();
  const watches = new WatchRunner(
    {
      view: (token) => {
        const authz =
          token === undefined || token === '' ? Authorizer.management() : acl.resolve(token);
        if (authz === undefined) return { error: 'Unexpected response code: 403 (ACL not found)' };
        const index = Math.max(1, store.servicesIndex);
        if (authz.isManagement) return { body: store.servicesViewJson(), index };
        const view = store.servicesView();
        // what /v1/catalog/services answers this token (aclfilter filterServices)
        for (const name of Object.keys(view)) {
          if (!authz.allowed('service', 'read', name)) delete view[name];
        }
        return { body: JSON.stringify(view), index };
      },
      version: () => store.viewVersion,
    },
    deliveries,
    log,
  );
  const http = new ConsulHttp({
    store,
    datacenter,
    nodeName,
    nodeId,
    acl,
    faults,
    counts,
    log,
    onCatalogChange: () => watches.notify(),
    enterprise,
  });

  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => http.handle(req, res));
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  for (const w of opts.watches ?? []) watches.add(w);

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    address: `${urlHost}:${port}`,
    index: () => store.raftIndex,
    addWatch: (w) => watches.add(w),
    deliveries,
    faults,
    requestCounts: () => Object.fromEntries(counts),
    resetRequestCounts: () => counts.clear(),
    snapshot: () => ({
      nodes: [...store.nodes.values()].map((n) => structuredClone(n)),
      services: store.allServices().map((s) => structuredClone(s)),
      checks: [...store.nodeChecks.values()].flatMap((m) =>
        [...m.values()].map((c) => structuredClone(c)),
      ),
    }),
    close: () => {
      closing ??= (async () => {
        http.releaseAll();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        await Promise.all([closed, watches.close()]);
      })();
      return closing;
    },
  };
}
