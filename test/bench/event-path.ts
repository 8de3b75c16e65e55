// Scenario 1, event path: AdmissionReviews at concurrency 16 over keep-alive HTTP to `serve` (own
// process) and, alternating chunk by chunk in the same run, to the baseline server (own
// process); both write to the same Consul emulator (emulator process). Also records serve's RSS
// idle and under this load (scenario 4 reuses it).
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmulatorHost } from './emulators.js';
import {
  BENCH_SYNC_ID,
  EVENT_KINDS,
  eventAt,
  eventCoordinates,
  eventPool,
  type EventKind,
  type EventPool,
} from './fixtures.js';
import { runLoad, summarize, type LatencySummary, type LoadItem } from './load.js';
import {
  buildCompiled,
  cpuTimeMs,
  memoryOf,
  sampleRss,
  startServe,
  waitFor200,
  type ServeProcess,
} from './procs.js';
import { atLeast, atMost, mb, ms, perSec, ratio, type ScenarioResult } from './report.js';

export interface EventPathOptions {
  /** Measured events per side (issue 10: 20,000). */
  events: number;
  concurrency?: number;
  /** Chunks per side; ours and the baseline alternate chunk by chunk. */
  rounds?: number;
  /** Unmeasured events per side first (JIT, connection pools). */
  warmup?: number;
  /** Node options for serve, e.g. --cpu-prof. */
  serveNodeArgs?: string[];
  /**
   * Only these kinds of review, in turn (default all three): to see what one kind costs
   * (BENCH_EVENT_KINDS=lb,ext,np).
   */
  kinds?: readonly EventKind[];
  /** More flags for serve, after the scenario's own (BENCH_SERVE_FLAGS, e.g. --to-consul=false). */
  serveFlags?: readonly string[];
  /**
   * Run serve built (`node dist/bundle/k8s-consul-sync.mjs`, as the Dockerfile does; default) rather than
   * through tsx.
   */
  compiled?: boolean;
  /** Node options for the emulator process. */
  emulatorNodeArgs?: string[];
  /** Called with the live emulators before teardown (tests inspect the catalog here). */
  inspect?: (ctx: EventPathContext) => Promise<void>;
}

export interface EventPathContext {
  host: EmulatorHost;
  serve: ServeProcess;
  pool: EventPool;
  /** Events sent to each side, warm-up included. */
  sent: number;
}

interface Side {
  latencies: number[];
  busyMs: number;
  failures: string[];
  answered: number;
  /** CPU time used during this side's measured chunks, ms: its server, the emulators, us. */
  cpu: { server: number; emulators: number; loadGenerator: number };
}

const newSide = (): Side => ({
  latencies: [],
  busyMs: 0,
  failures: [],
  answered: 0,
  cpu: { server: 0, emulators: 0, loadGenerator: 0 },
});

export interface ServeMemory {
  idleRss: number;
  peakRssUnderLoad: number;
  /** VmHWM at the end of the run. */
  highWaterMark: number;
  /** serve ran compiled (node dist/...) rather than through tsx. */
  compiled: boolean;
}

/** Parses `k8s_consul_sync_events_total{source="admission",outcome="..."} N` lines. */
export function admissionOutcomes(metricsText: string): Record<string, number> {
  const out: Record<string, number> = {};
  const re = /^k8s_consul_sync_events_total\{([^}]*)\} (\S+)$/gm;
  for (let m = re.exec(metricsText); m; m = re.exec(metricsText)) {
    const labels = m[1]!;
    if (!labels.includes('source="admission"')) continue;
    const outcome = /outcome="([^"]*)"/.exec(labels)?.[1] ?? '?';
    out[outcome] = (out[outcome] ?? 0) + Number(m[2]);
  }
  return out;
}

/** The mean of a label-less histogram in Prometheus text (its _sum over its _count), or NaN. */
export function histogramMean(metricsText: string, name: string): number {
  const value = (suffix: string): number =>
    Number(new RegExp(`^${name}_${suffix} (\\S+)$`, 'm').exec(metricsText)?.[1] ?? NaN);
  return value('sum') / value('count');
}

async function startBaseline(
  consulAddress: string,
  kubeUrl?: string,
): Promise<{ url: string; stop(): Promise<void>; pid: number }> {
  const child = fork(join(import.meta.dirname, 'baseline-server.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: unknown) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`baseline server exited (${code ?? 'signal'})`)));
    child.send({ consulAddress, ...(kubeUrl ? { kubeUrl } : {}) });
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** The informational second floor's rows: no targets, the floor stays the one above. */
const WITH_READS = "against a floor that also makes a slice review's two Kubernetes reads";

const KIND_LABEL: Record<EventKind, string> = {
  lb: 'loadBalancerService',
  ext: 'externalIPsService',
  np: 'nodePortEndpointSlice',
};

function checkAnswer(uid: string, status: number, text: string): string | undefined {
  if (status !== 200) return `status ${status}: ${text.slice(0, 200)}`;
  try {
    const body = JSON.parse(text) as {
      apiVersion?: string;
      kind?: string;
      response?: { uid?: string; allowed?: boolean };
    };
    if (body.apiVersion !== 'admission.k8s.io/v1' || body.kind !== 'AdmissionReview')
      return `not an AdmissionReview: ${text.slice(0, 200)}`;
    if (body.response?.uid !== uid) return `uid ${body.response?.uid} != ${uid}`;
    if (body.response.allowed !== true) return 'not allowed';
    return undefined;
  } catch {
    return `not JSON: ${text.slice(0, 200)}`;
  }
}

export async function runEventPath(
  options: EventPathOptions,
): Promise<ScenarioResult & { memory: ServeMemory }> {
  const events = options.events;
  const concurrency = options.concurrency ?? 16;
  const rounds = Math.max(1, Math.min(options.rounds ?? 10, Math.floor(events / concurrency)));
  const warmup = options.warmup ?? Math.min(1000, Math.max(30, Math.floor(events * 0.05)));
  const total = warmup + events;
  const pool: EventPool = {
    ...eventPool(total),
    ...(options.kinds?.length ? { kinds: options.kinds } : {}),
  };

  const compiledDir = (options.compiled ?? true) ? await buildCompiled() : undefined;
  const host = await EmulatorHost.start({}, options.emulatorNodeArgs);
  let serve: ServeProcess | undefined;
  let baseline: Awaited<ReturnType<typeof startBaseline>> | undefined;
  let floorReads: Awaited<ReturnType<typeof startBaseline>> | undefined;
  try {
    await host.call({ type: 'seed-events', perKind: pool.perKind });
    const { clientConsulAddress, kubeconfigPath } = host.started;
    serve = await startServe({
      consulAddress: clientConsulAddress,
      kubeconfigPath,
      // The reviews are generated, not written through the API server, so what it stores is
      // not what they admit: confirmations from stored state would undo them. They are off
      // here; e2e-lag and admission-fault run them against objects that are really stored.
      flags: [`--sync-id=${BENCH_SYNC_ID}`, '--confirm-after=', ...(options.serveFlags ?? [])],
      ...(options.serveNodeArgs ? { nodeArgs: options.serveNodeArgs } : {}),
      ...(compiledDir ? { compiledDir } : {}),
    });
    baseline = await startBaseline(clientConsulAddress);
    // Informational: the floor plus the two Kubernetes reads serve makes per slice review.
    floorReads = await startBaseline(clientConsulAddress, host.started.kubeUrl);
    process.stderr.write(
      `[bench] event-path pids: serve ${serve.pid}, baseline ${baseline.pid}, baseline with reads ${floorReads.pid}, emulators ${host.started.pid}\n`,
    );
    await waitFor200(`${serve.url}/readyz`);
    await sleep(1000);
    const idleRss = memoryOf(serve.pid)?.rss ?? 0;

    const oursItem = (i: number): LoadItem & { uid: string } => eventAt(pool, i, 'a0000000');
    const baseItem = (i: number): LoadItem & { uid: string } => eventAt(pool, i, 'b0000000');
    const readsItem = (i: number): LoadItem & { uid: string } => eventAt(pool, i, 'c0000000');
    const ours = newSide();
    const base = newSide();
    const reads = newSide();
    const oursByKind = new Map<EventKind, number[]>(EVENT_KINDS.map((k) => [k, []]));

    const run = async (
      side: Side,
      url: string,
      make: (i: number) => LoadItem & { uid: string },
      from: number,
      to: number,
      measured: boolean,
      byKind?: Map<EventKind, number[]>,
    ): Promise<void> => {
      const uids = new Map<number, string>();
      const res = await runLoad(
        `${url}/k8s/admission`,
        (i) => {
          const it = make(i);
          uids.set(i, it.uid);
          return it;
        },
        from,
        to,
        concurrency,
        (i, status, text) => {
          const problem = checkAnswer(uids.get(i) ?? '', status, text);
          uids.delete(i);
          return problem;
        },
      );
      side.failures.push(...res.failures);
      side.answered += res.latenciesMs.length;
      if (!measured) return;
      side.latencies.push(...res.latenciesMs);
      side.busyMs += res.wallMs;
      res.indexes.forEach((i, n) =>
        byKind?.get(eventCoordinates(pool, i).kind)?.push(res.latenciesMs[n]!),
      );
    };

    // Warm-up, both sides.
    await run(ours, serve.url, oursItem, 0, warmup, false);
    await run(base, baseline.url, baseItem, 0, warmup, false);
    await run(reads, floorReads.url, readsItem, 0, warmup, false);

    // CPU time each process spent while one side's chunk ran.
    const withCpu = async (
      side: Side,
      serverPid: number,
      work: () => Promise<void>,
    ): Promise<void> => {
      const s0 = cpuTimeMs(serverPid);
      const e0 = cpuTimeMs(host.started.pid);
      const p0 = process.cpuUsage();
      await work();
      const p1 = process.cpuUsage(p0);
      side.cpu.server += cpuTimeMs(serverPid) - s0;
      side.cpu.emulators += cpuTimeMs(host.started.pid) - e0;
      side.cpu.loadGenerator += (p1.user + p1.system) / 1000;
    };
    const sampler = sampleRss(serve.pid);
    const chunk = Math.ceil(events / rounds);
    for (let r = 0; r < rounds; r++) {
      const from = warmup + r * chunk;
      const to = Math.min(total, from + chunk);
      if (from >= to) break;
      const oursRun = (): Promise<void> =>
        withCpu(ours, serve!.pid, () =>
          run(ours, serve!.url, oursItem, from, to, true, oursByKind),
        );
      const baseRun = (): Promise<void> =>
        withCpu(base, baseline!.pid, () => run(base, baseline!.url, baseItem, from, to, true));
      const readsRun = (): Promise<void> =>
        withCpu(reads, floorReads!.pid, () =>
          run(reads, floorReads!.url, readsItem, from, to, true),
        );
      // Alternate who goes first, so neither side always runs on the other's leftovers (the
      // informational floor runs between them).
      if (r % 2 === 0) {
        await oursRun();
        await readsRun();
        await baseRun();
      } else {
        await baseRun();
        await readsRun();
        await oursRun();
      }
    }
    const peakRssUnderLoad = sampler.stop();
    const highWaterMark = memoryOf(serve.pid)?.peak ?? 0;

    const metricsText = await (await fetch(`${serve.url}/metrics`)).text();
    const outcomes = admissionOutcomes(metricsText);
    const servicesPerTxn = histogramMean(
      metricsText,
      'k8s_consul_sync_consul_transaction_services',
    );

    if (process.env.BENCH_COUNTS)
      process.stderr.write(JSON.stringify(await host.call({ type: 'counts' }), null, 1) + '\n');
    await options.inspect?.({ host, serve, pool, sent: total });

    const o = summarize(ours.latencies);
    const b = summarize(base.latencies);
    const rd = summarize(reads.latencies);
    const oursTput = (o.count / ours.busyMs) * 1000;
    const baseTput = (b.count / base.busyMs) * 1000;
    const readsTput = (rd.count / reads.busyMs) * 1000;
    const ratios = {
      p50: ratio(o.p50, b.p50),
      p99: ratio(o.p99, b.p99),
      max: ratio(o.max, b.max),
      throughput: ratio(oursTput, baseTput),
    };
    const memory: ServeMemory = {
      idleRss,
      peakRssUnderLoad,
      highWaterMark,
      compiled: compiledDir !== undefined,
    };
    const cpuPerEvent = (side: Side, n: number): Record<string, number> => ({
      serverMs: side.cpu.server / n,
      emulatorsMs: side.cpu.emulators / n,
      loadGeneratorMs: side.cpu.loadGenerator / n,
    });
    const oursCpu = cpuPerEvent(ours, o.count);
    const baseCpu = cpuPerEvent(base, b.count);
    const readsCpu = cpuPerEvent(reads, rd.count);
    const lat = (s: LatencySummary): Record<string, number> => ({
      p50Ms: s.p50,
      p99Ms: s.p99,
      maxMs: s.max,
      meanMs: s.mean,
    });
    return {
      scenario: 'event-path',
      params: {
        events,
        warmup,
        concurrency,
        rounds,
        poolPerKind: pool.perKind,
        kinds: pool.kinds ?? EVENT_KINDS,
        serveFlags: options.serveFlags ?? [],
      },
      figures: {
        ours: {
          throughputPerSec: oursTput,
          ...lat(o),
          events: o.count,
          cpuPerEvent: oursCpu,
          byKind: Object.fromEntries(
            [...oursByKind].map(([k, l]) => [KIND_LABEL[k], lat(summarize(l))]),
          ),
        },
        baseline: { throughputPerSec: baseTput, ...lat(b), events: b.count, cpuPerEvent: baseCpu },
        baselineWithReads: {
          throughputPerSec: readsTput,
          ...lat(rd),
          events: rd.count,
          cpuPerEvent: readsCpu,
        },
        serveMemory: memory,
        servicesPerTransaction: servicesPerTxn,
      },
      ratios: { ...ratios, serverCpuPerEvent: ratio(oursCpu.serverMs!, baseCpu.serverMs!) },
      targets: [
        atMost('p50 ratio (ours / baseline)', ratios.p50, 1.5),
        atMost('p99 ratio (ours / baseline)', ratios.p99, 1.5),
        atLeast('throughput ratio (ours / baseline)', ratios.throughput, 0.7),
      ],
      rows: [
        {
          metric: 'throughput',
          ours: perSec(oursTput),
          baseline: perSec(baseTput),
          ratio: ratios.throughput,
          target: '>= 0.7',
          met: ratios.throughput >= 0.7,
        },
        {
          metric: 'p50',
          ours: ms(o.p50),
          baseline: ms(b.p50),
          ratio: ratios.p50,
          target: '<= 1.5',
          met: ratios.p50 <= 1.5,
        },
        {
          metric: 'p99',
          ours: ms(o.p99),
          baseline: ms(b.p99),
          ratio: ratios.p99,
          target: '<= 1.5',
          met: ratios.p99 <= 1.5,
        },
        { metric: 'max', ours: ms(o.max), baseline: ms(b.max), ratio: ratios.max },
        ...EVENT_KINDS.map((k) => {
          const s = summarize(oursByKind.get(k) ?? []);
          return {
            metric: `p50 / p99, ${KIND_LABEL[k]} events`,
            ours: `${ms(s.p50)} / ${ms(s.p99)}`,
          };
        }),
        {
          metric: 'CPU per event: server + emulators',
          ours: `${ms(oursCpu.serverMs!)} + ${ms(oursCpu.emulatorsMs!)}`,
          baseline: `${ms(baseCpu.serverMs!)} + ${ms(baseCpu.emulatorsMs!)}`,
          ratio: ratio(oursCpu.serverMs!, baseCpu.serverMs!),
        },
        {
          metric: `${WITH_READS}: throughput`,
          ours: perSec(oursTput),
          baseline: perSec(readsTput),
          ratio: ratio(oursTput, readsTput),
        },
        {
          metric: `${WITH_READS}: p50`,
          ours: ms(o.p50),
          baseline: ms(rd.p50),
          ratio: ratio(o.p50, rd.p50),
        },
        {
          metric: `${WITH_READS}: p99`,
          ours: ms(o.p99),
          baseline: ms(rd.p99),
          ratio: ratio(o.p99, rd.p99),
        },
        {
          metric: `${WITH_READS}: CPU per event, server + emulators`,
          ours: `${ms(oursCpu.serverMs!)} + ${ms(oursCpu.emulatorsMs!)}`,
          baseline: `${ms(readsCpu.serverMs!)} + ${ms(readsCpu.emulatorsMs!)}`,
          ratio: ratio(oursCpu.serverMs!, readsCpu.serverMs!),
        },
        {
          metric:
            'services per Consul transaction (group commit; mean of the run, warm-up included)',
          ours: servicesPerTxn.toFixed(2),
        },
        { metric: 'serve RSS under load (peak)', ours: mb(peakRssUnderLoad) },
      ],
      checks: {
        sentPerSide: total,
        oursAnswered: ours.answered,
        baselineAnswered: base.answered,
        oursFailures: ours.failures.slice(0, 20),
        baselineFailures: base.failures.slice(0, 20),
        baselineWithReadsAnswered: reads.answered,
        baselineWithReadsFailures: reads.failures.slice(0, 20),
        oursFailureCount: ours.failures.length,
        baselineFailureCount: base.failures.length,
        admissionOutcomes: outcomes,
      },
      memory,
    };
  } finally {
    await serve?.stop();
    await baseline?.stop();
    await floorReads?.stop();
    await host.close();
  }
}
