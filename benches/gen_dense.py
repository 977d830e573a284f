#!/usr/bin/env python3
"""Generates dense sequence databases in SPMF format (few distinct items, long sequences, many
patterns per sequence) for the mining benchmark's dense rows, seeded.

Two shapes:

* ``zipf30``: 30 items with Zipf popularity (exponent 1.0), 2,000 sequences of 40-120 itemsets of
  one item each; 8 planted patterns of 5-8 items, each sequence receiving one of them with probability
  0.3 (its items written over randomly chosen, increasing positions).
* ``sets50``: 50 items (Zipf, exponent 1.1), 2,000 sequences of 15-45 itemsets of 1-4 distinct items
  (sorted, as SPMF wants); 8 planted patterns of 3-5 itemsets of 1-3 items, planted into a sequence
  with probability 0.3 by adding their items to increasing itemsets.

Items are numbered from 1 (SPMF wants positive numbers). The sizes are chosen so that 10^5-10^6
patterns (zipf30 at 60 %: 234,780; sets50 at 50 %: 142,371) take cartseq seconds; with 20,000
sequences (`--sequences 20000`) the same supports give as many patterns, each supported by ten times
more sequences, and SPMF's miners need hours.

    python3 benches/gen_dense.py --shape zipf30 --seed 7 --out /tmp/zipf30.txt
    python3 benches/gen_dense.py --shape sets50 --seed 7 --out /tmp/sets50.txt

Deterministic: the same --shape, --sequences and --seed give byte-identical files (standard library
only, `random.Random(seed)`; a few seconds per shape).
"""
import argparse
import bisect
import itertools
import random

SHAPES = {
    # items, zipf exponent, sequences, min len, max len, max itemset size, pattern itemsets, pattern set size
    "zipf30": dict(items=30, s=1.0, seqs=2_000, lo=40, hi=120, set_max=1, pat_len=(5, 8), pat_set=1),
    "sets50": dict(items=50, s=1.1, seqs=2_000, lo=15, hi=45, set_max=4, pat_len=(3, 5), pat_set=3),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", choices=sorted(SHAPES), default="zipf30")
    ap.add_argument("--sequences", type=int, default=None, help="override the shape's count")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    sh = SHAPES[a.shape]
    rng = random.Random(a.seed)
    n = sh["items"]
    cum = list(itertools.accumulate(1.0 / (i + 1) ** sh["s"] for i in range(n)))
    # A random popularity order, so item numbers are not sorted by frequency.
    perm = list(range(1, n + 1))
    rng.shuffle(perm)

    def item():
        return perm[bisect.bisect_left(cum, rng.random() * cum[-1])]

    def itemset(size_max):
        k = 1 + rng.randrange(size_max)
        return sorted({item() for _ in range(k)})

    plen_lo, plen_hi = sh["pat_len"]
    patterns = [
        [itemset(sh["pat_set"]) for _ in range(plen_lo + rng.randrange(plen_hi - plen_lo + 1))]
        for _ in range(8)
    ]
    n_seqs = a.sequences or sh["seqs"]
    with open(a.out, "w") as f:
        for _ in range(n_seqs):
            length = sh["lo"] + rng.randrange(sh["hi"] - sh["lo"] + 1)
            seq = [itemset(sh["set_max"]) for _ in range(length)]
            if rng.random() < 0.3:
                p = patterns[rng.randrange(len(patterns))]
                at = sorted(rng.sample(range(length), len(p)))
                for q, ps in zip(at, p):
                    seq[q] = ps if sh["set_max"] == 1 else sorted(set(seq[q]) | set(ps))
            f.write(" ".join(" ".join(map(str, s)) + " -1" for s in seq) + " -2\n")


if __name__ == "__main__":
    main()
