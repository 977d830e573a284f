#!/usr/bin/env python3
"""cartseq.spark on a large generated log, partitioned N ways: wall time, peak memory, shuffle bytes.

    python3 benches/gen_taobao.py --rows 100000000 --seed 42 -o /big/taobao_100m.csv
    cartseq convert /big/taobao_100m.csv --preset taobao --format parquet -o /big/taobao_100m.parquet
    /work/peers-venv/bin/python benches/peers/spark_scale.py /big/taobao_100m.parquet \
        [--partitions 64] [--min-support 0.1] [--max-items 3] [--mllib-timeout 0]

Spark ``local[2]`` (one JVM is driver and executor; Python workers run cartseq). Phases, each timed:

1. *sequences*: read the Parquet events, one ``array<array<int>>`` sequence per user in time order
   (``groupBy(user)`` + ``sort_array(collect_list(struct(time, item)))``), ``repartition(N)``,
   cache and count -- the input both miners would read;
2. *prefixspan*: ``cartseq.spark.prefixspan(df, min_support, max_items, max_local_bytes=0)`` (the
   distributed path, forced) and ``collect()`` of the patterns;
3. optionally *mllib*: MLlib ``PrefixSpan`` on the same cached DataFrame (``maxPatternLength`` =
   ``max_items``), stopped after ``--mllib-timeout`` seconds (0: not run).

Memory: a sampling thread reads every 0.2 s the resident set of the JVM and of all Python worker
processes (``/proc``), and reports the peaks of each phase. Shuffle bytes: Spark's event log
(``spark.eventLog.enabled``), summed per phase from the tasks' shuffle-write metrics. Prints one JSON
object per phase and the load average before and after.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import tempfile
import threading
import time


def rss_by_kind(root_pid: int) -> tuple[int, int]:
    """(JVM bytes, Python-worker bytes) among the descendants of ``root_pid``."""
    children: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
        except (OSError, IndexError, ValueError):
            continue
    jvm = py = 0
    todo = list(children.get(root_pid, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as f:
                status = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        kb = next((int(l.split()[1]) for l in status.splitlines() if l.startswith("VmRSS:")), 0)
        if b"java" in cmd.split(b"\0")[0]:
            jvm += kb * 1024
        else:
            py += kb * 1024
    return jvm, py


class Peaks:
    """Peak JVM and Python-worker RSS while a phase runs."""

    def __init__(self) -> None:
        self.jvm = self.py = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            j, p = rss_by_kind(os.getpid())
            self.jvm, self.py = max(self.jvm, j), max(self.py, p)
            self._stop.wait(0.2)

    def __enter__(self) -> "Peaks":
        self._t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._t.join()


def shuffle_bytes_by_group(log_dir: str) -> dict[str, int]:
    """Shuffle bytes written, summed per job group, from Spark's JSON event log."""
    stage_group: dict[int, str] = {}
    out: dict[str, int] = {}
    # Event log v2 writes a folder of rolling files per application.
    for path in sorted(glob.glob(os.path.join(log_dir, "**", "*"), recursive=True)):
        if not os.path.isfile(path):
            continue
        with open(path) as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                kind = e.get("Event")
                if kind == "SparkListenerJobStart":
                    g = (e.get("Properties") or {}).get("spark.jobGroup.id", "")
                    for s in e.get("Stage IDs", []):
                        stage_group[s] = g
                elif kind == "SparkListenerTaskEnd":
                    w = ((e.get("Task Metrics") or {}).get("Shuffle Write Metrics") or {}).get("Shuffle Bytes Written", 0)
                    g = stage_group.get(e.get("Stage ID"), "")
                    out[g] = out.get(g, 0) + int(w)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("parquet", help="events from `cartseq convert … --preset taobao --format parquet`")
    ap.add_argument("--partitions", type=int, default=64)
    ap.add_argument("--min-support", default="0.1")
    ap.add_argument("--max-items", type=int, default=3)
    ap.add_argument("--mllib-timeout", type=float, default=0.0)
    ap.add_argument("--driver-memory", default="8g")
    a = ap.parse_args()

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    import cartseq.spark as cs

    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
    log_dir = tempfile.mkdtemp(prefix="cartseq-spark-events-")
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("cartseq-spark-scale")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", a.driver_memory)
        .config("spark.sql.shuffle.partitions", str(a.partitions))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.eventLog.enabled", "true")
        .config("spark.eventLog.dir", f"file://{log_dir}")
        .config("spark.eventLog.compress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    sc = spark.sparkContext
    print(json.dumps({"load_before": os.getloadavg(), "input": a.parquet, "partitions": a.partitions}), flush=True)

    def phase(name: str, fn):
        sc.setJobGroup(name, name)
        t = time.perf_counter()
        with Peaks() as p:
            result = fn()
        row = {"phase": name, "seconds": round(time.perf_counter() - t, 2), "peak_jvm_mb": p.jvm >> 20, "peak_python_workers_mb": p.py >> 20}
        return result, row

    rows = []

    def sequences():
        ev = spark.read.parquet(a.parquet)
        cols = {c.lower(): c for c in ev.columns}
        user, item, ts = cols.get("user", ev.columns[0]), cols.get("item", ev.columns[1]), cols.get("time", ev.columns[-1])
        seqs = (
            ev.groupBy(user)
            .agg(F.sort_array(F.collect_list(F.struct(F.col(ts).alias("t"), F.col(item).cast("int").alias("i")))).alias("s"))
            .select(F.transform("s", lambda x: F.array(x["i"])).alias("sequence"))
            .repartition(a.partitions)
            .cache()
        )
        return seqs, seqs.count(), ev.count()

    (df, n_seq, n_events), row = phase("sequences", sequences)
    row.update(sequences=n_seq, events=n_events)
    rows.append(row)
    print(json.dumps(row), flush=True)

    def mine():
        pats = cs.prefixspan(df, min_support=a.min_support, max_items=a.max_items, max_local_bytes=0)
        return len(pats.collect())

    n_pat, row = phase("prefixspan", mine)
    row.update(patterns=n_pat, min_support=a.min_support, max_items=a.max_items)
    rows.append(row)
    print(json.dumps(row), flush=True)

    if a.mllib_timeout > 0:
        from pyspark.ml.fpm import PrefixSpan

        done: dict[str, int] = {}

        def mllib():
            ps = PrefixSpan(minSupport=float(a.min_support), maxPatternLength=a.max_items, maxLocalProjDBSize=32000000)
            def fit():
                sc.setJobGroup("mllib", "mllib")  # job groups are per thread
                done.update(n=len(ps.findFrequentSequentialPatterns(df).collect()))

            t = threading.Thread(target=fit, daemon=True)
            t.start()
            t.join(a.mllib_timeout)
            if t.is_alive():
                sc.cancelJobGroup("mllib")
            return done.get("n")

        n_ml, row = phase("mllib", mllib)
        row.update(patterns=n_ml, same_count=(n_ml == n_pat) if n_ml is not None else None, timed_out=n_ml is None)
        rows.append(row)
        print(json.dumps(row), flush=True)

    spark.stop()
    shuffle = shuffle_bytes_by_group(log_dir)
    for r in rows:
        r["shuffle_mb"] = round(shuffle.get(r["phase"], 0) / 2**20, 1)
    print(json.dumps({"shuffle_mb": {r["phase"]: r["shuffle_mb"] for r in rows}, "load_after": os.getloadavg()}), flush=True)


if __name__ == "__main__":
    main()
