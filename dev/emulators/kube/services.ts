// Service defaulting, validation and ClusterIP / NodePort allocation, following
// pkg/apis/core/v1/defaults.go, pkg/apis/core/validation and pkg/registry/core/service.
import { fieldErr, internalError, invalid, type FieldError } from './status.js';
import {
  asArray,
  asObject,
  clone,
  deepEqual,
  isObject,
  type JsonObject,
  type KubeObject,
  str,
} from './util.js';
import {
  IP_MSG,
  isDNS1123Label,
  isDNS1123Subdomain,
  isIP,
  isIPv4,
  isValidPortNum,
  nameIsDNS1035Label,
  validateLabels,
  validateObjectMeta,
  validatePortNumOrName,
} from './validation.js';

export const SERVICE_CIDR = '10.96.0.0/12';
const CIDR_BASE = (10 << 24) | (96 << 16);
const CIDR_SIZE = 1 << 20;
/** kube-apiserver's default --service-node-port-range (KubeEmulatorOptions.serviceNodePortRange widens it) */
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;
export const DEFAULT_NODE_PORT_RANGE = `${NODE_PORT_MIN}-${NODE_PORT_MAX}`;

const SERVICE_GK = { group: '', kind: 'Service' };

const SPEC_ORDER = [
  'ports',
  'selector',
  'clusterIP',
  'clusterIPs',
  'type',
  'externalIPs',
  'sessionAffinity',
  'loadBalancerIP',
  'loadBalancerSourceRanges',
  'externalName',
  'externalTrafficPolicy',
  'healthCheckNodePort',
  'publishNotReadyAddresses',
  'sessionAffinityConfig',
  'ipFamilies',
  'ipFamilyPolicy',
  'allocateLoadBalancerNodePorts',
  'loadBalancerClass',
  'internalTrafficPolicy',
  'trafficDistribution',
];
const PORT_ORDER = ['name', 'protocol', 'appProtocol', 'port', 'targetPort', 'nodePort'];

function ordered(obj: JsonObject, order: string[]): JsonObject {
  const out: JsonObject = {};
  for (const k of order) if (obj[k] !== undefined) out[k] = obj[k];
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && !(k in out)) out[k] = v;
  return out;
}

function specOf(svc: KubeObject): JsonObject {
  if (!isObject(svc.spec)) svc.spec = {};
  return svc.spec as JsonObject;
}

function portsOf(spec: JsonObject): JsonObject[] {
  return asArray(spec.ports).filter(isObject);
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function externallyAccessible(spec: JsonObject): boolean {
  return (
    spec.type === 'LoadBalancer' ||
    spec.type === 'NodePort' ||
    (spec.type === 'ClusterIP' && asArray(spec.externalIPs).length > 0)
  );
}

function needsClusterIP(spec: JsonObject): boolean {
  return spec.type !== 'ExternalName';
}

function needsNodePort(spec: JsonObject): boolean {
  return spec.type === 'NodePort' || spec.type === 'LoadBalancer';
}

function shouldAllocateNodePorts(spec: JsonObject): boolean {
  if (spec.type === 'NodePort') return true;
  if (spec.type === 'LoadBalancer') return spec.allocateLoadBalancerNodePorts !== false;
  return false;
}

function needsHealthCheck(spec: JsonObject): boolean {
  return spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

function isHeadless(spec: JsonObject): boolean {
  return spec.clusterIP === 'None';
}

/** SetDefaults_Service (v1). */
export function defaultService(svc: KubeObject): void {
  const spec = specOf(svc);
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = asObject(spec.sessionAffinityConfig);
    const clientIP = asObject(cfg.clientIP);
    if (clientIP.timeoutSeconds === undefined) {
      spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
    }
  }
  if (!spec.type) spec.type = 'ClusterIP';
  if (Array.isArray(spec.ports)) {
    spec.ports = spec.ports.map((p: unknown) => {
      if (!isObject(p)) return p;
      const port: JsonObject = { ...p };
      if (!port.protocol) port.protocol = 'TCP';
      if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') {
        port.targetPort = port.port;
      }
      return ordered(port, PORT_ORDER);
    });
  }
  if (externallyAccessible(spec) && !spec.externalTrafficPolicy) {
    spec.externalTrafficPolicy = 'Cluster';
  }
  if (
    spec.internalTrafficPolicy === undefined &&
    (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || spec.type === 'ClusterIP')
  ) {
    spec.internalTrafficPolicy = 'Cluster';
  }
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) {
    spec.allocateLoadBalancerNodePorts = true;
  }
  if (spec.type === 'LoadBalancer' && isObject(svc.status)) {
    const lb = asObject(svc.status.loadBalancer);
    if (Array.isArray(lb.ingress)) {
      lb.ingress = lb.ingress.map((ing: unknown) =>
        isObject(ing) && ing.ip && ing.ipMode === undefined ? { ...ing, ipMode: 'VIP' } : ing,
      );
    }
  }
  normalizeClusterIPs(spec);
  svc.spec = ordered(spec, SPEC_ORDER);
}

function normalizeClusterIPs(spec: JsonObject): void {
  const ip = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
  const ips = asArray(spec.clusterIPs).map(String);
  if (ip && ips.length === 0) spec.clusterIPs = [ip];
  else if (!ip && ips.length > 0) spec.clusterIP = ips[0];
}

/** ValidateService (the parts clients meet in practice). */
export function validateService(svc: KubeObject): FieldError[] {
  const errs = validateObjectMeta(svc.metadata, nameIsDNS1035Label);
  const spec = specOf(svc);
  const types = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
  if (!types.includes(str(spec.type))) {
    errs.push(fieldErr.notSupported('spec.type', spec.type, types));
  }
  const ports = portsOf(spec);
  if (ports.length === 0 && !isHeadless(spec) && spec.type !== 'ExternalName') {
    errs.push(fieldErr.required('spec.ports'));
  }
  if (spec.type === 'ExternalName') {
    if (asArray(spec.clusterIPs).length > 0 || spec.clusterIP) {
      errs.push(fieldErr.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    }
    if (asArray(spec.ipFamilies).length > 0) {
      errs.push(fieldErr.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    }
    if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null) {
      errs.push(
        fieldErr.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'),
      );
    }
    const cname = str(spec.externalName ?? '').replace(/\.$/, '');
    if (cname) {
      for (const m of isDNS1123Subdomain(cname)) {
        errs.push(fieldErr.invalid('spec.externalName', cname, m));
      }
    } else {
      errs.push(fieldErr.required('spec.externalName'));
    }
  } else {
    const clusterIPs = asArray(spec.clusterIPs).map(String);
    clusterIPs.forEach((ip, i) => {
      if (ip !== 'None' && ip !== '' && !isIP(ip)) {
        errs.push(fieldErr.invalid(`spec.clusterIPs[${i}]`, ip, IP_MSG));
      }
    });
    if (spec.clusterIP && clusterIPs.length > 0 && clusterIPs[0] !== spec.clusterIP) {
      errs.push(
        fieldErr.invalid('spec.clusterIPs', clusterIPs, 'first value must match `clusterIP`'),
      );
    }
  }
  const requireName = ports.length > 1;
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const f = `spec.ports[${i}]`;
    const name = typeof p.name === 'string' ? p.name : '';
    if (requireName && !name) errs.push(fieldErr.required(`${f}.name`));
    else if (name) {
      for (const m of isDNS1123Label(name)) errs.push(fieldErr.invalid(`${f}.name`, name, m));
      if (names.has(name)) errs.push(fieldErr.duplicate(`${f}.name`, name));
      names.add(name);
    }
    for (const m of isValidPortNum(p.port)) errs.push(fieldErr.invalid(`${f}.port`, p.port, m));
    const protocols = ['SCTP', 'TCP', 'UDP'];
    if (!p.protocol) errs.push(fieldErr.required(`${f}.protocol`));
    else if (!protocols.includes(str(p.protocol))) {
      errs.push(fieldErr.notSupported(`${f}.protocol`, p.protocol, protocols));
    }
    errs.push(...validatePortNumOrName(p.targetPort, `${f}.targetPort`));
    if (spec.type === 'ClusterIP' && p.nodePort !== undefined && p.nodePort !== 0) {
      errs.push(fieldErr.forbidden(`${f}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
    }
    if (spec.type === 'ExternalName' && p.nodePort !== undefined && p.nodePort !== 0) {
      errs.push(
        fieldErr.forbidden(`${f}.nodePort`, "may not be used when `type` is 'ExternalName'"),
      );
    }
    const key = `${str(p.port)}/${str(p.protocol)}`;
    if (seen.has(key)) errs.push(fieldErr.duplicate(f, { port: p.port, protocol: p.protocol }));
    seen.add(key);
  });
  errs.push(...validateLabels(spec.selector, 'spec.selector'));
  const affinities = ['ClientIP', 'None'];
  if (!affinities.includes(str(spec.sessionAffinity))) {
    errs.push(fieldErr.notSupported('spec.sessionAffinity', spec.sessionAffinity, affinities));
  }
  asArray(spec.externalIPs).forEach((ip, i) => {
    if (typeof ip !== 'string' || !isIP(ip)) {
      errs.push(fieldErr.invalid(`spec.externalIPs[${i}]`, ip, IP_MSG));
    }
  });
  if (
    spec.externalTrafficPolicy !== undefined &&
    !['Cluster', 'Local'].includes(str(spec.externalTrafficPolicy))
  ) {
    errs.push(
      fieldErr.notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, [
        'Cluster',
        'Local',
      ]),
    );
  }
  return errs;
}

export function validateServiceUpdate(svc: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateService(svc);
  const spec = specOf(svc);
  const oldSpec = specOf(old);
  if (spec.type === 'ExternalName' || oldSpec.type === 'ExternalName') return errs;
  if (isHeadless(spec) && isHeadless(oldSpec)) return errs;
  const oldIPs = asArray(oldSpec.clusterIPs).map(String);
  const newIPs = asArray(spec.clusterIPs).map(String);
  if (oldIPs.length === newIPs.length) {
    oldIPs.forEach((ip, i) => {
      if (ip !== newIPs[i]) {
        errs.push(fieldErr.invalid(`spec.clusterIPs[${i}]`, newIPs, 'may not change once set'));
      }
    });
  } else if (oldIPs[0] !== newIPs[0]) {
    errs.push(fieldErr.invalid('spec.clusterIPs[0]', newIPs, 'may not change once set'));
  }
  return errs;
}

/** svcStrategy.PrepareForCreate: status is never taken from the client. */
export function prepareServiceForCreate(svc: KubeObject): void {
  svc.status = { loadBalancer: {} };
}

/** svcStrategy.PrepareForUpdate: status from the old object, allocated values patched in. */
export function prepareServiceForUpdate(svc: KubeObject, old: KubeObject): void {
  svc.status = clone(old.status ?? { loadBalancer: {} });
  const spec = specOf(svc);
  const oldSpec = specOf(old);
  // patchAllocatedValues: a PUT that omits clusterIP / nodePorts keeps the allocated ones
  if (needsClusterIP(oldSpec) && needsClusterIP(spec)) {
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if (asArray(spec.clusterIPs).length === 0 && asArray(oldSpec.clusterIPs).length > 0) {
      spec.clusterIPs = clone(oldSpec.clusterIPs);
    }
    if (spec.ipFamilyPolicy === undefined && oldSpec.ipFamilyPolicy !== undefined) {
      spec.ipFamilyPolicy = oldSpec.ipFamilyPolicy;
    }
    if (asArray(spec.ipFamilies).length === 0 && asArray(oldSpec.ipFamilies).length > 0) {
      spec.ipFamilies = clone(oldSpec.ipFamilies);
    }
  }
  if (needsNodePort(oldSpec) && needsNodePort(spec)) {
    const used = new Set<number>();
    const oldUsed = new Set(portsOf(oldSpec).map((p) => Number(p.nodePort ?? 0)));
    for (const p of portsOf(spec)) {
      const n = Number(p.nodePort ?? 0);
      if (n && oldUsed.has(n)) used.add(n);
    }
    const byName = new Map<string, number>();
    for (const p of portsOf(oldSpec)) byName.set(str(p.name ?? ''), Number(p.nodePort ?? 0));
    for (const p of portsOf(spec)) {
      if (p.nodePort) continue;
      const n = byName.get(str(p.name ?? ''));
      if (n && !used.has(n)) {
        p.nodePort = n;
        used.add(n);
      }
    }
    spec.ports = portsOf(spec).map((p) => ordered(p, PORT_ORDER));
  }
  if (needsHealthCheck(oldSpec) && needsHealthCheck(spec) && !spec.healthCheckNodePort) {
    spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
  }
  normalizeClusterIPs(spec);
  // dropTypeDependentFields
  if (needsClusterIP(oldSpec) && !needsClusterIP(spec)) {
    if (deepEqual(spec.clusterIPs, oldSpec.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (deepEqual(spec.ipFamilies, oldSpec.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === oldSpec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(oldSpec) && !needsNodePort(spec)) {
    const same = deepEqual(
      portsOf(spec).map((p) => p.nodePort ?? 0),
      portsOf(oldSpec).map((p) => p.nodePort ?? 0),
    );
    if (same) for (const p of portsOf(spec)) delete p.nodePort;
  }
  if (needsHealthCheck(oldSpec) && !needsHealthCheck(spec)) {
    if (spec.healthCheckNodePort === oldSpec.healthCheckNodePort) delete spec.healthCheckNodePort;
  }
  if (oldSpec.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts) {
      delete spec.allocateLoadBalancerNodePorts;
    }
  }
  if (externallyAccessible(oldSpec) && !externallyAccessible(spec)) {
    if (spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) {
      delete spec.externalTrafficPolicy;
    }
  }
  if (spec.type !== 'LoadBalancer') svc.status = { loadBalancer: {} };
  svc.spec = ordered(spec, SPEC_ORDER);
}

export interface Txn {
  commit(): void;
  revert(): void;
}

/** The ClusterIP (10.96.0.0/12) and NodePort (30000-32767) allocators of one API server. */
export class ServiceAllocators {
  private readonly ips = new Set<number>();
  private readonly ports = new Set<number>();
  private readonly portMin: number;
  private readonly portMax: number;

  constructor(nodePortRange = DEFAULT_NODE_PORT_RANGE) {
    const m = /^(\d+)-(\d+)$/.exec(nodePortRange);
    const min = Number(m?.[1]);
    const max = Number(m?.[2]);
    if (!m || min < 1 || max > 65535 || min > max) {
      throw new Error(
        `invalid service node port range ${JSON.stringify(nodePortRange)} (want e.g. 30000-32767)`,
      );
    }
    this.portMin = min;
    this.portMax = max;
  }

  private ipError(svc: KubeObject, ip: string, reason: string): never {
    const spec = specOf(svc);
    throw invalid(SERVICE_GK, svc.metadata.name ?? '', [
      fieldErr.invalid(
        'spec.clusterIPs',
        asArray(spec.clusterIPs).map(String),
        `failed to allocate IP ${ip}: ${reason}`,
      ),
    ]);
  }

  private allocIP(svc: KubeObject, requested: string, dryRun: boolean, taken: number[]): string {
    if (requested) {
      if (!isIPv4(requested)) {
        if (isIP(requested)) {
          throw invalid(SERVICE_GK, svc.metadata.name ?? '', [
            fieldErr.invalid(
              'spec.clusterIPs[0]',
              asArray(specOf(svc).clusterIPs),
              'IPv6 is not configured on this cluster',
            ),
          ]);
        }
        return requested; // validation reports the malformed address
      }
      const n = ipToInt(requested);
      const offset = n - (CIDR_BASE >>> 0);
      if (offset <= 0 || offset >= CIDR_SIZE - 1) {
        this.ipError(
          svc,
          requested,
          `the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${SERVICE_CIDR}`,
        );
      }
      if (this.ips.has(n)) this.ipError(svc, requested, 'provided IP is already allocated');
      if (!dryRun) {
        this.ips.add(n);
        taken.push(n);
      }
      return requested;
    }
    for (let attempt = 0; attempt < 1000; attempt++) {
      // the dynamic band (upper part of the range), like the real allocator prefers
      const offset = 16 + Math.floor(Math.random() * (CIDR_SIZE - 18));
      const n = ((CIDR_BASE >>> 0) + offset) >>> 0;
      if (this.ips.has(n)) continue;
      if (!dryRun) {
        this.ips.add(n);
        taken.push(n);
      }
      return intToIp(n);
    }
    throw internalError('failed to allocate a serviceIP: range is full');
  }

  private allocPort(
    svc: KubeObject,
    requested: number,
    field: string,
    dryRun: boolean,
    taken: number[],
  ): number {
    if (requested) {
      if (requested < this.portMin || requested > this.portMax) {
        throw invalid(SERVICE_GK, svc.metadata.name ?? '', [
          fieldErr.invalid(
            field,
            requested,
            `provided port is not in the valid range. The range of valid ports is ${this.portMin}-${this.portMax}`,
          ),
        ]);
      }
      if (this.ports.has(requested)) {
        throw invalid(SERVICE_GK, svc.metadata.name ?? '', [
          fieldErr.invalid(field, requested, 'provided port is already allocated'),
        ]);
      }
      if (!dryRun) {
        this.ports.add(requested);
        taken.push(requested);
      }
      return requested;
    }
    const span = this.portMax - this.portMin + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const p = this.portMin + ((start + i) % span);
      if (this.ports.has(p) || taken.includes(p)) continue;
      if (!dryRun) {
        this.ports.add(p);
        taken.push(p);
      }
      return p;
    }
    throw internalError('failed to allocate a nodePort: range is full');
  }

  private txn(takenIPs: number[], takenPorts: number[], onCommit: () => void = () => {}): Txn {
    return {
      commit: onCommit,
      revert: () => {
        for (const n of takenIPs) this.ips.delete(n);
        for (const p of takenPorts) this.ports.delete(p);
      },
    };
  }

  private initFamilies(svc: KubeObject): void {
    const spec = specOf(svc);
    if (spec.type === 'ExternalName') return;
    if (spec.ipFamilyPolicy === undefined) {
      spec.ipFamilyPolicy =
        isHeadless(spec) && Object.keys(asObject(spec.selector)).length === 0
          ? 'RequireDualStack'
          : 'SingleStack';
    }
    const families = asArray(spec.ipFamilies).map(String);
    const errs: FieldError[] = [];
    families.forEach((f, i) => {
      if (f !== 'IPv4' && !(isHeadless(spec) && spec.ipFamilyPolicy !== 'SingleStack')) {
        errs.push(fieldErr.invalid(`spec.ipFamilies[${i}]`, f, 'not configured on this cluster'));
      }
    });
    if (
      spec.ipFamilyPolicy === 'RequireDualStack' &&
      !(isHeadless(spec) && Object.keys(asObject(spec.selector)).length === 0)
    ) {
      errs.push(
        fieldErr.invalid(
          'spec.ipFamilyPolicy',
          spec.ipFamilyPolicy,
          'this cluster is not configured for dual-stack services',
        ),
      );
    }
    if (errs.length) throw invalid(SERVICE_GK, svc.metadata.name ?? '', errs);
    if (families.length === 0) families.push('IPv4');
    if (
      isHeadless(spec) &&
      Object.keys(asObject(spec.selector)).length === 0 &&
      spec.ipFamilyPolicy !== 'SingleStack' &&
      families.length < 2
    ) {
      families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
    }
    spec.ipFamilies = families;
  }

  allocateCreate(svc: KubeObject, dryRun: boolean): Txn {
    const spec = specOf(svc);
    const ips: number[] = [];
    const ports: number[] = [];
    try {
      this.initFamilies(svc);
      if (needsClusterIP(spec) && !isHeadless(spec)) {
        const ip = this.allocIP(svc, str(spec.clusterIP ?? ''), dryRun, ips);
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
      } else if (isHeadless(spec)) {
        spec.clusterIPs = ['None'];
      }
      this.allocNodePorts(svc, undefined, dryRun, ports);
    } catch (e) {
      this.txn(ips, ports).revert();
      throw e;
    }
    svc.spec = ordered(spec, SPEC_ORDER);
    return this.txn(ips, ports);
  }

  private allocNodePorts(
    svc: KubeObject,
    old: KubeObject | undefined,
    dryRun: boolean,
    taken: number[],
  ): void {
    const spec = specOf(svc);
    const oldPorts = new Set(
      old
        ? portsOf(specOf(old))
            .map((p) => Number(p.nodePort ?? 0))
            .filter((n) => n > 0)
        : [],
    );
    if (old) {
      const oldSpec = specOf(old);
      if (oldSpec.healthCheckNodePort) oldPorts.add(Number(oldSpec.healthCheckNodePort));
    }
    if (needsNodePort(spec)) {
      const byPort = new Map<number, number>();
      portsOf(spec).forEach((p, i) => {
        const requested = Number(p.nodePort ?? 0);
        if (!requested && !shouldAllocateNodePorts(spec)) return;
        const same = byPort.get(Number(p.port));
        if (requested) {
          if (!oldPorts.has(requested) && !taken.includes(requested) && same !== requested) {
            this.allocPort(svc, requested, `spec.ports[${i}].nodePort`, dryRun, taken);
          }
          byPort.set(Number(p.port), requested);
        } else if (same) {
          p.nodePort = same;
        } else {
          p.nodePort = this.allocPort(svc, 0, `spec.ports[${i}].nodePort`, dryRun, taken);
          byPort.set(Number(p.port), p.nodePort as number);
        }
      });
      spec.ports = portsOf(spec).map((p) => ordered(p, PORT_ORDER));
    }
    if (needsHealthCheck(spec)) {
      const requested = Number(spec.healthCheckNodePort ?? 0);
      if (!requested) {
        spec.healthCheckNodePort = this.allocPort(
          svc,
          0,
          'spec.healthCheckNodePort',
          dryRun,
          taken,
        );
      } else if (!oldPorts.has(requested)) {
        this.allocPort(svc, requested, 'spec.healthCheckNodePort', dryRun, taken);
      }
    }
  }

  allocateUpdate(svc: KubeObject, old: KubeObject, dryRun: boolean): Txn {
    const spec = specOf(svc);
    const oldSpec = specOf(old);
    const ips: number[] = [];
    const ports: number[] = [];
    try {
      this.initFamilies(svc);
      if (oldSpec.type === 'ExternalName' && needsClusterIP(spec) && !isHeadless(spec)) {
        const ip = this.allocIP(svc, str(spec.clusterIP ?? ''), dryRun, ips);
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
      }
      this.allocNodePorts(svc, old, dryRun, ports);
    } catch (e) {
      this.txn(ips, ports).revert();
      throw e;
    }
    svc.spec = ordered(spec, SPEC_ORDER);
    return this.txn(ips, ports, () => {
      if (dryRun) return;
      // release what the new object no longer holds
      const held = this.held(svc);
      for (const n of this.held(old).ips) if (!held.ips.includes(n)) this.ips.delete(n);
      for (const p of this.held(old).ports) if (!held.ports.includes(p)) this.ports.delete(p);
    });
  }

  private held(svc: KubeObject): { ips: number[]; ports: number[] } {
    const spec = specOf(svc);
    const ips = asArray(spec.clusterIPs)
      .map(String)
      .filter((ip) => isIPv4(ip))
      .map(ipToInt);
    const ports = portsOf(spec)
      .map((p) => Number(p.nodePort ?? 0))
      .filter((n) => n > 0);
    if (spec.healthCheckNodePort) ports.push(Number(spec.healthCheckNodePort));
    return { ips, ports };
  }

  release(svc: KubeObject): void {
    const held = this.held(svc);
    for (const n of held.ips) this.ips.delete(n);
    for (const p of held.ports) this.ports.delete(p);
  }

  /** Reserve what a seeded object already carries (allocating what it lacks). */
  reserve(svc: KubeObject): void {
    this.allocateCreate(svc, false).commit();
  }
}
