// Keeps the terminal view current: the catalogs are re-read on a short interval and right after
// every event, and the view redraws only when the text changed. Also the start-up text: where
// everything listens and the copy-paste commands for the examples.
import { isAbsolute, join, relative } from 'node:path';
import type { Catalogs } from './catalogs.js';
import type { EventLog } from './events.js';
import { renderCatalogs, renderEvents } from './render.js';
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
  const view: View = tty ? new ScreenView(out) : new PlainView(out, header);
  const eventCount = options.eventCount ?? 8;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const draw = async (): Promise<void> => {
    let catalogs: string[];
    try {
      catalogs = renderCatalogs(await source.catalogs(), tty ? (out.columns ?? 80) : 0);
    } catch (err) {
      catalogs = [
        `(cannot read the catalogs: ${err instanceof Error ? err.message : String(err)})`,
      ];
    }
    if (stopped) return;
    view.draw({ header, catalogs, events: renderEvents(source.events.recent(eventCount)) });
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
  root: string;
  cwd?: string;
}

/** What the sandbox prints first: addresses and the commands to try. */
export function startText(info: StartInfo): string[] {
  const cwd = info.cwd ?? process.cwd();
  const example = (rel: string): string => displayPath(join(info.root, rel), cwd);
  const kubeconfig = info.kubeconfigPath;
  return [
    'k8s-consul-sync sandbox: Kubernetes and Consul emulators, the server and event delivery on loopback',
    `  server      ${info.serverUrl}  (JWT auth; log ${info.logFile})`,
    `  Kubernetes  ${info.kubeUrl}  kubeconfig ${kubeconfig}`,
    `  Consul      ${info.consulUrl}  CONSUL_HTTP_ADDR=${info.consulAddress}`,
    'Try (watch the catalogs below):',
    `  kubectl --kubeconfig ${kubeconfig} create -f ${example(EXAMPLES.service)}`,
    `  kubectl --kubeconfig ${kubeconfig} create -f ${example(EXAMPLES.loadBalancer)}`,
    `  curl -X PUT ${info.consulUrl}/v1/catalog/register -d @${example(EXAMPLES.register)}`,
    `  curl -X PUT ${info.consulUrl}/v1/catalog/deregister -d @${example(EXAMPLES.deregister)}`,
    'Ctrl-C stops everything.',
  ];
}
