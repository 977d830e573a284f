"""cartseq.spark on Spark local[2] against SPMF's reference outputs and MLlib in the same session.

Marked `spark`: they need pyspark and Java 17 and take minutes (MLlib's fits dominate). `.ci/run` runs
them when pyspark installs (see README, "Spark")."""

import math

import pyarrow as pa
import pytest

import cartseq
import cartseq.spark as cs
from cartseq.spark import basket_rows, spmf_rows
from conftest import need_shared, spmf_itemsets, spmf_patterns

pyspark = pytest.importorskip("pyspark")
pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    s = cs.local_session("cartseq-tests")
    yield s
    s.stop()


def as_patterns(df):
    return {tuple(tuple(s) for s in r["sequence"]): r["freq"] for r in df.collect()}


def as_itemsets(df):
    return {tuple(sorted(r["items"])): r["freq"] for r in df.collect()}


def only_on_driver(monkeypatch):
    """Makes the distributed path fail, so a test proves that the driver path answered."""

    def refuse(*_a, **_k):
        raise AssertionError("the distributed path ran on a small input")

    monkeypatch.setattr(cs, "_run", refuse)


@pytest.mark.parametrize("path", ["driver", "distributed"])
@pytest.mark.parametrize(
    "name,support,ref",
    [("BMS1_spmf.txt", 0.001, ("BMS1", "prefixspan-0.001.txt")), ("kosarak10k.txt", 0.005, ("kosarak10k", "prefixspan-0.005.txt"))],
)
def test_prefixspan_equals_spmf_and_single_machine(spark, monkeypatch, path, name, support, ref):
    rows = spmf_rows(need_shared("data", "spmf", name))
    expected = spmf_patterns(need_shared("reference", *ref))
    df = spark.createDataFrame([(r,) for r in rows], "sequence array<array<int>>").repartition(2)
    if path == "driver":
        # Spark cannot size a DataFrame made from Python rows; cached and counted, it can.
        df = df.cache()
        df.count()
        only_on_driver(monkeypatch)
        got = as_patterns(cs.prefixspan(df, min_support=support, max_local_bytes=1 << 30))
    else:
        got = as_patterns(cs.prefixspan(df, min_support=support, max_local_bytes=0))
    assert got == expected
    local = cartseq.mine(cartseq.sequences_from_lists(pa.table({"s": rows})), min_support=support)
    assert len(local) == len(got)


def test_prefixspan_equals_mllib_on_bms1(spark):
    from pyspark.ml.fpm import PrefixSpan

    rows = spmf_rows(need_shared("data", "spmf", "BMS1_spmf.txt"))
    df = spark.createDataFrame([(r,) for r in rows], "sequence array<array<int>>").repartition(2).cache()
    n = df.count()
    support = 0.001
    # 0.001 x 59,601 = 59.601: float and exact ceil agree (60), so MLlib and cartseq ask for the same count.
    assert cs.min_count(support, n) == math.ceil(support * n) == 60
    ml = PrefixSpan(minSupport=support, maxPatternLength=1000, maxLocalProjDBSize=32000000)
    mllib = as_patterns(ml.findFrequentSequentialPatterns(df))
    ours = as_patterns(cs.prefixspan(df, min_support=support, num_groups=3))
    assert ours == mllib
    assert len(ours) == 3991


def test_mllib_float_rounding_is_reproducible(spark):
    # 7 of 100 sequences hold item 1: exact ceil(0.07 x 100) = 7 keeps it, MLlib's float threshold (8) drops it.
    rows = [[[1]]] * 7 + [[[2]]] * 93
    df = spark.createDataFrame([(r,) for r in rows], "sequence array<array<int>>")
    assert as_patterns(cs.prefixspan(df, min_support=0.07)) == {((1,),): 7, ((2,),): 93}
    assert as_patterns(cs.prefixspan(df, min_support=0.07, mllib_rounding=True)) == {((2,),): 93}
    from pyspark.ml.fpm import PrefixSpan

    mllib = as_patterns(PrefixSpan(minSupport=0.07).findFrequentSequentialPatterns(df))
    assert mllib == {((2,),): 93}


def test_fpgrowth_equals_spmf_and_mllib_on_retail(spark):
    from pyspark.ml.fpm import FPGrowth

    baskets = basket_rows(need_shared("data", "fimi_retail", "retail.txt"))
    expected = spmf_itemsets(need_shared("reference", "retail", "fpgrowth-0.01.txt"))
    df = spark.createDataFrame([(b,) for b in baskets], "items array<int>").repartition(2).cache()
    ours = as_itemsets(cs.fpgrowth(df, min_support=0.01, max_local_bytes=0))
    assert ours == expected
    assert as_itemsets(cs.fpgrowth(df, min_support=0.01, max_local_bytes=1 << 30)) == expected
    model = FPGrowth(itemsCol="items", minSupport=0.01, minConfidence=0.3).fit(df)
    assert as_itemsets(model.freqItemsets) == ours
    # rules: MLlib's (single-item consequents) equal ours with max_consequent=1
    r = cs.rules(df, min_support=0.01, min_confidence=0.3, max_consequent=1)
    key = lambda x: (tuple(sorted(x["antecedent"])), tuple(x["consequent"]))
    ml_rules = {key(x): x["confidence"] for x in model.associationRules.collect()}
    our_rules = {key(x): x["confidence"] for x in r.collect()}
    assert our_rules.keys() == ml_rules.keys()
    assert all(abs(our_rules[k] - ml_rules[k]) < 1e-12 for k in our_rules)
    # all consequent sizes: SPMF's rule count
    ref = need_shared("reference", "retail", "assocrules-0.01-0.3.txt")
    assert cs.rules(df, min_support=0.01, min_confidence=0.3).count() == sum("==>" in l for l in ref.read_text().splitlines())


def test_fpgrowth_retail_low_support_equals_spmf(spark):
    baskets = basket_rows(need_shared("data", "fimi_retail", "retail.txt"))
    expected = spmf_itemsets(need_shared("reference", "retail", "fpgrowth-0.001.txt"))
    df = spark.createDataFrame([(b,) for b in baskets], "items array<int>").repartition(2)
    assert as_itemsets(cs.fpgrowth(df, min_support=0.001, num_groups=8)) == expected
