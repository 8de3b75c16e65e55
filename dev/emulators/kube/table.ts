// Server-side printing (meta.k8s.io/v1 Table) with the columns pkg/printers/internalversion
// defines, so `kubectl get` prints what it prints against a real cluster.
import { toCoreEvent } from './events.js';
import type { ResourceDef } from './resource-def.js';
import { apiVersionOf } from './resource-def.js';
import { asArray, asObject, isObject, stringMap, type KubeObject, str } from './util.js';

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

const col = (
  name: string,
  type: string,
  description: string,
  priority = 0,
  format = '',
): ColumnDefinition => ({
  name,
  type,
  format,
  description,
  priority,
});

const NAME_COL = col(
  'Name',
  'string',
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  0,
  'name',
);
const AGE_COL = col(
  'Age',
  'string',
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
);

/** duration.HumanDuration */
export function humanDuration(seconds: number): string {
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(seconds / 3600);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    const y = Math.floor(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function age(obj: KubeObject): string {
  const ts = obj.metadata.creationTimestamp;
  if (!ts) return '<unknown>';
  return humanDuration(Math.floor((Date.now() - Date.parse(ts)) / 1000));
}

function selectorString(sel: Record<string, string>): string {
  const keys = Object.keys(sel).sort();
  return keys.length ? keys.map((k) => `${k}=${sel[k]}`).join(',') : '<none>';
}

function serviceExternalIP(spec: Record<string, unknown>, status: Record<string, unknown>): string {
  const externalIPs = asArray(spec.externalIPs).map(String);
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const ingress = asArray(asObject(status.loadBalancer).ingress).filter(isObject);
      const lb = ingress.map((i) => str(i.ip || i.hostname || '')).filter(Boolean);
      const all = [...lb, ...externalIPs];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName ?? '');
    default:
      return '<unknown>';
  }
}

function servicePorts(spec: Record<string, unknown>): string {
  const ports = asArray(spec.ports).filter(isObject);
  if (!ports.length) return '<none>';
  return ports
    .map((p) =>
      p.nodePort
        ? `${str(p.port)}:${str(p.nodePort)}/${str(p.protocol)}`
        : `${str(p.port)}/${str(p.protocol)}`,
    )
    .join(',');
}

/** printPod (pkg/printers/internalversion): READY, STATUS and RESTARTS as kubectl shows them. */
function podCells(obj: KubeObject): unknown[] {
  const spec = asObject(obj.spec);
  const status = asObject(obj.status);
  const conditions = asArray(status.conditions).filter(isObject);
  const phase = str(status.phase ?? '');
  let reason = str(status.reason) || phase;
  if (conditions.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) {
    reason = 'SchedulingGated';
  }
  const initContainers = asArray(spec.initContainers).filter(isObject);
  const initStatuses = asArray(status.initContainerStatuses).filter(isObject);
  let restarts = 0;
  let initializing = false;
  initStatuses.forEach((c, i) => {
    if (initializing) return;
    restarts += Number(c.restartCount ?? 0);
    const state = asObject(c.state);
    const terminated = isObject(state.terminated) ? state.terminated : undefined;
    const waiting = isObject(state.waiting) ? state.waiting : undefined;
    const sidecar = initContainers.find((x) => x.name === c.name)?.restartPolicy === 'Always';
    if (terminated && terminated.exitCode === 0) return;
    if (sidecar && c.started === true) return;
    initializing = true;
    if (terminated) {
      reason = `Init:${
        str(terminated.reason) ||
        (terminated.signal
          ? `Signal:${str(terminated.signal)}`
          : `ExitCode:${str(terminated.exitCode)}`)
      }`;
    } else if (waiting && waiting.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initContainers.length}`;
    }
  });
  let ready = 0;
  const initialized = conditions.some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    let hasRunning = false;
    const statuses = asArray(status.containerStatuses).filter(isObject);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i] as Record<string, unknown>;
      restarts += Number(c.restartCount ?? 0);
      const state = asObject(c.state);
      const waiting = asObject(state.waiting);
      const terminated = isObject(state.terminated) ? state.terminated : undefined;
      if (waiting.reason) reason = str(waiting.reason);
      else if (terminated?.reason) reason = str(terminated.reason);
      else if (terminated) {
        reason = terminated.signal
          ? `Signal:${str(terminated.signal)}`
          : `ExitCode:${str(terminated.exitCode)}`;
      } else if (c.ready === true && isObject(state.running)) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const podReady = conditions.some((c) => c.type === 'Ready' && c.status === 'True');
      reason = podReady ? 'Running' : 'NotReady';
    }
  }
  if (obj.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (obj.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') {
    reason = 'Terminating';
  }
  const ips = asArray(status.podIPs).filter(isObject);
  const ip = str(ips[0]?.ip) || '<none>';
  const gates = asArray(spec.readinessGates).filter(isObject);
  let readinessGates = '<none>';
  if (gates.length) {
    const met = gates.filter((g) =>
      conditions.some((c) => c.type === g.conditionType && c.status === 'True'),
    ).length;
    readinessGates = `${met}/${gates.length}`;
  }
  return [
    obj.metadata.name,
    `${ready}/${asArray(spec.containers).length}`,
    reason,
    String(restarts),
    age(obj),
    ip,
    str(spec.nodeName) || '<none>',
    str(status.nominatedNodeName) || '<none>',
    readinessGates,
  ];
}

/** translateTimestampSince / translateMicroTimestampSince */
function since(ts: unknown): string {
  if (typeof ts !== 'string' || !ts) return '<unknown>';
  return humanDuration(Math.floor((Date.now() - Date.parse(ts)) / 1000));
}

/**
 * printEvent, for both versions of the one stored Event (the API server prints the internal
 * Event), with the cells of GenerateOptions{Wide: true} as the API server generates them.
 */
function eventCells(obj: KubeObject): unknown[] {
  const ev = obj.apiVersion === 'v1' ? obj : toCoreEvent(obj);
  const first = ev.firstTimestamp ? since(ev.firstTimestamp) : since(ev.eventTime);
  let last = ev.lastTimestamp ? since(ev.lastTimestamp) : first;
  let count = typeof ev.count === 'number' ? ev.count : 0;
  if (isObject(ev.series)) {
    last = since(ev.series.lastObservedTime);
    count = Number(ev.series.count ?? 0);
  } else if (count === 0) count = 1; // singleton events have no count in the new API
  const involved = asObject(ev.involvedObject);
  const kind = str(involved.kind ?? '').toLowerCase();
  const target = involved.name ? `${kind}/${str(involved.name)}` : kind;
  const source = asObject(ev.source);
  const component = str(source.component || ev.reportingComponent || '');
  const instance = str(source.host || ev.reportingInstance || '');
  return [
    last,
    ev.type ?? '',
    ev.reason ?? '',
    target,
    involved.fieldPath ?? '',
    instance ? `${component}, ${instance}` : component,
    str(ev.message ?? '').trim(),
    first,
    count,
    ev.metadata.name,
  ];
}

/** printIngress: CLASS, HOSTS (first 3), ADDRESS (sorted set, server-side printing is wide), PORTS. */
function ingressCells(obj: KubeObject): unknown[] {
  const spec = asObject(obj.spec);
  const className = typeof spec.ingressClassName === 'string' ? spec.ingressClassName : '<none>';
  const rules = asArray(spec.rules).filter(isObject);
  const hosts: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (hosts.length === 3) more = true;
    if (!more && typeof rule.host === 'string' && rule.host) hosts.push(rule.host);
  }
  let hostCell = hosts.length ? hosts.join(',') : '*';
  if (more) hostCell += ` + ${rules.length - 3} more...`;
  const lb = asArray(asObject(asObject(obj.status).loadBalancer).ingress).filter(isObject);
  const addrs = new Set<string>();
  for (const i of lb) {
    if (typeof i.ip === 'string' && i.ip) addrs.add(i.ip);
    else if (typeof i.hostname === 'string' && i.hostname) addrs.add(i.hostname);
  }
  const address = [...addrs].sort().join(',');
  const ports = asArray(spec.tls).length ? '80, 443' : '80';
  return [obj.metadata.name, className, hostCell, address, ports, age(obj)];
}

interface Printer {
  columns: ColumnDefinition[];
  cells(obj: KubeObject): unknown[];
}

const printers: Record<string, Printer> = {
  services: {
    columns: [
      NAME_COL,
      col('Type', 'string', 'The type of the service.'),
      col('Cluster-IP', 'string', 'The cluster IP address of the service.'),
      col('External-IP', 'string', 'The external IP address of the service.'),
      col('Port(s)', 'string', 'The ports the service exposes.'),
      AGE_COL,
      col(
        'Selector',
        'string',
        'Route service traffic to pods with label keys and values matching this selector.',
        1,
      ),
    ],
    cells(obj) {
      const spec = asObject(obj.spec);
      const clusterIP =
        typeof spec.clusterIP === 'string' && spec.clusterIP ? spec.clusterIP : '<none>';
      return [
        obj.metadata.name,
        spec.type,
        clusterIP,
        serviceExternalIP(spec, asObject(obj.status)),
        servicePorts(spec),
        age(obj),
        selectorString(stringMap(spec.selector)),
      ];
    },
  },
  namespaces: {
    columns: [NAME_COL, col('Status', 'string', 'The status of the namespace'), AGE_COL],
    cells: (obj) => [obj.metadata.name, asObject(obj.status).phase ?? '', age(obj)],
  },
  nodes: {
    columns: [
      NAME_COL,
      col('Status', 'string', 'The status of the node'),
      col('Roles', 'string', 'The roles of the node'),
      AGE_COL,
      col('Version', 'string', 'Kubelet Version reported by the node.'),
      col(
        'Internal-IP',
        'string',
        'List of addresses reachable to the node. Queried from cloud provider, if available.',
        1,
      ),
      col(
        'External-IP',
        'string',
        'List of addresses reachable to the node. Queried from cloud provider, if available.',
        1,
      ),
      col(
        'OS-Image',
        'string',
        'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
        1,
      ),
      col(
        'Kernel-Version',
        'string',
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        1,
      ),
      col(
        'Container-Runtime',
        'string',
        'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
        1,
      ),
    ],
    cells(obj) {
      const status = asObject(obj.status);
      const ready = asArray(status.conditions)
        .filter(isObject)
        .find((c) => c.type === 'Ready');
      const state = !ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : 'NotReady';
      const roles = Object.keys(obj.metadata.labels ?? {})
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .map((k) => k.slice('node-role.kubernetes.io/'.length))
        .sort();
      const addr = (type: string): string =>
        str(
          asArray(status.addresses)
            .filter(isObject)
            .find((a) => a.type === type)?.address ?? '<none>',
        );
      const info = asObject(status.nodeInfo);
      return [
        obj.metadata.name,
        asObject(obj.spec).unschedulable ? `${state},SchedulingDisabled` : state,
        roles.length ? roles.join(',') : '<none>',
        age(obj),
        info.kubeletVersion ?? '',
        addr('InternalIP'),
        addr('ExternalIP'),
        info.osImage ?? '<unknown>',
        info.kernelVersion ?? '<unknown>',
        info.containerRuntimeVersion ?? '<unknown>',
      ];
    },
  },
  pods: {
    columns: [
      NAME_COL,
      col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 'The aggregate status of the containers in this pod.'),
      col(
        'Restarts',
        'string',
        'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      ),
      AGE_COL,
      col(
        'IP',
        'string',
        'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
        1,
      ),
      col(
        'Node',
        'string',
        'Name of the Node this pod is running on. Empty if not scheduled yet.',
        1,
      ),
      col(
        'Nominated Node',
        'string',
        'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.',
        1,
      ),
      col(
        'Readiness Gates',
        'string',
        'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
        1,
      ),
    ],
    cells: podCells,
  },
  endpointslices: {
    columns: [
      NAME_COL,
      col('AddressType', 'string', 'The IP protocol for this slice'),
      col('Ports', 'string', 'The ports for this slice'),
      col('Endpoints', 'string', 'First 3 endpoints for this slice'),
      AGE_COL,
    ],
    cells(obj) {
      const ports = Array.isArray(obj.ports) ? obj.ports.filter(isObject) : undefined;
      const portStr = !ports
        ? '<unset>'
        : ports.length === 0
          ? '<unset>'
          : ports
              .map((p) => (p.port === undefined || p.port === null ? '<unset>' : str(p.port)))
              .join(',');
      const addrs = asArray(obj.endpoints)
        .filter(isObject)
        .flatMap((e) => asArray(e.addresses).map(String));
      let endpoints = '<none>';
      if (addrs.length) {
        endpoints = addrs.slice(0, 3).join(',');
        if (addrs.length > 3) endpoints += ` + ${addrs.length - 3} more...`;
      }
      return [obj.metadata.name, obj.addressType ?? '', portStr, endpoints, age(obj)];
    },
  },
  events: {
    columns: [
      col(
        'Last Seen',
        'string',
        'The time at which the most recent occurrence of this event was recorded.',
      ),
      col(
        'Type',
        'string',
        'Type of this event (Normal, Warning), new types could be added in the future',
      ),
      col(
        'Reason',
        'string',
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
      ),
      col('Object', 'string', 'The object that this event is about.'),
      col(
        'Subobject',
        'string',
        'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.',
        1,
      ),
      col(
        'Source',
        'string',
        'The component reporting this event. Should be a short machine understandable string.',
        1,
      ),
      col('Message', 'string', 'A human-readable description of the status of this operation.'),
      col(
        'First Seen',
        'string',
        'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)',
        1,
      ),
      col('Count', 'string', 'The number of times this event has occurred.', 1),
      { ...NAME_COL, priority: 1 },
    ],
    cells: eventCells,
  },
  ingresses: {
    columns: [
      NAME_COL,
      col(
        'Class',
        'string',
        'The name of the IngressClass resource that should be used by this Ingress',
      ),
      col(
        'Hosts',
        'string',
        'Hosts that incoming requests are matched against before the ingress rule',
      ),
      col('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
      col('Ports', 'string', 'Ports of TLS configurations that open'),
      AGE_COL,
    ],
    cells: ingressCells,
  },
  ingressclasses: {
    columns: [
      NAME_COL,
      col('Controller', 'string', 'Controller that is responsible for handling this class'),
      col('Parameters', 'string', 'A reference to a resource with additional parameters'),
      AGE_COL,
    ],
    cells(obj) {
      const spec = asObject(obj.spec);
      let parameters = '<none>';
      if (isObject(spec.parameters)) {
        const p = spec.parameters;
        parameters = str(p.kind);
        if (typeof p.apiGroup === 'string') parameters += `.${p.apiGroup}`;
        parameters += `/${str(p.name)}`;
      }
      return [obj.metadata.name, str(spec.controller), parameters, age(obj)];
    },
  },
  validatingwebhookconfigurations: {
    columns: [
      NAME_COL,
      col('Webhooks', 'integer', 'Webhooks indicates the number of webhooks in the configuration'),
      AGE_COL,
    ],
    cells: (obj) => [obj.metadata.name, asArray(obj.webhooks).length, age(obj)],
  },
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowObject(def: ResourceDef, obj: KubeObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return { kind: def.kind, apiVersion: apiVersionOf(def), ...obj };
  const meta = { ...obj.metadata };
  delete meta.managedFields;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: meta };
}

export function toTable(
  def: ResourceDef,
  objs: KubeObject[],
  listMeta: Record<string, unknown>,
  include: IncludeObject,
  withColumns = true,
): Record<string, unknown> {
  const printer = printers[def.resource];
  const columns = printer ? printer.columns : [NAME_COL, AGE_COL];
  const rows = objs.map((o) => {
    const row: Record<string, unknown> = {
      cells: printer ? printer.cells(o) : [o.metadata.name, age(o)],
    };
    const ro = rowObject(def, o, include);
    if (ro !== undefined) row.object = ro;
    return row;
  });
  const table: Record<string, unknown> = {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
  };
  if (withColumns) table.columnDefinitions = columns;
  table.rows = rows;
  return table;
}
