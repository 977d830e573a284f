#!/usr/bin/env bash
# Load and latency of `cartseq serve` side by side with the FastAPI + PyTorch twin on the same GRU
# weights (benches/peers/serve_twin.py), on loopback only, with wrk (Debian package `wrk`).
#
#   benches/serve/serve_load.sh MODEL.json TEST_LOG [DURATION=10s] [ROUNDS=3] [CONNECTIONS=16]
#
# MODEL.json is a `cartseq nextitem --model gru --save-model` file. Both servers are started here on
# 127.0.0.1 and stopped at the end; every wrk run is bounded by DURATION. Rounds interleave cartseq
# and the twin; each run prints one JSON line (requests/s, p50/p90/p99 in ms, non-2xx, server RSS);
# the load average is printed before and after. Scenarios:
#   recommend        POST /v1/recommend with an explicit click list (test sessions' prefixes), k=20
#   events+recommend POST /v1/events (one click) then /v1/recommend for that session, new sessions
#                    all the time (5 clicks each), so eviction (--max-sessions) is exercised
set -euo pipefail
MODEL=${1:?model file}
TEST=${2:?test log}
DUR=${3:-10s}
ROUNDS=${4:-3}
CONN=${5:-16}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CARTSEQ_BIN:-$ROOT/target/release/cartseq}
PY=${PEERS_PY:-/work/peers-venv/bin/python}
TWIN_PORT=${TWIN_PORT:-18090}
WORK=$(mktemp -d)
trap 'kill $CS_PID $TWIN_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Click lists (first 400 sessions, as JSON strings) and single items for the Lua scripts.
python3 - "$TEST" "$WORK" <<'PY'
import sys, collections
test, work = sys.argv[1], sys.argv[2]
s = collections.OrderedDict()
with open(test) as f:
    next(f)
    for line in f:
        sid, item, t = line.rstrip("\n").split("\t")[:3]
        s.setdefault(sid, []).append((float(t), item))
lists = []
items = []
for clicks in s.values():
    names = [i for _, i in sorted(clicks)]
    items.extend(names)
    for t in range(1, len(names) + 1):
        lists.append(",".join('"%s"' % n for n in names[:t][-10:]))
q = lambda x: "'" + x.replace("\\", "\\\\").replace("'", "\\'") + "'"
open(f"{work}/clicks.lua", "w").write("return {" + ",".join(q(l) for l in lists[:2000]) + "}\n")
open(f"{work}/items.lua", "w").write("return {" + ",".join(q('"%s"' % i) for i in items[:5000]) + "}\n")
PY
export CLICKS_LUA=$WORK/clicks.lua ITEMS_LUA=$WORK/items.lua SESSION_CLICKS=5

"$BIN" serve --nextitem "$MODEL" --addr 127.0.0.1:0 --max-sessions "${MAX_SESSIONS:-100000}" -q > "$WORK/cs.out" &
CS_PID=$!
"$PY" "$ROOT/benches/peers/serve_twin.py" serve "$MODEL" --port "$TWIN_PORT" 2> "$WORK/twin.err" &
TWIN_PID=$!
for _ in $(seq 100); do
  [ -s "$WORK/cs.out" ] && curl -s "127.0.0.1:$TWIN_PORT/docs" > /dev/null && break
  sleep 0.3
done
CS=$(sed 's/listening on //' "$WORK/cs.out")
TWIN=http://127.0.0.1:$TWIN_PORT
echo "{\"load_before\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"cartseq\": \"$CS\", \"twin\": \"$TWIN\", \"duration\": \"$DUR\", \"connections\": $CONN}"

rss() { awk '/VmRSS/ {print $2 / 1024}' "/proc/$1/status"; }
run() { # name url pid script
  local out
  out=$(wrk -t 2 -c "$CONN" -d "$DUR" --latency -s "$ROOT/benches/serve/$4" "$2" 2>&1)
  python3 - "$1" "$4" "$(rss "$3")" "$(cut -d' ' -f1 /proc/loadavg)" <<PY
import re, sys, json
out = """$out"""
def ms(label):
    m = re.search(r"^\s+%s\s+([\d.]+)(us|ms|s)\s*$" % re.escape(label), out, re.M)
    if not m: return None
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
err = re.search(r"Socket errors: (.*)", out)
print(json.dumps({"server": sys.argv[1], "scenario": sys.argv[2].replace(".lua", ""),
  "rps": float(rps.group(1)) if rps else None, "p50_ms": ms("50%"), "p90_ms": ms("90%"),
  "p99_ms": ms("99%"), "non_2xx": int(bad.group(1)) if bad else 0,
  "socket_errors": err.group(1) if err else None, "rss_mb": float(sys.argv[3]), "load1": sys.argv[4]}))
PY
}
for r in $(seq "$ROUNDS"); do
  for scenario in recommend.lua events_recommend.lua; do
    run cartseq "$CS" "$CS_PID" "$scenario"
    run twin "$TWIN" "$TWIN_PID" "$scenario"
  done
done
curl -s "$CS/metrics" | grep -E "^cartseq_(sessions|sessions_evicted_total|unknown_items_total|panics_total) "
echo "{\"load_after\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
