#!/usr/bin/env bash
# The whole suite's gateway logs (written to the file GATEWAY_TEST_LOG names) must hold none of the
# secrets, keys and tokens the tests used: a secret in a log line is a leak, whoever reads the logs.
#   scripts/check-logs.sh LOG_FILE
set -euo pipefail
cd "$(dirname "$0")/.."
log="${1:?the log file}"
if [ ! -s "$log" ]; then
    echo "no gateway log at $log: the check would prove nothing" >&2
    exit 1
fi
if grep -n -F -f tests/peers/test-secrets.txt "$log" | head -5 | grep .; then
    echo "a test secret appears in the gateway's logs (above)" >&2
    exit 1
fi
# A JWT starts with the base64 of `{"`: eyJ.
if grep -n -E 'eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}' "$log" | head -5 | grep .; then
    echo "a JWT appears in the gateway's logs (above)" >&2
    exit 1
fi
echo "gateway logs: $(wc -l < "$log") lines, none holding a test secret or token"
