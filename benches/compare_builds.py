"""A/B timing of two cartseq builds on the mining and model rows of BENCHMARKS.md.

Used to check that a refactoring did not slow anything down: the same commands run with build A and build
B, interleaved (A, B, A, B, …) so a change in machine load hits both, and the median wall time of each is
reported with the ratio B / A. Outputs of the two builds are compared byte for byte (mining) or by the
printed metrics (models), so a speed difference cannot hide a result difference.

    python3 benches/compare_builds.py --a /tmp/before/target/release --b target/release \
        --shared ../shared --runs 5 --synth /tmp/synth100k.csv

`--a`/`--b` are target folders holding `cartseq` and `examples/fit_csv`. The synthetic model file comes
from `benches/peers/make_synthetic_features.py /tmp/synth100k.csv --rows 100000` (seed 7).
"""

import argparse
import filecmp
import json
import os
import statistics
import subprocess
import tempfile
import time

MINING_ROWS = [
    ("BMS1", "spmf/BMS1_spmf.txt", "0.001"),
    ("BMS1", "spmf/BMS1_spmf.txt", "0.0008"),
    ("BMS1", "spmf/BMS1_spmf.txt", "0.0006"),
    ("BMS2", "spmf/BMS2.txt", "0.001"),
    ("BMS2", "spmf/BMS2.txt", "0.0005"),
    ("kosarak10k", "spmf/kosarak10k.txt", "0.005"),
    ("kosarak10k", "spmf/kosarak10k.txt", "0.002"),
    ("SIGN", "spmf/SIGN.txt", "0.3"),
]
MODELS = ["logreg", "gnb", "dt", "rf", "ada", "gbdt", "linsvm"]


def timed(cmd, out=None):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.decode()[-2000:]}")
    return dt, r.stdout


def ab(cmd_a, cmd_b, runs):
    ta, tb, outs = [], [], []
    for _ in range(runs):
        a, oa = timed(cmd_a)
        b, ob = timed(cmd_b)
        ta.append(a)
        tb.append(b)
        outs = (oa, ob)
    return statistics.median(ta), statistics.median(tb), outs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True, help="target folder of build A (before)")
    ap.add_argument("--b", required=True, help="target folder of build B (after)")
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--synth", default="", help="synthetic feature CSV for the model rows")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    print("| row | build A s | build B s | B / A | same output |")
    print("|---|---:|---:|---:|---|")
    tmp = tempfile.mkdtemp()
    for name, rel, sup in MINING_ROWS:
        path = os.path.join(args.shared, "data", rel)
        if name == "BMS2":  # SPMF readers need the stray CRs removed; cartseq gets the same copy
            clean = os.path.join(tmp, "BMS2.txt")
            if not os.path.exists(clean):
                with open(path, "rb") as f, open(clean, "wb") as g:
                    g.write(f.read().replace(b"\r", b""))
            path = clean
        for algo in ["prefixspan", "spade", "gsp"]:
            oa, ob = os.path.join(tmp, "a.txt"), os.path.join(tmp, "b.txt")
            base = ["mine", path, "--preset", "spmf", "--algo", algo, "--min-support", sup,
                    "--format", "spmf", "-q", "-o"]
            a, b, _ = ab([f"{args.a}/cartseq"] + base + [oa], [f"{args.b}/cartseq"] + base + [ob],
                         args.runs)
            same = filecmp.cmp(oa, ob, shallow=False)
            print(f"| mine {name} {sup} {algo} | {a:.3f} | {b:.3f} | {b / a:.2f} | {same} |", flush=True)
    if args.synth:
        for m in MODELS:
            base = [args.synth, "--model", m, "--bench-params"]
            fa, fb, same = [], [], True
            for _ in range(args.runs):
                ra = json.loads(timed([f"{args.a}/examples/fit_csv"] + base)[1])
                rb = json.loads(timed([f"{args.b}/examples/fit_csv"] + base)[1])
                fa.append(ra["fit_s"])
                fb.append(rb["fit_s"])
                same &= (ra["roc_auc"], ra["f1"]) == (rb["roc_auc"], rb["f1"])
            a, b = statistics.median(fa), statistics.median(fb)
            print(f"| fit {m} (fit_s of fit_csv) | {a:.3f} | {b:.3f} | {b / max(a, 1e-9):.2f} | {same} |",
                  flush=True)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
