//! `cartseq._cartseq`: the native half of the `cartseq` Python package, a thin layer over the Rust
//! crates. Tables come in through the Arrow C stream interface (pyarrow, pandas >= 2.2, polars: no
//! per-row Python loop) and results go out as pyarrow tables built by [`cartseq::tables`]; all work runs
//! with the GIL released. Errors are `cartseq.CartseqError` carrying the command line's one-line
//! message.
//!
//! The public, documented functions are in `cartseq/__init__.py`, which validates and normalises the
//! Python arguments (durations, lists) and passes them here as dictionaries whose keys are the command
//! line's option names with `_` for `-`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt32Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use cartseq::experiment::TaskSetup;
use cartseq::export::resolve_token_in;
use cartseq::featurizer::PatternFeaturizer;
use cartseq::input::{sniff_spmf, InputSpec};
use cartseq::next_query::{self, parse_within, NextQuery, NextSort};
use cartseq::tasks::table::{dataset_owned, SeqOptions};
use cartseq::tasks::{SplitMode, TaskKind, TaskSpec};
use cartseq::trained::TrainedModel;
use cartseq_data::sessions::SequenceOptionsBuilder;
use cartseq_data::time::{parse_date, parse_duration, TimeFormat};
use cartseq_data::{
    ColumnRef, Dictionary, EventColumns, GenericSpec, GroupBy, ItemId, ItemsetMode, OnError,
    Preset, PresetConfig, SequenceDb, SequenceOptions, Token, Vocab,
};
use cartseq_mining::itemsets::{
    FpGrowth, FrequentItemsets, ItemsetAlgorithm, ItemsetMiner, ItemsetParams, Transactions,
};
use cartseq_mining::rules::association::{association_rules, AssociationParams};
use cartseq_mining::rules::mine::{mine_rules, RuleMining, RuleSource};
use cartseq_mining::rules::{RuleFilter, RuleKind, RuleSort};
use cartseq_mining::{Algorithm, CollectSink, Condense, Limit, MinSupport, Options, Pattern};
use cartseq_models::Classifier;
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;

mod packed;

create_exception!(
    _cartseq,
    CartseqError,
    PyValueError,
    "A cartseq error: the same one-line message the command line prints after `error:`."
);

/// Turns a library error into `CartseqError` with the command line's message (`{e:#}`).
fn err(e: anyhow::Error) -> PyErr {
    CartseqError::new_err(format!("{e:#}"))
}

/// Runs `f` with the GIL released and maps its error.
fn work<T: Send>(py: Python<'_>, f: impl FnOnce() -> anyhow::Result<T> + Send) -> PyResult<T> {
    py.detach(f).map_err(err)
}

/// Runs `f` with the GIL released and hands its record batch to Python as a `pyarrow.Table`.
fn table_from(
    py: Python<'_>,
    f: impl FnOnce() -> anyhow::Result<RecordBatch> + Send,
) -> PyResult<Py<PyAny>> {
    let b = work(py, f)?;
    let schema = b.schema();
    Ok(PyTable::try_new(vec![b], schema)?
        .into_pyarrow(py)?
        .unbind())
}

fn get<'py, T: FromPyObjectOwned<'py>>(d: &Bound<'py, PyDict>, k: &str) -> PyResult<Option<T>> {
    match d.get_item(k)? {
        Some(v) if !v.is_none() => Ok(Some(v.extract().map_err(Into::into)?)),
        _ => Ok(None),
    }
}

use pyo3::conversion::FromPyObjectOwned;

fn parse<T: std::str::FromStr<Err = String>>(s: &str, what: &str) -> anyhow::Result<T> {
    s.parse::<T>().map_err(|e| anyhow!("{what}: {e}"))
}

/// The text of key `k` parsed as a `T` (an error names `k`), `None` when the key is absent.
fn parsed_key<T: std::str::FromStr<Err = String>>(
    o: &Bound<'_, PyDict>,
    k: &str,
) -> PyResult<Option<T>> {
    get::<String>(o, k)?
        .map(|v| parse::<T>(&v, k))
        .transpose()
        .map_err(err)
}

// ------------------------------------------------------------------------------------------------
// Inputs

/// The generic column choice from `user`, `session`, `item`, … keys (names or 1-based numbers).
fn generic_spec(o: &Bound<'_, PyDict>) -> PyResult<(GenericSpec, bool)> {
    let col = |k: &str| -> PyResult<Option<ColumnRef>> {
        let Some(v) = o.get_item(k)? else {
            return Ok(None);
        };
        if v.is_none() {
            return Ok(None);
        }
        if let Ok(i) = v.extract::<usize>() {
            return parse::<ColumnRef>(&i.to_string(), k).map(Some).map_err(err);
        }
        let s: String = v.extract()?;
        parse::<ColumnRef>(&s, k).map(Some).map_err(err)
    };
    // The keys are the roles' names.
    let mut columns = EventColumns::default();
    for (role, slot) in columns.roles_mut() {
        *slot = col(role)?;
    }
    let spec = GenericSpec {
        columns,
        delimiter: get::<String>(o, "delimiter")?
            .map(|d| match d.as_str() {
                "\\t" | "tab" => Ok(b'\t'),
                d if d.len() == 1 && d.is_ascii() => Ok(d.as_bytes()[0]),
                _ => Err(CartseqError::new_err(format!(
                    "delimiter: expected one ASCII character, found {d:?}"
                ))),
            })
            .transpose()?
            .unwrap_or(b','),
        header: !get::<bool>(o, "no_header")?.unwrap_or(false),
        time_format: parsed_key::<TimeFormat>(o, "time_format")?.unwrap_or_default(),
    };
    let any = !spec.columns.is_empty();
    Ok((spec, any))
}

/// Sequence-building options from the `by`, `session_gap`, `token`, … keys.
fn sequence_options(o: &Bound<'_, PyDict>) -> PyResult<SequenceOptionsBuilder> {
    let s = |k: &str| get::<String>(o, k);
    let by = parsed_key(o, "by")?.unwrap_or(GroupBy::User);
    let gap = s("session_gap")?
        .map(|v| parse_duration(&v).map_err(|e| anyhow!("session_gap: expected {e}")))
        .transpose()
        .map_err(err)?;
    let itemset = parsed_key(o, "itemset")?.unwrap_or(ItemsetMode::SameTime);
    let token = parsed_key(o, "token")?.unwrap_or(Token::Item);
    let date = |k: &str| -> PyResult<Option<cartseq_data::Timestamp>> {
        s(k)?
            .map(|v| parse_date(&v).map_err(|e| anyhow!("{k}: expected {e}")))
            .transpose()
            .map_err(err)
    };
    Ok(SequenceOptionsBuilder {
        by,
        session_gap: gap,
        itemset,
        token,
        actions: get::<Vec<String>>(o, "actions")?,
        min_len: get::<usize>(o, "min_len")?.unwrap_or(1),
        max_len: get::<usize>(o, "max_len")?,
        min_item_count: get::<u64>(o, "min_item_count")?.unwrap_or(0),
        from: date("start")?,
        to: date("end")?,
        drop_repeats: get::<bool>(o, "drop_repeats")?.unwrap_or(false),
        ..SequenceOptions::builder()
    })
}

/// The library's input description for a file, with the command line's preset resolution.
fn input_spec(path: &str, o: &Bound<'_, PyDict>) -> PyResult<InputSpec> {
    let (generic, any_col) = generic_spec(o)?;
    let path = PathBuf::from(path);
    let preset = match get::<String>(o, "preset")? {
        Some(p) => {
            let p = parse::<Preset>(&p, "preset").map_err(err)?;
            if p != Preset::Generic && any_col {
                return Err(CartseqError::new_err(format!(
                    "column options choose columns for preset=\"generic\"; preset {p} has fixed columns"
                )));
            }
            p
        }
        None if any_col => Preset::Generic,
        None if sniff_spmf(&path) => Preset::Spmf,
        None => {
            return Err(CartseqError::new_err(format!(
                "{}: say which format it is with preset= ({})",
                path.display(),
                Preset::NAMES.join(", ")
            )))
        }
    };
    let mut config = PresetConfig::new(preset);
    config.generic = generic;
    let on_error = parsed_key::<OnError>(o, "on_error")?.unwrap_or_default();
    Ok(InputSpec {
        path,
        config,
        on_error,
        sequences: sequence_options(o)?,
    })
}

/// A sequence database with the dictionary naming its tokens: what `sequences()` and
/// `read_sequences()` return and every miner takes.
struct SeqData {
    db: SequenceDb,
    dict: Dictionary,
    /// Where it came from (for messages).
    source: PathBuf,
    /// Whether keys are sessions (else users; for `to_arrow`).
    by_session: bool,
}

/// A database of sequences of itemsets (users or sessions), ready to mine. `len()` is the number of
/// sequences; `to_arrow()` gives `key`, `sequence` (itemsets of token names), `ids` and `times`.
#[pyclass(module = "cartseq._cartseq", name = "Sequences", frozen)]
struct PySequences {
    data: Arc<SeqData>,
}

#[pymethods]
impl PySequences {
    fn __len__(&self) -> usize {
        self.data.db.len()
    }

    fn __repr__(&self) -> String {
        let d = &self.data.db;
        format!(
            "<cartseq.Sequences: {} sequences, {} itemsets, {} items, {} distinct tokens from {}>",
            d.len(),
            d.num_itemsets(),
            d.num_items(),
            d.distinct_items(),
            self.data.source.display()
        )
    }

    /// Number of itemsets over all sequences.
    #[getter]
    fn num_itemsets(&self) -> usize {
        self.data.db.num_itemsets()
    }

    /// Number of items (token occurrences) over all sequences.
    #[getter]
    fn num_items(&self) -> usize {
        self.data.db.num_items()
    }

    /// The sequences as a pyarrow Table.
    fn to_arrow(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let data = self.data.clone();
        table_from(py, move || {
            let keys = if data.dict.tokens.is_numeric() && data.dict.users.is_empty() {
                Vocab::new()
            } else if data.by_session {
                data.dict.sessions.clone()
            } else {
                data.dict.users.clone()
            };
            Ok(cartseq::tables::sequences(&data.db, &data.dict, &keys)?)
        })
    }
}

fn sequences_of(obj: &Bound<'_, PyAny>) -> PyResult<Arc<SeqData>> {
    Ok(obj.cast::<PySequences>()?.get().data.clone())
}

/// Reads a log file (any preset) into sequences.
#[pyfunction]
fn read_sequences(py: Python<'_>, path: &str, opts: &Bound<'_, PyDict>) -> PyResult<PySequences> {
    let spec = input_spec(path, opts)?;
    let by_session = get::<String>(opts, "by")?.as_deref() == Some("session");
    let loaded = work(py, move || spec.load_sequences(true))?;
    Ok(PySequences {
        data: Arc::new(SeqData {
            db: loaded.db,
            dict: loaded.dict,
            source: loaded.path,
            by_session,
        }),
    })
}

/// Reads an event log file into a pyarrow Table of events.
#[pyfunction]
fn read_events(py: Python<'_>, path: &str, opts: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let spec = input_spec(path, opts)?;
    table_from(py, move || {
        let (log, dict, _) = spec.load_events(true)?;
        Ok(cartseq::tables::events(&log, &dict)?)
    })
}

/// Builds sequences from an Arrow table of events (columns chosen as the generic preset does).
#[pyfunction]
fn sequences(
    py: Python<'_>,
    table: PyTable,
    source: &str,
    opts: &Bound<'_, PyDict>,
) -> PyResult<PySequences> {
    let (mut spec, _) = generic_spec(opts)?;
    if spec.columns.item.is_none() {
        spec.columns.item = Some(ColumnRef::Name("item".into()));
    }
    let seq_opts = sequence_options(opts)?;
    let by_session = get::<String>(opts, "by")?.as_deref() == Some("session");
    let (batches, schema) = table.into_inner();
    let source = PathBuf::from(source);
    let src = source.clone();
    let (db, dict, by_session) = work(py, move || {
        let opts = seq_opts.build()?;
        let mut dict = Dictionary::new();
        let log =
            cartseq_data::arrow::events_from_batches(&batches, &schema, &spec, &src, &mut dict)?;
        let db = cartseq_data::build_sequences(&log, &mut dict, &opts)?;
        Ok((db, dict, by_session))
    })?;
    Ok(PySequences {
        data: Arc::new(SeqData {
            db,
            dict,
            source,
            by_session,
        }),
    })
}

/// Sequences from a list column: `list<list<item>>` (itemsets) or `list<item>` (one basket per row),
/// items integers (kept as their numbers, as SPMF input) or strings (interned).
#[pyfunction]
fn sequences_from_lists(py: Python<'_>, table: PyTable, column: &str) -> PyResult<PySequences> {
    let (batches, schema) = table.into_inner();
    let col = column.to_owned();
    let data = work(py, move || {
        let k = schema
            .index_of(&col)
            .map_err(|_| anyhow!("no column {col:?} in the table"))?;
        let arrays: Vec<ArrayRef> = batches.iter().map(|b| b.column(k).clone()).collect();
        lists_to_db(&arrays, Path::new("<lists>"))
    })?;
    Ok(PySequences {
        data: Arc::new(data),
    })
}

/// The item arrays of a list column: integers → numeric tokens; anything else → names.
fn lists_to_db(arrays: &[ArrayRef], source: &Path) -> anyhow::Result<SeqData> {
    let Some(first) = arrays.first() else {
        bail!("{}: no rows", source.display());
    };
    let (nested, leaf) = match first.data_type() {
        DataType::List(f) | DataType::LargeList(f) => match f.data_type() {
            DataType::List(g) | DataType::LargeList(g) => (true, g.data_type().clone()),
            d => (false, d.clone()),
        },
        d => bail!(
            "{}: expected a list<list<item>> (sequences) or list<item> (baskets) column, found {d}",
            source.display()
        ),
    };
    let numeric = leaf.is_integer();
    let mut dict = if numeric {
        Dictionary::numeric_tokens()
    } else {
        Dictionary::new()
    };
    let mut b = cartseq_data::SequenceDbBuilder::new(false);
    let mut row = 0u64;
    let mut set: Vec<ItemId>;
    let leaf_ids = |a: &ArrayRef, dict: &mut Dictionary, row: u64| -> anyhow::Result<Vec<ItemId>> {
        if numeric {
            let v = arrow_cast::cast(a, &DataType::Int64)?;
            v.as_primitive::<arrow_array::types::Int64Type>()
                .iter()
                .map(|x| match x {
                    Some(x) if (0..i64::from(u32::MAX)).contains(&x) => Ok(ItemId(x as u32)),
                    Some(x) => bail!(
                        "{}: row {}: expected an item number in 0..4294967295, found {x}",
                        source.display(),
                        row + 1
                    ),
                    None => bail!(
                        "{}: row {}: expected an item, found null",
                        source.display(),
                        row + 1
                    ),
                })
                .collect()
        } else {
            let v = arrow_cast::cast(a, &DataType::Utf8)?;
            v.as_string::<i32>()
                .iter()
                .map(|x| match x {
                    Some(s) => dict
                        .tokens
                        .intern(s)
                        .map(ItemId)
                        .ok_or_else(|| anyhow!("too many distinct items")),
                    None => bail!(
                        "{}: row {}: expected an item, found null",
                        source.display(),
                        row + 1
                    ),
                })
                .collect()
        }
    };
    let list_values = |a: &ArrayRef, i: usize| -> ArrayRef {
        match a.data_type() {
            DataType::LargeList(_) => a.as_list::<i64>().value(i),
            _ => a.as_list::<i32>().value(i),
        }
    };
    for arr in arrays {
        for i in 0..arr.len() {
            if arr.is_null(i) {
                bail!(
                    "{}: row {}: expected a list, found null",
                    source.display(),
                    row + 1
                );
            }
            let v = list_values(arr, i);
            if nested {
                for j in 0..v.len() {
                    set = leaf_ids(&list_values(&v, j), &mut dict, row)?;
                    set.sort_unstable();
                    set.dedup();
                    if !set.is_empty() {
                        b.push_itemset(&set, None)?;
                    }
                }
            } else {
                set = leaf_ids(&v, &mut dict, row)?;
                set.sort_unstable();
                set.dedup();
                if !set.is_empty() {
                    b.push_itemset(&set, None)?;
                }
            }
            b.end_sequence(cartseq_data::KeyId(row as u32))?;
            row += 1;
        }
    }
    Ok(SeqData {
        db: b.build(),
        dict,
        source: source.to_path_buf(),
        by_session: false,
    })
}

// ------------------------------------------------------------------------------------------------
// Mining

fn min_support_seq(o: &Bound<'_, PyDict>, top_k: bool) -> PyResult<MinSupport> {
    match (
        get::<String>(o, "min_support")?,
        get::<u32>(o, "min_count")?,
    ) {
        (Some(_), Some(_)) => Err(CartseqError::new_err(
            "give min_support or min_count, not both",
        )),
        (Some(f), None) => MinSupport::parse_fraction(&f).map_err(|e| err(e.into())),
        (None, Some(c)) => Ok(MinSupport::Count(c)),
        (None, None) if top_k => Ok(MinSupport::Count(1)),
        (None, None) => Err(CartseqError::new_err(
            "give min_support (fraction of sequences) or min_count (number of sequences)",
        )),
    }
}

fn duration_opt(o: &Bound<'_, PyDict>, k: &str, numeric: bool) -> PyResult<Option<i64>> {
    let Some(v) = get::<String>(o, k)? else {
        return Ok(None);
    };
    if numeric {
        return v.trim().parse::<i64>().map(Some).map_err(|_| {
            CartseqError::new_err(format!(
                "{k}: SPMF <t> stamps have no unit; give a plain integer, found {v:?}"
            ))
        });
    }
    parse_duration(&v)
        .map(Some)
        .map_err(|e| CartseqError::new_err(format!("{k}: expected {e}")))
}

/// Frequent sequential patterns (the `mine` command).
#[pyfunction]
fn mine(py: Python<'_>, seqs: &Bound<'_, PyAny>, o: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let data = sequences_of(seqs)?;
    let top_k = get::<usize>(o, "top_k")?;
    let numeric = data.dict.tokens.is_numeric();
    let first = match get::<String>(o, "first")? {
        Some(t) => Some(resolve_token_in(&data.dict, &data.db, &t, &data.source).map_err(err)?),
        None => None,
    };
    let closed = get::<bool>(o, "closed")?.unwrap_or(false);
    let maximal = get::<bool>(o, "maximal")?.unwrap_or(false);
    if closed && maximal {
        return Err(CartseqError::new_err(
            "closed and maximal cannot be combined",
        ));
    }
    let opts = Options {
        min_support: min_support_seq(o, top_k.is_some())?,
        min_items: get(o, "min_items")?.unwrap_or(1),
        max_items: get(o, "max_items")?,
        min_itemsets: get(o, "min_itemsets")?.unwrap_or(1),
        max_itemsets: get(o, "max_itemsets")?,
        max_gap: Limit {
            positions: get(o, "max_gap")?,
            time: duration_opt(o, "max_gap_time", numeric)?,
        },
        max_span: Limit {
            positions: get(o, "max_span")?,
            time: duration_opt(o, "max_span_time", numeric)?,
        },
        first_item: first,
        condense: if closed {
            Condense::Closed
        } else if maximal {
            Condense::Maximal
        } else {
            Condense::All
        },
        top_k,
        max_patterns: get(o, "max_patterns")?.unwrap_or(cartseq_mining::DEFAULT_MAX_PATTERNS),
    };
    let algo = parsed_key::<Algorithm>(o, "algo")?.unwrap_or(Algorithm::PrefixSpan);
    table_from(py, move || {
        let miner = algo.miner(opts)?;
        let mut sink = CollectSink::new();
        miner.mine(&data.db, &mut sink)?;
        let pats = sink.into_sorted();
        Ok(cartseq::tables::patterns(&pats, &data.dict, data.db.len())?)
    })
}

fn itemset_params(o: &Bound<'_, PyDict>, max_size_default: usize) -> PyResult<ItemsetParams> {
    let ms: String = get(o, "min_support")?
        .ok_or_else(|| CartseqError::new_err("give min_support (0.01, \"1%\" or \"#50\")"))?;
    let ms = cartseq_mining::itemsets::MinSupport::parse(&ms).map_err(|e| err(e.into()))?;
    Ok(ItemsetParams::new(ms)
        .max_len(get(o, "max_size")?.unwrap_or(max_size_default))
        .max_itemsets(get(o, "max_itemsets")?.unwrap_or(10_000_000)))
}

/// Frequent itemsets of the baskets (the `itemsets` command).
#[pyfunction]
fn itemsets(py: Python<'_>, seqs: &Bound<'_, PyAny>, o: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let data = sequences_of(seqs)?;
    let p = itemset_params(o, 0)?;
    let algo = parsed_key::<ItemsetAlgorithm>(o, "algo")?.unwrap_or(ItemsetAlgorithm::FpGrowth);
    let top = get::<usize>(o, "top")?.unwrap_or(0);
    table_from(py, move || {
        let tx = Transactions::from_sequences(&data.db);
        let fi = algo.mine(p, &tx)?;
        let limit = if top == 0 { usize::MAX } else { top };
        Ok(cartseq::tables::itemsets(&fi, limit, &data.dict)?)
    })
}

/// Rules X ⇒ Y (the `rules` command).
#[pyfunction]
fn rules(py: Python<'_>, seqs: &Bound<'_, PyAny>, o: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let data = sequences_of(seqs)?;
    let kind = parsed_key::<RuleKind>(o, "kind")?.unwrap_or(RuleKind::Association);
    let window = get::<usize>(o, "window")?;
    if window.is_some() && kind != RuleKind::Sequential {
        return Err(CartseqError::new_err(
            "window applies to kind=\"sequential\" only",
        ));
    }
    let resolve = |k: &str| -> PyResult<Vec<ItemId>> {
        let names = get::<Vec<String>>(o, k)?.unwrap_or_default();
        let mut v = names
            .iter()
            .map(|n| resolve_token_in(&data.dict, &data.db, n, &data.source))
            .collect::<anyhow::Result<Vec<_>>>()
            .map_err(err)?;
        v.sort_unstable();
        v.dedup();
        Ok(v)
    };
    let filter = RuleFilter {
        min_lift: get(o, "min_lift")?,
        max_antecedent: get(o, "max_antecedent")?,
        max_consequent: get(o, "max_consequent")?,
        antecedent_has: resolve("antecedent_has")?,
        consequent_has: resolve("consequent_has")?,
    };
    let min_conf = get::<f64>(o, "min_confidence")?.unwrap_or(0.5);
    let max_rules = get::<usize>(o, "max_rules")?.unwrap_or(10_000_000);
    let max_patterns = get::<usize>(o, "max_patterns")?.unwrap_or(10_000_000);
    let max_size = get::<usize>(o, "max_size")?;
    let sort = parsed_key::<RuleSort>(o, "sort")?.unwrap_or_default();
    let top = get::<usize>(o, "top")?.unwrap_or(0);
    let algo = parsed_key::<ItemsetAlgorithm>(o, "algo")?.unwrap_or(ItemsetAlgorithm::FpGrowth);
    let miner = parsed_key::<Algorithm>(o, "miner")?.unwrap_or(Algorithm::PrefixSpan);
    let ms: String = get(o, "min_support")?
        .ok_or_else(|| CartseqError::new_err("give min_support (0.01, \"1%\" or \"#50\")"))?;
    let min_support =
        cartseq_mining::itemsets::MinSupport::parse(&ms).map_err(|e| err(e.into()))?;
    table_from(py, move || {
        let source = match kind {
            RuleKind::Association => RuleSource::Association(algo),
            RuleKind::Sequential => RuleSource::Sequential { window },
            RuleKind::Pattern => RuleSource::Pattern(miner),
        };
        let m = RuleMining {
            source,
            min_support,
            min_confidence: min_conf,
            filter,
            max_size,
            max_patterns,
            max_rules,
        };
        let mut rs = mine_rules(&data.db, m)?;
        rs.sort(sort);
        if top > 0 {
            rs.truncate(top);
        }
        Ok(cartseq::tables::rules(&rs, &data.dict)?)
    })
}

/// "What comes next" after a query of tokens (the `next` command).
#[pyfunction]
fn next_after(
    py: Python<'_>,
    seqs: &Bound<'_, PyAny>,
    o: &Bound<'_, PyDict>,
) -> PyResult<Py<PyAny>> {
    let data = sequences_of(seqs)?;
    let after: Vec<String> = get(o, "after")?.unwrap_or_default();
    if after.is_empty() {
        return Err(CartseqError::new_err("after: give at least one token"));
    }
    // The flag's name in the library's message is the keyword's here, as in the server's.
    let within = parse_within(get::<String>(o, "within")?.as_deref())
        .map_err(|e| CartseqError::new_err(e.to_string().replace("--within", "within")))?;
    let query = NextQuery {
        after,
        within,
        min_count: get::<u32>(o, "min_count")?.unwrap_or(1),
        sort: parsed_key::<NextSort>(o, "sort")?.unwrap_or_default(),
        top: get::<usize>(o, "top")?.unwrap_or(20),
    };
    table_from(py, move || {
        let a = next_query::answer_in(&data.db, &data.dict, &data.source, &query)?;
        Ok(cartseq::tables::follow_ups(&a.follow, &data.dict)?)
    })
}

// ------------------------------------------------------------------------------------------------
// Exact distributed mining helpers (cartseq.spark): integer items, absolute counts, root groups.

/// Per-item sequence (or basket) supports of a list column: `(item, count)` pairs as two uint32
/// arrays in a record batch, for the first pass of distributed mining.
#[pyfunction]
fn _item_supports(py: Python<'_>, table: PyTable, column: &str) -> PyResult<Py<PyAny>> {
    let arrays = column_arrays(table, column)?;
    table_from(py, move || {
        let data = lists_to_db(&arrays, Path::new("<partition>"))?;
        let mut counts: std::collections::BTreeMap<u32, u32> = Default::default();
        let mut seen: Vec<u32> = Vec::new();
        for s in data.db.iter() {
            seen.clear();
            seen.extend(s.items().iter().map(|i| i.0));
            seen.sort_unstable();
            seen.dedup();
            for &i in &seen {
                *counts.entry(i).or_default() += 1;
            }
        }
        let item = arrow_array::Int64Array::from_iter_values(counts.keys().map(|&k| i64::from(k)));
        let count =
            arrow_array::Int64Array::from_iter_values(counts.values().map(|&c| i64::from(c)));
        Ok(two_columns(
            ("item", Arc::new(item)),
            ("count", Arc::new(count)),
        )?)
    })
}

/// Mines one group of a prefix-partitioned run: the sequences (or baskets) in `table`'s column --
/// packed binary cells from [`_ship`], or a list column on the driver path -- are the suffixes
/// shipped to this group; every pattern (itemset) with support ≥ `min_count` whose
/// root — the smallest item of its first itemset (of the itemset) — is in `roots` is returned with
/// its exact support (every sequence containing the root was shipped here). `kind` is `sequences` or
/// `itemsets`; `o` carries `max_items`, `min_items`, `max_itemsets`, `max_gap`, `max_span`.
#[pyfunction]
fn _mine_group(
    py: Python<'_>,
    table: PyTable,
    column: &str,
    roots: Vec<u32>,
    min_count: u32,
    kind: &str,
    o: &Bound<'_, PyDict>,
) -> PyResult<Py<PyAny>> {
    let arrays = column_arrays(table, column)?;
    let kind = kind.to_owned();
    let max_items: Option<usize> = get(o, "max_items")?;
    let min_items: usize = get(o, "min_items")?.unwrap_or(1);
    let max_itemsets: Option<usize> = get(o, "max_itemsets")?;
    let max_gap: Option<u32> = get(o, "max_gap")?;
    let max_span: Option<u32> = get(o, "max_span")?;
    let max_patterns: u64 = get(o, "max_patterns")?.unwrap_or(cartseq_mining::DEFAULT_MAX_PATTERNS);
    table_from(py, move || {
        if arrays.iter().all(|a| a.is_empty()) {
            return empty_result(&kind);
        }
        let data = group_db(&arrays)?;
        let mut roots = roots;
        roots.sort_unstable();
        let is_root = |i: ItemId| roots.binary_search(&i.0).is_ok();
        if kind == "itemsets" {
            let tx = Transactions::from_sequences(&data.db);
            let p = ItemsetParams::new(cartseq_mining::itemsets::MinSupport::Count(min_count))
                .max_len(max_items.unwrap_or(0))
                .max_itemsets(max_patterns as usize);
            let fi = FpGrowth::new(p)?.mine(&tx)?;
            let pairs: Vec<(Vec<u32>, u32)> = fi
                .iter()
                .filter(|(s, _)| s.len() >= min_items && is_root(s[0]))
                .map(|(s, sup)| (s.iter().map(|i| i.0).collect(), sup))
                .collect();
            let fi = FrequentItemsets::from_pairs(pairs, tx.len(), min_count);
            let mut items =
                arrow_array::builder::ListBuilder::new(arrow_array::builder::Int64Builder::new());
            let mut freq = Vec::with_capacity(fi.len());
            for (s, sup) in fi.iter() {
                for i in s {
                    items.values().append_value(i64::from(i.0));
                }
                items.append(true);
                freq.push(i64::from(sup));
            }
            let freq = Arc::new(arrow_array::Int64Array::from(freq));
            return Ok(two_columns(
                ("items", Arc::new(items.finish())),
                ("freq", freq),
            )?);
        }
        let opts = Options {
            min_support: MinSupport::Count(min_count),
            min_items,
            max_items,
            max_itemsets,
            max_gap: Limit {
                positions: max_gap,
                time: None,
            },
            max_span: Limit {
                positions: max_span,
                time: None,
            },
            max_patterns,
            ..Options::default()
        };
        let miner = Algorithm::PrefixSpan.miner(opts)?;
        let mut sink = CollectSink::new();
        miner.mine(&data.db, &mut sink)?;
        let pats: Vec<Pattern> = sink
            .patterns
            .into_iter()
            .filter(|p| is_root(p.itemset(0)[0]))
            .collect();
        let mut seq = arrow_array::builder::ListBuilder::new(
            arrow_array::builder::ListBuilder::new(arrow_array::builder::Int64Builder::new()),
        );
        let mut freq = Vec::with_capacity(pats.len());
        for p in &pats {
            for set in p.itemsets() {
                for i in set {
                    seq.values().values().append_value(i64::from(i.0));
                }
                seq.values().append(true);
            }
            seq.append(true);
            freq.push(i64::from(p.support));
        }
        let freq = Arc::new(arrow_array::Int64Array::from(freq));
        Ok(two_columns(
            ("sequence", Arc::new(seq.finish())),
            ("freq", freq),
        )?)
    })
}

/// The sequences of a group: [`packed`] binary cells (from [`_ship`]) or a list column.
fn group_db(arrays: &[ArrayRef]) -> anyhow::Result<SeqData> {
    let binary = |a: &ArrayRef| matches!(a.data_type(), DataType::Binary | DataType::LargeBinary);
    if !arrays.first().is_some_and(binary) {
        return lists_to_db(arrays, Path::new("<group>"));
    }
    let mut b = cartseq_data::SequenceDbBuilder::new(false);
    let mut key = 0;
    for a in arrays {
        let cells: Box<dyn Iterator<Item = Option<&[u8]>>> = match a.data_type() {
            DataType::Binary => Box::new(a.as_binary::<i32>().iter()),
            DataType::LargeBinary => Box::new(a.as_binary::<i64>().iter()),
            d => bail!("<group>: expected packed binary cells in every batch, found {d}"),
        };
        for cell in cells.flatten() {
            packed::decode_into(cell, &mut b, &mut key)?;
        }
    }
    Ok(SeqData {
        db: b.build(),
        dict: Dictionary::numeric_tokens(),
        source: PathBuf::from("<group>"),
        by_session: false,
    })
}

/// The arrays of `column` in every batch of `table`.
fn column_arrays(table: PyTable, column: &str) -> PyResult<Vec<ArrayRef>> {
    let (batches, schema) = table.into_inner();
    let k = schema
        .index_of(column)
        .map_err(|_| CartseqError::new_err(format!("no column {column:?} in the table")))?;
    Ok(batches.iter().map(|b| b.column(k).clone()).collect())
}

/// The result table of a group that received no rows.
fn empty_result(kind: &str) -> anyhow::Result<RecordBatch> {
    use arrow_array::builder::{Int64Builder, ListBuilder};
    let freq = Arc::new(arrow_array::Int64Array::from(Vec::<i64>::new()));
    let items: (&str, ArrayRef) = if kind == "itemsets" {
        let lists = ListBuilder::new(Int64Builder::new()).finish();
        ("items", Arc::new(lists))
    } else {
        let lists_of_lists = ListBuilder::new(ListBuilder::new(Int64Builder::new())).finish();
        ("sequence", Arc::new(lists_of_lists))
    };
    Ok(two_columns(items, ("freq", freq))?)
}

/// A record batch of two named columns of the same length.
fn two_columns(
    a: (&str, ArrayRef),
    b: (&str, ArrayRef),
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    RecordBatch::try_from_iter([a, b])
}

/// The shipping step of prefix-partitioned mining. `items[k]` (ascending) is a frequent item and
/// `groups[k]` the group mining the patterns rooted at it. Every input row goes to every group with
/// an item in the row, cut to the suffix that starts at the first itemset holding one of the group's
/// items, whose items below the smallest such item are dropped (no pattern rooted in the group can
/// use them). With `drop_infrequent` (no gap or span constraint) items absent from `items` are
/// removed and emptied itemsets vanish. Output: one row per group present, `group` (int32) and
/// `data`, the group's suffixes in [`packed`] form (a basket is a one-itemset sequence).
#[pyfunction]
fn _ship(
    py: Python<'_>,
    table: PyTable,
    column: &str,
    items: Vec<u32>,
    groups: Vec<u32>,
    drop_infrequent: bool,
) -> PyResult<Py<PyAny>> {
    let arrays = column_arrays(table, column)?;
    if items.len() != groups.len() || items.windows(2).any(|w| w[0] >= w[1]) {
        return Err(CartseqError::new_err(
            "items must be ascending and as many as groups",
        ));
    }
    table_from(py, move || {
        let data = lists_to_db(&arrays, Path::new("<partition>"))?;
        let group_of = |i: ItemId| items.binary_search(&i.0).ok().map(|k| groups[k]);
        let mut blobs: std::collections::BTreeMap<u32, Vec<u8>> = Default::default();
        let mut first_at: Vec<(u32, usize, u32)> = Vec::new(); // (group, itemset index, min item)
        for s in data.db.iter() {
            let sets: Vec<&[ItemId]> = s.itemsets().collect();
            first_at.clear();
            for (k, set) in sets.iter().enumerate() {
                for &i in set.iter() {
                    if let Some(g) = group_of(i) {
                        if !first_at.iter().any(|f| f.0 == g) {
                            first_at.push((g, k, i.0));
                        }
                    }
                }
            }
            for &(g, k0, min_item) in &first_at {
                let mut w = packed::SequenceWriter::new(blobs.entry(g).or_default());
                for (k, set) in sets.iter().enumerate().skip(k0) {
                    let keep = |i: &&ItemId| {
                        (!drop_infrequent || group_of(**i).is_some())
                            && (k != k0 || i.0 >= min_item)
                    };
                    w.itemset(set.iter().filter(keep).map(|i| i.0));
                }
            }
        }
        let group = arrow_array::Int32Array::from_iter_values(blobs.keys().map(|&g| g as i32));
        let bytes = arrow_array::BinaryArray::from_iter_values(blobs.values());
        Ok(two_columns(
            ("group", Arc::new(group)),
            ("data", Arc::new(bytes)),
        )?)
    })
}

/// Association rules from collected frequent itemsets (`items` list<uint32>, `freq`) over `n`
/// baskets, as cartseq's rules table (numeric tokens).
#[pyfunction]
#[pyo3(signature = (table, n, min_count, min_confidence, max_consequent=None, min_lift=None))]
fn _rules_from_itemsets(
    py: Python<'_>,
    table: PyTable,
    n: usize,
    min_count: u32,
    min_confidence: f64,
    max_consequent: Option<usize>,
    min_lift: Option<f64>,
) -> PyResult<Py<PyAny>> {
    let (batches, schema) = table.into_inner();
    table_from(py, move || {
        let ki = schema.index_of("items")?;
        let kf = schema.index_of("freq")?;
        let mut pairs = Vec::new();
        for b in &batches {
            let items = b.column(ki).as_list::<i32>();
            let freq = arrow_cast::cast(b.column(kf), &DataType::UInt32)?;
            let freq = freq.as_primitive::<UInt32Type>();
            for r in 0..b.num_rows() {
                let v = arrow_cast::cast(&items.value(r), &DataType::UInt32)?;
                let v: Vec<u32> = v.as_primitive::<UInt32Type>().values().to_vec();
                pairs.push((v, freq.value(r)));
            }
        }
        let fi = FrequentItemsets::from_pairs(pairs, n, min_count);
        let filter = RuleFilter {
            max_consequent,
            min_lift,
            ..RuleFilter::default()
        };
        let ap = AssociationParams::new(min_confidence)?.filter(filter);
        let rs = association_rules(&fi, &ap)?;
        Ok(cartseq::tables::rules(&rs, &Dictionary::numeric_tokens())?)
    })
}

/// The absolute minimum count of a relative support over `n` rows, in exact decimal arithmetic
/// (`ceil(f × n)`, as SPMF and the command line; `"0.07"` of 100 is 7, where a float product gives 8).
#[pyfunction]
fn _min_count(min_support: &str, n: usize) -> PyResult<u32> {
    let ms = MinSupport::parse_fraction(min_support).map_err(|e| err(e.into()))?;
    Ok(ms.absolute(n))
}

// ------------------------------------------------------------------------------------------------
// Tasks and models

/// Builds a prediction task's feature table from a log file (the `task` command).
#[pyfunction]
fn task(py: Python<'_>, path: &str, o: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let input = input_spec(path, o)?;
    let s = |k: &str| get::<String>(o, k);
    let kind: TaskKind = parse(&s("task")?.unwrap_or_default(), "task").map_err(err)?;
    let split: SplitMode =
        parse(&s("split")?.unwrap_or_else(|| "time".into()), "split").map_err(err)?;
    let cutoff = match s("cutoff")?.as_deref().map(str::trim) {
        None | Some("auto") => None,
        Some(c) => Some(
            parse_date(c)
                .map_err(|e| CartseqError::new_err(format!("cutoff: expected {e}")))?
                .0,
        ),
    };
    let horizon = parse_duration(&s("horizon")?.unwrap_or_else(|| "1d".into()))
        .map_err(|e| CartseqError::new_err(format!("horizon: expected {e}")))?;
    let valid_frac: Option<f64> = get(o, "valid_frac")?;
    let test_frac: Option<f64> = get(o, "test_frac")?;
    if split == SplitMode::Time && (valid_frac.is_some() || test_frac.is_some()) {
        return Err(CartseqError::new_err(
            "valid_frac/test_frac apply to split=\"user\"; with split=\"time\" the splits are rolling cutoffs one horizon apart",
        ));
    }
    let spec = TaskSpec {
        kind,
        cutoff,
        horizon_ms: horizon,
        split,
        valid_frac: valid_frac.unwrap_or(0.1),
        test_frac: test_frac.unwrap_or(0.2),
        train_windows: get(o, "train_windows")?.unwrap_or(1),
        seed: get(o, "seed")?.unwrap_or(42),
    };
    spec.check().map_err(err)?;
    let seq = get::<bool>(o, "seq")?
        .unwrap_or(false)
        .then(|| -> PyResult<SeqOptions> {
            Ok(SeqOptions {
                tokens: parse(
                    &s("seq_tokens")?.unwrap_or_else(|| "action".into()),
                    "seq_tokens",
                )
                .map_err(err)?,
                max_len: get(o, "seq_len")?.unwrap_or(50),
            })
        });
    let seq = seq.transpose()?;
    let measure = s("pattern_select")?.unwrap_or_else(|| "infogain".into());
    let featurizer = PatternFeaturizer {
        k: get(o, "pattern_features")?.unwrap_or(0),
        measure: parse(&measure, "pattern_select").map_err(err)?,
        tokens: parse(
            &s("pattern_tokens")?.unwrap_or_else(|| "action-category".into()),
            "pattern_tokens",
        )
        .map_err(err)?,
        max_len: get(o, "pattern_max_len")?.unwrap_or(3),
        max_gap: get(o, "pattern_max_gap")?,
        history: get(o, "pattern_history")?.unwrap_or(200),
    };
    let setup = TaskSetup {
        input,
        spec,
        seq,
        featurizer,
    };
    table_from(py, move || {
        let prepared = setup.prepare(true)?;
        Ok(cartseq::tables::feature_table(&prepared.built.table)?)
    })
}

/// A model saved by `cartseq train`.
#[pyclass(module = "cartseq._cartseq", name = "Model", frozen)]
struct PyModel {
    model: Arc<TrainedModel>,
    path: PathBuf,
}

#[pymethods]
impl PyModel {
    /// The model's name as given to `train --model`.
    #[getter]
    fn name(&self) -> String {
        self.model.header.model.clone()
    }

    /// The feature columns the model reads, in order.
    #[getter]
    fn feature_names(&self) -> Vec<String> {
        self.model.header.feature_names.clone()
    }

    /// Number of classes.
    #[getter]
    fn n_classes(&self) -> usize {
        self.model.header.n_classes
    }

    fn __repr__(&self) -> String {
        format!(
            "<cartseq.Model {} ({} features, {} classes) from {}>",
            self.model.header.model,
            self.model.header.feature_names.len(),
            self.model.header.n_classes,
            self.path.display()
        )
    }

    /// Class probabilities of the rows of `table` (an Arrow table holding the model's feature
    /// columns by name; other columns are ignored, a `seq` column is read by sequence models), as a
    /// pyarrow Table with one float64 column per class (`p0`, `p1`, …).
    fn _predict_proba(&self, py: Python<'_>, table: PyTable) -> PyResult<Py<PyAny>> {
        let (batches, schema) = table.into_inner();
        let model = self.model.clone();
        let path = self.path.clone();
        table_from(py, move || {
            let h = &model.header;
            let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
            let mut x = ndarray::Array2::<f64>::zeros((n, h.feature_names.len()));
            for (j, f) in h.feature_names.iter().enumerate() {
                let k = schema.index_of(f).map_err(|_| {
                    anyhow!(
                        "{}: the table has no feature column {f:?} (the model reads {} columns, the first {:?}); build it with the same task options",
                        path.display(),
                        h.feature_names.len(),
                        h.feature_names.first()
                    )
                })?;
                let mut r = 0;
                for b in &batches {
                    let c = arrow_cast::cast(b.column(k), &DataType::Float64)
                        .with_context(|| format!("feature column {f:?}"))?;
                    let c = c.as_primitive::<Float64Type>();
                    if c.null_count() > 0 {
                        bail!("feature column {f:?} has nulls; cartseq features are never missing (absent quantities are -1)");
                    }
                    for v in c.values() {
                        x[(r, j)] = *v;
                        r += 1;
                    }
                }
            }
            let seqs = match (h.seq_vocab.as_ref(), schema.index_of("seq").ok()) {
                (Some(_), None) => bail!(
                    "{}: no `seq` column; this {} model reads token sequences (build the task with seq=True)",
                    path.display(),
                    h.model
                ),
                (Some(_), Some(k)) => {
                    let mut tokens = Vec::new();
                    let mut offsets = vec![0usize];
                    let mut names: Vec<String> = Vec::new();
                    let mut index: std::collections::HashMap<String, u32> = Default::default();
                    for b in &batches {
                        let c = arrow_cast::cast(b.column(k), &DataType::Utf8)?;
                        for v in c.as_string::<i32>().iter() {
                            for t in v.unwrap_or("").split_whitespace() {
                                let id = *index.entry(t.to_owned()).or_insert_with(|| {
                                    names.push(t.to_owned());
                                    (names.len() - 1) as u32
                                });
                                tokens.push(id);
                            }
                            offsets.push(tokens.len());
                        }
                    }
                    Some(cartseq::behaviour::TokenSeqs {
                        tokens,
                        offsets,
                        names,
                    })
                }
                _ => None,
            };
            let table = cartseq::feature_table::FeatureTable {
                id_column: "id".into(),
                ids: (0..n).map(|i| i.to_string()).collect(),
                split: vec![cartseq::tasks::Split::Test; n],
                label: vec![0; n],
                feature_names: h.feature_names.clone(),
                x,
                seqs,
            };
            let ds = dataset_owned(table, h.n_classes, h.seq_vocab.as_ref())?;
            let p = model.model.predict_proba(&ds)?;
            let cols: Vec<(String, ArrayRef)> = (0..p.ncols())
                .map(|c| {
                    (
                        format!("p{c}"),
                        Arc::new(arrow_array::Float64Array::from_iter_values(
                            p.column(c).iter().copied(),
                        )) as ArrayRef,
                    )
                })
                .collect();
            Ok(RecordBatch::try_from_iter(cols)?)
        })
    }
}

/// Loads a model file written by `cartseq train`.
#[pyfunction]
fn load_model(py: Python<'_>, path: &str) -> PyResult<PyModel> {
    let p = PathBuf::from(path);
    let q = p.clone();
    let model = work(py, move || TrainedModel::load(&q))?;
    Ok(PyModel {
        model: Arc::new(model),
        path: p,
    })
}

/// The native module.
#[pymodule]
fn _cartseq(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("CartseqError", m.py().get_type::<CartseqError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<PySequences>()?;
    m.add_class::<PyModel>()?;
    m.add_function(wrap_pyfunction!(read_sequences, m)?)?;
    m.add_function(wrap_pyfunction!(read_events, m)?)?;
    m.add_function(wrap_pyfunction!(sequences, m)?)?;
    m.add_function(wrap_pyfunction!(sequences_from_lists, m)?)?;
    m.add_function(wrap_pyfunction!(mine, m)?)?;
    m.add_function(wrap_pyfunction!(itemsets, m)?)?;
    m.add_function(wrap_pyfunction!(rules, m)?)?;
    m.add_function(wrap_pyfunction!(next_after, m)?)?;
    m.add_function(wrap_pyfunction!(task, m)?)?;
    m.add_function(wrap_pyfunction!(load_model, m)?)?;
    m.add_function(wrap_pyfunction!(_item_supports, m)?)?;
    m.add_function(wrap_pyfunction!(_mine_group, m)?)?;
    m.add_function(wrap_pyfunction!(_rules_from_itemsets, m)?)?;
    m.add_function(wrap_pyfunction!(_min_count, m)?)?;
    m.add_function(wrap_pyfunction!(_ship, m)?)?;
    Ok(())
}
