// What a registration carries besides its address (docs/reference.md "Kubernetes → Consul" meta, tags, weights): the
// service-tags, service-weight and service-meta-* annotations, port-<name> meta, and Consul's
// limits on meta, which decide what is dropped with a warning.
import {
  ANNOTATION_SERVICE_META_PREFIX,
  ANNOTATION_SERVICE_TAGS,
  ANNOTATION_SERVICE_WEIGHT,
  META_PORT_PREFIX,
  META_RESERVED_PREFIX,
} from './keys.js';
import { stringField } from './accessors.js';
import { compareStrings } from './order.js';
import type { ServicePort, ToConsulSettings } from './types.js';
import { quote, truncate } from './warnings.js';

/** Consul's limits on service meta (consul agent/structs: metaMaxKeyPairs and friends). */
export const CONSUL_META_MAX_PAIRS = 64;
export const CONSUL_META_KEY_MAX_LENGTH = 128;
export const CONSUL_META_VALUE_MAX_BYTES = 512;
export const CONSUL_META_RESERVED_PREFIX = 'consul-';
const CONSUL_META_KEY_FORMAT = /^[A-Za-z0-9_-]+$/;

/**
 * The service-tags annotation: comma-separated, `\,` is a literal comma inside a tag (as
 * consul-k8s parsetags), each tag trimmed, empty entries dropped, duplicates removed (first
 * occurrence kept). The k8s tag is added by the caller.
 */
export function parseTags(value: string): string[] {
  const tags: string[] = [];
  const seen = new Set<string>();
  let next = '';
  const push = (): void => {
    const tag = next.trim();
    next = '';
    if (tag !== '' && !seen.has(tag)) {
      seen.add(tag);
      tags.push(tag);
    }
  };
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && value[i + 1] === ',') {
      next += ',';
      i++;
    } else if (ch === ',') {
      push();
    } else {
      next += ch;
    }
  }
  push();
  return tags;
}

export function serviceWeight(annotations: Record<string, unknown>, warnings: string[]): number {
  const raw = stringField(annotations, ANNOTATION_SERVICE_WEIGHT);
  if (raw === undefined) return 1;
  // consul-k8s's getServiceWeight: an integer greater than 1, else ignored (1, Consul's default).
  if (/^[0-9]+$/.test(raw)) {
    const n = Number(raw);
    if (n > 1 && Number.isSafeInteger(n)) return n;
  }
  warnings.push(`service-weight ${quote(raw)} is not an integer greater than 1; using 1`);
  return 1;
}

function metaPairProblem(key: string, value: string): string | undefined {
  if (key === '') return 'the key is empty';
  if (!CONSUL_META_KEY_FORMAT.test(key)) return 'the key may only contain A-Z a-z 0-9 _ -';
  if (key.length > CONSUL_META_KEY_MAX_LENGTH)
    return `the key is longer than ${CONSUL_META_KEY_MAX_LENGTH} characters`;
  if (key.startsWith(CONSUL_META_RESERVED_PREFIX))
    return `the key prefix "${CONSUL_META_RESERVED_PREFIX}" is reserved by Consul`;
  if (Buffer.byteLength(value, 'utf8') > CONSUL_META_VALUE_MAX_BYTES)
    return `the value is longer than ${CONSUL_META_VALUE_MAX_BYTES} bytes`;
  return undefined;
}

/** port-<name> keys that Consul accepts (a malformed port name is dropped with a warning). */
export function acceptedPortKeys(
  namedPorts: readonly ServicePort[],
  warnings: string[],
): Set<string> {
  const keys = new Set<string>();
  for (const p of namedPorts) {
    const key = META_PORT_PREFIX + (p.name ?? '');
    if (keys.has(key)) continue;
    const problem = metaPairProblem(key, '65535');
    if (problem) {
      warnings.push(
        `port name ${quote(p.name ?? '')} cannot be a Consul meta key (${problem}); meta ${quote(key)} dropped`,
      );
      continue;
    }
    if (4 + 1 + keys.size >= CONSUL_META_MAX_PAIRS) {
      warnings.push(`more than ${CONSUL_META_MAX_PAIRS} meta pairs; meta ${quote(key)} dropped`);
      continue;
    }
    keys.add(key);
  }
  return keys;
}

/**
 * consul.hashicorp.com/service-meta-<KEY> annotations, sorted by key, filtered by Consul's
 * limits. They never override external-* keys; our own keys take the first places of the 64.
 * As in consul-k8s (and not forbidden by docs/reference.md) an annotation may override a port-<name> key.
 */
export function annotationMeta(
  annotations: Record<string, unknown>,
  ownPortKeys: ReadonlySet<string>,
  ownCount: number,
  warnings: string[],
): [string, string][] {
  const accepted: [string, string][] = [];
  let count = ownCount;
  const keys = Object.keys(annotations)
    .filter((k) => k.startsWith(ANNOTATION_SERVICE_META_PREFIX))
    .sort(compareStrings);
  for (const annotationKey of keys) {
    const value = stringField(annotations, annotationKey);
    if (value === undefined) continue;
    const key = annotationKey.slice(ANNOTATION_SERVICE_META_PREFIX.length);
    const label = `service-meta-${truncate(key, 80)}`;
    if (key.startsWith(META_RESERVED_PREFIX)) {
      warnings.push(
        `${label}: meta keys starting with "${META_RESERVED_PREFIX}" are reserved for the sync; dropped`,
      );
      continue;
    }
    const problem = metaPairProblem(key, value);
    if (problem) {
      warnings.push(`${label}: ${problem}; dropped`);
      continue;
    }
    if (!ownPortKeys.has(key)) {
      if (count >= CONSUL_META_MAX_PAIRS) {
        warnings.push(
          `${label}: Consul allows at most ${CONSUL_META_MAX_PAIRS} meta pairs; dropped`,
        );
        continue;
      }
      count++;
    }
    accepted.push([key, value]);
  }
  return accepted;
}

/** Tags of every instance: the k8s tag (unless empty), then the service-tags annotation's. */
export function serviceTags(
  annotations: Record<string, unknown>,
  settings: Pick<ToConsulSettings, 'consulK8sTag'>,
): string[] {
  return [
    ...new Set([
      ...(settings.consulK8sTag === '' ? [] : [settings.consulK8sTag]),
      ...parseTags(stringField(annotations, ANNOTATION_SERVICE_TAGS) ?? ''),
    ]),
  ];
}
