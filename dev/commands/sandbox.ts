// `sandbox`: the whole sync on embedded emulators. Interactive: where everything is and how to
// reach it (exports, a token, a curl line) printed once, then a live view of both catalogs and
// the recent events until Ctrl-C (exit 0). `--once`: the scripted scenario, exit 0 when both
// catalogs end in the expected state, 1 otherwise (with a diff). Both keep the server log in a
// fixed place (run-dir.ts) and say where on exit.
import type { Config } from '../../src/config/index.js';
import type { DevOptions } from './options.js';
import { startSandbox, type Sandbox } from '../sandbox/index.js';
import { packageRoot } from '../sandbox/infra.js';
import { connectionText, exitText, startInfo, startLiveView, startText } from '../sandbox/live.js';
import { claimRunDir, type RunDir } from '../sandbox/run-dir.js';
import { runScenario } from '../sandbox/scenario.js';
import { SHOW_CURSOR } from '../sandbox/view.js';

/**
 * Resolves on the first SIGINT or SIGTERM, also one received while the sandbox starts. A second
 * one while stopping exits at once (130 or 143), the cursor shown again.
 */
function stopSignal(): { stopped: Promise<string>; dispose: () => void } {
  let resolveStop: (signal: string) => void = () => undefined;
  let received = false;
  const stopped = new Promise<string>((resolve) => {
    resolveStop = resolve;
  });
  const on = (signal: 'SIGINT' | 'SIGTERM') => (): void => {
    if (received) {
      if (process.stdout.isTTY) process.stdout.write(SHOW_CURSOR);
      process.stderr.write(`\n${signal} again: exiting without waiting for the emulators\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    received = true;
    resolveStop(signal);
  };
  const onInt = on('SIGINT');
  const onTerm = on('SIGTERM');
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

const print = (lines: string[]): void => {
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
};

async function stopAll(sandbox: Sandbox, runDir: RunDir): Promise<void> {
  await sandbox.stop();
  runDir.release();
}

async function once(config: Config, dev: DevOptions): Promise<number> {
  const started = performance.now();
  const runDir = claimRunDir();
  let sandbox: Sandbox;
  try {
    // The expected state is the reference's for the default settings: sync flags do not apply.
    sandbox = await startSandbox({
      lbDelayMs: 300,
      dir: runDir.dir,
      ...(dev.kubeconfigOut ? { kubeconfigOut: dev.kubeconfigOut } : {}),
    });
  } catch (err) {
    runDir.release();
    process.stderr.write(`k8s-consul-sync: sandbox could not start: ${describe(err)}\n`);
    return 1;
  }
  const info = startInfo(sandbox, packageRoot());
  let ok = false;
  try {
    ok = await runScenario(sandbox, (line) => process.stdout.write(`${line}\n`), {
      // After the title line: where it runs, for a look while the scenario does.
      onStart: (write) => [...connectionText(info, 'the scenario ends'), ''].forEach(write),
    });
  } finally {
    await stopAll(sandbox, runDir);
  }
  print([`done in ${((performance.now() - started) / 1000).toFixed(1)} s`, ...exitText(info)]);
  return ok ? 0 : 1;
}

async function interactive(config: Config, dev: DevOptions): Promise<number> {
  const signal = stopSignal();
  const runDir = claimRunDir();
  let sandbox: Sandbox;
  try {
    process.stdout.write('starting the sandbox…\n');
    sandbox = await startSandbox({
      config,
      seed: false,
      dir: runDir.dir,
      ...(dev.kubeconfigOut ? { kubeconfigOut: dev.kubeconfigOut } : {}),
    });
  } catch (err) {
    signal.dispose();
    runDir.release();
    process.stderr.write(`k8s-consul-sync: sandbox could not start: ${describe(err)}\n`);
    return 1;
  }
  const info = startInfo(sandbox, packageRoot());
  const header = startText(info);
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
  await stopAll(sandbox, runDir);
  signal.dispose();
  print(['stopped.', ...exitText(info)]);
  return 0;
}

export function sandbox(config: Config, dev: DevOptions): Promise<number> {
  return dev.once ? once(config, dev) : interactive(config, dev);
}
