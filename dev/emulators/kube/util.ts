// Small helpers shared by the Kubernetes API emulator: JSON shapes, cloning, time formats, ids.
import { randomUUID } from 'node:crypto';

export type JsonObject = { [key: string]: unknown };

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

/** Any stored API object: typed metadata, everything else loose. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep copy of plain JSON data (stored objects are immutable; every change works on a copy). */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Field order the real API server's Go structs give metadata. */
const META_ORDER = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

/** Rebuild an object with keys in the given order first, then any others in their own order. */
export function orderKeys(obj: JsonObject, order: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const key of order) if (obj[key] !== undefined) out[key] = obj[key];
  for (const [key, value] of Object.entries(obj)) {
    if (value !== undefined && !(key in out)) out[key] = value;
  }
  return out;
}

export function orderMeta(meta: ObjectMeta): ObjectMeta {
  return orderKeys(meta, META_ORDER);
}

export function uuid(): string {
  return randomUUID();
}

/** RFC3339 with seconds, as metav1.Time serializes. */
export function nowRfc3339(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const hrStart = process.hrtime.bigint();
const wallStart = Date.now();

/** RFC3339 with microseconds, as metav1.MicroTime serializes (audit timestamps). */
export function nowMicro(): string {
  const micros = BigInt(wallStart) * 1000n + (process.hrtime.bigint() - hrStart) / 1000n;
  const ms = Number(micros / 1000n);
  const frac = String(micros % 1000000n).padStart(6, '0');
  return new Date(ms).toISOString().slice(0, 19) + '.' + frac + 'Z';
}

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The 5-character random suffix `generateName` appends (apiserver's SimpleNameGenerator). */
export function randomSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out += NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)];
  }
  return out;
}

export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (isObject(v)) {
      const sorted: JsonObject = {};
      for (const k of Object.keys(v).sort()) sorted[k] = v[k];
      return sorted;
    }
    return v;
  });
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

export function stringMap(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asObject(value: unknown): JsonObject {
  return isObject(value) ? value : {};
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A string view of a JSON scalar ('' for absent or structured values). */
export function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return '';
}
