// Hostile-input building blocks: JSON mutation of real payloads (drop, replace, retype, insert,
// duplicate) with fast-check, and the hostile values they plant. Pure; no I/O.
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** `[[[…]]]` / `{"a":{"a":…}}` nested `depth` levels. */
export function deepArray(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}
export function deepObjectText(depth: number): string {
  return '{"a":'.repeat(depth) + 'null' + '}'.repeat(depth);
}
export function deepObject(depth: number): Json {
  let v: Json = null;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

/** Strings no Kubernetes or Consul name can hold: control characters, bidi overrides, … */
export const ODD_STRINGS = [
  '\u0000',
  'web\u0000',
  '\u202eevil',
  'a\nb',
  '\r\n\t',
  '\u001b[31mred',
  '😀',
  'wéb',
  'Ω'.repeat(300),
  '',
  ' ',
  '../../etc/passwd',
  'a/b',
  '"quoted" and \\backslash',
  '__proto__',
  'constructor',
  '${jndi:ldap://x}',
  '\ud800',
  '\udfff\ud800',
  'true',
  '1e309',
];

/** Numbers at and past the edges of every field that holds one. */
export const ODD_NUMBERS = [
  -1,
  0,
  65535,
  65536,
  2 ** 31,
  2 ** 32,
  2 ** 53 + 2,
  -(2 ** 63),
  1e308,
  -1e308,
  1.5,
  -0,
  Number.MIN_VALUE,
];

export const HUGE_STRING = 'x'.repeat(70_000);

/** A value to plant somewhere in a payload. */
export const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.boolean() },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 3, arbitrary: fc.constantFrom(...ODD_NUMBERS) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 4, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 1, arbitrary: fc.constant(HUGE_STRING) },
  { weight: 1, arbitrary: fc.constant(deepObject(150)) },
  { weight: 1, arbitrary: fc.constant(deepObject(60)) },
  {
    weight: 2,
    arbitrary: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }) as fc.Arbitrary<Json>,
  },
  {
    weight: 2,
    arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
      maxKeys: 4,
    }) as fc.Arbitrary<Json>,
  },
  { weight: 1, arbitrary: fc.constant(Array.from({ length: 5000 }, (_, i) => i)) },
);

export type Mutation =
  | { action: 'delete'; at: number }
  | { action: 'replace'; at: number; value: Json }
  | { action: 'retype'; at: number }
  | { action: 'insert'; at: number; key: string; value: Json }
  | { action: 'duplicate'; at: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ action: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ action: fc.constant('replace' as const), at: fc.nat(), value: hostileValue }),
  fc.record({ action: fc.constant('retype' as const), at: fc.nat() }),
  fc.record({
    action: fc.constant('insert' as const),
    at: fc.nat(),
    key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor')),
    value: hostileValue,
  }),
  fc.record({ action: fc.constant('duplicate' as const), at: fc.nat() }),
);

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every path in the value, the root's children first (depth-first). */
export function pathsOf(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([...prefix, i]);
      pathsOf(v, [...prefix, i], out);
    });
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      out.push([...prefix, k]);
      pathsOf(v, [...prefix, k], out);
    }
  }
  return out;
}

function parentOf(root: Json, path: Path): Json {
  let v: Json = root;
  for (const p of path.slice(0, -1)) v = (v as Record<string | number, Json>)[p]!;
  return v;
}

/** Sets an own property even for `__proto__` (plain assignment would change the prototype). */
function setProp(target: Record<string | number, Json>, key: string | number, value: Json): void {
  if (Array.isArray(target)) target[Number(key)] = value;
  else
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
}

function retype(v: Json): Json {
  if (typeof v === 'string') return v === '' ? 0 : Number.isNaN(Number(v)) ? [v] : Number(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 0;
  if (v === null) return {};
  if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]));
  return Object.values(v);
}

/**
 * Applies mutations to a copy of the payload. `__proto__` keys become own properties, as
 * JSON.parse makes them, so they reach the server as text.
 */
export function mutate(base: Json, mutations: readonly Mutation[]): Json {
  const root: { doc: Json } = { doc: structuredClone(base) };
  for (const m of mutations) {
    const paths = pathsOf(root.doc).map((p) => ['doc', ...p]);
    paths.unshift(['doc']);
    const path = paths[m.at % paths.length]!;
    const parent = parentOf(root, path) as Record<string | number, Json>;
    const key = path[path.length - 1]!;
    const current = parent[key]!;
    switch (m.action) {
      case 'delete':
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else if (key === 'doc') parent[key] = null;
        else delete parent[key];
        break;
      case 'replace':
        setProp(parent, key, structuredClone(m.value));
        break;
      case 'retype':
        setProp(parent, key, retype(current));
        break;
      case 'insert':
        if (isObject(current)) setProp(current, m.key, structuredClone(m.value));
        else if (Array.isArray(current)) current.push(structuredClone(m.value));
        else setProp(parent, key, structuredClone(m.value));
        break;
      case 'duplicate':
        if (Array.isArray(current) && current.length > 0)
          current.push(structuredClone(current[0]!));
        else if (Array.isArray(parent)) parent.push(structuredClone(current));
        break;
    }
  }
  return root.doc;
}
