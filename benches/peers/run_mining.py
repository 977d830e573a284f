"""Sequential pattern mining benchmark: cartseq (PrefixSpan, SPADE, GSP) vs SPMF (PrefixSpan, CM-SPADE,
CM-SPAM, GSP), prefixspan-py and seq2pat, on the same SPMF files, in one go.

    benches/peers/.venv/bin/python benches/peers/run_mining.py [--timeout 300] [--slow-timeout 60]
        [--rows BMS1,SIGN] [--out benches/peers/out/mining.jsonl] [--markdown out.md]
        [--quick] [--repeat 3] [--cartseq PATH]

`--quick` runs only cartseq's default algorithm (PrefixSpan, which picks the bitmap kernel on dense
data by itself) and SPMF's three fast algorithms (PrefixSpan, CM-SPADE, CM-SPAM): the goal's ratio
per row. `--repeat K` runs each tool K times, interleaved, and reports the median wall time (peak RSS:
the largest). The dense rows `zipf30` and `sets50` are generated into the temporary folder by
`benches/gen_dense.py` (seed 7) before they are mined.

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
    ("SIGN", "SIGN.txt", ["0.5", "0.4", "0.3", "0.2"]),
    ("zipf30", "gen:zipf30", ["0.6"]),
    ("sets50", "gen:sets50", ["0.5"]),
]
QUICK = {"cartseq prefixspan", "SPMF PrefixSpan", "SPMF CM-SPADE", "SPMF CM-SPAM"}
GEN = common.REPO_ROOT / "benches" / "gen_dense.py"
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
    if file.startswith("gen:"):
        out = Path(tmp) / (file[4:] + ".txt")
        if not out.exists():
            common.measure([sys.executable, GEN, "--shape", file[4:], "--seed", "7", "--out", out])
        return out
    out = Path(tmp) / file
    if not out.exists():
        out.write_bytes((DATA / file).read_bytes().replace(b"\r", b""))
    return out


def measure_median(cmds, repeat, timeout_s):
    """Runs the commands `repeat` times interleaved (each round: every command once); per command the
    run with the median wall time (a timed-out or failed run counts as slowest), with the largest peak
    RSS seen. `cmds` maps a key to a zero-argument function returning a Measurement."""
    runs = {k: [] for k in cmds}
    for _ in range(repeat):
        for k, f in cmds.items():
            if runs[k] and not runs[k][-1].ok:
                continue  # a timeout is not retried
            runs[k].append(f())
    out = {}
    for k, ms in runs.items():
        ms.sort(key=lambda m: m.wall_s if m.ok else float("inf"))
        med = ms[(len(ms) - 1) // 2]
        rss = [m.peak_rss_mb for m in ms if m.peak_rss_mb is not None]
        if rss:
            med.peak_rss_mb = max(rss)
        out[k] = med
    return out


def run_row(name, file, frac, timeout, slow_timeout, tmp, tools=None, sink=None, repeat=1,
            cartseq=CARTSEQ):
    path = clean_copy(file, tmp)
    n = n_sequences(path)
    mc = min_count(frac, n)
    results = []
    load = os.getloadavg()[0]

    def add(tool, m, count, note=""):
        rec = {
            "dataset": name, "minsup": frac, "min_count": mc, "tool": tool,
            "wall_s": None if m.timed_out else m.wall_s, "peak_rss_mb": m.peak_rss_mb,
            "patterns": count, "timed_out": m.timed_out, "exit": m.exit_code, "note": note,
            "repeat": repeat, "load_avg_1m": round(load, 2),
        }
        results.append(rec)
        if sink:
            common.append_jsonl(sink, rec)
        status = "timeout" if m.timed_out else f"{m.wall_s:.2f}s {m.peak_rss_mb}MB"
        print(f"{name} {frac} {tool}: {status} patterns={count} {note} (load {load:.2f})", flush=True)

    def wanted(tool):
        return not tools or tool in tools

    # Every command of the row, in run order: tool -> (run, output file, kind).
    cmds = {}
    for algo in ["prefixspan", "spade", "gsp"]:
        tool = f"cartseq {algo}"
        if algo != "prefixspan" and not wanted(tool):
            continue
        out = os.path.join(tmp, f"cartseq-{algo}.txt")
        t = slow_timeout if tool in SLOW else timeout
        cmd = [cartseq, "mine", path, "--preset", "spmf", "--algo", algo, "--min-support", frac,
               "--format", "spmf", "-o", out, "-q"]
        cmds[tool] = (lambda cmd=cmd, t=t: common.measure(cmd, timeout_s=t), out, "cartseq")
    for algo in ["PrefixSpan", "CM-SPADE", "CM-SPAM", "GSP"]:
        tool = f"SPMF {algo}"
        if not wanted(tool):
            continue
        out = os.path.join(tmp, f"spmf-{algo}.txt")
        t = slow_timeout if tool in SLOW else timeout
        cmds[tool] = (lambda algo=algo, out=out, t=t: common.run_spmf(algo, path, out, percent(frac),
                                                                      timeout_s=t), out, "spmf")
    script = Path(__file__).resolve().parent / "mining_peer.py"
    for peer in ["prefixspan-py", "seq2pat"]:
        if not wanted(peer):
            continue
        cmd = [common.venv_python(), script, peer, path, str(mc)]
        cmds[peer] = (lambda cmd=cmd: common.measure(cmd, timeout_s=slow_timeout), None, "python")
    meas = measure_median({k: v[0] for k, v in cmds.items()}, repeat, timeout)

    ref_count = None
    ref_ge2 = None
    for tool, (_, out, kind) in cmds.items():
        m = meas[tool]
        note = ""
        c = None
        if kind == "cartseq":
            c = count_lines(out) if m.ok else None
            if tool == "cartseq prefixspan" and c is not None:
                ref_count = c
                ref_ge2 = count_lines(out, 2)
            note = "" if c is None or c == ref_count else "COUNT MISMATCH"
        elif kind == "spmf":
            fail = common.spmf_failed(m, out)
            c = None if fail else count_lines(out)
            note = fail or ("" if c == ref_count else "COUNT MISMATCH")
            if m.timed_out:
                note += f" ({count_lines(out) or 0} of the patterns written by then)"
        else:
            if m.ok:
                try:
                    c = int(m.stdout.strip().splitlines()[-1])
                except (ValueError, IndexError):
                    note = "no count printed"
            elif not m.timed_out:
                note = (m.stderr.strip().splitlines() or ["failed"])[-1][:120]
            want = ref_ge2 if tool == "seq2pat" else ref_count
            if c is not None and c != want:
                note = f"COUNT MISMATCH (want {want})"
        add(tool, m, c, note)
        if out and os.path.exists(out):
            os.remove(out)
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
    present = {r["tool"] for r in results}
    tools = [t for t in tools if t in present]
    rows = {}
    for r in results:
        rows.setdefault((r["dataset"], r["minsup"]), {})[r["tool"]] = r
    head = "| dataset | minsup (count) | patterns | " + " | ".join(tools) + \
        " | best SPMF | speed-up of cartseq prefixspan | goal ≥ 10× | RSS cartseq / best SPMF (MB) | load |"
    lines = [head, "|" + "---|" * (len(tools) + 8)]
    for (ds, ms), by in rows.items():
        ref = by.get("cartseq prefixspan")
        spmf = [by[t] for t in tools if t.startswith("SPMF") and t in by and by[t]["patterns"] is not None
                and by[t]["wall_s"] is not None]
        best = min(spmf, key=lambda r: r["wall_s"]) if spmf else None
        ratio = best["wall_s"] / ref["wall_s"] if best and ref and ref["wall_s"] else None
        speed = f"{ratio:.1f}×" if ratio else "-"
        goal = "-" if ratio is None else ("met" if ratio >= 10 else "not met")
        timed_out = [by[t] for t in tools if t.startswith("SPMF") and t in by and by[t]["timed_out"]]
        if best is None and timed_out and ref and ref["wall_s"]:
            # Every SPMF algorithm ran out of time: the ratio is at least timeout / cartseq.
            low = timeout / ref["wall_s"]
            speed = f"> {low:.0f}× (SPMF timed out)"
            goal = "met" if low >= 10 else "not shown"
        rss = (f"{ref['peak_rss_mb']:.0f} / {best['peak_rss_mb']:.0f}" if best and ref and ref["peak_rss_mb"]
               else "-")
        cells = [fmt_t(by.get(t)) for t in tools]
        mismatch = [t for t in tools if t in by and "MISMATCH" in by[t]["note"]]
        pc = str(ref["patterns"]) if ref else "-"
        if mismatch:
            pc += " (differs: " + ", ".join(mismatch) + ")"
        lines.append(f"| {ds} | {ms} ({ref['min_count'] if ref else '-'}) | {pc} | " + " | ".join(cells) +
                     f" | {best['tool'].removeprefix('SPMF ') if best else '-'} | {speed} | {goal} | {rss} | "
                     f"{ref.get('load_avg_1m', '-') if ref else '-'} |")
    lines.append("")
    rep = max((r.get("repeat", 1) for r in results), default=1)
    lines.append(f"Wall seconds, whole process (JVM / interpreter start included), `/usr/bin/time -v`"
                 f"{f', median of {rep} interleaved runs' if rep > 1 else ''}; load = 1-minute load average "
                 f"before the row; timeouts {timeout:.0f} s ({slow_timeout:.0f} s for GSP and the Python peers).")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--slow-timeout", type=float, default=60)
    ap.add_argument("--rows", default="", help="datasets (BMS1) or rows (SIGN@0.2), comma-separated")
    ap.add_argument("--tools", default="", help="comma-separated subset of the peers (cartseq always runs)")
    ap.add_argument("--quick", action="store_true", help="only " + ", ".join(sorted(QUICK)))
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool, interleaved; the median is kept")
    ap.add_argument("--cartseq", default=str(CARTSEQ), help="the cartseq binary")
    ap.add_argument("--render", default="", help="only render the markdown from this JSON-lines file")
    ap.add_argument("--out", default=str(common.OUT_DIR / "mining.jsonl"))
    ap.add_argument("--markdown", default=str(common.OUT_DIR / "mining.md"))
    a = ap.parse_args()
    if a.render:
        md = markdown(list(common.read_jsonl(a.render)), a.timeout, a.slow_timeout)
        Path(a.markdown).write_text(md + "\n")
        print(md)
        return
    if not Path(a.cartseq).exists():
        raise SystemExit(f"{a.cartseq} missing: cargo build --release")
    wanted = set(filter(None, a.rows.split(",")))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    results = []
    tools = QUICK if a.quick else set(filter(None, a.tools.split(",")))
    if os.path.exists(a.out):
        os.remove(a.out)
    with tempfile.TemporaryDirectory() as tmp:
        for name, file, fracs in ROWS:
            if wanted and name not in wanted and not any(w.startswith(name + "@") for w in wanted):
                continue
            for frac in fracs:
                if wanted and name not in wanted and f"{name}@{frac}" not in wanted:
                    continue
                results += run_row(name, file, frac, a.timeout, a.slow_timeout, tmp, tools, a.out,
                                   a.repeat, a.cartseq)
    md = markdown(results, a.timeout, a.slow_timeout)
    Path(a.markdown).write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
