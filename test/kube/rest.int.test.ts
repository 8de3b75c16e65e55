// src/kube/rest.ts: requests carry what the kubeconfig says (the user's token, the cluster's
// address), paths and queries are encoded, answers come back as the API server's JSON, and a
// refusal keeps its status and Status body; an answer cut short never passes for a whole one;
// over HTTPS the kubeconfig's CA decides which server is trusted; a proxy-url is followed and
// an exec credential plugin supplies the token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeConfigFor } from '../support/kube-config.js';
import { selfSignedCertificate } from '../../dev/emulators/kube/tls.js';
import { KubeHttpError, KubeRest, kubePath } from '../../src/kube/rest.js';
import { KubeApi } from '../../src/kube/api.js';
import { createKubeHandle } from '../../src/kube/client.js';
import { isSyncError } from '../../src/errors.js';

interface Seen {
  method?: string;
  url?: string;
  authorization?: string;
  contentType?: string;
  userAgent?: string;
  body: string;
}

async function withServer(
  answer: (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void,
  run: (kc: KubeConfig, seen: Seen[]) => Promise<void>,
): Promise<void> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const s: Seen = {
        method: req.method,
        url: req.url,
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        userAgent: req.headers['user-agent'],
        body,
      };
      seen.push(s);
      answer(req, res, s);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const kc = kubeConfigFor(server, { token: 'sekret-token' });
    await run(kc, seen);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const json = (res: http.ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

test("a request carries the kubeconfig user's token, an encoded path and query, and a JSON body", async () => {
  await withServer(
    (_req, res) => json(res, 201, { kind: 'Service', metadata: { name: 'a b' } }),
    async (kc, seen) => {
      const rest = new KubeRest(kc);
      const out = await rest.request<{ metadata: { name: string } }>({
        method: 'POST',
        path: kubePath('api/v1/namespaces', 'shop', 'services'),
        query: { labelSelector: 'consul=true,app in (a,b)', limit: 500, continue: undefined },
        body: { metadata: { name: 'a b' } },
      });
      assert.equal(out.metadata.name, 'a b');
      assert.equal(seen[0]!.method, 'POST');
      assert.equal(
        seen[0]!.url,
        '/api/v1/namespaces/shop/services?labelSelector=consul%3Dtrue%2Capp+in+%28a%2Cb%29&limit=500',
      );
      assert.equal(seen[0]!.authorization, 'Bearer sekret-token');
      // The API server's audit log names the caller as kubectl's does (name/version (os/arch)).
      assert.match(seen[0]!.userAgent ?? '', /^k8s-consul-sync\/\d+\.\d+\.\d+\S* \(\w+\/\w+\)$/);
      assert.equal(seen[0]!.contentType, 'application/json');
      assert.deepEqual(JSON.parse(seen[0]!.body), { metadata: { name: 'a b' } });
      // A name is one path segment, whatever it holds.
      assert.equal(
        kubePath('api/v1/namespaces', 'a/b', 'services'),
        '/api/v1/namespaces/a%2Fb/services',
      );
    },
  );
});

test('an exec credential plugin of the kubeconfig supplies the bearer token', async () => {
  await withServer(
    (_req, res) => json(res, 200, { gitVersion: 'v1.32.0' }),
    async (stub, seen) => {
      const server = new URL(stub.getCurrentCluster()!.server);
      const credential = JSON.stringify({
        apiVersion: 'client.authentication.k8s.io/v1',
        kind: 'ExecCredential',
        status: { token: 'from-exec' },
      });
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'c', server: server.origin, skipTLSVerify: true }],
        users: [
          {
            name: 'u',
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: process.execPath,
              args: ['-e', `process.stdout.write(${JSON.stringify(credential)})`],
              interactiveMode: 'Never',
            },
          },
        ],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      await new KubeApi(createKubeHandle(kc)).ping();
      assert.equal(seen.at(-1)?.authorization, 'Bearer from-exec');
    },
  );
});

test('a refusal keeps its status and the Status body; a text refusal its text', async () => {
  await withServer(
    (req, res) => {
      if (req.url?.startsWith('/api/v1/namespaces/shop/services/gone'))
        json(res, 404, {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: 'services "gone" not found',
          reason: 'NotFound',
          code: 404,
        });
      else {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('bad gateway');
      }
    },
    async (kc) => {
      const rest = new KubeRest(kc);
      const notFound = await rest
        .request({ path: kubePath('api/v1/namespaces', 'shop', 'services', 'gone') })
        .then(
          () => assert.fail('a 404 resolved'),
          (err: unknown) => err,
        );
      assert.ok(notFound instanceof KubeHttpError);
      assert.equal(notFound.code, 404);
      assert.equal((notFound.body as { reason: string }).reason, 'NotFound');
      const gateway = await rest.request({ path: '/version' }).then(
        () => assert.fail('a 502 resolved'),
        (err: unknown) => err,
      );
      assert.ok(gateway instanceof KubeHttpError);
      assert.equal(gateway.code, 502);
      assert.equal(gateway.body, 'bad gateway');

      // Through KubeApi: a missing Service reads as null, a 5xx is KUBE_UNAVAILABLE with its status.
      const api = new KubeApi(createKubeHandle(kc));
      assert.equal(await api.readService({ namespace: 'shop', name: 'gone' }), null);
      const failed = await api.ping().then(
        () => assert.fail('ping resolved'),
        (err: unknown) => err,
      );
      assert.ok(isSyncError(failed));
      assert.equal(failed.code, 'KUBE_UNAVAILABLE');
      assert.equal(failed.upstreamStatus, 502);
      assert.match(failed.message, /bad gateway/);
    },
  );
});

test('an answer cut off before its end fails the call instead of passing for a whole one', async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"items":[');
      setTimeout(() => res.destroy(), 20);
    },
    async (kc) => {
      const rest = new KubeRest(kc);
      await assert.rejects(rest.request({ path: '/api/v1/services' }));
      const api = new KubeApi(createKubeHandle(kc));
      await assert.rejects(api.listAllServices(), (err: unknown) => {
        assert.ok(isSyncError(err));
        assert.equal(err.code, 'KUBE_UNAVAILABLE');
        return true;
      });
    },
  );
});

test('a list follows continue tokens, each page asked with the same selector', async () => {
  await withServer(
    (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const cont = url.searchParams.get('continue');
      json(res, 200, {
        kind: 'ServiceList',
        metadata: cont ? {} : { continue: 'page-2' },
        items: [{ metadata: { name: cont ? 'second' : 'first', namespace: 'shop' } }],
      });
    },
    async (kc, seen) => {
      const api = new KubeApi(createKubeHandle(kc));
      const services = await api.listServices('shop', {
        labelSelector: 'consul=true',
        cached: true,
      });
      assert.deepEqual(
        services.map((s) => s.metadata?.name),
        ['first', 'second'],
      );
      assert.deepEqual(
        seen.map((s) => s.url),
        [
          '/api/v1/namespaces/shop/services?labelSelector=consul%3Dtrue&limit=500&resourceVersion=0',
          // resourceVersion=0 (the watch cache) is for the first page only.
          '/api/v1/namespaces/shop/services?labelSelector=consul%3Dtrue&limit=500&continue=page-2',
        ],
      );
    },
  );
});

test('over HTTPS: the kubeconfig CA is trusted, another is not, and the token goes only with it', async () => {
  const { cert, key } = selfSignedCertificate();
  const seen: (string | undefined)[] = [];
  const server = https.createServer({ cert, key }, (req, res) => {
    seen.push(req.headers.authorization);
    json(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.0' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const kubeConfig = (ca: string, tlsServerName?: string): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: `https://127.0.0.1:${port}`,
          caData: Buffer.from(ca).toString('base64'),
          ...(tlsServerName ? { tlsServerName } : {}),
          skipTLSVerify: false,
        },
      ],
      users: [{ name: 'u', token: 'tls-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return kc;
  };
  try {
    // The certificate names 127.0.0.1 and localhost: trusted by address, and by server name.
    const api = new KubeApi(createKubeHandle(kubeConfig(cert)));
    await api.ping();
    await new KubeRest(kubeConfig(cert, 'localhost')).request({ path: '/version' });
    assert.deepEqual(seen, ['Bearer tls-token', 'Bearer tls-token']);
    // A server certificate the kubeconfig's CA did not issue: refused before anything is sent.
    const other = selfSignedCertificate().cert;
    const refused = await new KubeApi(createKubeHandle(kubeConfig(other))).ping().then(
      () => assert.fail('an untrusted server was accepted'),
      (err: unknown) => err,
    );
    assert.ok(isSyncError(refused));
    assert.equal(refused.code, 'KUBE_UNAVAILABLE');
    assert.equal(seen.length, 2, 'no request reached the untrusted server');
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test("a cluster's proxy-url carries the requests (client-node's proxy agent, a CONNECT tunnel)", async () => {
  const target = http.createServer((req, res) =>
    json(res, 200, { gitVersion: 'v1.32.0', path: req.url }),
  );
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const asked: (string | undefined)[] = [];
  const proxy = http.createServer((_req, res) => {
    res.statusCode = 405;
    res.end();
  });
  proxy.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    asked.push(req.url);
    // Whatever address was asked for, the tunnel leads to the target.
    const upstream = net.connect((target.address() as AddressInfo).port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  try {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          // Nothing listens here: only the proxy can reach "it".
          server: 'http://192.0.2.10:6443',
          skipTLSVerify: true,
          proxyUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
        },
      ],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const rest = new KubeRest(kc);
    const answer = await rest.request<{ path: string }>({
      path: '/version',
      signal: AbortSignal.timeout(2000),
    });
    assert.equal(answer.path, '/version');
    assert.deepEqual(asked, ['192.0.2.10:6443']);
  } finally {
    for (const server of [proxy, target]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
});
