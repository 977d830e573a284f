//! STAN, sequence- and time-aware neighbourhood (Garg, Gupta, Nath & Sridharan, SIGIR 2019), and
//! VSTAN, STAN with V-SKNN's IDF and sequence weighting (Ludewig, Latifi & Jannach, "Empirical
//! analysis of session-based recommendation algorithms", UMUAI 2021). Implemented as session-rec's
//! `knn/stan.py` (`STAN`) and `knn/vstan.py` (`VSKNN_STAN`).
//!
//! For a prefix `p₁ … p_L` at time `t`:
//!
//! 1. λ1 — **position in the current session**: click `pos` weighs `w(pos) = exp((pos − L) / λ_spw)`
//!    (the last click 1; an item clicked twice keeps its last weight);
//! 2. similarity with a candidate session `n` (the `sample` most recent sharing an item): the
//!    weighted cosine `Σ_{i∈p∩n} w(i) / (√Σ_{i∈p} w(i)² · √|n|)` (VSTAN may use the "vec" product
//!    `Σ_{i∈p∩n} w(i) / |p|`), times
//! 3. λ2 — **recency of the neighbour**: `exp(−(t − t_n) / λ_snh)` with `t_n` the time of `n`'s last
//!    click and `λ_snh` in days (no decay when the log has no times);
//! 4. the `k` most similar vote for each of their items `j` with `sim · exp(−|pos_n(j) − pos_n(i*)| /
//!    λ_inh)` — λ3, **position in the neighbour**: `pos_n(j)` is the position of `j`'s last click in
//!    `n` and `i*` the shared item clicked last in `n` (session-rec's `pos_i_star`);
//! 5. VSTAN also multiplies the vote by `(1 + λ_idf · idf(j))` (V-SKNN's IDF, `idf(j) = ln(sessions /
//!    clicks of j)`) and by `exp((m − L) / λ_ipw)`, `m` the most recent prefix position whose item
//!    `n` contains (V-SKNN's sequence weighting, in STAN's exponential form).
//!
//! Defaults: STAN — session-rec's class defaults (λ_spw = 1.02, λ_snh = 5 days, λ_inh = 2.05,
//! sample = 5000) with k = 500, the value of session-rec's Diginetica configuration
//! (`conf/save/diginetica/single split/single_digi_stan.yml`); VSTAN — the same plus λ_ipw = 1.02 and
//! λ_idf = 5 (session-rec's `VSKNN_STAN` defaults), cosine similarity. The papers tune these per
//! dataset; [`StanParams`] exposes them all.
//!
//! Cost per prediction: as V-SKNN ([`super::vsknn`]) with `sample` and `k` larger by default, plus
//! one exponential per vote.

use serde::{Deserialize, Serialize};

use super::neighbours::{
    check_lambda, check_neighbours, last_shared, nearest, score_sessions, SessionIndex,
};
use super::{NextItemModel, Prefixes, ScoreSink};
use crate::{ModelError, Sequences};

/// Seconds per day (λ_snh is given in days, times in seconds).
const DAY_SECONDS: f64 = 86_400.0;

/// Hyper-parameters of [`Stan`] (STAN, or VSTAN when `vstan` is set).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StanParams {
    /// Neighbours voting (default 500).
    pub k: usize,
    /// Most recent candidate sessions considered (default 5000).
    pub sample: usize,
    /// λ1: position decay inside the current session (default 1.02).
    pub lambda_spw: f64,
    /// λ2: neighbour recency decay in days (default 5).
    pub lambda_snh: f64,
    /// λ3: position decay inside the neighbour (default 2.05).
    pub lambda_inh: f64,
    /// VSTAN's extras: `Some((λ_ipw, λ_idf))` (defaults 1.02 and 5); `None` is STAN.
    pub vstan: Option<(f64, f64)>,
    /// VSTAN's "vec" similarity instead of the cosine (default false).
    pub vec_similarity: bool,
}

impl StanParams {
    /// STAN's defaults.
    pub fn stan() -> Self {
        StanParams {
            k: 500,
            sample: 5000,
            lambda_spw: 1.02,
            lambda_snh: 5.0,
            lambda_inh: 2.05,
            vstan: None,
            vec_similarity: false,
        }
    }

    /// VSTAN's defaults.
    pub fn vstan() -> Self {
        StanParams {
            vstan: Some((1.02, 5.0)),
            ..StanParams::stan()
        }
    }

    /// Checks the parameters: k, sample ≥ 1; every λ finite and > 0 (λ_idf ≥ 0).
    pub fn check(&self) -> Result<(), ModelError> {
        check_neighbours(self.k, self.sample)?;
        check_lambda("lambda_spw", self.lambda_spw, false)?;
        check_lambda("lambda_snh", self.lambda_snh, false)?;
        check_lambda("lambda_inh", self.lambda_inh, false)?;
        if let Some((ipw, idf)) = self.vstan {
            check_lambda("lambda_ipw", ipw, false)?;
            check_lambda("lambda_idf", idf, true)?;
        }
        Ok(())
    }
}

/// A fitted STAN or VSTAN: the indexed training sessions and the parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stan {
    params: StanParams,
    index: SessionIndex,
    /// Whether the training sessions had times (else λ2 is not applied).
    timed: bool,
}

impl Stan {
    /// Indexes the training sessions (`times`: click times in seconds aligned with `train.tokens`;
    /// without them the neighbour recency weight λ2 is left out).
    pub fn fit(
        train: &Sequences,
        times: Option<&[f64]>,
        params: StanParams,
    ) -> Result<Self, ModelError> {
        params.check()?;
        Ok(Stan {
            params,
            index: SessionIndex::new(train, times),
            timed: times.is_some(),
        })
    }

    /// Checks a loaded model (parameters, index bounds, and STAN vs VSTAN as the file's kind says).
    pub(crate) fn check_loaded(&self, vstan: bool) -> Result<(), String> {
        self.params.check().map_err(|e| e.to_string())?;
        if self.params.vstan.is_some() != vstan {
            return Err(format!(
                "the file's kind says {} but the model is a {}",
                if vstan { "vstan" } else { "stan" },
                self.name()
            ));
        }
        self.index.check_loaded()
    }
}

impl NextItemModel for Stan {
    fn name(&self) -> String {
        if self.params.vstan.is_some() {
            "vstan".into()
        } else {
            "stan".into()
        }
    }
    fn n_items(&self) -> usize {
        self.index.n_items()
    }
    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        self.score_timed(&Prefixes::untimed(sessions, rows), sink);
    }
    fn score_timed(&self, q: &Prefixes<'_>, sink: ScoreSink<'_>) {
        let p = &self.params;
        let index = &self.index;
        let q = Prefixes {
            times: if self.timed { q.times } else { None },
            ..*q
        };
        let snh = p.lambda_snh * DAY_SECONDS;
        score_sessions(index, p.sample, &q, sink, |prefix, now, sc| {
            let len = prefix.len();
            let stats = sc.set_prefix(prefix, |pos, len| {
                ((pos as f64 - len as f64) / p.lambda_spw).exp()
            });
            let recency = |c: u32| match now {
                Some(t) => (-(t - index.last_time[c as usize]) / snh).exp(),
                None => 1.0,
            };
            let sims = nearest(index, sc, stats, !p.vec_similarity, p.k, recency);
            for &(sim, c) in &sims {
                let items = index.items_of(c);
                let pos_star = items
                    .iter()
                    .filter(|&&(i, _)| sc.prefix_weight(i).is_some())
                    .map(|&(_, pos)| pos)
                    .max()
                    .unwrap_or(0);
                let ipw = match p.vstan {
                    Some((l_ipw, _)) => last_shared(prefix, items)
                        .map_or(0.0, |m| ((m as f64 + 1.0 - len as f64) / l_ipw).exp()),
                    None => 1.0,
                };
                for &(j, pos) in items {
                    let gap = (f64::from(pos) - f64::from(pos_star)).abs();
                    let mut v = sim * (-gap / p.lambda_inh).exp();
                    if let Some((_, l_idf)) = p.vstan {
                        v += v * index.idf[j as usize] * l_idf;
                        v *= ipw;
                    }
                    sc.add(j, v);
                }
            }
            sc.sims = sims;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nextitem::testing::{scores_after, seqs};

    /// The raw (un-normalised) scores of a prefix: the output scale is affine in score / max, so
    /// ratios of (s − δ) are ratios of raw scores.
    fn ratio(s: &[f32], a: usize, b: usize) -> f64 {
        let d = 1e-4f64;
        (f64::from(s[a]) - d) / (f64::from(s[b]) - d)
    }

    /// Hand-computed STAN with λ_spw = 1, λ_inh = 1, no times.
    /// Prefix [0, 1]: w(0) = e⁻¹, w(1) = 1, Σw² = e⁻² + 1.
    /// Neighbour A = [2, 0, 3] (|A| = 3, shares 0 at position 2 = i*):
    ///   sim_A = e⁻¹ / (√(e⁻²+1) · √3); votes: 2 (pos 1) sim_A·e⁻¹, 0 sim_A, 3 (pos 3) sim_A·e⁻¹.
    /// Neighbour B = [1, 4] (|B| = 2, shares 1 at position 1):
    ///   sim_B = 1 / (√(e⁻²+1) · √2); votes: 1 sim_B, 4 sim_B·e⁻¹.
    #[test]
    fn hand_computed_stan() {
        let train = seqs(&[&[2, 0, 3], &[1, 4]], 5);
        let p = StanParams {
            lambda_spw: 1.0,
            lambda_inh: 1.0,
            ..StanParams::stan()
        };
        let m = Stan::fit(&train, None, p).expect("params");
        let s = scores_after(&m, &[0, 1], None);
        let e = std::f64::consts::E;
        let norm = (e.powi(-2) + 1.0).sqrt();
        let sim_a = e.recip() / (norm * 3f64.sqrt());
        let sim_b = 1.0 / (norm * 2f64.sqrt());
        assert_eq!(s[1], 1.0); // the maximum
        let close = |x: f64, y: f64| (x - y).abs() < 1e-5 * y.abs().max(1e-3);
        assert!(close(ratio(&s, 4, 1), e.recip()), "{s:?}");
        assert!(close(ratio(&s, 0, 1), sim_a / sim_b), "{s:?}");
        assert!(close(ratio(&s, 2, 1), sim_a * e.recip() / sim_b), "{s:?}");
        assert!(close(ratio(&s, 3, 2), 1.0));
    }

    /// λ2: with times, a neighbour 5 days older (λ_snh = 5) weighs e⁻¹ relative to a current one.
    #[test]
    fn neighbour_recency_decays_by_days() {
        let day = 86_400.0;
        // Sessions [0, 1] ending at day 0 and [0, 2] ending at day 5; the query is at day 10.
        let train = seqs(&[&[0, 1], &[0, 2]], 3);
        let train_times = [0.0, 0.0, 5.0 * day, 5.0 * day];
        let m = Stan::fit(&train, Some(&train_times), StanParams::stan()).expect("params");
        let s = scores_after(&m, &[0], Some(&[10.0 * day, 10.0 * day]));
        // Both share item 0 at position 1 with equal cosine; votes for 1 and 2 (pos 2) carry
        // e^{-1/2.05} each, and their time weights e^{-2} and e^{-1}; item 0 gets both full votes.
        assert_eq!(s[0], 1.0);
        assert!((ratio(&s, 1, 2) - (-1.0f64).exp()).abs() < 1e-5, "{s:?}");
        // Without times the two neighbours are equal.
        let s = scores_after(&m, &[0], None);
        assert!((ratio(&s, 1, 2) - 1.0).abs() < 1e-6, "{s:?}");
    }

    /// VSTAN on one neighbour: votes scaled by (1 + λ_idf · idf) and the IPW factor.
    #[test]
    fn hand_computed_vstan_idf_and_ipw() {
        // 4 sessions: [0, 1] and three sessions of item 2. idf(0) = idf(1) = ln 4, idf(2) = ln(4/3).
        let train = seqs(&[&[0, 1], &[2], &[2], &[2]], 3);
        let p = StanParams {
            lambda_inh: 1.0,
            vstan: Some((1.0, 1.0)),
            ..StanParams::stan()
        };
        let m = Stan::fit(&train, None, p).expect("params");
        // Prefix [0, 2]: neighbour [0, 1] shares 0 (prefix position 1 of 2 → ipw e⁻¹, the same
        // factor for every vote, so it cancels in ratios); i* = position 1.
        // Vote for 0: sim (1 + ln 4); for 1: sim e⁻¹ (1 + ln 4). Sessions [2] vote for 2:
        // 3 · sim' (1 + ln(4/3)) · 1 (ipw of position 2 = 1).
        let s = scores_after(&m, &[0, 2], None);
        let e = std::f64::consts::E;
        assert!((ratio(&s, 1, 0) - e.recip()).abs() < 1e-5, "{s:?}");
        let w0 = (-1.0f64 / 1.02).exp();
        let norm = (w0 * w0 + 1.0).sqrt();
        let sim_n = w0 / (norm * 2f64.sqrt());
        let sim_2 = 1.0 / norm;
        let v0 = sim_n * (1.0 + 4f64.ln()) * e.recip();
        let v2 = 3.0 * sim_2 * (1.0 + (4.0f64 / 3.0).ln());
        assert_eq!(s[2], 1.0);
        assert!(
            (ratio(&s, 0, 2) - v0 / v2).abs() < 1e-5,
            "{s:?} {}",
            v0 / v2
        );
    }
}
