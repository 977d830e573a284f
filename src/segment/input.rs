//! The rows to segment and how they were built ([`Recipe`], saved in the model so `--apply` builds new
//! rows the same way).
//!
//! * **From a log** ([`from_log`]): one row per user (or session, for session presets) with an event
//!   before the cutoff, with the behaviour features `cartseq task` computes for its rows at that cutoff
//!   (`--split user`: one window, item statistics from events before the cutoff; see
//!   [`crate::tasks::table::snapshot_table`]). `--cutoff auto` is task's automatic cutoff. Pattern
//!   columns (`--represent patterns` or `features+patterns`) come from the `K` most frequent
//!   sequential patterns of at least two events over every row's last events (PrefixSpan top-k; no
//!   labels exist to choose discriminative ones), matched by the task's fitted featurizer
//!   (`patNN_occurs`, `patNN_count`, `patNN_since_h`, −1 = never).
//! * **From a CSV** ([`from_csv`]): a header line; columns named `split`, `label` and `seq` are
//!   dropped; the first remaining column is the row id and every other column must hold finite
//!   numbers. This reads `task -o` feature tables (`user_id,split,label,…`) and `nextitem
//!   --embeddings` files (`split,session,e0,…`) as they are.

use std::path::Path;

use anyhow::{bail, ensure, Context};
use cartseq_data::{token_sequences, Dictionary, EventLog, SequenceDb, TokenWindow};
use cartseq_mining::{CollectSink, Miner, PrefixSpan};
use ndarray::{concatenate, Array2, Axis};
use serde::{Deserialize, Serialize};

use super::{Matrix, Represent};
use crate::behaviour::SeqTokens;
use crate::featurizer::{
    describe_tokens, ChosenPattern, FittedFeaturizer, PatternFeaturizer, RowSequences, TableSource,
};
use crate::input::InputSpec;
use crate::tasks::table::snapshot_table;
use crate::tasks::{auto_cutoff, build_rows, format_time, UserIndex};

/// How the rows of a segmentation were built.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// The representation.
    pub represent: Represent,
    /// `log` or `csv`.
    pub source: String,
    /// Length of the "last horizon" window of the behaviour features (ms; logs only).
    pub horizon_ms: Option<i64>,
    /// The pattern columns' featurizer (pattern representations only).
    pub patterns: Option<FittedFeaturizer>,
}

impl Recipe {
    /// The recipe of rows read from a CSV.
    pub fn csv(represent: Represent) -> Recipe {
        Recipe {
            represent,
            source: "csv".to_owned(),
            horizon_ms: None,
            patterns: None,
        }
    }
}

/// Options for rows built from a log.
#[derive(Clone, Debug)]
pub struct LogOptions {
    /// Feature cutoff (ms); `None` = task's automatic cutoff.
    pub cutoff: Option<i64>,
    /// The "last horizon" window of the behaviour features (ms).
    pub horizon_ms: i64,
    /// The representation.
    pub represent: Represent,
    /// Number of pattern columns' patterns.
    pub patterns: usize,
    /// Pattern tokens.
    pub pattern_tokens: SeqTokens,
    /// Longest pattern, in events.
    pub pattern_max_len: usize,
    /// Each row's last N events.
    pub history: usize,
}

/// A log's rows: the matrix plus what profiles need (the log, names, rows' sequences, the cutoff).
pub struct LogRows {
    /// The rows.
    pub matrix: Matrix,
    /// The behaviour-feature columns of every row (for the profiles' separating features).
    pub features: Matrix,
    /// The event log.
    pub log: EventLog,
    /// Names.
    pub dict: Dictionary,
    /// User (key) id of each row.
    pub users: Vec<u32>,
    /// The cutoff (ms): rows read events strictly before it.
    pub cutoff: i64,
    /// Each row's last `history` events as tokens (sequence keys are row indices).
    pub sequences: SequenceDb,
    /// Token names of `sequences`.
    pub token_names: Vec<String>,
    /// How the matrix was built.
    pub recipe: Recipe,
}

/// The `K` most frequent patterns of at least two events in `db`, as pattern-featurizer columns.
fn frequent_patterns(
    db: &SequenceDb,
    names: &[String],
    k: usize,
    max_len: usize,
) -> anyhow::Result<Vec<ChosenPattern>> {
    let miner = PrefixSpan::params()
        .top_k(k)
        .min_len(2)
        .max_len(max_len)
        .check()
        .context("pattern representation options")?;
    let mut sink = CollectSink::new();
    miner.mine(db, &mut sink)?;
    let mut pats = sink.into_sorted();
    pats.truncate(k);
    Ok(pats
        .iter()
        .enumerate()
        .map(|(j, p)| {
            let tokens: Vec<Vec<String>> = p
                .itemsets()
                .map(|s| s.iter().map(|i| names[i.index()].clone()).collect())
                .collect();
            let text = describe_tokens(&tokens);
            ChosenPattern {
                column: format!("pat{j:02}"),
                pattern: text,
                tokens,
                score: f64::from(p.support),
                class_support: vec![u64::from(p.support)],
            }
        })
        .collect())
}

/// Builds the rows of a log. With `fitted` (from a saved model) the pattern columns are the model's.
pub fn from_log(
    input: &InputSpec,
    opts: &LogOptions,
    fitted: Option<&Recipe>,
    quiet: bool,
) -> anyhow::Result<LogRows> {
    ensure!(
        opts.represent != Represent::Embeddings,
        "--represent embeddings reads a CSV (nextitem --embeddings); for a log choose features, \
         patterns or features+patterns"
    );
    ensure!(opts.history >= 1, "--pattern-history must be at least 1");
    ensure!(
        (2..=20).contains(&opts.pattern_max_len),
        "--pattern-max-len must be 2..=20, found {}",
        opts.pattern_max_len
    );
    if opts.represent.has_patterns() && fitted.is_none() {
        ensure!(
            (1..=1000).contains(&opts.patterns),
            "--patterns must be 1..=1000, found {}",
            opts.patterns
        );
    }
    let (log, dict, _skipped) = input.load_events(quiet)?;
    from_events(log, dict, input, opts, fitted)
}

/// Builds the rows of an already loaded log (see [`from_log`]).
pub fn from_events(
    log: EventLog,
    dict: Dictionary,
    input: &InputSpec,
    opts: &LogOptions,
    fitted: Option<&Recipe>,
) -> anyhow::Result<LogRows> {
    ensure!(
        !log.is_empty(),
        "{}: the input has no events",
        input.path.display()
    );
    let cutoff = match opts.cutoff {
        Some(c) => c,
        None => auto_cutoff(&log, opts.horizon_ms).unwrap_or(0),
    };
    let (built, spec) = snapshot_table(&log, &dict, cutoff, opts.horizon_ms, input.id_column())
        .with_context(|| format!("building the rows at cutoff {}", format_time(cutoff)))?;
    let idx = UserIndex::by_user(&log);
    let task = build_rows(&log, &dict, &idx, &spec, cutoff)?;
    let window = TokenWindow {
        token: opts.pattern_tokens.token(),
        max_len: Some(opts.history),
    };
    let seqs = token_sequences(&log, &dict, &idx, &task.cuts(), &window)?;
    let sequences = seqs.to_sequence_db()?;
    let token_names = seqs.names.names().to_vec();
    let table = &built.table;
    let features = Matrix {
        ids: table.ids.clone(),
        names: table.feature_names.clone(),
        x: table.x.mapv(|v| v as f32),
    };
    let featurizer = if opts.represent.has_patterns() {
        let f = match fitted.and_then(|r| r.patterns.clone()) {
            Some(f) => f,
            None => {
                let chosen = frequent_patterns(
                    &sequences,
                    &token_names,
                    opts.patterns,
                    opts.pattern_max_len,
                )?;
                ensure!(
                    !chosen.is_empty(),
                    "--represent {}: no pattern of two or more events occurs in the rows",
                    opts.represent.name()
                );
                let params = PatternFeaturizer {
                    k: chosen.len(),
                    tokens: opts.pattern_tokens,
                    max_len: opts.pattern_max_len,
                    history: opts.history,
                    ..PatternFeaturizer::default()
                };
                let source = TableSource {
                    task: format!("segment rows at cutoff {}", format_time(cutoff)),
                    input: input.path.display().to_string(),
                    input_sha256: None,
                };
                FittedFeaturizer::new(params, chosen, Vec::new(), source)?
            }
        };
        Some(f)
    } else {
        None
    };
    let matrix = match (&featurizer, opts.represent) {
        (None, _) => features.clone(),
        (Some(f), represent) => {
            let rows = RowSequences::of_task(&built, &log, &dict, &spec, &f.params)?;
            let px = f.transform(&rows)?.mapv(|v| v as f32);
            let pnames = f.pattern_columns();
            if represent == Represent::Patterns {
                Matrix {
                    ids: table.ids.clone(),
                    names: pnames,
                    x: px,
                }
            } else {
                let mut names = table.feature_names.clone();
                names.extend(pnames);
                Matrix {
                    ids: table.ids.clone(),
                    names,
                    x: concatenate(Axis(1), &[features.x.view(), px.view()])?,
                }
            }
        }
    };
    let recipe = Recipe {
        represent: opts.represent,
        source: "log".to_owned(),
        horizon_ms: Some(opts.horizon_ms),
        patterns: featurizer,
    };
    Ok(LogRows {
        matrix,
        features,
        users: task.rows.iter().map(|r| r.user).collect(),
        log,
        dict,
        cutoff,
        sequences,
        token_names,
        recipe,
    })
}

/// Reads a feature or embedding CSV (see the module docs). Refuses a non-finite or non-numeric cell
/// with its line and column.
pub fn from_csv(path: &Path) -> anyhow::Result<Matrix> {
    let shown = path.display().to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_path(path)
        .with_context(|| format!("reading {shown}"))?;
    let header = rdr
        .headers()
        .with_context(|| format!("{shown}:1: reading the header"))?
        .clone();
    let kept: Vec<usize> = (0..header.len())
        .filter(|&j| !matches!(&header[j], "split" | "label" | "seq"))
        .collect();
    ensure!(
        kept.len() >= 2,
        "{shown}:1: expected an id column and at least one numeric column, found {} column(s)",
        header.len()
    );
    let id_col = kept[0];
    let cols = &kept[1..];
    let names: Vec<String> = cols.iter().map(|&j| header[j].to_owned()).collect();
    let mut ids = Vec::new();
    let mut values: Vec<f32> = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                bail!("{shown}:{line}: {e}");
            }
        }
        let line = rec.position().map_or(0, |p| p.line());
        ids.push(rec[id_col].to_owned());
        for &j in cols {
            let cell = rec[j].trim();
            let v: f64 = cell.parse().map_err(|_| {
                anyhow::anyhow!(
                    "{shown}:{line}:{}: expected a number in column {:?}, found {cell:?}",
                    j + 1,
                    &header[j]
                )
            })?;
            ensure!(
                v.is_finite() && v.abs() <= f64::from(f32::MAX),
                "{shown}:{line}:{}: expected a finite number in column {:?}, found {cell:?} \
                 (fill or drop missing values before segmenting)",
                j + 1,
                &header[j]
            );
            values.push(v as f32);
        }
    }
    ensure!(!ids.is_empty(), "{shown}: no data rows after the header");
    let x = Array2::from_shape_vec((ids.len(), names.len()), values)?;
    Ok(Matrix { ids, names, x })
}
