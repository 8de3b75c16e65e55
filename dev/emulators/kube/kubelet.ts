// The kubelets of the emulated cluster: one stands behind every Node object and runs the pods
// bound to it (spec.nodeName), reporting through pods/status what a real kubelet reports once the
// containers started: phase Running, hostIP, a pod IP from the node's pod CIDR (spec.podCIDR),
// containerStatuses running and ready, and the PodReadyToStartContainers, Initialized, Ready,
// ContainersReady and PodScheduled conditions. Containers have no processes and so no probes:
// they are ready once started. A pod is Ready when its containers are and every readiness gate
// (spec.readinessGates) has a True condition, as the kubelet computes it: setting a gate's
// condition through the status subresource is how a pod is made (not) ready, e.g.
//
//   kubectl patch pod web --subresource=status --type=strategic \
//     -p '{"status":{"conditions":[{"type":"example.com/ready","status":"False"}]}}'
//
// A pod bound to a name no Node has is left as it is (no kubelet would see it), and a pod created
// with a podIP keeps it (the emulator keeps a status given at creation).
import { createHash } from 'node:crypto';
import type { KubeApi } from './api.js';
import {
  asArray,
  asObject,
  deepEqual,
  isObject,
  nowRfc3339,
  orderKeys,
  str,
  type JsonObject,
  type KubeObject,
  type UserInfo,
} from './util.js';
import { WorkQueue } from './workqueue.js';

const KUBELET_UA = 'kubelet/v1.32.4 (linux/amd64) kubernetes/59526cd';

function kubeletUser(node: string): UserInfo {
  return { username: `system:node:${node}`, groups: ['system:nodes', 'system:authenticated'] };
}

/** Conditions the kubelet owns, in the order it writes them; others (readiness gates) stay. */
const KUBELET_CONDITIONS = [
  'PodReadyToStartContainers',
  'Initialized',
  'Ready',
  'ContainersReady',
  'PodScheduled',
];
const POD_STATUS_ORDER = [
  'phase',
  'conditions',
  'message',
  'reason',
  'nominatedNodeName',
  'hostIP',
  'hostIPs',
  'podIP',
  'podIPs',
  'startTime',
  'initContainerStatuses',
  'containerStatuses',
  'qosClass',
];

type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The image reference as containerd reports it: registry, repository and tag spelled out. */
export function normalizeImage(image: string): { image: string; repository: string } {
  const at = image.indexOf('@');
  const nameTag = at >= 0 ? image.slice(0, at) : image;
  const slash = nameTag.indexOf('/');
  const first = slash >= 0 ? nameTag.slice(0, slash) : '';
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  let repository = nameTag;
  if (!hasRegistry) repository = `docker.io/${slash >= 0 ? nameTag : `library/${nameTag}`}`;
  const lastPart = repository.slice(repository.lastIndexOf('/') + 1);
  const tagAt = lastPart.lastIndexOf(':');
  const bare =
    tagAt >= 0 ? repository.slice(0, repository.length - lastPart.length + tagAt) : repository;
  if (at >= 0) return { image: `${bare}${image.slice(at)}`, repository: bare };
  return { image: tagAt >= 0 ? repository : `${repository}:latest`, repository: bare };
}

/** v1 qos.GetPodQOS for cpu and memory. */
function qosClass(spec: JsonObject): string {
  const containers = [...asArray(spec.containers), ...asArray(spec.initContainers)].filter(
    isObject,
  );
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const res = asObject(c.resources);
    const limits = asObject(res.limits);
    const requests = { ...limits, ...asObject(res.requests) };
    for (const r of ['cpu', 'memory']) {
      if (limits[r] !== undefined || requests[r] !== undefined) any = true;
      if (limits[r] === undefined || str(requests[r]) !== str(limits[r])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function ipv4ToInt(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The node's IPv4 pod CIDR as [first host, last host], or undefined. */
function podRange(node: KubeObject): [number, number] | undefined {
  const spec = asObject(node.spec);
  const cidrs = [...asArray(spec.podCIDRs).map(str), str(spec.podCIDR)].filter(Boolean);
  for (const cidr of cidrs) {
    const [addr, bits] = cidr.split('/');
    const base = ipv4ToInt(addr ?? '');
    const len = Number(bits);
    if (base === undefined || !Number.isInteger(len) || len < 8 || len > 30) continue;
    const size = 2 ** (32 - len);
    const network = base - (base % size);
    // .0 is the network, .1 the bridge's gateway (as with the usual CNI plugins), last broadcast
    return [network + 2, network + size - 2];
  }
  return undefined;
}

function hostIP(node: KubeObject): string {
  const addrs = asArray(asObject(node.status).addresses).filter(isObject);
  const pick =
    addrs.find((a) => a.type === 'InternalIP') ??
    addrs.find((a) => a.type === 'ExternalIP') ??
    addrs.find((a) => ipv4ToInt(str(a.address)) !== undefined);
  return str(pick?.address);
}

export class Kubelets {
  private readonly queue: WorkQueue;

  constructor(
    private readonly api: KubeApi,
    private readonly log: (line: string) => void,
  ) {
    this.queue = new WorkQueue('kubelet', (key) => this.sync(key), log);
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
      if (type !== 'DELETED' && str(asObject(obj.spec).nodeName)) {
        this.queue.add(`${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`);
      }
    } else if (resource === 'nodes' && type !== 'DELETED') {
      // a kubelet that registers (or gets its pod CIDR) starts the pods already bound to it
      const name = obj.metadata.name ?? '';
      for (const pod of this.api.store.resource('pods').items.values()) {
        if (asObject(pod.spec).nodeName === name) {
          this.queue.add(`${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`);
        }
      }
    }
  }

  private async sync(key: string): Promise<boolean> {
    const slash = key.indexOf('/');
    const pod = this.api.get('pods', key.slice(0, slash), key.slice(slash + 1));
    if (!pod || pod.metadata.deletionTimestamp) return true;
    const nodeName = str(asObject(pod.spec).nodeName);
    const node = nodeName ? this.api.get('nodes', undefined, nodeName) : undefined;
    if (!node) return true;
    const phase = asObject(pod.status).phase;
    if (phase === 'Succeeded' || phase === 'Failed') return true;
    const status = this.desiredStatus(pod, node);
    if (!status || deepEqual(status, pod.status)) return true;
    const res = await this.api.handle(
      this.api.internalRequest(
        'update',
        this.api.def('pods'),
        pod.metadata.namespace ?? '',
        pod.metadata.name ?? '',
        { ...pod, status },
        kubeletUser(nodeName),
        KUBELET_UA,
        'status',
      ),
    );
    if (res.status < 300 || res.status === 404) return true;
    // 409: the pod changed meanwhile; its MODIFIED event queued it again
    if (res.status !== 409) this.log(`kubelet ${nodeName}: status of ${key}: ${res.status}`);
    return false;
  }

  /** A free address in the node's pod CIDR (unique in the cluster), or undefined. */
  private allocate(node: KubeObject, pod: KubeObject): string | undefined {
    const range = podRange(node);
    if (!range) return undefined;
    const used = new Set<string>();
    for (const p of this.api.store.resource('pods').items.values()) {
      if (p.metadata.uid === pod.metadata.uid) continue;
      const ip = str(asObject(p.status).podIP);
      if (ip) used.add(ip);
    }
    for (let n = range[0]; n <= range[1]; n++) {
      const ip = intToIpv4(n);
      if (!used.has(ip)) return ip;
    }
    return undefined;
  }

  /** The status the kubelet reports for a started pod; undefined while it cannot start it. */
  private desiredStatus(pod: KubeObject, node: KubeObject): JsonObject | undefined {
    const now = nowRfc3339();
    const old = asObject(pod.status);
    const spec = asObject(pod.spec);
    const host = hostIP(node);
    let podIP = str(old.podIP);
    if (!podIP) podIP = spec.hostNetwork === true ? host : (this.allocate(node, pod) ?? '');
    if (!podIP) return undefined; // no pod CIDR on the node yet: the network is not ready
    const oldConditions = asArray(old.conditions).filter(isObject);
    const condition = (type: string, status: string, reason = '', message = ''): JsonObject => {
      const prev = oldConditions.find((c) => c.type === type);
      const c: JsonObject = {
        type,
        status,
        lastProbeTime: null,
        lastTransitionTime:
          prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now,
      };
      if (reason) c.reason = reason;
      if (message) c.message = message;
      return c;
    };
    // GeneratePodReadyCondition: containers are ready, so the readiness gates decide
    const unready: string[] = [];
    for (const gate of asArray(spec.readinessGates).filter(isObject)) {
      const type = str(gate.conditionType);
      const c = oldConditions.find((x) => x.type === type);
      if (!c)
        unready.push(`corresponding condition of pod readiness gate "${type}" does not exist.`);
      else if (c.status !== 'True') {
        unready.push(
          `the status of pod readiness gate "${type}" is not "True", but ${str(c.status)}`,
        );
      }
    }
    const ready = unready.length
      ? condition('Ready', 'False', 'ReadinessGatesNotReady', unready.join(', '))
      : condition('Ready', 'True');
    const scheduled = oldConditions.find((c) => c.type === 'PodScheduled' && c.status === 'True');
    const conditions = [
      ...oldConditions.filter((c) => !KUBELET_CONDITIONS.includes(str(c.type))),
      condition('PodReadyToStartContainers', 'True'),
      condition('Initialized', 'True'),
      ready,
      condition('ContainersReady', 'True'),
      scheduled ?? condition('PodScheduled', 'True'),
    ];
    const startTime = str(old.startTime) || now;
    const previous = [
      ...asArray(old.containerStatuses),
      ...asArray(old.initContainerStatuses),
    ].filter(isObject);
    const containerStatus = (c: JsonObject, init: boolean): JsonObject => {
      const name = str(c.name);
      const prev = previous.find((s) => s.name === name);
      const containerID =
        str(prev?.containerID) || `containerd://${sha256(`${pod.metadata.uid ?? ''}/${name}`)}`;
      const { image, repository } = normalizeImage(str(c.image));
      const imageID = str(prev?.imageID) || `${repository}@sha256:${sha256(image)}`;
      const prevState = asObject(prev?.state);
      const startedAt =
        str(asObject(prevState.running).startedAt) ||
        str(asObject(prevState.terminated).startedAt) ||
        startTime;
      // a regular init container ran to completion; a sidecar (restartPolicy Always) runs on
      const completed = init && c.restartPolicy !== 'Always';
      const state = completed
        ? {
            terminated: {
              exitCode: 0,
              reason: 'Completed',
              startedAt,
              finishedAt: str(asObject(prevState.terminated).finishedAt) || startedAt,
              containerID,
            },
          }
        : { running: { startedAt } };
      return {
        name,
        state,
        lastState: {},
        ready: true,
        restartCount: 0,
        image,
        imageID,
        containerID,
        started: !completed,
      };
    };
    const status: JsonObject = {
      ...old,
      phase: 'Running',
      conditions,
      hostIP: host || undefined,
      hostIPs: host ? [{ ip: host }] : undefined,
      podIP,
      podIPs: [{ ip: podIP }],
      startTime,
      initContainerStatuses: asArray(spec.initContainers).length
        ? asArray(spec.initContainers)
            .filter(isObject)
            .map((c) => containerStatus(c, true))
        : undefined,
      containerStatuses: asArray(spec.containers)
        .filter(isObject)
        .map((c) => containerStatus(c, false)),
      qosClass: str(old.qosClass) || qosClass(spec),
    };
    delete status.reason;
    delete status.message;
    return orderKeys(status, POD_STATUS_ORDER);
  }
}
