#!/usr/bin/env bash
# Runs the Java Dubbo2 provider: run.sh [--port N] [--idle-timeout-ms N]. Builds it first when needed.
# Prints `LISTENING <port>` once ready; exits on SIGTERM or when stdin closes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
"$here/build.sh" >&2
exec java -Duser.timezone=UTC -Djava.net.preferIPv4Stack=true -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
    --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED \
    -cp "$root/target/peers/java-provider:/usr/share/java/hessian.jar" peer.DubboProvider "$@"
