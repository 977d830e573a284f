#!/usr/bin/env python3
"""Generates a Yoochoose-shaped click log for timing the next-item models, seeded: a training file and
a test file (`SessionId<TAB>ItemId<TAB>Time`, header, Unix seconds), the test file holding the
sessions that start on the last day, as session-rec's RSC15 split does.

Shape: 20,000 items with Zipf-like popularity (exponent 1.1), each in one of 200 topics; a session
(length 1 + geometric, mean about 4 clicks as in Yoochoose) picks a topic and walks: with
probability 0.5 it follows one of the current item's 5 fixed successors (sequential signal for
Markov/SR/GRU), with 0.3 it takes a popular item of its topic (co-occurrence signal for the kNNs),
else a globally popular item. Sessions start uniformly over 30 days; clicks are 20-180 s apart.

    python3 benches/gen_sessions.py --clicks 1100000 --seed 42 --out /tmp/gen_sessions

writes /tmp/gen_sessions_train.tsv and /tmp/gen_sessions_test.tsv. Deterministic: the same
--clicks and --seed give byte-identical files. Standard library only; a few seconds per million
clicks.
"""
import argparse
import bisect
import itertools
import random

T0 = 1396310400  # 2014-04-01 00:00:00 UTC
DAYS = 30


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clicks", type=int, default=1_100_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--topics", type=int, default=200)
    ap.add_argument("--out", default="gen_sessions")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    n, k = a.items, a.topics
    weights = [1.0 / (i + 1) ** 1.1 for i in range(n)]
    cum = list(itertools.accumulate(weights))
    topic = [rng.randrange(k) for _ in range(n)]
    by_topic = [[] for _ in range(k)]
    for i in range(n):  # ascending id = descending popularity
        by_topic[topic[i]].append(i)
    topic_cum = [list(itertools.accumulate(weights[i] for i in items)) for items in by_topic]
    succ = [[by_topic[topic[i]][min(len(by_topic[topic[i]]) - 1, int(rng.expovariate(0.05)))]
             if rng.random() < 0.7 else rng.randrange(n) for _ in range(5)] for i in range(n)]
    # Item ids as written: a fixed shuffle of large numbers, like Yoochoose's.
    names = rng.sample(range(214_500_000, 214_500_000 + 50 * n), n)

    def pop_item():
        return bisect.bisect_left(cum, rng.random() * cum[-1])

    def topic_item(t):
        c = topic_cum[t]
        return by_topic[t][bisect.bisect_left(c, rng.random() * c[-1])]

    sessions = []
    total = 0
    sid = 0
    while total < a.clicks:
        sid += 1
        length = 1
        while rng.random() < 0.75 and length < 200:
            length += 1
        t = T0 + rng.random() * DAYS * 86_400
        first = pop_item()
        tp = topic[first]
        items = [first]
        for _ in range(length - 1):
            u = rng.random()
            if u < 0.5:
                nxt = rng.choice(succ[items[-1]])
            elif u < 0.8:
                nxt = topic_item(tp)
            else:
                nxt = pop_item()
            items.append(nxt)
        times = [t]
        for _ in range(length - 1):
            times.append(times[-1] + rng.uniform(20, 180))
        sessions.append((t, sid, items, times))
        total += length
    sessions.sort()
    split = T0 + (DAYS - 1) * 86_400
    with open(a.out + "_train.tsv", "w") as tr, open(a.out + "_test.tsv", "w") as te:
        for f in (tr, te):
            f.write("SessionId\tItemId\tTime\n")
        for start, s, items, times in sessions:
            f = te if start >= split else tr
            for i, tm in zip(items, times):
                f.write(f"{s}\t{names[i]}\t{tm:.3f}\n")


if __name__ == "__main__":
    main()
