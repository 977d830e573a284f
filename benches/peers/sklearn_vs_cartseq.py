#!/usr/bin/env python3
"""Runs every baseline on one feature CSV with cartseq (models/examples/fit_csv.rs) and with
scikit-learn/LightGBM (sklearn_baselines.py), same hyper-parameters, and prints a markdown table.

Usage:
  cargo build --release -p cartseq-models --example fit_csv
  benches/peers/.venv/bin/python benches/peers/sklearn_vs_cartseq.py FEATURES.csv [--models dt,rf] [--jsonl out.jsonl]
  benches/peers/.venv/bin/python benches/peers/sklearn_vs_cartseq.py --table a.jsonl [b.jsonl ...]   # table only
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIT_CSV = ROOT / "target" / "release" / "examples" / "fit_csv"
PEER = {"prior": ["prior"], "logreg": ["logreg"], "gnb": ["gnb"], "bnb": ["bnb"], "dt": ["dt"], "rf": ["rf"],
        "ada": ["ada"], "gbdt": ["gbdt", "lightgbm"], "linsvm": ["linsvm"], "svm": ["svm"]}


def table(rows):
    by = {}
    for r in rows:
        by.setdefault(r["model"], []).append(r)
    out = ["| model | tool | test ROC-AUC | F1 | fit s | predict s | peak MB | train rows |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for m in PEER:
        for r in sorted(by.get(m, []), key=lambda r: r["tool"]):
            if "error" in r:
                out.append(f"| {m} | {r['tool']} | error: {r['error']} | | | | | |")
                continue
            auc = "n/a" if r.get("roc_auc") is None else f"{r['roc_auc']:.4f}"
            out.append(f"| {m} | {r.get('peer', r['tool']) if r['tool'] != 'cartseq' else 'cartseq'} | {auc} | "
                       f"{r['f1']:.4f} | {r['fit_s']:.3f} | {r['predict_s']:.3f} | {r['peak_mb']:.0f} | {r['n_train']} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv", nargs="?")
    ap.add_argument("--models", default=",".join(PEER))
    ap.add_argument("--jsonl")
    ap.add_argument("--table", nargs="+")
    a = ap.parse_args()
    if a.table:
        rows = [json.loads(l) for f in a.table for l in open(f) if l.strip()]
        print(table(rows))
        return
    rows = []
    for m in a.models.split(","):
        r = subprocess.run([str(FIT_CSV), a.csv, "--model", m, "--bench-params"], capture_output=True, text=True)
        rows.append(json.loads(r.stdout) if r.returncode == 0 else {"tool": "cartseq", "model": m, "error": r.stderr.strip()})
        peers = ",".join(PEER[m])
        r = subprocess.run([sys.executable, str(Path(__file__).parent / "sklearn_baselines.py"), a.csv,
                            "--models", peers], capture_output=True, text=True)
        rows += [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    if a.jsonl:
        with open(a.jsonl, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    print(table(rows))


if __name__ == "__main__":
    main()
