// `emulate consul|kube`: one emulator standalone on loopback until stopped, so a developer can
// point kubectl, curl or the consul CLI at it. Prints its address when ready.
import type { Config } from '../../src/config/index.js';
import type { DevOptions } from './options.js';
import { startConsulEmulator } from '../emulators/consul/index.js';
import { startKubeEmulator } from '../emulators/kube/index.js';

/** --listen's own default is the server's; an emulator not told otherwise takes its usual port. */
const SERVER_DEFAULT = { host: '0.0.0.0', port: 8443 };

function listenFor(config: Config, port: number): { host: string; port: number } {
  const { host, port: given } = config.server;
  if (host === SERVER_DEFAULT.host && given === SERVER_DEFAULT.port)
    return { host: '127.0.0.1', port };
  return { host, port: given };
}

async function untilStopped(): Promise<void> {
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export async function emulate(config: Config, dev: DevOptions): Promise<number> {
  const which = config.args[0];
  if (which === 'consul') {
    const emu = await startConsulEmulator({
      ...listenFor(config, 8500),
      ...(config.consul.token ? { token: config.consul.token } : {}),
    });
    process.stdout.write(
      `consul emulator listening on ${emu.url} (CONSUL_HTTP_ADDR=${emu.address})\n`,
    );
    await untilStopped();
    await emu.close();
    return 0;
  }
  if (which === 'kube') {
    const out = dev.kubeconfigOut;
    const emu = await startKubeEmulator({
      ...listenFor(config, 6443),
      ...(out ? { kubeconfigOut: out } : {}),
      controllers: { endpointSlices: true, loadBalancer: { delayMs: 500 } },
      // Two Ready nodes, so `kubectl run` schedules a pod that becomes Running and Ready.
      nodes: [
        { name: 'node-a', internalIP: '10.0.0.11' },
        { name: 'node-b', internalIP: '10.0.0.12' },
      ],
    });
    process.stdout.write(`kubernetes API emulator listening on ${emu.url}\n`);
    if (out)
      process.stdout.write(
        `kubeconfig written to ${out}: kubectl --kubeconfig ${out} get svc -A\n`,
      );
    await untilStopped();
    await emu.close();
    return 0;
  }
  process.stderr.write(
    'k8s-consul-sync: usage: emulate consul|kube [--listen host:port] [--token T] [--kubeconfig-out FILE]\n',
  );
  return 2;
}
