// Plain data shapes shared by translate/, plan/ and the edges. The Kubernetes ones are structural
// subsets of the API objects (so a @kubernetes/client-node object or a raw JSON body both fit);
// the Consul ones are our own normalized view of a registration.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: {
    apiVersion?: string;
    kind?: string;
    name?: string;
    uid?: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }[];
}

export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
}

export interface Service {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    type?: string;
    ports?: ServicePort[];
    selector?: Record<string, string>;
    clusterIP?: string;
    externalIPs?: string[];
    externalName?: string;
  };
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
}

export interface EndpointConditions {
  ready?: boolean | null;
  serving?: boolean | null;
  terminating?: boolean | null;
}

export interface Endpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  nodeName?: string;
  targetRef?: { kind?: string; name?: string; namespace?: string };
  zone?: string;
}

export interface EndpointPort {
  name?: string;
  port?: number;
  protocol?: string;
}

export interface EndpointSlice {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  addressType?: string;
  endpoints?: Endpoint[] | null;
  ports?: EndpointPort[] | null;
}

/** networking.k8s.io/v1 Ingress: the fields the Ingress sync reads (docs/reference.md "Ingress"). */
export interface IngressBackend {
  service?: { name?: string; port?: { number?: number; name?: string } };
  resource?: { apiGroup?: string; kind?: string; name?: string };
}

export interface IngressPath {
  path?: string;
  pathType?: string;
  backend?: IngressBackend;
}

export interface IngressRule {
  host?: string;
  http?: { paths?: IngressPath[] | null } | null;
}

export interface Ingress {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta & { deletionTimestamp?: string };
  spec?: {
    ingressClassName?: string;
    defaultBackend?: IngressBackend;
    rules?: IngressRule[] | null;
    tls?: { hosts?: string[] | null; secretName?: string }[] | null;
  };
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] | null } };
}

export interface NodeAddress {
  type: string;
  address: string;
}

export interface Node {
  metadata?: ObjectMeta;
  status?: { addresses?: NodeAddress[] };
}

/** Identifies one Kubernetes service. */
export interface ServiceRef {
  namespace: string;
  name: string;
}

export type CheckStatus = 'passing' | 'warning' | 'critical';

/** The readiness check attached to an endpoint-derived instance. */
export interface RegistrationCheck {
  checkId: string;
  name: string;
  status: CheckStatus;
  output?: string;
  /** Consul's ModifyIndex of the check, when read from Consul (check-and-set writes). */
  modifyIndex?: number;
}

/**
 * One Consul service instance on the sync node, as we desire it or as it is. Field names follow
 * the Consul catalog (ID, Service, Address, ...) in camelCase; `node` is the Consul node.
 */
export interface Registration {
  node: string;
  id: string;
  service: string;
  address: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  weights: { passing: number; warning: number };
  check?: RegistrationCheck;
  /** Consul's ModifyIndex of the service instance, when read from Consul (check-and-set writes). */
  modifyIndex?: number;
  /**
   * The Consul namespace (Enterprise, --enable-namespaces); absent when namespaces are off. Part
   * of the instance's identity with node and ID.
   */
  namespace?: string;
}

/** Settings of the Kubernetes → Consul translation (the subset of Config it reads). */
export interface ToConsulSettings {
  syncId: string;
  consulNodeName: string;
  consulK8sTag: string;
  consulServicePrefix: string;
  addK8sNamespaceSuffix: boolean;
  k8sDefaultSync: boolean;
  allowK8sNamespaces: readonly string[];
  denyK8sNamespaces: readonly string[];
  syncClusterIPServices: boolean;
  syncLBServicesEndpoints: boolean;
  nodePortSyncType: 'ExternalOnly' | 'ExternalFirst' | 'InternalOnly';
  /**
   * --port-meta: what `port-<name>` holds. reachable (absent): the port reachable at the
   * instance's address; service-port: consul-k8s's value, the Service's `port` (a NodePort
   * instance's `nodePort`), whatever port the address serves.
   */
  portMeta?: 'reachable' | 'service-port';
  /**
   * Most instances registered for one Kubernetes service (absent or 0: no limit); the first
   * ones in the source's order are kept.
   */
  maxInstancesPerService?: number;
  /**
   * --enable-ingress: a Service named by an Ingress rule's `/` path is registered once, at the
   * rule's host (docs/reference.md "Ingress"). Absent: false.
   */
  enableIngress?: boolean;
  /** --loadBalancer-ips: the Ingress's first load balancer IP instead of the rule's host. */
  loadBalancerIPs?: boolean;
  /** --enable-namespaces (Consul Enterprise; docs/reference.md "Consul namespaces"). Absent: false. */
  enableNamespaces?: boolean;
  /** --consul-destination-namespace (absent: default). */
  consulDestinationNamespace?: string;
  /** --enable-k8s-namespace-mirroring: Consul namespace = prefix + Kubernetes namespace. */
  enableK8sNamespaceMirroring?: boolean;
  /** --k8s-namespace-mirroring-prefix. */
  k8sNamespaceMirroringPrefix?: string;
}

export type ConsulToK8sMode = 'externalname' | 'endpoints';
export type ConsulToK8sServiceType = 'Headless' | 'ClusterIP';

/** Settings of the Consul → Kubernetes translation. */
export interface ToK8sSettings {
  consulK8sTag: string;
  k8sServicePrefix: string;
  k8sWriteNamespace: string;
  consulDomain: string;
  /** --consul-to-k8s-mode (absent: externalname). */
  consulToK8sMode?: ConsulToK8sMode;
  /** --consul-to-k8s-service-type, endpoints mode only (absent: Headless). */
  consulToK8sServiceType?: ConsulToK8sServiceType;
  /** --allow-consul-service name globs (absent: every name). */
  allowConsulServices?: readonly string[];
  /** --deny-consul-service name globs; wins over allow (absent: none). */
  denyConsulServices?: readonly string[];
  /**
   * --enable-namespaces: the services view's names are qualified (`<namespace>/<name>` outside
   * `default`, translate/namespaces.ts) and mirrors are named per namespace.
   */
  enableNamespaces?: boolean;
}

/** A Consul `services` view: service name → tags. */
export type ServicesView = Record<string, string[]>;

/** A desired Service made from a Consul service (ExternalName, or selector-less in endpoints mode). */
export interface DesiredK8sService {
  namespace: string;
  name: string;
  consulName: string;
  externalName: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Absent: externalname. */
  mode?: ConsulToK8sMode;
  /** Endpoints mode: headless (clusterIP None, the default) or a virtual IP. */
  serviceType?: ConsulToK8sServiceType;
  /** Endpoints mode: the ports, when the instances were read; absent: keep the current ones. */
  ports?: ServicePort[];
  /** Endpoints mode: the meta annotations are known (instances read): stale ones are removed. */
  metaKnown?: boolean;
}

/** One instance of a Consul service as `/v1/health/service/:name` shows it. */
export interface HealthInstance {
  node: string;
  nodeAddress: string;
  serviceId: string;
  serviceAddress: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  /** The instance's checks and its node's (serviceId ''). */
  checks: { checkId: string; serviceId: string; status: string }[];
}

/** One check of a `checks` watch delivery (`/v1/health/state/any`), normalized. */
export interface CheckState {
  node: string;
  checkId: string;
  status: string;
  serviceId: string;
  serviceName: string;
  serviceTags: string[];
  /** Consul Enterprise: the check's namespace (absent: default). */
  namespace?: string;
}
