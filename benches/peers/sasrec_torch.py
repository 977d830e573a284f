#!/usr/bin/env python3
"""PyTorch (CPU) twin of ``cartseq nextitem --model sasrec``: SASRec (Kang & McAuley, ICDM 2018) with
the same architecture and hyper-parameters as cartseq.

* Item embeddings (shared with the output) + learned positional embeddings (positions from each
  session's first click), dropout; ``--blocks`` pre-norm blocks ``x + Drop(MHA(LN x))``,
  ``y + Drop(FFN(LN y))`` with causal multi-head attention (``nn.MultiheadAttention``, no attention
  dropout) and ``FFN = Linear(d,d) → ReLU → Linear(d,d)``; final layer norm (ε = 1e-8 everywhere).
* Every position predicts the next click, cross-entropy over all items; sessions keep their last
  ``max_len + 1`` clicks; batches of 128 sessions shuffled each epoch; Adam(0.9, 0.98) 1e-3.
* Prediction: a prefix longer than ``max_len`` is cut to its last ``max_len`` clicks.

Usage::

    /work/peers-venv/bin/python benches/peers/sasrec_torch.py --train TR --test TE --epochs 20
"""
import math
import time

import numpy as np

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from session_common import Metrics, parser, report, setup, shuffled_batches, train_epochs


def main():
    p = parser(__doc__, hidden=50, epochs=20, batch=128)
    p.add_argument("--blocks", type=int, default=2)
    p.add_argument("--heads", type=int, default=1)
    p.add_argument("--max-len", type=int, default=50)
    p.add_argument("--dropout", type=float, default=0.5)
    a = p.parse_args()

    import torch
    import torch.nn as nn

    rng, (train, test, n_items) = setup(a)
    d, L = a.hidden, a.max_len

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(d, eps=1e-8)
            self.att = nn.MultiheadAttention(d, a.heads, batch_first=True)
            self.ln2 = nn.LayerNorm(d, eps=1e-8)
            self.ffn = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d))
            self.drop = nn.Dropout(a.dropout)

        def forward(self, x, causal):
            q = self.ln1(x)
            att, _ = self.att(q, q, q, attn_mask=causal, need_weights=False)
            x = x + self.drop(att)
            return x + self.drop(self.ffn(self.ln2(x)))

    class SASRec(nn.Module):
        def __init__(self):
            super().__init__()
            self.items = nn.Embedding(n_items + 1, d, padding_idx=n_items)  # last row: padding
            self.pos = nn.Embedding(L, d)
            s = 1.0 / math.sqrt(d)
            self.items.weight.data.uniform_(-s, s)
            self.pos.weight.data.uniform_(-s, s)
            self.drop = nn.Dropout(a.dropout)
            self.blocks = nn.ModuleList([Block() for _ in range(a.blocks)])
            self.ln = nn.LayerNorm(d, eps=1e-8)

        def forward(self, x):
            n = x.shape[1]
            h = self.drop(self.items(x) + self.pos.weight[:n])
            causal = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
            for b in self.blocks:
                h = b(h, causal)
            f = self.ln(h)
            return f @ self.items.weight[:n_items].T

    def pad(seqs):
        n = max(len(s) for s in seqs)
        x = torch.full((len(seqs), n), n_items, dtype=torch.long)
        for i, s in enumerate(seqs):
            x[i, : len(s)] = torch.tensor(s)
        return x

    net = SASRec()
    opt = torch.optim.Adam(net.parameters(), lr=a.lr, betas=(0.9, 0.98))
    lossf = nn.CrossEntropyLoss(ignore_index=n_items, reduction="sum")
    rows = [s[-(L + 1):] for s in train if len(s) >= 2]

    def run():  # one epoch: (summed loss, examples)
        tot, n = 0.0, 0
        for seqs in shuffled_batches(rng, rows, a.batch):
            x = pad([s[:-1] for s in seqs])
            y = pad([s[1:] for s in seqs])
            clicks = int((y != n_items).sum())
            opt.zero_grad()
            logits = net(x)
            loss = lossf(logits.reshape(-1, n_items), y.reshape(-1)) / clicks
            loss.backward()
            opt.step()
            tot += loss.item() * clicks
            n += clicks
        return tot, n

    epochs = train_epochs(net, a.epochs, a.quiet, run)
    m = Metrics(a.k)
    t_eval = time.time()
    with torch.no_grad():
        # Windows as cartseq: the first max_len clicks in one causal pass, then one window per
        # later prefix (its last max_len clicks, last state only).
        windows = []
        for s in test:
            windows.append((s, 0, min(len(s) - 1, L), 0))
            for t in range(L, len(s) - 1):
                windows.append((s, t + 1 - L, L, L - 1))
        for c in range(0, len(windows), 128):
            chunk = windows[c:c + 128]
            scores = net(pad([s[b:b + n] for s, b, n, _ in chunk]))
            rows_s, targets = [], []
            for i, (s, b, n, first) in enumerate(chunk):
                for j in range(first, n):
                    rows_s.append(scores[i, j])
                    targets.append(s[b + j + 1])
            m.add(torch.stack(rows_s), targets)
    report(f"torch {torch.__version__}", a.threads, n_items, train, test, epochs,
           time.time() - t_eval, m, {"model": "sasrec"})


if __name__ == "__main__":
    main()
