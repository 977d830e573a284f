//! Event logs from Arrow record batches (feature `arrow`): the columnar twin of the `generic` CSV preset,
//! used by the Python package (pandas, polars and pyarrow tables arrive through the Arrow C data
//! interface) and by the Parquet reader.
//!
//! Columns are chosen as in the `generic` preset ([`EventColumns`] in a [`GenericSpec`]: by name,
//! compared ignoring case, `_`, `-` and spaces, or by 1-based number; [`resolve_columns`]): item is
//! required, user or session at least one (without a user column the session is the user), no action
//! column means every event is a view, no time column means the row order. Every column is converted once, vectorised, with `arrow-cast` (any integer, string,
//! large/view string or dictionary column becomes names; timestamps of any unit and dates become
//! milliseconds), so no per-row dynamic dispatch happens and nothing is copied twice.
//!
//! Time columns: Arrow timestamps and dates are exact; integers follow [`TimeFormat`] (`Auto`: 13 or more
//! digits are milliseconds, fewer are seconds, as in CSV); floats are fractional seconds; strings are
//! parsed with the spec's format. A null where a value is required is a located error naming the row
//! (1-based) and the column (1-based), like a CSV error names line and field.

use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int64Type, TimestampMillisecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, TimeUnit};

use crate::error::{DataError, Location};
use crate::event::{canonical_action, Event, Timestamp};
use crate::ids::{ActionId, CategoryId, KeyId, ProductId};
use crate::presets::{ColumnRef, EventColumns, GenericSpec, MissingColumn};
use crate::time::TimeFormat;
use crate::{Dictionary, EventLog};

/// Column names as the Arrow readers compare them: trimmed, lower case, without `_`, `-` and spaces.
pub(crate) fn norm(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The message of a role no column was chosen for.
fn missing(m: MissingColumn) -> DataError {
    DataError::Option(
        match m {
            MissingColumn::Item => "an item column is required (a column name or number)",
            MissingColumn::UserOrSession => "a user or a session column is required",
        }
        .into(),
    )
}

/// Resolves `spec`'s column choice against `schema` (0-based positions); `source` names the input in
/// messages.
pub fn resolve_columns(
    spec: &GenericSpec,
    schema: &Schema,
    source: &Path,
) -> Result<EventColumns<usize>, DataError> {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let col = |r: &ColumnRef, what: &str| -> Result<usize, DataError> {
        match r {
            ColumnRef::Index(i) if *i >= 1 && *i <= names.len() => Ok(i - 1),
            ColumnRef::Index(i) => Err(DataError::Option(format!(
                "{what} column {i}: {} has only {} column(s)",
                source.display(),
                names.len()
            ))),
            ColumnRef::Name(n) => {
                let want = norm(n);
                names.iter().position(|h| norm(h) == want).ok_or_else(|| {
                    DataError::parse(
                        Location::file(source),
                        format!("a column {n:?} (for the {what} column)"),
                        &names.join(","),
                    )
                })
            }
        }
    };
    let cols = spec.columns.try_map(col)?;
    cols.required().map_err(missing)?;
    Ok(cols)
}

/// Appends the events of `batches` (all with `schema`) to `log`, interning names into `dict`.
/// `row0` is the number of rows already read from this input (for row numbers in messages and the
/// row-order time of a log without a time column).
pub fn append_events(
    batches: &[RecordBatch],
    cols: &EventColumns<usize>,
    time_format: &TimeFormat,
    source: &Path,
    dict: &mut Dictionary,
    log: &mut EventLog,
    row0: u64,
) -> Result<u64, DataError> {
    let item_col = *cols.required().map_err(missing)?;
    let mut row = row0;
    let mut actions = ActionCache::default();
    for b in batches {
        let n = b.num_rows();
        let at = |c: usize| b.column(c);
        let strings = |c: usize| to_strings(at(c), c, source, row);
        let item = strings(item_col)?;
        let user = cols.user.map(strings).transpose()?;
        let session = cols.session.map(strings).transpose()?;
        let category = cols.category.map(strings).transpose()?;
        let action = cols.action.map(strings).transpose()?;
        let time = cols
            .time
            .map(|c| time_millis(at(c), c, time_format, source, row))
            .transpose()?;
        let quantity = cols
            .quantity
            .map(|c| to_f32(at(c), c, source, row))
            .transpose()?;
        let price = cols
            .price
            .map(|c| to_f32(at(c), c, source, row))
            .transpose()?;
        let err = |r: usize, c: usize, what: &str| {
            DataError::parse(
                Location::line(source, row + r as u64 + 1).with_column(c + 1),
                what,
                "null",
            )
        };
        let need = |s: &StrCol, r: usize, c: usize, what: &str| -> Result<u32, DataError> {
            s.id(r).ok_or_else(|| err(r, c, what))
        };
        // Intern each column's distinct values once per batch (dictionary-style), then map rows.
        let item_ids = item.intern(&mut dict.products);
        let session_ids = session.as_ref().map(|s| s.intern(&mut dict.sessions));
        let user_ids = match &user {
            Some(u) => u.intern(&mut dict.users),
            None => session
                .as_ref()
                .map(|s| s.intern(&mut dict.users))
                .unwrap_or_default(),
        };
        let cat_ids = category.as_ref().map(|c| c.intern(&mut dict.categories));
        let act_ids = action
            .as_ref()
            .map(|a| actions.intern(a, &mut dict.actions, source))
            .transpose()?;
        let view = actions.view(&mut dict.actions, source)?;
        for r in 0..n {
            let user_col = cols.user.or(cols.session).unwrap_or(0);
            let u = match &user {
                Some(u) => need(u, r, user_col, "a user id")?,
                None => need(
                    session.as_ref().unwrap_or(&item),
                    r,
                    user_col,
                    "a session id",
                )?,
            };
            let it = need(&item, r, item_col, "an item id")?;
            let t = match &time {
                Some(t) => t[r].ok_or_else(|| err(r, cols.time.unwrap_or(0), "a time"))?,
                None => (row + r as u64) as i64,
            };
            let a = match (&action, &act_ids) {
                (Some(a), Some(ids)) => {
                    let k = need(a, r, cols.action.unwrap_or(0), "an action name")?;
                    ids[k as usize]
                }
                _ => view,
            };
            let ev = Event {
                user: KeyId(user_ids[u as usize]),
                session: match (&session, &session_ids) {
                    (Some(s), Some(ids)) => Some(KeyId(
                        ids[need(s, r, cols.session.unwrap_or(0), "a session id")? as usize],
                    )),
                    _ => None,
                },
                time: Timestamp(t),
                item: ProductId(item_ids[it as usize]),
                category: match (&category, &cat_ids) {
                    (Some(c), Some(ids)) => c.id(r).map(|k| CategoryId(ids[k as usize])),
                    _ => None,
                },
                action: ActionId(u32::from(a)),
                quantity: quantity.as_ref().and_then(|q| q[r]),
                price: price.as_ref().and_then(|p| p[r]),
            };
            log.push(&ev);
        }
        row += n as u64;
    }
    Ok(row - row0)
}

/// A string column as per-row indices into its distinct values (first-seen order).
struct StrCol {
    /// Distinct values.
    values: Vec<String>,
    /// Per row: index into `values`, `u32::MAX` for null.
    rows: Vec<u32>,
}

impl StrCol {
    fn id(&self, r: usize) -> Option<u32> {
        let k = self.rows[r];
        (k != u32::MAX).then_some(k)
    }

    /// Interns every distinct value into `v`; returns the vocabulary id of each distinct value.
    fn intern(&self, v: &mut crate::Vocab) -> Vec<u32> {
        self.values
            .iter()
            .map(|s| v.intern(s).unwrap_or(u32::MAX))
            .collect()
    }
}

fn cast(
    a: &ArrayRef,
    to: &DataType,
    c: usize,
    source: &Path,
    row: u64,
) -> Result<ArrayRef, DataError> {
    arrow_cast::cast(a, to).map_err(|e| {
        DataError::parse(
            Location::line(source, row + 1).with_column(c + 1),
            format!("a column convertible to {to}"),
            &format!("{} ({e})", a.data_type()),
        )
    })
}

fn to_strings(a: &ArrayRef, c: usize, source: &Path, row: u64) -> Result<StrCol, DataError> {
    let s = cast(a, &DataType::Utf8, c, source, row)?;
    let s = s.as_string::<i32>();
    let mut index: hashbrown::HashMap<&str, u32> = hashbrown::HashMap::new();
    let mut values = Vec::new();
    let mut rows = Vec::with_capacity(s.len());
    let mut last: Option<(&str, u32)> = None;
    for v in s.iter() {
        let k = match v {
            None => u32::MAX,
            Some(v) => match last {
                Some((l, k)) if l == v => k,
                _ => {
                    let k = *index.entry(v).or_insert_with(|| {
                        values.push(v.to_owned());
                        (values.len() - 1) as u32
                    });
                    last = Some((v, k));
                    k
                }
            },
        };
        rows.push(k);
    }
    Ok(StrCol { values, rows })
}

fn to_f32(a: &ArrayRef, c: usize, source: &Path, row: u64) -> Result<Vec<Option<f32>>, DataError> {
    let f = cast(a, &DataType::Float32, c, source, row)?;
    Ok(f.as_primitive::<Float32Type>().iter().collect())
}

/// The time column in milliseconds since the epoch (`None` for null); `c` (0-based) and `row` (rows
/// before this array) locate errors. Also converts Parquet row-group statistics ([`crate::columnar`]).
pub(crate) fn time_millis(
    a: &ArrayRef,
    c: usize,
    format: &TimeFormat,
    source: &Path,
    row: u64,
) -> Result<Vec<Option<i64>>, DataError> {
    let ms_type = DataType::Timestamp(TimeUnit::Millisecond, None);
    match a.data_type() {
        DataType::Timestamp(_, tz) => {
            let to = DataType::Timestamp(TimeUnit::Millisecond, tz.clone());
            let t = cast(a, &to, c, source, row)?;
            Ok(t.as_primitive::<TimestampMillisecondType>()
                .iter()
                .collect())
        }
        DataType::Date32 | DataType::Date64 => {
            let t = cast(a, &ms_type, c, source, row)?;
            Ok(t.as_primitive::<TimestampMillisecondType>()
                .iter()
                .collect())
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let f = cast(a, &DataType::Float64, c, source, row)?;
            Ok(f.as_primitive::<Float64Type>()
                .iter()
                .map(|v| v.map(|s| (s * 1000.0).round() as i64))
                .collect())
        }
        d if d.is_integer() => {
            let i = cast(a, &DataType::Int64, c, source, row)?;
            let scale = |v: i64| -> Option<i64> {
                match format {
                    TimeFormat::Millis => Some(v),
                    TimeFormat::Secs => v.checked_mul(1000),
                    _ if v.unsigned_abs() >= 1_000_000_000_000 => Some(v),
                    _ => v.checked_mul(1000),
                }
            };
            let i = i.as_primitive::<Int64Type>();
            let mut out = Vec::with_capacity(i.len());
            for (r, v) in i.iter().enumerate() {
                out.push(match v {
                    None => None,
                    Some(v) => Some(scale(v).ok_or_else(|| {
                        DataError::parse(
                            Location::line(source, row + r as u64 + 1).with_column(c + 1),
                            "a time in range",
                            &v.to_string(),
                        )
                    })?),
                });
            }
            Ok(out)
        }
        _ => {
            let s = cast(a, &DataType::Utf8, c, source, row)?;
            let s = s.as_string::<i32>();
            let mut out = Vec::with_capacity(s.len());
            for (r, v) in s.iter().enumerate() {
                out.push(match v {
                    None => None,
                    Some(v) => Some(format.parse(v).ok_or_else(|| {
                        DataError::parse(
                            Location::line(source, row + r as u64 + 1).with_column(c + 1),
                            format.describe(),
                            v,
                        )
                    })?),
                });
            }
            Ok(out)
        }
    }
}

/// Maps action names to ids once per distinct name: canonical spellings (`pv`, `addtocart`, …) to the
/// canonical actions, anything else kept as a custom action, as the `generic` preset does.
#[derive(Default)]
struct ActionCache {
    view: Option<u8>,
}

impl ActionCache {
    fn intern(
        &mut self,
        col: &StrCol,
        actions: &mut crate::Vocab,
        source: &Path,
    ) -> Result<Vec<u8>, DataError> {
        col.values
            .iter()
            .map(|v| {
                let name = canonical_action(v).map_or(v.trim(), |a| a.name());
                if name.is_empty() {
                    return Err(DataError::parse(
                        Location::file(source),
                        "an action name",
                        v,
                    ));
                }
                intern_action(actions, name, source)
            })
            .collect()
    }

    fn view(&mut self, actions: &mut crate::Vocab, source: &Path) -> Result<u8, DataError> {
        if let Some(v) = self.view {
            return Ok(v);
        }
        let v = intern_action(actions, crate::Action::View.name(), source)?;
        self.view = Some(v);
        Ok(v)
    }
}

fn intern_action(actions: &mut crate::Vocab, name: &str, source: &Path) -> Result<u8, DataError> {
    let id = actions.intern(name).unwrap_or(u32::MAX);
    u8::try_from(id).map_err(|_| {
        DataError::parse(
            Location::file(source),
            "at most 255 distinct action names",
            &format!("another action {name:?}"),
        )
    })
}

/// Reads every batch of `batches` into a new event log (see [`append_events`]).
pub fn events_from_batches(
    batches: &[RecordBatch],
    schema: &Arc<Schema>,
    spec: &GenericSpec,
    source: &Path,
    dict: &mut Dictionary,
) -> Result<EventLog, DataError> {
    let cols = resolve_columns(spec, schema, source)?;
    let mut log = EventLog::new();
    let rows = append_events(batches, &cols, &spec.time_format, source, dict, &mut log, 0)?;
    if rows == 0 {
        return Err(DataError::Empty {
            location: Location::file(source),
            what: "no rows".into(),
        });
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray, TimestampSecondArray};
    use arrow_schema::Field;

    fn batch() -> (RecordBatch, Arc<Schema>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("User_Id", DataType::Int64, false),
            Field::new("item", DataType::Utf8, true),
            Field::new("event", DataType::Utf8, false),
            Field::new("ts", DataType::Timestamp(TimeUnit::Second, None), false),
        ]));
        let b = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![7, 7, 8])),
                Arc::new(StringArray::from(vec![Some("a"), Some("b"), Some("a")])),
                Arc::new(StringArray::from(vec!["pv", "addtocart", "shout"])),
                Arc::new(TimestampSecondArray::from(vec![10, 5, 1])),
            ],
        )
        .unwrap();
        (b, schema)
    }

    fn spec() -> GenericSpec {
        GenericSpec {
            columns: EventColumns {
                user: Some(ColumnRef::Name("user id".into())),
                item: Some(ColumnRef::Name("item".into())),
                action: Some(ColumnRef::Index(3)),
                time: Some(ColumnRef::Name("ts".into())),
                ..EventColumns::default()
            },
            ..GenericSpec::default()
        }
    }

    #[test]
    fn columns_map_like_the_generic_preset() {
        let (b, schema) = batch();
        let mut dict = Dictionary::new();
        let log = events_from_batches(&[b], &schema, &spec(), Path::new("t"), &mut dict).unwrap();
        assert_eq!(log.len(), 3);
        assert_eq!(
            log.time,
            vec![Timestamp(10_000), Timestamp(5_000), Timestamp(1_000)]
        );
        let acts: Vec<String> = log
            .action
            .iter()
            .map(|a| dict.actions.name(u32::from(*a)).into_owned())
            .collect();
        assert_eq!(acts, ["view", "cart_add", "shout"]);
        assert_eq!(dict.users.name(log.user[2].0), "8");
        assert_eq!(dict.products.name(log.item[1].0), "b");
    }

    #[test]
    fn null_item_is_a_located_error() {
        let (b, schema) = batch();
        let b = b.with_schema(schema.clone()).unwrap();
        let mut cols: Vec<ArrayRef> = b.columns().to_vec();
        cols[1] = Arc::new(StringArray::from(vec![Some("a"), None, Some("a")]));
        let b = RecordBatch::try_new(schema.clone(), cols).unwrap();
        let mut dict = Dictionary::new();
        let e = events_from_batches(&[b], &schema, &spec(), Path::new("t"), &mut dict)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "t:2:2: expected an item id, found \"null\"");
    }

    #[test]
    fn missing_column_names_the_columns() {
        let (b, schema) = batch();
        let mut s = spec();
        s.columns.item = Some(ColumnRef::Name("sku".into()));
        let e = events_from_batches(&[b], &schema, &s, Path::new("t"), &mut Dictionary::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("a column \"sku\" (for the item column)"), "{e}");
        assert!(e.contains("User_Id,item,event,ts"), "{e}");
    }

    #[test]
    fn required_columns_and_numbers_are_checked() {
        let (b, schema) = batch();
        let first = Some(ColumnRef::Index(1));
        let cases = [
            (
                spec().columns.user,
                None,
                None,
                "an item column is required (a column name or number)",
            ),
            (
                None,
                None,
                spec().columns.item,
                "a user or a session column is required",
            ),
            (None, first.clone(), spec().columns.item, ""),
            (
                first,
                None,
                Some(ColumnRef::Index(5)),
                "item column 5: t has only 4 column(s)",
            ),
        ];
        for (user, session, item, message) in cases {
            let s = GenericSpec {
                columns: EventColumns {
                    user,
                    session,
                    item,
                    ..spec().columns
                },
                ..GenericSpec::default()
            };
            let mut dict = Dictionary::new();
            match events_from_batches(
                std::slice::from_ref(&b),
                &schema,
                &s,
                Path::new("t"),
                &mut dict,
            ) {
                Ok(log) => assert_eq!((log.len(), message), (3, "")),
                Err(e) => assert_eq!(e.to_string(), format!("invalid option: {message}")),
            }
        }
    }
}
