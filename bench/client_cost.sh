#!/usr/bin/env bash
# Instructions per request of the two HTTP clients the relay could use, under callgrind: the gateway's
# hyper pooled client (built by the gateway's own code) and reqwest, each making JSON POSTs to an nginx
# that answers a fixed body. Each runs at N and 2N requests; (I(2N) - I(N)) / N is the cost of one
# request without the setup. Needs a release build (cargo build --release -p gateway-demo), valgrind and
# nginx.   bench/client_cost.sh [N=10000]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"
work="$(mktemp -d /tmp/gw-client-cost.XXXXXX)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
bport="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 - "$work" "$bport" <<'PY'
import sys
sys.path.insert(0, "bench")
import http_relay as r
r.nginx_conf(sys.argv[1], "backend", r.backend_server(int(sys.argv[2]), "/dev/null"))
PY
nginx -p "$work" -c "$work/backend.conf" & pids+=($!)
for _ in $(seq 1 100); do curl -sf -o /dev/null -d x "http://127.0.0.1:$bport/" && break; sleep 0.1; done

instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.$1.$2" \
        target/release/client-cost --client "$1" --url "http://127.0.0.1:$bport/v1/bench" --requests "$2" >/dev/null 2>&1
    callgrind_annotate "$work/cg.$1.$2" 2>/dev/null | grep 'PROGRAM TOTALS' | head -1 | awk '{gsub(",", "", $1); print $1}'
}
for client in hyper reqwest; do
    one="$(instructions "$client" "$n")"
    two="$(instructions "$client" "$((2 * n))")"
    python3 -c "print(f'$client: {($two - $one) / $n:,.0f} instructions/request ({$n} requests more, 16 connections)')"
done
