#!/usr/bin/env bash
# Property-based requests against `cartseq serve`'s /openapi.json with schemathesis (from
# requirements.txt), on an ephemeral loopback port; fails if any request got a 5xx or panicked.
#
#   benches/peers/serve_schemathesis.sh MODEL.json [MAX_EXAMPLES=60]
set -euo pipefail
MODEL=${1:?model file}
N=${2:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CARTSEQ_BIN:-$ROOT/target/release/cartseq}
ST=${SCHEMATHESIS:-/work/peers-venv/bin/schemathesis}
WORK=$(mktemp -d)
"$BIN" serve --nextitem "$MODEL" --addr 127.0.0.1:0 --max-sessions 1000 -q > "$WORK/out" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do [ -s "$WORK/out" ] && break; sleep 0.1; done
URL=$(sed 's/listening on //' "$WORK/out")
"$ST" run "$URL/openapi.json" --checks all --max-examples "$N" --workers 1 > "$WORK/st.txt" 2>&1 || true
grep -E "^  (❌|✅)|generated|failures in|passed in" "$WORK/st.txt" || tail -20 "$WORK/st.txt"
curl -s "$URL/metrics" | grep -E 'code="5xx"\} |^cartseq_panics_total '
if curl -s "$URL/metrics" | grep -qE 'code="5xx"\} [1-9]|^cartseq_panics_total [1-9]'; then
  echo "5xx or panic found" >&2
  exit 1
fi
