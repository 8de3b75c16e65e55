// Safe readers of the raw objects translation gets: a webhook's input may be any JSON, so every
// field is checked for its type before use and a wrong one reads as absent.
import type { Service, ServicePort, ServiceRef } from './types.js';

/**
 * namespace/name of a service. Not in docs/reference.md: a missing namespace is read as "default" (the
 * namespace the API server would have used).
 */
export function serviceRefOf(service: Service): ServiceRef {
  const meta = isObject(service) && isObject(service.metadata) ? service.metadata : {};
  return {
    namespace: nonEmptyString(meta.namespace) ?? 'default',
    name: nonEmptyString(meta.name) ?? '',
  };
}

export function serviceType(service: Service): string {
  const type = isObject(service?.spec) ? service.spec.type : undefined;
  return nonEmptyString(type) ?? 'ClusterIP';
}

/** Whether spec.externalIPs lists any address: stops at the first, however long the list. */
export function hasExternalIPs(service: Service): boolean {
  const ips = isObject(service?.spec) ? service.spec.externalIPs : undefined;
  return Array.isArray(ips) && ips.some((ip) => nonEmptyString(ip) !== undefined);
}

export function externalIPsOf(service: Service, cap = Infinity): string[] {
  const ips = isObject(service?.spec) ? service.spec.externalIPs : undefined;
  if (!Array.isArray(ips)) return [];
  const out = new Set<string>();
  for (const ip of ips) {
    if (out.size >= cap) break;
    const address = nonEmptyString(ip);
    if (address !== undefined) out.add(address);
  }
  return [...out];
}

export function servicePortsOf(service: Service): ServicePort[] {
  const ports = isObject(service?.spec) ? service.spec.ports : undefined;
  return Array.isArray(ports) ? ports.filter(isObject) : [];
}

export function labelsOf(service: Service): Record<string, unknown> {
  const labels =
    isObject(service) && isObject(service.metadata) ? service.metadata.labels : undefined;
  return isObject(labels) ? labels : {};
}

export function annotationsOf(service: Service): Record<string, unknown> {
  const annotations =
    isObject(service) && isObject(service.metadata) ? service.metadata.annotations : undefined;
  return isObject(annotations) ? annotations : {};
}

/**
 * An own string field. Numbers and booleans are stringified: the reference text's own example
 * writes `"consul.hashicorp.com/service-sync": false` unquoted.
 */
export function stringField(record: Record<string, unknown>, key: string): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(record, key)) return undefined;
  const value = record[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export function isObject<T>(value: T): value is T & object {
  return typeof value === 'object' && value !== null;
}

export function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function safePort(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 0;
}
