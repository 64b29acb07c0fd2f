#!/usr/bin/env bash
# nginx (Debian's) as an HTTP upstream for the relay tests: one process, no daemon, its files under
# --dir. Serves `/files/` from DIR/files (a 5 MiB `big.bin` of random bytes and a small `hello.txt`,
# made here) with ETags, ranges and HEAD as nginx does them, and answers `/echo` with what arrived.
# Prints `LISTENING <port>` once it accepts; stops when stdin closes.
#   nginx_upstream.sh --dir DIR --port 0
set -euo pipefail
port=0
dir=""
while [ $# -gt 0 ]; do
    case "$1" in
    --port) port="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
command -v nginx >/dev/null || { echo "nginx is not installed (scripts/test.sh installs it)" >&2; exit 1; }
if [ "$port" = 0 ]; then
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
fi
[ -n "$dir" ] || { echo "--dir is required" >&2; exit 2; }
mkdir -p "$dir/files" "$dir/temp"
printf 'hello from nginx\n' > "$dir/files/hello.txt"
head -c $((5 << 20)) /dev/urandom > "$dir/files/big.bin"
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
master_process off;
daemon off;
error_log stderr warn;
pid $dir/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $dir/temp/body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
    server {
        listen 127.0.0.1:$port;
        location /files/ { alias $dir/files/; etag on; }
        location = /echo {
            default_type text/plain;
            return 200 "uri=\$request_uri host=\$http_host xff=\$http_x_forwarded_for\n";
        }
    }
}
CONF
nginx -p "$dir" -c "$dir/nginx.conf" &
nginx_pid=$!
cleanup() { kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
# A test that drops its handle kills this shell outright (no trap runs): nginx must not outlive it.
shell=$$
( while kill -0 "$shell" 2>/dev/null; do sleep 0.2; done; kill "$nginx_pid" 2>/dev/null ) &
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
done
echo "LISTENING $port"
cat >/dev/null || true
