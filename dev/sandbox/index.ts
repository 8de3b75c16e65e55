// The sandbox: the Consul and Kubernetes API emulators, the real server with JWT authentication,
// and event delivery as in production — the API server calls the admission webhook of infra/'s
// ValidatingWebhookConfiguration, Consul runs infra/'s `services` watch — all on loopback.
// `startSandbox` returns the running pieces, a token for the operator, and `stop()`.
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parseConfig, type Config } from '../../src/config/index.js';
import { startConsulEmulator, type ConsulEmulator } from '../emulators/consul/index.js';
import { startKubeEmulator, type KubeEmulator } from '../emulators/kube/index.js';
import { createApp } from '../../src/http/app.js';
import { createAuthenticator } from '../../src/http/auth.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { readHmacSigningKey } from '../../src/auth/keys.js';
import { mintToken } from '../../src/auth/mint.js';
import { formatPathToken } from '../../src/auth/path-token.js';
import { SCOPES, type Scope } from '../../src/auth/scopes.js';
import { mintFromConfig } from '../../src/commands/token.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { createRuntime, type Runtime } from '../../src/sync/runtime.js';
import type { SyncSettings } from '../../src/sync/deps.js';
import { createHandlers } from '../../handlers/index.js';
import { readCatalogs, type Catalogs } from './catalogs.js';
import { EventLog, eventFromLogLine, recordHandlers } from './events.js';
import { loadWatches, loadWebhookConfiguration, packageRoot } from './infra.js';
import { LB_IP_PREFIX, seedConsul, seedKubernetes } from './seed.js';

export interface SandboxOptions {
  /**
   * Sync settings (prefixes, namespaces, directions…) taken from a parsed command line; the
   * connection, server and auth settings are always the sandbox's own. Default: all defaults.
   */
  config?: Config;
  /** Write the Kubernetes emulator's kubeconfig here (kept on stop) instead of `dir`. */
  kubeconfigOut?: string;
  /**
   * Keep the sandbox's files here (see run-dir.ts): stop() removes the signing secret and the
   * kubeconfig but keeps the server log. Default: a fresh temp dir, removed with everything in it.
   */
  dir?: string;
  /** How long the load balancer controller takes to assign an ingress IP. Default 1500 ms. */
  lbDelayMs?: number;
  /** Seed the sample world before returning (default true); else call `seed()` later. */
  seed?: boolean;
  /** Server log level (default: the config's, else info). The log goes to `logFile`. */
  logLevel?: string;
}

export interface Sandbox {
  consul: ConsulEmulator;
  kube: KubeEmulator;
  server: RunningServer;
  config: Config;
  runtime: Runtime;
  events: EventLog;
  /** The sandbox's dir (HMAC secret, kubeconfig, server log). */
  dir: string;
  kubeconfigPath: string;
  /** The HMAC secret the server verifies tokens with (what `token --auth-jwt-secret-file` reads). */
  secretFile: string;
  logFile: string;
  /** What stop() leaves behind: the log when `dir` was given, the kubeconfig when kubeconfigOut was. */
  keeps: { logFile: boolean; kubeconfig: boolean };
  /** A Kubernetes client on the emulator, as kubectl would use it. */
  core: CoreV1Api;
  /** Tokens minted for the callers, with the fresh secret. */
  tokens: { admissionPath: string; consulWatch: string };
  /** A token for whoever drives the sandbox (curl, scripts), minted as the `token` command does. */
  operator: OperatorToken;
  /** Resolved sync settings (sync id = kube-system's uid unless --sync-id). */
  settings: SyncSettings;
  /** Creates the sample world through the APIs (once; later calls return the same promise). */
  seed(): Promise<void>;
  /** Both catalogs, read now. */
  catalogs(): Promise<Catalogs>;
  stop(): Promise<void>;
}

export interface OperatorToken {
  token: string;
  subject: string;
  scopes: readonly Scope[];
  /** The `token` flags that mint an equivalent one while the sandbox runs. */
  tokenArgs: string[];
}

export const OPERATOR_SUBJECT = 'sandbox-operator';

/**
 * Every scope: the operator may call /reconcile and post events by hand. Minted by the `token`
 * command's own code from its own flags, so the printed command mints the same kind of token.
 */
function mintOperatorToken(secretFile: string): OperatorToken {
  const tokenArgs = [
    `--auth-jwt-secret-file=${secretFile}`,
    `--subject=${OPERATOR_SUBJECT}`,
    ...SCOPES.map((s) => `--scope=${s}`),
    // The secret lives as long as the sandbox: so does the token.
    '--ttl=0',
  ];
  const token = mintFromConfig(parseConfig(['token', ...tokenArgs], {}));
  return { token, subject: OPERATOR_SUBJECT, scopes: SCOPES, tokenArgs };
}

/** The fields of a user's Config that are sync behaviour (everything but connections/server/auth). */
function sandboxConfig(user: Config, own: Config): Config {
  return {
    ...user,
    consul: own.consul,
    kube: own.kube,
    server: own.server,
    auth: own.auth,
    logLevel: user.logLevel,
  };
}

function mint(secretFile: string, config: Config, subject: string, scope: Scope): string {
  return mintToken(readHmacSigningKey(secretFile), {
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    subject,
    scopes: [scope],
    // The secret lives as long as the sandbox: so does the token.
    ttlMs: 0,
  });
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const root = packageRoot();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'k8s-consul-sync-sandbox-'));
  const secretFile = join(dir, 'jwt-hmac-secret');
  const kubeconfigPath = options.kubeconfigOut ?? join(dir, 'kubeconfig');
  const cleanups: (() => Promise<void> | void)[] = [
    options.dir
      ? () => {
          // The log stays for reading after exit; the secret and the emulator's kubeconfig
          // are worth nothing once their servers are gone.
          rmSync(secretFile, { force: true });
          if (!options.kubeconfigOut) rmSync(kubeconfigPath, { force: true });
        }
      : () => rmSync(dir, { recursive: true, force: true }),
  ];
  const stopAll = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch {
        // Stopping goes on: one piece failing to close must not leave the others running.
      }
    }
  };
  try {
    // A fresh HMAC secret (≥ 32 bytes, RFC 7518 §3.2) for this run only.
    writeFileSync(secretFile, randomBytes(48).toString('base64url'), { mode: 0o600 });

    const consul = await startConsulEmulator();
    cleanups.push(() => consul.close());

    const base = parseConfig(
      [
        'serve',
        '--insecure-http',
        '--listen=127.0.0.1:0',
        `--auth-jwt-secret-file=${secretFile}`,
        `--consul-http-addr=${consul.address}`,
      ],
      {},
    );
    const config = sandboxConfig(options.config ?? parseConfig(['sandbox'], {}), base);

    const admissionPath = formatPathToken(
      mint(secretFile, config, 'kube-apiserver', 'k8s:admission'),
    );
    const consulWatch = mint(secretFile, config, 'consul-agent', 'consul:watch');
    const operator = mintOperatorToken(secretFile);

    // The API server reaches the webhook's clientConfig.service through resolveService, which
    // points at the server once it listens (nothing is admitted before that).
    let serverUrl = '';
    const kube = await startKubeEmulator({
      kubeconfigOut: kubeconfigPath,
      admission: {
        webhooks: [loadWebhookConfiguration(admissionPath, root)],
        resolveService: () => serverUrl,
      },
      controllers: {
        endpointSlices: true,
        loadBalancer: { delayMs: options.lbDelayMs ?? 1500, ipPrefix: LB_IP_PREFIX },
      },
    });
    cleanups.push(() => kube.close());

    const events = new EventLog();
    const logFile = join(dir, 'server.log');
    // One run per log: a fixed `dir` holds the previous run's log, replaced here.
    const logStream = createWriteStream(logFile, { flags: 'w', mode: 0o600 });
    let logOpen = true;
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          logOpen = false;
          logStream.end(resolve);
        }),
    );
    const logger = createLogger({
      level: options.logLevel ?? config.logLevel,
      destination: {
        write(line: string): void {
          // A late line (a request finishing while everything stops) is dropped, not an error.
          if (logOpen) logStream.write(line);
          const event = eventFromLogLine(line);
          if (event) events.add(event);
        },
      },
    });
    const metrics = createMetrics({ defaultMetrics: false });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(kube.kubeconfig);
    const runtime = createRuntime(config, { logger, metrics, kubeConfig });
    cleanups.push(() => runtime.close());
    const auth = createAuthenticator(config, logger, metrics);
    cleanups.push(() => auth.close());
    const app = createApp({
      config,
      logger,
      metrics,
      readiness: runtime.readiness,
      auth,
      handlers: recordHandlers(createHandlers(runtime), events),
      foreground: runtime.foreground,
    });
    const server = await startServer(app, config, { logger });
    // Only the emulators call this server: a short grace for their in-flight requests.
    cleanups.push(() => server.close(250));
    serverUrl = server.url;

    const deps = await runtime.deps();
    for (const watch of loadWatches(consulWatch, server.url, root)) consul.addWatch(watch);

    const core = kubeConfig.makeApiClient(CoreV1Api);
    let seeded: Promise<void> | undefined;
    const seed = (): Promise<void> => {
      seeded ??= (async () => {
        await seedKubernetes(core);
        await seedConsul(consul.url);
      })();
      return seeded;
    };
    if (options.seed ?? true) await seed();

    return {
      consul,
      kube,
      server,
      config,
      runtime,
      events,
      dir,
      kubeconfigPath,
      secretFile,
      logFile,
      keeps: {
        logFile: options.dir !== undefined,
        kubeconfig: options.kubeconfigOut !== undefined,
      },
      core,
      tokens: { admissionPath, consulWatch },
      operator,
      settings: deps.settings,
      seed,
      catalogs: () =>
        readCatalogs({ kubeUrl: kube.url, consulSnapshot: () => consul.snapshot() }, deps.settings),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
