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
  ownerReferences?: { kind?: string; name?: string; uid?: string }[];
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
   * Most instances registered for one Kubernetes service (absent or 0: no limit); the first
   * ones in the source's order are kept.
   */
  maxInstancesPerService?: number;
}

/** Settings of the Consul → Kubernetes translation. */
export interface ToK8sSettings {
  consulK8sTag: string;
  k8sServicePrefix: string;
  k8sWriteNamespace: string;
  consulDomain: string;
}

/** A Consul `services` view: service name → tags. */
export type ServicesView = Record<string, string[]>;

/** A desired ExternalName service made from a Consul service. */
export interface DesiredK8sService {
  namespace: string;
  name: string;
  consulName: string;
  externalName: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
