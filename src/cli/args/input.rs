//! The input flags every subcommand that reads a log shares (`#[command(flatten)] input: InputArgs`):
//! the input path, its preset (format), generic column choice, the bad-row policy and the
//! sequence-building options. [`InputArgs::spec`] turns them into the library's [`InputSpec`].
//!
//! ```text
//! cartseq stats data/samples/taobao_sample.csv --preset taobao --token action:item --session-gap 1h
//! ```

use super::heading;
use super::named;
use std::path::PathBuf;

use anyhow::bail;
use cartseq::input::{sniff_spmf, InputSpec, Loaded};
use cartseq::manifest::Manifest;
use cartseq_data::columnar::ColumnarFormat;
use cartseq_data::sessions::SequenceOptionsBuilder;
use cartseq_data::time::{parse_date, parse_duration, TimeFormat};
use cartseq_data::{
    ColumnRef, DataError, EventColumns, GenericSpec, GroupBy, ItemsetMode, OnError, Preset,
    PresetConfig, SequenceOptions, Timestamp, Token,
};

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        "comma" => Ok(b','),
        "semicolon" => Ok(b';'),
        "pipe" => Ok(b'|'),
        _ if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(format!(
            "a one-character ASCII delimiter (or tab, comma, semicolon, pipe), found {s:?}"
        )),
    }
}

fn parse_gap(s: &str) -> Result<i64, String> {
    parse_duration(s)
}

fn parse_ts(s: &str) -> Result<Timestamp, String> {
    parse_date(s)
}

/// Input and sequence options shared by every subcommand that reads a log.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// Input file (`-` for stdin; gzip is detected and decoded).
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,

    /// Input format: taobao, yoochoose, diginetica, online-retail, tianchi-mobile, retailrocket,
    /// generic, spmf, basket. Default: spmf when the first line ends in -2, generic when a --*-col
    /// option is given.
    #[arg(long, short = 'p', value_parser = named::<Preset>(), help_heading = heading::INPUT)]
    pub preset: Option<Preset>,

    /// Bad rows: `fail` stops at the first with a located error; `skip` skips them and reports how
    /// many per reason.
    #[arg(long, value_parser = named::<OnError>(), default_value = "fail", value_name = "fail|skip", help_heading = heading::INPUT)]
    pub on_error: OnError,

    /// Generic preset: user column (header name or 1-based number).
    #[arg(long, value_name = "COL", help_heading = heading::GENERIC_COLUMNS)]
    pub user_col: Option<ColumnRef>,
    /// Generic preset: session column.
    #[arg(long, value_name = "COL", help_heading = heading::GENERIC_COLUMNS)]
    pub session_col: Option<ColumnRef>,
    /// Generic preset: item column (required for generic).
    #[arg(long, value_name = "COL", help_heading = heading::GENERIC_COLUMNS)]
    pub item_col: Option<ColumnRef>,
    /// Generic preset: category column.
    #[arg(long, value_name = "COL", help_heading = heading::GENERIC_COLUMNS)]
    pub category_col: Option<ColumnRef>,
    /// Generic preset: action column (absent: every event is a view).
    #[arg(long, value_name = "COL", help_heading = heading::GENERIC_COLUMNS)]
    pub action_col: Option<ColumnRef>,
    /// Generic preset: time column (absent: line order).
    #[arg(long, value_name = "COL", help_heading = heading::GENERIC_COLUMNS)]
    pub time_col: Option<ColumnRef>,
    /// Generic preset: quantity column.
    #[arg(long, value_name = "COL", help_heading = heading::GENERIC_COLUMNS)]
    pub quantity_col: Option<ColumnRef>,
    /// Generic preset: unit price column.
    #[arg(long, value_name = "COL", help_heading = heading::GENERIC_COLUMNS)]
    pub price_col: Option<ColumnRef>,
    /// Generic preset: field delimiter (a character, or tab/comma/semicolon/pipe).
    #[arg(long, value_parser = parse_delimiter, default_value = ",", value_name = "CHAR", help_heading = heading::GENERIC_COLUMNS)]
    pub delimiter: u8,
    /// Generic preset: the first line is data, not a header.
    #[arg(long, help_heading = heading::GENERIC_COLUMNS)]
    pub no_header: bool,
    /// Generic preset: time format: auto, secs, ms, iso, or a pattern such as "%m/%d/%Y %H:%M".
    #[arg(long, default_value = "auto", value_name = "FMT", help_heading = heading::GENERIC_COLUMNS)]
    pub time_format: TimeFormat,

    /// What one sequence collects: all events of a `user`, or of a `session` given by the log.
    #[arg(long, value_parser = named::<GroupBy>(), default_value = "user", help_heading = heading::SEQUENCES)]
    pub by: GroupBy,
    /// Start a new sequence after this much inactivity (e.g. 30m, 1h, 1d).
    #[arg(long, value_parser = parse_gap, value_name = "DURATION", help_heading = heading::SEQUENCES)]
    pub session_gap: Option<i64>,
    /// Itemsets: `same-time` groups events with the same timestamp; `single` makes one per event.
    #[arg(long, value_parser = named::<ItemsetMode>(), default_value = "same-time", help_heading = heading::SEQUENCES)]
    pub itemset: ItemsetMode,
    /// The symbol an event becomes: item, category, action, action:item, action:category.
    #[arg(long, value_parser = named::<Token>(), default_value = "item", help_heading = heading::SEQUENCES)]
    pub token: Token,
    /// Keep only these actions (comma-separated, e.g. view,cart_add,buy).
    #[arg(long, value_delimiter = ',', value_name = "A,B,..", help_heading = heading::SEQUENCES)]
    pub actions: Option<Vec<String>>,
    /// Drop sequences with fewer itemsets than this.
    #[arg(long, default_value_t = 1, value_name = "N", help_heading = heading::SEQUENCES)]
    pub min_len: usize,
    /// Keep only the most recent N itemsets of a longer sequence.
    #[arg(long, value_name = "N", help_heading = heading::SEQUENCES)]
    pub max_len: Option<usize>,
    /// Drop tokens with fewer than N events (before building sequences).
    #[arg(long, default_value_t = 0, value_name = "N", help_heading = heading::SEQUENCES)]
    pub min_item_count: u64,
    /// Keep events at or after this date (2017-11-30, 2017-11-30T12:00:00, UTC).
    #[arg(long, value_parser = parse_ts, value_name = "DATE", help_heading = heading::SEQUENCES)]
    pub from: Option<Timestamp>,
    /// Keep events before this date.
    #[arg(long, value_parser = parse_ts, value_name = "DATE", help_heading = heading::SEQUENCES)]
    pub to: Option<Timestamp>,
    /// Drop an event whose token repeats the previous one (view a, view a → view a).
    #[arg(long, help_heading = heading::SEQUENCES)]
    pub drop_repeats: bool,
}

impl InputArgs {
    /// The `--*-col` options as the library's column mapping.
    fn columns(&self) -> EventColumns<ColumnRef> {
        EventColumns {
            user: self.user_col.clone(),
            session: self.session_col.clone(),
            item: self.item_col.clone(),
            category: self.category_col.clone(),
            action: self.action_col.clone(),
            time: self.time_col.clone(),
            quantity: self.quantity_col.clone(),
            price: self.price_col.clone(),
        }
    }

    fn any_generic_column(&self) -> bool {
        !self.columns().is_empty()
    }

    /// The preset: as given, generic when a column option is given or the file is Parquet/Arrow, SPMF
    /// when the file's first non-blank line ends in `-2`.
    fn resolved_preset(&self) -> anyhow::Result<Preset> {
        if ColumnarFormat::detect(&self.input).is_some() {
            // A Parquet/Arrow file names and types its columns: the --*-col options (or the usual
            // names) choose them whatever the preset, which then only says how rows are keyed.
            return Ok(self.preset.unwrap_or(Preset::Generic));
        }
        if let Some(p) = self.preset {
            if p != Preset::Generic && self.any_generic_column() {
                bail!("--*-col options choose columns for --preset generic; preset {p} has fixed columns");
            }
            return Ok(p);
        }
        if self.any_generic_column() {
            return Ok(Preset::Generic);
        }
        if self.input.as_os_str() != "-" {
            // A missing file is reported as such, not as a missing --preset.
            std::fs::File::open(&self.input).map_err(|e| DataError::io(&self.input, e))?;
        }
        if sniff_spmf(&self.input) {
            return Ok(Preset::Spmf);
        }
        bail!(
            "{}: say which format it is with --preset ({})",
            self.input.display(),
            Preset::NAMES.join(", ")
        )
    }

    /// The library's input description (the preset resolved, sequence options checked when used).
    pub fn spec(&self) -> anyhow::Result<InputSpec> {
        let mut config = PresetConfig::new(self.resolved_preset()?);
        config.generic = GenericSpec {
            columns: self.columns(),
            delimiter: self.delimiter,
            header: !self.no_header,
            time_format: self.time_format.clone(),
        };
        Ok(InputSpec {
            path: self.input.clone(),
            config,
            on_error: self.on_error,
            sequences: SequenceOptionsBuilder {
                by: self.by,
                session_gap: self.session_gap,
                itemset: self.itemset,
                token: self.token,
                actions: self.actions.clone(),
                min_len: self.min_len,
                max_len: self.max_len,
                min_item_count: self.min_item_count,
                from: self.from,
                to: self.to,
                drop_repeats: self.drop_repeats,
                ..SequenceOptions::builder()
            },
        })
    }

    /// The manifest of `command` once it has read `loaded` from this input: the input file (hashed),
    /// its preset and token, and the rows skipped under `--on-error skip`. The command adds its own
    /// parameters and counts.
    pub fn manifest(&self, command: &str, loaded: &Loaded) -> anyhow::Result<Manifest> {
        let mut m = Manifest::new(command);
        m.param("preset", self.spec()?.preset().to_string())
            .param("token", self.token.name())
            .count("skipped_rows", loaded.skipped.total());
        m.input(&loaded.path)?;
        Ok(m)
    }
}
