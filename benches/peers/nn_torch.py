#!/usr/bin/env python3
"""PyTorch (CPU) peers of cartseq's neural models, same models, sizes, batches and threads.

Two modes:

* ``gru4rec`` — the GRU4Rec-style next-item network of ``cartseq nextitem --model gru``: item embedding
  tied to the output item vectors, GRU(hidden), dropout on the GRU output, full softmax over all items,
  session-parallel minibatches with the hidden state carried (detached) between steps and reset when a
  session ends, Adam, global-norm clipping 5. Same preprocessing (dense ids of training items in order
  of first appearance; test items unseen in training removed; test sessions of < 2 clicks dropped) and
  the same metric definition (rank = 1 + number of other items scoring at least as high).
  Prints per-epoch time and throughput, Recall@k / MRR@k and peak RSS as JSON.

* ``seqclf`` — throughput of the sequence classifier (embedding → GRU/LSTM → dense softmax) on a file
  of ``target<TAB>tok tok …`` lines (written by ``make-seqs``): sequences bucketed by length exactly
  like cartseq (sorted by length, cut into batches, batch order shuffled), packed with
  ``pack_padded_sequence`` so padding costs nothing.

Usage::

    benches/peers/.venv/bin/python benches/peers/nn_torch.py gru4rec --train TR --test TE --epochs 8
    benches/peers/.venv/bin/python benches/peers/nn_torch.py make-seqs --train TR --out seqs.tsv
    benches/peers/.venv/bin/python benches/peers/nn_torch.py seqclf --seqs seqs.tsv --cell gru
"""
import argparse
import json
import resource
import time

import numpy as np
from common import seqclf_arguments


def read_sessions(path, preset):
    """Sessions in order of start time (then first appearance), clicks ordered by time (stable)."""
    import pandas as pd

    if preset == "yoochoose":
        df = pd.read_csv(path, sep="\t", dtype={"SessionId": str, "ItemId": str, "Time": float})
        df = df.rename(columns={"SessionId": "s", "ItemId": "i", "Time": "t"})
    else:
        raise SystemExit(f"preset {preset} not supported here")
    df["row"] = np.arange(len(df))
    first = df.groupby("s", sort=False)["row"].transform("min")
    df["first"] = first
    df = df.sort_values(["first", "t", "row"], kind="stable")
    sessions = []
    for s, g in df.groupby("first", sort=True):
        sessions.append((g["t"].min(), s, list(g["i"])))
    sessions.sort(key=lambda x: (x[0], x[1]))
    return [x[2] for x in sessions]


def dense_ids(train):
    ids = {}
    out = []
    for s in train:
        out.append([ids.setdefault(i, len(ids)) for i in s])
    return out, ids


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def gru4rec(a):
    import torch
    import torch.nn as nn

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    t_read = time.time()
    train_raw = read_sessions(a.train, a.preset)
    test_raw = read_sessions(a.test, a.preset)
    train, ids = dense_ids(train_raw)
    n_items = len(ids)
    test = []
    for s in test_raw:
        q = [ids[i] for i in s if i in ids]
        if len(q) >= 2:
            test.append(q)
    read_seconds = time.time() - t_read

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.out = nn.Embedding(n_items, a.hidden)  # tied input/output item vectors
            nn.init.uniform_(self.out.weight, -1 / np.sqrt(a.hidden), 1 / np.sqrt(a.hidden))
            self.bias = nn.Parameter(torch.zeros(n_items))
            self.gru = nn.GRU(a.hidden, a.hidden, num_layers=a.layers, batch_first=False)
            self.drop = nn.Dropout(a.dropout)

        def step(self, items, h):
            x = self.out(items).unsqueeze(0)
            o, h = self.gru(x, h)
            o = self.drop(o.squeeze(0))
            return o @ self.out.weight.T + self.bias, h

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    lossf = nn.CrossEntropyLoss()
    sessions = [i for i, s in enumerate(train) if len(s) >= 2]
    epochs = []
    for ep in range(a.epochs):
        net.train()
        t0 = time.time()
        order = list(rng.permutation(sessions)) if a.shuffle else list(sessions)
        b = min(a.batch, len(order))
        slots = [[order[i], 0] for i in range(b)]
        nxt = b
        h = torch.zeros(a.layers, b, a.hidden)
        total_loss, n_pred, steps = 0.0, 0, 0
        while slots:
            inp = torch.tensor([train[s][t] for s, t in slots])
            tgt = torch.tensor([train[s][t + 1] for s, t in slots])
            opt.zero_grad()
            logits, h = net.step(inp, h)
            loss = lossf(logits, tgt)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            h = h.detach()
            total_loss += loss.item() * len(slots)
            n_pred += len(slots)
            steps += 1
            keep, reset = [], []
            for i, sl in enumerate(slots):
                sl[1] += 1
                if sl[1] + 1 >= len(train[sl[0]]):
                    if nxt < len(order):
                        slots[i] = [order[nxt], 0]
                        nxt += 1
                        reset.append(i)
                        keep.append(i)
                else:
                    keep.append(i)
            if reset:
                h[:, reset, :] = 0
            if len(keep) < len(slots):
                slots = [slots[i] for i in keep]
                h = h[:, keep, :].contiguous()
        sec = time.time() - t0
        epochs.append({"epoch": ep + 1, "train_loss": total_loss / max(n_pred, 1), "seconds": sec,
                       "clicks_per_s": n_pred / sec, "sessions_per_s": len(sessions) / sec, "steps": steps})
        if not a.quiet:
            print(f"epoch {ep + 1}: loss {total_loss / max(n_pred, 1):.4f} {sec:.2f}s", flush=True)
    # Evaluation.
    net.eval()
    ks = sorted(set(a.k))
    hits = np.zeros(len(ks))
    rr = np.zeros(len(ks))
    n = 0
    t_eval = time.time()
    with torch.no_grad():
        order = sorted(range(len(test)), key=lambda i: -len(test[i]))
        for c in range(0, len(order), 256):
            chunk = [test[i] for i in order[c:c + 256]]
            lens = [len(s) for s in chunk]
            pad = torch.zeros(max(lens), len(chunk), dtype=torch.long)
            for j, s in enumerate(chunk):
                pad[:len(s), j] = torch.tensor(s)
            x = net.out(pad)
            packed = nn.utils.rnn.pack_padded_sequence(x, lens)
            o, _ = net.gru(packed)
            o, _ = nn.utils.rnn.pad_packed_sequence(o)
            for j, s in enumerate(chunk):
                hs = o[: len(s) - 1, j, :]
                sc = hs @ net.out.weight.T + net.bias
                tg = torch.tensor(s[1:])
                ts = sc.gather(1, tg.unsqueeze(1))
                rank = (sc >= ts).sum(1).numpy()  # includes the target itself: 1 + others >=
                for ki, k in enumerate(ks):
                    m = rank <= k
                    hits[ki] += m.sum()
                    rr[ki] += (m / rank).sum()
                n += len(rank)
    eval_seconds = time.time() - t_eval
    out = {
        "tool": f"torch {torch.__version__}",
        "threads": a.threads,
        "items": n_items,
        "train_sessions": len(train),
        "test_sessions_evaluated": len(test),
        "predictions": n,
        "read_seconds": read_seconds,
        "epochs": epochs,
        "mean_epoch_seconds": float(np.mean([e["seconds"] for e in epochs])),
        "eval_seconds": eval_seconds,
        "recall": {str(k): hits[i] / n for i, k in enumerate(ks)},
        "mrr": {str(k): rr[i] / n for i, k in enumerate(ks)},
        "peak_rss_mb": peak_rss_mb(),
    }
    print(json.dumps(out, indent=1))


def make_seqs(a):
    """Every prefix (last `max_len` clicks) of every training session → its next click."""
    train, _ = dense_ids(read_sessions(a.train, a.preset))
    with open(a.out, "w") as f:
        for s in train:
            for t in range(1, len(s)):
                pre = s[max(0, t - a.max_len):t]
                f.write(f"{s[t]}\t{' '.join(map(str, pre))}\n")


def read_seq_file(path):
    ys, xs = [], []
    with open(path) as f:
        for line in f:
            y, x = line.rstrip("\n").split("\t")
            ys.append(int(y))
            xs.append([int(v) for v in x.split()])
    return ys, xs


def buckets(xs, batch, rng):
    order = sorted(range(len(xs)), key=lambda i: -len(xs[i]))
    bs = [order[i:i + batch] for i in range(0, len(order), batch)]
    rng.shuffle(bs)
    return bs


def seqclf(a):
    import torch
    import torch.nn as nn

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    ys, xs = read_seq_file(a.seqs)
    vocab = max(max(x) for x in xs) + 2
    classes = max(ys) + 1
    tokens = sum(len(x) for x in xs)
    rnn = nn.GRU if a.cell == "gru" else nn.LSTM

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, a.embed)
            self.rnn = rnn(a.embed, a.hidden)
            self.head = nn.Linear(a.hidden, classes)

        def forward(self, pad, lens):
            p = nn.utils.rnn.pack_padded_sequence(self.emb(pad), lens)
            _, h = self.rnn(p)
            if isinstance(h, tuple):
                h = h[0]
            return self.head(h[-1])

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    lossf = nn.CrossEntropyLoss()
    epochs = []
    for ep in range(a.epochs):
        t0 = time.time()
        tot = 0.0
        for b in buckets(xs, a.batch, rng):
            lens = [len(xs[i]) for i in b]
            pad = torch.zeros(lens[0], len(b), dtype=torch.long)
            for j, i in enumerate(b):
                pad[: lens[j], j] = torch.tensor(xs[i])
            y = torch.tensor([ys[i] for i in b])
            opt.zero_grad()
            loss = lossf(net(pad, lens), y)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            tot += loss.item() * len(b)
        sec = time.time() - t0
        epochs.append({"epoch": ep + 1, "train_loss": tot / len(xs), "seconds": sec,
                       "sequences_per_s": len(xs) / sec, "tokens_per_s": tokens / sec})
    print(json.dumps({"tool": f"torch {torch.__version__}", "cell": a.cell, "threads": a.threads,
                      "sequences": len(xs), "tokens": tokens, "classes": classes, "epochs": epochs,
                      "peak_rss_mb": peak_rss_mb()}, indent=1))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    g = sub.add_parser("gru4rec")
    g.add_argument("--train", required=True)
    g.add_argument("--test", required=True)
    g.add_argument("--preset", default="yoochoose")
    g.add_argument("--hidden", type=int, default=100)
    g.add_argument("--layers", type=int, default=1)
    g.add_argument("--epochs", type=int, default=8)
    g.add_argument("--batch", type=int, default=32)
    g.add_argument("--lr", type=float, default=2e-3)
    g.add_argument("--dropout", type=float, default=0.25)
    g.add_argument("--threads", type=int, default=2)
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--k", type=int, nargs="+", default=[10, 20])
    g.add_argument("--shuffle", type=int, default=1)
    g.add_argument("--quiet", action="store_true")
    m = sub.add_parser("make-seqs")
    m.add_argument("--train", required=True)
    m.add_argument("--preset", default="yoochoose")
    m.add_argument("--out", required=True)
    m.add_argument("--max-len", type=int, default=10)
    c = sub.add_parser("seqclf")
    seqclf_arguments(c, epochs=1)
    c.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    {"gru4rec": gru4rec, "make-seqs": make_seqs, "seqclf": seqclf}[a.mode](a)


if __name__ == "__main__":
    main()
