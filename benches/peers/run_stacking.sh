#!/usr/bin/env bash
# Stacking vs scikit-learn/LightGBM on the same exported features, purchase and abandonment tasks on the
# shared Taobao slice, with paired-bootstrap intervals of the AUC difference (BENCHMARKS.md, patterns).
# Usage: bash benches/peers/run_stacking.sh [OUT_DIR]   (needs benches/peers/setup.sh and ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:-/tmp/cartseq-stacking-bench}"
mkdir -p "$OUT"
PY=benches/peers/.venv/bin/python
BIN=target/release/cartseq
T=../shared/data/taobao_userbehavior/UserBehavior_head.csv
cargo build --release --quiet
echo "load before: $(uptime)"
for task in purchase abandon; do
    F="$OUT/$task.csv"
    $BIN task "$T" --preset taobao --task $task --horizon 1d --train-windows 3 \
        --pattern-features 10 --pattern-tokens action --seq -q -o "$F"
    preds=()
    for spec in "stack_lr:rf,gbdt,logreg:logreg" "stack_lstm:rf,gbdt,logreg,lstm:logreg" "stack_gbdt:rf,gbdt,logreg:gbdt"; do
        IFS=: read -r name base meta <<<"$spec"
        $BIN train "$F" --model stack --base "$base" --meta "$meta" -q --json -o "$OUT/$task.$name.bin" \
            >"$OUT/$task.$name.train.json"
        $BIN eval "$OUT/$task.$name.bin" "$F" --predictions "$OUT/$task.$name.pred.csv" --json >/dev/null
        echo "$task $name fit $(grep -o '"fit_seconds": [0-9.]*' "$OUT/$task.$name.train.json")"
        preds+=(--pred "$name=$OUT/$task.$name.pred.csv")
    done
    for m in gbdt rf logreg; do
        $BIN train "$F" --model $m -q -o "$OUT/$task.$m.bin"
        $BIN eval "$OUT/$task.$m.bin" "$F" --predictions "$OUT/$task.$m.pred.csv" --json >/dev/null
        preds+=(--pred "$m=$OUT/$task.$m.pred.csv")
    done
    echo "## $task"
    $PY benches/peers/stacking_sklearn.py "$F" "${preds[@]}" | tee "$OUT/$task.md"
done
echo "load after: $(uptime)"
