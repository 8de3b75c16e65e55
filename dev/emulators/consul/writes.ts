// The write endpoints (catalog register/deregister and /v1/txn) as Consul's RPC layer and state
// store run them: pre-apply validation and ACL vetting first (nothing applied, no raft index),
// then one raft apply that either commits every change or rolls all of them back.
import {
  DEFAULT_SCOPE,
  type CheckInput,
  type CheckRec,
  type EntMeta,
  type NodeInput,
  type Scope,
  type ServiceInput,
  type Store,
} from './state.js';
import { renderCheck, renderKV, renderNode, renderNodeService, type Json } from './render.js';
import type { DeregisterRequest, RegisterRequest, TxnOp } from './decode.js';
import type { Authorizer } from './acl.js';

export interface Reply {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export const MAX_TXN_OPS = 128;

/**
 * The tenancy a write runs in: open source (no namespaces or partitions: Namespace/Partition
 * body fields are ignored, records carry neither), or Enterprise with the request's `ns` and
 * `partition` (query or header, already defaulted to "default").
 */
export interface WriteTenancy {
  enterprise: boolean;
  scope: Scope;
}

export const OSS_TENANCY: WriteTenancy = { enterprise: false, scope: DEFAULT_SCOPE };

const scopeOfRec = (r: EntMeta): Scope => ({
  ap: r.Partition ?? 'default',
  ns: r.Namespace ?? 'default',
});

/** Sets (Enterprise) or strips (open source) the Namespace/Partition of a service or check. */
function placeIn(rec: EntMeta, t: WriteTenancy, ap: string, ns: string): void {
  if (t.enterprise) {
    rec.Partition = ap;
    rec.Namespace = ns;
  } else {
    delete rec.Partition;
    delete rec.Namespace;
  }
}

/** The error Consul Enterprise gives for a write into a partition or namespace that is missing. */
function tenancyError(store: Store, t: WriteTenancy, ap: string, ns?: string): string | null {
  if (!t.enterprise) return null;
  if (store.getPartition(ap) === undefined) return `Partition ${JSON.stringify(ap)} does not exist`;
  if (ns !== undefined && store.getNamespace(ap, ns) === undefined)
    return `Namespace ${JSON.stringify(ns)} does not exist`;
  return null;
}

/** go-uuid ParseUUID, as nodePreApply uses it. */
function nodeIdError(id: string): string | null {
  if (id === '') return null;
  if (id.length !== 36) return 'Bad node ID: uuid string is wrong length';
  if (id[8] !== '-' || id[13] !== '-' || id[18] !== '-' || id[23] !== '-') {
    return 'Bad node ID: uuid is improperly formatted';
  }
  const hex = id.slice(0, 8) + id.slice(9, 13) + id.slice(14, 18) + id.slice(19, 23) + id.slice(24);
  const bad = /[^0-9a-fA-F]/.exec(hex);
  if (bad) {
    const ch = bad[0];
    const code = (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    return `Bad node ID: encoding/hex: invalid byte: U+${code} '${ch}'`;
  }
  return null;
}

/** servicePreApply without the ACL part; defaults the ID to the name in place. */
function servicePreApply(svc: ServiceInput): string | null {
  if (svc.ID === '' && svc.Service !== '') svc.ID = svc.Service;
  if (svc.ID !== '' && svc.Service === '') return 'Must provide service name with ID';
  if (svc.Address === '0.0.0.0' || svc.Address === '::' || svc.Address === '[::]') {
    return 'Invalid service address';
  }
  return null;
}

function changesNode(store: Store, req: RegisterRequest, dc: string): boolean {
  const node = store.getNode(req.Node, req.Partition === '' ? 'default' : req.Partition);
  if (node === undefined) return true;
  if (req.SkipNodeUpdate) return false;
  const want: NodeInput = nodeFromRegister(req, dc);
  return !(
    want.ID === node.ID &&
    want.Node.toLowerCase() === node.Node.toLowerCase() &&
    want.Address === node.Address &&
    want.Datacenter === node.Datacenter &&
    want.Partition === node.Partition &&
    JSON.stringify(want.TaggedAddresses) === JSON.stringify(node.TaggedAddresses) &&
    JSON.stringify(want.Meta) === JSON.stringify(node.Meta)
  );
}

function nodeFromRegister(req: RegisterRequest, dc: string): NodeInput {
  return {
    ID: req.ID,
    Node: req.Node,
    Address: req.Address,
    Datacenter: req.Datacenter === '' ? dc : req.Datacenter,
    TaggedAddresses: req.TaggedAddresses,
    Meta: req.NodeMeta,
    ...(req.enterprise === true ? { Partition: req.Partition } : {}),
  };
}

const serverError = (text: string): Reply => ({ status: 500, text });
const forbidden = (text: string): Reply => ({ status: 403, text });

/** PUT /v1/catalog/register (Catalog.Register + ensureRegistrationTxn). */
export function register(
  store: Store,
  dc: string,
  req: RegisterRequest,
  authz: Authorizer,
  t: WriteTenancy = OSS_TENANCY,
): Reply & { changed: boolean } {
  const done = (r: Reply): Reply & { changed: boolean } => ({ ...r, changed: false });
  if (req.Node === '') return done(serverError('Must provide node'));
  // the body's Namespace/Partition take precedence over ?ns= / ?partition=
  const ap = t.enterprise && req.Partition !== '' ? req.Partition : t.scope.ap;
  const ns = t.enterprise && req.Namespace !== '' ? req.Namespace : t.scope.ns;
  req.Partition = t.enterprise ? ap : '';
  req.enterprise = t.enterprise;
  const apErr = tenancyError(store, t, ap);
  if (apErr !== null) return done(serverError(apErr));
  if (req.Service !== null) {
    placeIn(req.Service, t, ap, req.Service.Namespace ?? ns);
    const nsErr = tenancyError(store, t, ap, req.Service.Namespace);
    if (nsErr !== null) return done(serverError(nsErr));
  }
  for (const check of req.Checks) {
    const owner =
      req.Service !== null && check.ServiceID !== '' && check.ServiceID === req.Service.ID
        ? req.Service.Namespace
        : undefined;
    placeIn(check, t, ap, check.Namespace ?? owner ?? ns);
    const nsErr = tenancyError(store, t, ap, check.Namespace);
    if (nsErr !== null) return done(serverError(nsErr));
  }
  const idErr = nodeIdError(req.ID);
  if (idErr !== null) return done(serverError(idErr));
  if (req.Address === '' && !req.SkipNodeUpdate) {
    return done(serverError('Must provide address if SkipNodeUpdate is not set'));
  }
  const svc = req.Service;
  if (svc !== null) {
    const err = servicePreApply(svc);
    if (err !== null) return done(serverError(err));
    // servicePreApply exempts the agent-managed `consul` service; vetRegisterWithACL does not
    if (svc.Service !== 'consul' && !authz.allowed('service', 'write', svc.Service)) {
      return done(forbidden(authz.denied('service', 'write', svc.Service)));
    }
  }
  for (const check of req.Checks) if (check.Node === '') check.Node = req.Node;
  const vetted = vetRegister(store, dc, req, authz);
  if (vetted !== null) return done(vetted);
  const result = store.write<string | null>(() => {
    const existing = store.getNode(req.Node, ap);
    if (existing === undefined || changesNode(store, req, dc))
      store.ensureNode(nodeFromRegister(req, dc));
    if (svc !== null) {
      const stored = store.ensureService(req.Node, svc);
      if (typeof stored === 'string')
        return { ok: false, value: `failed inserting service: ${stored}` };
    }
    for (const check of req.Checks) {
      if (check.Node.toLowerCase() !== req.Node.toLowerCase()) {
        return { ok: false, value: `check node "${check.Node}" does not match node "${req.Node}"` };
      }
      const stored = store.ensureCheck(check);
      if (typeof stored === 'string') {
        return { ok: false, value: `failed inserting check on node "${check.Node}": ${stored}` };
      }
    }
    return { ok: true, value: null };
  });
  if (!result.ok) return done(serverError(result.value ?? 'register failed'));
  return { status: 200, json: true, changed: result.commit.catalogChanged };
}

/** vetRegisterWithACL: node write unless only re-posting the same node, then services and checks. */
function vetRegister(
  store: Store,
  dc: string,
  req: RegisterRequest,
  authz: Authorizer,
): Reply | null {
  if (authz.isManagement) return null;
  if (changesNode(store, req, dc) && !authz.allowed('node', 'write', req.Node)) {
    return forbidden(authz.denied('node', 'write', req.Node));
  }
  const svc = req.Service;
  if (svc !== null) {
    if (!authz.allowed('service', 'write', svc.Service)) {
      return forbidden(authz.denied('service', 'write', svc.Service));
    }
    // re-registering an ID that holds another service overwrites it: write on that one too,
    // reported without details (acl.ErrPermissionDenied)
    const other = store.getService(req.Node, svc.ID, scopeOfRec(svc));
    if (other !== undefined && !authz.allowed('service', 'write', other.Service)) {
      return forbidden('Permission denied');
    }
  }
  for (const check of req.Checks) {
    if (check.ServiceID === '') {
      if (!authz.allowed('node', 'write', req.Node))
        return forbidden(authz.denied('node', 'write', req.Node));
      continue;
    }
    if (svc !== null && svc.ID === check.ServiceID) continue;
    const target = store.getService(req.Node, check.ServiceID, scopeOfRec(check));
    if (target === undefined) {
      return serverError(`Unknown service ID '${check.ServiceID}' for check ID '${check.CheckID}'`);
    }
    if (!authz.allowed('service', 'write', target.Service)) {
      return forbidden(authz.denied('service', 'write', target.Service));
    }
  }
  return null;
}

/** PUT /v1/catalog/deregister: service, else check, else the whole node; missing is not an error. */
export function deregister(
  store: Store,
  req: DeregisterRequest,
  authz: Authorizer,
  t: WriteTenancy = OSS_TENANCY,
): Reply & { changed: boolean } {
  const done = (r: Reply): Reply & { changed: boolean } => ({ ...r, changed: false });
  if (req.Node === '') return done(serverError('Must provide node'));
  const sc: Scope = t.enterprise
    ? {
        ap: req.Partition !== '' ? req.Partition : t.scope.ap,
        ns: req.Namespace !== '' ? req.Namespace : t.scope.ns,
      }
    : DEFAULT_SCOPE;
  const apErr = tenancyError(store, t, sc.ap);
  if (apErr !== null) return done(serverError(apErr));
  const vetted = vetDeregister(store, req, authz, sc);
  if (vetted !== null) return done(vetted);
  const result = store.write(() => {
    if (req.ServiceID !== '') store.deleteService(req.Node, req.ServiceID, sc);
    else if (req.CheckID !== '') store.deleteCheck(req.Node, req.CheckID, sc);
    else store.deleteNode(req.Node, sc.ap);
    return { ok: true, value: null };
  });
  return { status: 200, json: true, changed: result.commit.catalogChanged };
}

/**
 * vetDeregisterWithACL: node write allows any deregistration on the node (an agent that lost
 * write on a service can still clean it up); otherwise the service or service check needs
 * service write, a node check or the whole node needs node write.
 */
function vetDeregister(
  store: Store,
  req: DeregisterRequest,
  authz: Authorizer,
  sc: Scope,
): Reply | null {
  if (authz.allowed('node', 'write', req.Node)) return null;
  if (req.ServiceID !== '') {
    const svc = store.getService(req.Node, req.ServiceID, sc);
    if (svc === undefined) {
      return serverError(`Unknown service ID '${req.ServiceID}' for node '${req.Node}'`);
    }
    if (authz.allowed('service', 'write', svc.Service)) return null;
    return forbidden(authz.denied('service', 'write', svc.Service));
  }
  if (req.CheckID !== '') {
    const check = store.getCheck(req.Node, req.CheckID, sc);
    if (check === undefined)
      return serverError(`Unknown check ID '${req.CheckID}' for node '${req.Node}'`);
    if (check.ServiceID !== '') {
      if (authz.allowed('service', 'write', check.ServiceName)) return null;
      return forbidden(authz.denied('service', 'write', check.ServiceName));
    }
  }
  return forbidden(authz.denied('node', 'write', req.Node));
}

// ------------------------------------------------------------------ txn

const NODE_VERBS = new Set(['get', 'set', 'cas', 'delete', 'delete-cas']);
const KV_WRITES = new Set(['set', 'cas', 'delete', 'delete-cas', 'delete-tree', 'lock', 'unlock']);
const KV_VERBS = new Set([
  ...KV_WRITES,
  'get',
  'get-or-empty',
  'get-tree',
  'check-index',
  'check-session',
  'check-not-exists',
]);

interface TxnError {
  OpIndex: number;
  What: string;
}

function isWrite(op: TxnOp): boolean {
  if (op.type === 'none') return false;
  if (op.type === 'KV') return KV_WRITES.has(op.verb);
  return op.verb !== 'get';
}

/** Txn.preCheck for one op: verb validation, pre-apply checks and ACL vetting. */
function preCheckOp(op: TxnOp, authz: Authorizer): string | null {
  switch (op.type) {
    case 'KV':
      if (!KV_VERBS.has(op.verb)) return `unknown KV verb ${JSON.stringify(op.verb)}`;
      if (op.key === '' && op.verb !== 'delete-tree' && op.verb !== 'get-tree')
        return 'Must provide key';
      // policy-scoped tokens carry no key rules: only the management token passes
      if (KV_WRITES.has(op.verb) && !authz.allowed('key', 'write', op.key))
        return authz.denied('key', 'write', op.key);
      if (op.verb.startsWith('check-') && !authz.allowed('key', 'read', op.key))
        return authz.denied('key', 'read', op.key);
      return null;
    case 'Node': {
      if (!NODE_VERBS.has(op.verb)) return `unknown node operation: ${op.verb}`;
      if (op.verb === 'get') return null;
      if (op.node.Node === '') return 'Must provide node';
      const idErr = nodeIdError(op.node.ID);
      if (idErr !== null) return idErr;
      // vetNodeTxnOp
      return authz.allowed('node', 'write', op.node.Node)
        ? null
        : authz.denied('node', 'write', op.node.Node);
    }
    case 'Service': {
      if (!NODE_VERBS.has(op.verb)) return `unknown service operation: ${op.verb}`;
      if (op.verb === 'get') return null;
      const err = servicePreApply(op.service);
      if (err !== null) return err;
      // vetServiceTxnOp: write on the op's service name, `consul` included (unlike register)
      const name = op.service.Service;
      return authz.allowed('service', 'write', name)
        ? null
        : authz.denied('service', 'write', name);
    }
    case 'Check':
      if (!NODE_VERBS.has(op.verb)) return `unknown check operation: ${op.verb}`;
      if (op.verb === 'get') return null;
      // vetCheckTxnOp trusts the op's ServiceName
      if (op.check.ServiceID === '') {
        return authz.allowed('node', 'write', op.check.Node)
          ? null
          : authz.denied('node', 'write', op.check.Node);
      }
      return authz.allowed('service', 'write', op.check.ServiceName)
        ? null
        : authz.denied('service', 'write', op.check.ServiceName);
    case 'none':
      return 'unknown operation type';
  }
}

/** Txn.preCheck: every op is checked and every error reported. */
function preCheck(ops: TxnOp[], authz: Authorizer): TxnError[] {
  const errors: TxnError[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const What = op === undefined ? null : preCheckOp(op, authz);
    if (What !== null) errors.push({ OpIndex: i, What });
  }
  return errors;
}

/** txnResultsFilter: a result the token cannot read is dropped (Txn.Apply and Txn.Read alike). */
function canReadResult(result: Json, authz: Authorizer): boolean {
  const field = (key: string): Json | undefined => result[key] as Json | undefined;
  const kv = field('KV');
  if (kv !== undefined) return authz.allowed('key', 'read', String(kv.Key));
  const node = field('Node');
  if (node !== undefined) return authz.allowed('node', 'read', String(node.Node));
  const svc = field('Service');
  if (svc !== undefined) return authz.allowed('service', 'read', String(svc.Service));
  const check = field('Check');
  if (check !== undefined) {
    const service = typeof check.ServiceName === 'string' ? check.ServiceName : '';
    return service !== ''
      ? authz.allowed('service', 'read', service)
      : authz.allowed('node', 'read', String(check.Node));
  }
  return true;
}

function staleCas(modifyIndex: number, existing: { ModifyIndex: number } | undefined): boolean {
  if (modifyIndex === 0 && existing !== undefined) return true;
  if (modifyIndex !== 0 && existing === undefined) return true;
  return existing !== undefined && modifyIndex !== 0 && modifyIndex !== existing.ModifyIndex;
}

/** One op of txnDispatch against the store; pushes its result, returns an error message. */
function applyOp(
  store: Store,
  dc: string,
  op: TxnOp,
  results: Json[],
  t: WriteTenancy,
): string | null {
  switch (op.type) {
    case 'Node': {
      // api.Node carries its own Partition; the ops ignore ?partition= as they ignore ?ns=
      const ap = op.node.Partition ?? 'default';
      const input: NodeInput = {
        ...op.node,
        Datacenter: op.node.Datacenter === '' ? dc : op.node.Datacenter,
      };
      if (t.enterprise) input.Partition = ap;
      else delete input.Partition;
      const name = input.Node;
      if (op.verb !== 'get') {
        const err = tenancyError(store, t, ap);
        if (err !== null) return err;
      }
      const existing = store.getNode(name, t.enterprise ? ap : 'default');
      switch (op.verb) {
        case 'get':
          if (existing === undefined) return `node ${JSON.stringify(name)} doesn't exist`;
          results.push({ Node: renderNode(existing) });
          return null;
        case 'cas':
          if (staleCas(op.modifyIndex, existing))
            return `failed to set node ${JSON.stringify(name)}, index is stale`;
          results.push({ Node: renderNode(store.ensureNode(input)) });
          return null;
        case 'set':
          results.push({ Node: renderNode(store.ensureNode(input)) });
          return null;
        case 'delete-cas':
          if (existing === undefined || existing.ModifyIndex !== op.modifyIndex) {
            return `failed to delete node ${JSON.stringify(name)}, index is stale`;
          }
          store.deleteNode(name, existing.Partition ?? 'default');
          return null;
        default:
          store.deleteNode(name, t.enterprise ? ap : 'default');
          return null;
      }
    }
    case 'Service': {
      const { node, service } = op;
      placeIn(service, t, service.Partition ?? 'default', service.Namespace ?? 'default');
      const sc = scopeOfRec(service);
      if (op.verb !== 'get') {
        const err = tenancyError(store, t, sc.ap, sc.ns);
        if (err !== null) return err;
      }
      const existing = store.getService(node, service.ID, sc);
      switch (op.verb) {
        case 'get':
          if (existing === undefined) return `${serviceWhere(op)} doesn't exist`;
          results.push({ Service: renderNodeService(existing, false) });
          return null;
        case 'cas':
        case 'set': {
          if (op.verb === 'cas' && staleCas(op.modifyIndex, existing))
            return `failed to set ${serviceWhere(op)}, index is stale`;
          const stored = store.ensureService(node, service);
          if (typeof stored === 'string') return stored;
          results.push({ Service: renderNodeService(stored, false) });
          return null;
        }
        case 'delete-cas':
          if (existing === undefined || existing.ModifyIndex !== op.modifyIndex) {
            return `failed to delete ${serviceWhere(op)}, index is stale`;
          }
          store.deleteService(node, service.ID, sc);
          return null;
        default:
          store.deleteService(node, service.ID, sc);
          return null;
      }
    }
    case 'Check': {
      const check: CheckInput = op.check;
      placeIn(check, t, check.Partition ?? 'default', check.Namespace ?? 'default');
      const sc = scopeOfRec(check);
      if (op.verb !== 'get') {
        const err = tenancyError(store, t, sc.ap, sc.ns);
        if (err !== null) return err;
      }
      const existing: CheckRec | undefined = store.getCheck(check.Node, check.CheckID, sc);
      const where = `check ${JSON.stringify(check.CheckID)} on node ${JSON.stringify(check.Node)}`;
      switch (op.verb) {
        case 'get':
          if (existing === undefined) return `${where} doesn't exist`;
          results.push({ Check: renderCheck(existing, false) });
          return null;
        case 'cas':
        case 'set': {
          if (op.verb === 'cas' && staleCas(op.modifyIndex, existing))
            return `failed to set ${where}, index is stale`;
          const stored = store.ensureCheck(check);
          if (typeof stored === 'string') return stored;
          results.push({ Check: renderCheck(stored, false) });
          return null;
        }
        case 'delete-cas':
          if (existing === undefined || existing.ModifyIndex !== op.modifyIndex)
            return `failed to delete ${where}, index is stale`;
          store.deleteCheck(check.Node, check.CheckID, sc);
          return null;
        default:
          store.deleteCheck(check.Node, check.CheckID, sc);
          return null;
      }
    }
    case 'KV':
      return applyKV(store, op, results);
    case 'none':
      return 'no operation specified';
  }
}

function serviceWhere(op: { node: string; service: ServiceInput }): string {
  return `service ${JSON.stringify(op.service.ID)} on node ${JSON.stringify(op.node)}`;
}

function applyKV(store: Store, op: Extract<TxnOp, { type: 'KV' }>, results: Json[]): string | null {
  const key = op.key;
  const existing = store.kv.get(key);
  const q = JSON.stringify(key);
  const entry = {
    Key: key,
    Flags: op.flags,
    Value: op.value,
    Session: op.session === '' ? undefined : op.session,
  };
  switch (op.verb) {
    case 'set':
      results.push({ KV: renderKV(store.setKV(entry), false) });
      return null;
    case 'cas':
      if (staleCas(op.index, existing)) return `failed to set key ${q}, index is stale`;
      results.push({ KV: renderKV(store.setKV(entry), false) });
      return null;
    case 'get':
      if (existing === undefined) return `key ${q} doesn't exist`;
      results.push({ KV: renderKV(existing, true) });
      return null;
    case 'get-or-empty':
      results.push({
        KV: renderKV(
          existing ?? {
            Key: key,
            Flags: op.flags,
            Value: null,
            LockIndex: 0,
            CreateIndex: 0,
            ModifyIndex: 0,
          },
          true,
        ),
      });
      return null;
    case 'get-tree':
      for (const k of [...store.kv.keys()].filter((k) => k.startsWith(key)).sort()) {
        const rec = store.kv.get(k);
        if (rec !== undefined) results.push({ KV: renderKV(rec, true) });
      }
      return null;
    case 'check-index':
      if (existing === undefined) return `key ${q} doesn't exist`;
      if (existing.ModifyIndex !== op.index) {
        return `current modify index ${existing.ModifyIndex} for key ${q} doesn't match ${op.index}`;
      }
      results.push({ KV: renderKV(existing, false) });
      return null;
    case 'check-not-exists':
      return existing !== undefined ? `key ${q} exists` : null;
    case 'delete':
      store.deleteKV(key);
      return null;
    case 'delete-cas':
      if (existing === undefined || existing.ModifyIndex !== op.index)
        return `failed to delete key ${q}, index is stale`;
      store.deleteKV(key);
      return null;
    case 'delete-tree':
      store.deleteKVTree(key);
      return null;
    default:
      return `the emulator has no sessions: KV verb ${JSON.stringify(op.verb)} is not supported`;
  }
}

/** txnDispatch: runs every op (collecting all errors, like Consul), returns results and errors. */
function dispatch(
  store: Store,
  dc: string,
  ops: TxnOp[],
  t: WriteTenancy,
): { results: Json[]; errors: TxnError[] } {
  const results: Json[] = [];
  const errors: TxnError[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const What = op === undefined ? null : applyOp(store, dc, op, results, t);
    if (What !== null) errors.push({ OpIndex: i, What });
  }
  return { results, errors };
}

const conflict = (errors: TxnError[], headers?: Record<string, string>): Reply => ({
  status: 409,
  json: { Results: null, Errors: errors },
  headers,
});

/** PUT /v1/txn after decoding; `changed` tells whether the catalog changed (for watchers). */
export function txn(
  store: Store,
  dc: string,
  ops: TxnOp[],
  authz: Authorizer,
  t: WriteTenancy = OSS_TENANCY,
): Reply & { changed: boolean } {
  if (ops.length > MAX_TXN_OPS) {
    return {
      status: 413,
      text: `Transaction contains too many operations (${ops.length} > ${MAX_TXN_OPS})`,
      changed: false,
    };
  }
  const writes = ops.filter(isWrite).length;
  const readHeaders =
    writes === 0 ? { 'X-Consul-KnownLeader': 'true', 'X-Consul-LastContact': '0' } : undefined;
  const pre = preCheck(ops, authz);
  if (pre.length > 0) return { ...conflict(pre, readHeaders), changed: false };

  if (writes === 0) {
    // Txn.Read: no raft apply, no index; results the token cannot read are dropped
    const { results, errors } = dispatch(store, dc, ops, t);
    if (errors.length > 0) return { ...conflict(errors, readHeaders), changed: false };
    const visible = results.filter((r) => canReadResult(r, authz));
    const headers: Record<string, string> = { ...readHeaders };
    if (visible.length !== results.length) headers['X-Consul-Results-Filtered-By-ACLs'] = 'true';
    return { status: 200, json: { Results: visible, Errors: null }, headers, changed: false };
  }

  const out = store.write(() => {
    const r = dispatch(store, dc, ops, t);
    return { ok: r.errors.length === 0, value: r };
  });
  if (!out.ok) return { ...conflict(out.value.errors), changed: false };
  // Txn.Apply filters its results too, but has no query meta to say so
  return {
    status: 200,
    json: { Results: out.value.results.filter((r) => canReadResult(r, authz)), Errors: null },
    changed: out.commit.catalogChanged,
  };
}
