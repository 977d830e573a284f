#!/usr/bin/env python3
"""Generates a Taobao-UserBehavior-shaped CSV (user,item,category,behavior,unix_seconds; no header), seeded.

The shape follows the real log (Zhu et al., KDD 2018; shared slice in ../shared/data/taobao_userbehavior):
rows grouped by user, ~100 events per user (geometric-ish spread), Zipf-like item popularity over 4M items,
each item in one of ~9,400 categories, behaviours pv/cart/fav/buy at 89.5/5.5/2.9/2.1 %, timestamps in
2017-11-25 .. 2017-12-03 (UTC) and not sorted within a user (as in the original).

    python3 benches/gen_taobao.py --rows 10000000 --seed 42 -o /tmp/taobao_10m.csv

Deterministic: the same --rows and --seed give a byte-identical file. Uses only the standard library;
about 1 minute per 10 million rows.
"""
import argparse
import random
import sys

T0 = 1511539200  # 2017-11-25 00:00:00 UTC
T1 = 1512316799  # 2017-12-03 23:59:59 UTC


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    n_items = 4_000_000
    n_cats = 9_400
    # item -> category, drawn lazily but deterministically from the item number.
    def cat(item):
        return (item * 2654435761 % 4294967296) % n_cats * 113 + 1000

    behaviors = ["pv"] * 895 + ["cart"] * 55 + ["fav"] * 29 + ["buy"] * 21
    out = sys.stdout if a.output == "-" else open(a.output, "w", buffering=1 << 20)
    written = 0
    user = 1
    lines = []
    while written < a.rows:
        n = min(a.rows - written, max(1, int(rng.expovariate(1 / 100.0))))
        base = rng.randint(T0, T1)
        # a user's favourite items: repeat views of a few items, as real sessions do
        recent = []
        for _ in range(n):
            if recent and rng.random() < 0.35:
                item = rng.choice(recent)
            else:
                # Zipf-like popularity: inverse-power transform of a uniform draw
                item = int(n_items ** (rng.random() ** 1.6)) + 1
                recent.append(item)
                if len(recent) > 8:
                    recent.pop(0)
            ts = min(T1, max(T0, base + int(rng.gauss(0, 86400))))
            lines.append(f"{user},{item},{cat(item)},{rng.choice(behaviors)},{ts}\n")
        written += n
        user += rng.randint(1, 3)
        if len(lines) >= 100_000:
            out.write("".join(lines))
            lines.clear()
    out.write("".join(lines))
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
