#!/usr/bin/env bash
# Browser test of the portal's web UI: builds the binaries, creates a fresh Postgres database, starts the
# demo gRPC backend, a Dubbo mock provider, a plain HTTP upstream (for the OpenAPI import), the portal
# and a gateway in Postgres mode, clicks through the UI in headless Chromium
# (run.mjs), then stops every process it started (by PID) and drops the database. Exits non-zero on failure.
#
# Needs: Postgres on 127.0.0.1:5432 (user postgres, trust auth; PGHOST/PGPORT/PGUSER override), Debian's
# /usr/bin/chromium, node + npm. SKIP_BUILD=1 skips cargo build; NO_GATEWAY=1 stops after publishing.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
db="portal_ui_$(date +%s)_$$"
work="$(mktemp -d /tmp/portal-ui.XXXXXX)"
pids=()

cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  if [ "$status" -ne 0 ]; then
    for log in "$work"/*.log; do [ -f "$log" ] && { echo "--- $log (tail)"; tail -n 20 "$log"; }; done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT INT TERM

[ -x /usr/bin/chromium ] || { echo "missing /usr/bin/chromium: apt-get install -y chromium" >&2; exit 1; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$root" && cargo build -q -p gateway-portal -p gateway-web -p gateway-demo)
fi
[ -d "$here/node_modules/playwright-core" ] || (cd "$here" && npm ci --no-audit --no-fund)

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}
wait_port() { # host port what
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$3 did not start listening on $1:$2" >&2
  return 1
}

psql -q -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
url="postgres://$PGUSER@$PGHOST:$PGPORT/$db"
password="ui-test-$$-secret"
backend_port="$(free_port)"
dubbo_port="$(free_port)"
portal_port="$(free_port)"
upstream_port="$(free_port)"
gateway_port="$(free_port)"
bin="$root/target/debug"

"$bin/demo-backend" --listen "127.0.0.1:$backend_port" >"$work/backend.log" 2>&1 &
pids+=($!)
"$bin/dubbo-mock-provider" --listen "127.0.0.1:$dubbo_port" >"$work/dubbo.log" 2>&1 &
pids+=($!)
python3 "$root/tests/peers/http_upstream.py" --name petstore --port "$upstream_port" \
  >"$work/upstream.log" 2>&1 </dev/null &
pids+=($!)
"$bin/gateway-portal" --database-url "$url" --listen "127.0.0.1:$portal_port" \
  --admin-password "$password" >"$work/portal.log" 2>&1 &
pids+=($!)
wait_port 127.0.0.1 "$backend_port" demo-backend
wait_port 127.0.0.1 "$dubbo_port" dubbo-mock-provider
wait_port 127.0.0.1 "$portal_port" gateway-portal
wait_port 127.0.0.1 "$upstream_port" http-upstream

gateway_url=""
if [ "${NO_GATEWAY:-0}" != 1 ]; then
  # The portal has applied the migrations by the time it listens, so the gateway finds its tables.
  "$bin/gateway-web" --database-url "$url" --snapshot-file "$work/snapshot.json" --poll-interval 1s \
    --listen "127.0.0.1:$gateway_port" >"$work/gateway.log" 2>&1 &
  pids+=($!)
  wait_port 127.0.0.1 "$gateway_port" gateway-web
  gateway_url="http://127.0.0.1:$gateway_port"
fi

PORTAL_URL="http://127.0.0.1:$portal_port" ADMIN_PASSWORD="$password" \
BACKEND_ADDR="127.0.0.1:$backend_port" DUBBO_ADDR="127.0.0.1:$dubbo_port" \
UPSTREAM_URL="http://127.0.0.1:$upstream_port" \
PETSTORE_FILE="$root/tests/peers/openapi/node_modules/@readme/oas-examples/3.0/json/petstore.json" \
PROTO_FILE="${PROTO_FILE:-$root/demo/proto/demo/bookstore/v1/bookstore.proto}" \
GATEWAY_URL="$gateway_url" SCREENSHOT="${SCREENSHOT:-/tmp/portal.png}" \
  node "$here/run.mjs"
