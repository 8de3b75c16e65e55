// Request body decoding with encoding/json semantics: field names match case-insensitively,
// unknown fields are ignored, null means "absent", and a wrong JSON type is an error worded
// like Go's ("json: cannot unmarshal string into Go struct field ... of type int").
import type { CheckInput, NodeInput, ServiceAddress, ServiceInput, Weights } from './state.js';

export class DecodeError extends Error {}

type Obj = Record<string, unknown>;

function goType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return `number ${String(v)}`.replace(/^number (\d+)$/, 'number');
  return typeof v;
}

function fail(v: unknown, path: string, type: string): never {
  throw new DecodeError(
    `json: cannot unmarshal ${goType(v)} into Go struct field ${path} of type ${type}`,
  );
}

const folded = new WeakMap<Obj, Map<string, string>>();

/** Go's decoder: exact key first, then a case-insensitive match. */
export function field(obj: Obj, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return obj[name];
  let keys = folded.get(obj);
  if (keys === undefined) {
    keys = new Map();
    for (const key of Object.keys(obj)) {
      const low = key.toLowerCase();
      if (!keys.has(low)) keys.set(low, key);
    }
    folded.set(obj, keys);
  }
  const key = keys.get(name.toLowerCase());
  return key === undefined ? undefined : obj[key];
}

export function obj(v: unknown, path: string, type: string): Obj | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) fail(v, path, type);
  return v as Obj;
}

export function str(o: Obj, name: string, path: string): string {
  const v = field(o, name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(v, `${path}.${name}`, 'string');
  return v;
}

export function int(o: Obj, name: string, path: string): number {
  const v = field(o, name);
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(v, `${path}.${name}`, 'int');
  return v;
}

export function bool(o: Obj, name: string, path: string): boolean {
  const v = field(o, name);
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') fail(v, `${path}.${name}`, 'bool');
  return v;
}

export function strList(o: Obj, name: string, path: string): string[] | null {
  const v = field(o, name);
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) fail(v, `${path}.${name}`, '[]string');
  return v.map((item) => {
    if (typeof item !== 'string') fail(item, `${path}.${name}`, 'string');
    return item;
  });
}

export function strMap(o: Obj, name: string, path: string): Record<string, string> | null {
  const v = obj(field(o, name), `${path}.${name}`, 'map[string]string');
  if (v === null) return null;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') fail(val, `${path}.${name}`, 'string');
    out[k] = val;
  }
  return out;
}

/** Namespace/Partition fields (acl.EnterpriseMeta), set only when given non-empty. */
function entFields(o: Obj, path: string): { Namespace?: string; Partition?: string } {
  const out: { Namespace?: string; Partition?: string } = {};
  const ns = str(o, 'Namespace', path);
  const ap = str(o, 'Partition', path);
  if (ns !== '') out.Namespace = ns;
  if (ap !== '') out.Partition = ap;
  return out;
}

function weights(o: Obj, path: string): Weights | null {
  const w = obj(field(o, 'Weights'), `${path}.Weights`, 'Weights');
  if (w === null) return null;
  return {
    Passing: int(w, 'Passing', `${path}.Weights`),
    Warning: int(w, 'Warning', `${path}.Weights`),
  };
}

function serviceTaggedAddresses(o: Obj, path: string): Record<string, ServiceAddress> | null {
  const v = obj(
    field(o, 'TaggedAddresses'),
    `${path}.TaggedAddresses`,
    'map[string]ServiceAddress',
  );
  if (v === null) return null;
  const out: Record<string, ServiceAddress> = {};
  for (const [k, entry] of Object.entries(v)) {
    const e = obj(entry, `${path}.TaggedAddresses`, 'ServiceAddress') ?? {};
    out[k] = {
      Address: str(e, 'Address', `${path}.TaggedAddresses`),
      Port: int(e, 'Port', `${path}.TaggedAddresses`),
    };
  }
  return out;
}

/**
 * A service body (structs.NodeService for register, api.AgentService for txn). In a txn the API
 * struct's Weights is a value, so an absent Weights arrives as {0,0} (then defaulted to {1,1}).
 */
export function decodeService(o: Obj, path: string, weightsByValue: boolean): ServiceInput {
  return {
    Kind: str(o, 'Kind', path),
    ID: str(o, 'ID', path),
    Service: str(o, 'Service', path),
    Tags: strList(o, 'Tags', path),
    Address: str(o, 'Address', path),
    TaggedAddresses: serviceTaggedAddresses(o, path),
    Meta: strMap(o, 'Meta', path),
    Port: int(o, 'Port', path),
    Weights: weights(o, path) ?? (weightsByValue ? { Passing: 0, Warning: 0 } : null),
    EnableTagOverride: bool(o, 'EnableTagOverride', path),
    ...entFields(o, path),
  };
}

export function decodeNode(o: Obj, path: string, nameField: 'Node'): NodeInput {
  return {
    ID: str(o, 'ID', path),
    Node: str(o, nameField, path),
    Address: str(o, 'Address', path),
    Datacenter: str(o, 'Datacenter', path),
    TaggedAddresses: strMap(o, 'TaggedAddresses', path),
    Meta: strMap(o, 'Meta', path),
    ...(str(o, 'Partition', path) === '' ? {} : { Partition: str(o, 'Partition', path) }),
  };
}

export function decodeCheck(o: Obj, path: string): CheckInput {
  const def = obj(field(o, 'Definition'), `${path}.Definition`, 'HealthCheckDefinition') ?? {};
  const checkId = str(o, 'CheckID', path);
  const name = str(o, 'Name', path);
  return {
    Node: str(o, 'Node', path),
    // checkPreApply: the ID defaults to the name
    CheckID: checkId === '' ? name : checkId,
    Name: name,
    Status: str(o, 'Status', path),
    Notes: str(o, 'Notes', path),
    Output: str(o, 'Output', path),
    ServiceID: str(o, 'ServiceID', path),
    ServiceName: str(o, 'ServiceName', path),
    ServiceTags: strList(o, 'ServiceTags', path),
    Type: str(o, 'Type', path),
    Interval: str(o, 'Interval', path),
    Timeout: str(o, 'Timeout', path),
    ExposedPort: int(o, 'ExposedPort', path),
    Definition: { ...def },
    ...entFields(o, path),
  };
}

export interface RegisterRequest {
  ID: string;
  Node: string;
  Address: string;
  Datacenter: string;
  TaggedAddresses: Record<string, string> | null;
  NodeMeta: Record<string, string> | null;
  Service: ServiceInput | null;
  Checks: CheckInput[];
  SkipNodeUpdate: boolean;
  /** Enterprise: the request's EnterpriseMeta (body fields; '' when absent). */
  Namespace: string;
  Partition: string;
  /** Set by register(): whether the node record carries its Partition. */
  enterprise?: boolean;
}

export function decodeRegister(body: unknown): RegisterRequest {
  const o = obj(body, 'RegisterRequest', 'structs.RegisterRequest') ?? {};
  const P = 'RegisterRequest';
  const svc = obj(field(o, 'Service'), `${P}.Service`, 'structs.NodeService');
  const checks: CheckInput[] = [];
  const single = obj(field(o, 'Check'), `${P}.Check`, 'structs.HealthCheck');
  const many = field(o, 'Checks');
  if (many !== undefined && many !== null) {
    if (!Array.isArray(many)) fail(many, `${P}.Checks`, 'structs.HealthChecks');
    for (const c of many)
      checks.push(decodeCheck(obj(c, `${P}.Checks`, 'structs.HealthCheck') ?? {}, `${P}.Checks`));
  }
  // Catalog.Register moves the single Check into Checks (appended last)
  if (single !== null) checks.push(decodeCheck(single, `${P}.Check`));
  return {
    ID: str(o, 'ID', P),
    Node: str(o, 'Node', P),
    Address: str(o, 'Address', P),
    Datacenter: str(o, 'Datacenter', P),
    TaggedAddresses: strMap(o, 'TaggedAddresses', P),
    NodeMeta: strMap(o, 'NodeMeta', P),
    Service: svc === null ? null : decodeService(svc, `${P}.Service`, false),
    Checks: checks,
    SkipNodeUpdate: bool(o, 'SkipNodeUpdate', P),
    Namespace: str(o, 'Namespace', P),
    Partition: str(o, 'Partition', P),
  };
}

export interface DeregisterRequest {
  Node: string;
  ServiceID: string;
  CheckID: string;
  Namespace: string;
  Partition: string;
}

export function decodeDeregister(body: unknown): DeregisterRequest {
  const o = obj(body, 'DeregisterRequest', 'structs.DeregisterRequest') ?? {};
  const P = 'DeregisterRequest';
  return {
    Node: str(o, 'Node', P),
    ServiceID: str(o, 'ServiceID', P),
    CheckID: str(o, 'CheckID', P),
    Namespace: str(o, 'Namespace', P),
    Partition: str(o, 'Partition', P),
  };
}

export interface TenancyBody {
  Name: string;
  Description: string;
  ACLs: {
    PolicyDefaults: { ID: string; Name: string }[];
    RoleDefaults: { ID: string; Name: string }[];
  } | null;
  Meta: Record<string, string> | null;
  Partition: string;
}

function aclLinks(o: Obj, name: string, path: string): { ID: string; Name: string }[] {
  const v = field(o, name);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(v, `${path}.${name}`, '[]*structs.ACLLink');
  return v.map((item) => {
    const l = obj(item, `${path}.${name}`, 'structs.ACLLink') ?? {};
    return { ID: str(l, 'ID', `${path}.${name}`), Name: str(l, 'Name', `${path}.${name}`) };
  });
}

/** The body of PUT /v1/namespace and /v1/partition (api.Namespace, api.Partition). */
export function decodeTenancy(body: unknown, type: 'Namespace' | 'Partition'): TenancyBody {
  const o = obj(body, type, `structs.${type}`) ?? {};
  const acls =
    type === 'Namespace'
      ? obj(field(o, 'ACLs'), `${type}.ACLs`, 'structs.NamespaceACLConfig')
      : null;
  return {
    Name: str(o, 'Name', type),
    Description: str(o, 'Description', type),
    ACLs:
      acls === null
        ? null
        : {
            PolicyDefaults: aclLinks(acls, 'PolicyDefaults', `${type}.ACLs`),
            RoleDefaults: aclLinks(acls, 'RoleDefaults', `${type}.ACLs`),
          },
    Meta: type === 'Namespace' ? strMap(o, 'Meta', type) : null,
    Partition: type === 'Namespace' ? str(o, 'Partition', type) : '',
  };
}

export type TxnOp =
  | {
      type: 'KV';
      verb: string;
      key: string;
      value: string | null;
      flags: number;
      index: number;
      session: string;
    }
  | { type: 'Node'; verb: string; node: NodeInput; modifyIndex: number }
  | { type: 'Service'; verb: string; node: string; service: ServiceInput; modifyIndex: number }
  | { type: 'Check'; verb: string; check: CheckInput; modifyIndex: number }
  | { type: 'none' };

export function decodeTxn(body: unknown): TxnOp[] {
  if (!Array.isArray(body)) {
    throw new DecodeError(
      `json: cannot unmarshal ${goType(body)} into Go value of type api.TxnOps`,
    );
  }
  return body.map((raw): TxnOp => {
    const op = obj(raw, 'TxnOp', 'api.TxnOp') ?? {};
    const kv = obj(field(op, 'KV'), 'TxnOp.KV', 'api.KVTxnOp');
    if (kv !== null) {
      const value = field(kv, 'Value');
      if (value !== undefined && value !== null && typeof value !== 'string')
        fail(value, 'TxnOp.KV.Value', '[]uint8');
      if (typeof value === 'string' && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
        throw new DecodeError(`illegal base64 data at input byte 0`);
      }
      return {
        type: 'KV',
        verb: str(kv, 'Verb', 'TxnOp.KV'),
        key: str(kv, 'Key', 'TxnOp.KV'),
        value: typeof value === 'string' ? value : null,
        flags: int(kv, 'Flags', 'TxnOp.KV'),
        index: int(kv, 'Index', 'TxnOp.KV'),
        session: str(kv, 'Session', 'TxnOp.KV'),
      };
    }
    const node = obj(field(op, 'Node'), 'TxnOp.Node', 'api.NodeTxnOp');
    if (node !== null) {
      const n = obj(field(node, 'Node'), 'TxnOp.Node.Node', 'api.Node') ?? {};
      return {
        type: 'Node',
        verb: str(node, 'Verb', 'TxnOp.Node'),
        node: decodeNode(n, 'TxnOp.Node.Node', 'Node'),
        modifyIndex: int(n, 'ModifyIndex', 'TxnOp.Node.Node'),
      };
    }
    const svc = obj(field(op, 'Service'), 'TxnOp.Service', 'api.ServiceTxnOp');
    if (svc !== null) {
      const s = obj(field(svc, 'Service'), 'TxnOp.Service.Service', 'api.AgentService') ?? {};
      return {
        type: 'Service',
        verb: str(svc, 'Verb', 'TxnOp.Service'),
        node: str(svc, 'Node', 'TxnOp.Service'),
        service: decodeService(s, 'TxnOp.Service.Service', true),
        modifyIndex: int(s, 'ModifyIndex', 'TxnOp.Service.Service'),
      };
    }
    const check = obj(field(op, 'Check'), 'TxnOp.Check', 'api.CheckTxnOp');
    if (check !== null) {
      const c = obj(field(check, 'Check'), 'TxnOp.Check.Check', 'api.HealthCheck') ?? {};
      return {
        type: 'Check',
        verb: str(check, 'Verb', 'TxnOp.Check'),
        check: decodeCheck(c, 'TxnOp.Check.Check'),
        modifyIndex: int(c, 'ModifyIndex', 'TxnOp.Check.Check'),
      };
    }
    return { type: 'none' };
  });
}
