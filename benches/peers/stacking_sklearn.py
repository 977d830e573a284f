#!/usr/bin/env python3
"""Stacking vs scikit-learn on the same exported features.

Usage: stacking_sklearn.py FEATURES.csv [cartseq_leaderboard.json]
FEATURES.csv comes from `cartseq task ... --pattern-features K` (columns id, split, label, features).
Fits on train rows, scores test rows: sklearn LogisticRegression, RandomForest(n_jobs=2),
HistGradientBoosting, LightGBM and StackingClassifier(rf, hgb, lr -> LogisticRegression, cv=5);
prints ROC-AUC with a bootstrap 95% interval (1000 replicates, seed 0) and fit seconds as a Markdown
table. If a cartseq leaderboard JSON is given, its rows are appended (ROC-AUC and fit time).
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

df = pd.read_csv(sys.argv[1])
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
for name, m in models.items():
    t = time.perf_counter()
    m.fit(Xtr, ytr)
    fit = time.perf_counter() - t
    p = m.predict_proba(Xte)[:, 1]
    lo, hi = ci(p)
    print(f"| {name} | {roc_auc_score(yte, p):.4f} | [{lo:.4f}, {hi:.4f}] | {fit:.3f} |")
if len(sys.argv) > 2:
    lb = json.load(open(sys.argv[2]))
    for m in lb["models"]:
        if m.get("metrics"):
            print(f"| cartseq {m['model']} | {m['metrics']['roc_auc']:.4f} | (paired CIs: see ablation) | {m['fit_seconds']:.3f} |")
