"""Exact distributed mining on PySpark DataFrames with cartseq's miners running inside the executors.

``prefixspan(df)`` and ``fpgrowth(df)`` return the same patterns/itemsets with the same supports as
MLlib's ``PrefixSpan``/``FPGrowth`` and as cartseq on one machine; ``rules(df)`` the association rules.

**Small inputs: one collect.** When Spark's own size estimate of the input (the optimizer's statistics,
no job) is at most ``max_local_bytes`` (64 MiB by default; ``0`` or ``num_groups=`` turns this off), the
column is collected once as Arrow and mined on the driver by cartseq -- the single-machine answer, with
no shuffle and no Python worker. MLlib does the same below ``maxLocalProjDBSize``, after a first
distributed round.

**Large inputs: prefix-partitioned mining, one shuffle.** Every pattern has a *root*: the smallest item of its
first itemset (of the itemset, for FP-Growth). A sequence supports a pattern only if it contains the
root, so the patterns can be split by root with no loss:

1. ``n = df.count()`` and the absolute threshold ``m = ceil(min_support x n)`` in exact decimal
   arithmetic (``cartseq._cartseq._min_count``), then per-item supports by ``mapInArrow`` (Rust, one
   pass per partition) and a ``groupBy(item).sum`` -- the only data the driver collects are the
   frequent items and their counts.
2. The frequent items are dealt into ``num_groups`` groups by descending support, each to the group
   with the least total support so far (LPT), so groups carry comparable work.
3. ``mapInArrow`` (Rust ``_ship``) sends each sequence to every group owning one of its items,
   cut to the suffix that starts at its first itemset holding such an item, infrequent items removed
   (kept when a gap or span constraint makes positions matter). Each Arrow batch leaves as one row
   per group, the group's suffixes packed into one binary cell (``python/src/packed.rs``): the JVM
   moves bytes instead of converting every item between Arrow and its row format. This is the only
   shuffle. Both Python passes read the column coalesced to one partition per core.
4. ``groupBy(group).applyInArrow`` runs cartseq's PrefixSpan / FP-Growth on each group's suffixes at the
   *global* threshold ``m`` and keeps the patterns rooted in the group: their supports are exact
   because every sequence containing the root is in that group. The union over groups is the answer.

**Where MLlib differs.** MLlib computes ``ceil(minSupport * n)`` in floating point: 0.07 x 100 is
7.000000000000001, so MLlib asks for 8 sequences where the exact answer (and SPMF, and cartseq) is 7.
Pass ``min_count=`` (an exact count) to be independent of it, or ``mllib_rounding=True`` to reproduce
MLlib's threshold. MLlib's ``maxPatternLength`` defaults to 10 items; here ``max_items`` defaults to no
limit. MLlib's association rules have a single-item consequent; :func:`rules` gives every consequent size
unless ``max_consequent=1``.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

import pyarrow as pa
import pyarrow.compute as pc

from . import _cartseq
from ._cartseq import CartseqError

__all__ = ["prefixspan", "fpgrowth", "rules", "min_count", "spmf_rows", "basket_rows", "local_session"]


def local_session(app: str = "cartseq", cores: int = 2, driver_memory: str = "2g") -> Any:
    """A local Spark session (``local[cores]``, no UI, 2 shuffle partitions per core, Arrow transfers
    on) whose executors run this Python interpreter, so they import the same cartseq wheel. For
    notebooks, tests and benchmarks; on a cluster, use the cluster's session instead."""
    import os
    import sys

    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    s = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(2 * cores))
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    return s


def spmf_rows(path: Any) -> List[List[List[int]]]:
    """The sequences of an SPMF sequence file as Python lists, one ``list[list[int]]`` per sequence
    (itemsets sorted, duplicates dropped, ``<t>`` stamps skipped): the ``array<array<int>>`` column that
    MLlib's ``PrefixSpan`` and :func:`prefixspan` take, e.g.
    ``spark.createDataFrame([(r,) for r in spmf_rows(p)], "sequence array<array<int>>")``."""
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#%@":
                continue
            sets, cur = [], []
            for tok in line.split():
                if tok == "-1":
                    sets.append(sorted(set(cur)))
                    cur = []
                elif tok == "-2":
                    break
                elif not tok.startswith("<"):
                    cur.append(int(tok))
            rows.append(sets)
    return rows


def basket_rows(path: Any) -> List[List[int]]:
    """The baskets of a FIMI/basket file (space-separated integers, one basket a line) as sorted
    ``list[int]`` without duplicates: the ``array<int>`` column of MLlib's ``FPGrowth`` and
    :func:`fpgrowth`."""
    with open(path) as f:
        return [sorted(set(int(t) for t in line.split())) for line in f if line.strip()]


def min_count(min_support: Any, n: int, mllib_rounding: bool = False) -> int:
    """The absolute threshold for ``min_support`` over ``n`` rows: ``ceil(f x n)`` in exact decimal
    arithmetic (``"0.07"`` of 100 is 7), or MLlib's float ``ceil`` with ``mllib_rounding=True`` (8)."""
    if mllib_rounding:
        return int(math.ceil(float(min_support) * n))
    s = min_support if isinstance(min_support, str) else repr(float(min_support))
    return _cartseq._min_count(s, n)


def _threshold(n: int, min_support: Any, min_count_: Optional[int], mllib_rounding: bool) -> int:
    if min_count_ is not None:
        if min_support is not None:
            raise CartseqError("give min_support or min_count, not both")
        if min_count_ < 1:
            raise CartseqError(f"min_count: expected at least 1, found {min_count_}")
        return int(min_count_)
    if min_support is None:
        raise CartseqError("give min_support (fraction of rows) or min_count (number of rows)")
    return max(1, min_count(min_support, n, mllib_rounding))


DEFAULT_MAX_LOCAL_BYTES = 64 << 20


def _plan_bytes(df: Any) -> Optional[int]:
    """Spark's own size estimate of ``df`` (the optimizer's statistics: exact for a cached or local
    DataFrame, the file size for a scan), without running a job; ``None`` when it has none."""
    try:
        size = df._jdf.queryExecution().optimizedPlan().stats().sizeInBytes()
        size = size if isinstance(size, int) else int(str(size.toString()))
    except Exception:  # noqa: BLE001 -- Spark Connect or another plan API: no estimate, go distributed
        return None
    # A plan Spark cannot size (a Python RDD, say) reports spark.sql.defaultSizeInBytes, Long.MaxValue.
    return None if size >= (1 << 63) - 1 else size


def _collect_arrow(df: Any) -> Any:
    if hasattr(df, "toArrow"):
        return df.toArrow()
    return pa.Table.from_pandas(df.toPandas(), preserve_index=False)


def _local(df: Any, col: str, max_local_bytes: Optional[int]) -> Optional[Any]:
    """The column as one Arrow table on the driver when Spark estimates ``df`` at most
    ``max_local_bytes``; ``None`` otherwise (then the mining is distributed)."""
    if not max_local_bytes:
        return None
    column = df.select(col)  # a new plan: it sees a cache made after df's own plan was analysed
    size = _plan_bytes(column)
    if size is None or size > max_local_bytes:
        return None
    return _collect_arrow(column)


def _groups(counts: List[Tuple[int, int]], k: int) -> Tuple[List[int], List[int], Dict[int, List[int]]]:
    """LPT assignment of frequent items to ``k`` groups by support; returns (items ascending, their
    groups, group -> roots)."""
    load = [0] * k
    group_of: Dict[int, int] = {}
    for item, c in sorted(counts, key=lambda ic: (-ic[1], ic[0])):
        g = min(range(k), key=lambda j: (load[j], j))
        group_of[item] = g
        load[g] += c
    items = sorted(group_of)
    roots: Dict[int, List[int]] = {}
    for i in items:
        roots.setdefault(group_of[i], []).append(i)
    return items, [group_of[i] for i in items], roots


def _python_input(df: Any, col: str) -> Any:
    """``df``'s column in at most as many partitions as the cluster has cores (``coalesce``: no
    shuffle), so each Python pass runs one task per core that streams its share of Arrow batches,
    instead of paying a Python task's start-up for each of many small partitions."""
    column = df.select(col)
    return column.coalesce(max(1, df.sparkSession.sparkContext.defaultParallelism))


def _frequent_items(df: Any, col: str, m: int) -> List[Tuple[int, int]]:
    def supports(batches):
        for b in batches:
            t = _cartseq._item_supports(pa.Table.from_batches([b]), col)
            yield from t.to_batches()

    counts = (
        _python_input(df, col)
        .mapInArrow(supports, "item long, count long")
        .groupBy("item")
        .sum("count")
        .withColumnRenamed("sum(count)", "count")
        .where(f"count >= {int(m)}")
        .collect()
    )
    return [(int(r["item"]), int(r["count"])) for r in counts]


def _out_schema(kind: str) -> str:
    return "sequence array<array<long>>, freq long" if kind == "sequences" else "items array<long>, freq long"


def _mine_local(table: Any, col: str, kind: str, m: int, opts: Dict[str, Any]) -> Any:
    """cartseq's miner on the whole column, on the driver: every item is a root, so this is the
    single-machine answer (``cartseq.mine`` / ``cartseq.itemsets``)."""
    flat = pc.list_flatten(table.column(col))
    if kind == "sequences":
        flat = pc.list_flatten(flat)
    roots = [int(i) for i in pc.unique(flat.drop_null()).to_pylist()]
    return _cartseq._mine_group(table, col, roots, m, kind, opts)


def _to_spark(spark: Any, result: Any, kind: str) -> Any:
    if result.num_rows == 0:
        return spark.createDataFrame([], _out_schema(kind))
    try:
        return spark.createDataFrame(result)
    except (TypeError, ValueError):  # pyspark < 4 takes no Arrow table
        return spark.createDataFrame(result.to_pandas(), _out_schema(kind))


def _mine(
    df: Any,
    col: str,
    kind: str,
    threshold: Tuple[Any, Optional[int], bool],
    num_groups: Optional[int],
    opts: Dict[str, Any],
    drop_infrequent: bool,
    max_local_bytes: Optional[int],
) -> Tuple[int, int, Any]:
    """``(n, m, patterns)``: on the driver when the input is small (one collect, no shuffle: patterns
    is a pyarrow Table), else distributed by root (:func:`_run`: patterns is a Spark DataFrame). Both
    give the same answer."""
    _threshold(1, *threshold)  # the parameters are checked before any Spark job runs
    local = None if num_groups else _local(df, col, max_local_bytes)
    if local is not None:
        n = local.num_rows
        m = _threshold(n, *threshold)
        return n, m, _mine_local(local, col, kind, m, opts)
    n = df.count()
    m = _threshold(n, *threshold)
    return n, m, _run(df, col, kind, m, num_groups, opts, drop_infrequent)


def _patterns(df: Any, col: str, kind: str, **mine_args: Any) -> Any:
    """:func:`_mine`'s patterns (``mine_args`` are its keyword arguments) as a Spark DataFrame (the
    driver path's Arrow table converted)."""
    _, _, out = _mine(df, col, kind, **mine_args)
    return out if not isinstance(out, pa.Table) else _to_spark(df.sparkSession, out, kind)


def _run(
    df: Any,
    col: str,
    kind: str,
    m: int,
    num_groups: Optional[int],
    opts: Dict[str, Any],
    drop_infrequent: bool,
) -> Any:
    spark = df.sparkSession
    freq = _frequent_items(df, col, m)
    out_schema = _out_schema(kind)
    if not freq:
        return spark.createDataFrame([], out_schema)
    k = num_groups or max(1, spark.sparkContext.defaultParallelism)
    k = max(1, min(k, len(freq)))
    items, groups, roots = _groups(freq, k)

    def ship(batches):
        for b in batches:
            t = _cartseq._ship(pa.Table.from_batches([b]), col, items, groups, drop_infrequent)
            yield from t.to_batches()

    shipped = _python_input(df, col).mapInArrow(ship, "group int, data binary")

    def mine_group(key, table):
        g = int(key[0].as_py()) if hasattr(key[0], "as_py") else int(key[0])
        return _cartseq._mine_group(table, "data", roots.get(g, []), m, kind, opts)

    return shipped.repartition(k, "group").groupBy("group").applyInArrow(mine_group, out_schema)


def prefixspan(
    df: Any,
    *,
    min_support: Any = None,
    min_count: Optional[int] = None,
    sequence_col: str = "sequence",
    max_items: Optional[int] = None,
    min_items: int = 1,
    max_itemsets: Optional[int] = None,
    max_gap: Optional[int] = None,
    max_span: Optional[int] = None,
    num_groups: Optional[int] = None,
    mllib_rounding: bool = False,
    max_patterns: int = 10_000_000,
    max_local_bytes: Optional[int] = DEFAULT_MAX_LOCAL_BYTES,
) -> Any:
    """Frequent sequential patterns of a PySpark DataFrame whose ``sequence_col`` is
    ``array<array<int>>`` (MLlib PrefixSpan's input; items are non-negative integers below 2^32).
    Returns a DataFrame ``sequence: array<array<long>>, freq: long`` -- MLlib's columns -- equal to
    ``cartseq.mine`` on the same sequences and to MLlib's ``findFrequentSequentialPatterns`` (see the
    module notes on rounding and ``maxPatternLength``). ``max_items`` is MLlib's ``maxPatternLength``;
    ``max_gap``/``max_span`` (itemset positions) are cartseq's constraints, not in MLlib. Inputs Spark
    estimates at most ``max_local_bytes`` are mined on the driver after one collect; ``num_groups``
    (or ``max_local_bytes=0``) forces the distributed path (module notes)."""
    opts = {
        "max_items": max_items,
        "min_items": min_items,
        "max_itemsets": max_itemsets,
        "max_gap": max_gap,
        "max_span": max_span,
        "max_patterns": max_patterns,
    }
    constrained = max_gap is not None or max_span is not None
    threshold = (min_support, min_count, mllib_rounding)
    return _patterns(
        df,
        sequence_col,
        "sequences",
        threshold=threshold,
        num_groups=num_groups,
        opts=opts,
        drop_infrequent=not constrained,
        max_local_bytes=max_local_bytes,
    )


def fpgrowth(
    df: Any,
    *,
    min_support: Any = None,
    min_count: Optional[int] = None,
    items_col: str = "items",
    max_size: Optional[int] = None,
    num_groups: Optional[int] = None,
    mllib_rounding: bool = False,
    max_itemsets: int = 10_000_000,
    max_local_bytes: Optional[int] = DEFAULT_MAX_LOCAL_BYTES,
) -> Any:
    """Frequent itemsets of a PySpark DataFrame whose ``items_col`` is ``array<int>`` (one basket per
    row, MLlib FPGrowth's input; duplicates in a basket count once). Returns ``items: array<long>,
    freq: long`` (MLlib's ``freqItemsets`` columns), equal to MLlib's and to ``cartseq.itemsets``."""
    opts = {"max_items": max_size, "max_patterns": max_itemsets}
    threshold = (min_support, min_count, mllib_rounding)
    return _patterns(
        df,
        items_col,
        "itemsets",
        threshold=threshold,
        num_groups=num_groups,
        opts=opts,
        drop_infrequent=True,
        max_local_bytes=max_local_bytes,
    )


def rules(
    df: Any,
    *,
    min_support: Any = None,
    min_count: Optional[int] = None,
    min_confidence: float = 0.8,
    items_col: str = "items",
    max_consequent: Optional[int] = None,
    min_lift: Optional[float] = None,
    num_groups: Optional[int] = None,
    mllib_rounding: bool = False,
    max_local_bytes: Optional[int] = DEFAULT_MAX_LOCAL_BYTES,
) -> Any:
    """Association rules X => Y of the baskets in ``items_col``: the frequent itemsets are mined
    distributed (:func:`fpgrowth`), collected (they are the answer's size, not the data's), and the
    rules derived on the driver by cartseq with exact counts. Returns a DataFrame with MLlib's columns
    ``antecedent``, ``consequent`` (``array<long>``), ``confidence``, ``lift``, ``support`` plus
    cartseq's counts, ``leverage`` and ``conviction``. ``max_consequent=1`` gives MLlib's rule set."""
    spark = df.sparkSession
    threshold = (min_support, min_count, mllib_rounding)
    opts = {"max_patterns": 10_000_000}
    n, m, fi = _mine(df, items_col, "itemsets", threshold, num_groups, opts, True, max_local_bytes)
    t = (fi if isinstance(fi, pa.Table) else _collect_arrow(fi)).select(["items", "freq"])
    r = _cartseq._rules_from_itemsets(t, n, m, float(min_confidence), max_consequent, min_lift)
    cols = {
        "antecedent": r.column("antecedent_items").cast(pa.list_(pa.int64())),
        "consequent": r.column("consequent_items").cast(pa.list_(pa.int64())),
        "confidence": r.column("confidence"),
        "lift": r.column("lift"),
        "support": r.column("support"),
        "support_count": r.column("support_count").cast(pa.int64()),
        "antecedent_count": r.column("antecedent_count").cast(pa.int64()),
        "consequent_count": r.column("consequent_count").cast(pa.int64()),
        "leverage": r.column("leverage"),
        "conviction": r.column("conviction"),
    }
    out = pa.table(cols)
    schema = (
        "antecedent array<long>, consequent array<long>, confidence double, lift double, support double, "
        "support_count long, antecedent_count long, consequent_count long, leverage double, conviction double"
    )
    if out.num_rows == 0:
        return spark.createDataFrame([], schema)
    return spark.createDataFrame(out.to_pandas(), schema)
