// Scenario 3, end-to-end lag through the sandbox wiring: the Kubernetes emulator calls `serve` as
// the ValidatingWebhookConfiguration of infra/ says, and the Consul emulator runs the agent watch
// of infra/consul/watch.json against it. Kubernetes → Consul: from the start of a Service write to
// the registration being visible through a Consul blocking query. Consul → Kubernetes: from the
// start of a catalog registration to the ExternalName Service arriving on a Kubernetes watch.
import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmulatorHost } from './emulators.js';
import { BENCH_SYNC_ID, intToIp } from './fixtures.js';
import { growthOf, summarize, type LatencySummary } from './load.js';
import { buildCompiled, startServe, waitFor200, type ServeProcess } from './procs.js';
import { atMost, ms, type ScenarioResult } from './report.js';

export interface E2eLagOptions {
  /** Changes in each direction (issue 10: 1,000). */
  changes: number;
  serveNodeArgs?: string[];
  /**
   * Run serve built (`node dist/bundle/k8s-consul-sync.mjs`, as the Dockerfile does; default) rather than
   * through tsx.
   */
  compiled?: boolean;
  emulatorNodeArgs?: string[];
  /** Give up on one change after this long (counted as a failure). */
  timeoutMs?: number;
  inspect?: (ctx: E2eLagContext) => Promise<void>;
}

export interface E2eLagContext {
  host: EmulatorHost;
  serve: ServeProcess;
  /** Kubernetes services written (namespace E2E_NAMESPACE) with their final external IP. */
  k8sServices: Map<string, string>;
  /** Consul services registered (node E2E_CONSUL_NODE). */
  consulServices: string[];
}

export const E2E_NAMESPACE = 'bench-e2e';
export const E2E_CONSUL_NODE = 'legacy-e2e';

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

export function request(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        agent,
        headers: payload
          ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Blocking queries on /v1/catalog/service/:name until `done(instances)`; the time it held. */
async function consulWaitFor(
  consulUrl: string,
  name: string,
  done: (instances: { ServiceAddress: string }[]) => boolean,
  deadline: number,
): Promise<number | null> {
  let index = '0';
  while (performance.now() < deadline) {
    const res = await request(
      consulUrl,
      'GET',
      `/v1/catalog/service/${encodeURIComponent(name)}?index=${index}&wait=5s`,
    );
    const at = performance.now();
    if (res.status === 200 && done(JSON.parse(res.text) as { ServiceAddress: string }[])) return at;
    index = String(res.headers['x-consul-index'] ?? index);
  }
  return null;
}

/** A Kubernetes watch on one namespace's services; records when each name was first ADDED. */
class ServiceWatch {
  private readonly seen = new Map<string, number>();
  private readonly waiters = new Map<string, (at: number) => void>();
  private req?: http.ClientRequest;
  /** Why the watch stopped, if it did. */
  failed: string | undefined;

  async start(kubeUrl: string, namespace: string, labelSelector: string): Promise<void> {
    const list = await request(
      kubeUrl,
      'GET',
      `/api/v1/namespaces/${namespace}/services?labelSelector=${encodeURIComponent(labelSelector)}`,
    );
    const rv = (JSON.parse(list.text) as { metadata: { resourceVersion: string } }).metadata
      .resourceVersion;
    const url = new URL(
      `/api/v1/namespaces/${namespace}/services?watch=true&allowWatchBookmarks=false&resourceVersion=${rv}&labelSelector=${encodeURIComponent(labelSelector)}`,
      kubeUrl,
    );
    // The watch starts at the list's resourceVersion, so no event is missed while it connects.
    // (The emulator sends the response headers only with the first event: do not wait for them.)
    this.req = http.get(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, agent: false },
      (res) => {
        if (res.statusCode !== 200) {
          this.failed = `watch: ${res.statusCode}`;
          return;
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const at = performance.now();
          buffer += chunk;
          for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (!line.trim()) continue;
            const ev = JSON.parse(line) as {
              type: string;
              object: { metadata?: { name?: string } };
            };
            const name = ev.object.metadata?.name;
            if (ev.type !== 'ADDED' || !name || this.seen.has(name)) continue;
            this.seen.set(name, at);
            this.waiters.get(name)?.(at);
            this.waiters.delete(name);
          }
        });
        res.on('error', () => undefined);
      },
    );
    this.req.on('error', (err) => {
      this.failed = `watch: ${err.message}`;
    });
  }

  waitFor(name: string, timeoutMs: number): Promise<number | null> {
    const at = this.seen.get(name);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(name);
        resolve(null);
      }, timeoutMs);
      this.waiters.set(name, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
    });
  }

  stop(): void {
    this.req?.destroy();
  }
}

/**
 * serve's own time per Consul watch delivery from byte `from` of its log on: the `consul-watch`
 * lines' durationMs (from the received body, its read against the previous one included, to the
 * answer). Tells serve's share of the Consul → Kubernetes lag from the emulators'.
 */
function watchHandlerDurations(logFile: string, from: number): number[] {
  const out: number[] = [];
  const text = readFileSync(logFile).subarray(from).toString('utf8');
  for (const line of text.split('\n')) {
    if (!line.includes('"event":"consul-watch"')) continue;
    try {
      const entry = JSON.parse(line) as { durationMs?: number };
      if (entry.durationMs !== undefined) out.push(entry.durationMs);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/**
 * The handler durations of the deliveries since `from`, once there are `atLeast` of them (a
 * delivery's mirror can be seen before serve's log line about it is written) or a second passed.
 */
async function handlerLines(logFile: string, from: number, atLeast: number): Promise<number[]> {
  const until = performance.now() + 1000;
  for (;;) {
    const lines = watchHandlerDurations(logFile, from);
    if (lines.length >= atLeast || performance.now() > until) return lines;
    await sleep(20);
  }
}

const extIpFor = (j: number, version: number): string =>
  intToIp(((100 << 24) >>> 0) + (100 << 16) + 2 * j + version);

export async function runE2eLag(options: E2eLagOptions): Promise<ScenarioResult> {
  const changes = options.changes;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const compiledDir = (options.compiled ?? true) ? await buildCompiled() : undefined;
  const host = await EmulatorHost.start({}, options.emulatorNodeArgs);
  let serve: ServeProcess | undefined;
  const watch = new ServiceWatch();
  try {
    await host.call({
      type: 'seed-objects',
      objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: E2E_NAMESPACE } }],
    });
    const { kubeUrl, consulUrl, clientConsulAddress, kubeconfigPath } = host.started;
    serve = await startServe({
      consulAddress: clientConsulAddress,
      kubeconfigPath,
      flags: [`--sync-id=${BENCH_SYNC_ID}`],
      ...(options.serveNodeArgs ? { nodeArgs: options.serveNodeArgs } : {}),
      ...(compiledDir ? { compiledDir } : {}),
    });
    process.stderr.write(
      `[bench] e2e-lag pids: serve ${serve.pid}, emulators ${host.started.pid}\n`,
    );
    await waitFor200(`${serve.url}/readyz`);
    await watch.start(kubeUrl, 'default', 'consul=true');
    await host.call({ type: 'wire', serveUrl: serve.url });
    // The watch's first delivery creates the ExternalName service for `consul` itself.
    if ((await watch.waitFor('consul', timeoutMs)) === null)
      throw new Error(`the first watch delivery did not reach Kubernetes ${watch.failed ?? ''}`);
    await sleep(500);

    // Kubernetes → Consul: creates and updates of externalIPs services, alternating.
    const toConsul: number[] = [];
    const kubeWrite: number[] = [];
    const failures: string[] = [];
    const k8sServices = new Map<string, string>();
    for (let c = 0; c < changes; c++) {
      const j = Math.floor(c / 2);
      const name = `e2e-${String(j).padStart(5, '0')}`;
      const update = c % 2 === 1;
      const address = extIpFor(j, update ? 1 : 0);
      const started = performance.now();
      const seen = consulWaitFor(
        consulUrl,
        name,
        (instances) => instances.length === 1 && instances[0]!.ServiceAddress === address,
        started + timeoutMs,
      );
      const write = update
        ? request(
            kubeUrl,
            'PATCH',
            `/api/v1/namespaces/${E2E_NAMESPACE}/services/${name}`,
            { spec: { externalIPs: [address] } },
            'application/merge-patch+json',
          )
        : request(kubeUrl, 'POST', `/api/v1/namespaces/${E2E_NAMESPACE}/services`, {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name, namespace: E2E_NAMESPACE },
            spec: {
              type: 'ClusterIP',
              selector: { app: name },
              externalIPs: [address],
              ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
            },
          });
      const res = await write;
      kubeWrite.push(performance.now() - started);
      if (res.status >= 300)
        failures.push(`k8s write ${name}: ${res.status} ${res.text.slice(0, 200)}`);
      const at = await seen;
      if (at === null) failures.push(`${name} ${address} not in Consul within ${timeoutMs} ms`);
      else toConsul.push(at - started);
      k8sServices.set(name, address);
    }

    // Consul → Kubernetes: registrations by another tool, picked up by the watch.
    const toK8s: number[] = [];
    const consulRegister: number[] = [];
    const consulServices: string[] = [];
    const logFrom = statSync(serve.logFile).size;
    for (let i = 0; i < changes; i++) {
      const name = `legacy-e2e-${String(i).padStart(5, '0')}`;
      const started = performance.now();
      const seen = watch.waitFor(name, timeoutMs);
      const res = await request(consulUrl, 'PUT', '/v1/catalog/register', {
        Node: E2E_CONSUL_NODE,
        Address: '10.9.0.1',
        Service: { ID: name, Service: name, Port: 8080, Tags: ['legacy'] },
      });
      consulRegister.push(performance.now() - started);
      if (res.status !== 200) failures.push(`consul register ${name}: ${res.status} ${res.text}`);
      const at = await seen;
      if (at === null) failures.push(`${name} not in Kubernetes within ${timeoutMs} ms`);
      else toK8s.push(at - started);
      consulServices.push(name);
    }
    const deliveries = (await host.call({ type: 'deliveries' })) as number;
    const handler = await handlerLines(serve.logFile, logFrom, changes);
    await options.inspect?.({ host, serve, k8sServices, consulServices });

    const a = summarize(toConsul);
    const b = summarize(toK8s);
    const kw = summarize(kubeWrite);
    const cr = summarize(consulRegister);
    const lat = (s: LatencySummary): Record<string, number> => ({
      count: s.count,
      p50Ms: s.p50,
      p99Ms: s.p99,
      maxMs: s.max,
      meanMs: s.mean,
    });
    // Does the lag grow with the number of synced services? p50 of the first and last tenth.
    const tenths = (l: readonly number[]): Record<string, number> => {
      const n = Math.max(1, Math.floor(l.length / 10));
      return {
        firstTenthP50Ms: summarize(l.slice(0, n)).p50,
        lastTenthP50Ms: summarize(l.slice(-n)).p50,
      };
    };
    const growth = growthOf(toK8s);
    return {
      scenario: 'e2e-lag',
      params: { changes, timeoutMs },
      figures: {
        k8sToConsul: { ...lat(a), ...tenths(toConsul) },
        consulToK8s: { ...lat(b), ...tenths(toK8s), growth },
        consulToK8sHandler: { count: handler.length, ...tenths(handler) },
        kubeWriteLatency: lat(kw),
        consulRegisterLatency: lat(cr),
        watchDeliveries: deliveries,
      },
      ratios: {},
      targets: [
        atMost('Kubernetes → Consul lag p99 (ms)', a.p99, 50),
        atMost('Consul → Kubernetes lag p99 (ms)', b.p99, 50),
      ],
      rows: [
        {
          metric: 'Kubernetes → Consul lag p50 / p99 / max',
          ours: `${ms(a.p50)} / ${ms(a.p99)} / ${ms(a.max)}`,
          target: 'p99 <= 50 ms',
          met: a.p99 <= 50,
        },
        {
          metric: 'Consul → Kubernetes lag p50 / p99 / max',
          ours: `${ms(b.p50)} / ${ms(b.p99)} / ${ms(b.max)}`,
          target: 'p99 <= 50 ms',
          met: b.p99 <= 50,
        },
        {
          metric: 'Consul → Kubernetes lag p50, first / last tenth of the changes',
          ours: `${ms(tenths(toK8s).firstTenthP50Ms!)} / ${ms(tenths(toK8s).lastTenthP50Ms!)}`,
        },
        {
          metric:
            "Consul → Kubernetes, of which serve's handler per delivery (its log's durationMs, the read against the previous body included) p50, first / last tenth",
          ours: `${ms(tenths(handler).firstTenthP50Ms!)} / ${ms(tenths(handler).lastTenthP50Ms!)} (${handler.length} deliveries)`,
        },
        {
          metric:
            'Consul → Kubernetes lag growth: slope through the p50 of each tenth (each change adds a service)',
          ours: `${growth.slopeMsPer1000 >= 0 ? '+' : ''}${ms(growth.slopeMsPer1000)} per 1,000 services`,
        },
        {
          metric:
            'Kubernetes → Consul, of which the Kubernetes write (admission included) p50 / p99',
          ours: `${ms(kw.p50)} / ${ms(kw.p99)}`,
        },
      ],
      checks: {
        failures: failures.slice(0, 20),
        failureCount: failures.length,
        k8sToConsulObserved: a.count,
        consulToK8sObserved: b.count,
      },
    };
  } finally {
    watch.stop();
    await serve?.stop();
    await host.close();
  }
}
