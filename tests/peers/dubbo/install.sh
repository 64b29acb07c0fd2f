#!/usr/bin/env bash
# Installs everything the Dubbo peers in this folder need; fast (no network) when all is in place.
#   apt: libhessian-java (Caucho Hessian for the Java provider), zookeeper (registry), a JDK if javac is missing
#   npm: package-lock.json into ./node_modules (npm ci), only when the lock changed since the last install
#   pip: requirements.txt (kazoo, for register.py) into <repo>/.venv-peers
#   java: java/build.sh (javac into <repo>/target/peers/java-provider, skipped when up to date)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"

# --- Debian packages
missing=()
for pkg in libhessian-java zookeeper; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> apt-get install ${missing[*]}"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
        || { $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi

# --- npm packages (pinned by package-lock.json)
lock_sum="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
stamp="$here/node_modules/.installed-lock-sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
    echo "==> npm ci in tests/peers/dubbo"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" > "$stamp"
fi

# --- Python packages for register.py
venv="$root/.venv-peers"
if ! "$venv/bin/python" -c 'import kazoo' 2>/dev/null; then
    echo "==> pip install -r tests/peers/dubbo/requirements.txt into .venv-peers"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi

# --- the Java provider
"$here/java/build.sh"
