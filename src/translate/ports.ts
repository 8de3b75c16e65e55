// Which port an instance is registered with (docs/reference.md "Kubernetes → Consul" port): the service-port annotation or
// the first port, and the port reachable at an instance's address for each service port.
import { ANNOTATION_SERVICE_PORT } from './keys.js';
import { safePort, stringField } from './accessors.js';
import type { Instance } from './instances.js';
import type { ServicePort } from './types.js';
import { quote } from './warnings.js';

export type DefaultPort =
  { kind: 'number'; port: number } | { kind: 'port'; port: ServicePort } | null;

/**
 * service-port annotation: digits are a port number used as Port exactly (1–65535; Kubernetes
 * port names always contain a letter, so digits can never be a name); anything else names a
 * port. Not in docs/reference.md: an out-of-range number warns and falls back to the first port.
 */
export function chooseDefaultPort(
  annotations: Record<string, unknown>,
  serviceName: string,
  ports: readonly ServicePort[],
  warnings: string[],
): DefaultPort {
  const first: DefaultPort = ports[0] === undefined ? null : { kind: 'port', port: ports[0] };
  const raw = stringField(annotations, ANNOTATION_SERVICE_PORT);
  if (raw === undefined) return first;
  const fallback = (): string =>
    ports[0] === undefined
      ? 'port 0 (the service has no ports)'
      : ports[0].name
        ? quote(ports[0].name)
        : `port ${String(safePort(ports[0].port))}`;
  if (/^[0-9]+$/.test(raw)) {
    const n = Number(raw);
    if (n >= 1 && n <= 65535) return { kind: 'number', port: n };
    warnings.push(`service-port ${quote(raw)} is not a port number (1-65535); using ${fallback()}`);
    return first;
  }
  const named = ports.find((p) => p.name === raw);
  if (named) return { kind: 'port', port: named };
  warnings.push(`service-port ${quote(raw)} names no port of ${serviceName}; using ${fallback()}`);
  return first;
}

/** No ports at all → Port 0 (Consul accepts it; the instance is still discoverable by address). */
export function defaultPortValue(choice: DefaultPort, inst: Instance): number {
  // An Ingress rule's instance is reached at the Ingress's port, whatever the annotation says.
  if (inst.kind === 'ingressRule') return inst.port;
  if (choice === null) return 0;
  if (choice.kind === 'number') return choice.port;
  return reachablePort(choice.port, inst);
}

/**
 * consul-k8s's `port-<name>` value (--port-meta=service-port): the Service's `port`, or for a
 * NodePort instance its `nodePort` (the `port` while none is allocated), whatever port the
 * instance's address serves (an endpoint's target port, an Ingress's 80 or 443).
 */
export function consulK8sPortMeta(p: ServicePort, inst: Instance): number {
  if (inst.kind === 'nodePort' && safePort(p.nodePort) > 0) return safePort(p.nodePort);
  return safePort(p.port);
}

/** The port reachable at the instance's Address for one service port. */
export function reachablePort(p: ServicePort, inst: Instance): number {
  switch (inst.kind) {
    case 'ingressRule':
      // Through the Ingress, only its own port (80 or 443) is reachable at the address.
      return inst.port;
    case 'service':
      return safePort(p.port);
    case 'nodePort':
      // consul-k8s falls back to `port` while the nodePort is not allocated yet.
      return safePort(p.nodePort) > 0 ? safePort(p.nodePort) : safePort(p.port);
    case 'endpoint': {
      const wanted = p.name ?? '';
      const match = inst.slicePorts.find((sp) => (sp.name ?? '') === wanted);
      if (match && safePort(match.port) > 0) return safePort(match.port);
      // Not in docs/reference.md: a slice without the port (or one that does not restrict ports) → the
      // numeric targetPort, else the service port (Kubernetes' default targetPort).
      if (typeof p.targetPort === 'number' && safePort(p.targetPort) > 0) return p.targetPort;
      return safePort(p.port);
    }
  }
}
