// The emulator's catalog: nodes, services, checks and a small KV store, indexed the way the
// endpoints read them (by node, by service name, by status) so no request scans the whole catalog
// unless Consul itself would. Writes run inside a transaction with an undo log: Consul's txn
// endpoint is all-or-nothing, and a rolled-back write must leave no trace.

export interface Weights {
  Passing: number;
  Warning: number;
}

export interface ServiceAddress {
  Address: string;
  Port: number;
}

export interface NodeRec {
  ID: string;
  Node: string;
  Address: string;
  Datacenter: string;
  /** Enterprise only (absent in open-source mode). */
  Partition?: string;
  TaggedAddresses: Record<string, string> | null;
  Meta: Record<string, string> | null;
  CreateIndex: number;
  ModifyIndex: number;
}

/** Enterprise namespace/partition of a service or check; both absent in open-source mode. */
export interface EntMeta {
  Namespace?: string;
  Partition?: string;
}

/** Where a lookup runs: a partition and a namespace ('*' for every namespace where allowed). */
export interface Scope {
  ap: string;
  ns: string;
}

export const DEFAULT_SCOPE: Scope = { ap: 'default', ns: 'default' };

export interface NamespaceRec {
  Name: string;
  Description: string;
  ACLs: { PolicyDefaults: AclLink[]; RoleDefaults: AclLink[] } | null;
  Meta: Record<string, string> | null;
  Partition: string;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface AclLink {
  ID: string;
  Name: string;
}

export interface PartitionRec {
  Name: string;
  Description: string;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface ServiceRec extends EntMeta {
  Node: string;
  Kind: string;
  ID: string;
  Service: string;
  Tags: string[] | null;
  Address: string;
  TaggedAddresses: Record<string, ServiceAddress> | null;
  Meta: Record<string, string> | null;
  Port: number;
  Weights: Weights;
  EnableTagOverride: boolean;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface CheckRec extends EntMeta {
  Node: string;
  CheckID: string;
  Name: string;
  Status: string;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[] | null;
  Type: string;
  Interval: string;
  Timeout: string;
  ExposedPort: number;
  Definition: Record<string, unknown>;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface KVRec {
  Key: string;
  Flags: number;
  Value: string | null;
  Session?: string;
  LockIndex: number;
  CreateIndex: number;
  ModifyIndex: number;
}

/** Input shapes (already decoded, defaults not yet applied). */
export type NodeInput = Omit<NodeRec, 'CreateIndex' | 'ModifyIndex'>;
export interface ServiceInput extends Omit<
  ServiceRec,
  'Node' | 'CreateIndex' | 'ModifyIndex' | 'Weights'
> {
  Weights: Weights | null;
}
export type CheckInput = Omit<CheckRec, 'CreateIndex' | 'ModifyIndex'>;

const META_MAX_PAIRS = 64;
const META_KEY_MAX = 128;
const META_VALUE_MAX = 512;
const META_KEY_FORMAT = /^[a-zA-Z0-9_-]+$/;

/** structs.ValidateServiceMetadata (the message says "Node metadata" in Consul too). */
export function validateMeta(meta: Record<string, string> | null): string | null {
  if (meta === null) return null;
  const entries = Object.entries(meta);
  if (entries.length > META_MAX_PAIRS) {
    return `Node metadata cannot contain more than ${META_MAX_PAIRS} key/value pairs`;
  }
  for (const [key, value] of entries) {
    let err: string | null = null;
    if (key === '') err = 'Key cannot be blank';
    else if (!META_KEY_FORMAT.test(key)) err = 'Key contains invalid characters';
    else if (key.length > META_KEY_MAX) err = `Key is too long (limit: ${META_KEY_MAX} characters)`;
    else if (key.startsWith('consul-')) err = "Key prefix 'consul-' is reserved for internal use";
    else if (Buffer.byteLength(value) > META_VALUE_MAX) {
      err = `Value is too long (limit: ${META_VALUE_MAX} characters)`;
    }
    if (err !== null) return `Couldn't load metadata pair ('${key}', '${value}'): ${err}`;
  }
  return null;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
      return false;
  }
  return true;
}

const lower = (s: string): string => s.toLowerCase();
/** memdb indexes node names, service IDs and check IDs case-insensitively. */
const apOf = (r: { Partition?: string }): string => r.Partition ?? 'default';
const nsOf = (r: { Namespace?: string }): string => r.Namespace ?? 'default';
/** Nodes are unique per partition. */
const nodeKey = (ap: string, node: string): string => `${ap}\u0000${lower(node)}`;
/** Service and check IDs are unique per (node, namespace). */
const innerKey = (ns: string, id: string): string => `${ns}\u0000${lower(id)}`;
const svcKey = (ap: string, ns: string, node: string, id: string): string =>
  `${ap}\u0000${ns}\u0000${lower(node)}\u0000${lower(id)}`;
/** Service names are unique per (partition, namespace). */
const nameKey = (ap: string, ns: string, name: string): string =>
  `${ap}\u0000${ns}\u0000${lower(name)}`;
const viewKey = (ap: string, ns: string, name: string): string => `${ap}\u0000${ns}\u0000${name}`;
const scopeOf = (r: EntMeta): Scope => ({ ap: apOf(r), ns: nsOf(r) });
const inNs = (ns: string, r: EntMeta): boolean => ns === '*' || nsOf(r) === ns;

interface TxState {
  idx: number;
  undo: (() => void)[];
  touchedNames: Set<string>;
  nodes: boolean;
  services: boolean;
  checks: boolean;
  catalog: boolean;
  kv: boolean;
}

export interface CommitInfo {
  index: number;
  catalogChanged: boolean;
  kvChanged: boolean;
}

export class Store {
  raftIndex = 1;
  catalogIndex = 1;
  nodesIndex = 1;
  servicesIndex = 1;
  checksIndex = 1;
  kvIndex = 1;
  extinctionIndex = 0;
  /** Index of the last namespace or partition write. */
  tenancyIndex = 1;
  /** Bumped whenever the name→tags services view may have changed. */
  viewVersion = 0;

  /** nodeKey(partition, node) → record */
  readonly nodes = new Map<string, NodeRec>();
  /** nodeKey → innerKey(namespace, service ID) → record */
  readonly nodeServices = new Map<string, Map<string, ServiceRec>>();
  /** nameKey(partition, namespace, name) → svcKey → record */
  readonly byName = new Map<string, Map<string, ServiceRec>>();
  /** nameKey → last index that touched it */
  readonly serviceIndex = new Map<string, number>();
  /** viewKey(partition, namespace, exact name) → instance count, and → tag → count */
  readonly nameCounts = new Map<string, number>();
  readonly tagCounts = new Map<string, Map<string, number>>();
  /**
   * The unfiltered services view kept in order (every viewKey with its sorted tags), brought up
   * to date from tagCounts for the keys touched since (viewDirty): a watch reads the view after
   * every change, and rebuilding and sorting the whole catalog each time made the emulator's cost
   * per change grow with the catalog far beyond a Consul server's.
   */
  private readonly viewKeys: string[] = [];
  private readonly viewTags = new Map<string, string[]>();
  /**
   * Beside viewKeys, each key's `"name":["tag",...]`, for the watch's body: a namespace's body
   * is one join of a slice (iterating keys and looking each up took 4 ms at 15,000 names).
   */
  private readonly viewParts: string[] = [];
  private readonly viewDirty = new Set<string>();
  /** nodeKey → innerKey(namespace, check ID) → record */
  readonly nodeChecks = new Map<string, Map<string, CheckRec>>();
  readonly nodeLevelChecks = new Map<string, Map<string, CheckRec>>();
  /** svcKey → check ID (lower) → record */
  readonly serviceChecks = new Map<string, Map<string, CheckRec>>();
  readonly checksByStatus = new Map<string, Map<string, CheckRec>>();
  readonly kv = new Map<string, KVRec>();
  /** Enterprise tenancy: partition name → record; `${partition}\0${namespace}` → record. */
  readonly partitions = new Map<string, PartitionRec>();
  readonly namespaces = new Map<string, NamespaceRec>();

  private tx: TxState | null = null;

  constructor(readonly datacenter: string) {}

  // ------------------------------------------------------------ transactions

  /** Runs fn as one raft apply; fn returns false (or throws) to roll everything back. */
  write<T>(fn: (idx: number) => { ok: boolean; value: T }): {
    ok: boolean;
    value: T;
    commit: CommitInfo;
  } {
    if (this.tx !== null) throw new Error('nested write');
    const idx = ++this.raftIndex;
    const tx: TxState = {
      idx,
      undo: [],
      touchedNames: new Set(),
      nodes: false,
      services: false,
      checks: false,
      catalog: false,
      kv: false,
    };
    this.tx = tx;
    let result: { ok: boolean; value: T };
    try {
      result = fn(idx);
    } catch (err) {
      this.tx = null;
      this.rollback(tx);
      throw err;
    } finally {
      this.tx = null;
    }
    if (!result.ok) {
      this.rollback(tx);
      return { ...result, commit: { index: idx, catalogChanged: false, kvChanged: false } };
    }
    if (tx.catalog) this.catalogIndex = idx;
    if (tx.nodes) this.nodesIndex = idx;
    if (tx.checks) this.checksIndex = idx;
    if (tx.kv) this.kvIndex = idx;
    if (tx.touchedNames.size > 0) {
      this.servicesIndex = idx;
      for (const key of tx.touchedNames) {
        if (this.byName.has(key)) this.serviceIndex.set(key, idx);
        else {
          this.serviceIndex.delete(key);
          this.extinctionIndex = idx;
        }
      }
    }
    return { ...result, commit: { index: idx, catalogChanged: tx.catalog, kvChanged: tx.kv } };
  }

  private rollback(tx: TxState): void {
    for (let i = tx.undo.length - 1; i >= 0; i--) tx.undo[i]?.();
    this.viewVersion++;
  }

  private get cur(): TxState {
    if (this.tx === null) throw new Error('catalog write outside a transaction');
    return this.tx;
  }

  private touch(svc: EntMeta & { Service: string }): void {
    this.cur.touchedNames.add(nameKey(apOf(svc), nsOf(svc), svc.Service));
  }

  private touchName(sc: Scope, name: string): void {
    this.cur.touchedNames.add(nameKey(sc.ap, sc.ns, name));
  }

  private touchServicesOfNode(node: string, ap: string): void {
    for (const svc of this.nodeServices.get(nodeKey(ap, node))?.values() ?? []) this.touch(svc);
  }

  // ------------------------------------------------------------ raw setters (keep indexes)

  private rawSetNode(key: string, rec: NodeRec | undefined): void {
    const prev = this.nodes.get(key);
    if (rec === undefined) this.nodes.delete(key);
    else this.nodes.set(key, rec);
    this.tx?.undo.push(() => this.rawSetNode(key, prev));
  }

  private countView(svc: ServiceRec, delta: 1 | -1): void {
    const name = viewKey(apOf(svc), nsOf(svc), svc.Service);
    this.viewDirty.add(name);
    const count = (this.nameCounts.get(name) ?? 0) + delta;
    if (count <= 0) {
      this.nameCounts.delete(name);
      this.tagCounts.delete(name);
      this.viewVersion++;
      return;
    }
    if (count === 1 && delta === 1) this.viewVersion++;
    this.nameCounts.set(name, count);
    let tags = this.tagCounts.get(name);
    if (tags === undefined) {
      tags = new Map();
      this.tagCounts.set(name, tags);
    }
    for (const tag of new Set(svc.Tags ?? [])) {
      const n = (tags.get(tag) ?? 0) + delta;
      if (n <= 0) {
        tags.delete(tag);
        this.viewVersion++;
      } else {
        if (n === 1 && delta === 1) this.viewVersion++;
        tags.set(tag, n);
      }
    }
  }

  private rawSetService(node: string, id: string, sc: Scope, rec: ServiceRec | undefined): void {
    const nk = nodeKey(sc.ap, node);
    const ik = innerKey(sc.ns, id);
    const key = svcKey(sc.ap, sc.ns, node, id);
    let perNode = this.nodeServices.get(nk);
    const prev = perNode?.get(ik);
    if (prev !== undefined) {
      const nkey = nameKey(sc.ap, sc.ns, prev.Service);
      const inst = this.byName.get(nkey);
      inst?.delete(key);
      if (inst !== undefined && inst.size === 0) this.byName.delete(nkey);
      this.countView(prev, -1);
      perNode?.delete(ik);
      if (perNode !== undefined && perNode.size === 0) this.nodeServices.delete(nk);
    }
    if (rec !== undefined) {
      if (perNode === undefined || !this.nodeServices.has(nk)) {
        perNode = new Map();
        this.nodeServices.set(nk, perNode);
      }
      perNode.set(ik, rec);
      const nkey = nameKey(sc.ap, sc.ns, rec.Service);
      let inst = this.byName.get(nkey);
      if (inst === undefined) {
        inst = new Map();
        this.byName.set(nkey, inst);
      }
      inst.set(key, rec);
      this.countView(rec, 1);
    }
    this.tx?.undo.push(() => this.rawSetService(node, id, sc, prev));
  }

  private rawSetCheck(node: string, checkId: string, sc: Scope, rec: CheckRec | undefined): void {
    const nk = nodeKey(sc.ap, node);
    const ck = innerKey(sc.ns, checkId);
    const statusKey = `${nk}\u0000${ck}`;
    const prev = this.nodeChecks.get(nk)?.get(ck);
    const drop = (map: Map<string, Map<string, CheckRec>>, k: string, inner: string): void => {
      const m = map.get(k);
      m?.delete(inner);
      if (m !== undefined && m.size === 0) map.delete(k);
    };
    const add = (
      map: Map<string, Map<string, CheckRec>>,
      k: string,
      inner: string,
      r: CheckRec,
    ): void => {
      let m = map.get(k);
      if (m === undefined) {
        m = new Map();
        map.set(k, m);
      }
      m.set(inner, r);
    };
    if (prev !== undefined) {
      drop(this.nodeChecks, nk, ck);
      if (prev.ServiceID === '') drop(this.nodeLevelChecks, nk, ck);
      else drop(this.serviceChecks, svcKey(sc.ap, sc.ns, node, prev.ServiceID), ck);
      drop(this.checksByStatus, prev.Status, statusKey);
    }
    if (rec !== undefined) {
      add(this.nodeChecks, nk, ck, rec);
      if (rec.ServiceID === '') add(this.nodeLevelChecks, nk, ck, rec);
      else add(this.serviceChecks, svcKey(sc.ap, sc.ns, node, rec.ServiceID), ck, rec);
      add(this.checksByStatus, rec.Status, statusKey, rec);
    }
    this.tx?.undo.push(() => this.rawSetCheck(node, checkId, sc, prev));
  }

  private rawSetKV(key: string, rec: KVRec | undefined): void {
    const prev = this.kv.get(key);
    if (rec === undefined) this.kv.delete(key);
    else this.kv.set(key, rec);
    this.tx?.undo.push(() => this.rawSetKV(key, prev));
  }

  // ------------------------------------------------------------ reads

  getNode(name: string, ap = 'default'): NodeRec | undefined {
    return this.nodes.get(nodeKey(ap, name));
  }

  /** Nodes of one partition. */
  nodesIn(ap = 'default'): NodeRec[] {
    const out: NodeRec[] = [];
    for (const n of this.nodes.values()) if (apOf(n) === ap) out.push(n);
    return out;
  }

  getService(node: string, id: string, sc: Scope = DEFAULT_SCOPE): ServiceRec | undefined {
    return this.nodeServices.get(nodeKey(sc.ap, node))?.get(innerKey(sc.ns, id));
  }

  getCheck(node: string, checkId: string, sc: Scope = DEFAULT_SCOPE): CheckRec | undefined {
    return this.nodeChecks.get(nodeKey(sc.ap, node))?.get(innerKey(sc.ns, checkId));
  }

  /** The node's services in one namespace, or in all of them (ns '*'). */
  servicesOfNode(node: string, sc: Scope = DEFAULT_SCOPE): ServiceRec[] {
    const all = [...(this.nodeServices.get(nodeKey(sc.ap, node))?.values() ?? [])];
    return all
      .filter((s) => inNs(sc.ns, s))
      .sort((a, b) => cmp(nsOf(a), nsOf(b)) || cmp(a.ID, b.ID));
  }

  instancesOf(name: string, sc: Scope = DEFAULT_SCOPE): ServiceRec[] {
    return [...(this.byName.get(nameKey(sc.ap, sc.ns, name))?.values() ?? [])].sort(
      (a, b) => cmp(a.Node, b.Node) || cmp(a.ID, b.ID),
    );
  }

  allServices(): ServiceRec[] {
    const out: ServiceRec[] = [];
    for (const perNode of this.nodeServices.values()) for (const s of perNode.values()) out.push(s);
    return out;
  }

  /** Node-level checks first, then the service's own checks (as Consul's parseCheckServiceNodes). */
  checksForInstance(svc: ServiceRec): CheckRec[] {
    const ap = apOf(svc);
    const nodeLevel = [...(this.nodeLevelChecks.get(nodeKey(ap, svc.Node))?.values() ?? [])];
    const own = [
      ...(this.serviceChecks.get(svcKey(ap, nsOf(svc), svc.Node, svc.ID))?.values() ?? []),
    ];
    return [...nodeLevel.sort(byCheckId), ...own.sort(byCheckId)];
  }

  checksOfNode(node: string, sc: Scope = DEFAULT_SCOPE): CheckRec[] {
    return [...(this.nodeChecks.get(nodeKey(sc.ap, node))?.values() ?? [])]
      .filter((c) => inNs(sc.ns, c))
      .sort((a, b) => cmp(nsOf(a), nsOf(b)) || byCheckId(a, b));
  }

  checksInState(state: string, sc: Scope = DEFAULT_SCOPE): CheckRec[] {
    let list: CheckRec[];
    if (state === 'any') {
      list = [];
      for (const m of this.nodeChecks.values()) for (const c of m.values()) list.push(c);
    } else list = [...(this.checksByStatus.get(state)?.values() ?? [])];
    return list
      .filter((c) => apOf(c) === sc.ap && inNs(sc.ns, c))
      .sort((a, b) => cmp(a.Node, b.Node) || cmp(a.CheckID, b.CheckID) || cmp(nsOf(a), nsOf(b)));
  }

  /**
   * The `services` view of one namespace (or, with ns '*', every namespace of the partition
   * merged by name): exact name → sorted distinct tags (Consul's order is random).
   */
  servicesView(
    include?: (svc: ServiceRec) => boolean,
    sc: Scope = DEFAULT_SCOPE,
  ): Record<string, string[]> {
    if (include === undefined && sc.ns !== '*')
      return this.orderedView(`${sc.ap}\u0000${sc.ns}\u0000`);
    const acc = new Map<string, Set<string>>();
    if (include === undefined) {
      const prefix = sc.ns === '*' ? `${sc.ap}\u0000` : `${sc.ap}\u0000${sc.ns}\u0000`;
      for (const [key, tagMap] of this.tagCounts) {
        if (!key.startsWith(prefix)) continue;
        const name = key.slice(key.lastIndexOf('\u0000') + 1);
        let tags = acc.get(name);
        if (tags === undefined) {
          tags = new Set();
          acc.set(name, tags);
        }
        for (const t of tagMap.keys()) tags.add(t);
      }
    } else {
      for (const svc of this.allServices()) {
        if (apOf(svc) !== sc.ap || !inNs(sc.ns, svc) || !include(svc)) continue;
        let tags = acc.get(svc.Service);
        if (tags === undefined) {
          tags = new Set();
          acc.set(svc.Service, tags);
        }
        for (const t of svc.Tags ?? []) tags.add(t);
      }
    }
    const out: Record<string, string[]> = {};
    for (const name of [...acc.keys()].sort(cmp)) out[name] = [...(acc.get(name) ?? [])].sort(cmp);
    return out;
  }

  /** The view of one namespace from the ordered cache (servicesView without filter). */
  private orderedView(prefix: string): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    const [from, to] = this.orderedRange(prefix);
    for (let i = from; i < to; i++) {
      const key = this.viewKeys[i]!;
      out[key.slice(prefix.length)] = [...(this.viewTags.get(key) ?? [])];
    }
    return out;
  }

  /**
   * JSON.stringify(servicesView(undefined, sc)) from the ordered cache, for the watch's body,
   * with the names in Consul's order (Go sorts a map's keys; a JS object would put
   * integer-like names first).
   */
  servicesViewJson(sc: Scope = DEFAULT_SCOPE): string {
    if (sc.ns === '*') return JSON.stringify(this.servicesView(undefined, sc));
    const [from, to] = this.orderedRange(`${sc.ap}\u0000${sc.ns}\u0000`);
    return `{${this.viewParts.slice(from, to).join(',')}}`;
  }

  /**
   * Where the view keys under a prefix (`partition\0namespace\0`) sit in viewKeys, after
   * bringing the cache up to date.
   */
  private orderedRange(prefix: string): [number, number] {
    const keys = this.viewKeys;
    const parts = this.viewParts;
    for (const key of this.viewDirty) {
      const at = lowerBound(keys, key);
      const present = keys[at] === key;
      const tags = this.tagCounts.get(key);
      if (tags === undefined) {
        this.viewTags.delete(key);
        if (present) {
          keys.splice(at, 1);
          parts.splice(at, 1);
        }
        continue;
      }
      const sorted = [...tags.keys()].sort(cmp);
      this.viewTags.set(key, sorted);
      const name = key.slice(key.lastIndexOf('\u0000') + 1);
      // One JSON.stringify: a flat string, which the join copies without walking a rope.
      const part = JSON.stringify({ [name]: sorted }).slice(1, -1);
      if (present) parts[at] = part;
      else {
        keys.splice(at, 0, key);
        parts.splice(at, 0, part);
      }
    }
    this.viewDirty.clear();
    // Names follow the prefix's final \0, so every key under it sorts below the prefix with
    // that \0 raised to \u0001.
    const from = lowerBound(keys, prefix);
    const to = lowerBound(keys, `${prefix.slice(0, -1)}\u0001`);
    return [from, to];
  }

  /** X-Consul-Index of catalog/service/:name and health/service/:name. */
  indexForService(name: string, sc: Scope = DEFAULT_SCOPE): number {
    const idx = this.serviceIndex.get(nameKey(sc.ap, sc.ns, name));
    if (idx !== undefined) return idx;
    return this.extinctionIndex > 0 ? this.extinctionIndex : this.catalogIndex;
  }

  // ------------------------------------------------------------ writes (inside write())

  /** ensureNodeTxn: no write (and no index bump) when nothing changed. */
  ensureNode(input: NodeInput): NodeRec {
    const tx = this.cur;
    const ap = apOf(input);
    const key = nodeKey(ap, input.Node);
    const existing = this.nodes.get(key);
    if (existing !== undefined && sameNode(existing, input)) return existing;
    const rec: NodeRec = {
      ...input,
      CreateIndex: existing?.CreateIndex ?? tx.idx,
      ModifyIndex: tx.idx,
    };
    this.rawSetNode(key, rec);
    tx.nodes = true;
    tx.catalog = true;
    this.touchServicesOfNode(input.Node, ap);
    return rec;
  }

  /** ensureServiceTxn: returns the stored record or an error message. */
  ensureService(node: string, input: ServiceInput): ServiceRec | string {
    const tx = this.cur;
    const sc = scopeOf(input);
    const metaErr = validateMeta(input.Meta);
    if (metaErr !== null) {
      return `Invalid Service Meta for node ${node} and serviceID ${input.ID}: ${metaErr}`;
    }
    const nodeRec = this.getNode(node, sc.ap);
    if (nodeRec === undefined) return 'Missing node registration';
    const weights =
      input.Weights !== null && validWeights(input.Weights)
        ? input.Weights
        : { Passing: 1, Warning: 1 };
    const existing = this.getService(node, input.ID, sc);
    const candidate: ServiceRec = {
      ...input,
      Node: nodeRec.Node,
      Weights: { Passing: weights.Passing, Warning: weights.Warning },
      CreateIndex: existing?.CreateIndex ?? tx.idx,
      ModifyIndex: tx.idx,
    };
    if (existing !== undefined && sameService(existing, candidate)) return existing;
    this.rawSetService(node, input.ID, sc, candidate);
    if (existing !== undefined && existing.Service !== candidate.Service) this.touch(existing);
    this.touch(candidate);
    tx.services = true;
    tx.catalog = true;
    return candidate;
  }

  deleteService(node: string, id: string, sc: Scope = DEFAULT_SCOPE): void {
    const tx = this.cur;
    const existing = this.getService(node, id, sc);
    if (existing === undefined) return;
    for (const check of [
      ...(this.serviceChecks.get(svcKey(sc.ap, sc.ns, node, id))?.values() ?? []),
    ]) {
      this.rawSetCheck(check.Node, check.CheckID, sc, undefined);
      tx.checks = true;
    }
    this.rawSetService(node, id, sc, undefined);
    this.touch(existing);
    tx.services = true;
    tx.catalog = true;
  }

  /** ensureCheckTxn. */
  ensureCheck(input: CheckInput): CheckRec | string {
    const tx = this.cur;
    const sc = scopeOf(input);
    const existing = this.getCheck(input.Node, input.CheckID, sc);
    const status = input.Status === '' ? 'critical' : input.Status;
    if (this.getNode(input.Node, sc.ap) === undefined) return 'Missing node registration';
    let serviceName = input.ServiceName;
    let serviceTags = input.ServiceTags;
    let svc: ServiceRec | undefined;
    if (input.ServiceID !== '') {
      svc = this.getService(input.Node, input.ServiceID, sc);
      if (svc === undefined) return 'Missing service registration';
      serviceName = svc.Service;
      serviceTags = svc.Tags;
    }
    const candidate: CheckRec = {
      ...input,
      Status: status,
      ServiceName: serviceName,
      ServiceTags: serviceTags,
      CreateIndex: existing?.CreateIndex ?? tx.idx,
      ModifyIndex: tx.idx,
    };
    if (existing !== undefined && sameCheck(existing, candidate)) return existing;
    this.rawSetCheck(input.Node, input.CheckID, sc, candidate);
    if (svc !== undefined) this.touch(svc);
    else this.touchServicesOfNode(input.Node, sc.ap);
    if (
      existing !== undefined &&
      existing.ServiceName !== '' &&
      existing.ServiceName !== serviceName
    ) {
      this.touchName(sc, existing.ServiceName);
    }
    tx.checks = true;
    tx.catalog = true;
    return candidate;
  }

  deleteCheck(node: string, checkId: string, sc: Scope = DEFAULT_SCOPE): void {
    const tx = this.cur;
    const existing = this.getCheck(node, checkId, sc);
    if (existing === undefined) return;
    this.rawSetCheck(node, checkId, sc, undefined);
    if (existing.ServiceID !== '') {
      const svc = this.getService(node, existing.ServiceID, sc);
      this.touchName(sc, svc?.Service ?? existing.ServiceName);
    } else this.touchServicesOfNode(node, sc.ap);
    tx.checks = true;
    tx.catalog = true;
  }

  /** Removes the node with its services and checks in every namespace of its partition. */
  deleteNode(name: string, ap = 'default'): void {
    const tx = this.cur;
    const existing = this.getNode(name, ap);
    if (existing === undefined) return;
    for (const svc of this.servicesOfNode(name, { ap, ns: '*' }))
      this.deleteService(name, svc.ID, scopeOf(svc));
    for (const check of this.checksOfNode(name, { ap, ns: '*' }))
      this.deleteCheck(name, check.CheckID, scopeOf(check));
    this.rawSetNode(nodeKey(ap, name), undefined);
    tx.nodes = true;
    tx.catalog = true;
  }

  setKV(rec: Omit<KVRec, 'CreateIndex' | 'ModifyIndex' | 'LockIndex'>): KVRec {
    const tx = this.cur;
    const existing = this.kv.get(rec.Key);
    const stored: KVRec = {
      ...rec,
      LockIndex: existing?.LockIndex ?? 0,
      CreateIndex: existing?.CreateIndex ?? tx.idx,
      ModifyIndex: tx.idx,
    };
    this.rawSetKV(rec.Key, stored);
    tx.kv = true;
    return stored;
  }

  deleteKV(key: string): void {
    if (!this.kv.has(key)) return;
    this.rawSetKV(key, undefined);
    this.cur.kv = true;
  }

  deleteKVTree(prefix: string): void {
    for (const key of [...this.kv.keys()]) if (key.startsWith(prefix)) this.deleteKV(key);
  }

  // ------------------------------------------------------------ tenancy (Enterprise)

  getPartition(name: string): PartitionRec | undefined {
    return this.partitions.get(name);
  }

  getNamespace(ap: string, name: string): NamespaceRec | undefined {
    return this.namespaces.get(`${ap}\u0000${name}`);
  }

  namespacesIn(ap: string): NamespaceRec[] {
    return [...this.namespaces.values()]
      .filter((n) => n.Partition === ap)
      .sort((a, b) => cmp(a.Name, b.Name));
  }

  putPartition(rec: Omit<PartitionRec, 'CreateIndex' | 'ModifyIndex'>): PartitionRec {
    const tx = this.cur;
    const existing = this.partitions.get(rec.Name);
    const stored: PartitionRec = {
      ...rec,
      CreateIndex: existing?.CreateIndex ?? tx.idx,
      ModifyIndex: tx.idx,
    };
    this.partitions.set(rec.Name, stored);
    this.tx?.undo.push(() => {
      if (existing === undefined) this.partitions.delete(rec.Name);
      else this.partitions.set(rec.Name, existing);
    });
    this.tenancyIndex = tx.idx;
    return stored;
  }

  putNamespace(rec: Omit<NamespaceRec, 'CreateIndex' | 'ModifyIndex'>): NamespaceRec {
    const tx = this.cur;
    const key = `${rec.Partition}\u0000${rec.Name}`;
    const existing = this.namespaces.get(key);
    const stored: NamespaceRec = {
      ...rec,
      CreateIndex: existing?.CreateIndex ?? tx.idx,
      ModifyIndex: tx.idx,
    };
    this.namespaces.set(key, stored);
    this.tx?.undo.push(() => {
      if (existing === undefined) this.namespaces.delete(key);
      else this.namespaces.set(key, existing);
    });
    this.tenancyIndex = tx.idx;
    return stored;
  }

  /** Removes the namespace and, at once, every service and check registered in it. */
  deleteNamespace(ap: string, name: string): void {
    const tx = this.cur;
    const key = `${ap}\u0000${name}`;
    const existing = this.namespaces.get(key);
    if (existing === undefined) return;
    const sc = { ap, ns: name };
    for (const svc of this.allServices()) {
      if (apOf(svc) === ap && nsOf(svc) === name) this.deleteService(svc.Node, svc.ID, sc);
    }
    for (const perNode of [...this.nodeChecks.values()]) {
      for (const c of [...perNode.values()]) {
        if (apOf(c) === ap && nsOf(c) === name) this.deleteCheck(c.Node, c.CheckID, sc);
      }
    }
    this.namespaces.delete(key);
    this.tx?.undo.push(() => this.namespaces.set(key, existing));
    this.tenancyIndex = tx.idx;
  }

  /** Removes the partition with its nodes (and their services and checks) and namespaces. */
  deletePartition(name: string): void {
    const tx = this.cur;
    const existing = this.partitions.get(name);
    if (existing === undefined) return;
    for (const n of this.nodesIn(name)) this.deleteNode(n.Node, name);
    for (const ns of this.namespacesIn(name)) this.deleteNamespace(name, ns.Name);
    this.partitions.delete(name);
    this.tx?.undo.push(() => this.partitions.set(name, existing));
    this.tenancyIndex = tx.idx;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The first position of a sorted array whose element is not below `key`. */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function byCheckId(a: CheckRec, b: CheckRec): number {
  return cmp(a.CheckID, b.CheckID);
}

/** structs.ValidateWeights; invalid weights fall back to the default in ToServiceNode. */
function validWeights(w: Weights): boolean {
  return w.Passing >= 1 && w.Warning >= 0 && w.Passing <= 65535 && w.Warning <= 65535;
}

function sameNode(a: NodeRec, b: NodeInput): boolean {
  return (
    a.ID === b.ID &&
    a.Partition === b.Partition &&
    a.Node === b.Node &&
    a.Address === b.Address &&
    a.Datacenter === b.Datacenter &&
    deepEqual(a.TaggedAddresses, b.TaggedAddresses) &&
    deepEqual(a.Meta, b.Meta)
  );
}

function sameService(a: ServiceRec, b: ServiceRec): boolean {
  return (
    a.Node === b.Node &&
    a.Kind === b.Kind &&
    a.ID === b.ID &&
    a.Service === b.Service &&
    deepEqual(a.Tags, b.Tags) &&
    a.Address === b.Address &&
    deepEqual(a.TaggedAddresses, b.TaggedAddresses) &&
    deepEqual(a.Meta, b.Meta) &&
    a.Port === b.Port &&
    a.Weights.Passing === b.Weights.Passing &&
    a.Weights.Warning === b.Weights.Warning &&
    a.EnableTagOverride === b.EnableTagOverride
  );
}

function sameCheck(a: CheckRec, b: CheckRec): boolean {
  return (
    a.Node === b.Node &&
    a.CheckID === b.CheckID &&
    a.Name === b.Name &&
    a.Status === b.Status &&
    a.Notes === b.Notes &&
    a.Output === b.Output &&
    a.ServiceID === b.ServiceID &&
    a.ServiceName === b.ServiceName &&
    deepEqual(a.ServiceTags, b.ServiceTags) &&
    a.Type === b.Type &&
    a.Interval === b.Interval &&
    a.Timeout === b.Timeout &&
    a.ExposedPort === b.ExposedPort &&
    deepEqual(a.Definition, b.Definition)
  );
}
