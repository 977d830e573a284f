"""The Python package against the command line's semantics and SPMF's reference outputs."""

import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

import cartseq
from conftest import REPO, SAMPLES, need_shared, spmf_itemsets, spmf_patterns


def test_mine_context_prefixspan_matches_spmf():
    seqs = cartseq.read_sequences(SAMPLES / "contextPrefixSpan.txt")
    assert len(seqs) == 4
    t = cartseq.mine(seqs, min_support=0.5)
    assert isinstance(t, pa.Table)
    got = {tuple(tuple(s) for s in row): sup for row, sup in zip(t.column("ids").to_pylist(), t.column("support").to_pylist())}
    ref = REPO.parent / "shared" / "reference" / "contextPrefixSpan" / "prefixspan-0.5.txt"
    if ref.exists():
        assert got == spmf_patterns(ref)
    assert t.num_rows == 53
    # sorted by support descending, as the CSV export
    sups = t.column("support").to_pylist()
    assert sups == sorted(sups, reverse=True)


def test_bms1_equals_spmf_reference():
    data = need_shared("data", "spmf", "BMS1_spmf.txt")
    ref = need_shared("reference", "BMS1", "prefixspan-0.001.txt")
    t = cartseq.mine(cartseq.read_sequences(data), min_support=0.001)
    got = {tuple(tuple(s) for s in r): s_ for r, s_ in zip(t.column("ids").to_pylist(), t.column("support").to_pylist())}
    assert got == spmf_patterns(ref)


def test_retail_itemsets_and_rules_equal_spmf():
    data = need_shared("data", "fimi_retail", "retail.txt")
    ref = need_shared("reference", "retail", "fpgrowth-0.01.txt")
    seqs = cartseq.read_sequences(data, "basket")
    t = cartseq.itemsets(seqs, min_support=0.01)
    got = {tuple(sorted(r)): s for r, s in zip(t.column("ids").to_pylist(), t.column("support").to_pylist())}
    assert got == spmf_itemsets(ref)
    r = cartseq.rules(seqs, min_support=0.01, min_confidence=0.3)
    assert r.num_rows == 150 - 0 or r.num_rows > 0
    ref_rules = need_shared("reference", "retail", "assocrules-0.01-0.3.txt")
    assert r.num_rows == sum(1 for line in ref_rules.read_text().splitlines() if "==>" in line)


def test_dataframe_to_sequences_equals_the_csv_reader():
    pd = pytest.importorskip("pandas")
    csv = SAMPLES / "taobao_sample.csv"
    df = pd.read_csv(csv, header=None, names=["user", "item", "category", "behavior", "ts"])
    from_df = cartseq.sequences(df, user="user", item="item", action="behavior", time="ts", token="action:item", session_gap="1h")
    from_file = cartseq.read_sequences(csv, "taobao", token="action:item", session_gap="1h")
    assert len(from_df) == len(from_file)
    a = cartseq.mine(from_df, min_count=3, min_items=2)
    b = cartseq.mine(from_file, min_count=3, min_items=2)
    assert a.select(["pattern", "support"]).equals(b.select(["pattern", "support"]))
    # pyarrow table and timestamps work too; results convert back to pandas
    t = pa.Table.from_pandas(df.assign(ts=pd.to_datetime(df.ts, unit="s")), preserve_index=False)
    c = cartseq.mine(cartseq.sequences(t, item="item", action="behavior", time="ts", token="action:item", session_gap=3600), min_count=3, min_items=2)
    assert c.select(["pattern", "support"]).equals(a.select(["pattern", "support"]))
    assert list(c.to_pandas().columns)[:3] == ["pattern", "support", "relative_support"]


def test_polars_dataframe_if_installed():
    pl = pytest.importorskip("polars")
    df = pl.DataFrame({"user": [1, 1, 2, 2], "item": ["a", "b", "a", "b"], "t": [1, 2, 1, 2]})
    t = cartseq.mine(cartseq.sequences(df, time="t"), min_count=2)
    assert pl.from_arrow(t).height == 3


def test_matches_the_command_line_csv(tmp_path):
    exe = REPO / "target" / "release" / "cartseq"
    if not exe.exists():
        pytest.skip("the cartseq binary is not built")
    out = tmp_path / "p.csv"
    subprocess.run([str(exe), "mine", str(SAMPLES / "taobao_sample.csv"), "--preset", "taobao", "--token", "action:item",
                    "--min-count", "3", "--min-items", "2", "-q", "-o", str(out)], check=True)
    lines = out.read_text().splitlines()[1:]
    t = cartseq.mine(cartseq.read_sequences(SAMPLES / "taobao_sample.csv", "taobao", token="action:item"), min_count=3, min_items=2)
    assert [l.split(",")[0] for l in lines] == t.column("pattern").to_pylist()


def test_next_after_and_rules_kinds():
    seqs = cartseq.read_sequences(SAMPLES / "taobao_sample.csv", "taobao", token="action:item", session_gap="1h")
    n = cartseq.next_after(seqs, "cart_add:4350284", sort="lift", top=10)
    assert n.column_names[:3] == ["rank", "token", "count"]
    assert n.column("matched").to_pylist()[0] == 3
    for kind in ("association", "sequential", "pattern"):
        r = cartseq.rules(seqs, kind=kind, min_support="#3", min_confidence=0.3, sort="lift")
        assert r.num_rows > 0 and set(r.column("kind").to_pylist()) == {kind}
        lifts = r.column("lift").to_pylist()
        assert lifts == sorted(lifts, reverse=True)


def test_next_after_breaks_ties_as_the_command(tmp_path):
    # After 1: 9 and 10 follow in 2 of the 3 matching sequences and occur nowhere else (equal count,
    # confidence and lift), 3 follows in 2 but occurs in 4 (same confidence, lower lift), 5 follows in 1.
    # `cartseq next` (and GET /v1/next) break confidence ties by lift then item id and lift ties by count
    # then item id; the wheel used to sort on names ("10" before "9", "3" before "9").
    spmf = tmp_path / "ties.txt"
    spmf.write_text(
        "1 -1 9 -1 10 -1 3 -1 -2\n"
        "1 -1 9 -1 10 -1 3 -1 -2\n"
        "1 -1 5 -1 -2\n"
        "5 -1 3 -1 -2\n"
        "5 -1 3 -1 -2\n"
    )
    seqs = cartseq.read_sequences(spmf)
    for sort in ("count", "confidence", "lift"):
        n = cartseq.next_after(seqs, "1", sort=sort, top=0)
        assert n.column("token").to_pylist() == ["9", "10", "3", "5"], sort
        assert n.column("rank").to_pylist() == [1, 2, 3, 4]
    assert cartseq.next_after(seqs, "1", sort="lift", top=1).column("token").to_pylist() == ["9"]
    assert cartseq.next_after(seqs, "1", sort="confidence", top=2).column("token").to_pylist() == ["9", "10"]
    assert cartseq.next_after(seqs, "1", min_count=2, top=0).column("count").to_pylist() == [2, 2, 2]
    for bad, msg in ((dict(within=0), "within 0 leaves no room"), (dict(sort="nope"), "sort: expected")):
        with pytest.raises(cartseq.CartseqError, match=msg):
            cartseq.next_after(seqs, "1", **bad)


def test_next_after_matches_the_command_line(tmp_path):
    exe = REPO / "target" / "release" / "cartseq"
    if not exe.exists():
        pytest.skip("the cartseq binary is not built")
    seqs = cartseq.read_sequences(SAMPLES / "taobao_sample.csv", "taobao", token="action:item", session_gap="1h")
    for sort in ("count", "confidence", "lift"):
        out = tmp_path / f"{sort}.csv"
        subprocess.run([str(exe), "next", str(SAMPLES / "taobao_sample.csv"), "--preset", "taobao", "--token", "action:item",
                        "--session-gap", "1h", "--after", "cart_add:4350284", "--sort", sort, "--top", "5", "-q",
                        "--format", "csv", "-o", str(out)], check=True)
        lines = out.read_text().splitlines()[1:]
        t = cartseq.next_after(seqs, "cart_add:4350284", sort=sort, top=5)
        assert [l.split(",")[1] for l in lines] == t.column("token").to_pylist(), sort


def test_errors_are_one_line_cartseq_errors(tmp_path):
    bad = tmp_path / "t.csv"
    bad.write_text("1,2,3,pv,1511544070\n1,2,3,click,1511544071\n")
    with pytest.raises(cartseq.CartseqError) as e:
        cartseq.read_sequences(bad, "taobao")
    assert str(e.value) == f'{bad}:2:4: expected a Taobao behavior (pv, cart, fav or buy), found "click"'
    with pytest.raises(cartseq.CartseqError, match="give min_support"):
        cartseq.mine(cartseq.read_sequences(SAMPLES / "contextPrefixSpan.txt"))
    with pytest.raises(cartseq.CartseqError, match="a column \"sku\""):
        cartseq.sequences(pa.table({"user": [1], "item": [2]}), item="sku")
    with pytest.raises(cartseq.CartseqError, match="expected an item id, found \"null\""):
        cartseq.sequences(pa.table({"user": [1, 2], "item": [2, None]}))
    assert issubclass(cartseq.CartseqError, ValueError)


def test_exact_min_support_rounding():
    # ceil(0.07 x 100) is 7 exactly; a float product would ask for 8.
    seqs = cartseq.sequences_from_lists(pa.table({"s": [[[1]]] * 7 + [[[2]]] * 93}))
    t = cartseq.mine(seqs, min_support=0.07)
    assert sorted(map(tuple, t.column("sequence").to_pylist())) == [(["1"],), (["2"],)]


def test_task_features_and_saved_model(tmp_path):
    exe = REPO / "target" / "release" / "cartseq"
    feats = cartseq.task(SAMPLES / "taobao_sample.csv", "purchase", "taobao")
    assert feats.column_names[:3] == ["user_id", "split", "label"]
    assert feats.num_rows > 100
    if not exe.exists():
        pytest.skip("the cartseq binary is not built (needed to train a model file)")
    csv = tmp_path / "f.csv"
    model = tmp_path / "m.json"
    subprocess.run([str(exe), "task", str(SAMPLES / "taobao_sample.csv"), "--preset", "taobao", "--task", "purchase", "-o", str(csv), "-q"], check=True)
    subprocess.run([str(exe), "train", str(csv), "--model", "logreg", "-o", str(model), "-q"], check=True)
    m = cartseq.load_model(model)
    p = m.predict_proba(feats.to_pandas())
    assert p.shape == (feats.num_rows, m.n_classes)
    assert abs(p.sum(axis=1) - 1).max() < 1e-9
    # the same rows in a numpy matrix give the same probabilities
    import numpy as np
    X = np.column_stack([feats.column(f).to_numpy() for f in m.feature_names])
    assert np.array_equal(m.predict_proba(X), p)
    with pytest.raises(cartseq.CartseqError, match="no feature column"):
        m.predict_proba(feats.drop_columns([m.feature_names[0]]))


def test_packed_shipping_round_trip():
    """cartseq.spark's shuffle format: `_ship` packs each group's suffixes into one binary cell and
    `_mine_group` mines them to the same patterns as the list column; malformed cells are errors."""
    from cartseq import _cartseq

    seqs = pa.table({"s": [[[1, 5], [2]], [[7], [1]], [[5], [1, 2]], [[2]]]})
    items, groups = [1, 2, 5, 7], [0, 1, 0, 1]
    shipped = _cartseq._ship(seqs, "s", items, groups, True)
    assert shipped.column("group").to_pylist() == [0, 1]
    opts = {"max_patterns": 1000}
    for g, roots in [(0, [1, 5]), (1, [2, 7])]:
        cell = shipped.filter(pa.compute.equal(shipped.column("group"), g)).select(["data"])
        packed = _cartseq._mine_group(cell, "data", roots, 1, "sequences", opts).to_pylist()
        # The same patterns from the whole list column on one machine, kept to this group's roots.
        whole = _cartseq._mine_group(seqs, "s", roots, 1, "sequences", opts).to_pylist()
        assert packed == whole and packed
    for bad, what in [(b"\x01\x00", "truncated"), (b"\x01\x00\x00\x00\x00\x00\x00\x00", "does not fit"),
                      (b"\x01\x00\x00\x00\x02\x00\x00\x00\x05\x00\x00\x00\x03\x00\x00\x00", "not ascending")]:
        with pytest.raises(cartseq.CartseqError, match=what):
            _cartseq._mine_group(pa.table({"data": pa.array([bad], pa.binary())}), "data", [1], 1, "sequences", opts)
