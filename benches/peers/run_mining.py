"""Sequential pattern mining benchmark: cartseq (PrefixSpan, SPADE, GSP) vs SPMF (PrefixSpan, CM-SPADE,
CM-SPAM, GSP), prefixspan-py and seq2pat, on the same SPMF files, in one go.

    benches/peers/.venv/bin/python benches/peers/run_mining.py [--timeout 300] [--slow-timeout 60]
        [--rows BMS1,SIGN] [--out benches/peers/out/mining.jsonl] [--markdown out.md]

Every tool runs as a whole process under /usr/bin/time -v (JVM and interpreter start included): wall
time and peak RSS. Pattern counts are checked against cartseq's PrefixSpan (seq2pat reports only
patterns of >= 2 items, so its count is compared with cartseq's count of such patterns). Build cartseq
first: `cargo build --release`. A run beyond its timeout is reported as such, not retried.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

DATA = common.REPO_ROOT.parent / "shared" / "data" / "spmf"
CARTSEQ = common.REPO_ROOT / "target" / "release" / "cartseq"
ROWS = [
    ("BMS1", "BMS1_spmf.txt", ["0.001", "0.0008", "0.0006"]),
    ("BMS2", "BMS2.txt", ["0.001", "0.0005"]),
    ("kosarak10k", "kosarak10k.txt", ["0.005", "0.003", "0.002"]),
    ("SIGN", "SIGN.txt", ["0.5", "0.4", "0.3"]),
]
SLOW = {"SPMF GSP", "cartseq gsp", "prefixspan-py", "seq2pat"}


def n_sequences(path: Path) -> int:
    with open(path) as f:
        return sum(1 for line in f if line.strip() and line.lstrip()[0] not in "#%@")


def min_count(frac: str, n: int) -> int:
    num, _, dec = frac.partition(".")
    den = 10 ** len(dec)
    v = int(num + dec) * n
    return max(1, -(-v // den))


def percent(frac: str) -> str:
    from decimal import Decimal

    return f"{(Decimal(frac) * 100).normalize():f}%"


def count_lines(path: str, min_items: int = 1) -> int | None:
    if not os.path.exists(path):
        return None
    n = 0
    with open(path) as f:
        for line in f:
            if "#SUP" in line:
                items = [t for t in line.split("#SUP")[0].split() if t != "-1"]
                n += len(items) >= min_items
    return n


def clean_copy(file: str, tmp: str) -> Path:
    """The input with carriage returns removed (BMS2.txt has a stray CR before ` -1 -2`, which SPMF's
    readers reject), so that every tool reads the same bytes."""
    out = Path(tmp) / file
    if not out.exists():
        out.write_bytes((DATA / file).read_bytes().replace(b"\r", b""))
    return out


def run_row(name, file, frac, timeout, slow_timeout, tmp, tools=None, sink=None):
    path = clean_copy(file, tmp)
    n = n_sequences(path)
    mc = min_count(frac, n)
    results = []

    def add(tool, m, count, note=""):
        rec = {
            "dataset": name, "minsup": frac, "min_count": mc, "tool": tool,
            "wall_s": None if m.timed_out else m.wall_s, "peak_rss_mb": m.peak_rss_mb,
            "patterns": count, "timed_out": m.timed_out, "exit": m.exit_code, "note": note,
        }
        results.append(rec)
        if sink:
            common.append_jsonl(sink, rec)
        status = "timeout" if m.timed_out else f"{m.wall_s:.2f}s {m.peak_rss_mb}MB"
        print(f"{name} {frac} {tool}: {status} patterns={count} {note}", flush=True)

    ref_count = None
    ref_ge2 = None
    for algo in ["prefixspan", "spade", "gsp"]:
        tool = f"cartseq {algo}"
        out = os.path.join(tmp, f"cartseq-{algo}.txt")
        t = slow_timeout if tool in SLOW else timeout
        m = common.measure([CARTSEQ, "mine", path, "--preset", "spmf", "--algo", algo,
                            "--min-support", frac, "--format", "spmf", "-o", out, "-q"], timeout_s=t)
        c = count_lines(out) if m.ok else None
        if algo == "prefixspan" and c is not None:
            ref_count = c
            ref_ge2 = count_lines(out, 2)
        add(tool, m, c, "" if c is None or c == ref_count else "COUNT MISMATCH")
        if os.path.exists(out):
            os.remove(out)
    for algo in ["PrefixSpan", "CM-SPADE", "CM-SPAM", "GSP"]:
        tool = f"SPMF {algo}"
        if tools and tool not in tools:
            continue
        out = os.path.join(tmp, f"spmf-{algo}.txt")
        t = slow_timeout if tool in SLOW else timeout
        m = common.run_spmf(algo, path, out, percent(frac), timeout_s=t)
        fail = common.spmf_failed(m, out)
        c = None if fail else count_lines(out)
        note = fail or ("" if c == ref_count else "COUNT MISMATCH")
        add(tool, m, c, note)
        if os.path.exists(out):
            os.remove(out)
    script = Path(__file__).resolve().parent / "mining_peer.py"
    for peer in ["prefixspan-py", "seq2pat"]:
        if tools and peer not in tools:
            continue
        m = common.measure([common.venv_python(), script, peer, path, str(mc)], timeout_s=slow_timeout)
        c = None
        note = ""
        if m.ok:
            try:
                c = int(m.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                note = "no count printed"
        elif not m.timed_out:
            note = (m.stderr.strip().splitlines() or ["failed"])[-1][:120]
        want = ref_ge2 if peer == "seq2pat" else ref_count
        if c is not None and c != want:
            note = f"COUNT MISMATCH (want {want})"
        add(peer, m, c, note)
    return results


def fmt_t(r):
    if r is None:
        return "-"
    if r["timed_out"]:
        return "timeout"
    if r["wall_s"] is None or r["patterns"] is None:
        return "failed"
    return f"{r['wall_s']:.2f}"


def markdown(results, timeout, slow_timeout):
    tools = ["cartseq prefixspan", "cartseq spade", "cartseq gsp", "SPMF PrefixSpan", "SPMF CM-SPADE",
             "SPMF CM-SPAM", "SPMF GSP", "prefixspan-py", "seq2pat"]
    rows = {}
    for r in results:
        rows.setdefault((r["dataset"], r["minsup"]), {})[r["tool"]] = r
    head = "| dataset | minsup (count) | patterns | " + " | ".join(tools) + \
        " | best SPMF | speed-up of cartseq prefixspan | RSS cartseq / best SPMF (MB) |"
    lines = [head, "|" + "---|" * (len(tools) + 6)]
    for (ds, ms), by in rows.items():
        ref = by.get("cartseq prefixspan")
        spmf = [by[t] for t in tools if t.startswith("SPMF") and t in by and by[t]["patterns"] is not None
                and by[t]["wall_s"] is not None]
        best = min(spmf, key=lambda r: r["wall_s"]) if spmf else None
        speed = f"{best['wall_s'] / ref['wall_s']:.1f}×" if best and ref and ref["wall_s"] else "-"
        rss = (f"{ref['peak_rss_mb']:.0f} / {best['peak_rss_mb']:.0f}" if best and ref and ref["peak_rss_mb"]
               else "-")
        cells = [fmt_t(by.get(t)) for t in tools]
        mismatch = [t for t in tools if t in by and "MISMATCH" in by[t]["note"]]
        pc = str(ref["patterns"]) if ref else "-"
        if mismatch:
            pc += " (differs: " + ", ".join(mismatch) + ")"
        lines.append(f"| {ds} | {ms} ({ref['min_count'] if ref else '-'}) | {pc} | " + " | ".join(cells) +
                     f" | {best['tool'].removeprefix('SPMF ') if best else '-'} | {speed} | {rss} |")
    lines.append("")
    lines.append(f"Wall seconds, whole process (JVM / interpreter start included), `/usr/bin/time -v`; "
                 f"timeouts {timeout:.0f} s ({slow_timeout:.0f} s for GSP and the Python peers).")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--slow-timeout", type=float, default=60)
    ap.add_argument("--rows", default="")
    ap.add_argument("--tools", default="", help="comma-separated subset of the peers (cartseq always runs)")
    ap.add_argument("--render", default="", help="only render the markdown from this JSON-lines file")
    ap.add_argument("--out", default=str(common.OUT_DIR / "mining.jsonl"))
    ap.add_argument("--markdown", default=str(common.OUT_DIR / "mining.md"))
    a = ap.parse_args()
    if a.render:
        md = markdown(list(common.read_jsonl(a.render)), a.timeout, a.slow_timeout)
        Path(a.markdown).write_text(md + "\n")
        print(md)
        return
    if not CARTSEQ.exists():
        raise SystemExit(f"{CARTSEQ} missing: cargo build --release")
    wanted = set(filter(None, a.rows.split(",")))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    results = []
    tools = set(filter(None, a.tools.split(",")))
    if os.path.exists(a.out):
        os.remove(a.out)
    with tempfile.TemporaryDirectory() as tmp:
        for name, file, fracs in ROWS:
            if wanted and name not in wanted:
                continue
            for frac in fracs:
                results += run_row(name, file, frac, a.timeout, a.slow_timeout, tmp, tools, a.out)
    md = markdown(results, a.timeout, a.slow_timeout)
    Path(a.markdown).write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
