#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 15), from its seeds (fuzz/seeds/TARGET, taken from the
# test cases and the codec's vectors) and its corpus (fuzz/corpus/TARGET, grown between runs, not
# committed). A panic, an input taking over 5 s, a single allocation over 256 MiB or 1 GiB resident fails
# the run; libFuzzer keeps the input under fuzz/artifacts/TARGET/ to replay with
# `cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/<file>`.
#   bash fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-15}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(path_template request_mapping hessian2_decode dubbo_frame)
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    echo "==> fuzz $target for ${seconds}s"
    if ! cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=5 -malloc_limit_mb=256 -rss_limit_mb=1024 -print_final_stats=1 \
        > "$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "fuzz target $target failed; the input is under fuzz/artifacts/$target/" >&2
        exit 1
    fi
    grep -E '^Done [0-9]+ runs|^stat::(number_of_executed_units|peak_rss_mb)' "$log" || true
done
