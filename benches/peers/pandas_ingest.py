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
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import timed_ingest  # noqa: E402


def main():
    path = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else None
    df, seqs, stages = timed_ingest(
        lambda: pd.read_csv(
            path,
            header=None,
            names=["user", "item", "category", "behavior", "ts"],
            dtype={"user": "int64", "item": "int64", "category": "int64", "behavior": "category", "ts": "int64"},
            engine="c",
        ),
        lambda df: df.sort_values(["user", "ts"], kind="stable"),
        lambda df: df.groupby("user", sort=True)["item"].agg(list),
    )
    t3 = time.perf_counter()
    if out:
        with open(out, "w") as f:
            for items in seqs:
                f.write(" ".join(map(str, items)))
                f.write("\n")
    t4 = time.perf_counter()
    print(f"rows {len(df)} users {len(seqs)} {stages} write {t4 - t3:.2f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
