#!/usr/bin/env python3
"""PyTorch (CPU) twin of ``cartseq nextitem --model srgnn``: SR-GNN (Wu et al., AAAI 2019) as in the
authors' reference code (CRIPAC-DIG/SR-GNN, pytorch_code/model.py), same hyper-parameters as cartseq.

* Per prefix a graph over its distinct items (sorted, as ``np.unique``), consecutive clicks as edges
  (repeats once), ``A_in`` normalised by in-degree and ``A_out`` by out-degree (the reference
  ``[A_in | A_out]`` matrix), gated GNN (GRU cell over the 2d in/out messages, ``--steps``).
* Readout ``α = qᵀσ(W₁ s_last + W₂ hₜ)``, ``s_h = W₃[Σ αₜ hₜ; s_last]``, scores against the item
  embeddings, cross-entropy over all items.
* Every prefix of every training session → its next click, shuffled each epoch, batches of 100;
  Adam 1e-3 with L2 1e-5, ×0.1 every 3 epochs; every weight uniform in ±1/√d.

Usage::

    /work/peers-venv/bin/python benches/peers/srgnn_torch.py --train TR --test TE --epochs 4
"""
import math
import time

import numpy as np

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from session_common import Metrics, parser, report, setup, shuffled_batches, train_epochs


def build_batch(seqs):
    """Padded node items, [A_in | A_out], alias of every click, click mask (the reference get_slice)."""
    import torch

    nodes = [np.unique(s) for s in seqs]
    max_n = max(len(n) for n in nodes)
    max_len = max(len(s) for s in seqs)
    items = np.zeros((len(seqs), max_n), dtype=np.int64)
    A = np.zeros((len(seqs), max_n, 2 * max_n), dtype=np.float32)
    alias = np.zeros((len(seqs), max_len), dtype=np.int64)
    mask = np.zeros((len(seqs), max_len), dtype=np.float32)
    for b, (s, node) in enumerate(zip(seqs, nodes)):
        items[b, : len(node)] = node
        loc = {v: i for i, v in enumerate(node)}
        u_A = np.zeros((max_n, max_n), dtype=np.float32)
        for i in range(len(s) - 1):
            u_A[loc[s[i]], loc[s[i + 1]]] = 1
        u_sum_in = u_A.sum(0)
        u_sum_in[u_sum_in == 0] = 1
        u_sum_out = u_A.sum(1)
        u_sum_out[u_sum_out == 0] = 1
        A[b, :, :max_n] = (u_A / u_sum_in).T
        A[b, :, max_n:] = (u_A.T / u_sum_out).T
        alias[b, : len(s)] = [loc[v] for v in s]
        mask[b, : len(s)] = 1
    return (torch.from_numpy(items), torch.from_numpy(A), torch.from_numpy(alias),
            torch.from_numpy(mask))


def main():
    p = parser(__doc__, hidden=100, epochs=4, batch=100)
    p.add_argument("--steps", type=int, default=1)
    p.add_argument("--lr-decay", type=float, default=0.1)
    p.add_argument("--lr-step", type=int, default=3)
    p.add_argument("--l2", type=float, default=1e-5)
    a = p.parse_args()

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    rng, (train, test, n_items) = setup(a)
    d = a.hidden

    class SRGNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(n_items, d)
            self.w_ih = nn.Parameter(torch.Tensor(3 * d, 2 * d))
            self.w_hh = nn.Parameter(torch.Tensor(3 * d, d))
            self.b_ih = nn.Parameter(torch.Tensor(3 * d))
            self.b_hh = nn.Parameter(torch.Tensor(3 * d))
            self.b_iah = nn.Parameter(torch.Tensor(d))
            self.b_oah = nn.Parameter(torch.Tensor(d))
            self.linear_edge_in = nn.Linear(d, d)
            self.linear_edge_out = nn.Linear(d, d)
            self.linear_one = nn.Linear(d, d)
            self.linear_two = nn.Linear(d, d)
            self.linear_three = nn.Linear(d, 1, bias=False)
            self.linear_transform = nn.Linear(2 * d, d)
            stdv = 1.0 / math.sqrt(d)
            for w in self.parameters():
                w.data.uniform_(-stdv, stdv)

        def cell(self, A, h):
            n = A.shape[1]
            input_in = torch.matmul(A[:, :, :n], self.linear_edge_in(h)) + self.b_iah
            input_out = torch.matmul(A[:, :, n:2 * n], self.linear_edge_out(h)) + self.b_oah
            inputs = torch.cat([input_in, input_out], 2)
            gi = F.linear(inputs, self.w_ih, self.b_ih)
            gh = F.linear(h, self.w_hh, self.b_hh)
            i_r, i_i, i_n = gi.chunk(3, 2)
            h_r, h_i, h_n = gh.chunk(3, 2)
            r = torch.sigmoid(i_r + h_r)
            z = torch.sigmoid(i_i + h_i)
            c = torch.tanh(i_n + r * h_n)
            return c + z * (h - c)

        def forward(self, items, A, alias, mask):
            h = self.embedding(items)
            for _ in range(a.steps):
                h = self.cell(A, h)
            seq_h = torch.stack([h[i][alias[i]] for i in range(len(alias))])
            last = seq_h[torch.arange(mask.shape[0]), mask.sum(1).long() - 1]
            q1 = self.linear_one(last).unsqueeze(1)
            q2 = self.linear_two(seq_h)
            alpha = self.linear_three(torch.sigmoid(q1 + q2))
            s_global = torch.sum(alpha * seq_h * mask.unsqueeze(-1), 1)
            s_h = self.linear_transform(torch.cat([s_global, last], 1))
            return s_h @ self.embedding.weight.T

    net = SRGNN()
    opt = torch.optim.Adam(net.parameters(), lr=a.lr, weight_decay=a.l2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=a.lr_step, gamma=a.lr_decay)
    lossf = nn.CrossEntropyLoss()
    examples = [(r, t) for r, s in enumerate(train) for t in range(1, len(s))]

    def run():  # one epoch: (summed loss, examples)
        tot, n = 0.0, 0
        for batch in shuffled_batches(rng, examples, a.batch):
            seqs = [train[r][:t] for r, t in batch]
            tgt = torch.tensor([train[r][t] for r, t in batch])
            opt.zero_grad()
            loss = lossf(net(*build_batch(seqs)), tgt)
            loss.backward()
            opt.step()
            tot += loss.item() * len(batch)
            n += len(batch)
        return tot, n

    epochs = train_epochs(net, a.epochs, a.quiet, run, sched.step)
    m = Metrics(a.k)
    t_eval = time.time()
    with torch.no_grad():
        prefixes = [(s, t) for s in test for t in range(1, len(s))]
        for c in range(0, len(prefixes), 256):
            chunk = prefixes[c:c + 256]
            scores = net(*build_batch([s[:t] for s, t in chunk]))
            m.add(scores, [s[t] for s, t in chunk])
    report(f"torch {torch.__version__}", a.threads, n_items, train, test, epochs,
           time.time() - t_eval, m, {"model": "srgnn", "train_examples": len(examples)})


if __name__ == "__main__":
    main()
