// The reconcile's translation of every Service, done while the Kubernetes lists are still
// arriving: a Service is translated as soon as every EndpointSlice of its namespace, every Node
// and every Ingress has arrived, so that translating overlaps the wait for the API server's next
// pages instead of starting after the last one. Completeness rests on the list order
// (src/plan/list-order.ts); when the slices list breaks it, the early translations are dropped
// and every Service is translated once the lists are in, exactly as `translateAll` does.
import { ListProgress } from '../plan/list-order.js';
import { LABEL_SERVICE_NAME } from '../translate/keys.js';
import { isBeingDeleted, translateService, type ConsulTranslation } from '../translate/index.js';
import type {
  EndpointSlice,
  Ingress,
  Node,
  Service,
  ToConsulSettings,
} from '../translate/types.js';
import { appendAll } from '../translate/arrays.js';

export interface KubeLists {
  services: readonly Service[];
  slices: readonly EndpointSlice[];
  nodes: readonly Node[];
  ingresses: readonly Ingress[];
}

const namespaceOf = (o: { metadata?: { namespace?: string } }): string =>
  o.metadata?.namespace ?? '';
const serviceKey = (service: Service): string =>
  `${namespaceOf(service)}/${service.metadata?.name ?? ''}`;

function sliceKey(slice: EndpointSlice): string | undefined {
  const name = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
  return name ? `${namespaceOf(slice)}/${name}` : undefined;
}

function groupSlices(into: Map<string, EndpointSlice[]>, slices: readonly EndpointSlice[]): void {
  for (const slice of slices) {
    const key = sliceKey(slice);
    if (key === undefined) continue;
    const list = into.get(key);
    if (list) list.push(slice);
    else into.set(key, [slice]);
  }
}

function nodesByName(nodes: readonly Node[]): Map<string, Node> {
  const byName = new Map<string, Node>();
  for (const node of nodes) if (node.metadata?.name) byName.set(node.metadata.name, node);
  return byName;
}

function ingressesByNamespace(ingresses: readonly Ingress[]): Map<string, Ingress[]> {
  const byNamespace = new Map<string, Ingress[]>();
  for (const ingress of ingresses) {
    const ns = namespaceOf(ingress);
    const list = byNamespace.get(ns);
    if (list) list.push(ingress);
    else byNamespace.set(ns, [ingress]);
  }
  return byNamespace;
}

/** Whether the reconcile translates this listed Service (one being deleted has no translation). */
const translated = (service: Service, purge: boolean): boolean =>
  !purge && !isBeingDeleted(service);

function translateOne(
  settings: ToConsulSettings,
  service: Service,
  slices: ReadonlyMap<string, EndpointSlice[]>,
  nodes: ReadonlyMap<string, Node>,
  ingresses: ReadonlyMap<string, Ingress[]>,
): ConsulTranslation {
  return translateService(
    {
      service,
      endpointSlices: slices.get(serviceKey(service)) ?? [],
      nodes,
      ingresses: ingresses.get(namespaceOf(service)) ?? [],
    },
    settings,
  );
}

/**
 * Every listed Service's translation, in list order (none when purging: everything goes; a
 * Service being deleted has none, as on the event path).
 */
export function translateAll(
  settings: ToConsulSettings,
  lists: KubeLists,
  purge: boolean,
): ConsulTranslation[] {
  const slices = new Map<string, EndpointSlice[]>();
  groupSlices(slices, lists.slices);
  const nodes = nodesByName(lists.nodes);
  const ingresses = ingressesByNamespace(lists.ingresses);
  return lists.services
    .filter((s) => translated(s, purge))
    .map((s) => translateOne(settings, s, slices, nodes, ingresses));
}

/**
 * Takes the pages of one cluster-wide read (every namespace: a read per namespace interleaves
 * their pages) as they arrive and translates what is complete between them; `finish` answers
 * what `translateAll` answers for the same lists.
 */
export class ListTranslator {
  private readonly services: Service[] = [];
  /** Translations of `services[0 .. next)` (undefined: not translated, see `translated`). */
  private readonly done: (ConsulTranslation | undefined)[] = [];
  private next = 0;
  private readonly slices = new Map<string, EndpointSlice[]>();
  private readonly sliceOrder = new ListProgress();
  private nodes: Map<string, Node> | undefined;
  private ingresses: Map<string, Ingress[]> | undefined;
  private scheduled = false;
  private held = false;
  private stopped = false;

  constructor(
    private readonly settings: ToConsulSettings,
    private readonly options: { purge: boolean; ingresses: boolean },
  ) {
    if (!options.ingresses) this.ingresses = new Map();
  }

  /** A page of the Services list. */
  readonly onServices = (page: readonly Service[]): void => {
    appendAll(this.services, page);
    this.schedule();
  };

  /** A page of the EndpointSlices list. */
  readonly onSlices = (page: readonly EndpointSlice[]): void => {
    for (const slice of page) this.sliceOrder.see(namespaceOf(slice));
    groupSlices(this.slices, page);
    this.schedule();
  };

  /** The EndpointSlices list has ended. */
  slicesEnded(): void {
    this.sliceOrder.end();
    this.schedule();
  }

  /** The whole Nodes list. */
  nodesListed(nodes: readonly Node[]): void {
    this.nodes = nodesByName(nodes);
    this.schedule();
  }

  /** The whole Ingresses list (--enable-ingress). */
  ingressesListed(ingresses: readonly Ingress[]): void {
    this.ingresses = ingressesByNamespace(ingresses);
    this.schedule();
  }

  /** Services translated (or passed over) so far, in list order. */
  get translatedSoFar(): number {
    return this.next;
  }

  /**
   * Translates nothing early until `done` settles (the reconcile's Consul read: its answer is
   * the run's largest allocation; the highest peak RSS was seen when translating while it
   * arrived, though the cause is not shown, README "Performance").
   */
  holdUntil(done: Promise<unknown>): void {
    this.held = true;
    const release = (): void => {
      this.held = false;
      this.schedule();
    };
    done.then(release, release);
  }

  /** No more work: a list failed (the reconcile's direction fails with it). */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Every translation, once every list is in (`lists` as they were returned: the same objects
   * the pages carried). After a list broke the order, translated afresh from `lists`.
   */
  finish(lists: KubeLists): ConsulTranslation[] {
    this.stopped = true;
    const sameServices =
      lists.services.length === this.services.length &&
      lists.services.every((s, i) => s === this.services[i]);
    if (this.sliceOrder.broken || !sameServices)
      return translateAll(this.settings, lists, this.options.purge);
    this.sliceOrder.end();
    this.held = false;
    this.nodes ??= nodesByName(lists.nodes);
    this.ingresses ??= ingressesByNamespace(lists.ingresses);
    this.translateReady();
    const out: ConsulTranslation[] = [];
    for (const t of this.done) if (t !== undefined) out.push(t);
    return out;
  }

  /** Translation runs after the list has asked for its next page, not before. */
  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) this.translateReady();
    });
  }

  /** Translates, in list order, the Services whose inputs have all arrived. */
  private translateReady(): void {
    const { nodes, ingresses } = this;
    if (nodes === undefined || ingresses === undefined || this.sliceOrder.broken || this.held)
      return;
    while (this.next < this.services.length) {
      const service = this.services[this.next]!;
      if (!this.sliceOrder.complete(namespaceOf(service))) return;
      this.done.push(
        translated(service, this.options.purge)
          ? translateOne(this.settings, service, this.slices, nodes, ingresses)
          : undefined,
      );
      this.next++;
    }
  }
}
