"""cartseq from Python: behaviour logs -> sequences -> patterns, itemsets, rules -> features -> models.

A thin layer over the cartseq Rust crates. DataFrames (pandas >= 2.2, polars, pyarrow) come in through
the Arrow C stream interface -- no per-row Python loop -- and every result is a ``pyarrow.Table``
(``.to_pandas()``, ``polars.from_arrow(t)``). The work runs in Rust with the GIL released, on all cores
(rayon), and gives the same answer as the ``cartseq`` command line with the same options: parameters
have the command line's names with ``_`` for ``-``. Errors raise :class:`CartseqError` with the command
line's one-line message.

>>> import cartseq
>>> seqs = cartseq.read_sequences("data/samples/contextPrefixSpan.txt")
>>> cartseq.mine(seqs, min_support=0.5).num_rows
53
"""

from __future__ import annotations

import datetime as _dt
import os as _os
from typing import Any, Iterable, Optional, Sequence, Union

import pyarrow as _pa

from . import _cartseq
from ._cartseq import CartseqError, Sequences, __version__

__all__ = [
    "CartseqError",
    "Model",
    "Sequences",
    "__version__",
    "itemsets",
    "load_model",
    "mine",
    "next_after",
    "read_events",
    "read_sequences",
    "rules",
    "sequences",
    "sequences_from_lists",
    "task",
]

Duration = Union[str, int, float, _dt.timedelta, None]


def _duration(v: Duration, name: str) -> Optional[str]:
    """A duration as the command line writes it: ``"30m"`` stays, a number is seconds, a timedelta
    (or ``pandas.Timedelta``) is converted exactly to milliseconds."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, _dt.timedelta):
        return f"{round(v.total_seconds() * 1000)}ms"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{round(v * 1000)}ms"
    raise CartseqError(f"{name}: expected a duration such as \"30m\", seconds or a timedelta, found {v!r}")


def _support(v: Union[str, float, int, None]) -> Optional[str]:
    # Passed as text so 0.001 stays the decimal 0.001 (exact ceil(f x n), as SPMF), not a binary float.
    if v is None:
        return None
    if isinstance(v, bool):
        raise CartseqError(f"min_support: expected a fraction such as 0.01, found {v!r}")
    return v if isinstance(v, str) else repr(v)


def _span(v: Duration, name: str) -> Optional[str]:
    # An int is passed as written: raw <t> stamp units for SPMF input; logs need a unit ("30m").
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return _duration(v, name)


def _date(v: Any) -> Optional[str]:
    if v is None:
        return None
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.isoformat()
    return str(v)


def _tokens(v: Union[str, Iterable[str], None]) -> Optional[list]:
    if v is None:
        return None
    if isinstance(v, str):
        return [v]
    return [str(x) for x in v]


def _arrow(data: Any) -> Any:
    """Anything with ``__arrow_c_stream__`` passes as is (pyarrow, polars, pandas >= 2.2); older
    pandas frames go through ``pyarrow.Table.from_pandas`` (columnar, no Python loop)."""
    if hasattr(data, "__arrow_c_stream__"):
        return data
    if hasattr(data, "to_arrow"):
        return data.to_arrow()
    try:
        import pandas as pd  # noqa: PLC0415

        if isinstance(data, pd.DataFrame):
            return _pa.Table.from_pandas(data, preserve_index=False)
    except ImportError:
        pass
    if isinstance(data, dict):
        return _pa.table(data)
    raise CartseqError(
        f"expected a pyarrow Table, a pandas or polars DataFrame (anything with __arrow_c_stream__), found {type(data).__name__}"
    )


def _input_opts(
    preset: Optional[str],
    on_error: str,
    columns: dict,
    delimiter: Optional[str],
    no_header: bool,
    time_format: Optional[str],
) -> dict:
    o = {"preset": preset, "on_error": on_error, "delimiter": delimiter, "no_header": no_header, "time_format": time_format}
    o.update(columns)
    return o


def _seq_opts(by, session_gap, itemset, token, actions, min_len, max_len, min_item_count, start, end, drop_repeats) -> dict:
    return {
        "by": by,
        "session_gap": _duration(session_gap, "session_gap"),
        "itemset": itemset,
        "token": token,
        "actions": _tokens(actions),
        "min_len": min_len,
        "max_len": max_len,
        "min_item_count": min_item_count,
        "start": _date(start),
        "end": _date(end),
        "drop_repeats": drop_repeats,
    }


def read_events(
    path: Union[str, _os.PathLike],
    preset: Optional[str] = None,
    *,
    user: Union[str, int, None] = None,
    session: Union[str, int, None] = None,
    item: Union[str, int, None] = None,
    category: Union[str, int, None] = None,
    action: Union[str, int, None] = None,
    time: Union[str, int, None] = None,
    quantity: Union[str, int, None] = None,
    price: Union[str, int, None] = None,
    delimiter: Optional[str] = None,
    no_header: bool = False,
    time_format: Optional[str] = None,
    on_error: str = "fail",
) -> _pa.Table:
    """Reads an event log file (``taobao``, ``yoochoose``, ``online-retail``, ``generic`` ... presets, gzip
    detected) into a pyarrow Table with columns ``user``, ``session`` (if any), ``time`` (UTC,
    milliseconds), ``item``, ``category`` (if any), ``action`` (canonical names: view, cart_add, buy, ...),
    ``quantity`` and ``price`` (if any). Column keywords pick columns of a ``generic`` file by header
    name or 1-based number, as ``--user-col`` etc. do."""
    cols = dict(user=user, session=session, item=item, category=category, action=action, time=time, quantity=quantity, price=price)
    return _cartseq.read_events(_os.fspath(path), _input_opts(preset, on_error, cols, delimiter, no_header, time_format))


def read_sequences(
    path: Union[str, _os.PathLike],
    preset: Optional[str] = None,
    *,
    by: str = "user",
    session_gap: Duration = None,
    itemset: str = "same-time",
    token: str = "item",
    actions: Union[str, Sequence[str], None] = None,
    min_len: int = 1,
    max_len: Optional[int] = None,
    min_item_count: int = 0,
    start: Any = None,
    end: Any = None,
    drop_repeats: bool = False,
    user: Union[str, int, None] = None,
    session: Union[str, int, None] = None,
    item: Union[str, int, None] = None,
    category: Union[str, int, None] = None,
    action: Union[str, int, None] = None,
    time: Union[str, int, None] = None,
    delimiter: Optional[str] = None,
    no_header: bool = False,
    time_format: Optional[str] = None,
    on_error: str = "fail",
) -> Sequences:
    """Reads any input the command line reads (event logs with a preset, SPMF sequences -- detected when
    the first line ends in ``-2`` -- or ``basket`` files) into :class:`Sequences`. The sequence options
    are the command line's: ``by="user"|"session"``, ``session_gap="30m"`` (or seconds, or a timedelta),
    ``itemset="same-time"|"single"``, ``token="item"|"category"|"action"|"action:item"|"action:category"``,
    ``actions=[...]``, ``min_len``, ``max_len``, ``min_item_count``, ``start``/``end`` (UTC, ``[start,
    end)``, the command line's ``--from/--to``), ``drop_repeats``."""
    cols = dict(user=user, session=session, item=item, category=category, action=action, time=time)
    o = _input_opts(preset, on_error, cols, delimiter, no_header, time_format)
    o.update(_seq_opts(by, session_gap, itemset, token, actions, min_len, max_len, min_item_count, start, end, drop_repeats))
    return _cartseq.read_sequences(_os.fspath(path), o)


def sequences(
    df: Any,
    *,
    user: Union[str, int, None] = "user",
    item: Union[str, int] = "item",
    time: Union[str, int, None] = None,
    action: Union[str, int, None] = None,
    session: Union[str, int, None] = None,
    category: Union[str, int, None] = None,
    by: str = "user",
    session_gap: Duration = None,
    itemset: str = "same-time",
    token: str = "item",
    actions: Union[str, Sequence[str], None] = None,
    min_len: int = 1,
    max_len: Optional[int] = None,
    min_item_count: int = 0,
    start: Any = None,
    end: Any = None,
    drop_repeats: bool = False,
    time_format: Optional[str] = None,
) -> Sequences:
    """Builds :class:`Sequences` from a DataFrame of events (pandas, polars or a pyarrow Table), read
    column by column through Arrow: ``user``/``session``/``item``/``category``/``action``/``time`` name the
    columns (or give 1-based numbers), exactly as the ``generic`` preset's ``--*-col`` options. Ids may
    be integers or strings; actions use the preset's spellings (``pv``, ``addtocart``, ``purchase`` ... map
    to view, cart_add, buy; others stay custom actions); time may be an Arrow timestamp or date of any
    unit, integer Unix seconds (milliseconds with 13+ digits, or ``time_format="ms"``), float seconds or
    text. Without ``time`` the row order is the time. The sequence options are those of
    :func:`read_sequences`."""
    o = {
        "user": user,
        "item": item,
        "time": time,
        "action": action,
        "session": session,
        "category": category,
        "time_format": time_format,
    }
    o.update(_seq_opts(by, session_gap, itemset, token, actions, min_len, max_len, min_item_count, start, end, drop_repeats))
    return _cartseq.sequences(_arrow(df), "<DataFrame>", o)


def sequences_from_lists(data: Any, column: Optional[str] = None) -> Sequences:
    """:class:`Sequences` from a list column, one row per sequence: ``list<list<item>>`` (a sequence of
    itemsets, MLlib PrefixSpan's input) or ``list<item>`` (a basket, MLlib FPGrowth's input). Integer
    items keep their numbers (as SPMF input); other items are names. ``column`` defaults to the first."""
    t = _arrow(data)
    if not isinstance(t, _pa.Table):
        t = _pa.table(t)
    return _cartseq.sequences_from_lists(t, column or t.column_names[0])


def _seqs(data: Any) -> Sequences:
    if isinstance(data, Sequences):
        return data
    if isinstance(data, (str, _os.PathLike)):
        return read_sequences(data)
    raise CartseqError(
        f"expected cartseq.Sequences (from sequences(), read_sequences() or sequences_from_lists()) or a path, found {type(data).__name__}"
    )


def mine(
    seqs: Union[Sequences, str, _os.PathLike],
    *,
    min_support: Union[float, str, None] = None,
    min_count: Optional[int] = None,
    algo: str = "prefixspan",
    min_items: int = 1,
    max_items: Optional[int] = None,
    min_itemsets: int = 1,
    max_itemsets: Optional[int] = None,
    max_gap: Optional[int] = None,
    max_gap_time: Duration = None,
    max_span: Optional[int] = None,
    max_span_time: Duration = None,
    first: Optional[str] = None,
    closed: bool = False,
    maximal: bool = False,
    top_k: Optional[int] = None,
    max_patterns: int = 10_000_000,
) -> _pa.Table:
    """Frequent sequential patterns (``cartseq mine``): every sequence of itemsets contained in at least
    ``min_count`` sequences, or ``ceil(min_support x n)`` in exact decimal arithmetic (0.1% of 59,601 is
    60, as SPMF; ``"0.1%"`` is accepted). ``algo`` is prefixspan, spade or gsp (same answer). Constraints,
    ``closed``/``maximal``/``top_k`` and their rules are the command line's. Returns columns ``pattern``
    (``a > b + c``), ``support``, ``relative_support``, ``items``, ``itemsets``, ``sequence`` (list of
    itemsets of token names) and ``ids`` (token ids; item numbers for SPMF input), sorted by support
    descending, then pattern."""
    s = _seqs(seqs)
    o = {
        "min_support": _support(min_support),
        "min_count": min_count,
        "algo": algo,
        "min_items": min_items,
        "max_items": max_items,
        "min_itemsets": min_itemsets,
        "max_itemsets": max_itemsets,
        "max_gap": max_gap,
        "max_gap_time": _span(max_gap_time, "max_gap_time"),
        "max_span": max_span,
        "max_span_time": _span(max_span_time, "max_span_time"),
        "first": first,
        "closed": closed,
        "maximal": maximal,
        "top_k": top_k,
        "max_patterns": max_patterns,
    }
    return _cartseq.mine(s, o)


def itemsets(
    seqs: Union[Sequences, str, _os.PathLike],
    *,
    min_support: Union[float, str],
    algo: str = "fpgrowth",
    max_size: int = 0,
    max_itemsets: int = 10_000_000,
    top: int = 0,
) -> _pa.Table:
    """Frequent itemsets of the baskets (``cartseq itemsets``): each sequence's set of tokens is one
    basket. ``min_support`` is a fraction (0.01), a percentage (``"1%"``) or a count (``"#50"``);
    ``algo`` fpgrowth or apriori (same answer). Columns ``itemset`` (``a + b``), ``support``,
    ``relative_support``, ``size``, ``items`` (names), ``ids``; sorted by support, then items."""
    o = {"min_support": _support(min_support), "algo": algo, "max_size": max_size, "max_itemsets": max_itemsets, "top": top}
    return _cartseq.itemsets(_seqs(seqs), o)


def rules(
    seqs: Union[Sequences, str, _os.PathLike],
    *,
    min_support: Union[float, str],
    kind: str = "association",
    min_confidence: float = 0.5,
    min_lift: Optional[float] = None,
    max_antecedent: Optional[int] = None,
    max_consequent: Optional[int] = None,
    antecedent_has: Union[str, Sequence[str], None] = None,
    consequent_has: Union[str, Sequence[str], None] = None,
    window: Optional[int] = None,
    algo: str = "fpgrowth",
    miner: str = "prefixspan",
    max_size: Optional[int] = None,
    sort: str = "lift",
    top: int = 0,
    max_rules: int = 10_000_000,
    max_patterns: int = 10_000_000,
) -> _pa.Table:
    """Rules X => Y (``cartseq rules``): ``kind="association"`` (same basket, from the frequent itemsets),
    ``"sequential"`` (every item of X before every item of Y; ``window`` as TRuleGrowth) or ``"pattern"``
    (X then Y as sequences). Columns as the CSV export -- ``antecedent``, ``consequent``, sizes,
    ``support_count``, ``antecedent_count``, ``consequent_count``, ``support``, ``antecedent_support``,
    ``consequent_support``, ``confidence``, ``lift``, ``leverage``, ``conviction`` (``inf`` when the
    confidence is 1) -- plus ``antecedent_items``/``consequent_items`` lists and ``kind``, sorted by
    ``sort`` descending with the command line's tie-breaks, cut to ``top``."""
    o = {
        "min_support": _support(min_support),
        "kind": kind,
        "min_confidence": min_confidence,
        "min_lift": min_lift,
        "max_antecedent": max_antecedent,
        "max_consequent": max_consequent,
        "antecedent_has": _tokens(antecedent_has),
        "consequent_has": _tokens(consequent_has),
        "window": window,
        "algo": algo,
        "miner": miner,
        "max_size": max_size,
        "sort": sort,
        "top": top,
        "max_rules": max_rules,
        "max_patterns": max_patterns,
    }
    return _cartseq.rules(_seqs(seqs), o)


def next_after(
    seqs: Union[Sequences, str, _os.PathLike],
    after: Union[str, Sequence[str]],
    *,
    within: Union[int, str, _dt.timedelta, None] = None,
    top: int = 20,
    sort: str = "count",
    min_count: int = 1,
) -> _pa.Table:
    """What comes next (``cartseq next``): among the sequences in which the ``after`` tokens occur in that
    order, which tokens follow -- within the next ``within`` itemsets (an int) or that long after the last
    query token (``"1h"``, a timedelta), or anywhere later. Columns ``rank``, ``token``, ``count``,
    ``matched``, ``sequences``, ``sequences_with_token``, ``confidence`` (count / matched), ``lift``."""
    w: Optional[str]
    if within is None:
        w = None
    elif isinstance(within, int) and not isinstance(within, bool):
        w = str(within)
    else:
        w = _duration(within, "within")
    o = {"after": _tokens(after), "within": w, "top": top, "sort": sort, "min_count": min_count}
    return _cartseq.next_after(_seqs(seqs), o)


def task(
    path: Union[str, _os.PathLike],
    task: str,
    preset: Optional[str] = None,
    *,
    cutoff: str = "auto",
    horizon: Duration = "1d",
    split: str = "time",
    valid_frac: Optional[float] = None,
    test_frac: Optional[float] = None,
    train_windows: int = 1,
    seed: int = 42,
    seq: bool = False,
    seq_tokens: str = "action",
    seq_len: int = 50,
    pattern_features: int = 0,
    pattern_select: str = "infogain",
    pattern_tokens: str = "action-category",
    pattern_max_len: int = 3,
    pattern_max_gap: Optional[int] = None,
    pattern_history: int = 200,
    on_error: str = "fail",
    **columns: Any,
) -> _pa.Table:
    """The feature table of a prediction task (``cartseq task``): ``task`` is purchase, cart_abandon,
    churn, next_action ... as on the command line; rows are (user, cutoff) pairs with the id column,
    ``split`` (train/valid/test), ``label`` and the named behaviour features (plus ``patNN_*`` pattern
    features with ``pattern_features=K``, fitted on the training rows only, and a ``seq`` column with
    ``seq=True``). The same options give the same table as ``cartseq task -o``."""
    o = _input_opts(preset, on_error, columns, None, False, None)
    o.update(
        {
            "task": task,
            "cutoff": cutoff,
            "horizon": _duration(horizon, "horizon"),
            "split": split,
            "valid_frac": valid_frac,
            "test_frac": test_frac,
            "train_windows": train_windows,
            "seed": seed,
            "seq": seq,
            "seq_tokens": seq_tokens,
            "seq_len": seq_len,
            "pattern_features": pattern_features,
            "pattern_select": pattern_select,
            "pattern_tokens": pattern_tokens,
            "pattern_max_len": pattern_max_len,
            "pattern_max_gap": pattern_max_gap,
            "pattern_history": pattern_history,
        }
    )
    return _cartseq.task(_os.fspath(path), o)


class Model:
    """A model saved by ``cartseq train`` (see :func:`load_model`)."""

    def __init__(self, native: Any) -> None:
        self._m = native

    @property
    def name(self) -> str:
        """The model's name as given to ``train --model``."""
        return self._m.name

    @property
    def feature_names(self) -> list:
        """The feature columns the model reads, in order."""
        return self._m.feature_names

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return self._m.n_classes

    def __repr__(self) -> str:
        return repr(self._m)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities of the rows of ``X`` as a numpy array of shape (rows, classes). ``X`` is a
        pandas/polars DataFrame or pyarrow Table holding the model's feature columns by name (other
        columns such as ``user_id``, ``split``, ``label`` are ignored; sequence models read ``seq``), or a
        2-D numpy array whose columns are ``model.feature_names`` in order."""
        if hasattr(X, "ndim") and hasattr(X, "shape") and not hasattr(X, "columns"):
            if X.ndim != 2 or X.shape[1] != len(self.feature_names):
                raise CartseqError(
                    f"X: expected a 2-D array with {len(self.feature_names)} columns (model.feature_names), found shape {tuple(X.shape)}"
                )
            X = _pa.table({f: X[:, j] for j, f in enumerate(self.feature_names)})
        t = self._m._predict_proba(_arrow(X))
        import numpy as np  # noqa: PLC0415  (pyarrow depends on numpy)

        return np.column_stack([t.column(i).to_numpy() for i in range(t.num_columns)])


def load_model(path: Union[str, _os.PathLike]) -> Model:
    """Loads a model file written by ``cartseq train`` (any model, ensembles and sequence models
    included); ``model.predict_proba(X)`` scores rows of a feature table built with the same task
    options (:func:`task`)."""
    return Model(_cartseq.load_model(_os.fspath(path)))
