#!/usr/bin/env python3
"""Issue 16, goals 2 and 3: the random forest and the GBDT against scikit-learn and LightGBM, side by side,
interleaved, median of --repeats runs, with the load average next to every figure.

* Random forest (goal 2) on the 1M-row table (`cartseq task` export of the generated 345k-user log): the
  CLI `cartseq train --model rf` + `cartseq eval` (defaults: 100 fully grown trees, sqrt features) against
  `RandomForestClassifier(100, sqrt, n_jobs=2)`, through `leaderboard_peers.py` (peak MB = the larger of
  the train and eval processes, CSV reading included).
* GBDT (goal 3) on the 100k synthetic table and on the 1M-row table: `fit_csv --bench-params` (100 rounds,
  31 leaves, 20 rows per leaf, 255 bins, no early stopping) against LightGBM and HistGradientBoosting with the
  same settings, through `sklearn_vs_cartseq.py`.

Usage (after `cargo build --release --bin cartseq -p cartseq --example fit_csv -p cartseq-models`):

    /work/peers-venv/bin/python benches/peers/trees_round2.py --big gen1m.csv --small synth100k.csv \\
        [--repeats 1] [--jsonl out.jsonl]

Prints a markdown table (medians) and the goal ratios. One repeat takes about 3 minutes on 2 cores.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load() -> str:
    return "%.2f %.2f %.2f" % os.getloadavg()


def leaderboard_rf(big: str, cartseq: str) -> list:
    out = subprocess.run([sys.executable, str(HERE / "leaderboard_peers.py"), "run", "--features", big,
                          "--name", "1M", "--models", "rf", "--cartseq", cartseq],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        r = json.loads(line)
        rows.append({"table": "1M", "model": "rf", "tool": r["lib"], "roc_auc": r.get("roc_auc"),
                     "fit_s": r.get("fit_s"), "predict_s": r.get("predict_s"), "peak_mb": r.get("peak_rss_mb"),
                     "error": r.get("error")})
    return rows


def gbdt(csv: str, table: str, tmp: Path) -> list:
    jl = tmp / "gbdt.jsonl"
    subprocess.run([sys.executable, str(HERE / "sklearn_vs_cartseq.py"), csv, "--models", "gbdt", "--jsonl", str(jl)],
                   capture_output=True, text=True, check=True)
    rows = []
    for line in jl.read_text().splitlines():
        r = json.loads(line)
        tool = r["tool"] if r["tool"] != "sklearn" else "sklearn-hgb"
        rows.append({"table": table, "model": "gbdt", "tool": tool, "roc_auc": r.get("roc_auc"),
                     "fit_s": r.get("fit_s"), "predict_s": r.get("predict_s"), "peak_mb": r.get("peak_mb"),
                     "error": r.get("error")})
    return rows


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", required=True, help="the 1M-row feature CSV")
    ap.add_argument("--small", help="the 100k synthetic feature CSV (make_synthetic_features.py --rows 100000)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--cartseq", default=str(HERE.parents[1] / "target/release/cartseq"))
    ap.add_argument("--jsonl")
    a = ap.parse_args()
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"trees_round2_{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    rows = []
    for rep in range(a.repeats):
        steps = [lambda: leaderboard_rf(a.big, a.cartseq), lambda: gbdt(a.big, "1M", tmp)]
        if a.small:
            steps.append(lambda: gbdt(a.small, "100k", tmp))
        for step in steps:
            before = load()
            for r in step():
                r.update(repeat=rep, load_before=before, load_after=load())
                rows.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
    if a.jsonl:
        with open(a.jsonl, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    keys = sorted({(r["table"], r["model"], r["tool"]) for r in rows})
    fmt = lambda v, d=3: "—" if v is None else f"{v:.{d}f}"  # noqa: E731
    print(f"| table | model | tool | ROC-AUC | fit s | predict s | peak MB | load avg (1/5/15 min) | runs |")
    print("|---|---|---|---:|---:|---:|---:|---|---:|")
    medians = {}
    for k in keys:
        rs = [r for r in rows if (r["table"], r["model"], r["tool"]) == k and not r.get("error")]
        if not rs:
            print(f"| {k[0]} | {k[1]} | {k[2]} | failed | | | | | |")
            continue
        m = {f: med([r[f] for r in rs]) for f in ["roc_auc", "fit_s", "predict_s", "peak_mb"]}
        medians[k] = m
        loads = ", ".join(sorted({r["load_before"] for r in rs}))
        print(f"| {k[0]} | {k[1]} | {k[2]} | {fmt(m['roc_auc'], 4)} | {fmt(m['fit_s'])} | {fmt(m['predict_s'])} | "
              f"{fmt(m['peak_mb'], 0)} | {loads} | {len(rs)} |")
    print()
    c, s = medians.get(("1M", "rf", "cartseq")), medians.get(("1M", "rf", "sklearn"))
    if c and s:
        print(f"goal 2 (rf, 1M): predict {s['predict_s'] / c['predict_s']:.2f}x sklearn's speed "
              f"({'met' if c['predict_s'] <= s['predict_s'] else 'not met'}), peak {c['peak_mb']:.0f} vs "
              f"{s['peak_mb']:.0f} MB ({'met' if c['peak_mb'] <= s['peak_mb'] else 'not met'}), fit "
              f"{s['fit_s'] / c['fit_s']:.1f}x faster ({'met' if s['fit_s'] >= 5 * c['fit_s'] else 'not met'}), "
              f"ROC-AUC {c['roc_auc']:.4f} vs {s['roc_auc']:.4f}")
    for t in ["100k", "1M"]:
        c, l = medians.get((t, "gbdt", "cartseq")), medians.get((t, "gbdt", "lightgbm"))
        if c and l:
            ok = c["fit_s"] <= l["fit_s"] and abs(c["roc_auc"] - l["roc_auc"]) <= 0.002
            print(f"goal 3 (gbdt, {t}): fit {c['fit_s']:.3f} s vs LightGBM {l['fit_s']:.3f} s "
                  f"(ratio {c['fit_s'] / l['fit_s']:.2f}), ROC-AUC {c['roc_auc']:.4f} vs {l['roc_auc']:.4f} "
                  f"({'met' if ok else 'not met'})")


if __name__ == "__main__":
    main()
