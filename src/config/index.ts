// Flags + environment → one typed, validated, frozen Config, parsed once at start (docs/reference.md "Commands").
// Precedence: flag > SYNC_* variable > Consul's CONSUL_* variable (connections) > default.
// Command-line syntax: `--flag value`, `--flag=value` and, as Go's flag package (and so
// consul-k8s) writes them, `-flag value` / `-flag=value`; booleans `--flag` or `--flag=false`.
// Nothing is accepted silently: an unknown flag or command gets the nearest names, a flag of
// another command or a stray argument is refused, each in one line (exit 2).
import { FLAGS, envName, parseDuration, type FlagDef } from './flags.js';
import type {
  ConsulToK8sMode,
  ConsulToK8sServiceType,
  ToConsulSettings,
  ToK8sSettings,
} from '../translate/types.js';
// Booleans take Go's strconv.ParseBool spellings, as consul-k8s flags and annotations do.
import { parseGoBool } from '../translate/eligibility.js';
import { ConfigError, HelpRequested } from './errors.js';
import {
  COMMANDS,
  INFO_COMMANDS,
  appliesTo,
  commandSpec,
  defaultText,
  renderCommandHelp,
  renderOverview,
  type CommandSpec,
} from './help.js';
import { didYouMean, suggest } from './suggest.js';
import { packageVersion } from './version.js';
import type { KubeSettings } from './kubeconfig.js';

export { FLAGS, parseDuration, envName } from './flags.js';
export type { FlagDef } from './flags.js';
export { ConfigError, HelpRequested } from './errors.js';
export { COMMANDS, appliesTo, renderCommandHelp, renderOverview } from './help.js';
export { packageVersion } from './version.js';
export { editDistance, suggest } from './suggest.js';
export {
  describeKubeSource,
  locateKubeConfig,
  type KubeConfigSource,
  type KubeSettings,
} from './kubeconfig.js';

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
  /** Admin partition (Consul Enterprise) of every call and of the sync node; absent = none. */
  partition?: string;
}

export interface Config extends ToConsulSettings, ToK8sSettings {
  enableNamespaces: boolean;
  consulDestinationNamespace: string;
  enableK8sNamespaceMirroring: boolean;
  k8sNamespaceMirroringPrefix: string;
  /** ACL policy (name) set as PolicyDefaults of each Consul namespace the sync creates; '' = none. */
  consulCrossNamespaceAclPolicy: string;
  consulToK8sMode: ConsulToK8sMode;
  consulToK8sServiceType: ConsulToK8sServiceType;
  allowConsulServices: readonly string[];
  denyConsulServices: readonly string[];
  command: string;
  args: readonly string[];
  toConsul: boolean;
  toK8s: boolean;
  /** Empty until resolved from kube-system's UID (see src/sync). */
  syncId: string;
  dryRun: boolean;
  /** Record Kubernetes Events on the Services synced to Consul (--emit-events). */
  emitEvents: boolean;
  consul: ConsulConnection;
  kube: KubeSettings;
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
    /** Least time between refreshes of the registration view; 0: no view, read before every write. */
    registrationViewIntervalMs: number;
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
    /** Desired state: nothing, in both directions (uninstall). */
    purge: boolean;
    /** Registrations of consul-k8s's shape on the sync node are planned as ours. */
    adoptConsulK8s: boolean;
    output: 'table' | 'json';
    direction: Direction;
    /** plan: exit 0 no changes, 2 changes present, 1 any error (Terraform's). */
    detailedExitCode: boolean;
  };
  token: {
    subject: string;
    scopes: readonly string[];
    ttlMs: number;
    privateKeyFile?: string;
    format: 'jwt' | 'path';
  };
}

type Raw = Map<string, string[]>;

/** One flag as given: its name without dashes, its value (undefined: none followed it). */
interface GivenFlag {
  arg: string;
  name: string;
  value: string | undefined;
  def: FlagDef | undefined;
}

/** An argument that is not a flag; `afterBool` names a boolean flag written just before it. */
interface Positional {
  arg: string;
  afterBool?: string;
}

interface Split {
  positionals: Positional[];
  flags: GivenFlag[];
  help: boolean;
  version: boolean;
}

/** A flag-like argument: `-x…` or `--x…`, but not `-` alone or a negative number. */
const isFlagLike = (arg: string): boolean => /^--?[^-\d]/.test(arg) || arg === '--';

function splitArgv(argv: readonly string[], byName: ReadonlyMap<string, FlagDef>): Split {
  const split: Split = { positionals: [], flags: [], help: false, version: false };
  let lastBool: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const afterBool = lastBool;
    lastBool = undefined;
    if (arg === '--') {
      split.positionals.push(...argv.slice(i + 1).map((a) => ({ arg: a })));
      break;
    }
    if (!isFlagLike(arg)) {
      split.positionals.push(afterBool ? { arg, afterBool } : { arg });
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    const inline = eq === -1 ? undefined : body.slice(eq + 1);
    if (name === 'help' || name === 'h') {
      split.help = true;
      continue;
    }
    if (name === 'version') {
      split.version = true;
      continue;
    }
    const def = byName.get(name);
    let value = inline;
    if (def && value === undefined) {
      if (def.kind === 'bool') {
        value = 'true';
        lastBool = name;
      } else {
        const next = argv[i + 1];
        if (next !== undefined && !isFlagLike(next)) {
          value = next;
          i++;
        }
      }
    }
    split.flags.push({ arg, name, value, def });
  }
  return split;
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

/**
 * Every flag's value(s). A flag that does not apply to `command` keeps its default: its SYNC_*
 * variable may be meant for another command sharing the environment.
 */
function resolveAll(
  raw: Raw,
  env: NodeJS.ProcessEnv,
  flags: readonly FlagDef[],
  command: string,
): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const def of flags) {
    const given = appliesTo(def, command) ? lookup(def, raw, env) : undefined;
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
  const partition = values.get('partition')![0] || env.CONSUL_PARTITION || undefined;
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
    ...(partition ? { partition } : {}),
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const COMMAND_NAMES = [...COMMANDS.map((c) => c.name), ...INFO_COMMANDS.map((c) => c.name)];

/** The hint for a word written after a boolean flag: its value belongs after `=`. */
function boolHint(p: Positional): string {
  return p.afterBool && parseGoBool(p.arg) !== undefined
    ? `; a boolean flag takes its value after =: --${p.afterBool}=${p.arg}`
    : '';
}

function unknownCommand(p: Positional): ConfigError {
  const hint =
    boolHint(p) ||
    didYouMean(suggest(p.arg, COMMAND_NAMES)) ||
    `; the commands are ${COMMAND_NAMES.join(', ')}`;
  return new ConfigError(
    'command',
    p.arg,
    'a command',
    `unknown command ${JSON.stringify(p.arg)}${hint} (see k8s-consul-sync --help)`,
  );
}

/**
 * The command to run, or HelpRequested for --help, `help [command]`, --version and `version`
 * (a command's own help when one is named), or a ConfigError for an unknown command.
 */
function commandOf(
  split: Split,
  all: readonly FlagDef[],
  extraFlags: readonly FlagDef[],
): CommandSpec {
  const [first, topic] = split.positionals;
  if (split.version || first?.arg === 'version') {
    throw new HelpRequested(`k8s-consul-sync ${packageVersion()}`);
  }
  const overview = (): HelpRequested => new HelpRequested(renderOverview(packageVersion()));
  if (first?.arg === 'help') {
    if (!topic || INFO_COMMANDS.some((c) => c.name === topic.arg)) throw overview();
    const spec = commandSpec(topic.arg);
    if (!spec) throw unknownCommand(topic);
    throw new HelpRequested(renderCommandHelp(spec, extraFlags));
  }
  if (!first) {
    if (split.help || split.flags.length === 0) throw overview();
    checkFlags(split.flags, all, undefined);
    throw new ConfigError(
      'command',
      '',
      'a command',
      `no command given: put one of ${COMMANDS.filter((c) => !c.dev)
        .map((c) => c.name)
        .join(', ')} before the flags (see k8s-consul-sync --help)`,
    );
  }
  const spec = commandSpec(first.arg);
  if (!spec) throw unknownCommand(first);
  if (split.help) throw new HelpRequested(renderCommandHelp(spec, extraFlags));
  return spec;
}

/**
 * The given flags by name, once each is known to exist, applies to `command` (any command when
 * none is known yet) and has a value.
 */
/**
 * consul-k8s `sync-catalog` flags with no counterpart: refused by name with what to do,
 * not as an unknown flag (README, "Moving from consul-k8s").
 */
const CONSUL_K8S_NOT_SUPPORTED: Readonly<Record<string, string>> = {
  'consul-write-interval': 'not needed here: every event is written when it arrives',
  'k8s-source-namespace': 'not needed here: use --allow-k8s-namespace=<namespace>',
  'log-json': 'not needed here: logs are always JSON lines',
};

function checkFlags(
  given: readonly GivenFlag[],
  all: readonly FlagDef[],
  command: string | undefined,
): Raw {
  const raw: Raw = new Map();
  const see = `(see k8s-consul-sync ${command ? `${command} ` : ''}--help)`;
  const applies = (def: FlagDef): boolean => command === undefined || appliesTo(def, command);
  for (const flag of given) {
    const dashes = flag.arg.startsWith('--') ? '--' : '-';
    const { def } = flag;
    if (!def) {
      const notYet = CONSUL_K8S_NOT_SUPPORTED[flag.name];
      if (notYet !== undefined) {
        throw new ConfigError(
          flag.name,
          flag.arg,
          'not supported',
          `${dashes}${flag.name} is a consul-k8s sync-catalog flag ${notYet} ${see}`,
        );
      }
      const near = suggest(
        flag.name,
        all.filter(applies).map((f) => f.name),
      );
      throw new ConfigError(
        flag.name,
        flag.arg,
        'unknown flag',
        `unknown flag ${dashes}${flag.name}${didYouMean(near, '--') || ` ${see}`}`,
      );
    }
    if (!applies(def)) {
      throw new ConfigError(
        def.name,
        flag.arg,
        `a flag of ${def.commands!.join(', ')}`,
        `--${def.name} does not apply to ${command!}: it is a flag of ${def.commands!.join(', ')} ${see}`,
      );
    }
    if (flag.value === undefined) {
      const allowed = def.allowed ? ` (${def.allowed.join(', ')})` : '';
      throw new ConfigError(
        def.name,
        '',
        'a value',
        `--${def.name} needs a value${allowed}: --${def.name}=VALUE or --${def.name} VALUE`,
      );
    }
    const list = raw.get(def.name) ?? [];
    list.push(flag.value);
    raw.set(def.name, list);
  }
  return raw;
}

/** The command's own argument (emulate consul|kube); any other argument is refused. */
function checkArguments(
  spec: CommandSpec,
  positionals: readonly Positional[],
  all: readonly FlagDef[],
): string[] {
  const rest = [...positionals];
  const args: string[] = [];
  if (spec.argument) {
    const { name, allowed } = spec.argument;
    const arg = rest.shift();
    if (!arg) {
      throw new ConfigError(
        spec.name,
        '',
        name,
        `${spec.name} needs ${allowed.join(' or ')}: k8s-consul-sync ${spec.usage}`,
      );
    }
    if (!allowed.includes(arg.arg)) {
      throw new ConfigError(
        spec.name,
        arg.arg,
        name,
        `${spec.name} takes ${allowed.join(' or ')}, not ${JSON.stringify(arg.arg)}${didYouMean(suggest(arg.arg, allowed))}`,
      );
    }
    args.push(arg.arg);
  }
  const stray = rest[0];
  if (stray) {
    const flagName = stray.arg.split('=')[0]!;
    const asFlag = all.some((f) => f.name === flagName && appliesTo(f, spec.name))
      ? `; did you mean --${stray.arg}?`
      : '';
    const hint =
      boolHint(stray) ||
      asFlag ||
      (commandSpec(stray.arg) ? '; give one command at a time' : '') ||
      ` (see k8s-consul-sync ${spec.name} --help)`;
    const takes = spec.argument ? `only ${spec.argument.name}` : 'no arguments';
    throw new ConfigError(
      spec.name,
      stray.arg,
      'no argument',
      `unexpected argument ${JSON.stringify(stray.arg)}: ${spec.name} takes ${takes}${hint}`,
    );
  }
  return args;
}

/** plan and reconcile need at least one direction left on. */
function checkDirections(config: Config): void {
  if (config.command !== 'plan' && config.command !== 'reconcile') return;
  const { direction } = config.reconcile;
  const toConsul = config.toConsul && direction !== 'to-k8s';
  const toK8s = config.toK8s && direction !== 'to-consul';
  if (toConsul || toK8s) return;
  const why =
    !config.toConsul && !config.toK8s
      ? '--to-consul and --to-k8s are both false'
      : `--direction=${direction} but --${direction}=false`;
  throw new ConfigError(
    'direction',
    direction,
    'a direction left on',
    `${config.command} has nothing to do: ${why} (flags or SYNC_TO_CONSUL/SYNC_TO_K8S); turn one direction on`,
  );
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
  const split = splitArgv(argv, new Map(all.map((f) => [f.name, f])));
  const spec = commandOf(split, all, extraFlags);
  const command = spec.name;
  const raw = checkFlags(split.flags, all, command);
  const args = checkArguments(spec, split.positionals.slice(1), all);
  const values = resolveAll(raw, env, all, command);
  const one = (name: string): string => values.get(name)![0] ?? '';
  const bool = (name: string): boolean => parseGoBool(one(name)) === true;
  const list = (name: string): string[] => values.get(name)!;
  const opt = (name: string): string | undefined => one(name) || undefined;
  const listen = one('listen');
  const colon = listen.lastIndexOf(':');
  const config: Config = {
    command,
    args,
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
    enableIngress: bool('enable-ingress'),
    loadBalancerIPs: bool('loadBalancer-ips'),
    enableNamespaces: bool('enable-namespaces'),
    consulDestinationNamespace: one('consul-destination-namespace'),
    enableK8sNamespaceMirroring: bool('enable-k8s-namespace-mirroring'),
    k8sNamespaceMirroringPrefix: one('k8s-namespace-mirroring-prefix'),
    consulCrossNamespaceAclPolicy: one('consul-cross-namespace-acl-policy'),
    nodePortSyncType: one('node-port-sync-type') as NodePortSyncType,
    portMeta: one('port-meta') as 'reachable' | 'service-port',
    maxInstancesPerService: Number(one('max-instances-per-service')),
    k8sServicePrefix: one('k8s-service-prefix'),
    k8sWriteNamespace: one('k8s-write-namespace'),
    consulDomain: one('consul-domain'),
    consulToK8sMode: one('consul-to-k8s-mode') as ConsulToK8sMode,
    consulToK8sServiceType: one('consul-to-k8s-service-type') as ConsulToK8sServiceType,
    allowConsulServices: list('allow-consul-service'),
    denyConsulServices: list('deny-consul-service'),
    dryRun: bool('dry-run'),
    emitEvents: bool('emit-events'),
    consul: parseConsulConnection(values, env),
    kube: {
      kubeconfig: opt('kubeconfig'),
      kubeconfigEnv: env.KUBECONFIG || undefined,
      context: opt('kube-context'),
    },
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
      registrationViewIntervalMs: parseDuration(one('registration-view-interval'))!,
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
      purge: bool('purge'),
      adoptConsulK8s: bool('adopt-consul-k8s'),
      output: one('output') as 'table' | 'json',
      direction: one('direction') as Direction,
      detailedExitCode: bool('detailed-exitcode'),
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
  checkDirections(config);
  const extra = new Map(extraFlags.map((f) => [f.name, values.get(f.name)!] as const));
  return { config: deepFreeze(config), extra };
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
