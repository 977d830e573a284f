"""Run one Python sequential-pattern peer on an SPMF file and print the number of patterns.

    python mining_peer.py prefixspan-py|seq2pat INPUT MIN_COUNT

Measured as a whole process by run_mining.py (interpreter start and file parsing included, as for
every other tool). Every itemset of the benchmark files holds one item, so a sequence is a list of
items. seq2pat runs with max_span=None (its default of 10 silently drops longer occurrences) and
needs positive integers, so items are shifted by one; it reports patterns of two or more items only.
"""

import sys


def read_spmf(path):
    db = []
    with open(path) as f:
        for line in f:
            toks = line.split()
            if not toks or toks[0][0] in "#%@":
                continue
            db.append([int(t) for t in toks if t not in ("-1", "-2")])
    return db


def main():
    peer, path, min_count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = read_spmf(path)
    if peer == "prefixspan-py":
        from prefixspan import PrefixSpan

        n = len(PrefixSpan(db).frequent(min_count))
    elif peer == "seq2pat":
        from sequential.seq2pat import Seq2Pat

        s = Seq2Pat([[x + 1 for x in seq] for seq in db], max_span=None)
        n = len(s.get_patterns(min_frequency=min_count))
    else:
        raise SystemExit(f"unknown peer {peer}")
    print(n)


if __name__ == "__main__":
    main()
