// Decodes a Consul `services` watch result: an object of service name → array of tags.
import { z } from 'zod';
import type { ServicesView } from '../translate/types.js';
import { SyncError } from '../errors.js';
import { MAX_ITEMS, decodeWith } from './limits.js';

export const servicesViewSchema = z
  .record(z.string().min(1).max(512), z.array(z.string().max(512)).max(1024).nullable())
  .refine((view) => Object.keys(view).length <= MAX_ITEMS, {
    message: `more than ${MAX_ITEMS} services`,
  });

export function decodeServicesView(body: unknown): ServicesView {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new SyncError(
      'INVALID_SERVICES_VIEW',
      'invalid services view: expected an object of service name to tag array',
    );
  }
  const view = decodeWith(servicesViewSchema, body, 'INVALID_SERVICES_VIEW', 'services view');
  const out: ServicesView = {};
  for (const [name, tags] of Object.entries(view)) out[name] = tags ?? [];
  return out;
}
