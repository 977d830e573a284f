//! The fitted pattern featurizer: discriminative sequential-pattern features for a prediction task
//! (`--pattern-features K`), as a fit → transform object so that what `pat00_occurs` means travels
//! with the feature table and the model.
//!
//! 1. Every row (a user at a cutoff) becomes a sequence of tokens (`action` or `action:category`) from
//!    its last `history` events strictly before its cutoff — the same leakage-free window as the
//!    behaviour features.
//! 2. [`PatternFeaturizer::fit`], on the **training rows only**: PrefixSpan mines the most frequent
//!    patterns of each class (top-k by support in at least two rows, at most `max_len` items, honouring
//!    `max_gap`), and their union is the candidate set; each candidate is scored on the training rows by
//!    the measure (information gain, chi-square or support difference; see
//!    `cartseq_mining::discriminative::measures`) and the best K are kept, as token names, in a
//!    [`FittedFeaturizer`].
//! 3. [`FittedFeaturizer::transform`]: one pass of the multi-pattern matcher over every row's sequence
//!    gives three columns per kept pattern: `pat<NN>_occurs` (0/1), `pat<NN>_count` (non-overlapping
//!    occurrences) and `pat<NN>_since_h` (hours from the end of the last occurrence to the cutoff; −1
//!    when it never occurred, the table's missing-value convention).
//!
//! The fitted featurizer also records where the table came from (task options, input file and its
//! SHA-256) and carries a fingerprint over all of it: `task -o` writes it into the CSV's manifest,
//! `train` stores it in the model file and `eval` refuses a CSV whose fingerprint differs.
//!
//! Validation and test rows never influence which patterns are chosen. Cost: mining per class (bounded
//! by the top-k and length limits) plus one matcher pass over all rows, rayon-parallel and deterministic.

use anyhow::Context;
use cartseq_data::{token_sequences, Dictionary, EventLog, ItemId, SequenceDb, TokenWindow};
use cartseq_mining::discriminative::{
    select_discriminative, Measure, PatternMatcher, Reference, SeqPattern, MIN_GROUP_ROWS,
};
use cartseq_mining::{CollectSink, Limit, Miner, MiningError, PrefixSpan};
use hashbrown::HashMap;
use ndarray::{concatenate, Array2, Axis};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::behaviour::SeqTokens;
use crate::tasks::table::BuiltTask;
use crate::tasks::{build_rows, Split, TaskRows, TaskSpec, UserIndex, HOUR_MS};

/// The (unfitted) pattern featurizer: how many patterns to keep and how to mine and match them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatternFeaturizer {
    /// Patterns to keep (0 = no pattern columns).
    pub k: usize,
    /// Discrimination measure used to choose the patterns.
    #[serde(with = "measure_name")]
    pub measure: Measure,
    /// Pattern tokens: `action` or `action-category`.
    pub tokens: SeqTokens,
    /// Longest mined pattern, in items.
    pub max_len: usize,
    /// Largest gap between consecutive pattern events, in positions (1 = adjacent).
    pub max_gap: Option<u32>,
    /// Each row's sequence: its last `history` events before the cutoff.
    pub history: usize,
}

impl Default for PatternFeaturizer {
    fn default() -> Self {
        PatternFeaturizer {
            k: 0,
            measure: Measure::InfoGain,
            tokens: SeqTokens::ActionCategory,
            max_len: 3,
            max_gap: None,
            history: 200,
        }
    }
}

/// A [`Measure`] as its CLI name in files.
mod measure_name {
    use cartseq_mining::discriminative::Measure;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(m: &Measure, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(m.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Measure, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A chosen pattern: its columns, its tokens and how it scored on the training rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChosenPattern {
    /// Column prefix (`pat00`).
    pub column: String,
    /// The pattern in words (`view:cat1 > cart:cat1`).
    pub pattern: String,
    /// The pattern's itemsets as token names (what [`FittedFeaturizer::transform`] matches).
    pub tokens: Vec<Vec<String>>,
    /// Score under the measure.
    pub score: f64,
    /// Training rows of each class containing it.
    pub class_support: Vec<u64>,
}

/// Where a feature table came from: the task options and the input it was built from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSource {
    /// The task options, in words (kind, horizon, cutoffs, split, seed).
    pub task: String,
    /// Input file name (without folders; `-` for standard input).
    pub input: String,
    /// SHA-256 of the input file's bytes (`None` for standard input).
    pub input_sha256: Option<String>,
}

/// A fitted featurizer: the chosen patterns, the parameters that chose them, the table's source and a
/// fingerprint over all of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedFeaturizer {
    /// The parameters it was fitted with.
    pub params: PatternFeaturizer,
    /// The kept patterns, column order.
    pub patterns: Vec<ChosenPattern>,
    /// Every feature column of the table (behaviour features, then pattern columns).
    pub feature_names: Vec<String>,
    /// Where the table came from.
    pub source: TableSource,
    /// SHA-256 (hex, first 16 digits) of the above: two tables with the same fingerprint were built
    /// from the same input with the same task options and pattern set.
    pub fingerprint: String,
}

/// Row sequences of a task: one (possibly empty) token sequence per table row.
pub struct RowSequences {
    db: SequenceDb,
    /// Sequence index of each row (`None` when the row has no events before its cutoff).
    seq_of_row: Vec<Option<usize>>,
    /// Cutoff of each row (ms).
    cutoff: Vec<i64>,
    names: Vec<String>,
}

impl RowSequences {
    /// Each row's last `params.history` events before its cutoff as `params.tokens` tokens, for the
    /// rows of `built` (rebuilt with the same task spec, so row order is the table's).
    pub fn of_task(
        built: &BuiltTask,
        log: &EventLog,
        dict: &Dictionary,
        spec: &TaskSpec,
        params: &PatternFeaturizer,
    ) -> anyhow::Result<RowSequences> {
        let idx = UserIndex::by_user(log);
        let task = build_rows(log, dict, &idx, spec, built.test_cutoff)?;
        anyhow::ensure!(
            task.rows.len() == built.table.len(),
            "internal: task rows ({}) and table rows ({}) differ",
            task.rows.len(),
            built.table.len()
        );
        Self::of_rows(&task, log, dict, &idx, params)
    }

    /// Each row's last `params.history` events before its cutoff, for the rows of `task` (the one
    /// construction behind the offline table and the online scorer).
    pub fn of_rows(
        task: &TaskRows,
        log: &EventLog,
        dict: &Dictionary,
        idx: &UserIndex,
        params: &PatternFeaturizer,
    ) -> anyhow::Result<RowSequences> {
        let window = TokenWindow {
            token: params.tokens.token(),
            max_len: Some(params.history),
        };
        let seqs = token_sequences(log, dict, idx, &task.cuts(), &window)?;
        let db = seqs.to_sequence_db()?;
        let mut seq_of_row = vec![None; task.rows.len()];
        for (j, k) in db.keys().iter().enumerate() {
            seq_of_row[k.index()] = Some(j);
        }
        Ok(RowSequences {
            db,
            seq_of_row,
            cutoff: task
                .rows
                .iter()
                .map(|r| task.windows[r.window].cutoff)
                .collect(),
            names: seqs.names.names().to_vec(),
        })
    }
}

/// A pattern's itemsets of token names in words: `view:cat1 > (cart:cat1 fav:cat1)`.
pub fn describe_tokens<S: std::borrow::Borrow<str>>(tokens: &[Vec<S>]) -> String {
    tokens
        .iter()
        .map(|s| {
            if s.len() == 1 {
                s[0].borrow().to_owned()
            } else {
                format!("({})", s.join(" "))
            }
        })
        .collect::<Vec<_>>()
        .join(" > ")
}

/// Itemsets of token ids in the words of [`describe_tokens`], the one notation of patterns and rules
/// shown to people (report, segment profiles, feature descriptions); exports use
/// [`crate::export::itemsets_text`].
pub fn describe_itemsets<'a>(
    sets: impl IntoIterator<Item = &'a [ItemId]>,
    names: &[String],
) -> String {
    let tokens: Vec<Vec<&str>> = sets
        .into_iter()
        .map(|s| s.iter().map(|i| names[i.index()].as_str()).collect())
        .collect();
    describe_tokens(&tokens)
}

impl PatternFeaturizer {
    /// Checks the parameters once, naming the command-line option of each.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (1..=20).contains(&self.max_len),
            "--pattern-max-len must be 1..=20, found {}",
            self.max_len
        );
        anyhow::ensure!(self.history >= 1, "--pattern-history must be at least 1");
        anyhow::ensure!(
            self.max_gap != Some(0),
            "--pattern-max-gap must be at least 1 (1 = adjacent)"
        );
        Ok(())
    }

    /// The options in command-line words (`--pattern-features 5 --pattern-select chi2 …`).
    pub fn describe(&self) -> String {
        let gap = self
            .max_gap
            .map_or_else(String::new, |g| format!(" --pattern-max-gap {g}"));
        format!(
            "--pattern-features {} --pattern-select {} --pattern-tokens {} --pattern-max-len {} \
             --pattern-history {}{gap}",
            self.k,
            self.measure.name(),
            self.tokens.name(),
            self.max_len,
            self.history
        )
    }

    fn gap(&self) -> Limit {
        Limit {
            positions: self.max_gap,
            time: None,
        }
    }

    /// A guard of the candidate mining, in the flags of the commands that take pattern features: the
    /// miner's own advice names `mine`'s flags (`--max-patterns`, `--min-support`, `--max-items`),
    /// which `task`, `leaderboard` and `report` do not have.
    fn mining_advice(&self, e: MiningError, class: usize) -> anyhow::Error {
        let fix = format!(
            "lower --pattern-max-len (now {}), bound the gap with --pattern-max-gap or shorten \
             --pattern-history (now {})",
            self.max_len, self.history
        );
        match e {
            MiningError::TooManyPatterns { found, limit, .. } => anyhow::anyhow!(
                "mining patterns of class {class}: stopped after {found} patterns (limit {limit}): {fix}"
            ),
            MiningError::MemoryLimit { found, memory, .. } => anyhow::anyhow!(
                "mining patterns of class {class}: stopped after {found} patterns: {memory}; {fix}, or \
                 raise --max-memory"
            ),
            other => anyhow::Error::new(other).context(format!("mining patterns of class {class}")),
        }
    }

    /// Chooses the K most discriminative patterns from the training rows of `rows` (`labels[r]` for
    /// every table row; only rows with `split[r] == Train` are read). Returns the kept patterns, the
    /// number of candidates mined and the number of training sequences they were mined on.
    pub fn fit(
        &self,
        rows: &RowSequences,
        split: &[Split],
        labels: &[usize],
        n_classes: usize,
    ) -> anyhow::Result<(Vec<ChosenPattern>, usize, usize)> {
        self.check()?;
        let k = self.k;
        if k == 0 {
            return Ok((Vec::new(), 0, 0));
        }
        // Training sequences and their labels.
        let mut train_seq = vec![usize::MAX; rows.db.len()];
        let mut train_labels = Vec::new();
        for r in (0..split.len()).filter(|&r| split[r] == Split::Train) {
            if let Some(s) = rows.seq_of_row[r] {
                train_seq[s] = train_labels.len();
                train_labels.push(labels[r]);
            }
        }
        let train_db = rows.db.filter(|s| train_seq[s.index()] != usize::MAX);
        anyhow::ensure!(
            !train_db.is_empty(),
            "--pattern-features: no training row has events before its cutoff"
        );
        // Candidates: the most frequent patterns of each class (ties included, in at least
        // MIN_GROUP_ROWS rows), mined on training rows.
        let per_class = (5 * k).max(200);
        let mut cands: Vec<SeqPattern> = Vec::new();
        for c in 0..n_classes {
            let mut pos = 0usize;
            let class_db = train_db.filter(|_| {
                let keep = train_labels[pos] == c;
                pos += 1;
                keep
            });
            if class_db.is_empty() {
                continue;
            }
            let mut params = PrefixSpan::params()
                .min_count(MIN_GROUP_ROWS)
                .top_k(per_class)
                .max_len(self.max_len);
            if let Some(g) = self.max_gap {
                params = params.max_gap(g);
            }
            let miner = params.check().context("pattern-feature mining options")?;
            let mut sink = CollectSink::new();
            miner
                .mine(&class_db, &mut sink)
                .map_err(|e| self.mining_advice(e, c))?;
            for p in sink.into_sorted() {
                cands.push(SeqPattern::new(p.itemsets().map(|s| s.to_vec()).collect())?);
            }
        }
        let chosen = select_discriminative(
            &cands,
            &train_db,
            &train_labels,
            n_classes,
            self.measure,
            self.gap(),
            k,
        )?;
        let name = |i: &ItemId| rows.names.get(i.index()).cloned().unwrap_or_default();
        let kept = chosen
            .iter()
            .enumerate()
            .map(|(j, c)| {
                let tokens: Vec<Vec<String>> = c
                    .pattern
                    .itemsets
                    .iter()
                    .map(|s| s.iter().map(name).collect())
                    .collect();
                ChosenPattern {
                    column: format!("pat{j:02}"),
                    pattern: describe_tokens(&tokens),
                    tokens,
                    score: c.score,
                    class_support: c.class_support.clone(),
                }
            })
            .collect();
        Ok((kept, cands.len(), train_db.len()))
    }
}

impl FittedFeaturizer {
    /// A fitted featurizer over `patterns`, for a table with `feature_names` built from `source`.
    pub fn new(
        params: PatternFeaturizer,
        patterns: Vec<ChosenPattern>,
        feature_names: Vec<String>,
        source: TableSource,
    ) -> anyhow::Result<Self> {
        let mut f = FittedFeaturizer {
            params,
            patterns,
            feature_names,
            source,
            fingerprint: String::new(),
        };
        let bytes = serde_json::to_vec(&f)?;
        let digest = Sha256::digest(&bytes);
        f.fingerprint = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(f)
    }

    /// The three column names of each kept pattern, in order.
    pub fn pattern_columns(&self) -> Vec<String> {
        pattern_columns(&self.patterns)
    }

    /// One line saying which pattern set this is (for error messages).
    pub fn summary(&self) -> String {
        format!(
            "fingerprint {}: {} from {}, {} patterns by {}",
            self.fingerprint,
            self.source.task,
            self.source.input,
            self.patterns.len(),
            self.params.measure.name()
        )
    }

    /// What first differs between two fitted featurizers, in words (empty when nothing does).
    pub fn difference(&self, other: &FittedFeaturizer) -> String {
        if self.source.input_sha256 != other.source.input_sha256 {
            return format!(
                "built from different inputs ({} vs {})",
                self.source.input, other.source.input
            );
        }
        if self.source.task != other.source.task {
            return format!(
                "different task options ({} vs {})",
                self.source.task, other.source.task
            );
        }
        if self.params != other.params {
            return format!(
                "different pattern options ({} vs {})",
                self.params.describe(),
                other.params.describe()
            );
        }
        let n = self.patterns.len().max(other.patterns.len());
        for j in 0..n {
            let (a, b) = (self.patterns.get(j), other.patterns.get(j));
            if a.map(|p| &p.tokens) != b.map(|p| &p.tokens) {
                let show = |p: Option<&ChosenPattern>| {
                    p.map_or_else(
                        || "none".to_owned(),
                        |p| format!("{} = {}", p.column, p.pattern),
                    )
                };
                return format!("different patterns ({} vs {})", show(a), show(b));
            }
        }
        if self.feature_names != other.feature_names {
            return "different feature columns".to_owned();
        }
        String::new()
    }

    /// The pattern columns of every row of `rows` (`rows × 3K`).
    pub fn transform(&self, rows: &RowSequences) -> anyhow::Result<Array2<f64>> {
        // Pattern tokens → ids of this row set; a token the rows never use gets a fresh id and so
        // never matches.
        let mut id_of: HashMap<&str, u32> = rows
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i as u32))
            .collect();
        let mut pats = Vec::with_capacity(self.patterns.len());
        for p in &self.patterns {
            let mut itemsets = Vec::with_capacity(p.tokens.len());
            for s in &p.tokens {
                let mut set = Vec::with_capacity(s.len());
                for t in s {
                    let next = id_of.len() as u32;
                    set.push(ItemId(*id_of.entry(t.as_str()).or_insert(next)));
                }
                set.sort_unstable();
                itemsets.push(set);
            }
            pats.push(SeqPattern::new(itemsets)?);
        }
        let matcher = PatternMatcher::new(&pats, self.params.gap(), Reference::SequenceEnd)?;
        let m = matcher.match_db(&rows.db);
        // Dense columns, three per pattern.
        let n = rows.seq_of_row.len();
        let kk = pats.len();
        let mut x = Array2::<f64>::zeros((n, 3 * kk));
        for j in 0..kk {
            x.column_mut(3 * j + 2).fill(-1.0);
        }
        let times = rows.db.times();
        for r in 0..n {
            let Some(s) = rows.seq_of_row[r] else {
                continue;
            };
            let seq = rows.db.sequence(s);
            let last_t = times.map_or(rows.cutoff[r], |_| {
                seq.times().map_or(rows.cutoff[r], |t| t[t.len() - 1])
            });
            for (p, count, since) in m.row(s) {
                x[[r, 3 * p]] = 1.0;
                x[[r, 3 * p + 1]] = f64::from(count);
                x[[r, 3 * p + 2]] = (since + (rows.cutoff[r] - last_t) as f64) / HOUR_MS as f64;
            }
        }
        Ok(x)
    }
}

/// `patNN_occurs`, `patNN_count`, `patNN_since_h` of each pattern, in order.
fn pattern_columns(patterns: &[ChosenPattern]) -> Vec<String> {
    patterns
        .iter()
        .flat_map(|p| ["occurs", "count", "since_h"].map(|c| format!("{}_{c}", p.column)))
        .collect()
}

/// Fits `params` on the training rows of `built`, appends the pattern columns to its table and returns
/// the fitted featurizer (with no patterns when `params.k == 0`).
pub fn fit_transform(
    params: &PatternFeaturizer,
    built: &mut BuiltTask,
    log: &EventLog,
    dict: &Dictionary,
    spec: &TaskSpec,
    source: TableSource,
    quiet: bool,
) -> anyhow::Result<FittedFeaturizer> {
    params.check()?;
    if params.k == 0 {
        let names = built.table.feature_names.clone();
        return FittedFeaturizer::new(params.clone(), Vec::new(), names, source);
    }
    let mine = || -> anyhow::Result<_> {
        let rows = RowSequences::of_task(built, log, dict, spec, params)?;
        let n_classes = built.class_names.len();
        let (patterns, n_cands, n_train) =
            params.fit(&rows, &built.table.split, &built.table.label, n_classes)?;
        let mut names = built.table.feature_names.clone();
        names.extend(pattern_columns(&patterns));
        let fitted = FittedFeaturizer::new(params.clone(), patterns, names.clone(), source)?;
        let x = fitted.transform(&rows)?;
        Ok((fitted, x, names, n_cands, n_train))
    };
    let (fitted, x, names, n_cands, n_train) =
        crate::progress::with_spinner(quiet, "mining pattern features", mine)?;
    built.table.feature_names = names;
    built.table.x = concatenate(Axis(1), &[built.table.x.view(), x.view()])?;
    if !quiet {
        eprintln!(
            "pattern features: {n_cands} candidates mined on {n_train} training rows, kept {} by {}:",
            fitted.patterns.len(),
            params.measure.name()
        );
        for c in fitted.patterns.iter().take(10) {
            eprintln!("  {} {:.4} {}", c.column, c.score, c.pattern);
        }
    }
    Ok(fitted)
}

/// The fitted featurizer recorded in the manifest beside a feature CSV (`OUT.manifest.json`, written by
/// `cartseq task`); `None` when there is no manifest (a table from another tool) or it records none.
pub fn read_beside(csv: &std::path::Path) -> anyhow::Result<Option<FittedFeaturizer>> {
    read_param_beside(csv, "featurizer")
}

/// The parameter `name` recorded in the manifest beside a feature CSV; `None` when there is no
/// manifest or it records none.
pub fn read_param_beside<T: serde::de::DeserializeOwned>(
    csv: &std::path::Path,
    name: &str,
) -> anyhow::Result<Option<T>> {
    let path = crate::manifest::manifest_path(csv);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut v: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a cartseq manifest", path.display()))?;
    match v
        .pointer_mut(&format!("/parameters/{name}"))
        .map(serde_json::Value::take)
    {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(f) => Ok(Some(serde_json::from_value(f).with_context(|| {
            format!("{}: corrupt {name} record", path.display())
        })?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itemsets_read_as_people_see_them() {
        let names: Vec<String> = ["view:1", "cart_add:1", "fav:1"].map(String::from).to_vec();
        let (a, bc) = ([ItemId(0)], [ItemId(1), ItemId(2)]);
        assert_eq!(
            describe_itemsets([&a[..], &bc[..]], &names),
            "view:1 > (cart_add:1 fav:1)"
        );
        assert_eq!(describe_itemsets([&bc[..]], &names), "(cart_add:1 fav:1)");
    }

    fn fitted(measure: Measure, pattern: &[&str], input_sha: &str) -> FittedFeaturizer {
        let params = PatternFeaturizer {
            k: 1,
            measure,
            ..PatternFeaturizer::default()
        };
        let tokens: Vec<Vec<String>> = pattern.iter().map(|t| vec![(*t).to_owned()]).collect();
        let p = ChosenPattern {
            column: "pat00".into(),
            pattern: describe_tokens(&tokens),
            tokens,
            score: 0.5,
            class_support: vec![3, 4],
        };
        let source = TableSource {
            task: "purchase task".into(),
            input: "log.csv".into(),
            input_sha256: Some(input_sha.into()),
        };
        FittedFeaturizer::new(params, vec![p], vec!["n_events".into()], source).unwrap()
    }

    #[test]
    fn fingerprint_is_stable_and_tells_pattern_sets_apart() {
        let a = fitted(Measure::InfoGain, &["view", "cart"], "aa");
        assert_eq!(
            a.fingerprint,
            fitted(Measure::InfoGain, &["view", "cart"], "aa").fingerprint
        );
        assert_eq!(a.fingerprint.len(), 16);
        assert!(a.difference(&a.clone()).is_empty());
        let other_pattern = fitted(Measure::InfoGain, &["view", "buy"], "aa");
        assert_ne!(a.fingerprint, other_pattern.fingerprint);
        let d = a.difference(&other_pattern);
        assert!(d.contains("view > cart") && d.contains("view > buy"), "{d}");
        let other_measure = fitted(Measure::ChiSquare, &["view", "cart"], "aa");
        assert_ne!(a.fingerprint, other_measure.fingerprint);
        assert!(a
            .difference(&other_measure)
            .contains("--pattern-select chi2"));
        let other_log = fitted(Measure::InfoGain, &["view", "cart"], "bb");
        assert_ne!(a.fingerprint, other_log.fingerprint);
        assert!(a.difference(&other_log).contains("different inputs"));
    }

    #[test]
    fn fitted_featurizer_round_trips_through_json() {
        let a = fitted(Measure::SupportDiff, &["view", "cart"], "aa");
        let back: FittedFeaturizer =
            serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(a, back);
    }
}
