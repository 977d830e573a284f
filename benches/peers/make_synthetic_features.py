#!/usr/bin/env python3
"""Writes a seeded synthetic feature CSV in `cartseq task`'s format (id, split, label, features) for the
scale row of the model benchmarks: behaviour-like counts, ratios, recencies and a binary label from a
non-linear logistic model (interactions and thresholds, so trees have something to find).

Usage: python benches/peers/make_synthetic_features.py OUT.csv [--rows 1000000] [--seed 7]
Splits: the first 70% of rows are train, the next 10% valid, the last 20% test.
"""
import argparse

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--rows", type=int, default=1_000_000)
ap.add_argument("--seed", type=int, default=7)
a = ap.parse_args()
rng = np.random.default_rng(a.seed)
n = a.rows
activity = rng.gamma(1.5, 4.0, n)
views = rng.poisson(activity * 5)
carts = rng.binomial(views, 0.08)
favs = rng.binomial(views, 0.03)
buys = rng.binomial(carts, 0.3)
removes = rng.binomial(carts, 0.2)
sessions = 1 + rng.poisson(activity / 2)
recency_h = rng.exponential(48, n)
gap_h = rng.exponential(12, n) * (1 + 1 / (1 + sessions))
hour = rng.integers(0, 24, n)
weekday = rng.integers(0, 7, n)
distinct_items = np.minimum(views, rng.poisson(views * 0.6 + 1))
distinct_cats = np.minimum(distinct_items, rng.poisson(distinct_items * 0.3 + 1))
item_pop = rng.beta(2, 5, n)
item_conv = rng.beta(1, 20, n)
noise = rng.normal(0, 1, (n, 10))
cart_ratio = carts / np.maximum(views, 1)
buy_ratio = buys / np.maximum(carts, 1)
logit = (-2.2 + 0.9 * np.log1p(carts) + 0.6 * np.log1p(buys) - 0.015 * recency_h
         + 1.2 * (cart_ratio > 0.1) * (recency_h < 24) + 8 * item_conv + 0.5 * np.sin(hour / 24 * 2 * np.pi)
         - 0.3 * (weekday >= 5) + 0.4 * noise[:, 0] * (sessions > 3))
label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
cols = {
    "n_view": views, "n_cart": carts, "n_fav": favs, "n_buy": buys, "n_remove": removes,
    "n_sessions": sessions, "recency_h": recency_h.round(3), "mean_gap_h": gap_h.round(3),
    "last_hour": hour, "last_weekday": weekday, "distinct_items": distinct_items,
    "distinct_cats": distinct_cats, "cart_ratio": cart_ratio.round(5), "buy_ratio": buy_ratio.round(5),
    "item_pop": item_pop.round(5), "item_conv": item_conv.round(5),
}
for j in range(noise.shape[1]):
    cols[f"noise{j}"] = noise[:, j].round(4)
split = np.where(np.arange(n) < 0.7 * n, "train", np.where(np.arange(n) < 0.8 * n, "valid", "test"))
names = list(cols)
with open(a.out, "w") as f:
    f.write("user_id,split,label," + ",".join(names) + "\n")
    mat = np.column_stack([cols[c] for c in names])
    for i in range(n):
        f.write(f"{i},{split[i]},{label[i]}," + ",".join(repr(float(v)) if not float(v).is_integer() else str(int(v)) for v in mat[i]) + "\n")
print(f"wrote {n} rows, {len(names)} features, positive rate {label.mean():.3f} to {a.out}")
