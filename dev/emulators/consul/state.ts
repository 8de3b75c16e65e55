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
  TaggedAddresses: Record<string, string> | null;
  Meta: Record<string, string> | null;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface ServiceRec {
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

export interface CheckRec {
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
const svcKey = (node: string, id: string): string => `${lower(node)}\u0000${lower(id)}`;

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
  /** Bumped whenever the name→tags services view may have changed. */
  viewVersion = 0;

  readonly nodes = new Map<string, NodeRec>();
  /** node (lower) → service ID (lower) → record */
  readonly nodeServices = new Map<string, Map<string, ServiceRec>>();
  /** service name (lower) → svcKey → record */
  readonly byName = new Map<string, Map<string, ServiceRec>>();
  /** service name (lower) → last index that touched it */
  readonly serviceIndex = new Map<string, number>();
  /** exact service name → instance count, and → tag → count (the services view) */
  readonly nameCounts = new Map<string, number>();
  readonly tagCounts = new Map<string, Map<string, number>>();
  /** node (lower) → check ID (lower) → record */
  readonly nodeChecks = new Map<string, Map<string, CheckRec>>();
  readonly nodeLevelChecks = new Map<string, Map<string, CheckRec>>();
  /** svcKey → check ID (lower) → record */
  readonly serviceChecks = new Map<string, Map<string, CheckRec>>();
  readonly checksByStatus = new Map<string, Map<string, CheckRec>>();
  readonly kv = new Map<string, KVRec>();

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
      for (const name of tx.touchedNames) {
        const key = lower(name);
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

  private touch(name: string): void {
    this.cur.touchedNames.add(name);
  }

  private touchServicesOfNode(node: string): void {
    for (const svc of this.nodeServices.get(lower(node))?.values() ?? []) this.touch(svc.Service);
  }

  // ------------------------------------------------------------ raw setters (keep indexes)

  private rawSetNode(key: string, rec: NodeRec | undefined): void {
    const prev = this.nodes.get(key);
    if (rec === undefined) this.nodes.delete(key);
    else this.nodes.set(key, rec);
    this.tx?.undo.push(() => this.rawSetNode(key, prev));
  }

  private countView(svc: ServiceRec, delta: 1 | -1): void {
    const name = svc.Service;
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

  private rawSetService(node: string, id: string, rec: ServiceRec | undefined): void {
    const nk = lower(node);
    const key = svcKey(node, id);
    let perNode = this.nodeServices.get(nk);
    const prev = perNode?.get(lower(id));
    if (prev !== undefined) {
      const nameKey = lower(prev.Service);
      const inst = this.byName.get(nameKey);
      inst?.delete(key);
      if (inst !== undefined && inst.size === 0) this.byName.delete(nameKey);
      this.countView(prev, -1);
      perNode?.delete(lower(id));
      if (perNode !== undefined && perNode.size === 0) this.nodeServices.delete(nk);
    }
    if (rec !== undefined) {
      if (perNode === undefined || !this.nodeServices.has(nk)) {
        perNode = new Map();
        this.nodeServices.set(nk, perNode);
      }
      perNode.set(lower(id), rec);
      const nameKey = lower(rec.Service);
      let inst = this.byName.get(nameKey);
      if (inst === undefined) {
        inst = new Map();
        this.byName.set(nameKey, inst);
      }
      inst.set(key, rec);
      this.countView(rec, 1);
    }
    this.tx?.undo.push(() => this.rawSetService(node, id, prev));
  }

  private rawSetCheck(node: string, checkId: string, rec: CheckRec | undefined): void {
    const nk = lower(node);
    const ck = lower(checkId);
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
      else drop(this.serviceChecks, svcKey(node, prev.ServiceID), ck);
      drop(this.checksByStatus, prev.Status, statusKey);
    }
    if (rec !== undefined) {
      add(this.nodeChecks, nk, ck, rec);
      if (rec.ServiceID === '') add(this.nodeLevelChecks, nk, ck, rec);
      else add(this.serviceChecks, svcKey(node, rec.ServiceID), ck, rec);
      add(this.checksByStatus, rec.Status, statusKey, rec);
    }
    this.tx?.undo.push(() => this.rawSetCheck(node, checkId, prev));
  }

  private rawSetKV(key: string, rec: KVRec | undefined): void {
    const prev = this.kv.get(key);
    if (rec === undefined) this.kv.delete(key);
    else this.kv.set(key, rec);
    this.tx?.undo.push(() => this.rawSetKV(key, prev));
  }

  // ------------------------------------------------------------ reads

  getNode(name: string): NodeRec | undefined {
    return this.nodes.get(lower(name));
  }

  getService(node: string, id: string): ServiceRec | undefined {
    return this.nodeServices.get(lower(node))?.get(lower(id));
  }

  getCheck(node: string, checkId: string): CheckRec | undefined {
    return this.nodeChecks.get(lower(node))?.get(lower(checkId));
  }

  servicesOfNode(node: string): ServiceRec[] {
    return [...(this.nodeServices.get(lower(node))?.values() ?? [])].sort((a, b) =>
      cmp(a.ID, b.ID),
    );
  }

  instancesOf(name: string): ServiceRec[] {
    return [...(this.byName.get(lower(name))?.values() ?? [])].sort(
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
    const nodeLevel = [...(this.nodeLevelChecks.get(lower(svc.Node))?.values() ?? [])];
    const own = [...(this.serviceChecks.get(svcKey(svc.Node, svc.ID))?.values() ?? [])];
    return [...nodeLevel.sort(byCheckId), ...own.sort(byCheckId)];
  }

  checksOfNode(node: string): CheckRec[] {
    return [...(this.nodeChecks.get(lower(node))?.values() ?? [])].sort(byCheckId);
  }

  checksInState(state: string): CheckRec[] {
    let list: CheckRec[];
    if (state === 'any') {
      list = [];
      for (const m of this.nodeChecks.values()) for (const c of m.values()) list.push(c);
    } else list = [...(this.checksByStatus.get(state)?.values() ?? [])];
    return list.sort((a, b) => cmp(a.Node, b.Node) || cmp(a.CheckID, b.CheckID));
  }

  /** The `services` view: exact name → sorted distinct tags (Consul's order is random). */
  servicesView(include?: (svc: ServiceRec) => boolean): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    if (include === undefined) {
      for (const name of [...this.nameCounts.keys()].sort(cmp)) {
        out[name] = [...(this.tagCounts.get(name)?.keys() ?? [])].sort(cmp);
      }
      return out;
    }
    const acc = new Map<string, Set<string>>();
    for (const svc of this.allServices()) {
      if (!include(svc)) continue;
      let tags = acc.get(svc.Service);
      if (tags === undefined) {
        tags = new Set();
        acc.set(svc.Service, tags);
      }
      for (const t of svc.Tags ?? []) tags.add(t);
    }
    for (const name of [...acc.keys()].sort(cmp)) out[name] = [...(acc.get(name) ?? [])].sort(cmp);
    return out;
  }

  /** X-Consul-Index of catalog/service/:name and health/service/:name. */
  indexForService(name: string): number {
    const idx = this.serviceIndex.get(lower(name));
    if (idx !== undefined) return idx;
    return this.extinctionIndex > 0 ? this.extinctionIndex : this.catalogIndex;
  }

  // ------------------------------------------------------------ writes (inside write())

  /** ensureNodeTxn: no write (and no index bump) when nothing changed. */
  ensureNode(input: NodeInput): NodeRec {
    const tx = this.cur;
    const key = lower(input.Node);
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
    this.touchServicesOfNode(input.Node);
    return rec;
  }

  /** ensureServiceTxn: returns the stored record or an error message. */
  ensureService(node: string, input: ServiceInput): ServiceRec | string {
    const tx = this.cur;
    const metaErr = validateMeta(input.Meta);
    if (metaErr !== null) {
      return `Invalid Service Meta for node ${node} and serviceID ${input.ID}: ${metaErr}`;
    }
    const nodeRec = this.getNode(node);
    if (nodeRec === undefined) return 'Missing node registration';
    const weights =
      input.Weights !== null && validWeights(input.Weights)
        ? input.Weights
        : { Passing: 1, Warning: 1 };
    const existing = this.getService(node, input.ID);
    const candidate: ServiceRec = {
      ...input,
      Node: nodeRec.Node,
      Weights: { Passing: weights.Passing, Warning: weights.Warning },
      CreateIndex: existing?.CreateIndex ?? tx.idx,
      ModifyIndex: tx.idx,
    };
    if (existing !== undefined && sameService(existing, candidate)) return existing;
    this.rawSetService(node, input.ID, candidate);
    if (existing !== undefined && existing.Service !== candidate.Service)
      this.touch(existing.Service);
    this.touch(candidate.Service);
    tx.services = true;
    tx.catalog = true;
    return candidate;
  }

  deleteService(node: string, id: string): void {
    const tx = this.cur;
    const existing = this.getService(node, id);
    if (existing === undefined) return;
    for (const check of [...(this.serviceChecks.get(svcKey(node, id))?.values() ?? [])]) {
      this.rawSetCheck(check.Node, check.CheckID, undefined);
      tx.checks = true;
    }
    this.rawSetService(node, id, undefined);
    this.touch(existing.Service);
    tx.services = true;
    tx.catalog = true;
  }

  /** ensureCheckTxn. */
  ensureCheck(input: CheckInput): CheckRec | string {
    const tx = this.cur;
    const existing = this.getCheck(input.Node, input.CheckID);
    const status = input.Status === '' ? 'critical' : input.Status;
    if (this.getNode(input.Node) === undefined) return 'Missing node registration';
    let serviceName = input.ServiceName;
    let serviceTags = input.ServiceTags;
    let svc: ServiceRec | undefined;
    if (input.ServiceID !== '') {
      svc = this.getService(input.Node, input.ServiceID);
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
    this.rawSetCheck(input.Node, input.CheckID, candidate);
    if (svc !== undefined) this.touch(svc.Service);
    else this.touchServicesOfNode(input.Node);
    if (
      existing !== undefined &&
      existing.ServiceName !== '' &&
      existing.ServiceName !== serviceName
    ) {
      this.touch(existing.ServiceName);
    }
    tx.checks = true;
    tx.catalog = true;
    return candidate;
  }

  deleteCheck(node: string, checkId: string): void {
    const tx = this.cur;
    const existing = this.getCheck(node, checkId);
    if (existing === undefined) return;
    this.rawSetCheck(node, checkId, undefined);
    if (existing.ServiceID !== '') {
      const svc = this.getService(node, existing.ServiceID);
      this.touch(svc?.Service ?? existing.ServiceName);
    } else this.touchServicesOfNode(node);
    tx.checks = true;
    tx.catalog = true;
  }

  deleteNode(name: string): void {
    const tx = this.cur;
    const existing = this.getNode(name);
    if (existing === undefined) return;
    for (const svc of this.servicesOfNode(name)) this.deleteService(name, svc.ID);
    for (const check of this.checksOfNode(name)) this.deleteCheck(name, check.CheckID);
    this.rawSetNode(lower(name), undefined);
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
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
