//! Event logs from Parquet and Arrow IPC files (feature `arrow`): the files analysts' logs sit in when
//! they outgrow CSV (Spark, pandas, polars and DuckDB all write them).
//!
//! The format is told by the file's magic bytes (`PAR1` for Parquet, `ARROW1` for an Arrow IPC file,
//! an IPC stream otherwise when the name ends in `.arrows`), never by a preset: a columnar file carries
//! its own types and column names. Columns are chosen as in the `generic` CSV preset ([`GenericSpec`]:
//! `--user-col`, `--item-col`, …, by name or 1-based number); a role left unset is looked up among the
//! usual names ([`fill_defaults`]: `user`/`user_id`/`visitorid`, `item`/`item_id`/`product_id`,
//! `time`/`timestamp`/`ts`, …). Rows are converted by [`crate::arrow::append_events`], the code the
//! Python package uses for DataFrames, so a Parquet file and the same rows as a DataFrame give the same
//! log.
//!
//! Only the chosen columns are decoded (the others stand as null columns, so messages still give the
//! file's column numbers). A time range ([`TimeRange`]) is pushed down to Parquet's row-group statistics:
//! row groups entirely outside it are not read. That is an optimisation only: the caller still filters
//! rows by time (sequence building applies `--from`/`--to`), so the answer is the same as with every row
//! group read; a row group is skipped only when its statistics prove it holds no row in the range.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use arrow_array::{new_null_array, Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use crate::arrow::{append_events, norm, resolve_columns, time_millis};
use crate::error::{DataError, Location};
use crate::presets::{ColumnRef, EventColumns, GenericSpec};
use crate::time::TimeFormat;
use crate::{Dictionary, EventLog};

/// A columnar file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnarFormat {
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC file (Feather v2).
    ArrowFile,
    /// Arrow IPC stream.
    ArrowStream,
}

impl ColumnarFormat {
    /// The format of the file at `path` from its first bytes (`None`: a text file, or not a regular
    /// file: standard input and pipes are read as text).
    pub fn detect(path: &Path) -> Option<ColumnarFormat> {
        if path.as_os_str() == "-" || !path.is_file() {
            return None;
        }
        let mut head = [0u8; 6];
        let n = File::open(path).and_then(|mut f| f.read(&mut head)).ok()?;
        let head = &head[..n];
        if head.starts_with(b"PAR1") {
            Some(ColumnarFormat::Parquet)
        } else if head.starts_with(b"ARROW1") {
            Some(ColumnarFormat::ArrowFile)
        } else if path.extension().is_some_and(|e| e == "arrows") {
            Some(ColumnarFormat::ArrowStream)
        } else {
            None
        }
    }

    /// The format's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            ColumnarFormat::Parquet => "Parquet",
            ColumnarFormat::ArrowFile => "Arrow IPC file",
            ColumnarFormat::ArrowStream => "Arrow IPC stream",
        }
    }
}

/// A half-open time range `[from, to)` in milliseconds since the epoch (either end open).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeRange {
    /// First millisecond kept.
    pub from: Option<i64>,
    /// First millisecond no longer kept.
    pub to: Option<i64>,
}

impl TimeRange {
    /// Whether no row in `[min, max]` can be inside the range.
    fn excludes(&self, min: i64, max: i64) -> bool {
        self.from.is_some_and(|f| max < f) || self.to.is_some_and(|t| min >= t)
    }
}

/// What a columnar read did, for the caller's report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ColumnarRead {
    /// Rows read.
    pub rows: u64,
    /// Parquet row groups in the file.
    pub row_groups: usize,
    /// Row groups skipped by the time range.
    pub row_groups_skipped: usize,
}

/// The usual names of each role, normalised as column names are compared (lower case, no `_ - `).
const DEFAULT_NAMES: [(&str, &[&str]); 6] = [
    (
        "user",
        &[
            "user",
            "userid",
            "visitorid",
            "customerid",
            "visitor",
            "customer",
        ],
    ),
    ("session", &["session", "sessionid"]),
    ("item", &["item", "itemid", "productid", "product", "sku"]),
    ("category", &["category", "categoryid"]),
    (
        "action",
        &[
            "action",
            "event",
            "behavior",
            "behaviour",
            "eventtype",
            "type",
        ],
    ),
    (
        "time",
        &["time", "timestamp", "ts", "eventtime", "datetime", "date"],
    ),
];

/// `spec` with every unset role filled from the schema's usual names (see `DEFAULT_NAMES`); roles the
/// user set are kept as they are.
pub fn fill_defaults(spec: &GenericSpec, schema: &Schema) -> GenericSpec {
    let names: Vec<String> = schema.fields().iter().map(|f| norm(f.name())).collect();
    let find = |role: &str| -> Option<ColumnRef> {
        let (_, cands) = DEFAULT_NAMES.iter().find(|(r, _)| *r == role)?;
        cands.iter().find_map(|c| {
            names
                .iter()
                .position(|n| n == c)
                .map(|i| ColumnRef::Name(schema.field(i).name().clone()))
        })
    };
    let mut s = spec.clone();
    for (role, slot) in s.columns.roles_mut() {
        if slot.is_none() {
            *slot = find(role);
        }
    }
    s
}

/// The file columns `cols` reads, ascending.
fn used(cols: &EventColumns<usize>) -> Vec<usize> {
    let mut v: Vec<usize> = cols
        .roles()
        .into_iter()
        .filter_map(|(_, c)| c.copied())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Widens a batch of the projected columns back to the file's column positions, the other columns
/// standing as (buffer-free) null arrays, so [`EventColumns`] indices and messages keep the file's
/// numbering.
fn widen(
    b: &RecordBatch,
    kept: &[usize],
    full: &Schema,
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let n = b.num_rows();
    let mut fields: Vec<Field> = Vec::with_capacity(full.fields().len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(full.fields().len());
    for (i, f) in full.fields().iter().enumerate() {
        match kept.iter().position(|&k| k == i) {
            Some(j) => {
                fields.push(f.as_ref().clone());
                columns.push(b.column(j).clone());
            }
            None => {
                fields.push(Field::new(f.name(), DataType::Null, true));
                columns.push(new_null_array(&DataType::Null, n));
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

fn arrow_err(path: &Path, what: &str, e: impl std::fmt::Display) -> DataError {
    DataError::parse(Location::file(path), what.to_string(), &e.to_string())
}

/// Reads the events of a Parquet or Arrow IPC file into a new log (see the module doc). `range` prunes
/// Parquet row groups; `progress` receives the compressed bytes of the row groups read so far.
pub fn read_events(
    path: &Path,
    format: ColumnarFormat,
    spec: &GenericSpec,
    range: TimeRange,
    dict: &mut Dictionary,
    progress: &mut dyn FnMut(u64),
) -> Result<(EventLog, ColumnarRead), DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut log = EventLog::new();
    let mut read = ColumnarRead::default();
    match format {
        ColumnarFormat::Parquet => {
            let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| arrow_err(path, "a readable Parquet file", e))?;
            let schema = builder.schema().clone();
            let spec = fill_defaults(spec, &schema);
            let cols = resolve_columns(&spec, &schema, path)?;
            let kept = used(&cols);
            let meta = builder.metadata().clone();
            read.row_groups = meta.num_row_groups();
            let groups = match (cols.time, range != TimeRange::default()) {
                (Some(t), true) => prune(&schema, &meta, t, &spec.time_format, range, path)?,
                _ => (0..read.row_groups).collect(),
            };
            read.row_groups_skipped = read.row_groups - groups.len();
            let mask =
                ProjectionMask::roots(meta.file_metadata().schema_descr(), kept.iter().copied());
            let mut done_bytes = 0u64;
            for g in groups {
                // One row group at a time: memory holds one group's decoded columns, and the progress
                // bar advances by its compressed size.
                let file = File::open(path).map_err(|e| DataError::io(path, e))?;
                let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                    .map_err(|e| arrow_err(path, "a readable Parquet file", e))?
                    .with_projection(mask.clone())
                    .with_row_groups(vec![g])
                    .with_batch_size(65_536)
                    .build()
                    .map_err(|e| arrow_err(path, "a readable Parquet file", e))?;
                for b in reader {
                    let b = b
                        .and_then(|b| widen(&b, &kept, &schema))
                        .map_err(|e| arrow_err(path, "a readable Parquet row group", e))?;
                    append_batch(b, &cols, &spec, path, dict, &mut log, &mut read)?;
                }
                done_bytes += meta.row_group(g).compressed_size().max(0) as u64;
                progress(done_bytes);
            }
        }
        ColumnarFormat::ArrowFile | ColumnarFormat::ArrowStream => {
            let mut input = BufReader::new(file);
            input
                .seek(SeekFrom::Start(0))
                .map_err(|e| DataError::io(path, e))?;
            let batches: Box<dyn Iterator<Item = Result<RecordBatch, arrow_schema::ArrowError>>>;
            let schema: Arc<Schema>;
            if format == ColumnarFormat::ArrowFile {
                let r = arrow_ipc::reader::FileReader::try_new(input, None)
                    .map_err(|e| arrow_err(path, "a readable Arrow IPC file", e))?;
                schema = r.schema();
                batches = Box::new(r);
            } else {
                let r = arrow_ipc::reader::StreamReader::try_new(input, None)
                    .map_err(|e| arrow_err(path, "a readable Arrow IPC stream", e))?;
                schema = r.schema();
                batches = Box::new(r);
            }
            let spec = fill_defaults(spec, &schema);
            let cols = resolve_columns(&spec, &schema, path)?;
            for b in batches {
                let b = b.map_err(|e| arrow_err(path, "a readable Arrow record batch", e))?;
                append_batch(b, &cols, &spec, path, dict, &mut log, &mut read)?;
            }
        }
    }
    if read.rows == 0 && read.row_groups_skipped == 0 {
        return Err(DataError::Empty {
            location: Location::file(path),
            what: "no rows".into(),
        });
    }
    Ok((log, read))
}

/// Appends the events of one decoded batch to `log` and counts its rows in `read` (row numbers in
/// messages continue from the rows before it).
fn append_batch(
    b: RecordBatch,
    cols: &EventColumns<usize>,
    spec: &GenericSpec,
    path: &Path,
    dict: &mut Dictionary,
    log: &mut EventLog,
    read: &mut ColumnarRead,
) -> Result<(), DataError> {
    read.rows += append_events(&[b], cols, &spec.time_format, path, dict, log, read.rows)?;
    Ok(())
}

/// The row groups whose time statistics may hold a row in `range` (every group whose statistics are
/// missing, or whose conversion to milliseconds is not monotonic, is kept).
fn prune(
    schema: &Schema,
    meta: &parquet::file::metadata::ParquetMetaData,
    time_col: usize,
    format: &TimeFormat,
    range: TimeRange,
    path: &Path,
) -> Result<Vec<usize>, DataError> {
    let all: Vec<usize> = (0..meta.num_row_groups()).collect();
    let field = schema.field(time_col);
    // Exact for timestamps and dates; integers only with a fixed unit, or when a group's min and max
    // fall on the same side of the seconds/milliseconds switch of `--time-format auto`.
    let ty = field.data_type();
    let temporal = matches!(
        ty,
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64
    );
    if !temporal && !ty.is_integer() {
        return Ok(all);
    }
    let Ok(conv) =
        StatisticsConverter::try_new(field.name(), schema, meta.file_metadata().schema_descr())
    else {
        return Ok(all);
    };
    let (Ok(mins), Ok(maxs)) = (
        conv.row_group_mins(meta.row_groups().iter()),
        conv.row_group_maxes(meta.row_groups().iter()),
    ) else {
        return Ok(all);
    };
    let to_ms = |a: &ArrayRef| time_millis(a, time_col, format, path, 0);
    let (min_ms, max_ms) = (to_ms(&mins)?, to_ms(&maxs)?);
    let raw = |a: &ArrayRef| -> Option<Vec<Option<i64>>> {
        let i = arrow_cast::cast(a, &DataType::Int64).ok()?;
        let i = i.as_any().downcast_ref::<arrow_array::Int64Array>()?;
        Some(i.iter().collect())
    };
    let auto_int = !temporal && matches!(format, TimeFormat::Auto);
    let (raw_min, raw_max) = if auto_int {
        (raw(&mins), raw(&maxs))
    } else {
        (None, None)
    };
    let same_unit = |g: usize| -> bool {
        if !auto_int {
            return true;
        }
        let big = |v: i64| v.unsigned_abs() >= 1_000_000_000_000;
        match (&raw_min, &raw_max) {
            (Some(lo), Some(hi)) => {
                matches!((lo[g], hi[g]), (Some(a), Some(b)) if big(a) == big(b))
            }
            _ => false,
        }
    };
    Ok(all
        .into_iter()
        .filter(|&g| match (min_ms[g], max_ms[g]) {
            (Some(lo), Some(hi)) if lo <= hi && same_unit(g) => !range.excludes(lo, hi),
            _ => true,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray, TimestampMillisecondArray};
    use arrow_schema::TimeUnit;
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;

    fn write_parquet(path: &Path, groups: &[(Vec<i64>, Vec<&str>, Vec<i64>)]) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("user_id", DataType::Int64, false),
            Field::new("note", DataType::Utf8, true),
            Field::new("item", DataType::Utf8, false),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Millisecond, None),
                false,
            ),
        ]));
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(1 << 20))
            .build();
        let mut w =
            ArrowWriter::try_new(File::create(path).unwrap(), schema.clone(), Some(props)).unwrap();
        for (users, items, ts) in groups {
            let b = RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(users.clone())),
                    Arc::new(StringArray::from(vec![Some("x"); users.len()])),
                    Arc::new(StringArray::from(items.clone())),
                    Arc::new(TimestampMillisecondArray::from(ts.clone())),
                ],
            )
            .unwrap();
            w.write(&b).unwrap();
            w.flush().unwrap(); // one row group per batch
        }
        w.close().unwrap();
    }

    #[test]
    fn parquet_reads_by_usual_names_and_prunes_row_groups_by_time() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log.parquet");
        write_parquet(
            &p,
            &[
                (vec![1, 1], vec!["a", "b"], vec![1_000, 2_000]),
                (vec![2, 2], vec!["b", "c"], vec![10_000, 11_000]),
                (vec![3], vec!["c"], vec![20_000]),
            ],
        );
        assert_eq!(ColumnarFormat::detect(&p), Some(ColumnarFormat::Parquet));
        let read = |range: TimeRange| {
            let mut dict = Dictionary::new();
            read_events(
                &p,
                ColumnarFormat::Parquet,
                &GenericSpec::default(),
                range,
                &mut dict,
                &mut |_| {},
            )
            .unwrap()
        };
        let (log, r) = read(TimeRange::default());
        assert_eq!(
            (log.len(), r.rows, r.row_groups, r.row_groups_skipped),
            (5, 5, 3, 0)
        );
        // [9 s, 12 s): only the middle group can hold rows.
        let (log, r) = read(TimeRange {
            from: Some(9_000),
            to: Some(12_000),
        });
        assert_eq!((log.len(), r.row_groups_skipped), (2, 2));
        // A range that touches a group's last millisecond keeps it.
        let (_, r) = read(TimeRange {
            from: Some(2_000),
            to: Some(10_001),
        });
        assert_eq!(r.row_groups_skipped, 1);
    }

    #[test]
    fn a_missing_column_is_a_located_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log.parquet");
        write_parquet(&p, &[(vec![1], vec!["a"], vec![1])]);
        let spec = GenericSpec {
            columns: EventColumns {
                item: Some(ColumnRef::Name("sku_code".into())),
                ..EventColumns::default()
            },
            ..GenericSpec::default()
        };
        let e = read_events(
            &p,
            ColumnarFormat::Parquet,
            &spec,
            TimeRange::default(),
            &mut Dictionary::new(),
            &mut |_| {},
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("sku_code") && e.contains("log.parquet"), "{e}");
    }

    #[test]
    fn a_truncated_parquet_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log.parquet");
        write_parquet(&p, &[(vec![1, 2], vec!["a", "b"], vec![1, 2])]);
        let bytes = std::fs::read(&p).unwrap();
        for cut in [4, bytes.len() / 2, bytes.len() - 3] {
            std::fs::write(&p, &bytes[..cut]).unwrap();
            let r = read_events(
                &p,
                ColumnarFormat::Parquet,
                &GenericSpec::default(),
                TimeRange::default(),
                &mut Dictionary::new(),
                &mut |_| {},
            );
            assert!(r.is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn arrow_ipc_file_and_stream_read_like_parquet() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("visitorid", DataType::Int64, false),
            Field::new("itemid", DataType::Int64, false),
        ]));
        let b = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![5, 5, 6])),
                Arc::new(Int64Array::from(vec![7, 8, 7])),
            ],
        )
        .unwrap();
        let f = dir.path().join("log.arrow");
        let mut w =
            arrow_ipc::writer::FileWriter::try_new(File::create(&f).unwrap(), &schema).unwrap();
        w.write(&b).unwrap();
        w.finish().unwrap();
        let s = dir.path().join("log.arrows");
        let mut w =
            arrow_ipc::writer::StreamWriter::try_new(File::create(&s).unwrap(), &schema).unwrap();
        w.write(&b).unwrap();
        w.finish().unwrap();
        for (p, fmt) in [
            (&f, ColumnarFormat::ArrowFile),
            (&s, ColumnarFormat::ArrowStream),
        ] {
            assert_eq!(ColumnarFormat::detect(p), Some(fmt));
            let mut dict = Dictionary::new();
            let (log, r) = read_events(
                p,
                fmt,
                &GenericSpec::default(),
                TimeRange::default(),
                &mut dict,
                &mut |_| {},
            )
            .unwrap();
            assert_eq!((log.len(), r.rows), (3, 3));
            assert_eq!(dict.users.len(), 2);
        }
    }
}
