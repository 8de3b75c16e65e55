// Flags + environment → one typed, validated, frozen Config, parsed once at start (SPEC.md §2).
// Precedence: flag > SYNC_* variable > Consul's CONSUL_* variable (connections) > default.
import { FLAGS, envName, parseDuration, type FlagDef } from './flags.js';
import type { ToConsulSettings, ToK8sSettings } from '../translate/types.js';
// Booleans take Go's strconv.ParseBool spellings, as consul-k8s flags and annotations do.
import { parseGoBool } from '../translate/to-consul.js';

export { FLAGS, parseDuration, envName } from './flags.js';
export type { FlagDef } from './flags.js';

export type NodePortSyncType = 'ExternalOnly' | 'ExternalFirst' | 'InternalOnly';
export type Direction = 'both' | 'to-consul' | 'to-k8s';

export interface ConsulConnection {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:8500 */
  url: string;
  scheme: 'http' | 'https';
  host: string;
  port: number;
  token?: string;
  tokenFile?: string;
  caCert?: string;
  clientCert?: string;
  clientKey?: string;
  tlsServerName?: string;
  sslVerify: boolean;
}

export interface Config extends ToConsulSettings, ToK8sSettings {
  command: string;
  args: readonly string[];
  toConsul: boolean;
  toK8s: boolean;
  /** Empty until resolved from kube-system's UID (see src/sync). */
  syncId: string;
  dryRun: boolean;
  consul: ConsulConnection;
  kube: { kubeconfig?: string; context?: string };
  server: {
    host: string;
    port: number;
    tlsCertFile?: string;
    tlsKeyFile?: string;
    tlsClientCaFile?: string;
    insecureHttp: boolean;
    maxBodyBytes: number;
    writeTimeoutMs: number;
    reconcileIntervalMs: number;
    nodeCacheTtlMs: number;
    auditDeadlineMs: number;
    /** Delays after an admission at which stored state is confirmed, ascending. */
    confirmAfterMs: readonly number[];
    breakerFailures: number;
    breakerProbeIntervalMs: number;
    /** Requests (or converges) run at once against Consul or Kubernetes. */
    concurrency: number;
  };
  auth: {
    disabled: boolean;
    jwtSecretFile?: string;
    jwtPublicKeyFiles: readonly string[];
    issuer: string;
    audience: string;
  };
  logLevel: string;
  reconcile: {
    maxDeleteRatio: number;
    deleteGuardMin: number;
    force: boolean;
    output: 'table' | 'json';
    direction: Direction;
  };
  token: {
    subject: string;
    scopes: readonly string[];
    ttlMs: number;
    privateKeyFile?: string;
    format: 'jwt' | 'path';
  };
}

export class ConfigError extends Error {
  constructor(
    readonly flag: string,
    readonly value: string,
    readonly allowed: string,
  ) {
    super(`invalid value ${JSON.stringify(value)} for --${flag}: ${allowed}`);
    this.name = 'ConfigError';
  }
}

/** Thrown for --help: the caller prints `text` and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly text: string) {
    super('help requested');
    this.name = 'HelpRequested';
  }
}

type Raw = Map<string, string[]>;

function splitArgv(
  argv: readonly string[],
  byName: ReadonlyMap<string, FlagDef>,
): { positionals: string[]; raw: Raw; help: boolean } {
  const positionals: string[] = [];
  const raw: Raw = new Map();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const def = byName.get(name);
    if (!def) throw new ConfigError(name, arg, 'unknown flag (see --help)');
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (def.kind === 'bool') value = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new ConfigError(name, '', `--${name} needs a value`);
      }
      value = next;
      i++;
    }
    const list = raw.get(name) ?? [];
    list.push(value);
    raw.set(name, list);
  }
  return { positionals, raw, help };
}

/** The value(s) of one flag: the flags if given, else its SYNC_* variable, else undefined. */
function lookup(def: FlagDef, raw: Raw, env: NodeJS.ProcessEnv): string[] | undefined {
  const fromFlags = raw.get(def.name);
  if (fromFlags) {
    if (def.kind === 'list') return fromFlags.flatMap(splitList);
    return [fromFlags[fromFlags.length - 1]!];
  }
  const fromEnv = env[envName(def.name)];
  if (fromEnv === undefined) return undefined;
  return def.kind === 'list' ? splitList(fromEnv) : [fromEnv];
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function check(def: FlagDef, value: string): void {
  switch (def.kind) {
    case 'bool':
      if (parseGoBool(value) === undefined) throw new ConfigError(def.name, value, 'true or false');
      return;
    case 'enum':
    case 'list':
      if (def.allowed && !def.allowed.includes(value)) {
        throw new ConfigError(def.name, value, `one of ${def.allowed.join(', ')}`);
      }
      break;
    case 'int':
      if (!/^\d+$/.test(value)) throw new ConfigError(def.name, value, 'a whole number');
      break;
    case 'ratio':
      if (!/^\d+(\.\d+)?$/.test(value) || Number(value) > 1) {
        throw new ConfigError(def.name, value, 'a number from 0 to 1');
      }
      break;
    case 'duration':
      if (parseDuration(value) === undefined) {
        throw new ConfigError(def.name, value, 'a duration such as 500ms, 3s, 5m or 8760h');
      }
      break;
    case 'string':
      break;
  }
  if (def.pattern && !def.pattern.test(value)) {
    throw new ConfigError(def.name, value, def.pattern.allowed);
  }
}

function resolveAll(
  raw: Raw,
  env: NodeJS.ProcessEnv,
  flags: readonly FlagDef[],
): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const def of flags) {
    const given = lookup(def, raw, env);
    const defaults: string[] = typeof def.default === 'string' ? [def.default] : [...def.default];
    const chosen = given ?? defaults.filter((v) => def.kind !== 'list' || v !== '');
    if (given) for (const v of given) check(def, v);
    values.set(def.name, chosen);
  }
  return values;
}

function parseConsulConnection(
  values: Map<string, string[]>,
  env: NodeJS.ProcessEnv,
): ConsulConnection {
  const flagAddr = values.get('consul-http-addr')![0]!;
  const address = flagAddr || env.CONSUL_HTTP_ADDR || '127.0.0.1:8500';
  let scheme: 'http' | 'https' = 'http';
  let hostPort = address;
  const m = /^(https?):\/\/(.*)$/.exec(address);
  if (m) {
    scheme = m[1] as 'http' | 'https';
    hostPort = m[2]!;
  } else if (env.CONSUL_HTTP_SSL !== undefined) {
    const ssl = parseGoBool(env.CONSUL_HTTP_SSL);
    if (ssl === undefined)
      throw new ConfigError('CONSUL_HTTP_SSL', env.CONSUL_HTTP_SSL, 'true or false');
    if (ssl) scheme = 'https';
  }
  hostPort = hostPort.replace(/\/$/, '');
  const portMatch = /^(.*):(\d{1,5})$/.exec(hostPort);
  const host = (portMatch ? portMatch[1]! : hostPort).replace(/^\[(.*)\]$/, '$1');
  const port = portMatch ? Number(portMatch[2]) : scheme === 'https' ? 8501 : 8500;
  if (!host || port > 65535 || /[\s/]/.test(host)) {
    throw new ConfigError(
      flagAddr ? 'consul-http-addr' : 'CONSUL_HTTP_ADDR',
      address,
      '[http[s]://]host[:port]',
    );
  }
  let sslVerify = true;
  if (env.CONSUL_HTTP_SSL_VERIFY !== undefined) {
    const v = parseGoBool(env.CONSUL_HTTP_SSL_VERIFY);
    if (v === undefined) {
      throw new ConfigError('CONSUL_HTTP_SSL_VERIFY', env.CONSUL_HTTP_SSL_VERIFY, 'true or false');
    }
    sslVerify = v;
  }
  const token = values.get('token')![0] || env.CONSUL_HTTP_TOKEN || undefined;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${scheme}://${urlHost}:${port}`,
    scheme,
    host,
    port,
    token,
    tokenFile: token ? undefined : env.CONSUL_HTTP_TOKEN_FILE || undefined,
    caCert: env.CONSUL_CACERT || undefined,
    clientCert: env.CONSUL_CLIENT_CERT || undefined,
    clientKey: env.CONSUL_CLIENT_KEY || undefined,
    tlsServerName: env.CONSUL_TLS_SERVER_NAME || undefined,
    sslVerify,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Parses argv (without `node` and the script) and the environment into the Config. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Config {
  return parseConfigWith(argv, env, []).config;
}

/**
 * The Config, plus the values of `extraFlags`: flags a tool around the product adds (the
 * sandbox's --once), parsed and checked like the product's, kept out of the product's Config.
 */
export function parseConfigWith(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  extraFlags: readonly FlagDef[],
): { config: Config; extra: ReadonlyMap<string, readonly string[]> } {
  const all = [...FLAGS, ...extraFlags];
  const { positionals, raw, help } = splitArgv(argv, new Map(all.map((f) => [f.name, f])));
  const command = positionals[0] ?? 'help';
  if (help || command === 'help') throw new HelpRequested(renderHelp(extraFlags));
  const values = resolveAll(raw, env, all);
  const one = (name: string): string => values.get(name)![0] ?? '';
  const bool = (name: string): boolean => parseGoBool(one(name)) === true;
  const list = (name: string): string[] => values.get(name)!;
  const opt = (name: string): string | undefined => one(name) || undefined;
  const listen = one('listen');
  const colon = listen.lastIndexOf(':');
  const config: Config = {
    command,
    args: positionals.slice(1),
    toConsul: bool('to-consul'),
    toK8s: bool('to-k8s'),
    k8sDefaultSync: bool('k8s-default-sync'),
    allowK8sNamespaces: list('allow-k8s-namespace'),
    denyK8sNamespaces: list('deny-k8s-namespace'),
    consulServicePrefix: one('consul-service-prefix'),
    addK8sNamespaceSuffix: bool('add-k8s-namespace-suffix'),
    consulK8sTag: one('consul-k8s-tag'),
    consulNodeName: one('consul-node-name'),
    syncId: one('sync-id'),
    syncClusterIPServices: bool('sync-clusterip-services'),
    syncLBServicesEndpoints: bool('sync-lb-services-endpoints'),
    nodePortSyncType: one('node-port-sync-type') as NodePortSyncType,
    maxInstancesPerService: Number(one('max-instances-per-service')),
    k8sServicePrefix: one('k8s-service-prefix'),
    k8sWriteNamespace: one('k8s-write-namespace'),
    consulDomain: one('consul-domain'),
    dryRun: bool('dry-run'),
    consul: parseConsulConnection(values, env),
    kube: { kubeconfig: opt('kubeconfig'), context: opt('kube-context') },
    server: {
      host: listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1'),
      port: Number(listen.slice(colon + 1)),
      tlsCertFile: opt('tls-cert-file'),
      tlsKeyFile: opt('tls-key-file'),
      tlsClientCaFile: opt('tls-client-ca-file'),
      insecureHttp: bool('insecure-http'),
      maxBodyBytes: Number(one('max-body-bytes')),
      writeTimeoutMs: parseDuration(one('write-timeout'))!,
      reconcileIntervalMs: parseDuration(one('reconcile-interval'))!,
      nodeCacheTtlMs: parseDuration(one('node-cache-ttl'))!,
      auditDeadlineMs: parseDuration(one('audit-deadline'))!,
      confirmAfterMs: list('confirm-after')
        .map((d) => parseDuration(d)!)
        .sort((a, b) => a - b),
      breakerFailures: Number(one('breaker-failures')),
      breakerProbeIntervalMs: parseDuration(one('breaker-probe-interval'))!,
      concurrency: Number(one('concurrency')),
    },
    auth: {
      disabled: bool('auth-disabled'),
      jwtSecretFile: opt('auth-jwt-secret-file'),
      jwtPublicKeyFiles: list('auth-jwt-public-key-file'),
      issuer: one('auth-jwt-issuer'),
      audience: one('auth-jwt-audience'),
    },
    logLevel: one('log-level'),
    reconcile: {
      maxDeleteRatio: Number(one('max-delete-ratio')),
      deleteGuardMin: Number(one('delete-guard-min')),
      force: bool('force'),
      output: one('output') as 'table' | 'json',
      direction: one('direction') as Direction,
    },
    token: {
      subject: one('subject'),
      scopes: list('scope'),
      ttlMs: parseDuration(one('ttl'))!,
      privateKeyFile: opt('private-key-file'),
      format: one('format') as 'jwt' | 'path',
    },
  };
  if (Boolean(config.server.tlsCertFile) !== Boolean(config.server.tlsKeyFile)) {
    const missing = config.server.tlsCertFile ? 'tls-key-file' : 'tls-cert-file';
    throw new ConfigError(missing, '', '--tls-cert-file and --tls-key-file go together');
  }
  const extra = new Map(extraFlags.map((f) => [f.name, values.get(f.name)!] as const));
  return { config: deepFreeze(config), extra };
}

const GROUP_TITLES: Record<string, string> = {
  sync: 'Sync',
  connection: 'Connections',
  server: 'Server',
  reconcile: 'Reconcile and plan',
  command: 'Command-specific',
};

function defaultText(def: FlagDef): string {
  if (Array.isArray(def.default)) return def.default.length ? def.default.join(', ') : 'none';
  const d = def.default as string;
  if (d === '') return def.kind === 'string' ? '""' : 'none';
  return d;
}

export const COMMANDS: readonly { name: string; summary: string }[] = [
  { name: 'serve', summary: 'HTTP(S) server with all handlers.' },
  {
    name: 'reconcile',
    summary: 'One full two-way convergence, then exit (0 converged, 1 errors).',
  },
  { name: 'plan', summary: 'Same as reconcile --dry-run; table or --output json.' },
  { name: 'token', summary: 'Mint a JWT: --subject, --scope (repeatable), --ttl.' },
  { name: 'sandbox', summary: 'Emulators, server, sample data and event delivery on loopback.' },
  { name: 'emulate', summary: 'emulate consul|kube: one emulator standalone (--listen).' },
];

export function renderHelp(extraFlags: readonly FlagDef[] = []): string {
  const lines = [
    'k8s-consul-sync: keeps Kubernetes services and the Consul catalog in sync, both ways.',
    '',
    'Usage: k8s-consul-sync <command> [flags]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(11)} ${c.summary}`),
    '',
    'Every flag also reads SYNC_<FLAG> from the environment (--to-k8s=false = SYNC_TO_K8S=false); flags win.',
    'Consul also reads CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE, CONSUL_HTTP_SSL,',
    'CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY, CONSUL_TLS_SERVER_NAME, CONSUL_HTTP_SSL_VERIFY.',
  ];
  for (const group of Object.keys(GROUP_TITLES)) {
    const defs = [...FLAGS, ...extraFlags].filter((f) => f.group === group);
    if (defs.length === 0) continue;
    lines.push('', `${GROUP_TITLES[group]} flags:`);
    for (const def of defs) {
      const allowed = def.allowed ? ` (${def.allowed.join('|')})` : '';
      lines.push(
        `  --${def.name.padEnd(27)} ${def.description}${allowed} [default: ${defaultText(def)}]`,
      );
    }
  }
  return lines.join('\n');
}

/** The README configuration table; test/config checks README.md contains it verbatim. */
export function renderFlagTable(): string {
  const rows = ['| flag | environment | default | meaning |', '|---|---|---|---|'];
  for (const def of FLAGS) {
    const allowed = def.allowed ? ` One of: ${def.allowed.map((a) => `\`${a}\``).join(', ')}.` : '';
    const d = defaultText(def);
    rows.push(
      `| \`--${def.name}\` | \`${envName(def.name)}\` | ${d === 'none' ? 'none' : `\`${d}\``} | ${def.description.replaceAll('|', '\\|')}${allowed} |`,
    );
  }
  return rows.join('\n');
}
