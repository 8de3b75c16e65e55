// Decodes a Consul `checks` watch result (`/v1/health/state/any`): an array of HealthCheck
// objects (Node, CheckID, Name, Status, ServiceID, ServiceName, ServiceTags, ...).
import { z } from 'zod';
import type { CheckState } from '../translate/types.js';
import { MAX_ITEMS, decodeWith } from './limits.js';

const MAX_CHECK_STRING = 512;
const MAX_CHECK_TAGS = 1024;
const short = z.string().max(MAX_CHECK_STRING);

export const healthCheckSchema = z.looseObject({
  Node: short.min(1),
  CheckID: short.min(1),
  Status: z.enum(['passing', 'warning', 'critical', 'maintenance']),
  ServiceID: short.nullish(),
  ServiceName: short.nullish(),
  ServiceTags: z.array(short).max(MAX_CHECK_TAGS).nullish(),
  // Consul Enterprise: the check's namespace.
  Namespace: short.nullish(),
  // Free text a check may carry: bounded by the body limit only.
  Name: z
    .string()
    .max(64 * 1024)
    .nullish(),
  Output: z.string().nullish(),
});

export const healthChecksSchema = z
  .array(healthCheckSchema)
  .max(MAX_ITEMS, { message: `more than ${MAX_ITEMS} checks` });

/** The delivery as CheckState entries; 400 INVALID_HEALTH_CHECKS naming the first wrong field. */
export function decodeHealthChecks(body: unknown): CheckState[] {
  const checks = decodeWith(healthChecksSchema, body, 'INVALID_HEALTH_CHECKS', 'health checks');
  return checks.map((c) => ({
    node: c.Node,
    checkId: c.CheckID,
    status: c.Status,
    serviceId: c.ServiceID ?? '',
    serviceName: c.ServiceName ?? '',
    serviceTags: c.ServiceTags ?? [],
    ...(c.Namespace ? { namespace: c.Namespace } : {}),
  }));
}
