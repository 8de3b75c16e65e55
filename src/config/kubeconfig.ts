// Where the Kubernetes credentials come from, in kubectl's order: --kubeconfig, else the files of
// KUBECONFIG, else ~/.kube/config, else the pod's service account. Found before the Kubernetes
// client is loaded, so that a machine without any says so at once and names what to pass.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ConfigError } from './errors.js';

/** The in-cluster service account token, as @kubernetes/client-node looks for it. */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeSettings {
  /** --kubeconfig (or SYNC_KUBECONFIG). */
  kubeconfig?: string;
  /** The KUBECONFIG variable as read with the rest of the configuration: a path list. */
  kubeconfigEnv?: string;
  /** --kube-context. */
  context?: string;
}

export type KubeConfigSource =
  /** Kubeconfig files, merged in order as kubectl does; `origin` says who named them. */
  | { kind: 'files'; paths: string[]; origin: '--kubeconfig' | 'KUBECONFIG' | 'home' }
  | { kind: 'in-cluster'; tokenFile: string };

/** What the source is, for messages: `--kubeconfig /x`, `KUBECONFIG=/a:/b`, `~/.kube/config`. */
export function describeKubeSource(source: KubeConfigSource): string {
  if (source.kind === 'in-cluster') return `the in-cluster service account (${source.tokenFile})`;
  if (source.origin === '--kubeconfig') return `--kubeconfig ${source.paths[0]!}`;
  if (source.origin === 'KUBECONFIG') return `KUBECONFIG=${source.paths.join(delimiter)}`;
  return source.paths[0]!;
}

export interface LocateOptions {
  /** The home directory (default: HOME, as @kubernetes/client-node reads it). */
  home?: string | undefined;
  exists?: (path: string) => boolean;
  tokenFile?: string;
}

/**
 * The Kubernetes credentials to use, or a ConfigError (exit 2) that says what was looked for
 * and what to pass.
 */
export function locateKubeConfig(
  settings: KubeSettings,
  options: LocateOptions = {},
): KubeConfigSource {
  const exists = options.exists ?? existsSync;
  const tokenFile = options.tokenFile ?? SERVICE_ACCOUNT_TOKEN;
  const fix = 'pass --kubeconfig FILE or set KUBECONFIG=FILE (the file kubectl uses)';
  if (settings.kubeconfig) {
    if (!exists(settings.kubeconfig)) {
      throw new ConfigError(
        'kubeconfig',
        settings.kubeconfig,
        'an existing kubeconfig file',
        `--kubeconfig ${settings.kubeconfig}: no such file; ${fix}`,
      );
    }
    return { kind: 'files', paths: [settings.kubeconfig], origin: '--kubeconfig' };
  }
  const listed = (settings.kubeconfigEnv ?? '').split(delimiter).filter((p) => p.length > 0);
  if (listed.length > 0) {
    const missing = listed.filter((p) => !exists(p));
    if (missing.length > 0) {
      throw new ConfigError(
        'KUBECONFIG',
        settings.kubeconfigEnv!,
        'existing kubeconfig files',
        `KUBECONFIG=${settings.kubeconfigEnv!}: no such file ${missing.join(', ')}; ${fix}`,
      );
    }
    return { kind: 'files', paths: listed, origin: 'KUBECONFIG' };
  }
  const home = 'home' in options ? options.home : process.env.HOME;
  const homeConfig = home ? join(home, '.kube', 'config') : undefined;
  if (homeConfig && exists(homeConfig))
    return { kind: 'files', paths: [homeConfig], origin: 'home' };
  if (exists(tokenFile)) return { kind: 'in-cluster', tokenFile };
  throw new ConfigError(
    'kubeconfig',
    '',
    'a kubeconfig',
    `no Kubernetes credentials: no --kubeconfig, KUBECONFIG not set, ${homeConfig ?? '~/.kube/config (HOME not set)'} not found, not in a pod (no ${tokenFile}); ${fix}`,
  );
}
