// Decodes a Consul `services` watch result: an object of service name → array of tags.
import { z } from 'zod';
import type { ServicesView } from '../translate/types.js';
import { SyncError } from '../errors.js';
import { MAX_ITEMS, decodeWith } from './limits.js';

const MAX_VIEW_STRING = 512;
const MAX_VIEW_TAGS = 1024;

export const servicesViewSchema = z
  .record(
    z.string().min(1).max(MAX_VIEW_STRING),
    z.array(z.string().max(MAX_VIEW_STRING)).max(MAX_VIEW_TAGS).nullable(),
  )
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
  const view = wellFormedCopy(body);
  if (view !== undefined) return view;
  const decoded = decodeWith(servicesViewSchema, body, 'INVALID_SERVICES_VIEW', 'services view');
  const out: ServicesView = {};
  for (const [name, tags] of Object.entries(decoded)) out[name] = tags ?? [];
  return out;
}

/**
 * What servicesViewSchema accepts, checked and copied (null tags as []) in one pass without
 * building zod's copy: every delivery carries the whole catalog, so this runs over thousands of
 * entries per event. Anything it does not accept (undefined) goes through the schema, which
 * names what is wrong.
 */
function wellFormedCopy(body: object): ServicesView | undefined {
  const out: ServicesView = {};
  let count = 0;
  for (const name in body) {
    if (!Object.hasOwn(body, name)) continue;
    if (++count > MAX_ITEMS || name.length < 1 || name.length > MAX_VIEW_STRING) return undefined;
    const tags = (body as Record<string, unknown>)[name];
    if (tags === null) {
      out[name] = [];
      continue;
    }
    if (!Array.isArray(tags) || tags.length > MAX_VIEW_TAGS) return undefined;
    for (const tag of tags as unknown[])
      if (typeof tag !== 'string' || tag.length > MAX_VIEW_STRING) return undefined;
    out[name] = tags as string[];
  }
  return out;
}
