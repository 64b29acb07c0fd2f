#!/usr/bin/env bash
# Runs every test: unit tests, and the end-to-end suites against real peers (tonic, Python grpcio, Dubbo
# providers from npm and Java, Triple, ZooKeeper, Postgres, Redis, PyPI signers), then the portal UI and a
# cross-origin call in headless Chromium, the fuzz targets briefly, then the README's demo command and its
# curl lines.
# The Python peer's packages go into .venv-peers (pinned in tests/peers/requirements.txt) on first run.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-peers
if ! "$venv/bin/python" -c 'import grpc, grpc_tools, grpc_reflection, openapi_spec_validator, jwt, http_message_signatures, requests_http_signature, uvicorn, websockets, dnslib' 2>/dev/null; then
    echo "==> installing the Python gRPC peer into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/peers/requirements.txt
fi
export GATEWAY_TEST_PYTHON="$PWD/$venv/bin/python"

# The Go toolchain runs the Go client of docs/signing.md.
if ! command -v go >/dev/null; then
    echo "==> apt-get install golang-go"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq golang-go >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq golang-go >/dev/null; }
fi

# nginx is one of the HTTP relay suite's upstreams (Debian's package; never started as a service).
if ! command -v nginx >/dev/null; then
    echo "==> apt-get install nginx-light"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq nginx-light >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }
fi

# Dubbo peers: Java provider (Caucho hessian), sofa-rpc-node, dubbo.ts, the Triple server, ZooKeeper.
bash tests/peers/dubbo/install.sh

# Real OpenAPI documents for the import tests (the Petstore family, GitHub's REST description), from npm.
if [ ! -d tests/peers/openapi/node_modules/@octokit/openapi ] || [ ! -d tests/peers/openapi/node_modules/@readme/oas-examples ]; then
    echo "==> npm ci in tests/peers/openapi"
    (cd tests/peers/openapi && npm ci --no-audit --no-fund --ignore-scripts)
fi

# The portal UI's browser test drives Debian's Chromium (never a downloaded browser).
if [ ! -x /usr/bin/chromium ]; then
    echo "==> apt-get install chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
fi

# Every gateway log line of the suites goes here, then is checked for the secrets the tests used.
mkdir -p target/test-logs
export GATEWAY_TEST_LOG="$PWD/target/test-logs/gateway.log"
: > "$GATEWAY_TEST_LOG"

cargo test --workspace --locked "$@"

echo "==> no secret in the logs"
bash scripts/check-logs.sh "$GATEWAY_TEST_LOG"

# The fuzz targets (fuzz/: path templates and routing, query and JSON mapping, hessian2, Dubbo frames)
# run briefly from their seeds; longer runs are `bash fuzz/run.sh 600`. cargo-fuzz needs nightly.
echo "==> fuzz targets, 15 s each"
if rustup run nightly rustc --version >/dev/null 2>&1; then
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
    bash fuzz/run.sh 15
else
    echo "warning: no nightly toolchain here, so the fuzz targets were not run" >&2
fi

echo "==> portal UI in headless Chromium"
bash gateway-portal/ui-tests/run.sh

echo "==> CORS from a real browser"
bash tests/browser/cors.sh

echo "==> the README's demo: cargo run -p gateway-demo and its curl lines"
bash scripts/readme-demo.sh
