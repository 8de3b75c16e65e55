// Scenario 4, footprint: RSS of an idle `serve` (started, connected, no traffic) and under the
// event-path load. Idle is measured twice: through tsx (`npm start`, the command the benchmark
// drives) and built (`node dist/bundle/k8s-consul-sync.mjs serve`, as the Dockerfile runs it). Probes
// attribute the idle figure: the runtime with the tsx loader alone, and with
// @kubernetes/client-node loaded.
import { setTimeout as sleep } from 'node:timers/promises';
import { EmulatorHost } from './emulators.js';
import { BENCH_SYNC_ID, eventAt, eventPool } from './fixtures.js';
import { runLoad } from './load.js';
import { spawn } from 'node:child_process';
import {
  buildCompiled,
  cleanEnv,
  memoryOf,
  REPO_ROOT,
  sampleRss,
  startServe,
  waitFor200,
  type ServeProcess,
} from './procs.js';
import type { ServeMemory } from './event-path.js';
import { atMost, mb, type Row, type ScenarioResult, type Target } from './report.js';

export interface FootprintOptions {
  /** Events of the load phase when the event-path scenario did not run in this invocation. */
  events: number;
  /** serve's memory as measured by the event-path scenario of the same run. */
  fromEventPath?: ServeMemory;
  serveNodeArgs?: string[];
  /** How long serve sits idle (after answering /readyz) before its RSS is read. Default 2 s. */
  idleWaitMs?: number;
  /** Also measure the attribution probes (two extra processes). Default true. */
  probes?: boolean;
  /** Also measure the compiled server (tsc into a temporary directory, once per run). Default true. */
  compiled?: boolean;
}

const IDLE_TARGET = 80 * 1024 * 1024;

/**
 * RSS of a fresh node process (with or without the tsx loader, from the repository root) once it
 * has imported `modules`: what the runtime and the dependencies cost before any work.
 */
function probeRss(modules: string[], tsx: boolean): Promise<number> {
  const code = `
    for (const m of ${JSON.stringify(modules)}) await import(m);
    await new Promise((r) => setTimeout(r, 500));
    process.send(process.memoryUsage().rss, () => process.exit(0));`;
  const child = spawn(
    process.execPath,
    [...(tsx ? ['--import', 'tsx'] : []), '--input-type=module', '-e', code],
    { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: cleanEnv() },
  );
  return new Promise((resolve, reject) => {
    child.once('message', (rss: unknown) => resolve(Number(rss)));
    child.once('exit', (code) => reject(new Error(`footprint probe exited (${code ?? 'signal'})`)));
  });
}

export async function runFootprint(options: FootprintOptions): Promise<ScenarioResult> {
  const pool = eventPool(options.events);
  const idleWaitMs = options.idleWaitMs ?? 2000;
  const compiledDir = (options.compiled ?? true) ? await buildCompiled() : undefined;
  const host = await EmulatorHost.start();
  let idle = 0;
  let idleCompiled = NaN;
  let underLoad: number;
  let loadSource: string;
  let failures = 0;
  const startIdle = async (dir?: string): Promise<{ serve: ServeProcess; rss: number }> => {
    const serve = await startServe({
      consulAddress: host.started.clientConsulAddress,
      kubeconfigPath: host.started.kubeconfigPath,
      flags: [`--sync-id=${BENCH_SYNC_ID}`],
      ...(options.serveNodeArgs ? { nodeArgs: options.serveNodeArgs } : {}),
      ...(dir ? { compiledDir: dir } : {}),
    });
    await waitFor200(`${serve.url}/readyz`);
    await sleep(idleWaitMs);
    return { serve, rss: memoryOf(serve.pid)?.rss ?? 0 };
  };
  try {
    await host.call({ type: 'seed-events', perKind: pool.perKind });
    if (compiledDir) {
      const compiled = await startIdle(compiledDir);
      idleCompiled = compiled.rss;
      await compiled.serve.stop();
    }
    const { serve, rss } = await startIdle();
    idle = rss;
    try {
      if (options.fromEventPath) {
        underLoad = options.fromEventPath.peakRssUnderLoad;
        loadSource = 'event-path scenario of this run';
      } else {
        const sampler = sampleRss(serve.pid);
        const res = await runLoad(
          `${serve.url}/k8s/admission`,
          (i) => eventAt(pool, i, 'c0000000'),
          0,
          options.events,
          16,
          (_i, status) => (status === 200 ? undefined : `status ${status}`),
        );
        failures = res.failures.length;
        underLoad = sampler.stop();
        loadSource = `${options.events} event-path events`;
      }
    } finally {
      await serve.stop();
    }
  } finally {
    await host.close();
  }
  const probes = options.probes ?? true;
  const probe = (modules: string[], tsx: boolean): Promise<number> =>
    probes ? probeRss(modules, tsx) : Promise.resolve(NaN);
  const runtimeOnly = await probe([], true);
  const withClientNode = await probe(['@kubernetes/client-node'], true);
  // Compiled: the server's other dependencies, then client-node on top.
  const deps = ['express', 'pino', 'prom-client', 'consul', 'zod', 'yaml', 'jsonwebtoken'];
  const plainDeps = await probe(deps, false);
  const plainDepsClientNode = await probe([...deps, '@kubernetes/client-node'], false);

  const targets: Target[] = [atMost('idle RSS via tsx (bytes; 80 MiB)', idle, IDLE_TARGET)];
  const rows: Row[] = [
    {
      metric: 'serve RSS, idle (tsx, npm start)',
      ours: mb(idle),
      target: '<= 80 MiB',
      met: idle <= IDLE_TARGET,
    },
  ];
  if (compiledDir) {
    targets.push(atMost('idle RSS compiled (bytes; 80 MiB)', idleCompiled, IDLE_TARGET));
    rows.push({
      metric: 'serve RSS, idle (compiled, as the Dockerfile runs it)',
      ours: mb(idleCompiled),
      target: '<= 80 MiB',
      met: idleCompiled <= IDLE_TARGET,
    });
  }
  const loadedCompiled = options.fromEventPath?.compiled ?? false;
  rows.push({
    metric: `serve RSS, under event-path load (peak, ${loadedCompiled ? 'compiled' : 'tsx'})`,
    ours: mb(underLoad),
  });
  if (probes) {
    rows.push(
      { metric: 'of idle (tsx): node + tsx loader alone', ours: mb(runtimeOnly) },
      {
        metric: 'of idle (tsx): importing @kubernetes/client-node',
        ours: `+${mb(withClientNode - runtimeOnly)}`,
      },
      {
        metric: 'of idle (compiled): node + the other dependencies',
        ours: mb(plainDeps),
      },
      {
        metric: 'of idle (compiled): importing @kubernetes/client-node',
        ours: `+${mb(plainDepsClientNode - plainDeps)}`,
      },
    );
  }
  return {
    scenario: 'footprint',
    params: { loadSource, idleWaitMs },
    figures: {
      idleRssBytes: idle,
      idleRssCompiledBytes: idleCompiled,
      underLoadPeakRssBytes: underLoad,
      probeRuntimeWithTsxBytes: runtimeOnly,
      probeClientNodeBytes: withClientNode,
      clientNodeImportCostBytes: withClientNode - runtimeOnly,
      probeCompiledDepsBytes: plainDeps,
      probeCompiledDepsWithClientNodeBytes: plainDepsClientNode,
      clientNodeImportCostCompiledBytes: plainDepsClientNode - plainDeps,
    },
    ratios: {},
    targets,
    rows,
    checks: { loadFailures: failures },
  };
}
