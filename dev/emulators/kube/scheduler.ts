// kube-scheduler, reduced to what an emulated cluster needs: a pod without spec.nodeName (for the
// default scheduler, not gated) is bound to a feasible Node through POST pods/NAME/binding, as the
// real scheduler binds. Feasible: schedulable, not NotReady, taints tolerated, nodeSelector and
// required node affinity matched. Among those the node with the fewest pods wins (what the default
// scoring does for pods without resource requests: spread), ties by name. A pod no node fits gets
// PodScheduled=False/Unschedulable with the scheduler's message and is retried when Nodes change.
import type { KubeApi } from './api.js';
import { matchesLabels, type Requirement } from './selectors.js';
import {
  asArray,
  asObject,
  isObject,
  nowRfc3339,
  str,
  stringMap,
  type JsonObject,
  type KubeObject,
  type UserInfo,
} from './util.js';
import { WorkQueue } from './workqueue.js';

const SCHEDULER_USER: UserInfo = {
  username: 'system:kube-scheduler',
  groups: ['system:authenticated'],
};
const SCHEDULER_UA = 'kube-scheduler/v1.32.4 (linux/amd64) kubernetes/59526cd/scheduler';
export const DEFAULT_SCHEDULER = 'default-scheduler';

type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

const podKey = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

/** Whether the default scheduler still has to place this pod. */
export function needsScheduling(pod: KubeObject): boolean {
  const spec = asObject(pod.spec);
  const phase = asObject(pod.status).phase;
  return (
    !str(spec.nodeName) &&
    !pod.metadata.deletionTimestamp &&
    str(spec.schedulerName || DEFAULT_SCHEDULER) === DEFAULT_SCHEDULER &&
    asArray(spec.schedulingGates).length === 0 &&
    phase !== 'Succeeded' &&
    phase !== 'Failed'
  );
}

/** A toleration matches a taint (v1 Toleration.ToleratesTaint). */
function tolerates(tolerations: JsonObject[], taint: JsonObject): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.key && t.key !== taint.key) return false;
    if (t.operator === 'Exists') return true;
    return str(t.value) === str(taint.value) && Boolean(t.key);
  });
}

function nodeSelectorRequirement(r: JsonObject): Requirement | undefined {
  const key = str(r.key);
  const values = asArray(r.values).map(str);
  switch (r.operator) {
    case 'In':
      return { op: 'in', key, values };
    case 'NotIn':
      return { op: 'notin', key, values };
    case 'Exists':
      return { op: 'exists', key };
    case 'DoesNotExist':
      return { op: '!', key };
    case 'Gt':
      return { op: 'gt', key, value: Number(values[0]) };
    case 'Lt':
      return { op: 'lt', key, value: Number(values[0]) };
    default:
      return undefined;
  }
}

/** requiredDuringSchedulingIgnoredDuringExecution: terms ORed, expressions in a term ANDed. */
function matchesNodeAffinity(pod: KubeObject, node: KubeObject): boolean {
  const required = asObject(
    asObject(asObject(asObject(pod.spec).affinity).nodeAffinity),
  ).requiredDuringSchedulingIgnoredDuringExecution;
  if (!isObject(required)) return true;
  const fields = { 'metadata.name': node.metadata.name ?? '' };
  return asArray(required.nodeSelectorTerms)
    .filter(isObject)
    .some((term) => {
      const exprs = asArray(term.matchExpressions).filter(isObject);
      const fieldExprs = asArray(term.matchFields).filter(isObject);
      if (exprs.length === 0 && fieldExprs.length === 0) return false;
      const reqs = exprs.map(nodeSelectorRequirement);
      const freqs = fieldExprs.map(nodeSelectorRequirement);
      if (reqs.includes(undefined) || freqs.includes(undefined)) return false;
      return (
        matchesLabels(reqs as Requirement[], node.metadata.labels) &&
        matchesLabels(freqs as Requirement[], fields)
      );
    });
}

/** Why a node cannot take the pod (the scheduler plugin's reason), or undefined if it can. */
function unfit(pod: KubeObject, node: KubeObject): string | undefined {
  const spec = asObject(pod.spec);
  const nodeSpec = asObject(node.spec);
  const tolerations = asArray(spec.tolerations).filter(isObject);
  if (
    nodeSpec.unschedulable === true &&
    !tolerates(tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })
  ) {
    return 'node(s) were unschedulable';
  }
  const selector = stringMap(spec.nodeSelector);
  const labels = node.metadata.labels ?? {};
  if (
    Object.entries(selector).some(([k, v]) => labels[k] !== v) ||
    !matchesNodeAffinity(pod, node)
  ) {
    return "node(s) didn't match Pod's node affinity/selector";
  }
  // the node lifecycle controller taints a node whose Ready condition is not True
  const ready = asArray(asObject(node.status).conditions)
    .filter(isObject)
    .find((c) => c.type === 'Ready');
  const taints = asArray(nodeSpec.taints).filter(isObject);
  if (ready && ready.status !== 'True') {
    const key =
      ready.status === 'Unknown'
        ? 'node.kubernetes.io/unreachable'
        : 'node.kubernetes.io/not-ready';
    taints.push({ key, effect: 'NoSchedule' });
  }
  for (const taint of taints) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tolerates(tolerations, taint)) {
      return `node(s) had untolerated taint {${str(taint.key)}: ${str(taint.value)}}`;
    }
  }
  return undefined;
}

/** The FitError message: "0/3 nodes are available: 3 node(s) were unschedulable. preemption: …". */
function fitError(nodeCount: number, reasons: Map<string, number>): string {
  if (nodeCount === 0) return 'no nodes available to schedule pods';
  const parts = [...reasons.entries()].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${nodeCount} nodes are available: ${parts.join(', ')}. preemption: 0/${nodeCount} nodes are available: ${nodeCount} Preemption is not helpful for scheduling.`;
}

export class Scheduler {
  private readonly queue: WorkQueue;
  /** pods no node fitted: tried again when a Node changes */
  private readonly unschedulable = new Set<string>();

  constructor(
    private readonly api: KubeApi,
    private readonly log: (line: string) => void,
  ) {
    this.queue = new WorkQueue('scheduler', (key) => this.schedule(key), log);
    for (const pod of api.store.resource('pods').items.values())
      this.onChange('pods', 'ADDED', pod);
  }

  stop(): void {
    this.queue.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  onChange(resource: string, type: ChangeType, obj: KubeObject): void {
    if (resource === 'pods') {
      const key = podKey(obj);
      if (type !== 'DELETED' && needsScheduling(obj)) this.queue.add(key);
      else this.unschedulable.delete(key);
    } else if (resource === 'nodes') {
      for (const key of this.unschedulable) this.queue.add(key);
    }
  }

  private async schedule(key: string): Promise<boolean> {
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const pod = this.api.get('pods', ns, name);
    if (!pod || !needsScheduling(pod)) {
      this.unschedulable.delete(key);
      return true;
    }
    const nodes = [...this.api.store.resource('nodes').items.values()];
    const reasons = new Map<string, number>();
    const feasible: KubeObject[] = [];
    for (const node of nodes) {
      const why = unfit(pod, node);
      if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1);
      else feasible.push(node);
    }
    if (feasible.length === 0) {
      this.unschedulable.add(key);
      return this.markUnschedulable(pod, fitError(nodes.length, reasons));
    }
    const load = new Map<string, number>();
    for (const p of this.api.store.resource('pods').items.values()) {
      const n = str(asObject(p.spec).nodeName);
      if (n) load.set(n, (load.get(n) ?? 0) + 1);
    }
    feasible.sort(
      (a, b) =>
        (load.get(a.metadata.name ?? '') ?? 0) - (load.get(b.metadata.name ?? '') ?? 0) ||
        str(a.metadata.name).localeCompare(str(b.metadata.name)),
    );
    const target = feasible[0]?.metadata.name ?? '';
    const binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name, namespace: ns, uid: pod.metadata.uid },
      target: { kind: 'Node', name: target },
    };
    const res = await this.api.handle(
      this.api.internalRequest(
        'create',
        this.api.def('pods'),
        ns,
        name,
        binding,
        SCHEDULER_USER,
        SCHEDULER_UA,
        'binding',
      ),
    );
    this.unschedulable.delete(key);
    // 409: bound meanwhile (or being deleted); 404: gone. Both are done.
    if (res.status < 300 || res.status === 404 || res.status === 409) return true;
    this.log(`scheduler: bind ${key} to ${target}: ${res.status}`);
    return false;
  }

  /** PodScheduled=False/Unschedulable through pods/status, written only when it changes. */
  private async markUnschedulable(pod: KubeObject, message: string): Promise<boolean> {
    const conditions = asArray(asObject(pod.status).conditions).filter(isObject);
    const current = conditions.find((c) => c.type === 'PodScheduled');
    if (
      current?.status === 'False' &&
      current.reason === 'Unschedulable' &&
      current.message === message
    ) {
      return true;
    }
    const condition = {
      type: 'PodScheduled',
      status: 'False',
      lastProbeTime: null,
      lastTransitionTime:
        current?.status === 'False' ? (current.lastTransitionTime ?? nowRfc3339()) : nowRfc3339(),
      reason: 'Unschedulable',
      message,
    };
    const next = {
      ...pod,
      status: {
        ...asObject(pod.status),
        conditions: current
          ? conditions.map((c) => (c.type === 'PodScheduled' ? condition : c))
          : [...conditions, condition],
      },
    };
    const res = await this.api.handle(
      this.api.internalRequest(
        'update',
        this.api.def('pods'),
        pod.metadata.namespace ?? '',
        pod.metadata.name ?? '',
        next,
        SCHEDULER_USER,
        SCHEDULER_UA,
        'status',
      ),
    );
    if (res.status < 300 || res.status === 404) return true;
    if (res.status !== 409) this.log(`scheduler: status of ${podKey(pod)}: ${res.status}`);
    return false;
  }
}
