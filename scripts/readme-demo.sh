#!/usr/bin/env bash
# Runs the README's first command (`cargo run -p gateway-demo`, on free ports) and every curl line the
# README lists under it, so the newcomer's first minute is tested like the rest. Each line must answer
# 200, except the two the README shows as errors (a gRPC NOT_FOUND and a Java exception), which must
# answer 404. Exits non-zero on the first line that does not.
set -euo pipefail
cd "$(dirname "$0")/.."

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log="$(mktemp /tmp/readme-demo.XXXXXX)"
cargo run -q -p gateway-demo -- --backend 127.0.0.1:0 --dubbo 127.0.0.1:0 --inventory 127.0.0.1:0 127.0.0.1:0 \
    --listen "127.0.0.1:$port" \
    >"$log" 2>&1 &
demo=$!
cleanup() {
    local status=$?
    kill "$demo" 2>/dev/null || true
    wait "$demo" 2>/dev/null || true
    [ "$status" -ne 0 ] && { echo "--- demo log (tail)"; tail -n 20 "$log"; }
    rm -f "$log"
    exit "$status"
}
trap cleanup EXIT INT TERM

for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    kill -0 "$demo" 2>/dev/null || { echo "the demo exited before it was ready" >&2; exit 1; }
    sleep 0.5
done

checked=0
while IFS= read -r line; do
    command="${line%%#*}"                              # the README's trailing comments
    command="${command//127.0.0.1:8080/127.0.0.1:$port}"
    expected=200
    case "$command" in *"/v1/fail"* | *"/v1/users/404"* | *"/v1/inventory/nothing"*) expected=404 ;; esac
    # A line the README shows as refused says its status in the comment ("no credential: 401").
    refused="$(printf '%s' "${line#*#}" | grep -oE '\b[45][0-9]{2}\b' | head -1 || true)"
    [ "$line" != "${line#*#}" ] && [ -n "$refused" ] && expected="$refused"
    status="$(eval "$command -o /dev/null -w '%{http_code}' --max-time 20")" || true
    if [ "$status" != "$expected" ]; then
        echo "README line answered $status, expected $expected: $line" >&2
        exit 1
    fi
    checked=$((checked + 1))
done < <(grep -E '^curl .*127\.0\.0\.1:8080' README.md)

[ "$checked" -ge 10 ] || { echo "found only $checked curl lines in README.md" >&2; exit 1; }

# The rate limit: three answered with their RateLimit headers, the fourth refused with Retry-After.
limited="$(grep -E '^for i in .*/v1/limited/' README.md | head -1)"
[ -n "$limited" ] || { echo "README.md shows no rate limit" >&2; exit 1; }
limited="${limited//127.0.0.1:8080/127.0.0.1:$port}"
answer="$(eval "$limited")"
[ "$(grep -c '^HTTP/1.1 200' <<<"$answer")" = 3 ] && grep -q '^HTTP/1.1 429' <<<"$answer" \
    && grep -qi '^retry-after: ' <<<"$answer" && grep -qi '^ratelimit-policy: "per-minute";q=3;w=60' <<<"$answer" \
    || { echo "the rate-limit line answered: $answer" >&2; exit 1; }
echo "README demo: the fourth call within a minute was refused 429 with Retry-After"

# The HTTP upstream: two calls in a row are served by both instances (round-robin), and the events
# route streams its four server-sent events.
served="$(for _ in 1 2; do curl -si "http://127.0.0.1:$port/v1/inventory/dune" | tr -d '\r' | grep -i '^x-served-by: '; done | sort -u | wc -l)"
[ "$served" = 2 ] || { echo "two inventory calls were not spread over both instances" >&2; exit 1; }
events="$(curl -sN --max-time 20 "http://127.0.0.1:$port/v1/inventory/dune/watch?count=4" | grep -c '^event: stock$')"
[ "$events" = 4 ] || { echo "the inventory watch streamed $events events, expected 4" >&2; exit 1; }
echo "README demo: the HTTP upstream balanced two instances and streamed its events"

# The signed call: accepted once, refused when the same request is replayed.
signed="$(grep -E '^APP_KEY=.*docs/signing.md' README.md | head -1)"
[ -n "$signed" ] || { echo "README.md shows no signed call" >&2; exit 1; }
signed="${signed//127.0.0.1:8080/127.0.0.1:$port}"
answer="$(eval "$signed")"
case "$answer" in *'"message":"hello"'*) ;; *) echo "the signed call answered: $answer" >&2; exit 1 ;; esac
echo "README demo: the signed call from docs/signing.md was accepted"
echo "README demo: cargo run -p gateway-demo answered all $checked curl lines"
