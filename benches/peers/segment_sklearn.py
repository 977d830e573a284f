#!/usr/bin/env python3
"""scikit-learn side of `cartseq segment`, on the very same matrix (`segment --matrix-out M.csv`, or a
generated one): StandardScaler -> PCA -> KMeans(k-means++, n_init=1) over 10 seeds / GaussianMixture /
DBSCAN, and TSNE. Prints one JSON object (timings, peak memory, explained variance, inertia,
silhouette, labels agreement with cartseq's segments.csv).

    python segment_sklearn.py M.csv --k 4 --pca-var 0.9 [--seeds 10] [--gmm]
        [--dbscan-eps 0.5 --min-points 5 --cartseq-labels seg.csv] [--tsne-rows 10000]
    python segment_sklearn.py --generate M.csv --rows 1000000 --cols 60 --k 8   # write a blob matrix
    python segment_sklearn.py M.csv --k 8 --kmeans-only --pca-dims 60           # fit timing + memory

Silhouettes: exact up to 20,000 rows, else sklearn's `sample_size=20000` (seeded), as cartseq.
"""
import argparse
import json
import resource
import sys
import time

import numpy as np


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def generate(path, rows, cols, k, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 4.0, size=(k, cols))
    with open(path, "w") as f:
        f.write("id," + ",".join(f"c{j}" for j in range(cols)) + "\n")
        step = 100_000
        for s in range(0, rows, step):
            m = min(step, rows - s)
            lab = rng.integers(0, k, size=m)
            x = centres[lab] + rng.normal(0.0, 1.0 + 0.5 * (lab[:, None] % 3), size=(m, cols))
            x = x.astype(np.float32)
            lines = [
                f"u{s + i}," + ",".join(repr(float(v)) for v in row) for i, row in enumerate(x)
            ]
            f.write("\n".join(lines) + "\n")


def load(path):
    import pandas as pd

    df = pd.read_csv(path)
    drop = [c for c in df.columns if c in ("split", "label", "seq")]
    df = df.drop(columns=drop)
    ids = df.iloc[:, 0].astype(str).to_numpy()
    x = df.iloc[:, 1:].to_numpy(dtype=np.float64)
    return ids, x


def silhouette(x, labels, seed):
    from sklearn.metrics import silhouette_score

    mask = labels >= 0
    if len(set(labels[mask])) < 2:
        return None
    xs, ls = x[mask], labels[mask]
    if len(ls) > 20000:
        return float(silhouette_score(xs, ls, sample_size=20000, random_state=seed))
    return float(silhouette_score(xs, ls))


def same_up_to_renaming(a, b):
    """a, b: integer labels, -1 = noise. True when a bijection maps one onto the other."""
    fwd, back = {}, {}
    for x, y in zip(a, b):
        if (x < 0) != (y < 0):
            return False
        if fwd.setdefault(x, y) != y or back.setdefault(y, x) != x:
            return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("matrix")
    ap.add_argument("--generate", action="store_true")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=60)
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--pca-var", type=float, default=0.9)
    ap.add_argument("--pca-dims", type=int)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--gmm", action="store_true")
    ap.add_argument("--dbscan-eps", type=float)
    ap.add_argument("--min-points", type=int, default=5)
    ap.add_argument("--cartseq-labels")
    ap.add_argument("--tsne-rows", type=int, default=0)
    ap.add_argument("--kmeans-only", action="store_true")
    a = ap.parse_args()
    if a.generate:
        generate(a.matrix, a.rows, a.cols, a.k)
        return

    from sklearn.cluster import DBSCAN, KMeans
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from sklearn.mixture import GaussianMixture
    from sklearn.preprocessing import StandardScaler

    out = {"tool": "scikit-learn", "matrix": a.matrix}
    t = time.perf_counter()
    ids, x = load(a.matrix)
    out["load_seconds"] = time.perf_counter() - t
    out["rows"], out["cols"] = x.shape
    z = StandardScaler().fit_transform(x)
    del x
    pca = PCA(n_components=a.pca_dims if a.pca_dims else a.pca_var, svd_solver="full")
    y = pca.fit_transform(z)
    del z
    out["pca_dims"] = int(pca.n_components_)
    out["explained_variance_ratio"] = [float(v) for v in pca.explained_variance_ratio_]

    runs = []
    for seed in range(a.seeds):
        t = time.perf_counter()
        km = KMeans(n_clusters=a.k, init="k-means++", n_init=1, random_state=seed).fit(y)
        runs.append((time.perf_counter() - t, float(km.inertia_), seed, km.labels_))
        if a.kmeans_only and seed >= 2:
            break
    out["kmeans_fit_seconds"] = sorted(r[0] for r in runs)[len(runs) // 2]
    best = min(runs, key=lambda r: r[1])
    out["kmeans_best_inertia"] = best[1]
    out["kmeans_best_seed"] = best[2]
    out["kmeans_inertias"] = [r[1] for r in runs]
    out["kmeans_best_silhouette"] = silhouette(y, best[3], 0)
    out["kmeans_silhouettes_best"] = max(
        s for s in (silhouette(y, r[3], 0) for r in runs) if s is not None
    ) if not a.kmeans_only else None
    out["peak_rss_mb"] = peak_mb()
    if a.kmeans_only:
        print(json.dumps(out, indent=1))
        return

    if a.gmm:
        t = time.perf_counter()
        g = GaussianMixture(n_components=a.k, covariance_type="full", random_state=0).fit(y)
        out["gmm_fit_seconds"] = time.perf_counter() - t
        out["gmm_silhouette"] = silhouette(y, g.predict(y), 0)

    if a.dbscan_eps is not None:
        t = time.perf_counter()
        lab = DBSCAN(eps=a.dbscan_eps, min_samples=a.min_points).fit_predict(y)
        out["dbscan_seconds"] = time.perf_counter() - t
        out["dbscan_clusters"] = int(lab.max() + 1)
        out["dbscan_noise"] = int((lab < 0).sum())
        if a.cartseq_labels:
            import pandas as pd

            c = pd.read_csv(a.cartseq_labels, dtype={"segment": str})
            theirs = np.array([-1 if s == "noise" else int(s) for s in c["segment"]])
            out["dbscan_same_as_cartseq"] = bool(
                len(theirs) == len(lab) and same_up_to_renaming(lab, theirs)
            )
            out["dbscan_rows_differing"] = None if out["dbscan_same_as_cartseq"] else int(
                len(lab)
            )

    if a.tsne_rows:
        rng = np.random.default_rng(0)
        rows = np.sort(rng.choice(len(y), size=min(a.tsne_rows, len(y)), replace=False))
        t = time.perf_counter()
        TSNE(n_components=2, perplexity=30.0, init="pca", random_state=0).fit_transform(y[rows])
        out["tsne_rows"] = len(rows)
        out["tsne_seconds"] = time.perf_counter() - t
    out["peak_rss_mb"] = peak_mb()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    sys.exit(main())
