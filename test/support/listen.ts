// Serves an express app on a loopback port for tests that send many requests (one server and
// keep-alive connections instead of supertest's server per request) or raw, hostile ones.
import { createServer, request as httpRequest, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface Served {
  url: string;
  port: number;
  /** POST a body (an object is sent as JSON; a string or Buffer as is). */
  post(path: string, body?: unknown, headers?: Record<string, string | number>): Promise<Reply>;
  send(
    method: string,
    path: string,
    body?: string | Buffer,
    headers?: Record<string, string | number>,
  ): Promise<Reply>;
  close(): Promise<void>;
}

export async function listen(app: Express): Promise<Served> {
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });

  const send = (
    method: string,
    path: string,
    body?: string | Buffer,
    headers: Record<string, string | number> = {},
  ): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    send,
    post(path, body, headers = {}) {
      if (body === undefined) return send('POST', path, undefined, headers);
      const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      return send('POST', path, raw, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(raw),
        ...headers,
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
