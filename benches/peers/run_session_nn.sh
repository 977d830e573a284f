#!/usr/bin/env bash
# SR-GNN and SASRec side by side with their PyTorch twins (benches/peers/srgnn_torch.py,
# sasrec_torch.py) on Yoochoose's train_tr → train_valid sample, same hyper-parameters, 2 threads each.
# Usage: bash benches/peers/run_session_nn.sh [OUT_DIR]
#   SRGNN_EPOCHS (default 4) and SASREC_EPOCHS (default 20) set the epochs of both sides.
# Peak RSS and wall time come from /usr/bin/time -v; each tool's JSON goes to OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:-/tmp/cartseq-session-nn}"
mkdir -p "$OUT"
PY="${PEERS_PY:-/work/peers-venv/bin/python}"
Y=../shared/data/yoochoose
TR=$Y/yoochoose-clicks-100k_train_tr.txt
TE=$Y/yoochoose-clicks-100k_train_valid.txt
SE="${SRGNN_EPOCHS:-4}"
AE="${SASREC_EPOCHS:-20}"
BIN="${CARTSEQ:-target/release/cartseq}"

. benches/peers/timed.sh

echo "load before: $(uptime)"
timed srgnn_cartseq "$BIN" nextitem --train "$TR" --test "$TE" --model srgnn --epochs "$SE" --threads 2 --json -q
timed srgnn_torch "$PY" benches/peers/srgnn_torch.py --train "$TR" --test "$TE" --epochs "$SE" --threads 2 --quiet
timed sasrec_cartseq "$BIN" nextitem --train "$TR" --test "$TE" --model sasrec --epochs "$AE" --threads 2 --json -q
timed sasrec_torch "$PY" benches/peers/sasrec_torch.py --train "$TR" --test "$TE" --epochs "$AE" --threads 2 --quiet
echo "load after: $(uptime)"
echo "results in $OUT"
