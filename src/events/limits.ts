// Size bounds shared by the wire-format schemas: hostile bodies are refused at decode time.
import { z } from 'zod';
import { SyncError, type ErrorCode } from '../errors.js';
import { isDns1123Label, isDns1123Subdomain } from './validate.js';

export const MAX_NAME = 253;
export const MAX_STRING = 64 * 1024;
export const MAX_ITEMS = 100_000;

export const name = z.string().max(MAX_NAME);

/**
 * Names as the API server validates them: a namespace is a DNS-1123 label, a Service or
 * EndpointSlice name at most a DNS-1123 subdomain. An event naming anything else did not come
 * from an API server, and such a name must not reach a read URL or a Consul filter (a quote ends
 * a bexpr string literal, a lone surrogate breaks URL encoding): the event is ignored.
 */
export function isNamespaceName(value: string): boolean {
  return isDns1123Label(value);
}
export function isObjectName(value: string): boolean {
  return isDns1123Subdomain(value);
}
/** A Kubernetes object: an object we keep as is (the translation reads it defensively). */
export const kubeObject = z.looseObject({
  apiVersion: z.string().max(MAX_NAME).optional(),
  kind: z.string().max(MAX_NAME).optional(),
  metadata: z
    .looseObject({
      name: name.optional(),
      namespace: name.optional(),
      labels: z.record(z.string().max(MAX_STRING), z.string().max(MAX_STRING)).nullish(),
      annotations: z.record(z.string().max(MAX_STRING), z.string().max(MAX_STRING)).nullish(),
    })
    .optional(),
});

/** Parses with a schema; failures become a 400 naming the first problem's path. */
export function decodeWith<T>(
  schema: z.ZodType<T>,
  body: unknown,
  code: ErrorCode,
  what: string,
): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length ? issue.path.map(String).join('.') : '(body)';
  const message = issue ? issue.message : 'invalid';
  throw new SyncError(code, `invalid ${what}: ${where}: ${message}`.slice(0, 300));
}
