//! Hybrids of next-item models: a weighted sum of their per-prefix normalised scores with weights
//! tuned on a validation split, and stacking of their scores by a learned combiner.
//!
//! * **Normalisation.** For every prefix, each member's score vector is min-max scaled to `[0, 1]`
//!   (`(s − min) / (max − min)`, all zeros when constant), so members on different scales (logits of
//!   a network, similarities of a kNN, rule confidences) can be added. This is session-rec's
//!   `WeightedHybrid` with its members normalised by their maximum.
//! * **Weighted** ([`Combiner::Weighted`]): `Σ_m w_m · ŝ_m`. [`tune_weights`] searches the simplex
//!   grid `w_m ∈ {0, h, 2h, …}`, `Σ w_m = 1` (h = 0.1 for up to three members, 0.2 up to five, 0.25
//!   beyond) on validation sessions only and keeps the weights of the best MRR@20 (ties: Recall@20,
//!   then the first grid point).
//! * **Stacked** ([`Combiner::Stacked`]): for every prefix the candidates are the union of each
//!   member's top `depth` items (default 50); each candidate gets the features `ŝ_m` and `1 / rank_m`
//!   (rank within member m, `depth + 1` when outside its top list) for every member, and a logistic
//!   regression (this crate's L-BFGS one, C = 1) learns on validation prefixes whether the candidate
//!   is the next click. Candidates are ranked by its probability, above every non-candidate, which
//!   keep the weighted hybrid's order.
//!
//! Cost: every member scores every prefix, plus `O(members × items)` per prefix for the combination
//! (and a partial selection of `depth` items per member for stacking); tuning evaluates every grid
//! point on every validation prefix, `O(grid × members × items)` per prefix. Memory: the members'
//! score vectors of a block of prefixes (at most 2²² floats per member), per worker.

use ndarray::{Array1, Array2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{best_first, keep_best, rank_of, NextItemModel, Prefixes, ScoreSink, SlotOf};
use crate::logistic::LogisticRegression;
use crate::{Dataset, ModelError, Sequences};

/// Default candidate depth of stacking.
pub const STACK_DEPTH: usize = 50;

/// Most floats of one member's scores held at once.
const BLOCK_FLOATS: usize = 1 << 22;

/// How member scores are combined.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Combiner {
    /// `Σ w_m · ŝ_m`.
    Weighted {
        /// One weight per member, summing to 1.
        weights: Vec<f64>,
    },
    /// A logistic regression on the candidates' features; non-candidates by the weighted sum.
    Stacked {
        /// Weights of the fallback order.
        weights: Vec<f64>,
        /// Coefficients: `ŝ_m` of every member, then `1 / rank_m` of every member.
        coef: Vec<f64>,
        /// Intercept.
        intercept: f64,
        /// Candidates per member.
        depth: usize,
    },
}

/// A hybrid of next-item models.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hybrid<M> {
    name: String,
    members: Vec<M>,
    combiner: Combiner,
}

impl<M: NextItemModel> Hybrid<M> {
    /// Combines `members` (all scoring the same items) with `combiner`, named `name` in tables.
    pub fn new(name: String, members: Vec<M>, combiner: Combiner) -> Result<Self, ModelError> {
        let n = members.first().map(|m| m.n_items());
        if members.is_empty() || members.iter().any(|m| Some(m.n_items()) != n) {
            return Err(ModelError::Data(
                "a hybrid needs at least one member, all scoring the same items".into(),
            ));
        }
        let w = match &combiner {
            Combiner::Weighted { weights } | Combiner::Stacked { weights, .. } => weights,
        };
        if w.len() != members.len() {
            return Err(ModelError::Data(format!(
                "{} weights for {} members",
                w.len(),
                members.len()
            )));
        }
        if let Combiner::Stacked { coef, .. } = &combiner {
            if coef.len() != 2 * members.len() {
                return Err(ModelError::Data(format!(
                    "{} stacking coefficients for {} members (want {})",
                    coef.len(),
                    members.len(),
                    2 * members.len()
                )));
            }
        }
        Ok(Hybrid {
            name,
            members,
            combiner,
        })
    }

    /// The combiner.
    pub fn combiner(&self) -> &Combiner {
        &self.combiner
    }

    /// The members, in order.
    pub fn members(&self) -> &[M] {
        &self.members
    }

    /// The same hybrid over `f(member)` for every member, checked as [`Hybrid::new`] checks (used
    /// to load a saved hybrid with checked members, and to save one with owned members).
    pub fn map_members<N: NextItemModel>(
        self,
        f: impl FnMut(M) -> Result<N, ModelError>,
    ) -> Result<Hybrid<N>, ModelError> {
        let members = self
            .members
            .into_iter()
            .map(f)
            .collect::<Result<Vec<N>, _>>()?;
        Hybrid::new(self.name, members, self.combiner)
    }
}

/// Min-max scales `s` into `[0, 1]` in place (zeros when constant).
fn normalise(s: &mut [f32]) {
    let (lo, hi) = s
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let range = hi - lo;
    if range.is_finite() && range > 0.0 {
        s.iter_mut().for_each(|v| *v = (*v - lo) / range);
    } else {
        s.iter_mut().for_each(|v| *v = 0.0);
    }
}

/// The normalised scores of every member for every prefix of a block of rows.
struct Block {
    /// `(row, position)` of each prefix, in order.
    prefixes: Vec<(usize, usize)>,
    /// Per member, `prefixes × items` scores.
    scores: Vec<Vec<f32>>,
    n_items: usize,
}

impl Block {
    fn collect<M: NextItemModel>(
        members: &[M],
        sessions: &Sequences,
        times: Option<&[f64]>,
        rows: &[usize],
    ) -> Block {
        let n = members[0].n_items();
        let mut first = Vec::with_capacity(rows.len() + 1);
        let mut prefixes = Vec::new();
        for &r in rows {
            first.push(prefixes.len());
            prefixes.extend((0..sessions.row(r).len().saturating_sub(1)).map(|t| (r, t)));
        }
        let scores = members
            .iter()
            .map(|m| {
                let mut buf = vec![0.0f32; prefixes.len() * n];
                let mut slots = SlotOf::new(rows);
                let q = Prefixes {
                    sessions,
                    times,
                    rows,
                };
                m.score_timed(&q, &mut |r, t, s| {
                    let p = first[slots.of(r)] + t;
                    let out = &mut buf[p * n..(p + 1) * n];
                    out.copy_from_slice(s);
                    normalise(out);
                });
                buf
            })
            .collect();
        Block {
            prefixes,
            scores,
            n_items: n,
        }
    }

    /// Member `m`'s scores of prefix `p`.
    fn member(&self, m: usize, p: usize) -> &[f32] {
        &self.scores[m][p * self.n_items..(p + 1) * self.n_items]
    }

    /// `Σ w_m ŝ_m` of prefix `p` into `out`.
    fn weighted(&self, weights: &[f64], p: usize, out: &mut [f32]) {
        out.iter_mut().for_each(|v| *v = 0.0);
        for (m, &w) in weights.iter().enumerate() {
            let w = w as f32;
            for (o, &s) in out.iter_mut().zip(self.member(m, p)) {
                *o += w * s;
            }
        }
    }

    /// The stacking candidates of prefix `p` (ascending ids) and their features, appended to
    /// `feats` (2 × members per candidate).
    fn candidates(&self, p: usize, depth: usize, cands: &mut Vec<u32>, feats: &mut Vec<f64>) {
        let n_members = self.scores.len();
        let mut tops: Vec<Vec<u32>> = Vec::with_capacity(n_members);
        for m in 0..n_members {
            let s = self.member(m, p);
            let mut idx: Vec<u32> = (0..self.n_items as u32).collect();
            keep_best(&mut idx, depth, |&a, &b| {
                best_first((a, s[a as usize]), (b, s[b as usize]))
            });
            tops.push(idx);
        }
        cands.clear();
        for t in &tops {
            cands.extend_from_slice(t);
        }
        cands.sort_unstable();
        cands.dedup();
        feats.clear();
        for &c in cands.iter() {
            for m in 0..n_members {
                feats.push(f64::from(self.member(m, p)[c as usize]));
            }
            for t in &tops {
                let rank = t.iter().position(|&x| x == c).map_or(depth + 1, |i| i + 1);
                feats.push(1.0 / rank as f64);
            }
        }
    }
}

/// Splits `rows` into blocks whose prefixes × items stay within [`BLOCK_FLOATS`].
fn blocks(sessions: &Sequences, rows: &[usize], n_items: usize) -> Vec<Vec<usize>> {
    let cap = (BLOCK_FLOATS / n_items.max(1)).max(1);
    let mut out = vec![Vec::new()];
    let mut used = 0;
    for &r in rows {
        let k = sessions.row(r).len().saturating_sub(1);
        if used + k > cap && !out.last().is_some_and(|b: &Vec<usize>| b.is_empty()) {
            out.push(Vec::new());
            used = 0;
        }
        used += k;
        if let Some(b) = out.last_mut() {
            b.push(r);
        }
    }
    out
}

impl<M: NextItemModel> NextItemModel for Hybrid<M> {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn n_items(&self) -> usize {
        self.members[0].n_items()
    }
    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        self.score_timed(&Prefixes::untimed(sessions, rows), sink);
    }
    fn score_timed(&self, q: &Prefixes<'_>, sink: ScoreSink<'_>) {
        let (sessions, times, rows) = (q.sessions, q.times, q.rows);
        let n = self.n_items();
        let mut out = vec![0.0f32; n];
        let (mut cands, mut feats) = (Vec::new(), Vec::new());
        for block_rows in blocks(sessions, rows, n) {
            let b = Block::collect(&self.members, sessions, times, &block_rows);
            for (p, &(r, t)) in b.prefixes.iter().enumerate() {
                match &self.combiner {
                    Combiner::Weighted { weights } => b.weighted(weights, p, &mut out),
                    Combiner::Stacked {
                        weights,
                        coef,
                        intercept,
                        depth,
                    } => {
                        b.weighted(weights, p, &mut out);
                        b.candidates(p, *depth, &mut cands, &mut feats);
                        let d = coef.len();
                        for (c, f) in cands.iter().zip(feats.chunks(d)) {
                            let z: f64 =
                                intercept + f.iter().zip(coef).map(|(x, w)| x * w).sum::<f64>();
                            // `1/(1+e^−z)` for every z, not the shared two-form sigmoid
                            // (`crate::nn::param::sigmoid`), whose `z < 0` form rounds
                            // differently: stacked hybrids keep the scores they were tuned with.
                            out[*c as usize] = 1.0 + (1.0 / (1.0 + (-z).exp())) as f32;
                        }
                    }
                }
                sink(r, t, &out);
            }
        }
    }
}

/// What tuning found on the validation sessions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HybridFit {
    /// The chosen weights.
    pub weights: Vec<f64>,
    /// Validation Recall@20 of the chosen weights.
    pub valid_recall20: f64,
    /// Validation MRR@20 of the chosen weights.
    pub valid_mrr20: f64,
    /// Grid points tried.
    pub grid_points: usize,
    /// Validation predictions.
    pub valid_predictions: u64,
}

/// The simplex grid for `m` members with step `1 / parts`.
fn simplex(m: usize, parts: usize) -> Vec<Vec<f64>> {
    fn rec(m: usize, left: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if m == 1 {
            cur.push(left);
            out.push(cur.clone());
            cur.pop();
            return;
        }
        for v in (0..=left).rev() {
            cur.push(v);
            rec(m - 1, left - v, cur, out);
            cur.pop();
        }
    }
    let mut ints = Vec::new();
    rec(m.max(1), parts, &mut Vec::new(), &mut ints);
    ints.into_iter()
        .map(|v| v.into_iter().map(|x| x as f64 / parts as f64).collect())
        .collect()
}

/// Grid resolution for `m` members (parts of 1).
fn grid_parts(m: usize) -> usize {
    match m {
        0..=3 => 10,
        4..=5 => 5,
        _ => 4,
    }
}

/// Rows of `valid` that are predicted (≥ 2 clicks).
fn predicted_rows(valid: &Sequences) -> Vec<usize> {
    (0..valid.len())
        .filter(|&r| valid.row(r).len() >= 2)
        .collect()
}

/// Tunes the weights of a weighted hybrid of `members` on the validation sessions `valid` (same
/// items as the members; `times` aligned with its tokens) over the simplex grid, by MRR@20.
pub fn tune_weights<M: NextItemModel>(
    members: &[M],
    valid: &Sequences,
    times: Option<&[f64]>,
) -> Result<HybridFit, ModelError> {
    if members.is_empty() {
        return Err(ModelError::Data(
            "a hybrid needs at least one member".into(),
        ));
    }
    let grid = simplex(members.len(), grid_parts(members.len()));
    let n = members[0].n_items();
    let rows = predicted_rows(valid);
    if rows.is_empty() {
        return Err(ModelError::Data(
            "no validation session with two or more clicks to tune the hybrid on".into(),
        ));
    }
    let chunks: Vec<Vec<usize>> = rows.chunks(64).flat_map(|c| blocks(valid, c, n)).collect();
    // Per chunk: (hits@20, Σ rr@20) per grid point, and predictions.
    let parts: Vec<(Vec<(u64, f64)>, u64)> = chunks
        .par_iter()
        .map(|c| {
            let b = Block::collect(members, valid, times, c);
            let mut acc = vec![(0u64, 0.0f64); grid.len()];
            let mut out = vec![0.0f32; n];
            for (p, &(r, t)) in b.prefixes.iter().enumerate() {
                let target = valid.row(r)[t + 1] as usize;
                for (g, w) in grid.iter().enumerate() {
                    b.weighted(w, p, &mut out);
                    let rank = rank_of(&out, target);
                    if rank <= 20 {
                        acc[g].0 += 1;
                        acc[g].1 += 1.0 / rank as f64;
                    }
                }
            }
            (acc, b.prefixes.len() as u64)
        })
        .collect();
    let mut total = vec![(0u64, 0.0f64); grid.len()];
    let mut preds = 0u64;
    for (acc, k) in &parts {
        preds += k;
        for (t, a) in total.iter_mut().zip(acc) {
            t.0 += a.0;
            t.1 += a.1;
        }
    }
    let mut best = 0;
    for g in 1..grid.len() {
        let (a, b) = (total[g], total[best]);
        if a.1 > b.1 || (a.1 == b.1 && a.0 > b.0) {
            best = g;
        }
    }
    let d = preds.max(1) as f64;
    Ok(HybridFit {
        weights: grid[best].clone(),
        valid_recall20: total[best].0 as f64 / d,
        valid_mrr20: total[best].1 / d,
        grid_points: grid.len(),
        valid_predictions: preds,
    })
}

/// Learns the stacking combiner on the validation sessions: a logistic regression on the features
/// of every prefix's candidates (the union of each member's top `depth`), the label being whether
/// the candidate is the next click. `weights` order the non-candidates.
pub fn fit_stacker<M: NextItemModel>(
    members: &[M],
    valid: &Sequences,
    times: Option<&[f64]>,
    weights: Vec<f64>,
    depth: usize,
) -> Result<Combiner, ModelError> {
    if depth == 0 {
        return Err(ModelError::invalid(
            "depth",
            depth,
            "at least 1 candidate per member",
        ));
    }
    if members.is_empty() || weights.len() != members.len() {
        return Err(ModelError::Data("one weight per member needed".into()));
    }
    let n = members[0].n_items();
    let d = 2 * members.len();
    let rows = predicted_rows(valid);
    let chunks: Vec<Vec<usize>> = rows.chunks(64).flat_map(|c| blocks(valid, c, n)).collect();
    let parts: Vec<(Vec<f64>, Vec<usize>)> = chunks
        .par_iter()
        .map(|c| {
            let b = Block::collect(members, valid, times, c);
            let (mut x, mut y) = (Vec::new(), Vec::new());
            let (mut cands, mut feats) = (Vec::new(), Vec::new());
            for (p, &(r, t)) in b.prefixes.iter().enumerate() {
                let target = valid.row(r)[t + 1];
                b.candidates(p, depth, &mut cands, &mut feats);
                x.extend_from_slice(&feats);
                y.extend(cands.iter().map(|&c| usize::from(c == target)));
            }
            (x, y)
        })
        .collect();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (px, py) in parts {
        x.extend(px);
        y.extend(py);
    }
    if !y.contains(&1) || !y.contains(&0) {
        return Err(ModelError::Data(
            "stacking: the validation candidates never (or always) hold the next click".into(),
        ));
    }
    let rows_n = y.len();
    let x = Array2::from_shape_vec((rows_n, d), x)
        .map_err(|e| ModelError::Data(format!("stacking features: {e}")))?;
    let ds = Dataset::new(x, Array1::from(y), 2)?;
    let lr: LogisticRegression = LogisticRegression::params().fit(&ds)?;
    Ok(Combiner::Stacked {
        weights,
        coef: lr.coef.row(0).to_vec(),
        intercept: lr.intercept[0],
        depth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nextitem::testing::seqs;

    /// A model with fixed scores per item, whatever the prefix.
    struct Fixed(Vec<f32>);

    impl NextItemModel for Fixed {
        fn name(&self) -> String {
            "fixed".into()
        }
        fn n_items(&self) -> usize {
            self.0.len()
        }
        fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
            for &r in rows {
                for t in 0..sessions.row(r).len().saturating_sub(1) {
                    sink(r, t, &self.0);
                }
            }
        }
    }

    #[test]
    fn simplex_grid_covers_the_simplex() {
        let g = simplex(3, 10);
        assert_eq!(g.len(), 66);
        assert!(g
            .iter()
            .all(|w| (w.iter().sum::<f64>() - 1.0).abs() < 1e-12));
        assert_eq!(simplex(1, 10), vec![vec![1.0]]);
        assert_eq!(simplex(2, 2).len(), 3);
    }

    #[test]
    fn weighted_scores_are_the_weighted_sum_of_min_max_scaled_members() {
        // a scaled: [0, 0.5, 1]; b scaled: [1, 0, 0.25] (b = [10, 2, 4] → (x − 2) / 8).
        let a = Fixed(vec![1.0, 2.0, 3.0]);
        let b = Fixed(vec![10.0, 2.0, 4.0]);
        let h = Hybrid::new(
            "h".into(),
            vec![a, b],
            Combiner::Weighted {
                weights: vec![0.25, 0.75],
            },
        )
        .expect("hybrid");
        let test = seqs(&[&[0, 1]], 3);
        let mut got = Vec::new();
        h.score_prefixes(&test, &[0], &mut |_, _, s| got = s.to_vec());
        assert_eq!(got, vec![0.75, 0.125, 0.25 + 0.1875]);
    }

    #[test]
    fn tuning_picks_the_member_that_predicts_the_validation_clicks() {
        // Validation: after any click, item 2 follows. Member a ranks 2 first, b ranks 0 first.
        let a = Fixed(vec![0.0, 0.1, 0.9]);
        let b = Fixed(vec![0.9, 0.5, 0.0]);
        let valid = seqs(&[&[0, 2], &[1, 2, 2]], 3);
        let fit = tune_weights(&[a, b], &valid, None).expect("tuned");
        assert_eq!(fit.valid_predictions, 3);
        assert_eq!(fit.valid_mrr20, 1.0);
        // The first grid point reaching MRR 1 puts all the weight on a.
        assert_eq!(fit.weights, vec![1.0, 0.0]);
    }

    #[test]
    fn stacking_learns_which_member_to_trust() {
        // 4 items; member a puts the next click (item 3) first, b puts it last.
        let a = Fixed(vec![0.1, 0.2, 0.3, 0.9]);
        let b = Fixed(vec![0.9, 0.3, 0.2, 0.1]);
        let valid = seqs(&[&[0, 3], &[1, 3], &[2, 3, 3], &[0, 1]], 4);
        let (a, b): (&dyn NextItemModel, &dyn NextItemModel) = (&a, &b);
        let c = fit_stacker(&[a, b], &valid, None, vec![0.5, 0.5], 2).expect("stacker");
        let Combiner::Stacked { coef, .. } = &c else {
            panic!("stacked")
        };
        assert_eq!(coef.len(), 4);
        let h = Hybrid::new("s".into(), vec![a, b], c).expect("hybrid");
        let test = seqs(&[&[1, 3]], 4);
        let mut got = Vec::new();
        h.score_prefixes(&test, &[0], &mut |_, _, s| got = s.to_vec());
        assert_eq!(rank_of(&got, 3), 1, "{got:?}");
        assert!(Hybrid::new("x".into(), vec![a], Combiner::Weighted { weights: vec![] }).is_err());
    }
}
