//! From a log to the feature table (rows, labels, features, sequences), and from a table to the
//! [`Dataset`]s the models read.

use cartseq_data::{Dictionary, EventLog};
use cartseq_models::{Dataset, Sequences};
use ndarray::Axis;

use crate::behaviour::{Extractor, FeatureSet, ItemStats, SeqTokens, TokenSeqs};
use crate::feature_table::FeatureTable;
use crate::tasks::{auto_cutoff, build_rows, roles, Balance, TaskRows, TaskSpec, UserIndex};

/// Options of the per-row token sequences.
#[derive(Clone, Copy, Debug)]
pub struct SeqOptions {
    /// Token kind.
    pub tokens: SeqTokens,
    /// Keep the last this many events.
    pub max_len: usize,
}

/// A built task: the table plus what was decided along the way.
pub struct BuiltTask {
    /// The table.
    pub table: FeatureTable,
    /// Class names.
    pub class_names: Vec<String>,
    /// The test cutoff (ms).
    pub test_cutoff: i64,
    /// Cutoff of every window, oldest first, with its split name (`None` = user split).
    pub cutoffs: Vec<(i64, Option<&'static str>)>,
    /// Class counts per split.
    pub balance: Balance,
}

/// Builds the task's rows, features and (optionally) token sequences.
pub fn build_table(
    log: &EventLog,
    dict: &Dictionary,
    spec: &TaskSpec,
    id_column: &str,
    seq: Option<SeqOptions>,
) -> anyhow::Result<BuiltTask> {
    spec.check()?;
    anyhow::ensure!(!log.is_empty(), "the input has no events");
    let test_cutoff = match spec.cutoff {
        Some(c) => c,
        None => auto_cutoff(log, spec.horizon_ms).unwrap_or(0),
    };
    let h_hours = spec.horizon_ms as f64 / crate::tasks::HOUR_MS as f64;
    if spec.cutoff.is_some() {
        // A label window mostly past the end of the data would label (nearly) every row negative (then
        // accuracy 1.0): refused when less than half of it lies inside the data.
        if let Some(end) = crate::tasks::data_end(log) {
            if test_cutoff + spec.horizon_ms / 2 > end {
                let latest = crate::tasks::auto_cutoff(log, spec.horizon_ms).unwrap_or(end);
                anyhow::bail!(
                    "--cutoff {}: the test label window [{}, +{h_hours} h) lies mostly after the data (last \
                     events at {}), so its labels would be (nearly) all negative; choose an earlier --cutoff (at most {} \
                     for --horizon {h_hours} h), a shorter --horizon, or leave --cutoff out (automatic)",
                    crate::tasks::format_time(test_cutoff),
                    crate::tasks::format_time(test_cutoff),
                    crate::tasks::format_time(end - 1),
                    crate::tasks::format_time(latest),
                );
            }
        }
    }
    let idx = UserIndex::by_user(log);
    let task = build_rows(log, dict, &idx, spec, test_cutoff)?;
    let balance = Balance::of(&task.rows, task.n_classes);
    let train_rows: usize = balance.counts[0].iter().sum();
    let test_rows: usize = balance.counts[2].iter().sum();
    let cut = crate::tasks::format_time(test_cutoff);
    if train_rows == 0 || test_rows == 0 {
        // No training rows: the windows start before the data (the cutoff is too early). No test rows
        // with training rows: nobody is active before the test cutoff's window (too late or too sparse).
        let start = crate::tasks::data_start(log).map_or_else(String::new, |s| {
            format!(" (the data starts at {})", crate::tasks::format_time(s))
        });
        let advice = if train_rows == 0 {
            format!(
                "choose a later --cutoff{start}, a shorter --horizon, fewer --train-windows or --split user"
            )
        } else {
            "choose an earlier --cutoff, a shorter --horizon or --split user".to_owned()
        };
        anyhow::bail!(
            "the {} task at cutoff {cut} (horizon {h_hours} h) has {train_rows} training and {test_rows} \
             test rows; {advice}",
            spec.kind.name(),
        );
    }
    let table = table_of_rows(log, dict, &idx, &task, id_column, seq)?;
    Ok(BuiltTask {
        table,
        class_names: task.class_names,
        test_cutoff,
        cutoffs: task
            .windows
            .iter()
            .map(|w| (w.cutoff, w.split.map(|s| s.name())))
            .collect(),
        balance,
    })
}

/// The feature table of `task`'s rows: behaviour features (and token sequences when `seq`) of each row
/// from its user's events before the row's cutoff. The one extraction behind [`build_table`] and
/// [`snapshot_table`].
fn table_of_rows(
    log: &EventLog,
    dict: &Dictionary,
    idx: &UserIndex,
    task: &TaskRows,
    id_column: &str,
    seq: Option<SeqOptions>,
) -> anyhow::Result<FeatureTable> {
    let roles = roles(dict);
    let stats = ItemStats::new(log, &roles, task.stats_end);
    let set = FeatureSet::for_log(log);
    let ex = Extractor {
        log,
        idx,
        roles: &roles,
        stats: &stats,
        set: &set,
    };
    let need = (task.rows.len() as u64).saturating_mul(set.names().len() as u64 * 8);
    cartseq_data::memory::check_estimate(need).map_err(|e| {
        anyhow::anyhow!(
            "the feature matrix of {} rows would not fit: {e}; narrow the input with --from/--to, \
             lower --train-windows, or raise --max-memory",
            task.rows.len()
        )
    })?;
    let x = ex.matrix(task);
    let seqs = seq
        .map(|s| ex.sequences(task, s.tokens, s.max_len, dict))
        .transpose()?;
    let table = FeatureTable {
        id_column: id_column.to_owned(),
        ids: task
            .rows
            .iter()
            .map(|r| dict.users.name(r.user).into_owned())
            .collect(),
        split: task.rows.iter().map(|r| r.split).collect(),
        label: task.rows.iter().map(|r| r.label).collect(),
        feature_names: set.names().to_vec(),
        x,
        seqs,
    };
    Ok(table)
}

/// The spec of a snapshot at `cutoff`: one window, every user with an event before it in the training
/// split (`task --split user` with no valid or test users). Labels are computed but mean nothing.
pub fn snapshot_spec(cutoff: i64, horizon_ms: i64) -> TaskSpec {
    TaskSpec {
        kind: crate::tasks::TaskKind::Purchase,
        cutoff: Some(cutoff),
        horizon_ms,
        split: crate::tasks::SplitMode::User,
        valid_frac: 0.0,
        test_frac: 0.0,
        train_windows: 1,
        seed: 0,
    }
}

/// Every user (or session) with an event before `cutoff`, with the behaviour features `task` computes
/// for its rows at that cutoff under `--split user` (item statistics read events before the cutoff;
/// "last horizon" counts read `[cutoff − horizon, cutoff)`). Rows are ordered by user id; no labels
/// are needed, so no split can be empty. The table and the spec to rebuild the same rows.
pub fn snapshot_table(
    log: &EventLog,
    dict: &Dictionary,
    cutoff: i64,
    horizon_ms: i64,
    id_column: &str,
) -> anyhow::Result<(BuiltTask, TaskSpec)> {
    let spec = snapshot_spec(cutoff, horizon_ms);
    spec.check()?;
    anyhow::ensure!(!log.is_empty(), "the input has no events");
    let idx = UserIndex::by_user(log);
    let task = build_rows(log, dict, &idx, &spec, cutoff)?;
    anyhow::ensure!(
        !task.rows.is_empty(),
        "no user has an event before the cutoff {}; choose a later --cutoff",
        crate::tasks::format_time(cutoff)
    );
    let table = table_of_rows(log, dict, &idx, &task, id_column, None)?;
    let balance = Balance::of(&task.rows, task.n_classes);
    let built = BuiltTask {
        table,
        class_names: task.class_names,
        test_cutoff: cutoff,
        cutoffs: vec![(cutoff, None)],
        balance,
    };
    Ok((built, spec))
}

/// The token vocabulary of the sequence models: names seen on training rows, sorted; id 0 is reserved
/// for unknown tokens (seen only in valid/test rows or in new data).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SeqVocab {
    /// Token names; the token with name `names[k]` has id `k + 1`.
    pub names: Vec<String>,
}

impl SeqVocab {
    /// Vocabulary of the tokens on `rows`.
    pub fn from_rows(seqs: &TokenSeqs, rows: &[usize]) -> Self {
        let mut seen = vec![false; seqs.names.len()];
        for &i in rows {
            for &t in seqs.row(i) {
                seen[t as usize] = true;
            }
        }
        let mut names: Vec<String> = seqs
            .names
            .iter()
            .zip(&seen)
            .filter(|(_, &s)| s)
            .map(|(n, _)| n.clone())
            .collect();
        names.sort_unstable();
        SeqVocab { names }
    }

    /// The rows' sequences in this vocabulary.
    pub fn encode(&self, seqs: &TokenSeqs, rows: &[usize]) -> Sequences {
        let map: Vec<u32> = seqs
            .names
            .iter()
            .map(|n| self.names.binary_search(n).map_or(0, |k| k as u32 + 1))
            .collect();
        let mut tokens = Vec::new();
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        offsets.push(0);
        for &i in rows {
            tokens.extend(seqs.row(i).iter().map(|&t| map[t as usize]));
            offsets.push(tokens.len());
        }
        Sequences {
            tokens,
            offsets,
            vocab: self.names.len() + 1,
        }
    }
}

/// The [`Dataset`] of a whole table, moving its matrix (no copy).
pub fn dataset_owned(
    table: FeatureTable,
    n_classes: usize,
    vocab: Option<&SeqVocab>,
) -> anyhow::Result<Dataset> {
    let seqs = match (vocab, table.seqs.as_ref()) {
        (Some(v), Some(s)) => Some(v.encode(s, &(0..table.len()).collect::<Vec<_>>())),
        _ => None,
    };
    let y = table.label.into_iter().collect();
    let mut ds = Dataset::new(table.x, y, n_classes)?;
    ds.feature_names = table.feature_names;
    ds.seqs = seqs;
    Ok(ds)
}

/// The [`Dataset`] of `rows` of a table (features, labels, optional sequences in `vocab`).
pub fn dataset(
    table: &FeatureTable,
    rows: &[usize],
    n_classes: usize,
    vocab: Option<&SeqVocab>,
) -> anyhow::Result<Dataset> {
    let x = table.x.select(Axis(0), rows);
    let y = rows.iter().map(|&i| table.label[i]).collect();
    let mut ds = Dataset::new(x, y, n_classes)?;
    ds.feature_names = table.feature_names.clone();
    if let (Some(v), Some(s)) = (vocab, table.seqs.as_ref()) {
        ds.seqs = Some(v.encode(s, rows));
    }
    Ok(ds)
}
