//! Results as Arrow record batches (feature `arrow`): the one columnar form of patterns, itemsets,
//! rules, follow-ups, event logs and feature tables, used by the Python package (handed to pyarrow,
//! pandas and polars through the Arrow C data interface, no copy per row in Python) and by the command
//! line's `--format parquet|arrow` exports.
//!
//! Column names and meanings are those of the CSV exports ([`crate::export`]), plus list columns that
//! keep the structure a CSV cell has to flatten: a pattern's `sequence` (list of itemsets of token
//! names) and its `ids` (the same with token ids, SPMF's item numbers for numeric input); an itemset's
//! and a rule side's `items`. Text is not made spreadsheet-safe here: these formats are typed and
//! never opened as formulas.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder, UInt32Builder};
use arrow_array::{
    ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray, UInt32Array,
    UInt64Array,
};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use cartseq_data::{Dictionary, EventLog, ItemId, SequenceDb};
use cartseq_mining::itemsets::FrequentItemsets;
use cartseq_mining::rules::next::FollowUps;
use cartseq_mining::rules::{RuleKind, RuleSet};
use cartseq_mining::Pattern;

use crate::export::{itemset_text, pattern_text, relative, side_text};
use crate::feature_table::FeatureTable;

fn batch(cols: Vec<(&str, ArrayRef)>) -> Result<RecordBatch, ArrowError> {
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), a.null_count() > 0))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        cols.into_iter().map(|(_, a)| a).collect(),
    )
}

fn name(dict: &Dictionary, i: ItemId) -> std::borrow::Cow<'_, str> {
    dict.tokens.name(i.0)
}

/// A `list<list<string>>` (names) and a `list<list<uint32>>` (ids) column from itemset sequences.
fn nested<'a, I, S>(rows: I, dict: &Dictionary) -> (ArrayRef, ArrayRef)
where
    I: Iterator<Item = S>,
    S: Iterator<Item = &'a [ItemId]>,
{
    let mut names = ListBuilder::new(ListBuilder::new(StringBuilder::new()));
    let mut ids = ListBuilder::new(ListBuilder::new(UInt32Builder::new()));
    for row in rows {
        for set in row {
            for &it in set {
                names.values().values().append_value(name(dict, it));
                ids.values().values().append_value(it.0);
            }
            names.values().append(true);
            ids.values().append(true);
        }
        names.append(true);
        ids.append(true);
    }
    (Arc::new(names.finish()), Arc::new(ids.finish()))
}

/// A `list<string>` (names) and a `list<uint32>` (ids) column from flat item lists.
fn flat<'a, I>(rows: I, dict: &Dictionary) -> (ArrayRef, ArrayRef)
where
    I: Iterator<Item = &'a [ItemId]>,
{
    let mut names = ListBuilder::new(StringBuilder::new());
    let mut ids = ListBuilder::new(UInt32Builder::new());
    for row in rows {
        for &it in row {
            names.values().append_value(name(dict, it));
            ids.values().append_value(it.0);
        }
        names.append(true);
        ids.append(true);
    }
    (Arc::new(names.finish()), Arc::new(ids.finish()))
}

/// Sequential patterns: `pattern` (CSV text), `support`, `relative_support`, `items`, `itemsets`,
/// `sequence` (names), `ids`.
pub fn patterns(pats: &[Pattern], dict: &Dictionary, n: usize) -> Result<RecordBatch, ArrowError> {
    let text: StringArray = pats.iter().map(|p| Some(pattern_text(p, dict))).collect();
    let (seq, ids) = nested(pats.iter().map(|p| p.itemsets()), dict);
    batch(vec![
        ("pattern", Arc::new(text)),
        (
            "support",
            Arc::new(UInt32Array::from_iter_values(
                pats.iter().map(|p| p.support),
            )),
        ),
        (
            "relative_support",
            Arc::new(Float64Array::from_iter_values(
                pats.iter().map(|p| relative(p.support, n)),
            )),
        ),
        (
            "items",
            Arc::new(UInt32Array::from_iter_values(
                pats.iter().map(|p| p.num_items() as u32),
            )),
        ),
        (
            "itemsets",
            Arc::new(UInt32Array::from_iter_values(
                pats.iter().map(|p| p.num_itemsets() as u32),
            )),
        ),
        ("sequence", seq),
        ("ids", ids),
    ])
}

/// The first `limit` frequent itemsets: `itemset` (CSV text), `support`, `relative_support`, `size`,
/// `items` (names), `ids`.
pub fn itemsets(
    fi: &FrequentItemsets,
    limit: usize,
    dict: &Dictionary,
) -> Result<RecordBatch, ArrowError> {
    let rows: Vec<(&[ItemId], u32)> = fi.iter().take(limit).collect();
    let n = fi.transactions();
    let text: StringArray = rows
        .iter()
        .map(|(s, _)| Some(itemset_text(s, dict)))
        .collect();
    let (items, ids) = flat(rows.iter().map(|(s, _)| *s), dict);
    batch(vec![
        ("itemset", Arc::new(text)),
        (
            "support",
            Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.1))),
        ),
        (
            "relative_support",
            Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|r| relative(r.1, n)),
            )),
        ),
        (
            "size",
            Arc::new(UInt32Array::from_iter_values(
                rows.iter().map(|r| r.0.len() as u32),
            )),
        ),
        ("items", items),
        ("ids", ids),
    ])
}

/// Rules with every measure, as the CSV export (`antecedent`, `consequent`, sizes, counts, support,
/// confidence, lift, leverage, conviction — `inf` conviction stays `+∞`), plus the sides as lists:
/// `antecedent_items`/`consequent_items` (names; pattern rules: the itemsets flattened in order).
pub fn rules(rs: &RuleSet, dict: &Dictionary) -> Result<RecordBatch, ArrowError> {
    let m: Vec<_> = rs.rules.iter().map(|r| r.measures(rs.n)).collect();
    let text = |f: fn(&cartseq_mining::rules::Rule) -> &Vec<Vec<ItemId>>| -> StringArray {
        rs.rules
            .iter()
            .map(|r| Some(side_text(f(r), dict)))
            .collect()
    };
    let flat_side = |f: fn(&cartseq_mining::rules::Rule) -> &Vec<Vec<ItemId>>| {
        let sides: Vec<Vec<ItemId>> = rs
            .rules
            .iter()
            .map(|r| f(r).iter().flatten().copied().collect())
            .collect();
        flat(sides.iter().map(Vec::as_slice), dict).0
    };
    let u32s = |f: &dyn Fn(&cartseq_mining::rules::Rule) -> u32| -> ArrayRef {
        Arc::new(UInt32Array::from_iter_values(rs.rules.iter().map(f)))
    };
    let f64s = |f: &dyn Fn(&cartseq_mining::rules::Measures) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(m.iter().map(f)))
    };
    let kind = match rs.kind {
        RuleKind::Association => "association",
        RuleKind::Sequential => "sequential",
        RuleKind::Pattern => "pattern",
    };
    batch(vec![
        ("antecedent", Arc::new(text(|r| &r.antecedent))),
        ("consequent", Arc::new(text(|r| &r.consequent))),
        ("antecedent_size", u32s(&|r| r.antecedent_len() as u32)),
        ("consequent_size", u32s(&|r| r.consequent_len() as u32)),
        ("support_count", u32s(&|r| r.support)),
        ("antecedent_count", u32s(&|r| r.antecedent_support)),
        ("consequent_count", u32s(&|r| r.consequent_support)),
        ("support", f64s(&|m| m.support)),
        ("antecedent_support", f64s(&|m| m.antecedent_support)),
        ("consequent_support", f64s(&|m| m.consequent_support)),
        ("confidence", f64s(&|m| m.confidence)),
        ("lift", f64s(&|m| m.lift)),
        ("leverage", f64s(&|m| m.leverage)),
        ("conviction", f64s(&|m| m.conviction)),
        ("antecedent_items", flat_side(|r| &r.antecedent)),
        ("consequent_items", flat_side(|r| &r.consequent)),
        (
            "kind",
            Arc::new(StringArray::from_iter_values(rs.rules.iter().map(|_| kind))),
        ),
    ])
}

/// "What comes next" rows: `rank`, `token`, `count`, `matched`, `sequences`, `sequences_with_token`,
/// `confidence`, `lift` (the columns of `next --format csv`, plus the number of sequences).
pub fn follow_ups(f: &FollowUps, dict: &Dictionary) -> Result<RecordBatch, ArrowError> {
    let rows = &f.rows;
    let token: StringArray = rows.iter().map(|r| Some(name(dict, r.item))).collect();
    batch(vec![
        (
            "rank",
            Arc::new(UInt32Array::from_iter_values(1..=rows.len() as u32)),
        ),
        ("token", Arc::new(token)),
        (
            "count",
            Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.count))),
        ),
        (
            "matched",
            Arc::new(UInt32Array::from_iter_values(
                rows.iter().map(|_| f.matched),
            )),
        ),
        (
            "sequences",
            Arc::new(UInt64Array::from_iter_values(
                rows.iter().map(|_| f.n as u64),
            )),
        ),
        (
            "sequences_with_token",
            Arc::new(UInt32Array::from_iter_values(
                rows.iter().map(|r| r.item_sequences),
            )),
        ),
        (
            "confidence",
            Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|r| r.confidence),
            )),
        ),
        (
            "lift",
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.lift))),
        ),
    ])
}

/// The sequences of a database: `key` (the user or session id as written in the log, or its number
/// for SPMF/basket input), `sequence` (itemsets of token names), `ids`, and `times` (milliseconds of
/// each itemset) when the database has them.
pub fn sequences(
    db: &SequenceDb,
    dict: &Dictionary,
    keys: &cartseq_data::Vocab,
) -> Result<RecordBatch, ArrowError> {
    let key: StringArray = db
        .iter()
        .map(|s| {
            Some(if keys.is_empty() {
                s.key().0.to_string()
            } else {
                keys.name(s.key().0).into_owned()
            })
        })
        .collect();
    let (seq, ids) = nested(db.iter().map(|s| s.itemsets()), dict);
    let mut cols: Vec<(&str, ArrayRef)> =
        vec![("key", Arc::new(key)), ("sequence", seq), ("ids", ids)];
    if db.times().is_some() {
        let mut t = ListBuilder::new(arrow_array::builder::TimestampMillisecondBuilder::new());
        for s in db.iter() {
            for &ms in s.times().unwrap_or(&[]) {
                t.values().append_value(ms);
            }
            t.append(true);
        }
        cols.push(("times", Arc::new(t.finish())));
    }
    batch(cols)
}

/// An event log with names: `user`, `session` (when the log has sessions), `time` (UTC milliseconds),
/// `item`, `category` (null when unknown), `action`, `quantity`, `price` (when present).
pub fn events(log: &EventLog, dict: &Dictionary) -> Result<RecordBatch, ArrowError> {
    let names = |v: &cartseq_data::Vocab, ids: &mut dyn Iterator<Item = u32>| -> ArrayRef {
        Arc::new(ids.map(|i| Some(v.name(i))).collect::<StringArray>())
    };
    let mut cols: Vec<(&str, ArrayRef)> = vec![(
        "user",
        names(&dict.users, &mut log.user.iter().map(|k| k.0)),
    )];
    if let Some(s) = &log.session {
        cols.push(("session", names(&dict.sessions, &mut s.iter().map(|k| k.0))));
    }
    cols.push((
        "time",
        Arc::new(
            TimestampMillisecondArray::from_iter_values(log.time.iter().map(|t| t.0))
                .with_timezone("UTC"),
        ),
    ));
    cols.push((
        "item",
        names(&dict.products, &mut log.item.iter().map(|p| p.0)),
    ));
    if let Some(c) = &log.category {
        let arr: StringArray = c
            .iter()
            .map(|c| {
                (*c != cartseq_data::event_log::UNKNOWN_CATEGORY).then(|| dict.categories.name(c.0))
            })
            .collect();
        cols.push(("category", Arc::new(arr)));
    }
    cols.push((
        "action",
        names(&dict.actions, &mut log.action.iter().map(|&a| u32::from(a))),
    ));
    let opt_f = |v: &Vec<f32>| -> ArrayRef {
        Arc::new(
            v.iter()
                .map(|x| (!x.is_nan()).then_some(f64::from(*x)))
                .collect::<Float64Array>(),
        )
    };
    if let Some(q) = &log.quantity {
        cols.push(("quantity", opt_f(q)));
    }
    if let Some(p) = &log.price {
        cols.push(("price", opt_f(p)));
    }
    batch(cols)
}

/// A feature table as the CSV has it: the id column, `split`, `label`, every feature (float64), and
/// `seq` (space-separated tokens) when the table has sequences.
pub fn feature_table(t: &FeatureTable) -> Result<RecordBatch, ArrowError> {
    let mut cols: Vec<(String, ArrayRef)> = vec![
        (
            t.id_column.clone(),
            Arc::new(StringArray::from_iter_values(t.ids.iter())),
        ),
        (
            "split".into(),
            Arc::new(StringArray::from_iter_values(
                t.split.iter().map(|s| s.name()),
            )),
        ),
        (
            "label".into(),
            Arc::new(UInt32Array::from_iter_values(
                t.label.iter().map(|&l| l as u32),
            )),
        ),
    ];
    for (j, f) in t.feature_names.iter().enumerate() {
        cols.push((
            f.clone(),
            Arc::new(Float64Array::from_iter_values(
                t.x.column(j).iter().copied(),
            )),
        ));
    }
    if let Some(s) = &t.seqs {
        let text = (0..t.len()).map(|i| {
            s.row(i)
                .iter()
                .map(|&k| s.names[k as usize].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        });
        cols.push(("seq".into(), Arc::new(StringArray::from_iter_values(text))));
    }
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, a)| Field::new(n, a.data_type().clone(), false))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        cols.into_iter().map(|(_, a)| a).collect(),
    )
}

/// The data type of a feature column (for schema checks by callers).
pub const FEATURE_TYPE: DataType = DataType::Float64;

#[cfg(test)]
mod tests {
    use super::*;
    use cartseq_data::sequence_db::from_nested;

    #[test]
    fn patterns_keep_structure_and_supports() {
        let dict = Dictionary::numeric_tokens();
        let pats = vec![
            Pattern::from_nested(&[&[1, 2], &[3]], 4),
            Pattern::from_nested(&[&[5]], 2),
        ];
        let b = patterns(&pats, &dict, 8).unwrap();
        assert_eq!(b.num_rows(), 2);
        let text = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(text.value(0), "1 + 2 > 3");
        let rel = b.column(2).as_any().downcast_ref::<Float64Array>().unwrap();
        assert_eq!(rel.value(0), 0.5);
        let ids = b
            .column(6)
            .as_any()
            .downcast_ref::<arrow_array::ListArray>()
            .unwrap();
        assert_eq!(ids.value(0).len(), 2);
    }

    #[test]
    fn sequences_roundtrip_names() {
        let db = from_nested(&[vec![vec![1], vec![2, 3]], vec![vec![4]]]);
        let b = sequences(
            &db,
            &Dictionary::numeric_tokens(),
            &cartseq_data::Vocab::new(),
        )
        .unwrap();
        assert_eq!(b.num_rows(), 2);
        assert_eq!(b.schema().field(1).name(), "sequence");
    }
}
