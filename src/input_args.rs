//! The input options every subcommand shares (`#[command(flatten)] input: InputArgs`): the input path, its
//! preset (format), generic column choice, the bad-row policy and the sequence-building options, plus
//! [`InputArgs::load_sequences`] / [`InputArgs::load_events`], which read the input with a progress bar
//! (stderr, only when it is a terminal) and print the skip report.
//!
//! ```text
//! cartseq stats data/samples/taobao_sample.csv --preset taobao --token action:item --session-gap 1h
//! ```

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use cartseq_data::input::{open_input, LineReader};
use cartseq_data::{load::read_sequences_from, presets::read_events_from};
use cartseq_data::time::{parse_date, parse_duration, TimeFormat};
use cartseq_data::{
    ColumnRef, Dictionary, EventLog, GenericSpec, GroupBy, ItemsetMode, OnError, Preset,
    PresetConfig, SequenceDb, SequenceOptions, SkipReport, Timestamp, Token,
};
use clap::builder::TypedValueParser;

/// A loaded input: the sequence database, the dictionary naming its tokens, the skipped rows.
#[derive(Debug)]
pub struct Loaded {
    /// The sequences.
    pub db: SequenceDb,
    /// Names of tokens, items, users, actions.
    pub dict: Dictionary,
    /// Rows skipped under `--on-error skip`.
    pub skipped: SkipReport,
    /// The input path as given.
    pub path: PathBuf,
}

fn parse_preset(s: &str) -> Result<Preset, String> {
    s.parse()
}

fn parse_on_error(s: &str) -> Result<OnError, String> {
    match s {
        "fail" => Ok(OnError::Fail),
        "skip" => Ok(OnError::Skip),
        _ => Err(format!("fail or skip, found {s:?}")),
    }
}

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
    #[arg(long, short = 'p', value_parser = parse_preset, help_heading = "Input")]
    pub preset: Option<Preset>,

    /// Bad rows: `fail` stops at the first with a located error; `skip` skips them and reports how
    /// many per reason.
    #[arg(long, value_parser = parse_on_error, default_value = "fail", value_name = "fail|skip", help_heading = "Input")]
    pub on_error: OnError,

    /// Generic preset: user column (header name or 1-based number).
    #[arg(long, value_name = "COL", help_heading = "Generic columns")]
    pub user_col: Option<ColumnRef>,
    /// Generic preset: session column.
    #[arg(long, value_name = "COL", help_heading = "Generic columns")]
    pub session_col: Option<ColumnRef>,
    /// Generic preset: item column (required for generic).
    #[arg(long, value_name = "COL", help_heading = "Generic columns")]
    pub item_col: Option<ColumnRef>,
    /// Generic preset: category column.
    #[arg(long, value_name = "COL", help_heading = "Generic columns")]
    pub category_col: Option<ColumnRef>,
    /// Generic preset: action column (absent: every event is a view).
    #[arg(long, value_name = "COL", help_heading = "Generic columns")]
    pub action_col: Option<ColumnRef>,
    /// Generic preset: time column (absent: line order).
    #[arg(long, value_name = "COL", help_heading = "Generic columns")]
    pub time_col: Option<ColumnRef>,
    /// Generic preset: quantity column.
    #[arg(long, value_name = "COL", help_heading = "Generic columns")]
    pub quantity_col: Option<ColumnRef>,
    /// Generic preset: unit price column.
    #[arg(long, value_name = "COL", help_heading = "Generic columns")]
    pub price_col: Option<ColumnRef>,
    /// Generic preset: field delimiter (a character, or tab/comma/semicolon/pipe).
    #[arg(long, value_parser = parse_delimiter, default_value = ",", value_name = "CHAR", help_heading = "Generic columns")]
    pub delimiter: u8,
    /// Generic preset: the first line is data, not a header.
    #[arg(long, help_heading = "Generic columns")]
    pub no_header: bool,
    /// Generic preset: time format: auto, secs, ms, iso, or a pattern such as "%m/%d/%Y %H:%M".
    #[arg(
        long,
        default_value = "auto",
        value_name = "FMT",
        help_heading = "Generic columns"
    )]
    pub time_format: TimeFormat,

    /// What one sequence collects: all events of a `user`, or of a `session` given by the log.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(GroupBy::NAMES).try_map(|s| s.parse::<GroupBy>()), default_value = "user", help_heading = "Sequences")]
    pub by: GroupBy,
    /// Start a new sequence after this much inactivity (e.g. 30m, 1h, 1d).
    #[arg(long, value_parser = parse_gap, value_name = "DURATION", help_heading = "Sequences")]
    pub session_gap: Option<i64>,
    /// Itemsets: `same-time` groups events with the same timestamp; `single` makes one per event.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(ItemsetMode::NAMES).try_map(|s| s.parse::<ItemsetMode>()), default_value = "same-time", help_heading = "Sequences")]
    pub itemset: ItemsetMode,
    /// The symbol an event becomes: item, category, action, action:item, action:category.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(Token::NAMES).try_map(|s| s.parse::<Token>()), default_value = "item", help_heading = "Sequences")]
    pub token: Token,
    /// Keep only these actions (comma-separated, e.g. view,cart_add,buy).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "A,B,..",
        help_heading = "Sequences"
    )]
    pub actions: Option<Vec<String>>,
    /// Drop sequences with fewer itemsets than this.
    #[arg(
        long,
        default_value_t = 1,
        value_name = "N",
        help_heading = "Sequences"
    )]
    pub min_len: usize,
    /// Keep only the most recent N itemsets of a longer sequence.
    #[arg(long, value_name = "N", help_heading = "Sequences")]
    pub max_len: Option<usize>,
    /// Drop tokens with fewer than N events (before building sequences).
    #[arg(
        long,
        default_value_t = 0,
        value_name = "N",
        help_heading = "Sequences"
    )]
    pub min_item_count: u64,
    /// Keep events at or after this date (2017-11-30, 2017-11-30T12:00:00, UTC).
    #[arg(long, value_parser = parse_ts, value_name = "DATE", help_heading = "Sequences")]
    pub from: Option<Timestamp>,
    /// Keep events before this date.
    #[arg(long, value_parser = parse_ts, value_name = "DATE", help_heading = "Sequences")]
    pub to: Option<Timestamp>,
    /// Drop an event whose token repeats the previous one (view a, view a → view a).
    #[arg(long, help_heading = "Sequences")]
    pub drop_repeats: bool,
}

impl InputArgs {
    /// Input arguments for `path` with every option at its default (for tests and programmatic use).
    pub fn for_path(path: impl Into<PathBuf>, preset: Option<Preset>) -> Self {
        InputArgs {
            input: path.into(),
            preset,
            on_error: OnError::Fail,
            user_col: None,
            session_col: None,
            item_col: None,
            category_col: None,
            action_col: None,
            time_col: None,
            quantity_col: None,
            price_col: None,
            delimiter: b',',
            no_header: false,
            time_format: TimeFormat::Auto,
            by: GroupBy::User,
            session_gap: None,
            itemset: ItemsetMode::SameTime,
            token: Token::Item,
            actions: None,
            min_len: 1,
            max_len: None,
            min_item_count: 0,
            from: None,
            to: None,
            drop_repeats: false,
        }
    }

    fn any_generic_column(&self) -> bool {
        [
            &self.user_col,
            &self.session_col,
            &self.item_col,
            &self.category_col,
            &self.action_col,
            &self.time_col,
            &self.quantity_col,
            &self.price_col,
        ]
        .iter()
        .any(|c| c.is_some())
    }

    /// The preset: as given, generic when a column option is given, SPMF when the file's first
    /// non-blank line ends in `-2`.
    pub fn resolved_preset(&self) -> anyhow::Result<Preset> {
        if let Some(p) = self.preset {
            if p != Preset::Generic && self.any_generic_column() {
                bail!("--*-col options choose columns for --preset generic; preset {p} has fixed columns");
            }
            return Ok(p);
        }
        if self.any_generic_column() {
            return Ok(Preset::Generic);
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

    /// The reader configuration.
    pub fn preset_config(&self) -> anyhow::Result<PresetConfig> {
        let preset = self.resolved_preset()?;
        let mut cfg = PresetConfig::new(preset);
        cfg.generic = GenericSpec {
            user: self.user_col.clone(),
            session: self.session_col.clone(),
            item: self.item_col.clone(),
            category: self.category_col.clone(),
            action: self.action_col.clone(),
            time: self.time_col.clone(),
            quantity: self.quantity_col.clone(),
            price: self.price_col.clone(),
            delimiter: self.delimiter,
            header: !self.no_header,
            time_format: self.time_format.clone(),
        };
        Ok(cfg)
    }

    /// The validated sequence options.
    pub fn sequence_options(&self) -> anyhow::Result<SequenceOptions> {
        Ok(SequenceOptions::builder()
            .by(self.by)
            .session_gap(self.session_gap)
            .itemset(self.itemset)
            .token(self.token)
            .actions(self.actions.clone())
            .min_len(self.min_len)
            .max_len(self.max_len)
            .min_item_count(self.min_item_count)
            .from(self.from)
            .to(self.to)
            .drop_repeats(self.drop_repeats)
            .build()?)
    }

    /// Reads the input into a sequence database. For SPMF input with a `.dict.json` beside it (written
    /// by `convert`), that dictionary names the tokens.
    pub fn load_sequences(&self, quiet: bool) -> anyhow::Result<Loaded> {
        Ok(self.load(quiet, false)?.1)
    }

    /// Reads the input as an event log (event presets only).
    pub fn load_events(&self, quiet: bool) -> anyhow::Result<(EventLog, Dictionary, SkipReport)> {
        let cfg = self.preset_config()?;
        if cfg.preset.yields_sequences() {
            bail!(
                "preset {} holds sequences, not events; this command needs an event log (e.g. --preset taobao)",
                cfg.preset
            );
        }
        let mut dict = Dictionary::new();
        let mut lines = self.open_lines(&cfg)?;
        let bar = Progress::new(&self.input, quiet);
        let (log, skipped) =
            read_events_from(&mut lines, &cfg, self.on_error, &mut dict, &mut |b| {
                bar.set(b)
            })?;
        bar.finish();
        report_skipped(&self.input, &skipped, quiet);
        Ok((log, dict, skipped))
    }

    /// Reads the input into both the event log (`None` for SPMF/basket input) and the sequences, reading
    /// the file once.
    pub fn load_all(&self, quiet: bool) -> anyhow::Result<(Option<EventLog>, Loaded)> {
        self.load(quiet, true)
    }

    fn open_lines(
        &self,
        cfg: &PresetConfig,
    ) -> anyhow::Result<LineReader<Box<dyn std::io::BufRead + Send>>> {
        let input = open_input(&self.input)?;
        Ok(LineReader::from_input(input).with_max_line(cfg.max_line))
    }

    fn load(&self, quiet: bool, want_events: bool) -> anyhow::Result<(Option<EventLog>, Loaded)> {
        let cfg = self.preset_config()?;
        let opts = self.sequence_options()?;
        let mut dict = Dictionary::new();
        let mut lines = self.open_lines(&cfg)?;
        let bar = Progress::new(&self.input, quiet);
        let mut progress = |b: u64| bar.set(b);
        let (events, db, skipped) = if want_events && !cfg.preset.yields_sequences() {
            let (log, skipped) =
                read_events_from(&mut lines, &cfg, self.on_error, &mut dict, &mut progress)?;
            let db = cartseq_data::build_sequences(&log, &mut dict, &opts)?;
            (Some(log), db, skipped)
        } else {
            let (db, skipped) = read_sequences_from(
                &mut lines,
                &cfg,
                self.on_error,
                &mut dict,
                &opts,
                &mut progress,
            )?;
            (None, db, skipped)
        };
        bar.finish();
        if cfg.preset == Preset::Spmf && self.input.as_os_str() != "-" {
            if let Some(d) = Dictionary::load_beside(&self.input)? {
                dict = d;
            }
        }
        report_skipped(&self.input, &skipped, quiet);
        Ok((
            events,
            Loaded {
                db,
                dict,
                skipped,
                path: self.input.clone(),
            },
        ))
    }
}

/// Whether the first non-blank, non-comment line of a regular file ends in `-2` (SPMF).
fn sniff_spmf(path: &Path) -> bool {
    if path.as_os_str() == "-" {
        return false;
    }
    let Ok(input) = open_input(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(64 << 10);
    if input.reader.take(64 << 10).read_to_end(&mut head).is_err() {
        return false;
    }
    String::from_utf8_lossy(&head)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(['#', '%', '@']))
        .is_some_and(|l| l.ends_with("-2"))
}

fn report_skipped(path: &Path, skipped: &SkipReport, quiet: bool) {
    if !quiet && skipped.total() > 0 {
        eprintln!("{}: {skipped}", path.display());
    }
}

/// A byte-count progress bar on stderr, drawn only when stderr is a terminal and not `--quiet`.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(path: &Path, quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let len = std::fs::metadata(path).ok().map(|m| m.len());
        let gz = path.extension().is_some_and(|e| e == "gz");
        let bar = match len {
            Some(n) if !gz => indicatif::ProgressBar::new(n).with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} reading {msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            ),
            _ => indicatif::ProgressBar::new_spinner().with_style(
                indicatif::ProgressStyle::with_template("{spinner} reading {msg} {bytes} ({bytes_per_sec})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            ),
        };
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(8));
        bar.set_message(path.display().to_string());
        Progress { bar: Some(bar) }
    }

    fn set(&self, bytes: u64) {
        if let Some(b) = &self.bar {
            b.set_position(bytes);
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Reads a whole input as `load_sequences` would, for tests: `-` is not allowed.
pub fn load_path(path: &Path, preset: Preset) -> anyhow::Result<Loaded> {
    InputArgs::for_path(path, Some(preset))
        .load_sequences(true)
        .with_context(|| format!("loading {}", path.display()))
}
