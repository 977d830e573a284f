#!/usr/bin/env python3
"""Generates benches/peers/fixtures/rules_mlxtend.csv: mlxtend's association rules on
data/samples/retail_basket_sample.txt (5,000 FIMI retail baskets) at min support 0.01, min confidence
0.0, with every measure, so the Rust test mining/tests/rules_mlxtend.rs can check cartseq's measures
(support, antecedent/consequent support, confidence, lift, leverage, conviction) within 1e-9 without
Python.

Run from the repository root, in the peers venv (benches/peers/setup.sh):
    benches/peers/.venv/bin/python benches/peers/rules_mlxtend_fixture.py
"""
import csv
import os
import sys

import mlxtend
import pandas as pd
from mlxtend.frequent_patterns import association_rules, fpgrowth
from mlxtend.preprocessing import TransactionEncoder

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "data/samples/retail_basket_sample.txt")
OUT = os.path.join(ROOT, "benches/peers/fixtures/rules_mlxtend.csv")
MIN_SUPPORT = 0.01

baskets = []
with open(SRC, newline="") as f:
    for line in f:
        items = sorted({int(t) for t in line.split()})
        if items:
            baskets.append([str(i) for i in items])

te = TransactionEncoder()
df = pd.DataFrame(te.fit(baskets).transform(baskets), columns=te.columns_)
freq = fpgrowth(df, min_support=MIN_SUPPORT, use_colnames=True)
rules = association_rules(freq, num_itemsets=len(df), metric="confidence", min_threshold=0.0)

def side(s):
    return " ".join(str(i) for i in sorted(int(x) for x in s))

rows = []
for _, r in rules.iterrows():
    rows.append([side(r["antecedents"]), side(r["consequents"])] + [
        repr(float(r[c])) for c in ("support", "antecedent support", "consequent support",
                                     "confidence", "lift", "leverage", "conviction")])
rows.sort()
with open(OUT, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow([f"# mlxtend {mlxtend.__version__}; {len(df)} baskets; min_support {MIN_SUPPORT}; "
                f"{len(freq)} itemsets; min_confidence 0"])
    w.writerow(["antecedent", "consequent", "support", "antecedent_support", "consequent_support",
                "confidence", "lift", "leverage", "conviction"])
    w.writerows(rows)
print(f"{len(rows)} rules from {len(freq)} itemsets -> {OUT}", file=sys.stderr)
