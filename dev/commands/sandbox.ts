// `sandbox`: the whole sync on embedded emulators (SPEC.md §10). Interactive: a live view of both
// catalogs and the recent events until Ctrl-C (exit 0). `--once`: the scripted scenario, exit 0
// when both catalogs end as SPEC.md says, 1 otherwise (with a diff).
import { copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config/index.js';
import type { DevOptions } from '../cli.js';
import { startSandbox, type Sandbox } from '../sandbox/index.js';
import { packageRoot } from '../sandbox/infra.js';
import { startLiveView, startText } from '../sandbox/live.js';
import { runScenario } from '../sandbox/scenario.js';

/** Resolves on the first SIGINT or SIGTERM, also one received while the sandbox starts. */
function stopSignal(): { stopped: Promise<string>; dispose: () => void } {
  let resolveStop: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    resolveStop = resolve;
  });
  const onInt = (): void => resolveStop('SIGINT');
  const onTerm = (): void => resolveStop('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    stopped,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function once(config: Config, dev: DevOptions): Promise<number> {
  const started = performance.now();
  let sandbox: Sandbox;
  try {
    // The expected state is SPEC.md's for the default settings: sync flags do not apply here.
    sandbox = await startSandbox({
      lbDelayMs: 300,
      ...(dev.kubeconfigOut ? { kubeconfigOut: dev.kubeconfigOut } : {}),
    });
  } catch (err) {
    process.stderr.write(`k8s-consul-sync: sandbox could not start: ${describe(err)}\n`);
    return 1;
  }
  let ok = false;
  try {
    ok = await runScenario(sandbox, (line) => process.stdout.write(`${line}\n`));
  } finally {
    if (!ok && existsSync(sandbox.logFile)) {
      // The temp dir goes with stop(): keep the server log of a failed run.
      const kept = join(tmpdir(), `k8s-consul-sync-sandbox-${Date.now()}.log`);
      copyFileSync(sandbox.logFile, kept);
      process.stdout.write(`server log kept at ${kept}\n`);
    }
    await sandbox.stop();
  }
  process.stdout.write(`done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return ok ? 0 : 1;
}

async function interactive(config: Config, dev: DevOptions): Promise<number> {
  const signal = stopSignal();
  let sandbox: Sandbox;
  try {
    process.stdout.write('starting the sandbox…\n');
    sandbox = await startSandbox({
      config,
      seed: false,
      ...(dev.kubeconfigOut ? { kubeconfigOut: dev.kubeconfigOut } : {}),
    });
  } catch (err) {
    signal.dispose();
    process.stderr.write(`k8s-consul-sync: sandbox could not start: ${describe(err)}\n`);
    return 1;
  }
  const header = startText({
    serverUrl: sandbox.server.url,
    kubeUrl: sandbox.kube.url,
    consulUrl: sandbox.consul.url,
    consulAddress: sandbox.consul.address,
    kubeconfigPath: sandbox.kubeconfigPath,
    logFile: sandbox.logFile,
    root: packageRoot(),
  });
  const out = process.stdout;
  const live = startLiveView(sandbox, out, header);
  const onResize = (): void => live.refresh();
  out.on('resize', onResize);
  // Seeded with the view running, so the sample world is seen arriving event by event.
  const seeding = sandbox.seed().catch((err: unknown) => {
    process.stderr.write(`k8s-consul-sync: seeding the sandbox failed: ${describe(err)}\n`);
  });

  const received = await signal.stopped;
  out.off('resize', onResize);
  await seeding;
  await live.stop();
  process.stdout.write(`${received}: stopping the server and the emulators…\n`);
  await sandbox.stop();
  signal.dispose();
  process.stdout.write('stopped.\n');
  return 0;
}

export function sandbox(config: Config, dev: DevOptions): Promise<number> {
  return dev.once ? once(config, dev) : interactive(config, dev);
}
