# Consul agent watch (put in the agent's config dir, then `consul reload`): on every change of
# the service catalog the agent POSTs the `services` watch result ({"name": ["tag", ...]}) to
# k8s-consul-sync, which converges the Kubernetes ExternalName Services. Same content as
# watch.json. Replace the host with the address the agent reaches the server at, and
# REPLACE_WITH_CONSUL_WATCH_TOKEN with a token of scope consul:watch. The agent verifies the
# server certificate against its system trust store (tls_skip_verify stays false).
watches = [
  {
    type         = "services"
    handler_type = "http"
    http_handler_config {
      path   = "https://k8s-consul-sync.example/consul/services"
      method = "POST"
      header = {
        Authorization = ["Bearer REPLACE_WITH_CONSUL_WATCH_TOKEN"]
      }
      timeout         = "10s"
      tls_skip_verify = false
    }
  }
]
