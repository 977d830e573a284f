"""`cartseq convert` vs pandas (read_csv + sort_values + groupby into lists) on Taobao-shaped files.

    cargo build --release
    python3 benches/gen_taobao.py --rows 10000000 --seed 42 -o /tmp/taobao_10m.csv
    benches/peers/.venv/bin/python benches/peers/ingest_vs_pandas.py \
        ../shared/data/taobao_userbehavior/UserBehavior_head.csv /tmp/taobao_10m.csv

Each command runs once per file under /usr/bin/time -v (wall time of the whole process, interpreter
start included; peak RSS); the 1-minute load average after each file is recorded, since timings on a
busy machine are not comparable. cartseq writes SPMF + dictionary to a temporary folder; pandas only builds the
lists (no output), which favours pandas. Prints a Markdown table; appends JSON lines to
benches/peers/out/ingest.jsonl.
"""
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

CARTSEQ = Path(os.environ.get("CARTSEQ_BIN", common.REPO_ROOT / "target" / "release" / "cartseq"))


def count_rows(path):
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def main():
    files = sys.argv[1:]
    if not files:
        sys.exit(__doc__)
    rows_out = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            n = count_rows(path)
            size_mb = os.path.getsize(path) / 1e6
            out = Path(tmp) / "seq.txt"
            c = common.measure([CARTSEQ, "convert", path, "--preset", "taobao", "-o", out])
            if not c.ok:
                sys.exit(f"cartseq failed: {c.stderr}")
            st = common.measure([CARTSEQ, "stats", path, "--preset", "taobao", "--json", "--top", "0", "-q"])
            import json
            js = json.loads(st.stdout)
            p = common.measure_python(Path(__file__).resolve().parent / "pandas_ingest.py", path)
            if not p.ok:
                sys.exit(f"pandas failed: {p.stderr}")
            rec = {
                "file": path, "rows": n, "mb": round(size_mb, 1),
                "loadavg_1m": round(os.getloadavg()[0], 2),
                "cartseq_s": c.wall_s, "cartseq_mb": c.peak_rss_mb,
                "cartseq_cpu_s": (c.user_s or 0) + (c.sys_s or 0),
                "pandas_s": p.wall_s, "pandas_mb": p.peak_rss_mb,
                "pandas_cpu_s": (p.user_s or 0) + (p.sys_s or 0),
                "db_bytes_per_event": js["sequences"]["db_bytes_per_event"],
                "pandas_stages": p.stderr.strip(), "cartseq_summary": c.stderr.strip(),
            }
            rows_out.append(rec)
            common.append_jsonl(common.OUT_DIR / "ingest.jsonl", rec)
    print(f"<!-- load average (1, 5, 15 min) after the runs: {', '.join(f'{x:.2f}' for x in os.getloadavg())} -->")
    print("| file | rows | MB | cartseq convert: wall s / CPU s / rows per CPU-s / peak MB | pandas: wall s / CPU s / rows per CPU-s / peak MB | speed-up (wall, CPU) | memory ratio | SequenceDb bytes/event |")
    print("|---|---:|---:|---|---|---:|---:|---:|")
    for r in rows_out:
        print(
            f"| {Path(r['file']).name} | {r['rows']:,} | {r['mb']} "
            f"| {r['cartseq_s']:.2f} / {r['cartseq_cpu_s']:.2f} / {r['rows'] / r['cartseq_cpu_s'] / 1e6:.2f} M / {r['cartseq_mb']:.0f} "
            f"| {r['pandas_s']:.2f} / {r['pandas_cpu_s']:.2f} / {r['rows'] / r['pandas_cpu_s'] / 1e6:.2f} M / {r['pandas_mb']:.0f} "
            f"| {r['pandas_s'] / r['cartseq_s']:.1f}×, {r['pandas_cpu_s'] / r['cartseq_cpu_s']:.1f}× | {r['cartseq_mb'] / r['pandas_mb']:.2f} "
            f"| {r['db_bytes_per_event']:.1f} |"
        )
        print(f"<!-- pandas stages: {r['pandas_stages']} -->")


if __name__ == "__main__":
    main()
