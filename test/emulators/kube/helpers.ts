// Shared setup for the Kubernetes emulator's integration tests: the emulator plus real
// @kubernetes/client-node clients, a tiny HTTP receiver (webhooks, audit), and polling.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AdmissionregistrationV1Api,
  ApiException,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
} from '@kubernetes/client-node';
import {
  startKubeEmulator,
  type KubeEmulator,
  type KubeEmulatorOptions,
} from '../../../dev/emulators/kube/index.js';

export interface Cluster {
  emu: KubeEmulator;
  kc: KubeConfig;
  core: CoreV1Api;
  discovery: DiscoveryV1Api;
  admissionreg: AdmissionregistrationV1Api;
}

export async function startCluster(opts: KubeEmulatorOptions = {}): Promise<Cluster> {
  const emu = await startKubeEmulator(opts);
  const kc = new KubeConfig();
  kc.loadFromString(emu.kubeconfig);
  return {
    emu,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    discovery: kc.makeApiClient(DiscoveryV1Api),
    admissionreg: kc.makeApiClient(AdmissionregistrationV1Api),
  };
}

/** The ApiException of a failed client call: its HTTP code and parsed metav1.Status body. */
export async function failure(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) {
      const raw = e.body as unknown;
      return { code: e.code, body: typeof raw === 'string' ? JSON.parse(raw) : raw };
    }
    throw e;
  }
  throw new Error('expected the call to fail');
}

export async function waitFor<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 3000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: any;
}

export interface Receiver {
  url: string;
  requests: Received[];
  close(): Promise<void>;
}

/** A tiny HTTP server that records JSON requests and answers through `respond`. */
export async function startReceiver(
  respond: (r: Received, res: ServerResponse) => void | Promise<void>,
): Promise<Receiver> {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: text ? JSON.parse(text) : undefined,
      };
      requests.push(r);
      void Promise.resolve(respond(r, res)).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

/** Raw HTTP against the emulator (status, headers, parsed body). */
export async function raw(
  emu: KubeEmulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const res = await fetch(emu.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export function service(
  name: string,
  spec: Record<string, unknown> = {},
  meta: Record<string, unknown> = {},
): any {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, ...meta },
    spec: {
      selector: { app: name },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      ...spec,
    },
  };
}
