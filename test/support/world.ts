// A test world: both emulators on loopback, the real runtime (real `consul` and
// @kubernetes/client-node clients) pointed at them, and the express app with every handler.
import { Writable } from 'node:stream';
import { CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import Consul from 'consul';
import type { Express } from 'express';
import { startConsulEmulator, type ConsulEmulator } from '../../dev/emulators/consul/index.js';
import {
  startKubeEmulator,
  type KubeEmulator,
  type KubeEmulatorOptions,
} from '../../dev/emulators/kube/index.js';
import { parseConfig, type Config } from '../../src/config/index.js';
import { createLogger, type Logger } from '../../src/telemetry/logger.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { createRuntime, type Runtime } from '../../src/sync/runtime.js';
import { createApp } from '../../src/http/app.js';
import { createAuthenticator } from '../../src/http/auth.js';
import { createHandlers } from '../../handlers/index.js';

export interface World {
  consulEmu: ConsulEmulator;
  kubeEmu: KubeEmulator;
  config: Config;
  runtime: Runtime;
  app: Express;
  logger: Logger;
  logs: string[];
  metrics: Metrics;
  core: CoreV1Api;
  discovery: DiscoveryV1Api;
  consul: InstanceType<typeof Consul>;
  /** Registrations on the sync node, sorted by ID, as plain objects. */
  registrations(node?: string): Promise<RegistrationView[]>;
  close(): Promise<void>;
}

export interface RegistrationView {
  ID: string;
  Service: string;
  Address: string;
  Port: number;
  Tags: string[];
  Meta: Record<string, string>;
  Weights: { Passing: number; Warning: number };
  Check?: { CheckID: string; Name: string; Status: string };
}

export interface WorldOptions {
  flags?: string[];
  kube?: KubeEmulatorOptions;
  consulToken?: string;
  /** Share a Consul emulator with another world (two installations, one Consul). */
  consulEmu?: ConsulEmulator;
  /** Keep the mirrors in memory through a watch, as serve does (default: list them, as before). */
  watchMirrors?: boolean;
  /** Keep the registration view, as serve does (default: read before every write, as before). */
  registrationView?: boolean;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const ownConsul = !options.consulEmu;
  const [consulEmu, kubeEmu] = await Promise.all([
    options.consulEmu ??
      startConsulEmulator(options.consulToken ? { token: options.consulToken } : {}),
    startKubeEmulator(options.kube ?? {}),
  ]);
  const config = parseConfig(
    [
      'serve',
      '--auth-disabled',
      '--insecure-http',
      '--listen=127.0.0.1:0',
      `--consul-http-addr=${consulEmu.address}`,
      ...(options.flags ?? []),
    ],
    options.consulToken ? { CONSUL_HTTP_TOKEN: options.consulToken } : {},
  );
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const metrics = createMetrics({ defaultMetrics: false });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kubeEmu.kubeconfig);
  const runtime = createRuntime(config, {
    logger,
    metrics,
    kubeConfig,
    ...(options.watchMirrors ? { watchMirrors: true } : {}),
    ...(options.registrationView ? { registrationView: true } : {}),
  });
  const auth = createAuthenticator(config, logger, metrics);
  const app = createApp({
    config,
    logger,
    metrics,
    readiness: runtime.readiness,
    auth,
    handlers: createHandlers(runtime),
    foreground: runtime.foreground,
  });
  const consul = new Consul({
    host: '127.0.0.1',
    port: consulEmu.port,
    defaults: options.consulToken ? { token: options.consulToken } : {},
  });
  const registrations = async (node = config.consulNodeName): Promise<RegistrationView[]> => {
    const snap = consulEmu.snapshot();
    const checks = new Map(
      snap.checks
        .filter((c) => c.Node === node && c.ServiceID)
        .map((c) => [c.ServiceID, c] as const),
    );
    return snap.services
      .filter((s) => s.Node === node)
      .map((s) => {
        const check = checks.get(s.ID);
        return {
          ID: s.ID,
          Service: s.Service,
          Address: s.Address,
          Port: s.Port,
          Tags: s.Tags ?? [],
          Meta: s.Meta ?? {},
          Weights: s.Weights,
          ...(check
            ? { Check: { CheckID: check.CheckID, Name: check.Name, Status: check.Status } }
            : {}),
        };
      })
      .sort((a, b) => a.ID.localeCompare(b.ID));
  };
  return {
    consulEmu,
    kubeEmu,
    config,
    runtime,
    app,
    logger,
    logs,
    metrics,
    core: kubeConfig.makeApiClient(CoreV1Api),
    discovery: kubeConfig.makeApiClient(DiscoveryV1Api),
    consul,
    registrations,
    close: async () => {
      runtime.close();
      await Promise.all([ownConsul ? consulEmu.close() : undefined, kubeEmu.close()]);
    },
  };
}
