// Discovery documents (/version, /api, /apis, APIResourceLists) and a minimal OpenAPI v3 that
// tells kubectl which operations accept ?fieldValidation= (server-side field validation).
import { apiVersionOf, type ResourceDef } from './resource-def.js';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '59526cd4867447956156ae3a602fcbac10ac2c84',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:02:27Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export interface GroupVersion {
  group: string;
  version: string;
  defs: ResourceDef[];
}

export function groupVersions(defs: ResourceDef[]): GroupVersion[] {
  const out: GroupVersion[] = [];
  for (const d of defs) {
    let gv = out.find((g) => g.group === d.group && g.version === d.version);
    if (!gv) out.push((gv = { group: d.group, version: d.version, defs: [] }));
    gv.defs.push(d);
  }
  return out;
}

export function apiVersions(serverAddress: string): unknown {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(gv: GroupVersion): unknown {
  const v = { groupVersion: `${gv.group}/${gv.version}`, version: gv.version };
  return { name: gv.group, versions: [v], preferredVersion: v };
}

export function apiGroupList(gvs: GroupVersion[]): unknown {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: gvs.filter((g) => g.group).map(apiGroup),
  };
}

export function apiGroupDoc(gv: GroupVersion): unknown {
  return { kind: 'APIGroup', apiVersion: 'v1', ...(apiGroup(gv) as object) };
}

export function apiResourceList(gv: GroupVersion): unknown {
  const resources: unknown[] = [];
  for (const d of gv.defs) {
    const r: Record<string, unknown> = {
      name: d.resource,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: d.verbs,
    };
    if (d.shortNames.length) r.shortNames = d.shortNames;
    if (d.categories?.length) r.categories = d.categories;
    resources.push(r);
    for (const sub of d.subresources) {
      // pods/binding is create-only and takes a Binding; status subresources read and write
      const binding = sub === 'binding';
      resources.push({
        name: `${d.resource}/${sub}`,
        singularName: '',
        namespaced: d.namespaced,
        kind: binding ? 'Binding' : d.kind,
        verbs: binding ? ['create'] : ['get', 'patch', 'update'],
      });
    }
  }
  const list: Record<string, unknown> = { kind: 'APIResourceList' };
  if (gv.group) list.apiVersion = 'v1';
  list.groupVersion = gv.group ? `${gv.group}/${gv.version}` : gv.version;
  list.resources = resources;
  return list;
}

function gvPath(gv: GroupVersion): string {
  return gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;
}

export function openApiV3Root(gvs: GroupVersion[]): unknown {
  const paths: Record<string, unknown> = {};
  for (const gv of gvs) {
    paths[gvPath(gv)] = {
      serverRelativeURL: `/openapi/v3/${gvPath(gv)}?hash=EMULATOR${gv.version}`,
    };
  }
  return { paths };
}

/**
 * Per group-version OpenAPI v3 document with just the operations and parameters kubectl
 * inspects. PATCH advertises only JSON and merge patch bodies, so `kubectl apply` computes its
 * strategic merge patch from its built-in types rather than from schemas this document lacks.
 */
export function openApiV3GroupVersion(gv: GroupVersion): unknown {
  const paths: Record<string, unknown> = {};
  const param = (name: string): unknown => ({
    name,
    in: 'query',
    schema: { type: 'string', uniqueItems: true },
  });
  const common = [
    param('dryRun'),
    param('fieldManager'),
    param('fieldValidation'),
    param('pretty'),
  ];
  const body = { content: { '*/*': { schema: { type: 'object' } } } };
  for (const d of gv.defs) {
    const gvk = { group: d.group, version: d.version, kind: d.kind };
    const base = `/${gvPath(gv)}${d.namespaced ? '/namespaces/{namespace}' : ''}/${d.resource}`;
    const ok = { responses: { '200': { description: 'OK' } } };
    // a read-only resource (core/v1 events here) has no write operation to describe
    if (!d.verbs.includes('create')) continue;
    paths[base] = {
      post: {
        ...ok,
        operationId: `create${d.kind}`,
        parameters: common,
        requestBody: body,
        'x-kubernetes-action': 'post',
        'x-kubernetes-group-version-kind': gvk,
      },
    };
    paths[`${base}/{name}`] = {
      put: {
        ...ok,
        operationId: `replace${d.kind}`,
        parameters: common,
        requestBody: body,
        'x-kubernetes-action': 'put',
        'x-kubernetes-group-version-kind': gvk,
      },
      patch: {
        ...ok,
        operationId: `patch${d.kind}`,
        parameters: [...common, param('force')],
        requestBody: {
          content: {
            'application/json-patch+json': { schema: { type: 'object' } },
            'application/merge-patch+json': { schema: { type: 'object' } },
          },
        },
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion },
    paths,
    components: { schemas: {} },
  };
}

export { apiVersionOf };
