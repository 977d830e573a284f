"""Twin check of cartseq's V-SKNN, STAN, VSTAN and SR against session-rec's own Python classes.

session-rec (Ludewig, Latifi, Mauro & Jannach; github.com/rn5l/session-rec) is not vendored: give
the path of a checkout (or of `git archive HEAD algorithms` extracted somewhere) with
`--session-rec DIR`; its `algorithms/knn/{vsknn,stan,vstan}.py` and `algorithms/baselines/sr.py`
are imported from there unchanged. `pympler` (used only for a memory printout there) is stubbed
when missing, and `np.in1d` (removed in NumPy 2.4) is aliased to `np.isin`.

Protocol = cartseq's (`cartseq::nextitem`): sessions from the training and test TSV (yoochoose
layout `SessionId<TAB>ItemId<TAB>Time`), clicks ordered by time, test items unseen in training
removed, test sessions with < 2 clicks dropped, every click after the first predicted from the
ones before. Scores of session-rec are put on cartseq's output scale before ranking (items with a
positive score: 1e-4 + (1 − 1e-4)·s/max; the others 1e-4·clicks/(max clicks + 1)), so the same
popularity fallback breaks ties among items without evidence; ranks count ties against the model
(1 + the number of other items scoring at least as high), as cartseq does.

Run in one go with cartseq (same split, same parameters):

    python benches/peers/sessionrec_twin.py --session-rec /tmp/session-rec \
        --train TRAIN --test TEST --cartseq target/release/cartseq [--models vsknn,stan,vstan,sr]

prints one table: Recall@10/20 and MRR@10/20 of both and the differences, and the seconds each
took (load average before and after).
"""

import argparse
import json
import os
import subprocess
import sys
import time
import types

import numpy as np
import pandas as pd

DELTA = 1e-4
# cartseq's defaults (see models/src/nextitem/{vsknn,stan,sr}.rs and src/nextitem.rs fit_sr).
PARAMS = {
    "vsknn": ("knn.vsknn", "VMContextKNN",
              dict(k=100, sample_size=1000, weighting="quadratic", weighting_score="quadratic",
                   similarity="vec")),
    "stan": ("knn.stan", "STAN",
             dict(k=500, sample_size=5000, lambda_spw=1.02, lambda_snh=5, lambda_inh=2.05)),
    "vstan": ("knn.vstan", "VSKNN_STAN",
              dict(k=500, sample_size=5000, similarity="cosine", lambda_spw=1.02, lambda_snh=5,
                   lambda_inh=2.05, lambda_ipw=1.02, lambda_idf=5)),
    "sr": ("baselines.sr", "SequentialRules", dict(steps=10, weighting="div", pruning=20)),
}


def load(path):
    df = pd.read_csv(path, sep="\t", dtype={"SessionId": np.int64, "ItemId": np.int64,
                                            "Time": np.float64})
    # Clicks by time within a session (stable), sessions contiguous.
    return df.sort_values(["SessionId", "Time"], kind="stable").reset_index(drop=True)


def instantiate(root, name):
    if "pympler" not in sys.modules:
        try:
            import pympler  # noqa: F401
        except ImportError:
            stub = types.ModuleType("pympler")
            stub.asizeof = types.SimpleNamespace(asizeof=lambda *_: 0)
            sys.modules["pympler"] = stub
            sys.modules["pympler.asizeof"] = stub.asizeof
    if not hasattr(np, "in1d"):  # removed in NumPy 2.4; session-rec was written against 1.x
        np.in1d = np.isin
    sys.path.insert(0, os.path.join(root, "algorithms"))
    module, cls, kw = PARAMS[name]
    mod = __import__(module, fromlist=[cls])
    return getattr(mod, cls)(**kw)


def evaluate(model, train, test, ks=(10, 20)):
    items = np.sort(train.ItemId.unique())
    pos = {it: i for i, it in enumerate(items)}
    counts = train.ItemId.value_counts().reindex(items).to_numpy().astype(np.float64)
    fallback = (DELTA * (counts / (counts.max() + 1.0))).astype(np.float32)
    test = test[test.ItemId.isin(pos)]
    lengths = test.groupby("SessionId").size()
    test = test[test.SessionId.isin(lengths[lengths >= 2].index)]
    hits = np.zeros(len(ks))
    rr = np.zeros(len(ks))
    n = 0
    for sid, g in test.groupby("SessionId", sort=False):
        its = g.ItemId.to_numpy()
        ts = g.Time.to_numpy()
        for t in range(len(its) - 1):
            kw = {"timestamp": ts[t]}
            s = np.asarray(model.predict_next(sid, its[t], items, **kw), dtype=np.float64)
            s = np.nan_to_num(s)
            out = fallback.copy()
            m = s.max()
            if m > 0:
                touched = s > 0
                out[touched] = (DELTA + (1 - DELTA) * (s[touched] / m)).astype(np.float32)
            target = pos[its[t + 1]]
            rank = int((out >= out[target]).sum())  # includes the target itself
            n += 1
            for i, k in enumerate(ks):
                if rank <= k:
                    hits[i] += 1
                    rr[i] += 1.0 / rank
    return {f"recall@{k}": hits[i] / n for i, k in enumerate(ks)} | {
        f"mrr@{k}": rr[i] / n for i, k in enumerate(ks)} | {"predictions": n}


def cartseq(binary, train, test, name):
    out = subprocess.run(
        [binary, "nextitem", "--train", train, "--test", test, "--model", name, "--json", "-q",
         "--bootstrap", "0"], check=True, capture_output=True, text=True).stdout
    r = json.loads(out)["results"][0]
    res = {f"recall@{k}": v for k, v in r["recall"]} | {f"mrr@{k}": v for k, v in r["mrr"]}
    res["predictions"] = r["predictions"]
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--session-rec", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--cartseq", default="target/release/cartseq")
    ap.add_argument("--models", default="vsknn,stan,vstan,sr")
    a = ap.parse_args()
    print("load average before:", os.getloadavg())
    train, test = load(a.train), load(a.test)
    rows = []
    for name in a.models.split(","):
        t0 = time.time()
        ours = cartseq(a.cartseq, a.train, a.test, name)
        t_ours = time.time() - t0
        model = instantiate(a.session_rec, name)
        t0 = time.time()
        model.fit(train)
        theirs = evaluate(model, train, test)
        t_theirs = time.time() - t0
        rows.append((name, ours, theirs, t_ours, t_theirs))
        print(name, "cartseq", ours, f"{t_ours:.1f}s", "session-rec", theirs, f"{t_theirs:.1f}s",
              flush=True)
    print("load average after:", os.getloadavg())
    print("| model | predictions (cartseq / session-rec) | Recall@10 | Recall@20 | MRR@10 | MRR@20 |"
          " largest difference | cartseq s | session-rec s |")
    print("|---|---|---|---|---|---|---:|---:|---:|")
    for name, o, t, to, tt in rows:
        cells = [f"{o[m]:.4f} / {t[m]:.4f}" for m in ("recall@10", "recall@20", "mrr@10", "mrr@20")]
        diff = max(abs(o[m] - t[m]) for m in ("recall@10", "recall@20", "mrr@10", "mrr@20"))
        print(f"| {name} | {o['predictions']} / {t['predictions']} | " + " | ".join(cells)
              + f" | {diff:.4f} | {to:.1f} | {tt:.1f} |")


if __name__ == "__main__":
    main()
