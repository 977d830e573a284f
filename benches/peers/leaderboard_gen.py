"""Generate a Taobao-format behaviour log (``user,item,category,behavior,unix_seconds``, no header) for the
large leaderboard benchmark.

Nine days (2017-11-25 .. 2017-12-03, like the real UserBehavior file). Each user has a latent activity
rate and a latent buying propensity; sessions of views over a few categories (Zipf item popularity), some
ending in cart adds, favourites and purchases with a probability that grows with the propensity and with
recent cart adds. So the purchase label of `cartseq task --task purchase` is learnable but noisy, as in the
real data. Deterministic for a given --seed.

    python leaderboard_gen.py --users 340000 --seed 1 -o big.csv

340,000 users give about 1 million rows of `cartseq task --task purchase --horizon 1d` (three windows).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

T0 = 1_511_568_000  # 2017-11-25T00:00:00Z
SPAN = 9 * 86_400


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=340_000)
    ap.add_argument("--items", type=int, default=200_000)
    ap.add_argument("--categories", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    # Item popularity (Zipf-like), a fixed category and a conversion tendency per item.
    cdf = np.cumsum(1.0 / np.arange(1, a.items + 1) ** 0.9)
    cdf /= cdf[-1]
    item_cat = rng.integers(0, a.categories, a.items)
    item_quality = rng.beta(2, 8, a.items)
    # Users: activity (sessions per day) and buying propensity.
    rate = rng.lognormal(-1.0, 0.8, a.users)
    prop = rng.beta(1.2, 10.0, a.users)
    n_sess = rng.poisson(rate * 9) + 1
    s_user = np.repeat(np.arange(a.users), n_sess)
    s_start = rng.integers(T0, T0 + SPAN, s_user.size)
    # Views: a geometric number per session, a few minutes apart.
    k = rng.geometric(0.15, s_user.size)
    v_sess = np.repeat(np.arange(s_user.size), k)
    gaps = rng.integers(5, 240, v_sess.size)
    csum = np.cumsum(gaps)
    first = np.concatenate(([0], np.cumsum(k)[:-1]))
    offset = csum - np.repeat(csum[first] - gaps[first], k)
    v_user = s_user[v_sess]
    v_time = s_start[v_sess] + offset
    v_item = np.searchsorted(cdf, rng.random(v_sess.size))
    cols = [(v_user, v_item, v_time, np.zeros(v_sess.size, np.int8))]
    # Cart adds, purchases after a delay, favourites.
    r = rng.random(v_sess.size)
    cart_p = (0.08 + 0.6 * prop[v_user]) * 0.5
    cart = r < cart_p
    fav = (~cart) & (r < cart_p + 0.03)
    cols.append((v_user[cart], v_item[cart], v_time[cart] + 7, np.full(cart.sum(), 1, np.int8)))
    cols.append((v_user[fav], v_item[fav], v_time[fav] + 5, np.full(fav.sum(), 2, np.int8)))
    cu, ci, ct = v_user[cart], v_item[cart], v_time[cart]
    buy_p = np.minimum(0.9, prop[cu] * 2.5 + item_quality[ci] * 0.5)
    buy = rng.random(cu.size) < buy_p
    delay = 60 + rng.exponential(6 * 3600, cu.size).astype(np.int64)
    cols.append((cu[buy], ci[buy], ct[buy] + delay[buy], np.full(buy.sum(), 3, np.int8)))
    user = np.concatenate([c[0] for c in cols])
    item = np.concatenate([c[1] for c in cols])
    time = np.concatenate([c[2] for c in cols])
    act = np.concatenate([c[3] for c in cols])
    keep = time < T0 + SPAN
    user, item, time, act = user[keep], item[keep], time[keep], act[keep]
    order = np.lexsort((time, user))
    names = np.array(["pv", "cart", "fav", "buy"])
    with open(a.output, "w", buffering=1 << 22) as out:
        step = 1_000_000
        for lo in range(0, order.size, step):
            o = order[lo : lo + step]
            rows = zip(user[o].tolist(), item[o].tolist(), item_cat[item[o]].tolist(),
                       names[act[o]].tolist(), time[o].tolist())
            out.write("".join(f"{u},{i},{c},{b},{t}\n" for u, i, c, b, t in rows))
    print(f"wrote {order.size} events for {a.users} users to {a.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
