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

/** structs.ServiceNode as /v1/catalog/service/:name returns it (PartialClone: tags/meta never null). */
export function renderServiceNode(s: ServiceRec, n: NodeRec | undefined): Json {
  const out: Json = {
    ID: n?.ID ?? '',
    Node: s.Node,
    Address: n?.Address ?? '',
    Datacenter: n?.Datacenter ?? '',
    TaggedAddresses: n?.TaggedAddresses ?? null,
    NodeMeta: n?.Meta ?? null,
    ServiceKind: s.Kind,
    ServiceID: s.ID,
    ServiceName: s.Service,
    ServiceTags: [...(s.Tags ?? [])],
    ServiceAddress: s.Address,
  };
  if (s.TaggedAddresses !== null && Object.keys(s.TaggedAddresses).length > 0) {
    out.ServiceTaggedAddresses = s.TaggedAddresses;
  }
  out.ServiceWeights = { ...s.Weights };
  out.ServiceMeta = { ...(s.Meta ?? {}) };
  out.ServicePort = s.Port;
  out.ServiceSocketPath = '';
  out.ServiceEnableTagOverride = s.EnableTagOverride;
  out.ServiceProxy = proxy();
  out.ServiceConnect = {};
  entMeta(out, s);
  out.CreateIndex = s.CreateIndex;
  out.ModifyIndex = s.ModifyIndex;
  return out;
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
