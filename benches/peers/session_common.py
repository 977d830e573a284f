"""Shared by the SR-GNN and SASRec PyTorch twins: the split and the metric code of cartseq nextitem.

Preprocessing is nn_torch.py's (the GRU4Rec twin's): sessions in order of start time, dense ids of the
training items in order of first appearance, test items unseen in training removed, test sessions with
fewer than two clicks dropped. Metric: every click after the first is predicted from its prefix; the
rank is 1 + the number of *other* items scoring at least as high (ties count against the model).
"""
import json
import resource
import time

import numpy as np

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nn_torch import dense_ids, read_sessions


def parser(doc, hidden, epochs, batch):
    """The arguments both twins take (model-specific ones are added by the caller)."""
    import argparse

    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--preset", default="yoochoose")
    p.add_argument("--hidden", type=int, default=hidden)
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch", type=int, default=batch)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--k", type=int, nargs="+", default=[10, 20])
    p.add_argument("--quiet", action="store_true")
    return p


def setup(a):
    """Threads and seeds; returns the numpy generator and the split (train, test, items)."""
    import torch

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    return np.random.default_rng(a.seed), load_split(a.train, a.test, a.preset)


def load_split(train_path, test_path, preset="yoochoose"):
    train_raw = read_sessions(train_path, preset)
    test_raw = read_sessions(test_path, preset)
    train, ids = dense_ids(train_raw)
    test = []
    for s in test_raw:
        q = [ids[i] for i in s if i in ids]
        if len(q) >= 2:
            test.append(q)
    return train, test, len(ids)


class Metrics:
    """Recall@k and MRR@k accumulated over score rows."""

    def __init__(self, ks):
        self.ks = sorted(set(ks))
        self.hits = np.zeros(len(self.ks))
        self.rr = np.zeros(len(self.ks))
        self.n = 0

    def add(self, scores, targets):
        """scores: torch tensor (rows × items); targets: list of item ids."""
        import torch

        tg = torch.tensor(targets)
        ts = scores.gather(1, tg.unsqueeze(1))
        rank = (scores >= ts).sum(1).numpy()  # includes the target itself: 1 + others ≥
        for ki, k in enumerate(self.ks):
            m = rank <= k
            self.hits[ki] += m.sum()
            self.rr[ki] += (m / rank).sum()
        self.n += len(rank)

    def as_dict(self):
        n = max(self.n, 1)
        return {
            "predictions": self.n,
            "recall": {str(k): self.hits[i] / n for i, k in enumerate(self.ks)},
            "mrr": {str(k): self.rr[i] / n for i, k in enumerate(self.ks)},
        }


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def report(tool, threads, n_items, train, test, epochs, eval_seconds, metrics, extra=None):
    out = {
        "tool": tool,
        "threads": threads,
        "items": n_items,
        "train_sessions": len(train),
        "test_sessions_evaluated": len(test),
        "epochs": epochs,
        "mean_epoch_seconds": float(np.mean([e["seconds"] for e in epochs])),
        "eval_seconds": eval_seconds,
        **metrics.as_dict(),
        "peak_rss_mb": peak_rss_mb(),
    }
    out.update(extra or {})
    print(json.dumps(out, indent=1))


def train_epochs(net, epochs, quiet, run, after_epoch=None):
    """Trains ``net`` for ``epochs`` epochs: ``run()`` is one epoch (it returns the loss summed over its
    examples and their number), ``after_epoch()`` (e.g. a learning-rate schedule's step) follows each.
    Returns one record per epoch (mean loss, seconds, examples per second) and leaves ``net`` in
    evaluation mode."""
    out = []
    for ep in range(epochs):
        net.train()
        t0 = time.time()
        loss, n = run()
        sec = time.time() - t0
        if not quiet:
            print(f"epoch {ep + 1}: loss {loss / max(n, 1):.4f} {sec:.2f}s", flush=True)
        out.append({"epoch": ep + 1, "train_loss": loss / max(n, 1), "seconds": sec, "examples_per_s": n / sec})
        if after_epoch is not None:
            after_epoch()
    net.eval()
    return out


def shuffled_batches(rng, examples, size):
    """The training examples in one random order drawn from ``rng`` (a numpy Generator), as lists of
    at most ``size``: one epoch's mini-batches."""
    order = rng.permutation(len(examples))
    for c in range(0, len(order), size):
        yield [examples[i] for i in order[c:c + size]]
