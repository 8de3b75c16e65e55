// Label selectors (string form from ?labelSelector= and metav1.LabelSelector objects) and field
// selectors (?fieldSelector=), with the API server's semantics.
import { badRequest } from './status.js';
import { isObject, type KubeObject, str } from './util.js';

export type Requirement =
  | { op: '=' | '!='; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | '!'; key: string }
  | { op: 'gt' | 'lt'; key: string; value: number };

export type LabelSelector = Requirement[];

/** Parse `a=b,c!=d,e in (x,y),!f,g` into requirements. Throws 400 on syntax errors. */
export function parseLabelSelector(input: string | null | undefined): LabelSelector {
  const out: Requirement[] = [];
  if (!input || !input.trim()) return out;
  let i = 0;
  const s = input;
  const fail = (msg: string): never => {
    throw badRequest(`unable to parse requirement: ${msg}`);
  };
  const skipWs = (): void => {
    while (i < s.length && /\s/.test(s[i] ?? '')) i++;
  };
  const readKey = (): string => {
    skipWs();
    const start = i;
    while (i < s.length && /[A-Za-z0-9_./-]/.test(s[i] ?? '')) i++;
    return s.slice(start, i);
  };
  const readValue = (): string => {
    skipWs();
    const start = i;
    while (i < s.length && /[A-Za-z0-9_.-]/.test(s[i] ?? '')) i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    skipWs();
    if (s[i] === '!') {
      i++;
      const key = readKey();
      if (!key) fail(`found '${s[i] ?? 'end of string'}', expected: identifier`);
      out.push({ op: '!', key });
    } else {
      const key = readKey();
      if (!key)
        fail(`found '${s[i] ?? 'end of string'}', expected: !, identifier, or 'end of string'`);
      skipWs();
      const rest = s.slice(i);
      if (rest.startsWith('==')) {
        i += 2;
        out.push({ op: '=', key, value: readValue() });
      } else if (rest.startsWith('!=')) {
        i += 2;
        out.push({ op: '!=', key, value: readValue() });
      } else if (rest.startsWith('=')) {
        i += 1;
        out.push({ op: '=', key, value: readValue() });
      } else if (/^(in|notin)\s*\(/.test(rest)) {
        const op = rest.startsWith('in') ? 'in' : 'notin';
        i += op.length;
        skipWs();
        i++; // (
        const values: string[] = [];
        for (;;) {
          const v = readValue();
          values.push(v);
          skipWs();
          if (s[i] === ',') {
            i++;
            continue;
          }
          if (s[i] === ')') {
            i++;
            break;
          }
          fail(`found '${s[i] ?? 'end of string'}', expected: ',', or ')'`);
        }
        out.push({ op, key, values: values.filter((v) => v !== '') });
      } else if (rest.startsWith('>') || rest.startsWith('<')) {
        const op = rest.startsWith('>') ? 'gt' : 'lt';
        i += 1;
        const v = readValue();
        const n = Number(v);
        if (!/^-?\d+$/.test(v)) fail(`for 'Gt', 'Lt' operators, the value must be an integer`);
        out.push({ op, key, value: n });
      } else if (rest === '' || rest.startsWith(',')) {
        out.push({ op: 'exists', key });
      } else {
        fail(`found '${rest[0]}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    }
    skipWs();
    if (i < s.length) {
      if (s[i] !== ',') fail(`found '${s[i]}', expected: ',' or 'end of string'`);
      i++;
    }
  }
  return out;
}

export function matchesLabels(
  sel: LabelSelector,
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  for (const r of sel) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case '=':
        if (!has || v !== r.value) return false;
        break;
      case '!=':
        if (has && v === r.value) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(v ?? '')) return false;
        break;
      case 'notin':
        if (has && r.values.includes(v ?? '')) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case '!':
        if (has) return false;
        break;
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v ?? '')) return false;
        const n = Number(v);
        if (r.op === 'gt' ? !(n > r.value) : !(n < r.value)) return false;
        break;
      }
    }
  }
  return true;
}

/**
 * metav1.LabelSelector object ({matchLabels, matchExpressions}). An empty or absent selector
 * matches everything (as admission namespaceSelector/objectSelector define).
 */
export function matchesLabelSelectorObject(
  selector: unknown,
  labels: Record<string, string> | undefined,
): boolean {
  if (!isObject(selector)) return true;
  const reqs: Requirement[] = [];
  if (isObject(selector.matchLabels)) {
    for (const [k, v] of Object.entries(selector.matchLabels)) {
      reqs.push({ op: '=', key: k, value: str(v) });
    }
  }
  if (Array.isArray(selector.matchExpressions)) {
    for (const e of selector.matchExpressions) {
      if (!isObject(e)) continue;
      const key = str(e.key ?? '');
      const values = Array.isArray(e.values) ? e.values.map(String) : [];
      switch (e.operator) {
        case 'In':
          reqs.push({ op: 'in', key, values });
          break;
        case 'NotIn':
          reqs.push({ op: 'notin', key, values });
          break;
        case 'Exists':
          reqs.push({ op: 'exists', key });
          break;
        case 'DoesNotExist':
          reqs.push({ op: '!', key });
          break;
        default:
          return false;
      }
    }
  }
  return matchesLabels(reqs, labels);
}

// ---- field selectors -----------------------------------------------------------------------

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export type FieldSelector = FieldRequirement[];

export function parseFieldSelector(
  input: string | null | undefined,
  supported: readonly string[],
): FieldSelector {
  const out: FieldRequirement[] = [];
  if (!input || !input.trim()) return out;
  for (const part of input.split(',')) {
    const p = part.trim();
    if (!p) continue;
    let m = /^([^=!]+)!=(.*)$/.exec(p);
    let op: '=' | '!=' = '!=';
    if (!m) {
      m = /^([^=!]+)==?(.*)$/.exec(p);
      op = '=';
    }
    if (!m) throw badRequest(`invalid selector: '${input}'; can't understand '${p}'`);
    const field = (m[1] ?? '').trim();
    if (!supported.includes(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    out.push({ field, op, value: (m[2] ?? '').trim() });
  }
  return out;
}

/** How a selectable field's value is read from an object. */
export type FieldValue = (obj: KubeObject, field: string) => string;

/** The value at a field path, as a field selector compares it. */
export function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (!isObject(cur)) return '';
    cur = cur[seg];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'string'
    ? cur
    : typeof cur === 'number' || typeof cur === 'boolean'
      ? str(cur)
      : '';
}

export function matchesFields(
  sel: FieldSelector,
  obj: KubeObject,
  value: FieldValue = fieldValue,
): boolean {
  for (const r of sel) {
    const v = value(obj, r.field);
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}
