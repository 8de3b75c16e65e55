// Decodes a Consul `services` watch result: an object of service name → array of tags.
import { z } from 'zod';
import type { ServicesView } from '../translate/types.js';
import { SyncError } from '../errors.js';
import { MAX_ITEMS, decodeWith } from './limits.js';

/** Bounds of a view's names and tags (src/events/view-delta.ts checks the same). */
export const MAX_VIEW_STRING = 512;
export const MAX_VIEW_TAGS = 1024;

export const servicesViewSchema = z
  .record(
    z.string().min(1).max(MAX_VIEW_STRING),
    z.array(z.string().max(MAX_VIEW_STRING)).max(MAX_VIEW_TAGS).nullable(),
  )
  .refine((view) => Object.keys(view).length <= MAX_ITEMS, {
    message: `more than ${MAX_ITEMS} services`,
  });

export function decodeServicesView(body: unknown): ServicesView {
  return decodeCountedServicesView(body).view;
}

/** decodeServicesView, with the number of names (counted on the way, for the log line). */
export function decodeCountedServicesView(body: unknown): { view: ServicesView; names: number } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new SyncError(
      'INVALID_SERVICES_VIEW',
      'invalid services view: expected an object of service name to tag array',
    );
  }
  const names = wellFormed(body);
  if (names !== undefined) return { view: body as ServicesView, names };
  const decoded = decodeWith(servicesViewSchema, body, 'INVALID_SERVICES_VIEW', 'services view');
  const entries = Object.entries(decoded);
  const view: ServicesView = {};
  for (const [name, tags] of entries) view[name] = tags ?? [];
  return { view, names: entries.length };
}

/**
 * Whether the body is what servicesViewSchema accepts, checked in one pass without building
 * zod's copy (every delivery carries the whole catalog, so this runs over thousands of entries
 * per event), null tags made [] in place: the number of names, or undefined for anything it
 * does not accept, which then goes through the schema, which names what is wrong. The body is
 * the request's own parse, so it becomes the view instead of being copied.
 */
function wellFormed(body: object): number | undefined {
  const entries = body as Record<string, unknown>;
  const nulls: string[] = [];
  let count = 0;
  for (const name in entries) {
    if (!Object.hasOwn(entries, name)) continue;
    if (++count > MAX_ITEMS || name.length < 1 || name.length > MAX_VIEW_STRING) return undefined;
    const tags = entries[name];
    if (tags === null) {
      nulls.push(name);
      continue;
    }
    if (!Array.isArray(tags) || tags.length > MAX_VIEW_TAGS) return undefined;
    for (const tag of tags as unknown[])
      if (typeof tag !== 'string' || tag.length > MAX_VIEW_STRING) return undefined;
  }
  // Only a well-formed body is changed.
  for (const name of nulls) entries[name] = [];
  return count;
}
