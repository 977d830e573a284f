"""The FastAPI + PyTorch twin of ``cartseq serve`` and of ``cartseq compress``, on the same weights.

It reads a next-item GRU saved by ``cartseq nextitem --model gru --save-model M.json`` (the cartseq
JSON model file: reset-after GRU, gate blocks [r, z, n], tied item embeddings) into ``torch.nn.GRU`` +
``nn.Linear`` (PyTorch's GRU is the same reset-after form: ``weight_ih = Wᵀ``, ``weight_hh = Uᵀ``,
``bias_ih = b``, ``bias_hh = [0, 0, b_hn]``), so both sides score with identical parameters.

Modes:

* ``serve M.json [--port P] [--int8]`` — a FastAPI app with the same ``POST /v1/events`` and
  ``POST /v1/recommend`` JSON as cartseq (sessions in a dict), run by uvicorn on 127.0.0.1, one
  worker; ``--int8`` serves ``torch.ao.quantization.quantize_dynamic`` of the model.
* ``compress M.json --test LOG`` — Recall@20/MRR@20 (pessimistic ties, as cartseq) of the f32 model
  and of its ``quantize_dynamic`` int8 version on the test sessions, the size of both state dicts,
  and the median µs to score one request (one prefix, all items) over 3 rounds.

    /work/peers-venv/bin/python benches/peers/serve_twin.py serve /tmp/gru.json --port 8090
    /work/peers-venv/bin/python benches/peers/serve_twin.py compress /tmp/gru.json --test data/samples/yoochoose_valid_sample.txt
"""

import argparse
import io
import json
import statistics
import sys
import time

import torch
from torch import nn

torch.set_num_threads(1)


class Gru4Rec(nn.Module):
    def __init__(self, n_items, hidden, layers=1):
        super().__init__()
        self.emb = nn.Embedding(n_items, hidden)
        self.gru = nn.GRU(hidden, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden, n_items)

    def forward(self, clicks):
        """Scores of every item after each prefix of one session (``len × items``)."""
        x = self.emb(clicks).unsqueeze(0)
        h, _ = self.gru(x)
        return self.out(h[0])


def load(path):
    with open(path) as f:
        doc = json.load(f)
    if doc.get("kind") != "nextitem-gru":
        sys.exit(f"{path}: expected a nextitem-gru model, found {doc.get('kind')}")
    m = doc["model"]
    p = m["params"]
    if not p.get("tie_embedding", False):
        sys.exit("this twin reads tied-embedding networks (cartseq's default)")

    def mat(param):
        v = param["value"]
        # ndarray's serde form: {"v": 1, "dim": [r, c], "data": [...]}
        return torch.tensor(v["data"], dtype=torch.float32).reshape(v["dim"])

    n_items = m["n_items"]
    hidden = p["hidden"][-1]
    net = Gru4Rec(n_items, hidden, len(p["hidden"]))
    out = mat(m["out"])
    with torch.no_grad():
        net.emb.weight.copy_(out)
        net.out.weight.copy_(out)
        net.out.bias.copy_(mat(m["bias"])[0])
        for i, layer in enumerate(m["layers"]):
            w, u, b, bhn = mat(layer["w"]), mat(layer["u"]), mat(layer["b"]), mat(layer["bhn"])
            getattr(net.gru, f"weight_ih_l{i}").copy_(w.T)
            getattr(net.gru, f"weight_hh_l{i}").copy_(u.T)
            getattr(net.gru, f"bias_ih_l{i}").copy_(b[0])
            bhh = torch.zeros(3 * hidden)
            bhh[2 * hidden:] = bhn[0]
            getattr(net.gru, f"bias_hh_l{i}").copy_(bhh)
    net.eval()
    items = doc.get("items") or [str(i) for i in range(n_items)]
    return net, items


def quantized(net):
    return torch.ao.quantization.quantize_dynamic(net, {nn.GRU, nn.Linear}, dtype=torch.qint8)


def state_bytes(net):
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf)
    return buf.tell()


def read_sessions(path, ids):
    sessions, order = {}, []
    with open(path) as f:
        next(f)
        for n, line in enumerate(f):
            s, item, t = line.rstrip("\n").split("\t")[:3]
            if s not in sessions:
                sessions[s] = []
                order.append(s)
            sessions[s].append((float(t), n, item))
    out = []
    for s in order:
        clicks = [ids[i] for _, _, i in sorted(sessions[s]) if i in ids]
        if len(clicks) >= 2:
            out.append(clicks)
    return out


def evaluate(net, sessions, k=20):
    hits = rr = n = 0
    with torch.no_grad():
        for s in sessions:
            scores = net(torch.tensor(s[:-1]))
            targets = torch.tensor(s[1:])
            ts = scores.gather(1, targets[:, None])
            ranks = (scores >= ts).sum(1)  # 1 + others at least as high (the target counts itself)
            for r in ranks.tolist():
                n += 1
                if r <= k:
                    hits += 1
                    rr += 1.0 / r
    return hits / n, rr / n, n


def time_requests(net, prefixes):
    t0 = time.perf_counter()
    with torch.no_grad():
        for p in prefixes:
            net(torch.tensor(p))[-1]
    return (time.perf_counter() - t0) * 1e6 / len(prefixes)


def compress(a):
    net, items = load(a.model)
    ids = {name: i for i, name in enumerate(items)}
    q = quantized(net)
    sessions = read_sessions(a.test, ids)
    prefixes = [s[:t] for s in sessions for t in range(1, len(s))][: a.timed_requests]
    times = {"f32": [], "int8": []}
    for _ in range(3):
        times["f32"].append(time_requests(net, prefixes))
        times["int8"].append(time_requests(q, prefixes))
    res = {}
    for name, m in [("f32", net), ("int8", q)]:
        r, mrr, n = evaluate(m, sessions)
        res[name] = {
            "recall": r,
            "mrr": mrr,
            "predictions": n,
            "state_dict_bytes": state_bytes(m),
            "micros_per_request": statistics.median(times[name]),
        }
    res["torch"] = torch.__version__
    res["timed_requests"] = len(prefixes)
    print(json.dumps(res, indent=2))


def serve(a):
    import uvicorn
    from fastapi import FastAPI, HTTPException
    from pydantic import BaseModel

    net, items = load(a.model)
    if a.int8:
        net = quantized(net)
    ids = {name: i for i, name in enumerate(items)}
    sessions = {}
    app = FastAPI()

    class Events(BaseModel):
        session: str
        items: list[str]

    class Recommend(BaseModel):
        session: str | None = None
        items: list[str] | None = None
        k: int = 20

    @app.post("/v1/events")
    def events(e: Events):
        held = sessions.setdefault(e.session, [])
        held.extend(e.items)
        unknown = sum(1 for i in e.items if i not in ids)
        return {"accepted": len(e.items), "unknown_items": unknown, "held": len(held)}

    @app.post("/v1/recommend")
    def recommend(r: Recommend):
        clicks = sessions.get(r.session) if r.session is not None else r.items
        if clicks is None:
            raise HTTPException(404, "unknown session")
        known = [ids[c] for c in clicks if c in ids]
        if not known:
            return {"items": [], "unknown_items": len(clicks)}
        with torch.no_grad():
            scores = net(torch.tensor(known))[-1]
            top = torch.topk(scores, min(r.k, scores.shape[0]))
        return {
            "model": "gru-torch",
            "items": [{"item": items[i], "score": s} for s, i in zip(top.values.tolist(), top.indices.tolist())],
            "unknown_items": len(clicks) - len(known),
        }

    uvicorn.run(app, host="127.0.0.1", port=a.port, log_level="warning", workers=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("model")
    s.add_argument("--port", type=int, default=8090)
    s.add_argument("--int8", action="store_true")
    c = sub.add_parser("compress")
    c.add_argument("model")
    c.add_argument("--test", required=True)
    c.add_argument("--timed-requests", type=int, default=2000)
    a = ap.parse_args()
    {"serve": serve, "compress": compress}[a.mode](a)


if __name__ == "__main__":
    main()
