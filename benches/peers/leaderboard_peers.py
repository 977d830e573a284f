"""cartseq's baselines vs scikit-learn and LightGBM on the same exported feature CSV.

Every model is fitted on the ``train`` rows of a CSV written by ``cartseq task`` and scored on its ``test``
rows, with the same hyper-parameters on both sides. Each fit runs in its own process under
``/usr/bin/time -v`` (peak RSS of that process: reading the CSV + fitting + predicting); fit and predict
times are measured inside the process around the fit / predict calls only.

    benches/peers/.venv/bin/python benches/peers/leaderboard_peers.py run \\
        --features taobao.csv --name "Taobao sample" --out benches/peers/out/leaderboard.jsonl
    benches/peers/.venv/bin/python benches/peers/leaderboard_peers.py table benches/peers/out/leaderboard.jsonl

Pairs (cartseq model → peer): prior → DummyClassifier(prior); nb → GaussianNB; logreg →
LogisticRegression(C=1, lbfgs, max_iter=200, tol=1e-6); dt → DecisionTreeClassifier; rf →
RandomForestClassifier(100 trees, sqrt features, n_jobs=2); ada → AdaBoostClassifier(50 stumps, SAMME);
svm → SVC(RBF, gamma=scale, probability=True) (only when the train rows fit cartseq's max_rows=20000);
linsvm → LinearSVC(C=1) (ROC-AUC from the decision function); gbdt → HistGradientBoostingClassifier
(100 iterations, 31 leaves, 20 per leaf, 255 bins, early stopping auto) and LightGBM (same).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

SEED = 42
MODELS = ["prior", "nb", "logreg", "dt", "rf", "ada", "svm", "linsvm", "gbdt"]


def peer_estimator(lib: str, model: str):
    """The peer estimator of a cartseq model name."""
    if lib == "lightgbm":
        import lightgbm as lgb

        return lgb.LGBMClassifier(n_estimators=100, learning_rate=0.1, num_leaves=31, min_child_samples=20,
                                  max_bin=255, n_jobs=2, random_state=SEED, verbose=-1)
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import AdaBoostClassifier, HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.svm import SVC, LinearSVC
    from sklearn.tree import DecisionTreeClassifier

    return {
        "prior": lambda: DummyClassifier(strategy="prior"),
        "nb": lambda: GaussianNB(var_smoothing=1e-9),
        "logreg": lambda: LogisticRegression(C=1.0, max_iter=200, tol=1e-6),
        "dt": lambda: DecisionTreeClassifier(random_state=SEED),
        "rf": lambda: RandomForestClassifier(n_estimators=100, max_features="sqrt", n_jobs=2, random_state=SEED),
        "ada": lambda: AdaBoostClassifier(n_estimators=50, learning_rate=1.0, random_state=SEED),
        "svm": lambda: SVC(C=1.0, gamma="scale", probability=True, random_state=SEED),
        "linsvm": lambda: LinearSVC(C=1.0, random_state=SEED),
        "gbdt": lambda: HistGradientBoostingClassifier(
            max_iter=100, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=20, l2_regularization=0.0,
            max_bins=255, early_stopping="auto", validation_fraction=0.1, n_iter_no_change=10, tol=1e-7,
            random_state=SEED),
    }[model]()


def load(path: str):
    import numpy as np
    import pandas as pd

    df = pd.read_csv(path, dtype={0: str})
    feats = [c for c in df.columns[3:] if c != "seq"]
    x = df[feats].to_numpy(dtype=np.float64)
    y = df["label"].to_numpy()
    split = df["split"].to_numpy()
    return x[split == "train"], y[split == "train"], x[split == "test"], y[split == "test"]


def fit_worker(a: argparse.Namespace) -> None:
    """Fits one peer model and prints its scores as JSON (run in a measured subprocess)."""
    from sklearn.metrics import f1_score, roc_auc_score

    xtr, ytr, xte, yte = load(a.features)
    est = peer_estimator(a.lib, a.model)
    score, is_proba, fit_s, predict_s = common.timed_fit_scores(est, xtr, ytr, xte)
    if is_proba:
        pred = score.argmax(axis=1)
        score = score[:, 1] if score.shape[1] == 2 else score
    else:
        pred = est.predict(xte)
    binary = len(set(ytr.tolist()) | set(yte.tolist())) <= 2
    auc = roc_auc_score(yte, score, multi_class="ovr") if len(set(yte.tolist())) > 1 else None
    f1 = f1_score(yte, pred, average="binary" if binary else "macro", zero_division=0)
    print(json.dumps({"roc_auc": auc, "f1": f1, "fit_s": fit_s, "predict_s": predict_s,
                      "train_rows": int(len(ytr)), "test_rows": int(len(yte))}))


def run(a: argparse.Namespace) -> None:
    exe = Path(a.cartseq)
    models = a.models.split(",") if a.models else MODELS
    tmp = Path(tempfile.mkdtemp(prefix="cartseq-lb-"))
    _, ytr, _, _ = load(a.features)
    n_train = len(ytr)
    for m in models:
        if m == "svm" and n_train > 20_000:
            print(f"skip svm: {n_train} train rows > 20000 (RBF SVM is for moderate n)", file=sys.stderr)
            continue
        model_file = tmp / f"{m}.json"
        tr = common.measure([exe, "train", a.features, "--model", m, "--json", "-q", "-o", model_file],
                            timeout_s=a.timeout)
        rec = {"dataset": a.name, "model": m, "lib": "cartseq", "train_rows": n_train}
        if tr.ok:
            info = json.loads(tr.stdout)
            ev = common.measure([exe, "eval", model_file, a.features, "--json"], timeout_s=a.timeout)
            e = json.loads(ev.stdout) if ev.ok else {}
            rec.update(fit_s=info["fit_seconds"], predict_s=e.get("predict_seconds"),
                       roc_auc=e.get("metrics", {}).get("roc_auc"), f1=e.get("metrics", {}).get("f1"),
                       wall_s=tr.wall_s, peak_rss_mb=max(tr.peak_rss_mb or 0, ev.peak_rss_mb or 0))
        else:
            rec.update(error=tr.stderr.strip()[-300:] or ("timeout" if tr.timed_out else "failed"))
        emit(a.out, rec)
        libs = ["sklearn"] + (["lightgbm"] if m == "gbdt" else [])
        for lib in libs:
            me = common.measure([sys.executable, __file__, "fit", "--lib", lib, "--model", m,
                                 "--features", a.features], timeout_s=a.timeout)
            rec = {"dataset": a.name, "model": m, "lib": lib, "train_rows": n_train}
            if me.ok:
                rec.update(json.loads(me.stdout.strip().splitlines()[-1]))
                rec.update(wall_s=me.wall_s, peak_rss_mb=me.peak_rss_mb)
            else:
                rec.update(error=me.stderr.strip()[-300:] or ("timeout" if me.timed_out else "failed"))
            emit(a.out, rec)


def emit(out: str | None, rec: dict) -> None:
    print(json.dumps(rec), flush=True)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")


def table(a: argparse.Namespace) -> None:
    """Markdown table: one line per (dataset, model), cartseq and its peers side by side."""
    recs = [json.loads(l) for l in open(a.jsonl) if l.strip()]
    fmt = lambda v, d=3: "—" if v is None else f"{v:.{d}f}"  # noqa: E731
    print("| data (train rows) | model | tool | test ROC-AUC | test F1 | fit s | predict s | peak MB |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in recs:
        if "error" in r:
            print(f"| {r['dataset']} ({r['train_rows']:,}) | {r['model']} | {r['lib']} | failed: "
                  f"{r['error'][:60]} | | | | |")
            continue
        print(f"| {r['dataset']} ({r['train_rows']:,}) | {r['model']} | {r['lib']} | {fmt(r['roc_auc'], 4)} | "
              f"{fmt(r['f1'], 4)} | {fmt(r['fit_s'])} | {fmt(r['predict_s'])} | {fmt(r['peak_rss_mb'], 0)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run cartseq and the peers on one feature CSV")
    r.add_argument("--features", required=True)
    r.add_argument("--name", required=True)
    r.add_argument("--models", default=None, help="comma-separated subset of " + ",".join(MODELS))
    r.add_argument("--cartseq", default=str(common.REPO_ROOT / "target/release/cartseq"))
    r.add_argument("--out", default=None)
    r.add_argument("--timeout", type=float, default=3600)
    f = sub.add_parser("fit", help="(internal) fit one peer model and print JSON")
    f.add_argument("--lib", choices=["sklearn", "lightgbm"], required=True)
    f.add_argument("--model", required=True)
    f.add_argument("--features", required=True)
    t = sub.add_parser("table", help="print the markdown table of a results file")
    t.add_argument("jsonl")
    a = ap.parse_args()
    {"run": run, "fit": fit_worker, "table": table}[a.cmd](a)


if __name__ == "__main__":
    main()
