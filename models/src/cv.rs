//! Cross-validation splits, scoring and seeded hyper-parameter search over [`crate::ModelSpec`]s.
//!
//! Splits: [`stratified_kfold`] deals the rows of each class round-robin over the folds (optionally
//! after a seeded shuffle) so every fold keeps the class proportions and fold sizes differ by at most
//! one; [`time_series_split`] is scikit-learn's `TimeSeriesSplit` (each test block follows all its
//! training rows; rows must be in time order). Searches: [`grid_search`] tries every combination,
//! [`random_search`] draws `n_iter` distinct combinations with a seeded generator; both rank by the mean
//! fold score (higher is better; log loss is negated), ties keeping the enumeration order.
//!
//! Cost: folds × combinations model fits.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::metrics;
use crate::{Classifier, Dataset, Learner, ModelError, ModelSpec};

/// Train and test row indices of one fold.
pub type Fold = (Vec<usize>, Vec<usize>);

/// Stratified k-fold over labels `y`. `seed = None` keeps the row order within each class. With a
/// seed, one ChaCha8 generator shuffles the rows of each class in turn (class 0 first; an empty class
/// draws nothing). Also the folds of stacking ([`crate::ensemble::Folds::Stratified`]).
pub fn stratified_kfold(y: &[usize], k: usize, seed: Option<u64>) -> Result<Vec<Fold>, ModelError> {
    let n = y.len();
    if k < 2 || k > n {
        return Err(ModelError::Data(format!(
            "stratified k-fold needs 2 <= k <= rows, got k = {k} for {n} rows"
        )));
    }
    let n_classes = y.iter().max().map_or(0, |&m| m + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (i, &c) in y.iter().enumerate() {
        by_class[c].push(i);
    }
    let mut rng = seed.map(ChaCha8Rng::seed_from_u64);
    let mut fold_of = vec![0usize; n];
    let mut next = 0usize;
    for rows in &mut by_class {
        if let Some(r) = rng.as_mut() {
            rows.shuffle(r);
        }
        for &i in rows.iter() {
            fold_of[i] = next % k;
            next += 1;
        }
    }
    Ok((0..k)
        .map(|f| {
            let test: Vec<usize> = (0..n).filter(|&i| fold_of[i] == f).collect();
            let train: Vec<usize> = (0..n).filter(|&i| fold_of[i] != f).collect();
            (train, test)
        })
        .collect())
}

/// scikit-learn's `TimeSeriesSplit(n_splits)`: test blocks of `n / (n_splits + 1)` rows at the end,
/// each trained on every earlier row; the first training block also takes the `n mod (n_splits + 1)`
/// rows left over.
///
/// Stacking's temporal folds ([`crate::ensemble::Folds::Temporal`]) are a different split on purpose:
/// they cut the rows into `n_splits + 1` blocks of equal size (within one row), block `b` starting at
/// `b·n / (n_splits + 1)`. The two agree only when `n_splits + 1` divides `n`; stacks keep their own
/// blocks so their out-of-fold predictions (and so their models) stay as they were fitted.
pub fn time_series_split(n: usize, n_splits: usize) -> Result<Vec<Fold>, ModelError> {
    if n_splits < 2 || n_splits + 1 > n {
        return Err(ModelError::Data(format!(
            "time-series split needs 2 <= n_splits < rows, got n_splits = {n_splits} for {n} rows"
        )));
    }
    let test_size = n / (n_splits + 1);
    let first = n - n_splits * test_size;
    Ok((0..n_splits)
        .map(|s| {
            let start = first + s * test_size;
            ((0..start).collect(), (start..start + test_size).collect())
        })
        .collect())
}

/// What a search maximises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scoring {
    /// ROC-AUC (one-vs-rest macro for multiclass).
    RocAuc,
    /// Average precision of class 1 (binary).
    PrAuc,
    /// Negated log loss.
    NegLogLoss,
    /// Accuracy.
    Accuracy,
    /// Balanced accuracy.
    BalancedAccuracy,
    /// F1 (binary for two classes, macro otherwise).
    F1,
}

cartseq_data::named_enum!(Scoring, "a scoring", [
    "roc_auc" | "auc" => Scoring::RocAuc,
    "pr_auc" | "average_precision" => Scoring::PrAuc,
    "neg_log_loss" | "log_loss" => Scoring::NegLogLoss,
    "accuracy" => Scoring::Accuracy,
    "balanced_accuracy" => Scoring::BalancedAccuracy,
    "f1" => Scoring::F1,
]);

impl Scoring {
    /// Score of probabilities against the truth; `None` when undefined (ROC-AUC of a one-class fold).
    pub fn score(self, y: &[usize], proba: ndarray::ArrayView2<f64>) -> Option<f64> {
        let r = metrics::report(y, proba);
        match self {
            Scoring::RocAuc => r.roc_auc,
            Scoring::PrAuc => r.pr_auc,
            Scoring::NegLogLoss => Some(-r.log_loss),
            Scoring::Accuracy => Some(r.accuracy),
            Scoring::BalancedAccuracy => Some(r.balanced_accuracy),
            Scoring::F1 => Some(r.f1),
        }
    }
}

/// Fits `learner` on each fold's training rows and scores its test rows (`None` where undefined).
pub fn cross_val_score(
    learner: &dyn Learner,
    ds: &Dataset,
    folds: &[Fold],
    scoring: Scoring,
) -> Result<Vec<Option<f64>>, ModelError> {
    folds
        .iter()
        .map(|(train, test)| {
            let model = learner.fit_model(&ds.select(train))?;
            let te = ds.select(test);
            Ok(scoring.score(&te.y.to_vec(), model.predict_proba(&te)?.view()))
        })
        .collect()
}

/// One evaluated parameter combination.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// The `key=value` parameters tried (base parameters first).
    pub params: Vec<String>,
    /// Mean over the folds where the score is defined (NaN if none).
    pub mean: f64,
    /// Population standard deviation of those scores.
    pub std: f64,
    /// Per-fold scores.
    pub scores: Vec<Option<f64>>,
}

/// Parses `key=v1,v2,…` into a search axis.
pub fn parse_axis(s: &str) -> Result<(String, Vec<String>), ModelError> {
    let (k, vs) = s.split_once('=').ok_or_else(|| {
        ModelError::Registry(format!("search axis `{s}` is not of the form key=v1,v2,…"))
    })?;
    let values: Vec<String> = vs
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return Err(ModelError::Registry(format!(
            "search axis `{s}` lists no value"
        )));
    }
    Ok((k.trim().to_string(), values))
}

fn evaluate(
    model: &str,
    base: &[String],
    combo: Vec<String>,
    ds: &Dataset,
    folds: &[Fold],
    scoring: Scoring,
) -> Result<SearchResult, ModelError> {
    let mut params: Vec<String> = base.to_vec();
    params.extend(combo);
    let learner = ModelSpec::from_cli(model, &params)?;
    let scores = cross_val_score(&learner, ds, folds, scoring)?;
    let defined: Vec<f64> = scores.iter().flatten().copied().collect();
    let mean = if defined.is_empty() {
        f64::NAN
    } else {
        defined.iter().sum::<f64>() / defined.len() as f64
    };
    let std = if defined.is_empty() {
        f64::NAN
    } else {
        (defined.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / defined.len() as f64).sqrt()
    };
    Ok(SearchResult {
        params,
        mean,
        std,
        scores,
    })
}

fn rank(mut results: Vec<SearchResult>) -> Vec<SearchResult> {
    // Stable: ties keep the enumeration order; NaN means last.
    results.sort_by(|a, b| {
        let key = |r: &SearchResult| {
            if r.mean.is_nan() {
                f64::NEG_INFINITY
            } else {
                r.mean
            }
        };
        key(b).total_cmp(&key(a))
    });
    results
}

/// Every combination of the axes `(key, values)` as `key=value` lists, the first axis varying slowest
/// (the grid of [`grid_search`], and of the command line's `--grid`).
pub fn combinations(axes: &[(String, Vec<String>)]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    for (k, vs) in axes {
        out = out
            .into_iter()
            .flat_map(|c| {
                vs.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(format!("{k}={v}"));
                    c
                })
            })
            .collect();
    }
    out
}

/// Exhaustive grid search of model `model` ([`ModelSpec::from_cli`] names) (`base` parameters fixed, `axes` varied), ranked
/// best first. Refuses more than 10 000 combinations.
pub fn grid_search(
    model: &str,
    base: &[String],
    axes: &[(String, Vec<String>)],
    ds: &Dataset,
    folds: &[Fold],
    scoring: Scoring,
) -> Result<Vec<SearchResult>, ModelError> {
    let total: usize = axes.iter().map(|(_, v)| v.len()).product();
    if total > 10_000 {
        return Err(ModelError::Data(format!(
            "the grid has {total} combinations (limit 10 000): use random search or fewer values"
        )));
    }
    let results = combinations(axes)
        .into_iter()
        .map(|c| evaluate(model, base, c, ds, folds, scoring))
        .collect::<Result<_, _>>()?;
    Ok(rank(results))
}

#[allow(clippy::too_many_arguments)]
/// Random search: `n_iter` distinct combinations drawn uniformly with `seed`, ranked best first.
pub fn random_search(
    model: &str,
    base: &[String],
    axes: &[(String, Vec<String>)],
    n_iter: usize,
    seed: u64,
    ds: &Dataset,
    folds: &[Fold],
    scoring: Scoring,
) -> Result<Vec<SearchResult>, ModelError> {
    let total: f64 = axes.iter().map(|(_, v)| v.len() as f64).product();
    let want = (n_iter as f64).min(total) as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut seen = std::collections::BTreeSet::new();
    let mut combos = Vec::new();
    let mut attempts = 0usize;
    while combos.len() < want && attempts < want * 100 + 100 {
        attempts += 1;
        let pick: Vec<usize> = axes
            .iter()
            .map(|(_, v)| rng.gen_range(0..v.len()))
            .collect();
        if seen.insert(pick.clone()) {
            combos.push(
                axes.iter()
                    .zip(&pick)
                    .map(|((k, v), &i)| format!("{k}={}", v[i]))
                    .collect::<Vec<_>>(),
            );
        }
    }
    let results = combos
        .into_iter()
        .map(|c| evaluate(model, base, c, ds, folds, scoring))
        .collect::<Result<_, _>>()?;
    Ok(rank(results))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};

    #[test]
    fn stratified_folds_partition_and_balance() {
        let y: Vec<usize> = (0..103).map(|i| usize::from(i % 4 == 0)).collect();
        let folds = stratified_kfold(&y, 5, Some(1)).unwrap();
        let mut all: Vec<usize> = folds.iter().flat_map(|(_, t)| t.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
        for (train, test) in &folds {
            assert_eq!(train.len() + test.len(), 103);
            let pos = test.iter().filter(|&&i| y[i] == 1).count();
            assert!((5..=6).contains(&pos), "{pos}");
            assert!((20..=21).contains(&test.len()));
        }
        assert!(stratified_kfold(&y, 1, None).is_err());
    }

    #[test]
    fn time_series_split_matches_sklearn() {
        // sklearn TimeSeriesSplit(n_splits=3) on 10 rows: train [0..4) test [4,5]; [0..6) [6,7]; [0..8) [8,9].
        let f = time_series_split(10, 3).unwrap();
        assert_eq!(f[0], ((0..4).collect(), vec![4, 5]));
        assert_eq!(f[2], ((0..8).collect(), vec![8, 9]));
    }

    #[test]
    fn searches_rank_and_are_seeded() {
        let x = Array2::from_shape_fn((200, 2), |(i, j)| ((i * 7 + j * 13) % 17) as f64);
        let y: Array1<usize> = x
            .rows()
            .into_iter()
            .map(|r| usize::from(r[0] + r[1] > 16.0))
            .collect();
        let ds = Dataset::new(x, y.clone(), 2).unwrap();
        let folds = stratified_kfold(&y.to_vec(), 3, Some(0)).unwrap();
        let axes = vec![parse_axis("max_depth=1,4").unwrap()];
        let r = grid_search("dt", &[], &axes, &ds, &folds, Scoring::Accuracy).unwrap();
        assert_eq!(r[0].params, vec!["max_depth=4".to_string()]);
        assert!(r[0].mean >= r[1].mean);
        let axes = vec![
            parse_axis("max_depth=1,2,3,4").unwrap(),
            parse_axis("criterion=gini,entropy").unwrap(),
        ];
        let a = random_search("dt", &[], &axes, 3, 7, &ds, &folds, Scoring::RocAuc).unwrap();
        let b = random_search("dt", &[], &axes, 3, 7, &ds, &folds, Scoring::RocAuc).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 3);
    }
}
