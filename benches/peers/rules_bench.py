#!/usr/bin/env python3
"""Rules benchmark: frequent itemsets and sequential rules, cartseq vs SPMF, mlxtend, efficient-apriori.

Every command is one process measured once with /usr/bin/time -v (wall time, peak RSS). Rows:

* FIMI retail.txt (88,162 baskets) at min support 0.01, 0.001, 0.0005 and the Online Retail 10k
  sample's invoices (one basket per invoice) at 0.02 and 0.01: cartseq FP-Growth and Apriori
  (`cartseq itemsets`), SPMF FPGrowth_itemsets and Apriori, mlxtend fpgrowth, efficient-apriori;
* SIGN (0.4 / 0.6) and BMS1 (0.001 / 0.5): SPMF RuleGrowth and ERMiner vs `cartseq rules --kind
  sequential`.

Itemset/rule counts are printed next to the times so a disagreement would show. Run from the repo root
after `cargo build --release` and benches/peers/setup.sh:

    benches/peers/.venv/bin/python benches/peers/rules_bench.py [--skip-slow] > /tmp/rules_bench.md
"""
import argparse
import csv
import os
import sys
import tempfile
from collections import OrderedDict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT, measure, spmf_cmd, venv_python  # noqa: E402

SHARED = REPO_ROOT.parent / "shared" / "data"
CARTSEQ = REPO_ROOT / "target" / "release" / "cartseq"
PEER = Path(__file__).resolve().parent / "rules_peer.py"
TIMEOUT = 300


def online_retail_baskets(src, dst):
    """One line per invoice: its StockCodes as integers (first-seen numbering), in file order."""
    ids, inv = {}, OrderedDict()
    with open(src, newline="", encoding="utf-8", errors="replace") as f:
        for row in csv.DictReader(f):
            code = ids.setdefault(row["StockCode"], len(ids))
            inv.setdefault(row["InvoiceNo"], set()).add(code)
    with open(dst, "w") as f:
        for items in inv.values():
            f.write(" ".join(str(i) for i in sorted(items)) + "\n")
    return len(inv)


def lines(path):
    try:
        with open(path) as f:
            return sum(1 for l in f if l.strip())
    except OSError:
        return None


def fmt(m, count):
    if m.timed_out:
        return "timeout", "-", "-"
    if not m.ok:
        err = (m.stderr.strip().splitlines() or ["failed"])[-1]
        if "MemoryError" in m.stderr or "Unable to allocate" in m.stderr or m.exit_code in (-9, 137):
            return "out of memory", f"{m.peak_rss_mb:.0f}" if m.peak_rss_mb else "-", "-"
        return f"failed ({err[:60]})", "-", "-"
    return f"{m.wall_s:.2f}", f"{m.peak_rss_mb:.0f}", str(count) if count is not None else "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-slow", action="store_true", help="skip mlxtend/efficient-apriori/SPMF Apriori at 0.0005")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rules_bench_"))
    py = venv_python()
    retail = SHARED / "fimi_retail" / "retail.txt"
    orr_csv = SHARED / "online_retail" / "online_retail_sample_10k_cleaned.csv"
    orr = tmp / "online_retail_invoices.txt"
    online_retail_baskets(orr_csv, orr)

    print("| data | min support | tool | wall s | peak RSS MB | itemsets |")
    print("|---|---|---|---:|---:|---:|")
    for name, path, cart_args, sups in [
        ("retail.txt", retail, ["--preset", "basket"], ["0.01", "0.001", "0.0005"]),
        ("Online Retail invoices", orr_csv, ["--preset", "online-retail", "--by", "session"], ["0.02", "0.01"]),
    ]:
        basket = retail if path == retail else orr
        for s in sups:
            pct = f"{float(s) * 100:g}%"
            runs = []
            for algo in ["fpgrowth", "apriori"]:
                out = tmp / f"c_{algo}.txt"
                m = measure([CARTSEQ, "itemsets", path, *cart_args, "--algo", algo, "--min-support", s,
                             "--format", "spmf", "-o", out, "-q"], timeout_s=TIMEOUT)
                runs.append((f"cartseq {algo}", m, lines(out)))
            for algo in ["FPGrowth_itemsets", "Apriori"]:
                out = tmp / f"s_{algo}.txt"
                if out.exists():
                    out.unlink()
                if a.skip_slow and algo == "Apriori" and s == "0.0005":
                    continue
                m = measure(spmf_cmd(algo, basket, out, pct), timeout_s=TIMEOUT)
                runs.append((f"SPMF {algo}", m, lines(out)))
            for tool in ["mlxtend", "efficient-apriori"]:
                if a.skip_slow and s == "0.0005":
                    continue
                m = measure([py, PEER, tool, basket, s], timeout_s=TIMEOUT)
                cnt = m.stdout.strip().splitlines()[-1] if m.ok and m.stdout.strip() else None
                runs.append((f"{tool} (fpgrowth)" if tool == "mlxtend" else tool, m, cnt))
            for tool, m, cnt in runs:
                w, r, c = fmt(m, cnt)
                print(f"| {name} | {s} | {tool} | {w} | {r} | {c} |", flush=True)

    print()
    print("| data | min support / confidence | tool | wall s | peak RSS MB | rules |")
    print("|---|---|---|---:|---:|---:|")
    for name, file, s, c in [("SIGN", "SIGN.txt", "0.4", "0.6"), ("BMS1", "BMS1_spmf.txt", "0.001", "0.5")]:
        path = SHARED / "spmf" / file
        runs = []
        out = tmp / "c_rules.txt"
        m = measure([CARTSEQ, "rules", path, "--preset", "spmf", "--kind", "sequential", "--min-support", s,
                     "--min-confidence", c, "--format", "spmf", "-o", out, "-q"], timeout_s=TIMEOUT)
        runs.append(("cartseq rules --kind sequential", m, lines(out)))
        for algo in ["RuleGrowth", "ERMiner"]:
            out = tmp / f"s_{algo}.txt"
            m = measure(spmf_cmd(algo, path, out, f"{float(s) * 100:g}%", f"{float(c) * 100:g}%"), timeout_s=TIMEOUT)
            runs.append((f"SPMF {algo}", m, lines(out)))
        for tool, m, cnt in runs:
            w, r, n = fmt(m, cnt)
            print(f"| {name} | {s} / {c} | {tool} | {w} | {r} | {n} |", flush=True)


if __name__ == "__main__":
    main()
