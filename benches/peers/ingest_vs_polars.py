"""`cartseq convert` vs polars (2 threads) and pandas on Taobao-shaped logs, interleaved, median of REPS.

    cargo build --release
    python3 benches/gen_taobao.py --rows 10000000 --seed 42 -o /tmp/taobao_10m.csv
    /work/peers-venv/bin/python benches/peers/ingest_vs_polars.py --reps 3 /tmp/taobao_10m.csv
    # 100 M rows: pandas needs ~11 GB, so leave it out there
    /work/peers-venv/bin/python benches/peers/ingest_vs_polars.py --reps 1 --no-pandas BIG.csv

Per file and repetition, in this order: cartseq `convert FILE --preset taobao -o TMP` (writes the SPMF
file and its dictionary), polars `read_csv -> sort(user, ts) -> group_by(user, maintain_order) ->
agg(item)` with POLARS_MAX_THREADS=2, pandas `benches/peers/pandas_ingest.py` (neither peer writes
anything, which favours them). Each run is the whole process under /usr/bin/time -v (wall time, peak
RSS); the 1-minute load average is recorded before each run. Prints a Markdown table of medians and
the goal of issue 16 (cartseq wall <= polars wall, cartseq peak RSS <= 1/3 of polars'); appends JSON
lines to benches/peers/out/ingest_polars.jsonl. About 1 minute per repetition on 10 M rows.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

HERE = Path(__file__).resolve().parent
CARTSEQ = Path(os.environ.get("CARTSEQ_BIN", common.REPO_ROOT / "target" / "release" / "cartseq"))
PY = os.environ.get("PEERS_PY", "/work/peers-venv/bin/python")


def run(tool, path, out):
    if tool == "cartseq":
        return common.measure([CARTSEQ, "convert", path, "--preset", "taobao", "-o", out])
    script = HERE / f"{tool}_ingest.py"
    return common.measure([PY, script, path], env={"POLARS_MAX_THREADS": "2"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-pandas", action="store_true")
    a = ap.parse_args()
    tools = ["cartseq", "polars"] + ([] if a.no_pandas else ["pandas"])
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "seq.txt"
        for path in a.files:
            runs = {t: [] for t in tools}
            for rep in range(a.reps):
                for t in tools:
                    load = os.getloadavg()[0]
                    m = run(t, path, out)
                    if not m.ok:
                        sys.exit(f"{t} failed on {path}: {m.stderr[-2000:]}")
                    runs[t].append({"wall_s": m.wall_s, "cpu_s": (m.user_s or 0) + (m.sys_s or 0),
                                    "rss_mb": m.peak_rss_mb, "load_1m": round(load, 2),
                                    "stderr": m.stderr.strip()[-300:]})
                    print(f"{Path(path).name} rep {rep + 1} {t}: {m.wall_s:.2f} s, "
                          f"{m.peak_rss_mb:.0f} MB, load {load:.2f}", file=sys.stderr)
            med = {t: {k: statistics.median(r[k] for r in runs[t]) for k in ("wall_s", "cpu_s", "rss_mb", "load_1m")}
                   for t in tools}
            rec = {"file": path, "mb": round(os.path.getsize(path) / 1e6, 1), "reps": a.reps,
                   "median": med, "runs": runs}
            results.append(rec)
            common.append_jsonl(common.OUT_DIR / "ingest_polars.jsonl", rec)
    print(f"<!-- load average (1, 5, 15 min) after the runs: {', '.join(f'{x:.2f}' for x in os.getloadavg())} -->")
    head = " | ".join(f"{t}: wall s / CPU s / peak MB" for t in tools)
    print(f"| file | MB | {head} | polars wall / cartseq wall | cartseq / polars memory | goal 1 | median load (1 min) |")
    print("|---|---:|" + "---|" * len(tools) + "---:|---:|---|---:|")
    for r in results:
        m = r["median"]
        cells = " | ".join(f"{m[t]['wall_s']:.2f} / {m[t]['cpu_s']:.2f} / {m[t]['rss_mb']:,.0f}" for t in tools)
        speed = m["polars"]["wall_s"] / m["cartseq"]["wall_s"]
        mem = m["cartseq"]["rss_mb"] / m["polars"]["rss_mb"]
        goal = "met" if speed >= 1.0 and mem <= 1 / 3 else "not met"
        load = statistics.median(x["load_1m"] for t in tools for x in r["runs"][t])
        print(f"| {Path(r['file']).name} | {r['mb']} | {cells} | {speed:.2f}× | {mem:.2f} | {goal} | {load:.2f} |")
    print(json.dumps([{"file": r["file"], "median": r["median"]} for r in results]))


if __name__ == "__main__":
    main()
