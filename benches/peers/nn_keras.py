#!/usr/bin/env python3
"""Keras 3 (JAX CPU backend) peer of cartseq's sequence classifier: embedding → GRU/LSTM → dense
softmax, on a file of ``target<TAB>tok tok …`` lines (see ``nn_torch.py make-seqs``).

Sequences are bucketed by length exactly like cartseq and the PyTorch peer (sorted by length, cut into
batches, batch order shuffled); each batch is padded to its own longest sequence and masked
(``mask_zero``), so Keras computes on the padding of a batch but never learns from it. JAX compiles
one program per distinct batch shape; the first epoch includes that compilation, so two epochs are
run and both reported.

Usage::

    benches/peers/.venv/bin/python benches/peers/nn_keras.py --seqs seqs.tsv --cell gru
"""
import argparse
import json
import os
import resource
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")

import numpy as np  # noqa: E402
from common import seqclf_arguments  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    seqclf_arguments(p, epochs=2)
    a = p.parse_args()

    import keras

    keras.utils.set_random_seed(a.seed)
    ys, xs = [], []
    with open(a.seqs) as f:
        for line in f:
            y, x = line.rstrip("\n").split("\t")
            ys.append(int(y))
            xs.append([int(v) + 1 for v in x.split()])  # 0 is the padding / mask id
    vocab = max(max(x) for x in xs) + 1
    classes = max(ys) + 1
    tokens = sum(len(x) for x in xs)
    rnn = keras.layers.GRU if a.cell == "gru" else keras.layers.LSTM
    model = keras.Sequential([
        keras.layers.Embedding(vocab, a.embed, mask_zero=True),
        rnn(a.hidden),
        keras.layers.Dense(classes),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=5.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(a.seed)
    order = sorted(range(len(xs)), key=lambda i: -len(xs[i]))
    batches = [order[i:i + a.batch] for i in range(0, len(order), a.batch)]
    epochs = []
    for ep in range(a.epochs):
        rng.shuffle(batches)
        t0 = time.time()
        tot = 0.0
        for b in batches:
            L = len(xs[b[0]])
            pad = np.zeros((len(b), L), dtype="int32")
            for j, i in enumerate(b):
                pad[j, : len(xs[i])] = xs[i]
            y = np.array([ys[i] for i in b], dtype="int32")
            tot += float(model.train_on_batch(pad, y)) * len(b)
        sec = time.time() - t0
        epochs.append({"epoch": ep + 1, "train_loss": tot / len(xs), "seconds": sec,
                       "sequences_per_s": len(xs) / sec, "tokens_per_s": tokens / sec})
    print(json.dumps({"tool": f"keras {keras.__version__} (backend {keras.backend.backend()})", "cell": a.cell,
                      "sequences": len(xs), "tokens": tokens, "classes": classes, "epochs": epochs,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}, indent=1))


if __name__ == "__main__":
    main()
