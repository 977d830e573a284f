#!/usr/bin/env python3
"""Stacking vs scikit-learn on the same exported features.

Usage: stacking_sklearn.py FEATURES.csv [cartseq_leaderboard.json] [--pred NAME=PRED.csv ...]
FEATURES.csv comes from `cartseq task ... --pattern-features K` (columns id, split, label, features).
Fits on train rows, scores test rows: sklearn LogisticRegression, RandomForest(n_jobs=2),
HistGradientBoosting, LightGBM and StackingClassifier(rf, hgb, lr -> LogisticRegression, cv=5);
prints ROC-AUC with a bootstrap 95% interval (1000 replicates, seed 0) and fit seconds as a Markdown
table. If a cartseq leaderboard JSON is given, its rows are appended (ROC-AUC and fit time).
Each `--pred NAME=PRED.csv` (from `cartseq eval MODEL FEATURES.csv --predictions PRED.csv`) adds a
cartseq model scored on the very same test rows, with its own interval and the *paired* bootstrap
difference against the best scikit-learn/LightGBM model (same resampled rows on both sides), which is
what "beats it by a margin outside the confidence interval" means.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier, StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

args = sys.argv[1:]
preds = []
while "--pred" in args:
    i = args.index("--pred")
    preds.append(args[i + 1].split("=", 1))
    del args[i:i + 2]
df = pd.read_csv(args[0])
feat = [c for c in df.columns[3:] if c != "seq"]
tr, te = df[df.split == "train"], df[df.split == "test"]
Xtr, ytr, Xte, yte = tr[feat].values, tr.label.values, te[feat].values, te.label.values
rng = np.random.default_rng(0)
boot = [rng.integers(0, len(yte), len(yte)) for _ in range(1000)]


def ci(p):
    v = [roc_auc_score(yte[b], p[b]) for b in boot if len(set(yte[b])) == 2]
    return np.percentile(v, 2.5), np.percentile(v, 97.5)


models = {
    "sklearn logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    "sklearn rf": RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=0),
    "sklearn hgb": HistGradientBoostingClassifier(random_state=0),
    "sklearn stacking(rf,hgb,lr->lr)": StackingClassifier(
        estimators=[
            ("rf", RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=0)),
            ("hgb", HistGradientBoostingClassifier(random_state=0)),
            ("lr", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))),
        ],
        final_estimator=LogisticRegression(max_iter=1000),
        cv=5,
    ),
}
try:
    import lightgbm

    models["lightgbm"] = lightgbm.LGBMClassifier(n_estimators=100, verbose=-1, random_state=0)
except ImportError:
    pass
print(f"train rows {len(ytr)}, test rows {len(yte)} ({int(yte.sum())} positive), {len(feat)} features")
print("| model | test ROC-AUC | bootstrap 95% CI | fit s |")
print("|---|---:|---|---:|")
scores = {}
for name, m in models.items():
    t = time.perf_counter()
    m.fit(Xtr, ytr)
    fit = time.perf_counter() - t
    p = m.predict_proba(Xte)[:, 1]
    scores[name] = p
    lo, hi = ci(p)
    print(f"| {name} | {roc_auc_score(yte, p):.4f} | [{lo:.4f}, {hi:.4f}] | {fit:.3f} |")
peers = {k: v for k, v in scores.items() if "stacking" not in k}
best = max(peers, key=lambda k: roc_auc_score(yte, peers[k]))
ids = te[df.columns[0]].astype(str).values
for name, path in preds:
    pr = pd.read_csv(path, dtype={0: str})
    pr = pr.set_index(pr.columns[0]).loc[ids]
    assert (pr.label.values == yte).all(), f"{path}: labels differ from the feature CSV's test rows"
    p = pr["p_1"].values
    lo, hi = ci(p)
    auc = roc_auc_score(yte, p)
    diffs = [roc_auc_score(yte[b], p[b]) - roc_auc_score(yte[b], peers[best][b])
             for b in boot if len(set(yte[b])) == 2]
    dlo, dhi = np.percentile(diffs, 2.5), np.percentile(diffs, 97.5)
    d = auc - roc_auc_score(yte, peers[best])
    verdict = "better" if dlo > 0 else ("worse" if dhi < 0 else "no significant difference")
    print(f"| cartseq {name} | {auc:.4f} | [{lo:.4f}, {hi:.4f}] | – |")
    print(f"|   {name} − {best} (paired) | {d:+.4f} | [{dlo:+.4f}, {dhi:+.4f}] | {verdict} |")
if args[1:]:
    lb = json.load(open(args[1]))
    for m in lb["models"]:
        if m.get("metrics"):
            print(f"| cartseq {m['model']} | {m['metrics']['roc_auc']:.4f} | (paired CIs: see ablation) | {m['fit_seconds']:.3f} |")
