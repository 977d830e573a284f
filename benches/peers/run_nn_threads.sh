#!/usr/bin/env bash
# Issue 16, goal 4 ("networks on both cores"): the training-throughput workload of run_nn.sh
# (embedding 64 → GRU/LSTM(100) → softmax over 2,872 classes, batch 64, Adam, clip 5, every prefix of
# Yoochoose 100k train_tr → next click) timed side by side, interleaved, REPS times per tool:
#   cartseq with 1 and 2 threads (RAYON_NUM_THREADS), PyTorch CPU with 2 threads, Keras 3 on JAX (2).
# Figure = the SECOND epoch's seconds (Keras' first epoch compiles), median over REPS; the table also
# gives cartseq 2-thread ÷ PyTorch and ÷ Keras, and checks that both cartseq runs printed the same
# training losses (their weights are byte-identical by construction). About 4–5 minutes on 2 cores.
# Usage: bash benches/peers/run_nn_threads.sh [OUT_DIR]    (REPS=3 NN_EPOCHS=2 by default;
#        SUMMARY_ONLY=1 re-prints the table of an earlier run in OUT_DIR without running anything)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:-/tmp/cartseq-nn-threads}"
mkdir -p "$OUT"
PY="${PEERS_PY:-/work/peers-venv/bin/python}"
[ -x "$PY" ] || PY=benches/peers/.venv/bin/python
TR=../shared/data/yoochoose/yoochoose-clicks-100k_train_tr.txt
REPS="${REPS:-3}"
EPOCHS="${NN_EPOCHS:-2}"

if [ "${SUMMARY_ONLY:-0}" != 1 ]; then
    cargo bench -p cartseq-models --bench nn_throughput --no-run --quiet 2>/dev/null
    BENCH=$(ls -t "${CARGO_TARGET_DIR:-target}"/release/deps/nn_throughput-* | grep -v '\.d$' | head -1)
    [ -s "$OUT/seqs.tsv" ] || $PY benches/peers/nn_torch.py make-seqs --train "$TR" --out "$OUT/seqs.tsv"

    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/load.txt"
    for rep in $(seq 1 "$REPS"); do
        for cell in gru lstm; do
            env NN_SEQS="$OUT/seqs.tsv" NN_CELL=$cell NN_EPOCHS="$EPOCHS" RAYON_NUM_THREADS=1 "$BENCH" \
                >"$OUT/cartseq1_${cell}_$rep.json"
            env NN_SEQS="$OUT/seqs.tsv" NN_CELL=$cell NN_EPOCHS="$EPOCHS" RAYON_NUM_THREADS=2 "$BENCH" \
                >"$OUT/cartseq2_${cell}_$rep.json"
            $PY benches/peers/nn_torch.py seqclf --seqs "$OUT/seqs.tsv" --cell $cell --epochs "$EPOCHS" \
                --threads 2 >"$OUT/torch_${cell}_$rep.json"
            env KERAS_BACKEND=jax XLA_FLAGS="--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2" \
                $PY benches/peers/nn_keras.py --seqs "$OUT/seqs.tsv" --cell $cell --epochs "$EPOCHS" \
                >"$OUT/keras_${cell}_$rep.json"
            echo "rep $rep $cell done, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt"
        done
    done
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt"
fi

"$PY" - "$OUT" "$REPS" <<'PYEOF'
import json, statistics, sys
out, reps = sys.argv[1], int(sys.argv[2])

def last_json(path):
    """The last JSON object of a run's output: cartseq prints one line, the peers print it indented
    over many lines (and may print other text before it)."""
    text = open(path).read()
    dec = json.JSONDecoder()
    starts = [i for i, ch in enumerate(text) if ch == "{" and (i == 0 or text[i - 1] == "\n")]
    for i in reversed(starts):
        try:
            obj, _ = dec.raw_decode(text, i)
            return obj
        except json.JSONDecodeError:
            continue
    sys.exit(f"{path}: no JSON object in the output")

tools = ("cartseq1", "cartseq2", "torch", "keras")
names = {"cartseq1": "cartseq 1 thread", "cartseq2": "cartseq 2 threads",
         "torch": "PyTorch 2 threads", "keras": "Keras/JAX (compiled epoch)"}
result, runs_of = {}, {}
for cell in ("gru", "lstm"):
    med, secs_of = {}, {}
    for tool in tools:
        runs = [last_json(f"{out}/{tool}_{cell}_{r}.json") for r in range(1, reps + 1)]
        secs_of[tool] = [r["epochs"][-1]["seconds"] for r in runs]
        med[tool] = statistics.median(secs_of[tool])
        runs_of[(cell, tool)] = runs
    losses = {t: [[round(e["train_loss"], 5) for e in r["epochs"]] for r in runs_of[(cell, t)]]
              for t in ("cartseq1", "cartseq2")}
    same = losses["cartseq1"] == losses["cartseq2"]
    result[cell] = {
        "median_s": med,
        "runs_s": secs_of,
        "cartseq_losses": losses["cartseq2"][0],
        "cartseq2_over_torch": med["cartseq2"] / med["torch"],
        "cartseq2_over_keras": med["cartseq2"] / med["keras"],
        "speedup_2_threads": med["cartseq1"] / med["cartseq2"],
        "same_losses_1_vs_2_threads": same,
        "goal_met": med["cartseq2"] <= 0.8 * med["torch"] and med["cartseq2"] <= med["keras"],
    }
print(f"second-epoch seconds, median of {reps}; load: " + open(f"{out}/load.txt").read().replace("\n", "; "))
print("| cell | " + " | ".join(names[t] for t in tools)
      + " | cartseq-2 / PyTorch (goal ≤ 0.8) | cartseq-2 / Keras (goal ≤ 1) | 1→2 threads"
      + " | same losses 1 vs 2 threads | goal 4 |")
print("|---|" + "---:|" * (len(tools) + 3) + "---|---|")
for cell, r in result.items():
    print(f"| {cell.upper()} | " + " | ".join(f"{r['median_s'][t]:.2f}" for t in tools)
          + f" | {r['cartseq2_over_torch']:.2f} | {r['cartseq2_over_keras']:.2f}"
          + f" | ×{r['speedup_2_threads']:.2f}"
          + f" | {'yes' if r['same_losses_1_vs_2_threads'] else 'NO'} ({', '.join(f'{v:.5f}' for v in r['cartseq_losses'])})"
          + f" | {'met' if r['goal_met'] else 'NOT met'} |")
for cell, r in result.items():
    print(f"{cell} runs (s): " + "; ".join(f"{t} " + " ".join(f"{v:.3f}" for v in r["runs_s"][t]) for t in tools))
json.dump(result, open(f"{out}/summary.json", "w"), indent=1)
print(f"summary: {out}/summary.json")
PYEOF
