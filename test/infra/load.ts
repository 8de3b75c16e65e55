// Loaders for the deployment artefacts in infra/: kustomize renders (through kubectl), the raw
// manifests (no kubectl needed), the audit policy and kubeconfig, and the Consul watch config
// (JSON, or HCL through a small parser). The integration tests drive the emulators with these.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';

const execFileAsync = promisify(execFile);

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const INFRA_DIR = join(REPO_ROOT, 'infra');

/** Kustomize directories, relative to the repository root. */
export const KUSTOMIZE_DIRS = {
  base: 'infra/kubernetes',
  toConsulOnly: 'infra/kubernetes/overlays/to-consul-only',
  toK8sOnly: 'infra/kubernetes/overlays/to-k8s-only',
} as const;

/** Raw files that hold exactly one object each (relative to the repository root). */
export const FILES = {
  webhookConfiguration: 'infra/kubernetes/base/validating-webhook-configuration.yaml',
  baseKustomization: 'infra/kubernetes/base/kustomization.yaml',
  configEnv: 'infra/kubernetes/base/config.env',
  servingCertificate: 'infra/kubernetes/base/certificate-serving.yaml',
  deployment: 'infra/kubernetes/base/deployment.yaml',
  auditPolicy: 'infra/kubernetes/audit/policy.yaml',
  auditKubeconfig: 'infra/kubernetes/audit/webhook-kubeconfig.yaml',
  watchJson: 'infra/consul/watch.json',
  watchHcl: 'infra/consul/watch.hcl',
  aclPolicy: 'infra/consul/acl-policy.hcl',
  forwardWatch: 'infra/consul/forward-watch.sh',
  knativeService: 'infra/knative/service.yaml',
  readme: 'infra/README.md',
} as const;

/** The placeholders an operator replaces (infra/README.md says how). */
export const PLACEHOLDERS = {
  /** Last segment of the webhook's clientConfig.service.path (a valid DNS-1123 name). */
  admissionToken: 'replace-with-admission-token',
  auditToken: 'REPLACE_WITH_AUDIT_TOKEN',
  watchToken: 'REPLACE_WITH_CONSUL_WATCH_TOKEN',
  /** Scheme and host of the watch's http_handler_config.path. */
  watchBaseUrl: 'https://k8s-consul-sync.example',
} as const;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Any Kubernetes-style object as parsed from YAML. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export function readRepoFile(relPath: string): string {
  return readFileSync(resolve(REPO_ROOT, relPath), 'utf8');
}

/** Parses a multi-document YAML stream; empty documents are skipped, any YAML error throws. */
export function parseYamlDocuments(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(`${source}: a document is not a mapping`);
    }
    const obj = value as Partial<KubeObject>;
    if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
      throw new Error(`${source}: a document has no apiVersion/kind`);
    }
    objects.push(obj as KubeObject);
  }
  return objects;
}

/** The one object in a YAML file of the repository. */
export function loadYamlObject<T = KubeObject>(relPath: string): T {
  const objects = parseYamlDocuments(readRepoFile(relPath), relPath);
  if (objects.length !== 1) {
    throw new Error(`${relPath}: expected one object, found ${objects.length}`);
  }
  return objects[0] as T;
}

let kubectlChecked: boolean | undefined;

/** Whether `kubectl` (with its built-in kustomize) can be run here. */
export function kubectlAvailable(): boolean {
  kubectlChecked ??=
    spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 20_000 }).status ===
    0;
  return kubectlChecked;
}

const renders = new Map<string, Promise<KubeObject[]>>();

/** `kubectl kustomize <dir>` (dir relative to the repository root), parsed. Cached per dir. */
export async function renderKustomize(dir: string): Promise<KubeObject[]> {
  let pending = renders.get(dir);
  if (!pending) {
    pending = execFileAsync('kubectl', ['kustomize', dir], {
      cwd: REPO_ROOT,
      maxBuffer: 16 * 1024 * 1024,
    }).then(({ stdout }) => parseYamlDocuments(stdout, `kubectl kustomize ${dir}`));
    renders.set(dir, pending);
  }
  return structuredClone(await pending);
}

/** All objects of a kind (and name, when given). */
export function objectsOf<T = KubeObject>(objects: KubeObject[], kind: string, name?: string): T[] {
  return objects.filter(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
  ) as T[];
}

/** The one object of a kind (and name): throws when there is none or more than one. */
export function findObject<T = KubeObject>(objects: KubeObject[], kind: string, name?: string): T {
  const found = objectsOf<T>(objects, kind, name);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  }
  return found[0]!;
}

interface EnvSource {
  name?: string;
  value?: string;
  valueFrom?: unknown;
}
interface ContainerLike {
  env?: EnvSource[];
  envFrom?: { configMapRef?: { name?: string }; secretRef?: { name?: string } }[];
}

/**
 * The literal environment of a container: its ConfigMap envFrom sources (looked up among
 * `objects`), then its `env` values, which win. Variables from valueFrom are left out.
 */
export function containerEnv(container: ContainerLike, objects: KubeObject[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef?.name;
    if (!ref) continue;
    const cm = findObject<KubeObject & { data?: Record<string, string> }>(
      objects,
      'ConfigMap',
      ref,
    );
    for (const [k, v] of Object.entries(cm.data ?? {})) env.set(k, v);
  }
  for (const e of container.env ?? []) {
    if (e.name && e.value !== undefined) env.set(e.name, e.value);
  }
  return env;
}

/** The KEY=VALUE lines of a kustomize env file (comments and blank lines skipped). */
export function parseEnvFile(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`not KEY=VALUE: ${line}`);
    env.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return env;
}

// --- admission webhook -------------------------------------------------------------------

/**
 * The ValidatingWebhookConfiguration as committed (identical to the kustomize render; a test
 * checks that). `token` replaces the path placeholder, as an operator does.
 */
export function loadWebhookConfiguration(
  options: { token?: string } = {},
): V1ValidatingWebhookConfiguration {
  let text = readRepoFile(FILES.webhookConfiguration);
  if (options.token !== undefined)
    text = text.replaceAll(PLACEHOLDERS.admissionToken, options.token);
  return loadYamlText<V1ValidatingWebhookConfiguration>(text, FILES.webhookConfiguration);
}

function loadYamlText<T>(text: string, source: string): T {
  const objects = parseYamlDocuments(text, source);
  if (objects.length !== 1) throw new Error(`${source}: expected one object`);
  return objects[0] as T;
}

// --- audit -------------------------------------------------------------------------------

export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';

export interface AuditGroupResources {
  group?: string;
  resources?: string[];
  resourceNames?: string[];
}

export interface AuditPolicyRule {
  level: AuditLevel;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: AuditGroupResources[];
  namespaces?: string[];
  nonResourceURLs?: string[];
  omitStages?: string[];
  omitManagedFields?: boolean;
}

/** audit.k8s.io/v1 Policy. */
export interface AuditPolicy {
  apiVersion: string;
  kind: string;
  omitStages?: string[];
  omitManagedFields?: boolean;
  rules: AuditPolicyRule[];
}

export function loadAuditPolicy(): AuditPolicy {
  return loadYamlText<AuditPolicy>(readRepoFile(FILES.auditPolicy), FILES.auditPolicy);
}

/** The parts of a kubeconfig the audit webhook backend reads. */
export interface Kubeconfig {
  apiVersion: string;
  kind: string;
  clusters: {
    name: string;
    cluster: {
      server: string;
      'tls-server-name'?: string;
      'certificate-authority'?: string;
      'certificate-authority-data'?: string;
      'insecure-skip-tls-verify'?: boolean;
    };
  }[];
  users: { name: string; user: { token?: string; tokenFile?: string } }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
}

/** The audit webhook kubeconfig; `token` and `server` replace the placeholders. */
export function loadAuditWebhookKubeconfig(
  options: { token?: string; server?: string } = {},
): Kubeconfig {
  let text = readRepoFile(FILES.auditKubeconfig);
  if (options.token !== undefined) text = text.replaceAll(PLACEHOLDERS.auditToken, options.token);
  const config = loadYamlText<Kubeconfig>(text, FILES.auditKubeconfig);
  if (options.server !== undefined) {
    for (const c of config.clusters) c.cluster.server = options.server;
  }
  return config;
}

// --- Consul --------------------------------------------------------------------------------

export interface HttpHandlerConfig {
  path: string;
  method?: string;
  header?: Record<string, string[]>;
  timeout?: string;
  tls_skip_verify?: boolean;
}

/** One entry of a Consul agent's `watches`. */
export interface ConsulWatch {
  type: string;
  handler_type?: string;
  http_handler_config?: HttpHandlerConfig;
  [param: string]: unknown;
}

/**
 * The watches of infra/consul/watch.json (or watch.hcl). `baseUrl` replaces the placeholder
 * scheme+host of the handler path, `token` the bearer token placeholder.
 */
export function loadWatchConfig(
  options: { format?: 'json' | 'hcl'; baseUrl?: string; token?: string } = {},
): ConsulWatch[] {
  const format = options.format ?? 'json';
  let text = readRepoFile(format === 'json' ? FILES.watchJson : FILES.watchHcl);
  if (options.baseUrl !== undefined) {
    text = text.replaceAll(PLACEHOLDERS.watchBaseUrl, options.baseUrl.replace(/\/$/, ''));
  }
  if (options.token !== undefined) text = text.replaceAll(PLACEHOLDERS.watchToken, options.token);
  const parsed: unknown = format === 'json' ? JSON.parse(text) : parseHcl(text);
  const watches = (parsed as { watches?: unknown }).watches;
  if (!Array.isArray(watches)) throw new Error(`watch config (${format}) has no watches list`);
  return watches as ConsulWatch[];
}

export type HclValue = string | number | boolean | HclValue[] | HclObject;
export interface HclObject {
  [key: string]: HclValue;
}

/**
 * A small parser for the HCL subset Consul configuration and ACL rules use: `key = value`,
 * blocks `key { ... }` and labelled blocks `key "label" { ... }` (nested under the label, as
 * HCL 1 decodes them), strings, numbers, booleans, lists, objects, and `#`, `//`, `/* *\/`
 * comments. Repeated blocks merge; a repeated plain key is an error.
 */
export function parseHcl(text: string): HclObject {
  const parser = new HclParser(text);
  const body = parser.body(undefined);
  return body;
}

type Token =
  | { kind: 'ident' | 'string'; value: string; pos: number }
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'punct'; value: '=' | '{' | '}' | '[' | ']' | ',' | ':'; pos: number }
  | { kind: 'eof'; pos: number };

class HclParser {
  private readonly tokens: Token[];
  private at = 0;

  constructor(private readonly text: string) {
    this.tokens = tokenizeHcl(text);
  }

  private peek(): Token {
    return this.tokens[this.at]!;
  }

  private next(): Token {
    const t = this.tokens[this.at]!;
    if (t.kind !== 'eof') this.at++;
    return t;
  }

  private fail(message: string, token: Token = this.peek()): never {
    const line = this.text.slice(0, token.pos).split('\n').length;
    throw new Error(`HCL line ${line}: ${message}`);
  }

  private expect(value: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.value !== value) this.fail(`expected "${value}"`, t);
  }

  /** Items until `close` ('}' for objects) or the end of input. */
  body(close: '}' | undefined): HclObject {
    const out: HclObject = {};
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') {
        if (close) this.fail(`missing "${close}"`);
        return out;
      }
      if (t.kind === 'punct' && t.value === close) {
        this.next();
        return out;
      }
      if (t.kind === 'punct' && t.value === ',') {
        this.next();
        continue;
      }
      if (t.kind !== 'ident' && t.kind !== 'string') this.fail('expected a key');
      this.next();
      const key = t.value;
      const after = this.peek();
      if (after.kind === 'punct' && (after.value === '=' || after.value === ':')) {
        this.next();
        if (Object.hasOwn(out, key)) this.fail(`"${key}" is set twice`, t);
        out[key] = this.value();
        continue;
      }
      // A block: key "label"... { body }
      const labels: string[] = [];
      while (this.peek().kind === 'string') labels.push((this.next() as { value: string }).value);
      this.expect('{');
      let value: HclObject = this.body('}');
      for (const label of labels.reverse()) value = { [label]: value };
      out[key] = mergeBlocks(out[key], value, () => this.fail(`"${key}" is set twice`, t));
    }
  }

  private value(): HclValue {
    const t = this.next();
    switch (t.kind) {
      case 'string':
      case 'number':
        return t.value;
      case 'ident':
        if (t.value === 'true') return true;
        if (t.value === 'false') return false;
        return this.fail(`unexpected "${t.value}"`, t);
      case 'punct':
        if (t.value === '{') return this.body('}');
        if (t.value === '[') return this.list();
        return this.fail(`unexpected "${t.value}"`, t);
      case 'eof':
        return this.fail('unexpected end of input', t);
    }
  }

  private list(): HclValue[] {
    const items: HclValue[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'punct' && t.value === ']') {
        this.next();
        return items;
      }
      items.push(this.value());
      const sep = this.peek();
      if (sep.kind === 'punct' && sep.value === ',') this.next();
      else if (!(sep.kind === 'punct' && sep.value === ']')) this.fail('expected "," or "]"');
    }
  }
}

function isHclObject(v: HclValue | undefined): v is HclObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeBlocks(
  existing: HclValue | undefined,
  add: HclObject,
  clash: () => never,
): HclObject {
  if (existing === undefined) return add;
  if (!isHclObject(existing)) return clash();
  const out: HclObject = { ...existing };
  for (const [k, v] of Object.entries(add)) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (isHclObject(prev) && isHclObject(v)) out[k] = mergeBlocks(prev, v, clash);
    else clash();
  }
  return out;
}

function tokenizeHcl(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end === -1) throw new Error('HCL: unterminated /* comment');
      i = end + 2;
    } else if ('={}[],:'.includes(c)) {
      tokens.push({ kind: 'punct', value: c as '=', pos: i });
      i++;
    } else if (c === '"') {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        const d = text[i];
        if (d === undefined || d === '\n') throw new Error('HCL: unterminated string');
        i++;
        if (d === '"') break;
        if (d === '\\') {
          const e = text[i++];
          const escapes: Record<string, string> = {
            n: '\n',
            t: '\t',
            r: '\r',
            '"': '"',
            '\\': '\\',
          };
          if (e === undefined || !(e in escapes)) throw new Error(`HCL: bad escape \\${e ?? ''}`);
          value += escapes[e];
        } else {
          value += d;
        }
      }
      tokens.push({ kind: 'string', value, pos: start });
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(text.slice(i));
      if (!m) throw new Error(`HCL: bad number at offset ${i}`);
      tokens.push({ kind: 'number', value: Number(m[0]), pos: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(text.slice(i))!;
      tokens.push({ kind: 'ident', value: m[0], pos: i });
      i += m[0].length;
    } else {
      throw new Error(`HCL: unexpected character ${JSON.stringify(c)} at offset ${i}`);
    }
  }
  tokens.push({ kind: 'eof', pos: text.length });
  return tokens;
}

// --- Dockerfile ----------------------------------------------------------------------------

export interface DockerInstruction {
  /** Upper-cased instruction: FROM, RUN, COPY, USER, ... */
  op: string;
  /** The rest of the (continuation-joined) line. */
  args: string;
}

export interface DockerStage {
  /** Image reference after FROM (flags such as --platform removed). */
  image: string;
  alias?: string;
  instructions: DockerInstruction[];
}

/** The stages of the repository's Dockerfile, comments and line continuations resolved. */
export function loadDockerfile(relPath = 'Dockerfile'): DockerStage[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of readRepoFile(relPath).split('\n')) {
    if (pending === '' && /^\s*#/.test(raw)) continue;
    if (/\\\s*$/.test(raw)) {
      pending += raw.replace(/\\\s*$/, ' ');
      continue;
    }
    const line = (pending + raw).trim();
    pending = '';
    if (line !== '') lines.push(line);
  }
  const stages: DockerStage[] = [];
  for (const line of lines) {
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    const op = m[1]!.toUpperCase();
    const args = m[2]!;
    if (op === 'FROM') {
      const words = args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const asAt = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({
        image: words[0]!,
        alias: asAt > 0 ? words[asAt + 1] : undefined,
        instructions: [],
      });
    } else {
      const stage = stages[stages.length - 1];
      if (!stage) throw new Error(`${relPath}: ${op} before the first FROM`);
      stage.instructions.push({ op, args });
    }
  }
  return stages;
}
