"""Peer for `cartseq convert`: per-user sequences with polars (read, sort, group; no write).

    POLARS_MAX_THREADS=2 /work/peers-venv/bin/python benches/peers/polars_ingest.py TAOBAO.csv

`pl.read_csv(...).sort(["user", "ts"]).group_by("user", maintain_order=True).agg("item")`, the
fastest way an analyst builds these lists today. Prints rows, users and seconds per stage to stderr.
"""
import sys
import time

import polars as pl


def main():
    path = sys.argv[1]
    t0 = time.perf_counter()
    df = pl.read_csv(
        path,
        has_header=False,
        new_columns=["user", "item", "category", "behavior", "ts"],
    )
    t1 = time.perf_counter()
    df = df.sort(["user", "ts"])
    t2 = time.perf_counter()
    seqs = df.group_by("user", maintain_order=True).agg("item")
    t3 = time.perf_counter()
    print(
        f"rows {df.height} users {seqs.height} read {t1 - t0:.2f}s sort {t2 - t1:.2f}s "
        f"groupby {t3 - t2:.2f}s threads {pl.thread_pool_size()}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
