#!/usr/bin/env bash
# Runs every test: unit tests, and the end-to-end suites against real peers (tonic, Python grpcio, Dubbo
# providers from npm and Java, Triple, ZooKeeper).
# The Python peer's packages go into .venv-peers (pinned in tests/peers/requirements.txt) on first run.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-peers
if ! "$venv/bin/python" -c 'import grpc, grpc_tools, grpc_reflection' 2>/dev/null; then
    echo "==> installing the Python gRPC peer into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/peers/requirements.txt
fi
export GATEWAY_TEST_PYTHON="$PWD/$venv/bin/python"

# Dubbo peers: Java provider (Caucho hessian), sofa-rpc-node, dubbo.ts, the Triple server, ZooKeeper.
bash tests/peers/dubbo/install.sh

cargo test --workspace --locked "$@"
