//! Discriminative sequential-pattern features for a prediction task (`--pattern-features K`).
//!
//! 1. Every row (a user at a cutoff) becomes a sequence of tokens (`action` or `action:category`) from
//!    its last `--pattern-history` events strictly before its cutoff — the same leakage-free window as
//!    the behaviour features.
//! 2. On the **training rows only**, PrefixSpan mines the most frequent patterns of each class (top-k by
//!    support, at most `--pattern-max-len` items, honouring `--pattern-max-gap`), and their union is the
//!    candidate set.
//! 3. Each candidate is scored on the training rows by `--pattern-select` (information gain, chi-square
//!    or support difference; see `cartseq_mining::discriminative::measures`) and the best K are kept.
//! 4. One pass of the multi-pattern matcher over every row's sequence gives three columns per kept
//!    pattern: `pat<NN>_occurs` (0/1), `pat<NN>_count` (non-overlapping occurrences) and
//!    `pat<NN>_since_h` (hours from the end of the last occurrence to the cutoff; −1 when it never
//!    occurred, the table's missing-value convention).
//!
//! Validation and test rows never influence which patterns are chosen. Cost: mining per class (bounded
//! by the top-k and length limits) plus one matcher pass over all rows, rayon-parallel and deterministic.

use anyhow::Context;
use cartseq_data::{Dictionary, EventLog, ItemId, KeyId, SequenceDb, SequenceDbBuilder};
use cartseq_mining::discriminative::{
    select_discriminative, GapConstraint, Measure, PatternMatcher, Reference, SeqPattern,
};
use cartseq_mining::{CollectSink, Miner, PrefixSpan};
use hashbrown::HashMap;
use ndarray::{concatenate, Array2, Axis};

use crate::features::SeqTokens;
use crate::tasks::table::BuiltTask;
use crate::tasks::{build_rows, Split, TaskSpec, UserIndex, HOUR_MS};

/// The command-line options (flattened into the task options of `task`, `leaderboard`, `report`).
#[derive(Debug, Clone, clap::Args)]
pub struct PatternArgs {
    /// Add the K most discriminative sequential patterns (mined on the training rows) as features:
    /// `patNN_occurs`, `patNN_count`, `patNN_since_h` per pattern. 0 = none.
    #[arg(
        long,
        default_value_t = 0,
        value_name = "K",
        help_heading = "Pattern features"
    )]
    pub pattern_features: usize,
    /// Discrimination measure used to choose the patterns: `infogain`, `chi2` or `supdiff`.
    #[arg(long, default_value = "infogain", value_parser = parse_measure, help_heading = "Pattern features")]
    pub pattern_select: MeasureArg,
    /// Pattern tokens: `action` or `action-category`.
    #[arg(
        long,
        value_enum,
        default_value = "action-category",
        help_heading = "Pattern features"
    )]
    pub pattern_tokens: SeqTokens,
    /// Longest mined pattern, in items.
    #[arg(
        long,
        default_value_t = 3,
        value_name = "N",
        help_heading = "Pattern features"
    )]
    pub pattern_max_len: usize,
    /// Largest gap between consecutive pattern events, in positions (1 = adjacent).
    #[arg(long, value_name = "N", help_heading = "Pattern features")]
    pub pattern_max_gap: Option<u32>,
    /// Each row's sequence: its last N events before the cutoff.
    #[arg(
        long,
        default_value_t = 200,
        value_name = "N",
        help_heading = "Pattern features"
    )]
    pub pattern_history: usize,
}

/// A [`Measure`] as a clap value.
#[derive(Debug, Clone, Copy)]
pub struct MeasureArg(pub Measure);

fn parse_measure(s: &str) -> Result<MeasureArg, String> {
    Measure::parse(s)
        .map(MeasureArg)
        .ok_or_else(|| format!("expected infogain, chi2 or supdiff, found {s:?}"))
}

impl Default for PatternArgs {
    fn default() -> Self {
        PatternArgs {
            pattern_features: 0,
            pattern_select: MeasureArg(Measure::InfoGain),
            pattern_tokens: SeqTokens::ActionCategory,
            pattern_max_len: 3,
            pattern_max_gap: None,
            pattern_history: 200,
        }
    }
}

/// A chosen pattern, for reports.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ChosenPattern {
    /// Column prefix (`pat00`).
    pub column: String,
    /// The pattern in words (`view:cat1 > cart:cat1`).
    pub pattern: String,
    /// Score under the measure.
    pub score: f64,
    /// Training rows of each class containing it.
    pub class_support: Vec<u64>,
}

/// Row sequences of a task: one (possibly empty) sequence per table row.
struct RowSequences {
    db: SequenceDb,
    /// Sequence index of each row (`None` when the row has no events before its cutoff).
    seq_of_row: Vec<Option<usize>>,
    /// Cutoff of each row (ms).
    cutoff: Vec<i64>,
    names: Vec<String>,
}

fn row_sequences(
    built: &BuiltTask,
    log: &EventLog,
    dict: &Dictionary,
    spec: &TaskSpec,
    args: &PatternArgs,
) -> anyhow::Result<RowSequences> {
    let idx = UserIndex::new(log);
    let task = build_rows(log, dict, &idx, spec, built.test_cutoff)?;
    anyhow::ensure!(
        task.rows.len() == built.table.len(),
        "internal: task rows ({}) and table rows ({}) differ",
        task.rows.len(),
        built.table.len()
    );
    let cats = log.category.as_deref();
    let mut token_of: HashMap<u64, u32> = HashMap::new();
    let mut names = Vec::new();
    let mut b = SequenceDbBuilder::new(true);
    let mut seq_of_row = Vec::with_capacity(task.rows.len());
    let mut cutoff = Vec::with_capacity(task.rows.len());
    for (r, row) in task.rows.iter().enumerate() {
        let w = &task.windows[row.window];
        cutoff.push(w.cutoff);
        let past = idx.before(row.user as usize, w.cutoff);
        let ev = &idx.order[past.clone()];
        let skip = ev.len().saturating_sub(args.pattern_history);
        for (&e, &t) in ev[skip..].iter().zip(&idx.times[past][skip..]) {
            let e = e as usize;
            let a = log.action[e];
            let c = match (args.pattern_tokens, cats) {
                (SeqTokens::ActionCategory, Some(cs)) if cs[e].0 != u32::MAX => Some(cs[e].0),
                _ => None,
            };
            let key = (u64::from(a) << 32) | c.map_or(0, |c| u64::from(c) + 1);
            let tok = *token_of.entry(key).or_insert_with(|| {
                let action = dict.actions.name(u32::from(a)).into_owned();
                names.push(match c {
                    Some(c) => format!("{action}:{}", dict.categories.name(c)),
                    None => action,
                });
                (names.len() - 1) as u32
            });
            b.push_itemset(&[ItemId(tok)], Some(t))?;
        }
        seq_of_row.push(if b.end_sequence(KeyId(r as u32))? {
            Some(b.len() - 1)
        } else {
            None
        });
    }
    Ok(RowSequences {
        db: b.build(),
        seq_of_row,
        cutoff,
        names,
    })
}

fn describe(p: &SeqPattern, names: &[String]) -> String {
    p.itemsets
        .iter()
        .map(|s| {
            let v: Vec<&str> = s
                .iter()
                .map(|i| names.get(i.index()).map_or("?", |n| n.as_str()))
                .collect();
            if v.len() == 1 {
                v[0].to_owned()
            } else {
                format!("({})", v.join(" "))
            }
        })
        .collect::<Vec<_>>()
        .join(" > ")
}

/// Adds the pattern columns to `built.table` (no-op when `args.pattern_features == 0`) and returns the
/// chosen patterns.
pub fn apply(
    args: &PatternArgs,
    built: &mut BuiltTask,
    log: &EventLog,
    dict: &Dictionary,
    spec: &TaskSpec,
    quiet: bool,
) -> anyhow::Result<Vec<ChosenPattern>> {
    let k = args.pattern_features;
    if k == 0 {
        return Ok(Vec::new());
    }
    anyhow::ensure!(
        (1..=20).contains(&args.pattern_max_len),
        "--pattern-max-len must be 1..=20, found {}",
        args.pattern_max_len
    );
    anyhow::ensure!(
        args.pattern_history >= 1,
        "--pattern-history must be at least 1"
    );
    anyhow::ensure!(
        args.pattern_max_gap != Some(0),
        "--pattern-max-gap must be at least 1 (1 = adjacent)"
    );
    let rs = row_sequences(built, log, dict, spec, args)?;
    let n_classes = built.class_names.len();
    // Training sequences and their labels.
    let train_rows: Vec<usize> = (0..built.table.len())
        .filter(|&r| built.table.split[r] == Split::Train)
        .collect();
    let mut train_seq = vec![usize::MAX; rs.db.len()];
    let mut labels = Vec::new();
    for &r in &train_rows {
        if let Some(s) = rs.seq_of_row[r] {
            train_seq[s] = labels.len();
            labels.push(built.table.label[r]);
        }
    }
    let train_db = rs.db.filter(|s| train_seq[s.index()] != usize::MAX);
    anyhow::ensure!(
        !train_db.is_empty(),
        "--pattern-features: no training row has events before its cutoff"
    );
    let gap = GapConstraint {
        max_gap: args.pattern_max_gap,
        max_gap_secs: None,
    };
    // Candidates: the most frequent patterns of each class (ties included), mined on training rows.
    let per_class = (5 * k).max(200);
    let mut cands: Vec<SeqPattern> = Vec::new();
    for c in 0..n_classes {
        let mut pos = 0usize;
        let class_db = train_db.filter(|_| {
            let keep = labels[pos] == c;
            pos += 1;
            keep
        });
        if class_db.is_empty() {
            continue;
        }
        let mut params = PrefixSpan::params()
            .top_k(per_class)
            .max_len(args.pattern_max_len);
        if let Some(g) = args.pattern_max_gap {
            params = params.max_gap(g);
        }
        let miner = params.check().context("pattern-feature mining options")?;
        let mut sink = CollectSink::new();
        miner
            .mine(&class_db, &mut sink)
            .with_context(|| format!("mining patterns of class {c}"))?;
        for p in sink.into_sorted() {
            cands.push(SeqPattern::new(p.itemsets().map(|s| s.to_vec()).collect())?);
        }
    }
    let chosen = select_discriminative(
        &cands,
        &train_db,
        &labels,
        n_classes,
        args.pattern_select.0,
        gap,
        k,
    )?;
    let pats: Vec<SeqPattern> = chosen.iter().map(|c| c.pattern.clone()).collect();
    let matcher = PatternMatcher::new(&pats, gap, Reference::SequenceEnd)?;
    let m = matcher.match_db(&rs.db);
    // Dense columns, three per pattern.
    let n = built.table.len();
    let kk = pats.len();
    let mut x = Array2::<f64>::zeros((n, 3 * kk));
    for j in 0..kk {
        x.column_mut(3 * j + 2).fill(-1.0);
    }
    let times = rs.db.times();
    for r in 0..n {
        let Some(s) = rs.seq_of_row[r] else { continue };
        let seq = rs.db.sequence(s);
        let last_t = times.map_or(rs.cutoff[r], |_| {
            seq.times().map_or(rs.cutoff[r], |t| t[t.len() - 1])
        });
        for (p, count, since) in m.row(s) {
            x[[r, 3 * p]] = 1.0;
            x[[r, 3 * p + 1]] = f64::from(count);
            x[[r, 3 * p + 2]] = (since + (rs.cutoff[r] - last_t) as f64) / HOUR_MS as f64;
        }
    }
    let mut out = Vec::with_capacity(kk);
    for (j, c) in chosen.iter().enumerate() {
        let col = format!("pat{j:02}");
        built.table.feature_names.extend([
            format!("{col}_occurs"),
            format!("{col}_count"),
            format!("{col}_since_h"),
        ]);
        out.push(ChosenPattern {
            column: col,
            pattern: describe(&c.pattern, &rs.names),
            score: c.score,
            class_support: c.class_support.clone(),
        });
    }
    built.table.x = concatenate(Axis(1), &[built.table.x.view(), x.view()])?;
    if !quiet {
        eprintln!(
            "pattern features: {} candidates mined on {} training rows, kept {} by {}:",
            cands.len(),
            train_db.len(),
            out.len(),
            args.pattern_select.0.name()
        );
        for c in out.iter().take(10) {
            eprintln!("  {} {:.4} {}", c.column, c.score, c.pattern);
        }
    }
    Ok(out)
}
