// The mirrors in memory (issue 18): the Services this installation made from Consul (label
// consul=true in the write namespace), kept current by one list and a watch, so that a Consul
// delivery plans against memory instead of listing and decoding every mirror (the cost that grew
// with the number of services). A cache, never the truth (docs/reference.md "Drift and
// removal"): `snapshot()` answers only while the watch runs; before the first list, after an
// error and until the next list it answers undefined and the caller lists as before. Reconcile
// and the standalone handlers never use it. An edit by hand reaches it as a watch event, so the
// next delivery restores the mirror as before; a plan made from a view a few milliseconds old
// is safe, since every write re-reads on a conflict (src/sync/to-k8s.ts).
// Watch from its own module: the package's index also loads every generated API class and model.
import { Watch } from '@kubernetes/client-node/dist/watch.js';
import type { KubeHandle } from './client.js';
import { SERVICES, resourcePath } from './rest.js';
import type { Service } from '../translate/types.js';
import type { Logger } from '../telemetry/logger.js';
import { describeError } from '../errors.js';

export interface ServiceWatchCacheOptions {
  namespace: string;
  labelSelector: string;
  /** Wait before listing again after the watch failed (default 1 s). */
  retryMs?: number;
  /** Bound on the list that starts each watch (default 30 s); past it the list fails and is retried. */
  listTimeoutMs?: number;
  /** Which mirrors are ours (isOwnedK8sService with the settings): counted as they come and go. */
  isOwned?: (service: Service) => boolean;
}

interface WatchObject {
  metadata?: { name?: string; resourceVersion?: string };
  /** ERROR events carry a Status. */
  code?: number;
}

export class ServiceWatchCache {
  private readonly items = new Map<string, Service>();
  /** Of `items`: how many are not ExternalName, and how many are ours (`isOwned`). */
  private notExternalName = 0;
  private owned = 0;
  /** Names we deleted, with the version they had: an older event must not bring them back. */
  private readonly deleted = new Map<string, string | undefined>();
  private live = false;
  private stopped = false;
  private abort: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The newest resourceVersion seen: a watch that ended cleanly resumes from it. */
  private resourceVersion: string | undefined;
  /** Bumped on every (re)start, so callbacks of an earlier watch are ignored. */
  private generation = 0;
  /** Names changed (by a watch event or our own write) since `takeChanged` last answered. */
  private changed = new Set<string>();
  /** Bumped on every list: what changed before it is not in `changed`. */
  private epoch = 0;

  constructor(
    private readonly handle: KubeHandle,
    private readonly options: ServiceWatchCacheOptions,
    private readonly logger: Logger,
  ) {}

  /** Lists, then watches from the list's version; keeps doing so until stopped. */
  start(): void {
    this.stopped = false;
    void this.relist();
  }

  /** The mirrors as the watch last saw them, or undefined while it is not running. */
  snapshot(): Service[] | undefined {
    return this.live ? [...this.items.values()] : undefined;
  }

  /** While the watch runs: how many mirrors are not ExternalName. */
  counts(): { notExternalName: number } | undefined {
    return this.live ? { notExternalName: this.notExternalName } : undefined;
  }

  /**
   * While the watch runs: the named mirrors it holds, and how many owned ones (`isOwned`) are
   * not among them; a delivery that plans only what changed needs no more.
   */
  pick(names: Iterable<string>): { items: Service[]; ownedOutside: number } | undefined {
    if (!this.live) return undefined;
    const items: Service[] = [];
    let ownedInside = 0;
    for (const name of names) {
      const service = this.items.get(name);
      if (!service) continue;
      items.push(service);
      if (this.options.isOwned?.(service)) ownedInside++;
    }
    return { items, ownedOutside: this.owned - ownedInside };
  }

  /** Sets a mirror, keeping the counts. */
  private put(name: string, service: Service): void {
    this.drop(name);
    this.items.set(name, service);
    if ((service.spec?.type ?? '') !== 'ExternalName') this.notExternalName++;
    if (this.options.isOwned?.(service)) this.owned++;
  }

  /** Removes a mirror, keeping the counts. */
  private drop(name: string): void {
    const had = this.items.get(name);
    if (!had) return;
    this.items.delete(name);
    if ((had.spec?.type ?? '') !== 'ExternalName') this.notExternalName--;
    if (this.options.isOwned?.(had)) this.owned--;
  }

  /**
   * The names changed by others since the last call (watch events newer than what we wrote
   * ourselves), and the list epoch they belong to (a new epoch: the view was listed afresh, and
   * what changed before is unknown). Undefined while the watch is not running. A delivery plans
   * only the Consul names whose mirror or view entry changed (src/sync/view-tracker.ts): our own
   * writes are what the delivery that made them planned, so they are not reported.
   */
  takeChanged(): { epoch: number; names: Set<string> } | undefined {
    if (!this.live) return undefined;
    const names = this.changed;
    this.changed = new Set();
    return { epoch: this.epoch, names };
  }

  /**
   * Our own write, as the API server answered it: in the view at once, so the next delivery
   * does not plan from before it (the watch event follows and changes nothing).
   */
  remember(service: Service): void {
    const name = service.metadata?.name;
    if (!name) return;
    const version = service.metadata?.resourceVersion;
    if (!this.isNewer(name, version)) {
      // Its watch event came first: that change was ours, not one to report.
      if (version !== undefined && this.items.get(name)?.metadata?.resourceVersion === version)
        this.changed.delete(name);
      return;
    }
    this.put(name, service);
    this.deleted.delete(name);
  }

  /** Our own delete: out of the view at once. */
  forget(name: string): void {
    const had = this.items.get(name);
    if (!had) {
      // Its watch event came first: that deletion was ours, not one to report.
      if (this.deleted.has(name)) this.changed.delete(name);
      return;
    }
    this.drop(name);
    this.deleted.set(name, had.metadata?.resourceVersion);
  }

  /**
   * Whether `version` is newer than what the view holds for the name (or held when we deleted
   * it). resourceVersions are opaque to clients, but the API server's are etcd revisions:
   * compared as numbers when both are; otherwise the newest to arrive wins.
   */
  private isNewer(name: string, version: string | undefined): boolean {
    const have = this.items.get(name)?.metadata?.resourceVersion ?? this.deleted.get(name);
    if (have === undefined || version === undefined) return true;
    if (!/^\d+$/.test(have) || !/^\d+$/.test(version)) return true;
    return BigInt(version) > BigInt(have);
  }

  /** Whether `snapshot()` answers (tests and readiness wait for it). */
  get running(): boolean {
    return this.live;
  }

  stop(): void {
    this.stopped = true;
    this.live = false;
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.abort?.abort();
    this.abort = undefined;
  }

  private async relist(): Promise<void> {
    const generation = ++this.generation;
    try {
      const list = await this.handle.rest.request<{
        items?: Service[];
        metadata?: { resourceVersion?: string };
      }>({
        path: resourcePath(SERVICES, this.options.namespace),
        query: { labelSelector: this.options.labelSelector },
        signal: AbortSignal.timeout(this.options.listTimeoutMs ?? 30_000),
      });
      if (!Array.isArray(list?.items)) throw new Error('a list without items');
      if (generation !== this.generation) return;
      this.items.clear();
      this.notExternalName = 0;
      this.owned = 0;
      this.deleted.clear();
      for (const s of list.items) if (s.metadata?.name) this.put(s.metadata.name, s);
      this.epoch++;
      this.changed.clear();
      this.resourceVersion = list.metadata?.resourceVersion;
      await this.watch(generation);
    } catch (err) {
      this.failed(generation, err);
    }
  }

  private async watch(generation: number): Promise<void> {
    const path = resourcePath(SERVICES, this.options.namespace);
    const abort = await new Watch(this.handle.kubeConfig).watch(
      path,
      {
        labelSelector: this.options.labelSelector,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
      },
      (type: string, object: WatchObject) => this.event(generation, type, object),
      (err: unknown) => this.ended(generation, err),
    );
    if (generation !== this.generation || this.stopped) {
      abort.abort();
      return;
    }
    this.abort = abort;
    // Connected (client-node resolves once the API server answered 200).
    if (!abort.signal.aborted) this.live = true;
  }

  private event(generation: number, type: string, object: WatchObject): void {
    if (generation !== this.generation) return;
    if (type === 'ERROR') {
      // 410 Expired (the version is too old) or any other error: start over with a list.
      this.failed(generation, new Error(`watch error ${object.code ?? ''}`.trim()));
      return;
    }
    const rv = object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    const name = object.metadata?.name;
    if (type === 'BOOKMARK' || !name || !this.isNewer(name, rv)) return;
    if (type === 'DELETED') {
      this.drop(name);
      this.deleted.set(name, rv);
    } else {
      this.put(name, object);
      this.deleted.delete(name);
    }
    this.changed.add(name);
  }

  /** The watch ended: cleanly (the server's timeout) resumes from the newest version seen. */
  private ended(generation: number, err: unknown): void {
    if (generation !== this.generation || this.stopped) return;
    if (err) {
      this.failed(generation, err);
      return;
    }
    this.live = false;
    const next = ++this.generation;
    void this.watch(next).catch((e: unknown) => this.failed(next, e));
  }

  private failed(generation: number, err: unknown): void {
    if (generation !== this.generation || this.stopped) return;
    this.live = false;
    this.generation++;
    this.abort?.abort();
    this.abort = undefined;
    this.logger.debug(
      { event: 'mirror-watch-restart', err: describeError(err) },
      'the watch of the mirrors stopped: listing them on each delivery until it runs again',
    );
    this.timer = setTimeout(() => {
      if (!this.stopped) void this.relist();
    }, this.options.retryMs ?? 1000);
    this.timer.unref();
  }
}
