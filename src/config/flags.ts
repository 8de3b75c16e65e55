// Every command-line flag, its environment variable, default and meaning (docs/reference.md "Commands").
// This table is the single source for parsing, `--help` and the README configuration table.

export type FlagKind = 'bool' | 'string' | 'list' | 'enum' | 'duration' | 'int' | 'ratio';
export type FlagGroup = 'sync' | 'connection' | 'server' | 'reconcile' | 'command';

export interface FlagDef {
  name: string;
  kind: FlagKind;
  group: FlagGroup;
  /** Default as the user would write it ('' = none). */
  default: string | readonly string[];
  description: string;
  allowed?: readonly string[];
  /** For free-form values: a check returning what is allowed when the value is refused. */
  pattern?: { test: (value: string) => boolean; allowed: string };
  /**
   * Commands the flag applies to (their --help lists it); absent = every command. Given to
   * another command on the command line it is refused; its SYNC_* variable is ignored there,
   * since one environment is often shared (the server and the reconcile CronJob).
   */
  commands?: readonly string[];
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const namespacePattern = {
  test: (v: string): boolean => v === '*' || (v.length <= 63 && dns1123Label.test(v)),
  allowed: 'a namespace name (DNS-1123 label) or *',
};

/** A Consul namespace name: a DNS hostname label (Consul Enterprise's rule), at most 63. */
const consulNamespacePattern = {
  test: (v: string): boolean => /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(v),
  allowed: 'a Consul namespace name (letters, digits and -, at most 63)',
};

const consulGlobPattern = {
  test: (v: string): boolean => v.length > 0 && v.length <= 512 && !/[\s,]/.test(v),
  allowed: 'a Consul service name or a glob with * (no spaces or commas, at most 512)',
};

/** The commands that run the sync against Consul and Kubernetes themselves. */
const RUNS_SYNC = ['serve', 'reconcile', 'plan'];
/** The sync settings also shape the sandbox's server. */
const SYNC_SETTINGS = [...RUNS_SYNC, 'sandbox'];

export const FLAGS: readonly FlagDef[] = [
  // --- sync (consul-k8s names) ---
  {
    name: 'to-consul',
    kind: 'bool',
    group: 'sync',
    default: 'true',
    description: 'Sync Kubernetes services to Consul.',
    commands: SYNC_SETTINGS,
  },
  {
    name: 'to-k8s',
    kind: 'bool',
    group: 'sync',
    default: 'true',
    description: 'Sync Consul services to Kubernetes.',
    commands: SYNC_SETTINGS,
  },
  {
    name: 'k8s-default-sync',
    kind: 'bool',
    group: 'sync',
    default: 'true',
    description: 'Sync services with no service-sync annotation.',
    commands: SYNC_SETTINGS,
  },
  {
    name: 'allow-k8s-namespace',
    kind: 'list',
    group: 'sync',
    default: ['*'],
    description: 'Namespaces to sync from (repeatable); * = all.',
    pattern: namespacePattern,
    commands: SYNC_SETTINGS,
  },
  {
    name: 'deny-k8s-namespace',
    kind: 'list',
    group: 'sync',
    default: ['kube-system', 'kube-public'],
    description: 'Namespaces never synced (repeatable); wins over allow.',
    pattern: namespacePattern,
    commands: SYNC_SETTINGS,
  },
  {
    name: 'consul-service-prefix',
    kind: 'string',
    group: 'sync',
    default: '',
    description: 'Prepended to Consul service names made from Kubernetes services.',
    pattern: {
      test: (v) => /^[A-Za-z0-9_.-]{0,200}$/.test(v),
      allowed: 'letters, digits, _ . - (at most 200)',
    },
    commands: SYNC_SETTINGS,
  },
  {
    name: 'add-k8s-namespace-suffix',
    kind: 'bool',
    group: 'sync',
    default: 'false',
    description: 'Consul name <prefix><name>-<namespace>.',
    commands: SYNC_SETTINGS,
  },
  {
    name: 'consul-k8s-tag',
    kind: 'string',
    group: 'sync',
    default: 'k8s',
    description:
      'Tag on every registration; Consul services carrying it are never synced to Kubernetes.',
    pattern: {
      test: (v) => v.length > 0 && v.length <= 255 && !/[\s,]/.test(v),
      allowed: 'a non-empty tag without spaces or commas',
    },
    commands: SYNC_SETTINGS,
  },
  {
    name: 'consul-node-name',
    kind: 'string',
    group: 'sync',
    default: 'k8s-sync',
    description: 'Synthetic Consul node that holds the registrations.',
    pattern: { test: (v) => /^[A-Za-z0-9-]{1,63}$/.test(v), allowed: '[A-Za-z0-9-]{1,63}' },
    commands: SYNC_SETTINGS,
  },
  {
    name: 'sync-id',
    kind: 'string',
    group: 'sync',
    default: '',
    description:
      'Identity of this installation (meta external-k8s-sync-id); default: the UID of namespace kube-system.',
    pattern: {
      test: (v) => /^[A-Za-z0-9_.:-]{0,128}$/.test(v),
      allowed: 'up to 128 of [A-Za-z0-9_.:-]',
    },
    commands: SYNC_SETTINGS,
  },
  {
    name: 'sync-clusterip-services',
    kind: 'bool',
    group: 'sync',
    default: 'false',
    description: 'Also sync ClusterIP services, one instance per endpoint.',
    commands: SYNC_SETTINGS,
  },
  {
    name: 'sync-lb-services-endpoints',
    kind: 'bool',
    group: 'sync',
    default: 'false',
    description: "Register LoadBalancer services' pod IPs, not their LB addresses.",
    commands: SYNC_SETTINGS,
  },
  {
    name: 'enable-ingress',
    kind: 'bool',
    group: 'sync',
    default: 'false',
    description: 'Register the host of an Ingress rule (path /) for its Service.',
    commands: RUNS_SYNC,
  },
  {
    name: 'loadBalancer-ips',
    kind: 'bool',
    group: 'sync',
    default: 'false',
    description: "--enable-ingress: use the Ingress's load balancer IP, not host.",
    commands: RUNS_SYNC,
  },
  {
    name: 'enable-namespaces',
    kind: 'bool',
    group: 'sync',
    default: 'false',
    description: 'Use Consul namespaces (Enterprise).',
    commands: SYNC_SETTINGS,
  },
  {
    name: 'consul-destination-namespace',
    kind: 'string',
    group: 'sync',
    default: 'default',
    description: '--enable-namespaces: the Consul namespace Kubernetes services go to.',
    pattern: consulNamespacePattern,
    commands: SYNC_SETTINGS,
  },
  {
    name: 'enable-k8s-namespace-mirroring',
    kind: 'bool',
    group: 'sync',
    default: 'false',
    description: '--enable-namespaces: Consul namespace = prefix + Kubernetes namespace.',
    commands: SYNC_SETTINGS,
  },
  {
    name: 'k8s-namespace-mirroring-prefix',
    kind: 'string',
    group: 'sync',
    default: '',
    description: 'Prefix of mirrored Consul namespaces (--enable-k8s-namespace-mirroring).',
    pattern: {
      test: (v: string): boolean => v === '' || /^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/.test(v),
      allowed: 'letters, digits and -, starting with a letter or digit (at most 63)',
    },
    commands: SYNC_SETTINGS,
  },
  {
    name: 'consul-cross-namespace-acl-policy',
    kind: 'string',
    group: 'sync',
    default: '',
    description: 'ACL policy given as default to the Consul namespaces the sync creates.',
    commands: RUNS_SYNC,
  },
  {
    name: 'max-instances-per-service',
    kind: 'int',
    group: 'sync',
    default: '1000',
    description:
      'Most Consul instances registered for one Kubernetes service; the first ones are kept and a warning names the rest (0 = no limit).',
    commands: SYNC_SETTINGS,
  },
  {
    name: 'node-port-sync-type',
    kind: 'enum',
    group: 'sync',
    default: 'ExternalFirst',
    allowed: ['ExternalOnly', 'ExternalFirst', 'InternalOnly'],
    description: 'Which node address a NodePort instance gets.',
    commands: SYNC_SETTINGS,
  },
  {
    name: 'port-meta',
    kind: 'enum',
    group: 'sync',
    default: 'reachable',
    allowed: ['reachable', 'service-port'],
    description:
      "port-<name> meta: the port reachable at the address, or consul-k8s's Service port.",
    commands: SYNC_SETTINGS,
  },
  {
    name: 'k8s-service-prefix',
    kind: 'string',
    group: 'sync',
    default: '',
    description: 'Prepended to Kubernetes service names made from Consul services.',
    pattern: {
      test: (v) => /^[a-z0-9-]{0,62}$/i.test(v),
      allowed: 'letters, digits and - (at most 62)',
    },
    commands: SYNC_SETTINGS,
  },
  {
    name: 'k8s-write-namespace',
    kind: 'string',
    group: 'sync',
    default: 'default',
    description: 'Namespace where Consul services are created in Kubernetes.',
    pattern: {
      test: (v) => v.length <= 63 && dns1123Label.test(v),
      allowed: 'a namespace name (DNS-1123 label)',
    },
    commands: SYNC_SETTINGS,
  },
  {
    name: 'consul-domain',
    kind: 'string',
    group: 'sync',
    default: 'consul',
    description: 'Consul DNS domain: externalName = <name>.service.<domain>.',
    pattern: {
      test: (v) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(v),
      allowed: 'a DNS domain such as consul or consul.example.com',
    },
    commands: SYNC_SETTINGS,
  },
  {
    name: 'consul-to-k8s-mode',
    kind: 'enum',
    group: 'sync',
    default: 'externalname',
    allowed: ['externalname', 'endpoints'],
    description:
      'ExternalName Services (Consul DNS in CoreDNS) or selector-less ones with EndpointSlices.',
    commands: SYNC_SETTINGS,
  },
  {
    name: 'consul-to-k8s-service-type',
    kind: 'enum',
    group: 'sync',
    default: 'Headless',
    allowed: ['Headless', 'ClusterIP'],
    description: 'Endpoints mode: headless (clusterIP None) or a virtual IP.',
    commands: SYNC_SETTINGS,
  },
  {
    name: 'allow-consul-service',
    kind: 'list',
    group: 'sync',
    default: ['*'],
    description: 'Consul service names synced to Kubernetes (globs: * is any run).',
    pattern: consulGlobPattern,
    commands: SYNC_SETTINGS,
  },
  {
    name: 'deny-consul-service',
    kind: 'list',
    group: 'sync',
    default: [],
    description: 'Consul service names never synced; wins over allow.',
    pattern: consulGlobPattern,
    commands: SYNC_SETTINGS,
  },
  {
    name: 'dry-run',
    kind: 'bool',
    group: 'sync',
    default: 'false',
    description: 'Compute and log every change; write nothing.',
    commands: SYNC_SETTINGS,
  },
  {
    name: 'emit-events',
    kind: 'bool',
    group: 'sync',
    default: 'true',
    description:
      'Record Kubernetes Events (events.k8s.io/v1) on synced Services: Synced, SyncSkipped, SyncFailed, ConflictWithForeign (aggregated; never on a dry run).',
    commands: SYNC_SETTINGS,
  },
  // --- connections ---
  {
    name: 'consul-http-addr',
    kind: 'string',
    group: 'connection',
    default: '',
    description:
      'Consul HTTP address ([http[s]://]host:port); default CONSUL_HTTP_ADDR, else 127.0.0.1:8500.',
    pattern: {
      test: (v) => v === '' || /^(https?:\/\/)?[^\s/]+(:\d{1,5})?\/?$/.test(v),
      allowed: '[http[s]://]host[:port]',
    },
    commands: RUNS_SYNC,
  },
  {
    name: 'partition',
    kind: 'string',
    group: 'connection',
    default: '',
    description: 'Consul admin partition (Enterprise); default CONSUL_PARTITION.',
    commands: RUNS_SYNC,
  },
  {
    name: 'token',
    kind: 'string',
    group: 'connection',
    default: '',
    description: 'Consul ACL token; default CONSUL_HTTP_TOKEN or CONSUL_HTTP_TOKEN_FILE.',
    commands: [...RUNS_SYNC, 'emulate'],
  },
  {
    name: 'kubeconfig',
    kind: 'string',
    group: 'connection',
    default: '',
    description: 'Kubeconfig file; default KUBECONFIG, ~/.kube/config, in-cluster.',
    commands: RUNS_SYNC,
  },
  {
    name: 'kube-context',
    kind: 'string',
    group: 'connection',
    default: '',
    description: 'Kubeconfig context to use; default the current context.',
    commands: RUNS_SYNC,
  },
  // --- server ---
  {
    name: 'listen',
    kind: 'string',
    group: 'server',
    default: '0.0.0.0:8443',
    description: 'Address to serve on (host:port).',
    pattern: { test: isListenAddress, allowed: 'host:port with port 0-65535' },
    commands: ['serve', 'emulate'],
  },
  {
    name: 'tls-cert-file',
    kind: 'string',
    group: 'server',
    default: '',
    description: 'Serving certificate (PEM); re-read when it changes.',
    commands: ['serve'],
  },
  {
    name: 'tls-key-file',
    kind: 'string',
    group: 'server',
    default: '',
    description: 'Serving key (PEM); re-read when it changes.',
    commands: ['serve'],
  },
  {
    name: 'tls-client-ca-file',
    kind: 'string',
    group: 'server',
    default: '',
    description: 'Accept client certificates signed by this CA (mTLS).',
    commands: ['serve'],
  },
  {
    name: 'insecure-http',
    kind: 'bool',
    group: 'server',
    default: 'false',
    description: 'Serve plain HTTP (required when no certificate is given).',
    commands: ['serve'],
  },
  {
    name: 'auth-jwt-secret-file',
    kind: 'string',
    group: 'server',
    default: '',
    description: 'HMAC key file for JWTs (HS256/384/512).',
    commands: ['serve', 'token'],
  },
  {
    name: 'auth-jwt-public-key-file',
    kind: 'list',
    group: 'server',
    default: [],
    description: 'PEM public key file(s) for JWTs (RS256/ES256); repeatable.',
    commands: ['serve'],
  },
  {
    name: 'auth-jwt-issuer',
    kind: 'string',
    group: 'server',
    default: 'k8s-consul-sync',
    description: 'Required JWT iss.',
    pattern: { test: (v) => v.length > 0, allowed: 'a non-empty string' },
    commands: ['serve', 'token'],
  },
  {
    name: 'auth-jwt-audience',
    kind: 'string',
    group: 'server',
    default: 'k8s-consul-sync',
    description: 'Required JWT aud.',
    pattern: { test: (v) => v.length > 0, allowed: 'a non-empty string' },
    commands: ['serve', 'token'],
  },
  {
    name: 'auth-disabled',
    kind: 'bool',
    group: 'server',
    default: 'false',
    description: 'Accept unauthenticated calls (local use only; warns).',
    commands: ['serve'],
  },
  {
    name: 'max-body-bytes',
    kind: 'int',
    group: 'server',
    default: '16777216',
    description: 'Larger request bodies get 413.',
    pattern: {
      test: (v) => Number(v) >= 1024 && Number(v) <= 1073741824,
      allowed: 'an integer from 1024 to 1073741824',
    },
    commands: ['serve'],
  },
  {
    name: 'write-timeout',
    kind: 'duration',
    group: 'server',
    default: '3s',
    description: "Bound on one handler's writes.",
    pattern: {
      test: (v) => parseDuration(v) !== undefined && parseDuration(v)! > 0,
      allowed: 'a positive duration such as 500ms or 3s',
    },
    commands: RUNS_SYNC,
  },
  {
    name: 'node-cache-ttl',
    kind: 'duration',
    group: 'server',
    default: '10s',
    description: 'Reuse of a Node read for NodePort addresses (0 = never).',
    commands: ['serve'],
  },
  {
    name: 'registration-view-interval',
    kind: 'duration',
    group: 'server',
    default: '30s',
    description: 'Refresh of the registrations admissions plan against (0 = read every time).',
    commands: ['serve'],
  },
  {
    name: 'audit-deadline',
    kind: 'duration',
    group: 'server',
    default: '10s',
    description: 'Bound on one audit batch (503 past it, resent).',
    pattern: {
      test: (v) => parseDuration(v) !== undefined && parseDuration(v)! > 0,
      allowed: 'a positive duration such as 10s',
    },
    commands: ['serve'],
  },
  {
    name: 'confirm-after',
    kind: 'list',
    group: 'server',
    default: ['1s', '5s'],
    description: 'Re-read and converge after these delays.',
    pattern: {
      test: (v) => parseDuration(v) !== undefined && parseDuration(v)! > 0,
      allowed: 'positive durations such as 1s,5s',
    },
    commands: ['serve'],
  },
  {
    name: 'breaker-failures',
    kind: 'int',
    group: 'server',
    default: '3',
    description: 'Outages in a row that open a breaker (0 = never).',
    commands: ['serve'],
  },
  {
    name: 'breaker-probe-interval',
    kind: 'duration',
    group: 'server',
    default: '1s',
    description: 'While a breaker is open, how often the target is probed.',
    pattern: {
      test: (v) => parseDuration(v) !== undefined && parseDuration(v)! > 0,
      allowed: 'a positive duration such as 500ms or 1s',
    },
    commands: ['serve'],
  },
  {
    name: 'concurrency',
    kind: 'int',
    group: 'server',
    default: '8',
    description: 'Calls run at once to Consul or Kubernetes.',
    pattern: {
      test: (v) => Number(v) >= 1 && Number(v) <= 1024,
      allowed: 'an integer from 1 to 1024',
    },
    commands: RUNS_SYNC,
  },
  {
    name: 'reconcile-interval',
    kind: 'duration',
    group: 'server',
    default: '0',
    description: 'In-process reconcile period, one replica (0 = off).',
    commands: ['serve'],
  },
  {
    name: 'log-level',
    kind: 'enum',
    group: 'server',
    default: 'info',
    allowed: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    description: 'Log level.',
  },
  // --- reconcile ---
  {
    name: 'max-delete-ratio',
    kind: 'ratio',
    group: 'reconcile',
    default: '0.5',
    description: 'Max share of owned objects a run deletes.',
    commands: RUNS_SYNC,
  },
  {
    name: 'delete-guard-min',
    kind: 'int',
    group: 'reconcile',
    default: '10',
    description: 'Deletes allowed before the ratio guard engages.',
    commands: RUNS_SYNC,
  },
  {
    name: 'force',
    kind: 'bool',
    group: 'reconcile',
    default: 'false',
    description: 'Apply a reconcile even past --max-delete-ratio.',
    commands: RUNS_SYNC,
  },
  {
    name: 'adopt-consul-k8s',
    kind: 'bool',
    group: 'reconcile',
    default: 'false',
    description: "Take over consul-k8s's registrations on the sync node (no sync id).",
    commands: ['reconcile', 'plan'],
  },
  {
    name: 'purge',
    kind: 'bool',
    group: 'reconcile',
    default: 'false',
    description: 'Remove everything this sync id made, both ways (uninstall; needs --force).',
    commands: ['reconcile', 'plan'],
  },
  {
    name: 'output',
    kind: 'enum',
    group: 'reconcile',
    default: 'table',
    allowed: ['table', 'json'],
    description: 'Plan/reconcile output format.',
    commands: ['plan', 'reconcile'],
  },
  {
    name: 'direction',
    kind: 'enum',
    group: 'reconcile',
    default: 'both',
    allowed: ['both', 'to-consul', 'to-k8s'],
    description: 'Which direction plan/reconcile converges (within --to-consul/--to-k8s).',
    commands: ['plan', 'reconcile'],
  },
  {
    name: 'detailed-exitcode',
    kind: 'bool',
    group: 'reconcile',
    default: 'false',
    description:
      "plan: exit 0 when there is nothing to change, 2 when there are changes, 1 on any error (Terraform's -detailed-exitcode).",
    commands: ['plan'],
  },
  // --- command-specific ---
  {
    name: 'subject',
    kind: 'string',
    group: 'command',
    default: '',
    description: 'token: the sub claim (who the caller is).',
    commands: ['token'],
  },
  {
    name: 'scope',
    kind: 'list',
    group: 'command',
    default: [],
    allowed: ['k8s:admission', 'k8s:audit', 'consul:watch', 'reconcile'],
    description: 'token: scope(s) granted (repeatable).',
    commands: ['token'],
  },
  {
    name: 'ttl',
    kind: 'duration',
    group: 'command',
    default: '8760h',
    description: 'token: lifetime (0 = no expiry).',
    commands: ['token'],
  },
  {
    name: 'private-key-file',
    kind: 'string',
    group: 'command',
    default: '',
    description: 'token: sign with this PEM private key (RS256/ES256) instead of the HMAC key.',
    commands: ['token'],
  },
  {
    name: 'format',
    kind: 'enum',
    group: 'command',
    default: 'jwt',
    allowed: ['jwt', 'path'],
    description:
      'token: jwt prints the JWT; path prints it as lowercase RFC 1123 path segments for an admission webhook clientConfig.service.path (/k8s/admission/<output>).',
    commands: ['token'],
  },
];

/** Go `time.ParseDuration` subset: "0", or a sequence of <number><unit> with ns/us/ms/s/m/h. */
export function parseDuration(value: string): number | undefined {
  const text = value.trim();
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  const unitMs: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  let total = 0;
  let pos = 0;
  if (text.length === 0) return undefined;
  while (pos < text.length) {
    re.lastIndex = pos;
    const match = re.exec(text);
    if (!match) return undefined;
    total += Number(match[1]) * unitMs[match[2]!]!;
    pos = re.lastIndex;
  }
  return total;
}

export function isListenAddress(value: string): boolean {
  const idx = value.lastIndexOf(':');
  if (idx <= 0) return false;
  const host = value.slice(0, idx);
  const port = value.slice(idx + 1);
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return false;
  return /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/.test(host);
}

export function envName(flag: string): string {
  return 'SYNC_' + flag.toUpperCase().replaceAll('-', '_');
}
