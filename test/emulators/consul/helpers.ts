// Shared helpers for the Consul emulator tests: raw HTTP calls (to see status codes, headers and
// text bodies exactly) and a real `consul` npm client pointed at the emulator.
import Consul from 'consul';
import type { ConsulEmulator } from '../../../dev/emulators/consul/index.js';

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export async function call(
  emu: ConsulEmulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // text/plain answers
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const get = (
  emu: ConsulEmulator,
  path: string,
  headers?: Record<string, string>,
): Promise<RawResponse> => call(emu, 'GET', path, undefined, headers);

export const put = (
  emu: ConsulEmulator,
  path: string,
  body: unknown,
  headers?: Record<string, string>,
): Promise<RawResponse> => call(emu, 'PUT', path, body, headers);

export function client(emu: ConsulEmulator, token?: string): Consul {
  return new Consul({
    host: '127.0.0.1',
    port: emu.port,
    defaults: token === undefined ? undefined : { token },
  });
}

/** Registers a node and one service (with optional check) through /v1/catalog/register. */
export async function registerService(
  emu: ConsulEmulator,
  node: string,
  service: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const res = await put(emu, '/v1/catalog/register', {
    Node: node,
    Address: '10.0.0.1',
    Service: service,
    ...extra,
  });
  if (res.status !== 200) throw new Error(`register failed: ${res.status} ${res.text}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
