"""Peer for `cartseq convert`: per-user sequences with polars (read, sort, group; no write).

    POLARS_MAX_THREADS=2 /work/peers-venv/bin/python benches/peers/polars_ingest.py TAOBAO.csv

`pl.read_csv(...).sort(["user", "ts"]).group_by("user", maintain_order=True).agg("item")`, the
fastest way an analyst builds these lists today. Prints rows, users and seconds per stage to stderr.
"""
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import timed_ingest  # noqa: E402


def main():
    path = sys.argv[1]
    df, seqs, stages = timed_ingest(
        lambda: pl.read_csv(path, has_header=False, new_columns=["user", "item", "category", "behavior", "ts"]),
        lambda df: df.sort(["user", "ts"]),
        lambda df: df.group_by("user", maintain_order=True).agg("item"),
    )
    print(f"rows {df.height} users {seqs.height} {stages} threads {pl.thread_pool_size()}", file=sys.stderr)


if __name__ == "__main__":
    main()
