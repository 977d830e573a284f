#!/usr/bin/env bash
# Memory soak of `cartseq serve`: distinct sessions for MINUTES minutes on loopback (wrk, bounded by
# its duration), the server's RSS sampled every 10 s; eviction by --max-sessions must keep it flat.
#
#   benches/serve/serve_soak.sh MODEL.json TEST_LOG [MINUTES=10] [RATE_CONNECTIONS=8] [MAX_SESSIONS=100000]
#
# Prints one JSON line per sample (elapsed s, RSS MiB, sessions held, evicted, load1) and a summary
# line (requests = distinct sessions sent, req/s, RSS first/max/last, load averages before and after).
# The server is started here on 127.0.0.1 and stopped at the end.
set -euo pipefail
MODEL=${1:?model file}
TEST=${2:?test log}
MIN=${3:-10}
CONN=${4:-8}
MAXS=${5:-100000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CARTSEQ_BIN:-$ROOT/target/release/cartseq}
WORK=$(mktemp -d)
CS_PID=
trap '[ -n "$CS_PID" ] && kill $CS_PID 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

# The test log's items, as JSON strings, for the Lua script.
python3 - "$TEST" "$WORK" <<'PY'
import sys
test, work = sys.argv[1], sys.argv[2]
items = []
with open(test) as f:
    next(f)
    for line in f:
        items.append(line.split("\t")[1])
q = lambda x: "'" + x.replace("\\", "\\\\").replace("'", "\\'") + "'"
open(f"{work}/items.lua", "w").write("return {" + ",".join(q('"%s"' % i) for i in items[:5000]) + "}\n")
PY
export ITEMS_LUA=$WORK/items.lua EVENTS_ONLY=1

"$BIN" serve --nextitem "$MODEL" --addr 127.0.0.1:0 --max-sessions "$MAXS" -q > "$WORK/cs.out" &
CS_PID=$!
for _ in $(seq 100); do [ -s "$WORK/cs.out" ] && break; sleep 0.2; done
CS=$(sed 's/listening on //' "$WORK/cs.out")
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
rss() { awk '/VmRSS/ {print $2 / 1024}' "/proc/$CS_PID/status"; }
metric() { curl -s "$CS/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

wrk -t 2 -c "$CONN" -d "${MIN}m" -s "$ROOT/benches/serve/events_recommend.lua" "$CS" > "$WORK/wrk.out" 2>&1 &
WRK_PID=$!
START=$(date +%s)
: > "$WORK/samples"
while kill -0 $WRK_PID 2>/dev/null; do
  NOW=$(( $(date +%s) - START ))
  LINE="{\"t_s\": $NOW, \"rss_mb\": $(rss), \"sessions\": $(metric cartseq_sessions), \"evicted\": $(metric cartseq_sessions_evicted_total), \"load1\": $(cut -d' ' -f1 /proc/loadavg)}"
  echo "$LINE" | tee -a "$WORK/samples"
  sleep 10
done
wait $WRK_PID || true
python3 - "$WORK/wrk.out" "$WORK/samples" "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(metric cartseq_sessions_evicted_total)" <<'PY'
import json, re, sys
out = open(sys.argv[1]).read()
s = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
req = re.search(r"(\d+) requests in", out)
rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
rss = [x["rss_mb"] for x in s]
print(json.dumps({"summary": True, "requests_distinct_sessions": int(req.group(1)) if req else None,
  "rps": float(rps.group(1)) if rps else None, "non_2xx": int(bad.group(1)) if bad else 0,
  "evicted": float(sys.argv[5] or 0), "rss_first_mb": rss[0] if rss else None,
  "rss_max_mb": max(rss) if rss else None, "rss_last_mb": rss[-1] if rss else None,
  "rss_after_1min_max_mb": max([x["rss_mb"] for x in s if x["t_s"] >= 60] or [0]),
  "load_before": sys.argv[3], "load_after": sys.argv[4]}))
PY
