#!/usr/bin/env python3
"""Writes models/tests/fixtures/sklearn_metrics.json: scikit-learn's metric values on shared test vectors.

The Rust test models/tests/metrics_vs_sklearn.rs reads the committed fixture, so it needs no Python.
Cases cover ties in scores, a single-class y_true (ROC-AUC undefined -> null), no predicted positives
(zero_division=0), labels predicted but absent from y_true, clipped log loss and multiclass averaging.

Run (seeded, deterministic):  python benches/peers/sklearn_metric_fixture.py [out.json]
"""
import json
import sys
import warnings

import numpy as np
import sklearn
from sklearn import metrics as M

warnings.filterwarnings("ignore")
rng = np.random.default_rng(20240601)


def proba_rows(n, k, decimals=None):
    p = rng.random((n, k)) + 0.05
    p = p / p.sum(axis=1, keepdims=True)
    if decimals is not None:
        # Coarse values create ties in the ranking metrics.
        p[:, 1 % k] = np.round(p[:, 1 % k], decimals)
        if k == 2:
            p[:, 0] = 1.0 - p[:, 1]
        else:
            rest = 1.0 - p[:, 1]
            others = np.delete(p, 1, axis=1)
            others = others / others.sum(axis=1, keepdims=True) * rest[:, None]
            p = np.insert(others, 1, p[:, 1], axis=1)
    return p


def safe(f):
    try:
        v = f()
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)
    except ValueError:
        return None


def case(name, y_true, y_pred, proba):
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    proba = np.asarray(proba, dtype=float)
    k = proba.shape[1]
    labels = list(range(k))
    out = {
        "name": name,
        "n_classes": k,
        "y_true": y_true.tolist(),
        "y_pred": y_pred.tolist(),
        "proba": proba.tolist(),
        "accuracy": float(M.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(M.balanced_accuracy_score(y_true, y_pred)),
        "confusion": M.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "log_loss": float(M.log_loss(y_true, proba, labels=labels)),
    }
    for avg in ["macro", "micro", "weighted"]:
        p, r, f, _ = M.precision_recall_fscore_support(y_true, y_pred, average=avg, zero_division=0)
        out[f"precision_{avg}"], out[f"recall_{avg}"], out[f"f1_{avg}"] = float(p), float(r), float(f)
    if k == 2:
        p, r, f, _ = M.precision_recall_fscore_support(
            y_true, y_pred, average="binary", pos_label=1, zero_division=0, labels=[0, 1]
        )
        out["precision_binary"], out["recall_binary"], out["f1_binary"] = float(p), float(r), float(f)
        s = proba[:, 1]
        pos = (y_true == 1).astype(int)
        out["roc_auc"] = safe(lambda: M.roc_auc_score(pos, s))
        out["average_precision"] = safe(lambda: M.average_precision_score(pos, s))
        out["brier"] = float(M.brier_score_loss(pos, s, pos_label=1))
        if len(set(pos.tolist())) == 2:
            fpr, tpr, thr = M.roc_curve(pos, s)
            out["roc_curve"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": [float(t) if np.isfinite(t) else None for t in thr]}
        pr, rc, th = M.precision_recall_curve(pos, s)
        out["pr_curve"] = {"precision": pr.tolist(), "recall": rc.tolist(), "thresholds": th.tolist()}
    else:
        out["roc_auc"] = safe(lambda: M.roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=labels)
                              if len(set(y_true.tolist())) == k else None)
        out["brier"] = float(M.brier_score_loss(y_true, proba, labels=labels))
    return out


cases = []
# 1. Binary with heavy ties.
p = proba_rows(60, 2, decimals=1)
y = (rng.random(60) < p[:, 1]).astype(int)
cases.append(case("binary_ties", y, p.argmax(axis=1), p))
# 2. Binary, nothing predicted positive.
p = proba_rows(30, 2)
y = (rng.random(30) < 0.4).astype(int)
cases.append(case("binary_no_predicted_positive", y, np.zeros(30, dtype=int), p))
# 3. Single-class truth (all positive): ROC-AUC undefined.
p = proba_rows(20, 2, decimals=2)
cases.append(case("binary_single_class_positive", np.ones(20, dtype=int), p.argmax(axis=1), p))
# 4. Single-class truth (all negative): ROC-AUC undefined, AP 0.
p = proba_rows(20, 2)
cases.append(case("binary_single_class_negative", np.zeros(20, dtype=int), p.argmax(axis=1), p))
# 5. Extreme probabilities (log-loss clipping), perfect and perfectly wrong rows.
p = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
cases.append(case("binary_extreme", [0, 1, 1, 0, 1], [0, 1, 0, 1, 0], p))
# 6. Multiclass with ties and a class never predicted.
p = proba_rows(80, 3, decimals=1)
y = rng.integers(0, 3, 80)
pred = p.argmax(axis=1)
pred[pred == 2] = 0
cases.append(case("multiclass_ties_unpredicted", y, pred, p))
# 7. Multiclass, a label predicted that is absent from y_true (and ROC-AUC undefined).
p = proba_rows(40, 4)
y = rng.integers(0, 3, 40)
cases.append(case("multiclass_absent_label", y, p.argmax(axis=1), p))
# 8. Larger binary (random scores, few ties).
p = proba_rows(500, 2, decimals=3)
y = (rng.random(500) < 0.2 + 0.6 * p[:, 1]).astype(int)
cases.append(case("binary_500", y, (p[:, 1] > 0.3).astype(int), p))

out = sys.argv[1] if len(sys.argv) > 1 else "models/tests/fixtures/sklearn_metrics.json"
with open(out, "w") as f:
    json.dump({"sklearn_version": sklearn.__version__, "cases": cases}, f, indent=0)
print(f"wrote {len(cases)} cases to {out} (scikit-learn {sklearn.__version__})")
