#!/usr/bin/env bash
# The CORS browser test (cors.mjs): the demo backend, a gateway on a config whose echo API has a CORS
# policy for one origin and an API key, and headless Chromium calling it from that origin and another.
# Uses the playwright-core the portal's UI test installs. Needs a debug build (the test command's).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d /tmp/cors-test.XXXXXX)"
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then for log in "$work"/*.log; do [ -f "$log" ] && { echo "--- $log"; tail -n 20 "$log"; }; done; fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT INT TERM
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing on :$1" >&2; return 1; }

ui="$root/gateway-portal/ui-tests"
[ -d "$ui/node_modules/playwright-core" ] || (cd "$ui" && npm ci --no-audit --no-fund)
backend_port="$(free_port)"; gateway_port="$(free_port)"; allowed_port="$(free_port)"; other_port="$(free_port)"
key="cors-test-key-$$-$RANDOM"
key_hash="$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)"
cat > "$work/gateway.yaml" <<YAML
backends: [{ name: demo, protocol: grpc, endpoints: ["127.0.0.1:$backend_port"] }]
schemas: [{ name: demo, proto: { files: [demo/echo/v1/echo.proto], import_paths: ["$root/demo/proto"] } }]
consumers:
  - { name: web, grants: [echo], credentials: [{ kind: api_key, id: web-key, sha256: "$key_hash" }] }
apis:
  - name: echo
    backend: demo
    grpc: { service: demo.echo.v1.Echo, method: Echo }
    http: { post: /v1/echo, body: "*" }
    policies:
      - { kind: cors, allow_origins: ["http://127.0.0.1:$allowed_port"], allow_headers: [x-api-key, content-type] }
      - { kind: api_key }
YAML
"$root/target/debug/demo-backend" --listen "127.0.0.1:$backend_port" >"$work/backend.log" 2>&1 & pids+=($!)
wait_port "$backend_port"
"$root/target/debug/gateway-web" --config "$work/gateway.yaml" --listen "127.0.0.1:$gateway_port" >"$work/gateway.log" 2>&1 & pids+=($!)
wait_port "$gateway_port"
# An ES module finds its packages beside itself: run a copy next to a link to the installed ones.
ln -s "$ui/node_modules" "$work/node_modules"
cp "$root/tests/browser/cors.mjs" "$work/cors.mjs"
GATEWAY_URL="http://127.0.0.1:$gateway_port" API_KEY="$key" ALLOWED_PORT="$allowed_port" OTHER_PORT="$other_port" \
  node "$work/cors.mjs"
