//! Paired bootstrap confidence intervals for the difference of two models' test metrics, used by
//! `cartseq leaderboard --ablate-patterns` (every model with and without pattern features, same split).
//!
//! Both models predicted the same test rows, so the rows are resampled **together**: each replicate draws
//! `n` row indices with replacement (seeded ChaCha8), computes the metric of model A and of model B on
//! those rows, and records `A − B`. The 95% interval is the 2.5th–97.5th percentile of the replicate
//! differences (the percentile bootstrap of [`cartseq_models::bootstrap`], shared with the next-item
//! intervals); the point estimate is the
//! difference on the full test set. A replicate with only one class present has no ROC-AUC and is
//! skipped (counted in `skipped`). When the interval excludes 0 the difference is called significant at
//! the 5% level.
//!
//! The metrics themselves are `cartseq_models::metrics` (ROC-AUC by trapezoids between distinct
//! scores, which equals the tie-averaged rank-sum; binary F1 of class 1), the same functions that score
//! every model in `train`, `leaderboard` and `report`.
//!
//! Cost: `reps × (n log n)` for ROC-AUC (a sort per replicate), `reps × n` for F1; memory `O(n)`.

use cartseq_models::bootstrap::Replicates;
use cartseq_models::metrics::{self, Average};
use cartseq_models::{Classifier, Dataset, Learner};
use ndarray::Axis;

use crate::experiment::Splits;

/// Bootstrap replicates of the ablation's paired intervals when the user gives none (`--bootstrap`
/// of `leaderboard` and `report`).
pub const DEFAULT_BOOTSTRAP: usize = 1000;

/// A paired bootstrap interval for `metric(A) − metric(B)`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DiffCi {
    /// Metric name (`roc_auc`, `f1`).
    pub metric: String,
    /// Metric of model A on the full test set.
    pub a: f64,
    /// Metric of model B on the full test set.
    pub b: f64,
    /// `a − b`.
    pub diff: f64,
    /// Lower end of the 95% interval.
    pub lo: f64,
    /// Upper end of the 95% interval.
    pub hi: f64,
    /// Replicates used.
    pub reps: usize,
    /// Replicates skipped (metric undefined on the resample).
    pub skipped: usize,
}

impl DiffCi {
    /// Whether the interval excludes zero.
    pub fn significant(&self) -> bool {
        self.lo > 0.0 || self.hi < 0.0
    }
}

/// Paired bootstrap of a metric difference. `metric(rows)` returns `(A, B)` on the given row indices
/// (`None` when undefined on that resample).
pub fn paired_bootstrap(
    name: &str,
    n: usize,
    reps: usize,
    seed: u64,
    metric: impl Fn(&[usize]) -> Option<(f64, f64)>,
) -> Option<DiffCi> {
    let all: Vec<usize> = (0..n).collect();
    let (a, b) = metric(&all)?;
    let diffs = Replicates::draw(n, reps, seed, |idx| metric(idx).map(|(x, y)| x - y));
    let (lo, hi) = diffs.interval95();
    Some(DiffCi {
        metric: name.to_owned(),
        a,
        b,
        diff: a - b,
        lo,
        hi,
        reps: diffs.values.len(),
        skipped: diffs.skipped,
    })
}

/// ROC-AUC and F1 difference intervals of two binary models on the same test rows: `score_*` is
/// P(positive), predictions are `score ≥ 0.5`.
pub fn binary_diffs(
    positive: &[bool],
    score_a: &[f64],
    score_b: &[f64],
    reps: usize,
    seed: u64,
) -> Vec<DiffCi> {
    let n = positive.len();
    let mut out = Vec::new();
    let pick = |v: &[f64], idx: &[usize]| -> Vec<f64> { idx.iter().map(|&i| v[i]).collect() };
    let auc = paired_bootstrap("roc_auc", n, reps, seed, |idx| {
        let y: Vec<bool> = idx.iter().map(|&i| positive[i]).collect();
        Some((
            metrics::roc_auc(&y, &pick(score_a, idx))?,
            metrics::roc_auc(&y, &pick(score_b, idx))?,
        ))
    });
    out.extend(auc);
    // Labels as class indices (1 = positive), predictions `score ≥ 0.5`, binary F1 of class 1.
    let class = |yes: bool| usize::from(yes);
    let f = paired_bootstrap("f1", n, reps, seed, |idx| {
        let y: Vec<usize> = idx.iter().map(|&i| class(positive[i])).collect();
        let pa: Vec<usize> = idx.iter().map(|&i| class(score_a[i] >= 0.5)).collect();
        let pb: Vec<usize> = idx.iter().map(|&i| class(score_b[i] >= 0.5)).collect();
        let f1 = |pred: &[usize]| metrics::f1(&y, pred, Average::Binary { pos_label: 1 });
        Some((f1(&pa), f1(&pb)))
    });
    out.extend(f);
    out
}

/// Whether a column is a pattern feature (`patNN_occurs`, `patNN_count`, `patNN_since_h`).
pub fn is_pattern_column(name: &str) -> bool {
    name.strip_prefix("pat").is_some_and(|r| {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && r[digits..].starts_with('_')
    })
}

/// The dataset without its pattern-feature columns (same rows, labels, weights and sequences).
pub fn without_patterns(ds: &Dataset) -> Dataset {
    let keep: Vec<usize> = (0..ds.ncols())
        .filter(|&j| !is_pattern_column(&ds.feature_names[j]))
        .collect();
    Dataset {
        x: ds.x.select(Axis(1), &keep),
        y: ds.y.clone(),
        weights: ds.weights.clone(),
        feature_names: keep.iter().map(|&j| ds.feature_names[j].clone()).collect(),
        n_classes: ds.n_classes,
        seqs: ds.seqs.clone(),
    }
}

/// One model with and without pattern features.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AblationRow {
    /// Model name.
    pub model: String,
    /// Intervals of `with − without` (ROC-AUC, F1); empty when a fit failed.
    pub diffs: Vec<DiffCi>,
    /// Why the comparison is missing, if it is.
    pub error: Option<String>,
}

/// Fits every model again without the pattern columns and compares it with its predictions `with`
/// (P(positive) on `split.test`, fitted on `split.train` with pattern columns) by paired bootstrap.
/// Binary tasks only.
pub fn ablate(
    with: &[(String, Vec<f64>)],
    make: &dyn Fn(&str) -> anyhow::Result<Box<dyn Learner>>,
    split: &Splits,
    reps: usize,
    seed: u64,
) -> anyhow::Result<Vec<AblationRow>> {
    let (train, test) = (&split.train, &split.test);
    anyhow::ensure!(
        train.n_classes == 2,
        "--ablate-patterns reports ROC-AUC/F1 differences and needs a binary task (purchase, abandon, churn)"
    );
    anyhow::ensure!(
        train.feature_names.iter().any(|n| is_pattern_column(n)),
        "--ablate-patterns needs pattern features: add --pattern-features K"
    );
    let (tr, te) = (without_patterns(train), without_patterns(test));
    let positive: Vec<bool> = test.y.iter().map(|&c| c == 1).collect();
    let mut rows = Vec::new();
    for (name, p_with) in with {
        let fitted = make(name).and_then(|l| Ok(l.fit_model(&tr)?.predict_proba(&te)?));
        let row = match fitted {
            Ok(p) => {
                let p_without: Vec<f64> = p.column(1).to_vec();
                AblationRow {
                    model: name.clone(),
                    diffs: binary_diffs(&positive, p_with, &p_without, reps, seed),
                    error: None,
                }
            }
            Err(e) => AblationRow {
                model: name.clone(),
                diffs: Vec::new(),
                error: Some(e.to_string()),
            },
        };
        rows.push(row);
    }
    Ok(rows)
}

/// The ablation as a text table.
pub fn table(rows: &[AblationRow]) -> String {
    let mut s = format!(
        "{:<10} {:>9} {:>9} {:>8} {:>19} {:>7} {:>7} {:>8} {:>19}\n",
        "model", "auc_with", "auc_w/o", "diff", "95% CI", "f1_with", "f1_w/o", "diff", "95% CI"
    );
    for r in rows {
        if r.diffs.len() < 2 {
            s.push_str(&format!(
                "{:<10} n/a: {}\n",
                r.model,
                r.error.as_deref().unwrap_or("metric undefined")
            ));
            continue;
        }
        let (a, f) = (&r.diffs[0], &r.diffs[1]);
        let ci = |d: &DiffCi| {
            format!(
                "[{:+.4}, {:+.4}]{}",
                d.lo,
                d.hi,
                if d.significant() { "*" } else { " " }
            )
        };
        s.push_str(&format!(
            "{:<10} {:>9.4} {:>9.4} {:>+8.4} {:>19} {:>7.4} {:>7.4} {:>+8.4} {:>19}\n",
            r.model,
            a.a,
            a.b,
            a.diff,
            ci(a),
            f.a,
            f.b,
            f.diff,
            ci(f)
        ));
    }
    s.push_str("(* the 95% paired-bootstrap interval excludes 0)\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Box–Muller standard normal, so the test needs no extra crate.
    fn normal(rng: &mut impl Rng) -> f64 {
        let u: f64 = rng.gen::<f64>().max(1e-300);
        let v: f64 = rng.gen();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// `n` rows, positive with probability `rate`, and two models' scores: N(0, 1) for negatives and
    /// N(μ, 1) for positives, μ = `shift_a` for model A and `shift_b` for model B.
    fn simulate(
        rng: &mut ChaCha8Rng,
        n: usize,
        rate: f64,
        shift_a: f64,
        shift_b: f64,
    ) -> (Vec<bool>, Vec<f64>, Vec<f64>) {
        let y: Vec<bool> = (0..n).map(|_| rng.gen::<f64>() < rate).collect();
        let mut scores = |shift: f64| -> Vec<f64> {
            y.iter()
                .map(|&p| normal(&mut *rng) + if p { shift } else { 0.0 })
                .collect()
        };
        let (a, b) = (scores(shift_a), scores(shift_b));
        (y, a, b)
    }

    /// The full-set point estimates are `models::metrics` values: ROC-AUC with ties averaged,
    /// undefined with one class; F1 of `score ≥ 0.5`.
    #[test]
    fn auc_and_f1_by_hand() {
        let y = [true, false, true, false];
        let d = binary_diffs(&y, &[0.9, 0.1, 0.8, 0.3], &[0.5, 0.5, 0.5, 0.5], 20, 1);
        assert_eq!(
            (d[0].metric.as_str(), d[0].a, d[0].b),
            ("roc_auc", 1.0, 0.5)
        );
        let one_class = binary_diffs(&[true, true], &[0.1, 0.2], &[0.3, 0.4], 20, 1);
        assert!(one_class.iter().all(|c| c.metric != "roc_auc"));
        let f = &binary_diffs(&y, &[0.9, 0.6, 0.1, 0.2], &[0.9, 0.1, 0.8, 0.3], 20, 1)[1];
        assert_eq!(f.metric, "f1");
        assert!((f.a - 0.5).abs() < 1e-12 && (f.b - 1.0).abs() < 1e-12);
    }

    /// Positives score N(μ, 1), negatives N(0, 1): the population ROC-AUC is Φ(μ/√2). Model A has
    /// μ = 1 (AUC 0.7602), model B μ = 0.5 (AUC 0.6382): a known difference of 0.1220.
    #[test]
    fn interval_covers_a_known_effect() {
        let true_diff = 0.760_249_938_906_524_4 - 0.638_163_195_185_114_9;
        let (experiments, n) = (60, 800);
        let mut covered = 0;
        let mut significant = 0;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for e in 0..experiments {
            let (y, a, b) = simulate(&mut rng, n, 0.4, 1.0, 0.5);
            let ci = &binary_diffs(&y, &a, &b, 300, e)[0];
            assert_eq!(ci.metric, "roc_auc");
            assert!(ci.lo <= ci.diff && ci.diff <= ci.hi);
            covered += usize::from(ci.lo <= true_diff && true_diff <= ci.hi);
            significant += usize::from(ci.significant());
        }
        // Nominal 95%: 60 experiments cover the truth ~57 times; allow sampling slack.
        assert!(covered >= 52, "covered {covered} of {experiments}");
        assert!(
            significant >= 55,
            "significant {significant} of {experiments}"
        );
    }

    #[test]
    fn no_effect_is_rarely_significant() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut significant = 0;
        for e in 0..40 {
            let (y, a, b) = simulate(&mut rng, 600, 0.3, 0.8, 0.8);
            significant += usize::from(binary_diffs(&y, &a, &b, 300, e)[0].significant());
        }
        assert!(significant <= 6, "{significant} of 40 false positives");
    }

    #[test]
    fn pattern_columns_are_recognised() {
        assert!(is_pattern_column("pat00_occurs") && is_pattern_column("pat123_since_h"));
        assert!(
            !is_pattern_column("pattern")
                && !is_pattern_column("pat_x")
                && !is_pattern_column("n_view")
        );
    }

    #[test]
    fn bootstrap_is_seeded() {
        let y: Vec<bool> = (0..100).map(|i| i % 3 == 0).collect();
        let a: Vec<f64> = (0..100).map(|i| (i % 7) as f64).collect();
        let b: Vec<f64> = (0..100).map(|i| (i % 5) as f64).collect();
        assert_eq!(
            binary_diffs(&y, &a, &b, 200, 9),
            binary_diffs(&y, &a, &b, 200, 9)
        );
    }
}
