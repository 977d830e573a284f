//! Reading an input with the options every subcommand shares: the input path, its resolved format
//! ([`PresetConfig`]), the bad-row policy and the sequence-building options. [`InputSpec::load_sequences`],
//! [`InputSpec::load_events`] and [`InputSpec::load_all`] read it with a progress bar (stderr, only when it
//! is a terminal) and print the skip report. The command line builds an [`InputSpec`] from its flags
//! (`cli::args::input`); programs build one with [`InputSpec::new`].

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use cartseq_data::columnar::{self, ColumnarFormat, TimeRange};
use cartseq_data::input::{open_input, LineReader};
use cartseq_data::sessions::SequenceOptionsBuilder;
use cartseq_data::{load::read_sequences_from, presets::read_events_from};
use cartseq_data::{
    Dictionary, EventLog, OnError, Preset, PresetConfig, SequenceDb, SequenceOptions, SkipReport,
};

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

/// A resolved input: where to read, in which format, what to do with bad rows and how to build sequences.
#[derive(Clone, Debug)]
pub struct InputSpec {
    /// Input file (`-` for stdin; gzip is detected and decoded).
    pub path: PathBuf,
    /// The format and, for `generic`, the column choice.
    pub config: PresetConfig,
    /// Bad rows: fail at the first, or skip and count them.
    pub on_error: OnError,
    /// Sequence-building options, validated when sequences are built.
    pub sequences: SequenceOptionsBuilder,
}

impl InputSpec {
    /// `path` in `preset` with every option at its default (for tests and programmatic use).
    pub fn new(path: impl Into<PathBuf>, preset: Preset) -> Self {
        InputSpec {
            path: path.into(),
            config: PresetConfig::new(preset),
            on_error: OnError::Fail,
            sequences: SequenceOptions::builder(),
        }
    }

    /// The format.
    pub fn preset(&self) -> Preset {
        self.config.preset
    }

    /// The row-id column of task tables: `session_id` for session-keyed logs, else `user_id`.
    pub fn id_column(&self) -> &'static str {
        match self.config.preset {
            Preset::Yoochoose | Preset::Diginetica => "session_id",
            _ => "user_id",
        }
    }

    /// The validated sequence options.
    pub fn sequence_options(&self) -> anyhow::Result<SequenceOptions> {
        Ok(self.sequences.clone().build()?)
    }

    /// Reads the input into a sequence database. For SPMF input with a `.dict.json` beside it (written
    /// by `convert`), that dictionary names the tokens.
    pub fn load_sequences(&self, quiet: bool) -> anyhow::Result<Loaded> {
        Ok(self.load(quiet, false)?.1)
    }

    /// Reads the input as an event log (event presets only).
    pub fn load_events(&self, quiet: bool) -> anyhow::Result<(EventLog, Dictionary, SkipReport)> {
        let cfg = &self.config;
        if cfg.preset.yields_sequences() {
            bail!(
                "preset {} holds sequences, not events; this command needs an event log (e.g. --preset taobao)",
                cfg.preset
            );
        }
        let mut dict = Dictionary::new();
        if let Some(format) = ColumnarFormat::detect(&self.path) {
            let log = self.read_columnar(format, TimeRange::default(), &mut dict, quiet)?;
            return Ok((log, dict, SkipReport::default()));
        }
        let mut lines = self.open_lines()?;
        let bar = crate::progress::ByteBar::new(&self.path, quiet);
        let (log, skipped) =
            read_events_from(&mut lines, cfg, self.on_error, &mut dict, &mut |b| {
                bar.set(b)
            })?;
        bar.finish();
        report_skipped(&self.path, &skipped, quiet);
        Ok((log, dict, skipped))
    }

    /// Reads the input into both the event log (`None` for SPMF/basket input) and the sequences, reading
    /// the file once.
    pub fn load_all(&self, quiet: bool) -> anyhow::Result<(Option<EventLog>, Loaded)> {
        self.load(quiet, true)
    }

    fn open_lines(&self) -> anyhow::Result<LineReader<Box<dyn std::io::BufRead + Send>>> {
        let input = open_input(&self.path)?;
        Ok(LineReader::from_input(input).with_max_line(self.config.max_line))
    }

    /// Reads a Parquet or Arrow IPC event log; `range` prunes Parquet row groups (only where the caller
    /// filters rows by the same range afterwards).
    fn read_columnar(
        &self,
        format: ColumnarFormat,
        range: TimeRange,
        dict: &mut Dictionary,
        quiet: bool,
    ) -> anyhow::Result<EventLog> {
        let bar = crate::progress::ByteBar::new(&self.path, quiet);
        let (log, read) = columnar::read_events(
            &self.path,
            format,
            &self.config.generic,
            range,
            dict,
            &mut |b| bar.set(b),
        )?;
        bar.finish();
        if !quiet && read.row_groups_skipped > 0 {
            eprintln!(
                "{}: {} of {} row groups skipped by --from/--to (their time statistics lie outside)",
                self.path.display(),
                read.row_groups_skipped,
                read.row_groups
            );
        }
        Ok(log)
    }

    fn load(&self, quiet: bool, want_events: bool) -> anyhow::Result<(Option<EventLog>, Loaded)> {
        let cfg = &self.config;
        let opts = self.sequence_options()?;
        let mut dict = Dictionary::new();
        if let Some(format) = ColumnarFormat::detect(&self.path) {
            if cfg.preset.yields_sequences() {
                bail!(
                    "{}: a {} file holds events, not {} sequences; drop --preset or give an event preset",
                    self.path.display(),
                    format.name(),
                    cfg.preset
                );
            }
            // Sequence building drops rows outside --from/--to, so row groups wholly outside can be
            // skipped; a caller that keeps the event log gets every row.
            let range = if want_events {
                TimeRange::default()
            } else {
                let (from, to) = opts.time_range();
                TimeRange { from, to }
            };
            let log = self.read_columnar(format, range, &mut dict, quiet)?;
            let db = cartseq_data::build_sequences(&log, &mut dict, &opts)?;
            let loaded = Loaded {
                db,
                dict,
                skipped: SkipReport::default(),
                path: self.path.clone(),
            };
            return Ok((want_events.then_some(log), loaded));
        }
        let mut lines = self.open_lines()?;
        let bar = crate::progress::ByteBar::new(&self.path, quiet);
        let mut progress = |b: u64| bar.set(b);
        let (events, db, skipped) = if want_events && !cfg.preset.yields_sequences() {
            let (log, skipped) =
                read_events_from(&mut lines, cfg, self.on_error, &mut dict, &mut progress)?;
            let db = cartseq_data::build_sequences(&log, &mut dict, &opts)?;
            (Some(log), db, skipped)
        } else {
            let (db, skipped) = read_sequences_from(
                &mut lines,
                cfg,
                self.on_error,
                &mut dict,
                &opts,
                &mut progress,
            )?;
            (None, db, skipped)
        };
        bar.finish();
        if cfg.preset == Preset::Spmf && self.path.as_os_str() != "-" {
            if let Some(d) = Dictionary::load_beside(&self.path)? {
                dict = d;
            }
        }
        report_skipped(&self.path, &skipped, quiet);
        Ok((
            events,
            Loaded {
                db,
                dict,
                skipped,
                path: self.path.clone(),
            },
        ))
    }
}

/// Whether the first non-blank, non-comment line of a regular file ends in `-2` (SPMF).
pub fn sniff_spmf(path: &Path) -> bool {
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

/// Reads a whole input as `load_sequences` would, for tests: `-` is not allowed.
pub fn load_path(path: &Path, preset: Preset) -> anyhow::Result<Loaded> {
    InputSpec::new(path, preset)
        .load_sequences(true)
        .with_context(|| format!("loading {}", path.display()))
}
