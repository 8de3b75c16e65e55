// Patch application: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and the subset of
// strategic merge patch kubectl sends for built-in kinds (merge keys, $patch, $setElementOrder,
// $deleteFromPrimitiveList, $retainKeys).
import { badRequest, KubeError } from './status.js';
import { clone, deepEqual, isObject, type JsonObject, str } from './util.js';

export function jsonMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = jsonMergePatch(out[k], v);
  }
  return out;
}

function unprocessable(message: string): KubeError {
  return new KubeError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Invalid',
    code: 422,
  });
}

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw unprocessable(`JSON pointer must start with '/': ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: unknown, path: string[]): unknown {
  let cur = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isObject(cur)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

function parentOf(doc: unknown, path: string[], op: string): { parent: unknown; key: string } {
  if (path.length === 0) throw unprocessable(`${op} operation does not apply to the document root`);
  const parent = getAt(doc, path.slice(0, -1));
  const key = path[path.length - 1] ?? '';
  if (!Array.isArray(parent) && !isObject(parent)) {
    throw unprocessable(`doc is missing path: "/${path.join('/')}": missing value`);
  }
  return { parent, key };
}

function arrayIndex(arr: unknown[], key: string, forAdd: boolean): number {
  if (forAdd && key === '-') return arr.length;
  if (!/^\d+$/.test(key)) throw unprocessable(`Unable to access invalid index: ${key}`);
  const idx = Number(key);
  if (idx > arr.length || (!forAdd && idx >= arr.length)) {
    throw unprocessable(`Unable to access invalid index: ${idx}`);
  }
  return idx;
}

function removeAt(doc: unknown, path: string[], op: string): unknown {
  const { parent, key } = parentOf(doc, path, op);
  if (Array.isArray(parent)) {
    const idx = arrayIndex(parent, key, false);
    return parent.splice(idx, 1)[0];
  }
  const obj = parent as JsonObject;
  if (!(key in obj)) {
    throw unprocessable(`doc is missing path: "/${path.join('/')}": missing value`);
  }
  const old = obj[key];
  delete obj[key];
  return old;
}

function addAt(doc: unknown, path: string[], value: unknown, replace: boolean): unknown {
  if (path.length === 0) return value;
  const { parent, key } = parentOf(doc, path, replace ? 'replace' : 'add');
  if (Array.isArray(parent)) {
    const idx = arrayIndex(parent, key, !replace);
    if (replace) parent[idx] = value;
    else parent.splice(idx, 0, value);
  } else {
    const obj = parent as JsonObject;
    if (replace && !(key in obj)) {
      throw unprocessable(`doc is missing key: /${path.join('/')}: missing value`);
    }
    obj[key] = value;
  }
  return doc;
}

export function jsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) {
    throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  }
  let doc = clone(target);
  for (const raw of patch) {
    if (!isObject(raw)) throw unprocessable('invalid JSON patch operation');
    const op = str(raw.op ?? '');
    const path = decodePointer(str(raw.path ?? ''));
    switch (op) {
      case 'add':
        doc = addAt(doc, path, clone(raw.value), false);
        break;
      case 'replace':
        doc = addAt(doc, path, clone(raw.value), true);
        break;
      case 'remove':
        removeAt(doc, path, 'remove');
        break;
      case 'move': {
        const from = decodePointer(str(raw.from ?? ''));
        const value = removeAt(doc, from, 'move');
        doc = addAt(doc, path, value, false);
        break;
      }
      case 'copy': {
        const from = decodePointer(str(raw.from ?? ''));
        doc = addAt(doc, path, clone(getAt(doc, from)), false);
        break;
      }
      case 'test': {
        if (!deepEqual(getAt(doc, path), raw.value)) {
          throw unprocessable(`testing value /${path.join('/')} failed: test failed`);
        }
        break;
      }
      default:
        throw unprocessable(`Unexpected kind: ${op}`);
    }
  }
  return doc;
}

// ---- strategic merge patch -----------------------------------------------------------------

/** Patch metadata for list fields, by dotted path without indices. */
export interface ListStrategy {
  /** merge key for lists of maps; absent for a merged primitive list (a set). */
  mergeKey?: string;
}

export type PatchMeta = Record<string, ListStrategy>;

const COMMON_META: PatchMeta = {
  'metadata.finalizers': {},
  'metadata.ownerReferences': { mergeKey: 'uid' },
};

function strategyFor(meta: PatchMeta, path: string): ListStrategy | undefined {
  return meta[path] ?? COMMON_META[path];
}

function keyOf(item: unknown, mergeKey: string): string | undefined {
  if (!isObject(item)) return undefined;
  const v = item[mergeKey];
  return v === undefined ? undefined : JSON.stringify(v);
}

function mergeList(
  original: unknown[],
  patch: unknown[],
  path: string,
  strategy: ListStrategy,
  meta: PatchMeta,
): unknown[] {
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) {
    return clone(patch.filter((p) => !(isObject(p) && p.$patch === 'replace')));
  }
  const mergeKey = strategy.mergeKey;
  if (!mergeKey) {
    const out = [...original];
    for (const v of patch) if (!out.some((o) => deepEqual(o, v))) out.push(clone(v));
    return out;
  }
  const out = original.map((o) => clone(o));
  for (const item of patch) {
    const key = keyOf(item, mergeKey);
    if (isObject(item) && item.$patch === 'delete') {
      for (let i = out.length - 1; i >= 0; i--)
        if (keyOf(out[i], mergeKey) === key) out.splice(i, 1);
      continue;
    }
    const idx = key === undefined ? -1 : out.findIndex((o) => keyOf(o, mergeKey) === key);
    if (idx >= 0) out[idx] = strategicMerge(out[idx], item, path, meta);
    else out.push(strategicMerge(undefined, item, path, meta));
  }
  return out;
}

function applyOrder(list: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const rank = (v: unknown): number => {
    const idx = order.findIndex((o) =>
      mergeKey ? keyOf(o, mergeKey) === keyOf(v, mergeKey) : deepEqual(o, v),
    );
    return idx < 0 ? Number.MAX_SAFE_INTEGER : idx;
  };
  return list
    .map((v, i) => ({ v, i, r: rank(v) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.v);
}

/** Apply a strategic merge patch; `path` is the dotted field path of `original`. */
export function strategicMerge(
  original: unknown,
  patch: unknown,
  path: string,
  meta: PatchMeta,
): unknown {
  if (!isObject(patch)) return clone(patch);
  const directive = patch.$patch;
  if (directive === 'replace') {
    const out = clone(patch);
    delete out.$patch;
    return out;
  }
  if (directive === 'delete') return undefined;
  const out: JsonObject = isObject(original) ? { ...original } : {};
  const orders: [string, unknown[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith('$setElementOrder/')) {
      orders.push([k.slice('$setElementOrder/'.length), Array.isArray(v) ? v : []]);
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) {
        out[field] = cur.filter((x) => !v.some((d) => deepEqual(d, x)));
      }
      continue;
    }
    const childPath = path ? `${path}.${k}` : k;
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      const strategy = strategyFor(meta, childPath);
      const cur = out[k];
      if (strategy && Array.isArray(cur)) out[k] = mergeList(cur, v, childPath, strategy, meta);
      else if (strategy) out[k] = mergeList([], v, childPath, strategy, meta);
      else out[k] = clone(v);
      continue;
    }
    if (isObject(v)) {
      const merged = strategicMerge(out[k], v, childPath, meta);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
      continue;
    }
    out[k] = v;
  }
  for (const [field, order] of orders) {
    const cur = out[field];
    if (Array.isArray(cur)) {
      const childPath = path ? `${path}.${field}` : field;
      out[field] = applyOrder(cur, order, strategyFor(meta, childPath)?.mergeKey);
    }
  }
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys.map(String));
    for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
  }
  return out;
}
