#!/usr/bin/env python3
"""MLlib PrefixSpan / FPGrowth vs cartseq.spark on the same Spark local[2] session and DataFrames.

    /work/peers-venv/bin/python benches/peers/spark_vs_cartseq.py [--repeats 3] [--shared ../shared]

Needs pyspark (benches/peers/requirements.txt), Java 17 and the cartseq wheel installed in the same
venv (README, "Python"). For each case it fits MLlib and cartseq.spark interleaved, `--repeats` times,
checks that both return the same patterns with the same supports, and prints one Markdown row per
case: median wall time of each (the DataFrame is cached and counted first, so both read the same
in-memory data), the ratio, the pattern count and the load average at the start and end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="BMS1 PrefixSpan and retail FPGrowth 1%% only")
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[3] / "shared"))
    args = ap.parse_args()
    from pyspark.ml.fpm import FPGrowth, PrefixSpan

    import cartseq.spark as cs
    from cartseq.spark import basket_rows, spmf_rows

    spark = cs.local_session("spark_vs_cartseq", driver_memory="3g")
    shared = Path(args.shared)
    bms1 = spark.createDataFrame([(r,) for r in spmf_rows(shared / "data/spmf/BMS1_spmf.txt")], "sequence array<array<int>>")
    kos = spark.createDataFrame([(r,) for r in spmf_rows(shared / "data/spmf/kosarak10k.txt")], "sequence array<array<int>>")
    retail = spark.createDataFrame([(b,) for b in basket_rows(shared / "data/fimi_retail/retail.txt")], "items array<int>")
    cases = []
    seq_cases = [("BMS1", bms1, 0.001)] + ([] if args.quick else [("kosarak10k", kos, 0.005)])
    for name, df, sup in seq_cases:
        df = df.repartition(2).cache()
        df.count()
        cases.append(
            (
                f"PrefixSpan {name} {sup:g}",
                lambda df=df, sup=sup: {
                    (tuple(map(tuple, r["sequence"])), r["freq"])
                    for r in PrefixSpan(minSupport=sup, maxPatternLength=1000, maxLocalProjDBSize=32000000)
                    .findFrequentSequentialPatterns(df)
                    .collect()
                },
                lambda local, df=df, sup=sup: {
                    (tuple(map(tuple, r["sequence"])), r["freq"])
                    for r in cs.prefixspan(df, min_support=sup, max_local_bytes=local).collect()
                },
            )
        )
    rdf = retail.repartition(2).cache()
    rdf.count()
    for sup in (0.01,) if args.quick else (0.01, 0.001):
        cases.append(
            (
                f"FPGrowth retail {sup:g}",
                lambda sup=sup: {(tuple(sorted(r["items"])), r["freq"]) for r in FPGrowth(itemsCol="items", minSupport=sup).fit(rdf).freqItemsets.collect()},
                lambda local, sup=sup: {
                    (tuple(sorted(r["items"])), r["freq"]) for r in cs.fpgrowth(rdf, min_support=sup, max_local_bytes=local).collect()
                },
            )
        )
    # cartseq.spark twice: as users call it (inputs this small are collected once and mined on the
    # driver) and with the driver path off (max_local_bytes=0: the distributed, root-partitioned path).
    paths = [("driver", cs.DEFAULT_MAX_LOCAL_BYTES), ("distributed", 0)]
    print("| case | MLlib s | cartseq.spark driver s | MLlib / driver | cartseq.spark distributed s | MLlib / distributed | patterns | equal | load avg |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    for name, ml, ours in cases:
        load0 = os.getloadavg()[0]
        t_ml, t_cs = [], {p: [] for p, _ in paths}
        res_ml, res_cs = None, {}
        for _ in range(args.repeats):
            t = time.perf_counter()
            res_ml = ml()
            t_ml.append(time.perf_counter() - t)
            for p, local in paths:
                t = time.perf_counter()
                res_cs[p] = ours(local)
                t_cs[p].append(time.perf_counter() - t)
        a = statistics.median(t_ml)
        b, c = (statistics.median(t_cs[p]) for p, _ in paths)
        equal = all(r == res_ml for r in res_cs.values())
        load1 = os.getloadavg()[0]
        print(
            f"| {name} | {a:.2f} | {b:.2f} | {a / b:.1f}× | {c:.2f} | {a / c:.1f}× | {len(res_ml):,} | {equal} | {load0:.1f} → {load1:.1f} |",
            flush=True,
        )
    spark.stop()


if __name__ == "__main__":
    main()
