// Issue 20: a body announced larger than --max-body-bytes is refused at once (413, connection
// closed) instead of being read, and slow senders meet header and request timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startWorld } from '../support/world.js';
import { HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS, startServer } from '../../src/http/server.js';

/** Sends raw bytes, resolves with the status line and whether the server closed the socket. */
function raw(
  port: number,
  text: string,
  waitMs = 3000,
): Promise<{ status: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let status = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    s.on('data', (d: Buffer) => {
      status ||= d.toString('latin1').split('\r\n')[0] ?? '';
    });
    s.on('error', () => undefined);
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ status, closed: false, ms: Date.now() - started });
    }, waitMs);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ status, closed: true, ms: Date.now() - started });
    });
  });
}

test('a body announced over the limit gets 413 at once and the connection is closed, authenticated or not', async () => {
  const w = await startWorld({ flags: ['--sync-id=a', '--max-body-bytes=4096'] });
  const srv = await startServer(w.app, w.config, { logger: w.logger });
  try {
    for (const path of ['/k8s/admission', '/k8s/audit', '/consul/services', '/reconcile']) {
      const r = await raw(
        srv.port,
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{}`,
      );
      assert.equal(r.status, 'HTTP/1.1 413 Payload Too Large', path);
      assert.ok(r.closed && r.ms < 2000, `${path}: closed after ${r.ms} ms`);
    }
    // Within the limit the same request is read and answered as usual.
    const ok = await raw(
      srv.port,
      'POST /consul/services HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
    );
    assert.equal(ok.status, 'HTTP/1.1 200 OK');
  } finally {
    await srv.close(100);
    await w.close();
  }
});

test('header and request timeouts are short enough that a stalled sender cannot hold a socket for a minute', async () => {
  assert.equal(HEADERS_TIMEOUT_MS, 10_000);
  assert.equal(REQUEST_TIMEOUT_MS, 30_000);
  const w = await startWorld({ flags: ['--sync-id=a'] });
  const srv = await startServer(w.app, w.config, { logger: w.logger });
  try {
    assert.equal(srv.server.headersTimeout, HEADERS_TIMEOUT_MS);
    assert.equal(srv.server.requestTimeout, REQUEST_TIMEOUT_MS);
  } finally {
    await srv.close(100);
    await w.close();
  }
});
