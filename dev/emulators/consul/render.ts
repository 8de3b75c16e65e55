// JSON renderings of the catalog records, field for field as Consul's Go structs marshal them
// (structs.Node, ServiceNode, NodeService, HealthCheck), including which fields are omitted
// when empty and where nil slices/maps come out as null rather than [] / {}.
import type {
  CheckRec,
  EntMeta,
  KVRec,
  NamespaceRec,
  NodeRec,
  PartitionRec,
  ServiceRec,
} from './state.js';

export type Json = Record<string, unknown>;

const proxy = (): Json => ({ Mode: '', MeshGateway: {}, Expose: {} });

/**
 * acl.EnterpriseMeta, squashed into the struct: Consul Enterprise always fills both fields
 * (normalized to "default"); open source has neither (records carry them only in Enterprise mode).
 */
function entMeta(out: Json, r: EntMeta): void {
  if (r.Partition !== undefined) out.Partition = r.Partition;
  if (r.Namespace !== undefined) out.Namespace = r.Namespace;
}

export function renderNode(n: NodeRec): Json {
  const out: Json = { ID: n.ID, Node: n.Node, Address: n.Address, Datacenter: n.Datacenter };
  // structs.Node.Partition is `json:",omitempty"`
  if (n.Partition !== undefined && n.Partition !== '') out.Partition = n.Partition;
  out.TaggedAddresses = n.TaggedAddresses;
  out.Meta = n.Meta;
  out.CreateIndex = n.CreateIndex;
  out.ModifyIndex = n.ModifyIndex;
  return out;
}

/** A field renderer's answer for a field left out of the JSON (omitempty). */
const OMIT = Symbol('omit');
type FieldRenderer = (s: ServiceRec, n: NodeRec | undefined) => unknown;

/**
 * structs.ServiceNode field by field, in its JSON order: one table for the whole rendering and
 * for the fields a filter reads (renderServiceNodeFields), so the two cannot drift apart.
 */
const SERVICE_NODE_FIELDS: readonly (readonly [string, FieldRenderer])[] = [
  ['ID', (_s, n) => n?.ID ?? ''],
  ['Node', (s) => s.Node],
  ['Address', (_s, n) => n?.Address ?? ''],
  ['Datacenter', (_s, n) => n?.Datacenter ?? ''],
  ['TaggedAddresses', (_s, n) => n?.TaggedAddresses ?? null],
  ['NodeMeta', (_s, n) => n?.Meta ?? null],
  ['ServiceKind', (s) => s.Kind],
  ['ServiceID', (s) => s.ID],
  ['ServiceName', (s) => s.Service],
  ['ServiceTags', (s) => [...(s.Tags ?? [])]],
  ['ServiceAddress', (s) => s.Address],
  [
    'ServiceTaggedAddresses',
    (s) =>
      s.TaggedAddresses !== null && Object.keys(s.TaggedAddresses).length > 0
        ? s.TaggedAddresses
        : OMIT,
  ],
  ['ServiceWeights', (s) => ({ ...s.Weights })],
  ['ServiceMeta', (s) => ({ ...(s.Meta ?? {}) })],
  ['ServicePort', (s) => s.Port],
  ['ServiceSocketPath', () => ''],
  ['ServiceEnableTagOverride', (s) => s.EnableTagOverride],
  ['ServiceProxy', () => proxy()],
  ['ServiceConnect', () => ({})],
  // acl.EnterpriseMeta (see entMeta)
  ['Partition', (s) => s.Partition ?? OMIT],
  ['Namespace', (s) => s.Namespace ?? OMIT],
  ['CreateIndex', (s) => s.CreateIndex],
  ['ModifyIndex', (s) => s.ModifyIndex],
];

function renderWith(
  table: readonly (readonly [string, FieldRenderer])[],
  s: ServiceRec,
  n: NodeRec | undefined,
): Json {
  const out: Json = {};
  for (const [key, render] of table) {
    const value = render(s, n);
    if (value !== OMIT) out[key] = value;
  }
  return out;
}

/** structs.ServiceNode as /v1/catalog/service/:name returns it (PartialClone: tags/meta never null). */
export function renderServiceNode(s: ServiceRec, n: NodeRec | undefined): Json {
  return renderWith(SERVICE_NODE_FIELDS, s, n);
}

/**
 * A renderer of only the named fields of renderServiceNode, with the same values: what a filter
 * reads of an instance it only decides on (catalog/services), without rendering the rest.
 */
export function serviceNodeFieldsRenderer(
  fields: ReadonlySet<string>,
): (s: ServiceRec, n: NodeRec | undefined) => Json {
  const table = SERVICE_NODE_FIELDS.filter(([key]) => fields.has(key));
  return (s, n) => renderWith(table, s, n);
}

/**
 * structs.NodeService. The HTTP list endpoints replace nil Tags with [] (`emptyTags`); the txn
 * endpoint returns the stored value as is.
 */
export function renderNodeService(s: ServiceRec, emptyTags: boolean): Json {
  const out: Json = {};
  if (s.Kind !== '') out.Kind = s.Kind;
  out.ID = s.ID;
  out.Service = s.Service;
  out.Tags = s.Tags === null ? (emptyTags ? [] : null) : [...s.Tags];
  out.Address = s.Address;
  if (s.TaggedAddresses !== null && Object.keys(s.TaggedAddresses).length > 0) {
    out.TaggedAddresses = s.TaggedAddresses;
  }
  out.Meta = s.Meta === null ? null : { ...s.Meta };
  if (s.Port !== 0) out.Port = s.Port;
  out.Weights = { ...s.Weights };
  out.EnableTagOverride = s.EnableTagOverride;
  out.Proxy = proxy();
  out.Connect = {};
  entMeta(out, s);
  out.CreateIndex = s.CreateIndex;
  out.ModifyIndex = s.ModifyIndex;
  return out;
}

export function renderCheck(c: CheckRec, emptyTags: boolean): Json {
  const out: Json = {
    Node: c.Node,
    CheckID: c.CheckID,
    Name: c.Name,
    Status: c.Status,
    Notes: c.Notes,
    Output: c.Output,
    ServiceID: c.ServiceID,
    ServiceName: c.ServiceName,
    ServiceTags: c.ServiceTags === null ? (emptyTags ? [] : null) : [...c.ServiceTags],
    Type: c.Type,
    Interval: c.Interval,
    Timeout: c.Timeout,
    ExposedPort: c.ExposedPort,
    Definition: { ...c.Definition },
  };
  entMeta(out, c);
  out.CreateIndex = c.CreateIndex;
  out.ModifyIndex = c.ModifyIndex;
  return out;
}

/** api.Namespace: ACLs and Meta are omitted when empty, as for the builtin default namespace. */
export function renderNamespace(n: NamespaceRec): Json {
  const out: Json = { Name: n.Name, Description: n.Description };
  if (n.ACLs !== null) out.ACLs = structuredClone(n.ACLs);
  if (n.Meta !== null && Object.keys(n.Meta).length > 0) out.Meta = { ...n.Meta };
  out.Partition = n.Partition;
  out.CreateIndex = n.CreateIndex;
  out.ModifyIndex = n.ModifyIndex;
  return out;
}

export function renderPartition(p: PartitionRec): Json {
  return {
    Name: p.Name,
    Description: p.Description,
    CreateIndex: p.CreateIndex,
    ModifyIndex: p.ModifyIndex,
  };
}

export function renderKV(k: KVRec, withValue: boolean): Json {
  const out: Json = {
    LockIndex: k.LockIndex,
    Key: k.Key,
    Flags: k.Flags,
    Value: withValue ? k.Value : null,
  };
  if (k.Session !== undefined && k.Session !== '') out.Session = k.Session;
  out.CreateIndex = k.CreateIndex;
  out.ModifyIndex = k.ModifyIndex;
  return out;
}
