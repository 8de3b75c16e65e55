// Sends one built request over keep-alive HTTP and reads the answer (bounded), with a timeout.
// An oversize request announces its Content-Length, sends a few bytes and waits: the answer must
// come before the rest of the body would (the server must not read or wait for it).
import http from 'node:http';
import type { Built } from './cases.js';
import type { Observed } from './oracle.js';

const MAX_ANSWER_BYTES = 1024 * 1024;

export interface Sender {
  send(built: Built, timeoutMs: number): Promise<Observed>;
  close(): void;
}

export function createSender(baseUrl: string, maxSockets = 16): Sender {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  return {
    close: () => agent.destroy(),
    send: (built, timeoutMs) =>
      new Promise<Observed>((resolve) => {
        const started = performance.now();
        const headers: Record<string, string | number> = { ...built.headers };
        const oversize = built.announce !== undefined;
        if (oversize) headers['content-length'] = built.announce!;
        else if (built.chunked) headers['transfer-encoding'] = 'chunked';
        else if (built.body !== undefined && headers['content-length'] === undefined)
          headers['content-length'] = built.body.length;
        let done = false;
        const finish = (o: Observed): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          if (oversize) req.destroy();
          resolve(o);
        };
        try {
          for (const [k, v] of Object.entries(headers)) http.validateHeaderValue(k, String(v));
        } catch (err) {
          resolve({
            status: 0,
            text: '',
            json: undefined,
            ms: 0,
            error: `not sendable: ${(err as Error).message}`,
          });
          return;
        }
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            method: built.method,
            path: built.path,
            headers,
            // An oversize request is never finished: its socket cannot be reused.
            agent: oversize ? false : agent,
          },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (c: Buffer) => {
              size += c.length;
              if (size <= MAX_ANSWER_BYTES) chunks.push(c);
            });
            res.on('error', (err) =>
              finish({
                status: 0,
                text: '',
                json: undefined,
                ms: 0,
                error: `answer: ${err.message}`,
              }),
            );
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let json: unknown;
              try {
                json = JSON.parse(text);
              } catch {
                json = undefined;
              }
              finish({
                status: res.statusCode ?? 0,
                text,
                json,
                ms: performance.now() - started,
              });
            });
          },
        );
        const timer = setTimeout(() => {
          finish({
            status: 0,
            text: '',
            json: undefined,
            ms: performance.now() - started,
            error: `no answer within ${timeoutMs} ms`,
          });
          req.destroy();
        }, timeoutMs);
        req.on('error', (err) => {
          finish({
            status: 0,
            text: '',
            json: undefined,
            ms: performance.now() - started,
            error: `request: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
          });
        });
        if (oversize) {
          if (built.body && built.body.length > 0) req.write(built.body);
          req.flushHeaders();
          return; // never ended: the server must answer without the rest
        }
        if (built.chunked && built.body) {
          const half = Math.floor(built.body.length / 2);
          req.write(built.body.subarray(0, half));
          req.end(built.body.subarray(half));
          return;
        }
        req.end(built.body);
      }),
  };
}
