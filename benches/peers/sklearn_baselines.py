#!/usr/bin/env python3
"""scikit-learn and LightGBM baselines on a cartseq feature CSV, for the side-by-side table.

Input: the CSV `cartseq task` exports — an id column, a `split` column (train/valid/test), a `label`
column, then numeric features. Models train on the train rows and are scored on the test rows (valid
rows are unused, as `cartseq train` does without early stopping). Hyper-parameters equal those of
`models/examples/fit_csv.rs` (see MODELS below and PARAMS there).

Each model runs in its own child process so its peak RSS (CSV loading included, as for the Rust
side) is its own; one JSON line per model is printed:
  {"tool": "sklearn", "model": "rf", "roc_auc": ..., "f1": ..., "fit_s": ..., "predict_s": ...,
   "peak_mb": ..., "n_train": ..., "n_test": ...}

Usage:
  benches/peers/.venv/bin/python benches/peers/sklearn_baselines.py FEATURES.csv [--models dt,rf,...]
"""
import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

ALL = ["prior", "logreg", "gnb", "bnb", "dt", "rf", "ada", "gbdt", "lightgbm", "linsvm", "svm"]
SVM_MAX_ROWS = 20000  # same guard and subsample as cartseq's RBF SVM (first rows of the train split)


def make(name):
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import AdaBoostClassifier, HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import BernoulliNB, GaussianNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, LinearSVC
    from sklearn.tree import DecisionTreeClassifier

    if name == "prior":
        return DummyClassifier(strategy="prior")
    if name == "logreg":
        # cartseq minimises the same objective (C=1, L2) exactly on the raw features; sklearn's lbfgs
        # needs the scaler to converge in 200 iterations on count features.
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=200))
    if name == "gnb":
        return GaussianNB()
    if name == "bnb":
        return BernoulliNB(alpha=1.0, binarize=0.0)
    if name == "dt":
        return DecisionTreeClassifier(max_depth=12, min_samples_leaf=5, random_state=0)
    if name == "rf":
        return RandomForestClassifier(n_estimators=100, max_depth=16, min_samples_leaf=5, max_features="sqrt",
                                      n_jobs=2, random_state=0)
    if name == "ada":
        return AdaBoostClassifier(DecisionTreeClassifier(max_depth=1), n_estimators=100, learning_rate=1.0,
                                  random_state=0)
    if name == "gbdt":
        return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=31,
                                              min_samples_leaf=20, l2_regularization=0.0, max_bins=255,
                                              early_stopping=False, random_state=0)
    if name == "lightgbm":
        import lightgbm
        return lightgbm.LGBMClassifier(n_estimators=100, learning_rate=0.1, num_leaves=31, min_child_samples=20,
                                       reg_lambda=0.0, max_bin=255, n_jobs=2, verbose=-1, random_state=0)
    if name == "linsvm":
        return make_pipeline(StandardScaler(), LinearSVC(C=1.0, max_iter=1000, tol=1e-3))
    if name == "svm":
        return make_pipeline(StandardScaler(), SVC(C=1.0, kernel="rbf", gamma="scale", probability=True,
                                                   random_state=0))
    raise SystemExit(f"unknown model {name}")


def load(path):
    import numpy as np
    import pandas as pd

    df = pd.read_csv(path)
    cols = list(df.columns)
    if len(cols) < 4 or cols[1] != "split" or cols[2] != "label":
        raise SystemExit(f"{path}: expected columns id,split,label,features...; found {cols[:4]}")
    x = df.iloc[:, 3:].to_numpy(dtype=np.float64)
    y = df["label"].to_numpy()
    split = df["split"].to_numpy()
    return x[split == "train"], y[split == "train"], x[split == "test"], y[split == "test"]


def run_one(path, name):
    import numpy as np
    from sklearn.metrics import f1_score, roc_auc_score

    xtr, ytr, xte, yte = load(path)
    if name == "svm" and len(ytr) > SVM_MAX_ROWS:
        xtr, ytr = xtr[:SVM_MAX_ROWS], ytr[:SVM_MAX_ROWS]
    classes = np.unique(np.concatenate([ytr, yte]))
    model = make(name)
    proba, is_proba, fit_s, predict_s = common.timed_fit_scores(model, xtr, ytr, xte)
    if not is_proba and proba.ndim == 1:
        proba = np.vstack([-proba, proba]).T
    pred = model.classes_[proba.argmax(axis=1)]
    if len(classes) == 2:
        auc = roc_auc_score(yte, proba[:, 1]) if len(np.unique(yte)) == 2 else None
        f1 = f1_score(yte, pred, average="binary", pos_label=classes[1], zero_division=0)
    else:
        try:
            auc = roc_auc_score(yte, proba, multi_class="ovr", labels=model.classes_)
        except ValueError:
            auc = None
        f1 = f1_score(yte, pred, average="macro", zero_division=0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {
        "tool": "lightgbm" if name == "lightgbm" else "sklearn",
        "model": "gbdt" if name == "lightgbm" else name,
        "peer": name,
        "roc_auc": None if auc is None else round(float(auc), 6),
        "f1": round(float(f1), 6),
        "fit_s": round(fit_s, 4),
        "predict_s": round(predict_s, 4),
        "peak_mb": round(peak_mb, 1),
        "n_train": int(len(ytr)),
        "n_test": int(len(yte)),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--models", default=",".join(ALL))
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--timeout", type=float, default=1800)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(run_one(a.csv, a.one)))
        return
    for name in a.models.split(","):
        try:
            r = subprocess.run([sys.executable, __file__, a.csv, "--one", name], capture_output=True, text=True,
                               timeout=a.timeout)
            line = r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else None
            if line is None:
                line = json.dumps({"tool": "sklearn", "model": name, "error": r.stderr.strip().splitlines()[-1:]})
        except subprocess.TimeoutExpired:
            line = json.dumps({"tool": "sklearn", "model": name, "error": f"timeout after {a.timeout}s"})
        print(line, flush=True)


if __name__ == "__main__":
    main()
