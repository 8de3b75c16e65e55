# Consul agent watch for --consul-to-k8s-mode=endpoints (put it next to watch.hcl, then
# `consul reload`): on every change of any health check the agent POSTs the `checks` watch
# result (the /v1/health/state/any array of HealthCheck objects) to k8s-consul-sync, which
# converges the EndpointSlices of the services whose health changed. Same content as
# watch-checks.json. Not needed in externalname mode. Same host and token (scope consul:watch)
# as watch.hcl.
watches = [
  {
    type         = "checks"
    state        = "any"
    handler_type = "http"
    http_handler_config {
      path   = "https://k8s-consul-sync.example/consul/checks"
      method = "POST"
      header = {
        Authorization = ["Bearer REPLACE_WITH_CONSUL_WATCH_TOKEN"]
      }
      timeout         = "10s"
      tls_skip_verify = false
    }
  }
]
