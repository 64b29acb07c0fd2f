#!/usr/bin/env bash
# Local development with the control plane: a Postgres-backed portal (admin UI + API) on :9000, a gateway
# node following its published revisions on :8080, and the demo gRPC backend on :50051 to publish.
# Ctrl-C stops all three. Needs Postgres on 127.0.0.1:5432 (user postgres, trust auth).
set -euo pipefail
cd "$(dirname "$0")/.."

db="${GATEWAY_DEV_DB:-gateway_dev}"
url="postgres://postgres@127.0.0.1:5432/$db"
password="${PORTAL_ADMIN_PASSWORD:-dev-admin-password}"

if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE \"$db\""
fi
cargo build -q -p gateway-portal -p gateway-web -p gateway-demo
target/debug/gateway-portal migrate --database-url "$url"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
target/debug/demo-backend --listen 127.0.0.1:50051 --dubbo 127.0.0.1:20880 & pids+=($!)
PORTAL_ADMIN_PASSWORD="$password" target/debug/gateway-portal --database-url "$url" --listen 127.0.0.1:9000 & pids+=($!)
target/debug/gateway-web --database-url "$url" --snapshot-file target/dev-snapshot.json --listen 127.0.0.1:8080 & pids+=($!)

cat <<TXT

  portal   http://127.0.0.1:9000   (first login: admin / $password; created only when no user exists)
  gateway  http://127.0.0.1:8080   (serves what you publish; /readyz shows the revision)
  backend  127.0.0.1:50051         (the demo gRPC service: add it as a backend, import its schema by
                                    reflection, generate APIs for demo.bookstore.v1.Bookstore, publish)
  dubbo    127.0.0.1:20880         (the demo Dubbo2 UserService: add it as a Dubbo backend, then write an
                                    API from the editor's Dubbo template, publish, GET /v1/users/1)

TXT
wait
