# Consul ACL policy for the token k8s-consul-sync uses (CONSUL_HTTP_TOKEN_FILE):
#   consul acl policy create -name k8s-consul-sync -rules @infra/consul/acl-policy.hcl
#   consul acl token create -description k8s-consul-sync -policy-name k8s-consul-sync
#
# Every registration lives on one synthetic node (--consul-node-name, default k8s-sync).
# Registering and deregistering its services and health checks through /v1/txn needs write
# on that node. No other node is ever written: NodePort instances keep the Kubernetes node
# name in meta instead of being registered on a node of that name.
node "k8s-sync" {
  policy = "write"
}

# Service names come from Kubernetes (service name, --consul-service-prefix or the
# consul.hashicorp.com/service-name annotation), so they cannot be known in advance: write on
# every service name. Write also grants the read that the Consul -> Kubernetes direction
# needs to list every service (/v1/catalog/services). Ownership is still enforced by the
# product: it only changes registrations carrying its own external-k8s-sync-id. With a fixed
# --consul-service-prefix "k8s-" this can be narrowed to
#   service_prefix ""     { policy = "read" }
#   service_prefix "k8s-" { policy = "write" }
# at the price of the consul.hashicorp.com/service-name annotation only working inside it.
service_prefix "" {
  policy = "write"
}

# A complete view matters: Consul answers a read the token may not fully see with the hidden
# entries removed (X-Consul-Results-Filtered-By-ACLs: true). k8s-consul-sync then deletes
# nothing in that direction and reports CONSUL_READ_FILTERED, so a too narrow policy shows up
# as a failing reconcile, never as deleted services. Read on every service (above) and node
# (below) gives the complete view.
#
# Catalog reads filter out instances on nodes the token cannot read: reconcile must see the
# instances that other nodes hold under the same service names (names used by other Consul
# services only gain instances), so read on every node. Read only: never write elsewhere.
node_prefix "" {
  policy = "read"
}

# Consul Enterprise with --enable-namespaces: service rules are per namespace, so the service
# rule above goes inside a namespace_prefix block to hold in every namespace (node rules stay
# where they are: nodes are not namespaced), and creating the namespaces the sync registers into
# (consul-k8s does the same) needs operator write. Without --enable-namespaces leave this out.
#   operator = "write"
#   namespace_prefix "" {
#     service_prefix "" { policy = "write" }
#   }
