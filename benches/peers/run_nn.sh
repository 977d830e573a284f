#!/usr/bin/env bash
# The neural side-by-side of BENCHMARKS.md, in one run on one machine:
#   1. training throughput of the same sequence classifier (embedding 64 → GRU/LSTM(100) → softmax over
#      the items, batch 64, Adam, clip 5, length-bucketed batches, 2 threads) in cartseq, PyTorch and
#      Keras (JAX backend), on every prefix (≤ 10 clicks) → next click of Yoochoose's train_tr sample;
#   2. next-item quality of the GRU4Rec-style network, cartseq vs the PyTorch twin, same split and
#      hyper-parameters.
# Usage: bash benches/peers/run_nn.sh [OUT_DIR]   (needs benches/peers/setup.sh and ../shared/data)
# Peak RSS comes from /usr/bin/time -v; each tool's JSON goes to OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:-/tmp/cartseq-nn-bench}"
mkdir -p "$OUT"
PY=benches/peers/.venv/bin/python
Y=../shared/data/yoochoose
TR=$Y/yoochoose-clicks-100k_train_tr.txt
TE=$Y/yoochoose-clicks-100k_train_valid.txt
EPOCHS="${NN_EPOCHS:-2}"
Q_EPOCHS="${Q_EPOCHS:-10}"

. benches/peers/timed.sh

echo "load before: $(uptime)"
cargo build --release --quiet
cargo bench -p cartseq-models --bench nn_throughput --no-run --quiet 2>/dev/null || true
BENCH=$(ls -t target/release/deps/nn_throughput-* | grep -v '\.d$' | head -1)
$PY benches/peers/nn_torch.py make-seqs --train "$TR" --out "$OUT/seqs.tsv"

for cell in gru lstm; do
    timed "cartseq_$cell" env NN_SEQS="$OUT/seqs.tsv" NN_CELL=$cell NN_EPOCHS="$EPOCHS" RAYON_NUM_THREADS=2 "$BENCH"
    timed "torch_$cell" $PY benches/peers/nn_torch.py seqclf --seqs "$OUT/seqs.tsv" --cell $cell --epochs "$EPOCHS" --threads 2
    timed "keras_$cell" env KERAS_BACKEND=jax XLA_FLAGS="--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2" \
        $PY benches/peers/nn_keras.py --seqs "$OUT/seqs.tsv" --cell $cell --epochs "$EPOCHS"
done

timed quality_cartseq target/release/cartseq nextitem --train "$TR" --test "$TE" --preset yoochoose \
    --model gru --epochs "$Q_EPOCHS" --dropout 0.5 --json -q
timed quality_torch $PY benches/peers/nn_torch.py gru4rec --train "$TR" --test "$TE" \
    --epochs "$Q_EPOCHS" --dropout 0.5 --quiet
echo "load after: $(uptime)"
echo "results in $OUT"
