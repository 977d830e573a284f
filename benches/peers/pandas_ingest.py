"""Peer for `cartseq convert`: the way analysts build per-user sequences with pandas today.

    benches/peers/.venv/bin/python benches/peers/pandas_ingest.py TAOBAO.csv [OUT.txt]

read_csv (typed columns, the behaviour column as a category) -> sort_values by (user, timestamp), stable
-> groupby(user) into lists of items. With OUT, one line per user is written (items separated by spaces),
the closest equivalent of cartseq's SPMF output; without OUT the lists are only built (the fairer
setting for pandas, which is what BENCHMARKS.md reports). Prints rows, users and seconds per stage to
stderr.
"""
import sys
import time

import pandas as pd


def main():
    path = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else None
    t0 = time.perf_counter()
    df = pd.read_csv(
        path,
        header=None,
        names=["user", "item", "category", "behavior", "ts"],
        dtype={"user": "int64", "item": "int64", "category": "int64", "behavior": "category", "ts": "int64"},
        engine="c",
    )
    t1 = time.perf_counter()
    df = df.sort_values(["user", "ts"], kind="stable")
    t2 = time.perf_counter()
    seqs = df.groupby("user", sort=True)["item"].agg(list)
    t3 = time.perf_counter()
    if out:
        with open(out, "w") as f:
            for items in seqs:
                f.write(" ".join(map(str, items)))
                f.write("\n")
    t4 = time.perf_counter()
    print(
        f"rows {len(df)} users {len(seqs)} read {t1 - t0:.2f}s sort {t2 - t1:.2f}s "
        f"groupby {t3 - t2:.2f}s write {t4 - t3:.2f}s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
