// Every annotation, label and meta key the product reads or writes, in one place.

export const ANNOTATION_SERVICE_SYNC = 'consul.hashicorp.com/service-sync';
export const ANNOTATION_SERVICE_NAME = 'consul.hashicorp.com/service-name';
export const ANNOTATION_SERVICE_PORT = 'consul.hashicorp.com/service-port';
export const ANNOTATION_SERVICE_TAGS = 'consul.hashicorp.com/service-tags';
export const ANNOTATION_SERVICE_WEIGHT = 'consul.hashicorp.com/service-weight';
export const ANNOTATION_SERVICE_META_PREFIX = 'consul.hashicorp.com/service-meta-';
/** Set on Kubernetes services this product made from Consul services. */
export const ANNOTATION_SYNCED = 'consul.hashicorp.com/synced';

/** Label on Kubernetes services made from Consul services (`consul=true`). */
export const LABEL_CONSUL = 'consul';
export const LABEL_CONSUL_VALUE = 'true';
/** Label linking an EndpointSlice to its Service. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** Label marking who manages an EndpointSlice; ours carry MANAGED_BY_US. */
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY_US = 'k8s-consul-sync';
/** Label the EndpointSlice controller puts on the slices of a headless Service (kube-proxy skips them). */
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
/** Consul → Kubernetes: the Consul tags of a mirrored service, comma-separated (`\,` escapes a comma). */
export const ANNOTATION_CONSUL_TAGS = 'consul.hashicorp.com/tags';
/** Consul → Kubernetes: one annotation per Consul meta key of the instances (endpoints mode). */
export const ANNOTATION_CONSUL_META_PREFIX = 'consul.hashicorp.com/meta-';
/** On a mirrored Service: the mode chosen by the Consul meta `k8s-sync-mode` (absent: the flag's). */
export const ANNOTATION_MODE = 'k8s-consul-sync/mode';
/** On our EndpointSlices: the Consul service name they hold the instances of. */
export const ANNOTATION_CONSUL_SERVICE = 'k8s-consul-sync/consul-service';
/** On our EndpointSlices: digest of the instances' checks when written (POST /consul/checks compares). */
export const ANNOTATION_CHECKS_DIGEST = 'k8s-consul-sync/checks-digest';
/** Consul tag opting a service out of Consul → Kubernetes. */
export const TAG_SYNC_DISABLED = 'k8s-sync-disabled';
/** Consul meta opting a service out (value "false", read on reconcile and before a create). */
export const META_K8S_SYNC = 'k8s-sync';
/** Consul meta choosing the mode of one service: externalname or endpoints. */
export const META_K8S_SYNC_MODE = 'k8s-sync-mode';

/** Namespace name label the API server sets on every namespace. */
export const LABEL_NAMESPACE_NAME = 'kubernetes.io/metadata.name';

export const META_EXTERNAL_SOURCE = 'external-source';
export const META_EXTERNAL_SOURCE_VALUE = 'kubernetes';
export const META_K8S_NAMESPACE = 'external-k8s-ns';
export const META_K8S_NAME = 'external-k8s-name';
export const META_SYNC_ID = 'external-k8s-sync-id';
export const META_K8S_NODE_NAME = 'external-k8s-node-name';
/** consul-k8s's per-endpoint meta: the endpoint's targetRef and zone (endpoint instances). */
export const META_K8S_REF_KIND = 'external-k8s-ref-kind';
export const META_K8S_REF_NAME = 'external-k8s-ref-name';
export const META_K8S_TOPOLOGY_ZONE = 'external-k8s-topology-zone';
/** On an instance made from an Ingress rule (--enable-ingress): the Ingress's name. */
export const META_K8S_INGRESS = 'external-k8s-ingress';
export const META_PORT_PREFIX = 'port-';
/** Meta keys the product owns; annotations can never override them. */
export const META_RESERVED_PREFIX = 'external-';

export const READINESS_CHECK_NAME = 'Kubernetes Readiness Check';
export const SYNC_NODE_ADDRESS = '127.0.0.1';
