#!/usr/bin/env bash
# Compiles the Java Dubbo2 provider into <repo>/target/peers/java-provider; a no-op when the classes are newer
# than every source. Needs JDK 17 (javac) and Debian's libhessian-java (/usr/share/java/hessian.jar).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
out="$root/target/peers/java-provider"
stamp="$out/.built"
hessian=/usr/share/java/hessian.jar

[ -f "$hessian" ] || { echo "build.sh: $hessian missing (apt-get install -y libhessian-java)" >&2; exit 1; }
if [ -f "$stamp" ] && [ -z "$(find "$here/src" "$here/build.sh" -newer "$stamp" -print -quit)" ]; then
    exit 0
fi
rm -rf "$out"
mkdir -p "$out"
find "$here/src" -name '*.java' > "$out/sources.txt"
javac -nowarn -encoding UTF-8 --release 17 -cp "$hessian" -d "$out" @"$out/sources.txt"
touch "$stamp"
echo "built java provider into $out"
