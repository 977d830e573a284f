//! Ensembles of any [`crate::Learner`]s: [`Voting`] (soft and hard), [`Bagging`] and [`Stacking`] with
//! out-of-fold predictions (stratified or time-ordered folds).
//!
//! Every ensemble is itself a [`crate::Learner`], so ensembles nest (bagged stacks, stacks of bags) and
//! drop into the same leaderboard as single models. Members may mix tabular models and sequence models
//! (LSTM/GRU read `Dataset::seqs`, which [`crate::Dataset::select`] keeps aligned with the rows).

pub mod bagging;
pub mod stacking;
pub mod voting;

pub use bagging::{Bagging, BaggingModel};
pub use stacking::{Folds, Split, StackModel, Stacking};
pub use voting::{VoteKind, Voting, VotingModel};

/// Fits every learner on `ds`, in parallel (each fit is deterministic, so the models do not depend on
/// the thread count).
fn fit_all(
    learners: &[Box<dyn crate::Learner>],
    ds: &crate::Dataset,
) -> Result<Vec<crate::FittedModel>, crate::ModelError> {
    use rayon::prelude::*;
    learners.par_iter().map(|l| l.fit_model(ds)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Classifier, Dataset, FittedModel, Learner, ModelError};
    use ndarray::{Array1, Array2};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::HashMap;

    /// ROC-AUC by ranks (ties averaged), independent of the metrics module.
    fn auc(y: &[usize], s: &[f64]) -> f64 {
        let mut idx: Vec<usize> = (0..y.len()).collect();
        idx.sort_by(|&a, &b| s[a].total_cmp(&s[b]));
        let mut ranks = vec![0.0; y.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && s[idx[j + 1]] == s[idx[i]] {
                j += 1;
            }
            for k in i..=j {
                ranks[idx[k]] = (i + j) as f64 / 2.0 + 1.0;
            }
            i = j + 1;
        }
        let pos = y.iter().filter(|&&c| c == 1).count() as f64;
        let neg = y.len() as f64 - pos;
        let rsum: f64 = (0..y.len()).filter(|&i| y[i] == 1).map(|i| ranks[i]).sum();
        (rsum - pos * (pos + 1.0) / 2.0) / (pos * neg)
    }

    fn prior(ds: &Dataset) -> Vec<f64> {
        let c = ds.class_weights_sum();
        let t: f64 = c.iter().sum();
        c.iter().map(|v| v / t).collect()
    }

    fn rows_of(p: Vec<f64>, n: usize) -> Array2<f64> {
        let k = p.len();
        Array2::from_shape_fn((n, k), |(_, j)| p[j])
    }

    /// Memorises its training rows exactly (a lookup table keyed by the feature bits, like 1-NN at
    /// distance 0); unseen rows get the training prior.
    struct Lookup;
    struct LookupModel(HashMap<Vec<u64>, usize>, Vec<f64>);
    impl Learner for Lookup {
        fn fit_model(&self, ds: &Dataset) -> Result<FittedModel, ModelError> {
            let mut m = HashMap::new();
            for (i, r) in ds.x.rows().into_iter().enumerate() {
                m.insert(r.iter().map(|v| v.to_bits()).collect(), ds.y[i]);
            }
            Ok(FittedModel::external(LookupModel(m, prior(ds))))
        }
        fn name(&self) -> String {
            "lookup".into()
        }
    }
    impl Classifier for LookupModel {
        fn n_classes(&self) -> usize {
            self.1.len()
        }
        fn predict_proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
            let mut out = rows_of(self.1.clone(), ds.nrows());
            for (i, r) in ds.x.rows().into_iter().enumerate() {
                let key: Vec<u64> = r.iter().map(|v| v.to_bits()).collect();
                if let Some(&c) = self.0.get(&key) {
                    out.row_mut(i).fill(0.0);
                    out[[i, c]] = 1.0;
                }
            }
            Ok(out)
        }
    }

    /// Honest weak learner: class frequencies in 5 equal-width bins of column 0 (Laplace-smoothed).
    struct Bins;
    struct BinsModel(Vec<Vec<f64>>);
    fn bin(v: f64) -> usize {
        ((v * 5.0) as usize).min(4)
    }
    impl Learner for Bins {
        fn fit_model(&self, ds: &Dataset) -> Result<FittedModel, ModelError> {
            let mut c = vec![vec![1.0; ds.n_classes]; 5];
            for i in 0..ds.nrows() {
                c[bin(ds.x[[i, 0]])][ds.y[i]] += ds.weight(i);
            }
            for r in &mut c {
                let t: f64 = r.iter().sum();
                r.iter_mut().for_each(|v| *v /= t);
            }
            Ok(FittedModel::external(BinsModel(c)))
        }
        fn name(&self) -> String {
            "bins".into()
        }
    }
    impl Classifier for BinsModel {
        fn n_classes(&self) -> usize {
            self.0[0].len()
        }
        fn predict_proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
            Ok(Array2::from_shape_fn(
                (ds.nrows(), self.n_classes()),
                |(i, j)| self.0[bin(ds.x[[i, 0]])][j],
            ))
        }
    }

    /// A fitted two-class test model: P(1) of row `i` of `ds` is `p1(ds, i)`.
    struct TwoClass<F>(F);
    impl<F: Fn(&Dataset, usize) -> f64 + Send + Sync> Classifier for TwoClass<F> {
        fn n_classes(&self) -> usize {
            2
        }
        fn predict_proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
            Ok(Array2::from_shape_fn((ds.nrows(), 2), |(i, j)| {
                let p = (self.0)(ds, i);
                if j == 1 {
                    p
                } else {
                    1.0 - p
                }
            }))
        }
    }

    /// Binary logistic regression by plain gradient descent (test-only meta-learner).
    struct Logit;
    impl Learner for Logit {
        fn fit_model(&self, ds: &Dataset) -> Result<FittedModel, ModelError> {
            let (n, d) = (ds.nrows(), ds.ncols());
            let (mut w, mut b) = (vec![0.0; d], 0.0);
            for _ in 0..2000 {
                let mut gw = vec![0.0; d];
                let mut gb = 0.0;
                for i in 0..n {
                    let z: f64 = b + (0..d).map(|j| w[j] * ds.x[[i, j]]).sum::<f64>();
                    let e = 1.0 / (1.0 + (-z).exp()) - ds.y[i] as f64;
                    gb += e;
                    (0..d).for_each(|j| gw[j] += e * ds.x[[i, j]]);
                }
                b -= 2.0 * gb / n as f64;
                (0..d).for_each(|j| w[j] -= 2.0 * gw[j] / n as f64);
            }
            Ok(FittedModel::external(TwoClass(move |ds: &Dataset, i| {
                let z: f64 = b + (0..w.len()).map(|k| w[k] * ds.x[[i, k]]).sum::<f64>();
                1.0 / (1.0 + (-z).exp())
            })))
        }
        fn name(&self) -> String {
            "logit".into()
        }
    }

    /// y depends weakly on x0; x1 is a unique row id, so `Lookup` memorises every training row.
    fn weak_signal(n: usize, seed: u64, id_base: f64) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Array2::zeros((n, 2));
        let mut y = Array1::zeros(n);
        for i in 0..n {
            let v: f64 = rng.gen();
            x[[i, 0]] = v;
            x[[i, 1]] = id_base + i as f64;
            y[i] = usize::from(rng.gen::<f64>() < 0.25 + 0.5 * v);
        }
        Dataset::new(x, y, 2).unwrap()
    }

    fn p1(m: &dyn Classifier, ds: &Dataset) -> Vec<f64> {
        m.predict_proba(ds).unwrap().column(1).to_vec()
    }

    #[test]
    fn memorising_base_cannot_inflate_the_stack() {
        let train = weak_signal(800, 1, 0.0);
        let test = weak_signal(800, 2, 1e6);
        let ytr = train.y.to_vec();
        let yte = test.y.to_vec();
        let stack = Stacking::new(vec![Box::new(Lookup), Box::new(Bins)], Box::new(Logit))
            .folds(Folds::Stratified { k: 5, seed: 7 });
        let model = stack.fit(&train).unwrap();
        // Out of fold, the memoriser only ever sees unseen rows: its column carries no information.
        let lookup_oof: Vec<f64> = model.oof.column(0).to_vec();
        assert!(
            (auc(&ytr, &lookup_oof) - 0.5).abs() < 0.1,
            "{}",
            auc(&ytr, &lookup_oof)
        );
        // Negative control: the in-sample column a leaky stack would use is perfect.
        let leaky = Lookup.fit_model(&train).unwrap();
        assert_eq!(auc(&ytr, &p1(&leaky, &train)), 1.0);

        let honest = Bins.fit_model(&train).unwrap();
        let auc_honest = auc(&yte, &p1(&honest, &test));
        let auc_stack = auc(&yte, &p1(&model, &test));
        assert!(auc_honest > 0.6, "{auc_honest}");
        assert!(
            auc_stack > auc_honest - 0.03,
            "stack {auc_stack} vs honest base {auc_honest}"
        );
        // What the stack reports about itself (its meta-learner on the out-of-fold rows) is not more
        // optimistic than held-out data.
        let apparent = auc(&ytr, &model.oof_proba().column(1).to_vec());
        assert!(
            apparent < auc_stack + 0.06,
            "apparent {apparent} vs held-out {auc_stack}"
        );
    }

    /// Predicts P(1) = 1 for rows (by x0) it was fitted on, 0 otherwise; with x0 = row id, its
    /// out-of-fold column shows whether a row ever predicted itself, and `MaxSeen` which rows trained it.
    struct Seen;
    impl Learner for Seen {
        fn fit_model(&self, ds: &Dataset) -> Result<FittedModel, ModelError> {
            let mut v: Vec<u64> = ds.x.column(0).iter().map(|v| v.to_bits()).collect();
            v.sort_unstable();
            let max = ds.x.column(0).iter().copied().fold(f64::MIN, f64::max);
            Ok(FittedModel::external(TwoClass(move |ds: &Dataset, i| {
                let seen = v.binary_search(&ds.x[[i, 0]].to_bits()).is_ok();
                // P(1) encodes "seen" (as 1) plus the largest training row id scaled into [0, 0.5).
                if seen {
                    1.0
                } else {
                    max / 1e4
                }
            })))
        }
        fn name(&self) -> String {
            "seen".into()
        }
    }

    fn ids(n: usize) -> Dataset {
        let x = Array2::from_shape_fn((n, 1), |(i, _)| i as f64);
        let y: Array1<usize> = (0..n).map(|i| usize::from(i % 3 == 0)).collect();
        Dataset::new(x, y, 2).unwrap()
    }

    #[test]
    fn out_of_fold_rows_never_predict_themselves() {
        let ds = ids(103);
        let s = Stacking::new(vec![Box::new(Seen)], Box::new(Logit));
        let (oof, rows) = s
            .folds(Folds::Stratified { k: 4, seed: 3 })
            .out_of_fold(&ds)
            .unwrap();
        assert_eq!(rows, (0..103).collect::<Vec<_>>());
        assert!(oof.column(0).iter().all(|&v| v < 1.0));
    }

    #[test]
    fn stacking_folds_are_the_cross_validation_folds() {
        let y: Vec<usize> = (0..53).map(|i| (i * 7 % 5).min(2)).collect();
        let stack = Folds::Stratified { k: 4, seed: 9 }.splits(&y).unwrap();
        let cv = crate::cv::stratified_kfold(&y, 4, Some(9)).unwrap();
        let pairs: Vec<_> = stack.into_iter().map(|s| (s.train, s.test)).collect();
        assert_eq!(pairs, cv);
        let err = Folds::Stratified { k: 54, seed: 0 }.splits(&y).unwrap_err();
        assert!(err.to_string().contains("folds"), "{err}");
    }

    #[test]
    fn temporal_folds_only_look_back() {
        let ds = ids(100);
        let s =
            Stacking::new(vec![Box::new(Seen)], Box::new(Logit)).folds(Folds::Temporal { k: 4 });
        let (oof, rows) = s.out_of_fold(&ds).unwrap();
        assert_eq!(rows, (20..100).collect::<Vec<_>>());
        for (r, &i) in rows.iter().enumerate() {
            let max_train = (oof[[r, 0]] * 1e4).round() as usize;
            assert!(
                oof[[r, 0]] < 1.0 && max_train < i,
                "row {i} predicted by a model trained up to {max_train}"
            );
            assert_eq!(max_train, (i / 20) * 20 - 1);
        }
        let splits = Folds::Temporal { k: 4 }.splits(&ds.y.to_vec()).unwrap();
        assert_eq!(splits.len(), 4);
        assert!(Folds::Stratified { k: 1, seed: 0 }.splits(&[0, 1]).is_err());
    }

    #[test]
    fn voting_soft_and_hard() {
        let train = weak_signal(300, 5, 0.0);
        let soft = Voting::new(vec![Box::new(Bins), Box::new(Lookup)], VoteKind::Soft);
        let m = soft.fit_model(&train).unwrap();
        let a = Bins
            .fit_model(&train)
            .unwrap()
            .predict_proba(&train)
            .unwrap();
        let b = Lookup
            .fit_model(&train)
            .unwrap()
            .predict_proba(&train)
            .unwrap();
        let want = (&a + &b) / 2.0;
        assert!((m.predict_proba(&train).unwrap() - want)
            .iter()
            .all(|v| v.abs() < 1e-12));
        let hard = Voting::new(
            vec![Box::new(Bins), Box::new(Lookup), Box::new(Lookup)],
            VoteKind::Hard,
        );
        let mh = hard.fit_model(&train).unwrap();
        // Two memorisers outvote the bins on their own training rows.
        assert_eq!(mh.predict(&train).unwrap(), train.y);
        let p = mh.predict_proba(&train).unwrap();
        assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-12));
        assert!(Voting::new(vec![Box::new(Bins)], VoteKind::Soft)
            .weights(vec![-1.0])
            .check()
            .is_err());
        assert!(Voting::new(vec![], VoteKind::Soft).check().is_err());
    }

    #[test]
    fn bagging_is_deterministic_for_any_thread_count() {
        let train = weak_signal(300, 9, 0.0);
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let bag = Bagging::new(Box::new(Bins)).n_estimators(7).seed(11);
                bag.fit_model(&train)
                    .unwrap()
                    .predict_proba(&train)
                    .unwrap()
            })
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(a, b);
        // Different bootstrap samples really differ from the single model.
        let single = Bins
            .fit_model(&train)
            .unwrap()
            .predict_proba(&train)
            .unwrap();
        assert!(a != single);
        assert!(Bagging::new(Box::new(Bins))
            .max_samples(0.0)
            .check()
            .is_err());
        let s = Bagging::new(Box::new(Bins)).max_samples(0.5).sample(0, 100);
        assert_eq!(s.len(), 50);
    }
}
