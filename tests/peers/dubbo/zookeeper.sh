#!/usr/bin/env bash
# Runs Debian's ZooKeeper (package zookeeper, 3.8) standalone for the Dubbo registry tests.
#
# Usage: zookeeper.sh --port N --dir D
#   --port N  client port on 127.0.0.1 (0 picks a free one)
#   --dir D   data directory (created; zoo.cfg, data/ and zookeeper.out are written there)
# Prints `LISTENING <port>` once ZooKeeper answers `ruok` with `imok`; stops ZooKeeper and exits on SIGTERM,
# SIGINT or when stdin closes. The admin server is disabled; the four-letter words ruok, srvr, stat, mntr,
# conf, cons, dump, envi, wchs and isro are allowed.
set -euo pipefail

port=0
dir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="$2"; shift 2 ;;
        --dir) dir="$2"; shift 2 ;;
        *) echo "usage: zookeeper.sh --port N --dir D" >&2; exit 2 ;;
    esac
done
[ -n "$dir" ] || { echo "zookeeper.sh: --dir is required" >&2; exit 2; }
[ -f /usr/share/java/zookeeper.jar ] || { echo "zookeeper.sh: apt-get install -y zookeeper" >&2; exit 1; }

if [ "$port" = 0 ]; then
    # Ask the kernel for a free port (a small race, as with any pick-then-bind).
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi
mkdir -p "$dir/data"
dir="$(cd "$dir" && pwd)"
cat > "$dir/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr,conf,cons,dump,envi,wchs,isro
autopurge.purgeInterval=0
CFG

four_letter() { # four_letter WORD -> the server's answer, empty when it does not answer
    (exec 5<>"/dev/tcp/127.0.0.1/$port" && printf '%s' "$1" >&5 && timeout 2 cat <&5) 2>/dev/null || true
}

exec 3<&0 # keep stdin for the watcher: background jobs otherwise get /dev/null
java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true \
    -Dzookeeper.admin.enableServer=false -Dzookeeper.jmx.log4j.disable=true \
    -cp /usr/share/java/zookeeper.jar org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
    >"$dir/zookeeper.out" 2>&1 </dev/null &
zk=$!

stop() {
    trap - TERM INT HUP
    kill -TERM "$zk" 2>/dev/null || true
    wait "$zk" 2>/dev/null || true
    [ -n "${watcher:-}" ] && kill "$watcher" 2>/dev/null || true
    exit 0
}
trap stop TERM INT HUP

for _ in $(seq 1 600); do
    if ! kill -0 "$zk" 2>/dev/null; then
        echo "zookeeper.sh: ZooKeeper exited before answering; $dir/zookeeper.out says:" >&2
        tail -n 30 "$dir/zookeeper.out" >&2
        exit 1
    fi
    [ "$(four_letter ruok)" = imok ] && break
    sleep 0.1
done
[ "$(four_letter ruok)" = imok ] || { echo "zookeeper.sh: no imok on 127.0.0.1:$port after 60 s" >&2; stop; }

(cat <&3 >/dev/null; kill -TERM $$ 2>/dev/null) &
watcher=$!
echo "LISTENING $port"
wait "$zk" || true
