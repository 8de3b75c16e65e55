// The commands and their help: `--help` is an overview, `<command> --help` (or `help <command>`)
// that command's usage, what it does, examples, the flags that apply to it by group, and its
// exit codes. Plain text from the flag table; nothing here loads more than the table.
import { FLAGS, type FlagDef, type FlagGroup } from './flags.js';

export interface CommandSpec {
  name: string;
  /** One line for the overview. */
  summary: string;
  /** What follows `k8s-consul-sync ` in the usage line. */
  usage: string;
  description: string;
  examples: readonly string[];
  /** The positional argument the command takes, if any (emulate consul|kube). */
  argument?: { name: string; allowed: readonly string[] };
  /** The group of flags listed first in its help: the command's own. */
  primary?: FlagGroup;
  exitCodes: string;
  /** A development tool: in a clone of the repository, never in the image or the build. */
  dev?: boolean;
}

const EXIT_SYNC =
  'Exit codes: 0 converged; 1 a failure the next run can get past (an upstream down or slow, a failed write); 2 a usage or configuration error; 3 an operator must act first (ACL, RBAC, the delete guard, a bug).';

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'serve',
    summary: 'The HTTP(S) server: admission, audit, Consul watch and reconcile endpoints.',
    usage: 'serve [flags]',
    description:
      'Serves POST /k8s/admission, /k8s/audit, /consul/services, /consul/checks and /reconcile, and /healthz, /readyz and /metrics, until SIGINT or SIGTERM. Plain HTTP and unauthenticated calls must both be asked for.',
    examples: [
      'k8s-consul-sync serve --tls-cert-file tls.crt --tls-key-file tls.key --auth-jwt-secret-file jwt-hmac-key',
      'k8s-consul-sync serve --insecure-http --auth-disabled --listen 127.0.0.1:8443   # local use only',
    ],
    primary: 'server',
    exitCodes: 'Exit codes: 0 stopped by a signal; 2 a usage or configuration error.',
  },
  {
    name: 'reconcile',
    summary: 'One full two-way convergence, then exit; prints what it applied.',
    usage: 'reconcile [flags]',
    description:
      'Lists both systems, plans every difference in both directions and applies it (the code path of POST /reconcile); prints each change with its reason, what was left alone and why, and the counts.',
    examples: [
      'k8s-consul-sync reconcile --kubeconfig ~/.kube/config',
      'CONSUL_HTTP_ADDR=https://consul.example:8501 k8s-consul-sync reconcile --direction to-consul --output json',
    ],
    primary: 'reconcile',
    exitCodes: EXIT_SYNC,
  },
  {
    name: 'plan',
    summary: 'What reconcile would change, with reasons; writes nothing.',
    usage: 'plan [flags]',
    description:
      'Same as reconcile --dry-run: one row per change (OP TARGET OBJECT REASON) and per object left alone, then the counts. --detailed-exitcode makes it a CI gate.',
    examples: [
      'k8s-consul-sync plan --kubeconfig ~/.kube/config',
      'k8s-consul-sync plan --detailed-exitcode   # CI: 0 in sync, 2 changes pending, 1 error',
    ],
    primary: 'reconcile',
    exitCodes: `${EXIT_SYNC} With --detailed-exitcode, as Terraform: 0 no changes, 2 changes present, 1 any error (usage errors included).`,
  },
  {
    name: 'token',
    summary: 'Mint a JWT for a caller (admission, audit, Consul watch, POST /reconcile).',
    usage: 'token --subject NAME --scope SCOPE [flags]',
    description:
      "Prints the token only, one line: the JWT, or with --format path the segments to put after /k8s/admission/ in the admission webhook's clientConfig.service.path. Signs with --auth-jwt-secret-file (HMAC, as the server verifies) or --private-key-file.",
    examples: [
      'k8s-consul-sync token --auth-jwt-secret-file jwt-hmac-key --subject kube-apiserver --scope k8s:admission --format path',
      'k8s-consul-sync token --auth-jwt-secret-file jwt-hmac-key --subject ops --scope reconcile --ttl 24h',
    ],
    primary: 'command',
    exitCodes: 'Exit codes: 0 printed; 2 a usage or key problem.',
  },
  {
    name: 'sandbox',
    summary: 'Emulated Consul and Kubernetes on loopback with the real server between them.',
    usage: 'sandbox [flags]',
    description:
      'Starts both emulators and the server wired as in production, seeds a small world and redraws both catalogs on every change until Ctrl-C; --once runs a scripted scenario instead and checks the result. In a clone: npm run sandbox.',
    examples: ['npm run sandbox', 'npm run sandbox -- --once --consul-service-prefix=k8s-'],
    primary: 'command',
    exitCodes:
      'Exit codes: 0 stopped (or --once passed); 1 --once found a difference; 2 a usage error.',
    dev: true,
  },
  {
    name: 'emulate',
    summary: 'One emulator standalone, for curl, consul or kubectl: emulate consul|kube.',
    usage: 'emulate consul|kube [flags]',
    description:
      'Runs the Consul (default 127.0.0.1:8500) or Kubernetes API (default 127.0.0.1:6443) emulator until Ctrl-C and prints its address.',
    examples: [
      'k8s-consul-sync emulate consul --listen 127.0.0.1:8500',
      'k8s-consul-sync emulate kube --kubeconfig-out kc.yaml',
    ],
    argument: { name: 'consul|kube', allowed: ['consul', 'kube'] },
    primary: 'command',
    exitCodes: 'Exit codes: 0 stopped; 2 a usage error.',
    dev: true,
  },
];

/** Commands that only print: they take no flags but --help. */
export const INFO_COMMANDS: readonly { name: string; summary: string }[] = [
  { name: 'version', summary: 'Print the version (also --version).' },
  { name: 'help', summary: 'Help on one command: help <command> (also <command> --help).' },
];

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** Whether `def` applies to `command` (FlagDef.commands; absent = every command). */
export function appliesTo(def: FlagDef, command: string): boolean {
  return !def.commands || def.commands.includes(command);
}

const GROUP_ORDER: readonly FlagGroup[] = ['command', 'reconcile', 'server', 'connection', 'sync'];

function groupTitle(group: FlagGroup, command: string): string {
  switch (group) {
    case 'sync':
      return 'Sync flags (what is synced and how it is named)';
    case 'connection':
      return 'Connection flags';
    case 'server':
      return command === 'serve'
        ? 'Server flags'
        : command === 'token'
          ? 'Server flags (the token must match them)'
          : 'Limits';
    case 'reconcile':
      return 'Plan and reconcile flags';
    case 'command':
      return `${command.charAt(0).toUpperCase()}${command.slice(1)} flags`;
  }
}

export function defaultText(def: FlagDef): string {
  if (Array.isArray(def.default)) return def.default.length ? def.default.join(', ') : 'none';
  const d = def.default as string;
  if (d === '') return def.kind === 'string' ? '""' : 'none';
  return d;
}

const WIDTH = 100;
/** Joins the words of a unit that must not be wrapped apart ("[default: 10]"). */
const GLUE = '\u00a0';

/** `text` wrapped at WIDTH after `first`, every further line indented by `indent` spaces. */
function wrap(first: string, text: string, indent: number): string[] {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(/ +/).filter((w) => w.length > 0)) {
    const sep = line.length === 0 || line.endsWith(' ') ? '' : ' ';
    if (line.trim().length > 0 && line.length + sep.length + word.length > WIDTH) {
      lines.push(line.trimEnd());
      line = ' '.repeat(indent) + word;
    } else line += sep + word;
  }
  lines.push(line.trimEnd());
  return lines.map((l) => l.replaceAll(GLUE, ' '));
}

/** `  --name kind`: as Go's flag package prints it, the kind of value, none for a boolean. */
function flagName(def: FlagDef): string {
  const value = def.kind === 'bool' ? '' : ` ${def.kind === 'enum' ? 'string' : def.kind}`;
  return `  --${def.name}${value}`;
}

/** One flag: name, meaning (without a `<command>: ` prefix), allowed values, a default worth saying. */
function flagLines(def: FlagDef, column: number): string[] {
  const prefix = /^([a-z]+): /.exec(def.description);
  const description =
    prefix && def.commands?.includes(prefix[1]!)
      ? def.description.slice(prefix[0].length)
      : def.description;
  const allowed = def.allowed ? ` (${def.allowed.join('|')})` : '';
  const d = defaultText(def);
  const silent = d === 'none' || d === '""' || (def.kind === 'bool' && d === 'false');
  const dflt = silent ? '' : ` [default: ${d}]`.replaceAll(' ', GLUE).replace(GLUE, ' ');
  return wrap(flagName(def).padEnd(column), `${description}${allowed}${dflt}`, column);
}

/** The column descriptions start at: after the longest name listed, within reason. */
function nameColumn(defs: readonly FlagDef[]): number {
  return Math.min(36, Math.max(...defs.map((d) => flagName(d).length)) + 2);
}

const ENVIRONMENT =
  'Every flag also reads SYNC_<FLAG> from the environment (--to-k8s=false = SYNC_TO_K8S=false); flags win. Flags are written --flag value, --flag=value or, as in Go, -flag=value; booleans --flag or --flag=false.';
const CONNECTIONS =
  'Consul also reads CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE, CONSUL_HTTP_SSL, CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY, CONSUL_TLS_SERVER_NAME and CONSUL_HTTP_SSL_VERIFY; Kubernetes uses --kubeconfig, else KUBECONFIG, ~/.kube/config or the in-cluster service account, as kubectl does.';

/** `k8s-consul-sync --help`: the commands and how to get a command's help. */
export function renderOverview(version: string): string {
  const row = (name: string, summary: string): string => `  ${name.padEnd(11)} ${summary}`;
  return [
    `k8s-consul-sync ${version}: keeps Kubernetes services and the Consul catalog in sync, both ways.`,
    '',
    'Usage: k8s-consul-sync <command> [flags]',
    '',
    'Commands:',
    ...COMMANDS.filter((c) => !c.dev).map((c) => row(c.name, c.summary)),
    ...INFO_COMMANDS.map((c) => row(c.name, c.summary)),
    '',
    'Development tools (in a clone of the repository; not in the image):',
    ...COMMANDS.filter((c) => c.dev).map((c) => row(c.name, c.summary)),
    '',
    ...wrap(
      '',
      'Run `k8s-consul-sync <command> --help` (or `k8s-consul-sync help <command>`) for its flags and examples.',
      0,
    ),
    ...wrap('', ENVIRONMENT, 0),
    ...wrap(
      '',
      'Exit codes: 0 done; 1 a failure the next run can get past; 2 a usage or configuration error; 3 an operator must act first.',
      0,
    ),
  ].join('\n');
}

/** `k8s-consul-sync <command> --help`: usage, examples, the command's flags by group, exit codes. */
export function renderCommandHelp(spec: CommandSpec, extraFlags: readonly FlagDef[] = []): string {
  const flags = [...FLAGS, ...extraFlags].filter((f) => appliesTo(f, spec.name));
  const lines = [
    `Usage: k8s-consul-sync ${spec.usage}`,
    '',
    ...wrap('', spec.description, 0),
    ...(spec.dev ? ['(A development tool: in a clone of the repository, not in the image.)'] : []),
    '',
    'Examples:',
    ...spec.examples.map((e) => `  ${e}`),
  ];
  const order = spec.primary
    ? [spec.primary, ...GROUP_ORDER.filter((g) => g !== spec.primary)]
    : GROUP_ORDER;
  const column = nameColumn(flags);
  const lineOf = (def: FlagDef): string[] => flagLines(def, column);
  for (const group of order) {
    const defs = flags.filter((f) => f.group === group && f.commands);
    if (defs.length === 0) continue;
    lines.push('', `${groupTitle(group, spec.name)}:`, ...defs.flatMap(lineOf));
  }
  lines.push(
    '',
    'Global flags:',
    ...flags.filter((f) => !f.commands).flatMap(lineOf),
    `${'  -h, --help'.padEnd(column)}This help.`,
    '',
    ...wrap('', ENVIRONMENT, 0),
    ...(flags.some((f) => f.name === 'kubeconfig') ? wrap('', CONNECTIONS, 0) : []),
    '',
    ...wrap('', spec.exitCodes, 0),
  );
  return lines.join('\n');
}
