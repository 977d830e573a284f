#!/usr/bin/env bash
# Issue 16, goal 5 ("mining >= 10x SPMF's fastest on every row"): every row of BENCHMARKS.md's mining
# table, cartseq's default algorithm against SPMF, interleaved, median of REPS (default 3), printed as
# two markdown tables with the load average per row. About 8-9 minutes on a quiet 2-core machine.
#  * sparse rows (BMS1, BMS2, kosarak10k): SPMF PrefixSpan and CM-SPAM (SPMF's fastest on every one of
#    them; CM-SPADE took 1.3-80 s there and was never the fastest);
#  * SIGN (0.5-0.2) and the dense rows (zipf30, sets50): SPMF PrefixSpan, CM-SPADE and CM-SPAM
#    (`--quick`), 45 s timeout (a timed-out tool is not re-run, so later repetitions are short).
# Usage: bash benches/peers/mining_goal5.sh [OUT_DIR]   (after `cargo build --release`)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:-/tmp/cartseq-mining-goal5}" REPS="${REPS:-3}" PY="${PEERS_PY:-/work/peers-venv/bin/python}"
mkdir -p "$OUT"

"$PY" benches/peers/run_mining.py --repeat "$REPS" --timeout 45 \
    --rows BMS1,BMS2,kosarak10k \
    --tools "SPMF PrefixSpan,SPMF CM-SPAM" \
    --out "$OUT/sparse.jsonl" --markdown "$OUT/sparse.md" > "$OUT/sparse.log"
"$PY" benches/peers/run_mining.py --quick --repeat "$REPS" --timeout 45 \
    --rows SIGN,zipf30,sets50 \
    --out "$OUT/dense.jsonl" --markdown "$OUT/dense.md" > "$OUT/dense.log"
echo "## sparse rows"
cat "$OUT/sparse.md"
echo
echo "## dense rows"
cat "$OUT/dense.md"
