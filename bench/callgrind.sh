#!/usr/bin/env bash
# Instructions and syscalls per request through the gateway, under callgrind: deterministic to ~0.1 %
# whatever else the machine runs, so it is the regression gate (benchmarks.md, headline figure 2).
#   bench/callgrind.sh grpc|dubbo|http|policy-VARIANT [requests=20000]
# http is a JSON POST relayed to an nginx answering a fixed body (bench/http_relay.py's backend).
# VARIANT is one of bench/policies.py's: none, api_key, jwt, signature, limit_exact, limit_batched.
# The policy-* paths are JSON -> gRPC with those policies, loaded by the project's http-load
# (a signature needs a fresh nonce per request); policy-none is their reference, loaded the same way.
# Needs a release build (cargo build --release -p gateway-web -p gateway-demo), valgrind and h2load
# (and nginx for http).
# CALLGRIND_KEEP=DIR keeps the profile there (for callgrind_annotate --inclusive=yes).
set -euo pipefail
cd "$(dirname "$0")/.."
path="${1:?grpc or dubbo}"
requests="${2:-20000}"
work="$(mktemp -d /tmp/gw-callgrind.XXXXXX)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
bport="$(port)"; gport="$(port)"

case "$path" in
grpc)
    python3 -c "import sys; sys.path.insert(0, 'bench'); import grpc_unary as g; g.write_config('$work/gateway.yaml', $bport, 1000)"
    echo '{"message":"hello","number":"42"}' > "$work/body.json"
    target/release/demo-backend --listen "127.0.0.1:$bport" & pids+=($!)
    load=(h2load --h1 -c 64 -t1 -H 'content-type: application/json' -d "$work/body.json" "http://127.0.0.1:$gport/v1/bench")
    ;;
dubbo)
    python3 -c "import sys; sys.path.insert(0, 'bench'); import dubbo_unary as d; d.write_config('$work/gateway.yaml', $bport, 1000)"
    target/release/dubbo-mock-provider --listen "127.0.0.1:$bport" & pids+=($!)
    load=(h2load --h1 -c 64 -t1 "http://127.0.0.1:$gport/v1/users/42")
    ;;
http)
    python3 -c "import sys; sys.path.insert(0, 'bench'); import http_relay as r; r.write_config('$work/gateway.yaml', $bport, 1000); r.nginx_conf('$work', 'backend', r.backend_server($bport, '/dev/null'))"
    nginx -p "$work" -c "$work/backend.conf" & pids+=($!)
    echo '{"message":"hello","number":42,"tags":["a","b"]}' > "$work/body.json"
    load=(h2load --h1 -c 64 -t1 -H 'content-type: application/json' -d "$work/body.json" "http://127.0.0.1:$gport/v1/bench")
    ;;
policy-*)
    variant="${path#policy-}"
    python3 -c "import sys; sys.path.insert(0, 'bench'); import policies as p; p.write_config('$work/gateway.yaml', $bport, 1000, '$variant')"
    target/release/demo-backend --listen "127.0.0.1:$bport" & pids+=($!)
    mapfile -t args < <(python3 -c "import sys; sys.path.insert(0, 'bench'); import policies as p; print('\n'.join(p.load_args('$variant')))")
    load=(taskset -c 1 target/release/http-load --url "http://127.0.0.1:$gport/v1/bench" --connections 64 "${args[@]}" --requests)
    ;;
*) echo "usage: $0 grpc|dubbo|http|policy-VARIANT [requests]" >&2; exit 2 ;;
esac

RUST_LOG=warn valgrind --tool=callgrind --collect-systime=usec --callgrind-out-file="$work/cg.out" \
    target/release/gateway-web --config "$work/gateway.yaml" --listen "127.0.0.1:$gport" --workers 1 \
    --redis-url redis://127.0.0.1:6379 \
    > "$work/gateway.log" 2>&1 & pids+=($!)
cg=$!
for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$gport/readyz" >/dev/null && break; sleep 0.5; done
if [ "${load[0]}" = taskset ]; then
    "${load[@]}" 2000 >/dev/null                     # warm up
    callgrind_control -z "$cg" >/dev/null
    "${load[@]}" "$requests"
else
    "${load[@]}" -n 2000 >/dev/null                  # warm up
    callgrind_control -z "$cg" >/dev/null
    "${load[@]}" -n "$requests" | grep -E '^requests:'
fi
callgrind_control -d "$cg" >/dev/null
sleep 1
[ -n "${CALLGRIND_KEEP:-}" ] && mkdir -p "$CALLGRIND_KEEP" && cp "$work"/cg.out.* "$CALLGRIND_KEEP"/
totals="$(callgrind_annotate "$work"/cg.out.* 2>/dev/null | grep 'PROGRAM TOTALS' | head -1)"
python3 - "$requests" "$totals" <<'PY'
import sys
n = int(sys.argv[1]); fields = sys.argv[2].split()
ir, sys_count = int(fields[0].replace(",", "")), int(fields[2].replace(",", ""))
print(f"instructions/request: {ir / n:,.0f}   syscalls/request: {sys_count / n:.1f}   ({n} requests, 1,000 APIs loaded)")
PY
