#!/usr/bin/env python3
"""One Python peer run for the rules benchmark (measured from outside by rules_bench.py):

    rules_peer.py mlxtend BASKETS MINSUP          mlxtend fpgrowth on a one-hot DataFrame
    rules_peer.py efficient-apriori BASKETS MINSUP efficient-apriori itemsets (rules off: min_confidence 1)

BASKETS: one basket per line, items separated by spaces. Prints the number of frequent itemsets.
"""
import sys


def read(path):
    out = []
    with open(path, newline="") as f:
        for line in f:
            items = sorted({int(t) for t in line.split()})
            if items:
                out.append(items)
    return out


def main():
    tool, path, minsup = sys.argv[1], sys.argv[2], float(sys.argv[3])
    tx = read(path)
    if tool == "mlxtend":
        import pandas as pd
        from mlxtend.frequent_patterns import fpgrowth
        from mlxtend.preprocessing import TransactionEncoder

        te = TransactionEncoder()
        df = pd.DataFrame(te.fit(tx).transform(tx), columns=te.columns_)
        n = len(fpgrowth(df, min_support=minsup))
    elif tool == "efficient-apriori":
        from efficient_apriori import apriori

        itemsets, _ = apriori([tuple(t) for t in tx], min_support=minsup, min_confidence=1.0)
        n = sum(len(v) for v in itemsets.values())
    else:
        raise SystemExit(f"unknown tool {tool}")
    print(n)


if __name__ == "__main__":
    main()
