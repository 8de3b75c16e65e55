// The event-path baseline: the floor for "one hop in, one write out". A minimal express server
// that parses the same AdmissionReview body, sends one equivalent PUT /v1/txn (node + one
// service) to the same Consul emulator over a keep-alive connection, and answers allowed.
// No translation, no reads, no logging, no metrics. Started by event-path.ts in its own process,
// and by cold-start.ts (compiled, spawned fresh each run, with GET /healthz).
// With a Kubernetes address (event-path's second floor, informational), an EndpointSlice review
// first makes the two reads `serve` makes for one: GET its Service, then LIST the Service's
// slices by label, each parsed; a failed read answers 500, so it counts as a failure.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

export const BASELINE_NODE = 'bench-baseline';
export const BASELINE_READS_NODE = 'bench-baseline-reads';

interface Review {
  request?: {
    uid?: string;
    namespace?: string;
    name?: string;
    object?: {
      metadata?: { name?: string; labels?: Record<string, string> };
      spec?: { externalIPs?: string[]; ports?: { port?: number }[] };
      status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
      endpoints?: { addresses?: string[] }[];
      ports?: { port?: number }[];
    } | null;
  };
}

function txnFor(review: Review, node: string): string {
  const req = review.request ?? {};
  const obj = req.object ?? {};
  const service =
    obj.metadata?.labels?.['kubernetes.io/service-name'] ?? obj.metadata?.name ?? req.name ?? '';
  const address =
    obj.spec?.externalIPs?.[0] ??
    obj.status?.loadBalancer?.ingress?.[0]?.ip ??
    obj.endpoints?.[0]?.addresses?.[0] ??
    '';
  const port = obj.spec?.ports?.[0]?.port ?? obj.ports?.[0]?.port ?? 0;
  return JSON.stringify([
    { Node: { Verb: 'set', Node: { Node: node, Address: '127.0.0.1' } } },
    {
      Service: {
        Verb: 'set',
        Node: node,
        Service: {
          ID: `${req.namespace ?? ''}-${service}`,
          Service: service,
          Address: address,
          Port: port,
        },
      },
    },
  ]);
}

interface Start {
  consulAddress: string;
  /** The Kubernetes API (http://HOST:PORT): slice reviews read as serve's do. */
  kubeUrl?: string;
}

/** GET on a keep-alive agent; resolves with the parsed JSON of a 200 answer. */
function getJson(agent: http.Agent, url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: ${res.statusCode}`));
        else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      });
    });
    req.on('error', reject);
  });
}

/** The reads serve makes for an EndpointSlice review: its Service, then the Service's slices. */
async function sliceReads(agent: http.Agent, kubeUrl: string, review: Review): Promise<void> {
  const req = review.request ?? {};
  const obj = req.object ?? {};
  if (!obj.endpoints) return;
  const ns = encodeURIComponent(req.namespace ?? '');
  const service = obj.metadata?.labels?.['kubernetes.io/service-name'] ?? '';
  await getJson(
    agent,
    `${kubeUrl}/api/v1/namespaces/${ns}/services/${encodeURIComponent(service)}`,
  );
  const selector = encodeURIComponent(`kubernetes.io/service-name=${service}`);
  await getJson(
    agent,
    `${kubeUrl}/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${selector}`,
  );
}

function start({ consulAddress, kubeUrl }: Start, listen = { host: '127.0.0.1', port: 0 }): void {
  const [host, portText] = consulAddress.split(':') as [string, string];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const kubeAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const node = kubeUrl ? BASELINE_READS_NODE : BASELINE_NODE;
  const put = (body: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host,
          port: Number(portText),
          method: 'PUT',
          path: '/v1/txn',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const app = express();
  app.get('/healthz', (_req, res) => {
    res.send('ok');
  });
  app.use(express.json({ limit: '16mb' }));
  const answer = (res: express.Response, review: Review): void => {
    res.json({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: review.request?.uid ?? '', allowed: true },
    });
  };
  const ignore = (): undefined => undefined;
  if (!kubeUrl) {
    // The floor of the table: exactly one write per review.
    app.post('/k8s/admission', (req, res) => {
      const review = req.body as Review;
      put(txnFor(review, node))
        .then(ignore, ignore)
        .finally(() => answer(res, review));
    });
  } else {
    app.post('/k8s/admission', (req, res) => {
      const review = req.body as Review;
      sliceReads(kubeAgent, kubeUrl, review).then(
        () =>
          put(txnFor(review, node))
            .then(ignore, ignore)
            .finally(() => answer(res, review)),
        (err: unknown) => res.status(500).send(String(err)),
      );
    });
  }
  const server = app.listen(listen.port, listen.host, () => {
    const port = (server.address() as AddressInfo).port;
    process.send?.({ url: `http://127.0.0.1:${port}` });
  });
  server.keepAliveTimeout = 30_000;
  process.once('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

// Forked (event-path): the Consul address arrives by IPC and the URL goes back by IPC. Spawned
// (cold-start): `--consul=HOST:PORT --listen=HOST:PORT` on the command line.
const argv = Object.fromEntries(
  process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=', 2) as [string, string]),
);
if (argv.consul && argv.listen) {
  const [host, port] = argv.listen.split(':') as [string, string];
  start({ consulAddress: argv.consul }, { host, port: Number(port) });
} else {
  process.once('message', (msg: unknown) => start(msg as Start));
  process.on('disconnect', () => process.exit(0));
}
