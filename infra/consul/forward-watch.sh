#!/usr/bin/env bash
# Handler for `consul watch -type=services`: forwards the watch result that Consul writes on
# stdin to k8s-consul-sync's POST /consul/services, authenticated with a bearer token. Use it
# where the agent's built-in http handler (watch.hcl) does not fit, e.g. a private CA:
#
#   K8S_CONSUL_SYNC_URL=https://k8s-consul-sync.example \
#   K8S_CONSUL_SYNC_TOKEN_FILE=/etc/k8s-consul-sync/watch-token \
#   consul watch -type=services /usr/local/bin/forward-watch.sh
#
# Environment:
#   K8S_CONSUL_SYNC_URL         base URL of the server (required; https, or http to loopback only)
#   K8S_CONSUL_SYNC_TOKEN       JWT with scope consul:watch, or
#   K8S_CONSUL_SYNC_TOKEN_FILE  a file holding it, read on every call (rotation needs no restart)
#   K8S_CONSUL_SYNC_CACERT      CA bundle that signed the server certificate (optional)
#   K8S_CONSUL_SYNC_TIMEOUT     whole-request timeout in seconds (default 10)
#
# Exits non-zero with a message on stderr on any failure (consul watch logs it); the next
# catalog change or the reconcile CronJob repairs a missed update. The token never appears on
# a command line (it reaches curl through a file descriptor) nor in any message.
set -euo pipefail

prog="${0##*/}"
fail() {
  printf '%s: %s\n' "$prog" "$*" >&2
  exit 1
}

command -v curl >/dev/null 2>&1 || fail "curl is not installed"

base="${K8S_CONSUL_SYNC_URL:-}"
[[ -n "$base" ]] || fail "K8S_CONSUL_SYNC_URL is not set (e.g. https://k8s-consul-sync.example)"
url="${base%/}/consul/services"
case "$url" in
  https://*) ;;
  http://127.0.0.1[:/]* | http://localhost[:/]* | http://\[::1\][:/]*) ;;
  *) fail "K8S_CONSUL_SYNC_URL must be an https:// URL (plain http only to loopback), got: $base" ;;
esac

token="${K8S_CONSUL_SYNC_TOKEN:-}"
if [[ -z "$token" && -n "${K8S_CONSUL_SYNC_TOKEN_FILE:-}" ]]; then
  [[ -r "$K8S_CONSUL_SYNC_TOKEN_FILE" ]] ||
    fail "cannot read K8S_CONSUL_SYNC_TOKEN_FILE ($K8S_CONSUL_SYNC_TOKEN_FILE)"
  token="$(tr -d '[:space:]' <"$K8S_CONSUL_SYNC_TOKEN_FILE")"
fi
[[ -n "$token" ]] || fail "no token: set K8S_CONSUL_SYNC_TOKEN or K8S_CONSUL_SYNC_TOKEN_FILE"
# A JWT is base64url parts joined by dots; anything else (a newline above all) could inject
# headers, so it is refused.
[[ "$token" =~ ^[A-Za-z0-9._~+/=-]+$ ]] || fail "the token contains characters a bearer token cannot have"

timeout="${K8S_CONSUL_SYNC_TIMEOUT:-10}"
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] ||
  fail "K8S_CONSUL_SYNC_TIMEOUT must be a whole number of seconds > 0, got: $timeout"

payload="$(mktemp)"
response="$(mktemp)"
trap 'rm -f "$payload" "$response"' EXIT

cat >"$payload"
[[ -s "$payload" ]] || fail "no watch data on stdin (run me as a consul watch -type=services handler)"

args=(
  --silent --show-error --fail-with-body
  --max-time "$timeout"
  --request POST
  --header 'Content-Type: application/json'
  --data-binary "@$payload"
  --output "$response"
  --write-out '%{http_code}'
)
if [[ -n "${K8S_CONSUL_SYNC_CACERT:-}" ]]; then
  args+=(--cacert "$K8S_CONSUL_SYNC_CACERT")
fi
if [[ -n "${CONSUL_INDEX:-}" ]]; then
  args+=(--header "X-Consul-Index: ${CONSUL_INDEX//[^0-9]/}")
fi

status=0
code="$(curl "${args[@]}" --header @<(printf 'Authorization: Bearer %s\n' "$token") "$url")" || status=$?
if ((status != 0)); then
  body="$(head -c 2048 "$response" 2>/dev/null || true)"
  fail "POST $url failed (curl exit $status, HTTP ${code:-000})${body:+: $body}"
fi
cat "$response"
echo
