// Keeps the terminal view current: the catalogs are re-read on a short interval and right after
// every event, and the view redraws only when the text changed. Also the start-up text: where
// everything listens, the exports and the token to reach it from another shell, and the
// copy-paste commands for the examples; and what is left behind on exit.
import { isAbsolute, join, relative } from 'node:path';
import type { Catalogs } from './catalogs.js';
import type { EventLog } from './events.js';
import type { OperatorToken, Sandbox } from './index.js';
import { renderCatalogs, renderEvents, terminalWidth } from './render.js';
import { PlainView, ScreenView, type Terminal, type View } from './view.js';

export const EXAMPLES = {
  service: 'examples/web-admin-nodeport.yaml',
  loadBalancer: 'examples/storefront-loadbalancer.yaml',
  register: 'examples/consul-register.json',
  deregister: 'examples/consul-deregister.json',
} as const;

export interface LiveSource {
  catalogs(): Promise<Catalogs>;
  events: EventLog;
}

export interface LiveView {
  /** Re-read and redraw now (coalesced with a redraw in progress). */
  refresh(): void;
  /** Waits for a redraw in progress, then restores the terminal. */
  stop(): Promise<void>;
}

export interface LiveViewOptions {
  intervalMs?: number;
  /** How many recent events the TTY frame shows. */
  eventCount?: number;
}

export function startLiveView(
  source: LiveSource,
  out: Terminal,
  header: string[],
  options: LiveViewOptions = {},
): LiveView {
  const tty = Boolean(out.isTTY);
  const view: View = tty ? new ScreenView(out, header) : new PlainView(out, header);
  const eventCount = options.eventCount ?? 8;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const draw = async (): Promise<void> => {
    let catalogs: string[];
    try {
      // A pipe or a log gets the stacked catalogs, uncut.
      catalogs = renderCatalogs(await source.catalogs(), tty ? terminalWidth(out) : 0);
    } catch (err) {
      catalogs = [
        `(cannot read the catalogs: ${err instanceof Error ? err.message : String(err)})`,
      ];
    }
    if (stopped) return;
    view.draw({ catalogs, events: renderEvents(source.events.recent(eventCount)) });
  };
  const refresh = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = draw().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        refresh();
      }
    });
  };
  // Events from before the view started (the first watch delivery) are shown too.
  for (const e of source.events.recent(Infinity)) view.event(e);
  const timer = setInterval(refresh, options.intervalMs ?? 200);
  const unsubscribe = source.events.onEvent((e) => {
    view.event(e);
    refresh();
  });
  refresh();
  return {
    refresh: () => {
      view.invalidate();
      refresh();
    },
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      await running;
      view.close();
    },
  };
}

/** A path to show in a command: relative to the working directory when it is inside it. */
export function displayPath(path: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

export interface StartInfo {
  serverUrl: string;
  kubeUrl: string;
  consulUrl: string;
  consulAddress: string;
  kubeconfigPath: string;
  logFile: string;
  secretFile: string;
  operator: OperatorToken;
  keeps: { logFile: boolean; kubeconfig: boolean };
  root: string;
  cwd?: string;
}

export function startInfo(sandbox: Sandbox, root: string): StartInfo {
  return {
    serverUrl: sandbox.server.url,
    kubeUrl: sandbox.kube.url,
    consulUrl: sandbox.consul.url,
    consulAddress: sandbox.consul.address,
    kubeconfigPath: sandbox.kubeconfigPath,
    logFile: sandbox.logFile,
    secretFile: sandbox.secretFile,
    operator: sandbox.operator,
    keeps: sandbox.keeps,
    root,
  };
}

/** A POSIX shell word: as is when safe, else single-quoted. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The dry-run reconcile with the operator token: the `curl` line printed to try the server. */
export function reconcileCurl(serverUrl: string): string {
  return `curl -H "Authorization: Bearer $TOKEN" -X POST ${shellWord(`${serverUrl}/reconcile?dryRun=true`)}`;
}

/**
 * Where everything is and how to reach it from another shell: the exports (KUBECONFIG,
 * CONSUL_HTTP_ADDR, TOKEN for the server), what the token is and how to mint another, and a
 * `curl` line that uses it. `until` says how long it all lives ("the sandbox stops").
 */
export function connectionText(info: StartInfo, until: string): string[] {
  const kept = (yes: boolean): string => (yes ? 'kept after exit' : 'removed on exit');
  const mintMore = [
    'npx k8s-consul-sync token',
    `--auth-jwt-secret-file=${shellWord(info.secretFile)}`,
    '--subject=me --scope=reconcile',
  ].join(' ');
  return [
    `  server      ${info.serverUrl}  (JWT auth: every call needs a token)`,
    `  Kubernetes  ${info.kubeUrl}`,
    `  Consul      ${info.consulUrl}`,
    `  server log  ${info.logFile}  (${kept(info.keeps.logFile)})`,
    `  kubeconfig  ${info.kubeconfigPath}  (${kept(info.keeps.kubeconfig)})`,
    'To reach it from another shell, paste:',
    `  export KUBECONFIG=${shellWord(info.kubeconfigPath)}`,
    `  export CONSUL_HTTP_ADDR=${info.consulAddress}`,
    `  export TOKEN=${info.operator.token}`,
    `  ${reconcileCurl(info.serverUrl)}`,
    `TOKEN: subject ${info.operator.subject}, scopes ${info.operator.scopes.join(' ')}, valid until ${until}. Mint others with`,
    `  ${mintMore}`,
  ];
}

/** What the interactive sandbox prints first, once: addresses, exports, token, commands to try. */
export function startText(info: StartInfo): string[] {
  const cwd = info.cwd ?? process.cwd();
  const example = (rel: string): string => shellWord(displayPath(join(info.root, rel), cwd));
  return [
    'k8s-consul-sync sandbox: Kubernetes and Consul emulators, the server and event delivery on loopback',
    ...connectionText(info, 'the sandbox stops'),
    'Then try (with the exports above; watch the catalogs below):',
    `  kubectl create -f ${example(EXAMPLES.service)}`,
    `  kubectl create -f ${example(EXAMPLES.loadBalancer)}`,
    `  curl -X PUT ${info.consulUrl}/v1/catalog/register -d @${example(EXAMPLES.register)}`,
    `  curl -X PUT ${info.consulUrl}/v1/catalog/deregister -d @${example(EXAMPLES.deregister)}`,
    `  ${reconcileCurl(info.serverUrl)}`,
    'Ctrl-C stops everything.',
  ];
}

/** What is left of a stopped sandbox, and where. */
export function exitText(info: Pick<StartInfo, 'logFile' | 'kubeconfigPath' | 'keeps'>): string[] {
  return [
    `  server log  ${info.logFile}  (${info.keeps.logFile ? 'kept' : 'removed'})`,
    `  kubeconfig  ${info.kubeconfigPath}  (${info.keeps.kubeconfig ? 'kept' : 'removed with the emulator'})`,
  ];
}
