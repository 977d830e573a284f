#!/usr/bin/env bash
# Reading an event log from CSV and from Parquet, cartseq vs polars, interleaved, REPS times each.
# cartseq: `stats LOG --json -q` (read, build per-user sequences, count); polars (2 threads):
# read, sort by user and time, group the items per user (no write) — benches/peers' usual polars line.
# Usage: bash benches/peers/parquet_ingest.sh CSV PARQUET [REPS]   (the CSV in the taobao preset; the
# Parquet from `cartseq convert CSV --preset taobao --format parquet -o PARQUET`)
set -euo pipefail
cd "$(dirname "$0")/../.."
CSV=$1; PQ=$2; REPS=${3:-3}
PY="${PEERS_PY:-/work/peers-venv/bin/python}"
BIN="${CARTSEQ:-target/release/cartseq}"
OUT=$(mktemp -d)
. benches/peers/timed.sh
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$REPS"); do
    timed "cartseq_csv_$r" "$BIN" stats "$CSV" --preset taobao --json -q
    timed "cartseq_parquet_$r" "$BIN" stats "$PQ" --json -q
    timed "polars_csv_$r" env POLARS_MAX_THREADS=2 "$PY" -c "
import polars as pl, sys
df = pl.read_csv(sys.argv[1], has_header=False, new_columns=['user','item','category','action','time'])
g = df.sort(['user','time']).group_by('user', maintain_order=True).agg('item')
print(g.height)" "$CSV"
    timed "polars_parquet_$r" env POLARS_MAX_THREADS=2 "$PY" -c "
import polars as pl, sys
df = pl.read_parquet(sys.argv[1])
g = df.sort(['user','time']).group_by('user', maintain_order=True).agg('item')
print(g.height)" "$PQ"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$OUT"
