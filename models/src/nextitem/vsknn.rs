//! V-SKNN: vector-multiplication session-kNN (Ludewig & Jannach, "Evaluation of session-based
//! recommendation algorithms", UMUAI 2018; session-rec `knn/vsknn.py`, class `VMContextKNN`).
//!
//! For a prefix `p₁ … p_L` of the current session:
//!
//! 1. every click gets a position weight `w(pos, L)` ([`VsknnParams::weighting`], default quadratic
//!    `(pos / L)²`: the last click weighs 1, earlier ones less); an item clicked twice keeps the
//!    weight of its last click;
//! 2. candidates are the training sessions sharing an item with the prefix, of which the `sample`
//!    most recent (by their last click) are kept;
//! 3. similarity with a candidate `n` ("vec"): `Σ_{i ∈ p ∩ n} w(i) / |distinct p|`, or the
//!    position-weighted cosine `Σ_{i ∈ p ∩ n} w(i) / (√Σ_{i∈p} w(i)² · √|n|)`;
//! 4. the `k` most similar candidates vote for each of their items `j` with
//!    `sim · (1 + λ_idf · idf(j)) · d(step)`, where `idf(j) = ln(sessions / clicks of j)` (only when
//!    `λ_idf > 0`) and `step` is how many clicks back the most recent prefix item that the neighbour
//!    contains lies (1 = the last click), decayed by [`VsknnParams::weighting_score`] (default
//!    quadratic `1 / step²`).
//!
//! Defaults are the configuration of the reproducibility study's RSC15 runs (session-rec
//! `conf/save/rsc15/window/window_multiple_rsc15_baselines.yml`): k = 100, sample = 1000, quadratic
//! position and score decays, "vec" similarity, no IDF. Items of the current session may be
//! recommended again ("remind", session-rec's default).
//!
//! Cost per prediction: the candidate set (`Σ` sessions of the prefix items), the similarity with up
//! to `sample` candidates (their distinct items), a partial selection of `k`, and the votes of `k`
//! sessions. Memory: the training sessions twice (by session and by item).

use serde::{Deserialize, Serialize};

use super::neighbours::{
    check_lambda, check_neighbours, last_shared, nearest, score_sessions, SessionIndex,
};
use super::{NextItemModel, Prefixes, ScoreSink};
use crate::{ModelError, Sequences};

/// A decay of session-rec's knn and rules models: of a position inside the current session
/// ([`Decay::position`]) or of a distance in steps ([`Decay::step`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decay {
    /// 1.
    Same,
    /// `pos / L`; of a step `1 / step`.
    Div,
    /// `1 − 0.1 (L − pos)` (0 for positions beyond 10, as session-rec writes it); of a step
    /// `1 − 0.1 step` (0 beyond 100).
    Linear,
    /// `1 / log₁₀(L − pos + 1.7)`; of a step `1 / log₁₀(step + 1.7)`.
    Log,
    /// `(pos / L)²`; of a step `1 / step²`.
    Quadratic,
}

cartseq_data::named_enum!(Decay, "a decay", [
    "same" => Decay::Same,
    "div" => Decay::Div,
    "linear" => Decay::Linear,
    "log" => Decay::Log,
    "quadratic" => Decay::Quadratic,
]);

impl Decay {
    /// Weight of the click at 1-based position `pos` of a prefix of length `len`.
    pub fn position(self, pos: usize, len: usize) -> f64 {
        let (p, l) = (pos as f64, len as f64);
        match self {
            Decay::Same => 1.0,
            Decay::Div => p / l,
            Decay::Linear if pos <= 10 => 1.0 - 0.1 * (l - p),
            Decay::Linear => 0.0,
            Decay::Log => 1.0 / (l - p + 1.7).log10(),
            Decay::Quadratic => (p / l) * (p / l),
        }
    }

    /// Weight of a distance of `step ≥ 1` clicks.
    pub fn step(self, step: usize) -> f64 {
        let s = step as f64;
        match self {
            Decay::Same => 1.0,
            Decay::Div => 1.0 / s,
            Decay::Linear if step <= 100 => 1.0 - 0.1 * s,
            Decay::Linear => 0.0,
            Decay::Log => 1.0 / (s + 1.7).log10(),
            Decay::Quadratic => 1.0 / (s * s),
        }
    }
}

/// Hyper-parameters of [`VSessionKnn`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VsknnParams {
    /// Neighbours voting (default 100).
    pub k: usize,
    /// Most recent candidate sessions considered (default 1000).
    pub sample: usize,
    /// Position weight of the prefix clicks (default quadratic).
    pub weighting: Decay,
    /// Decay of a neighbour's vote by the step of the most recent shared item (default quadratic).
    pub weighting_score: Decay,
    /// IDF weight λ_idf of the voted items (default 0 = off).
    pub idf_weighting: f64,
    /// Cosine instead of the "vec" dot product (default false).
    pub cosine: bool,
}

impl Default for VsknnParams {
    fn default() -> Self {
        VsknnParams {
            k: 100,
            sample: 1000,
            weighting: Decay::Quadratic,
            weighting_score: Decay::Quadratic,
            idf_weighting: 0.0,
            cosine: false,
        }
    }
}

impl VsknnParams {
    /// Checks the parameters (k and sample ≥ 1, λ_idf finite and ≥ 0).
    pub fn check(&self) -> Result<(), ModelError> {
        check_neighbours(self.k, self.sample)?;
        check_lambda("idf_weighting", self.idf_weighting, true)
    }
}

/// A fitted V-SKNN: the indexed training sessions and the parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VSessionKnn {
    params: VsknnParams,
    index: SessionIndex,
}

impl VSessionKnn {
    /// Indexes the training sessions (`times`: click times in seconds aligned with
    /// `train.tokens`, used to find the most recent sessions; without them the later session in
    /// the file is the more recent).
    pub fn fit(
        train: &Sequences,
        times: Option<&[f64]>,
        params: VsknnParams,
    ) -> Result<Self, ModelError> {
        params.check()?;
        Ok(VSessionKnn {
            params,
            index: SessionIndex::new(train, times),
        })
    }

    /// Checks a loaded model (parameters and index bounds).
    pub(crate) fn check_loaded(&self) -> Result<(), String> {
        self.params.check().map_err(|e| e.to_string())?;
        self.index.check_loaded()
    }

    /// Whether the file recorded the click counts online learning needs.
    pub(crate) fn can_learn(&self) -> bool {
        self.index.can_learn()
    }

    /// Sessions indexed, the learnt ones included.
    pub(crate) fn n_sessions(&self) -> usize {
        self.index.n_sessions()
    }

    /// Learns a click on `item` at `time` (seconds) in session `s` (`s` =
    /// [`VSessionKnn::n_sessions`] starts a new one): the model becomes a batch fit on the sessions
    /// with this click appended (see [`super::online`]). `false` when nothing is learnt.
    pub(crate) fn learn(&mut self, s: usize, item: u32, time: f64) -> bool {
        let idf = self.params.idf_weighting > 0.0;
        self.index.learn(s, item, time, idf)
    }
}

impl NextItemModel for VSessionKnn {
    fn name(&self) -> String {
        "vsknn".into()
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
        score_sessions(index, p.sample, q, sink, |prefix, _, sc| {
            let stats = sc.set_prefix(prefix, |pos, len| p.weighting.position(pos, len));
            let sims = nearest(index, sc, stats, p.cosine, p.k, |_| 1.0);
            for &(sim, c) in &sims {
                let items = index.items_of(c);
                let step = last_shared(prefix, items).map_or(0, |m| prefix.len() - m);
                let decay = if step == 0 {
                    0.0
                } else {
                    p.weighting_score.step(step)
                };
                for &(j, _) in items {
                    let idf = if p.idf_weighting > 0.0 {
                        1.0 + p.idf_weighting * index.idf[j as usize]
                    } else {
                        1.0
                    };
                    sc.add(j, sim * idf * decay);
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

    #[test]
    fn decays_match_session_rec() {
        assert_eq!(Decay::Quadratic.position(1, 2), 0.25);
        assert_eq!(Decay::Div.position(3, 4), 0.75);
        assert!((Decay::Linear.position(2, 4) - 0.8).abs() < 1e-12);
        assert_eq!(Decay::Linear.position(11, 12), 0.0);
        assert!((Decay::Log.position(4, 4) - 1.0 / 1.7f64.log10()).abs() < 1e-12);
        assert_eq!(Decay::Quadratic.step(2), 0.25);
        assert_eq!(Decay::Div.step(4), 0.25);
        assert!((Decay::Linear.step(3) - 0.7).abs() < 1e-12);
        assert_eq!(Decay::Same.step(9), 1.0);
    }

    /// Hand-computed: prefix [0, 1] (weights 0.25, 1 quadratic, 2 distinct items).
    /// Session A = {0, 2}: sim = 0.25 / 2 = 0.125; most recent shared prefix item is 0, step 2,
    /// decay 1/4 → votes 0.03125 for 0 and 2.
    /// Session B = {1, 3}: sim = 1 / 2 = 0.5, step 1, decay 1 → votes 0.5 for 1 and 3.
    /// Session C = {4}: no shared item, no vote.
    /// Scores: 1 → 0.5, 3 → 0.5, 0 → 0.03125, 2 → 0.03125; normalised by 0.5.
    #[test]
    fn hand_computed_votes() {
        let train = seqs(&[&[0, 2], &[1, 3], &[4, 4]], 5);
        let m = VSessionKnn::fit(&train, None, VsknnParams::default()).expect("params");
        let s = scores_after(&m, &[0, 1], None);
        let d = 1e-4f32;
        let scaled = |v: f32| d + (1.0 - d) * v;
        assert_eq!(s[1], scaled(1.0));
        assert_eq!(s[3], scaled(1.0));
        assert!((s[0] - scaled(0.0625)).abs() < 1e-7 && (s[2] - scaled(0.0625)).abs() < 1e-7);
        // No evidence for 4: below every voted item, by popularity.
        assert!(s[4] < d && s[4] > 0.0);
    }

    /// With IDF: 5 sessions; item 2 has 1 click → idf ln 5, item 0 has 2 → ln 2.5.
    #[test]
    fn idf_weights_the_votes() {
        let train = seqs(&[&[0, 2], &[0], &[3], &[3], &[3]], 4);
        let p = VsknnParams {
            idf_weighting: 1.0,
            ..VsknnParams::default()
        };
        let m = VSessionKnn::fit(&train, None, p).expect("params");
        // Prefix [0]: neighbours {0,2} (sim 1) and {0} (sim 1), step 1.
        // 0 gets 2 · (1 + ln 2.5), 2 gets 1 + ln 5.
        let s = scores_after(&m, &[0], None);
        let (a, b) = (2.0 * (1.0 + 2.5f64.ln()), 1.0 + 5f64.ln());
        let d = 1e-4f32;
        assert_eq!(s[0], 1.0);
        assert!((s[2] - (d + (1.0 - d) * (b / a) as f32)).abs() < 1e-6);
    }

    #[test]
    fn sample_keeps_the_most_recent_sessions() {
        // Three sessions share item 0; sample 1 keeps the last (index 2), whose other item is 3.
        let train = seqs(&[&[0, 1], &[0, 2], &[0, 3]], 4);
        let p = VsknnParams {
            sample: 1,
            ..VsknnParams::default()
        };
        let m = VSessionKnn::fit(&train, None, p).expect("params");
        let s = scores_after(&m, &[0], None);
        assert_eq!(s[3], 1.0);
        assert!(s[1] < 1e-4 && s[2] < 1e-4);
        // With times, session 0 is the most recent.
        let times = [5.0, 9.0, 1.0, 2.0, 3.0, 4.0];
        let p = VsknnParams {
            sample: 1,
            ..VsknnParams::default()
        };
        let m = VSessionKnn::fit(&train, Some(&times), p).expect("params");
        assert_eq!(scores_after(&m, &[0], None)[1], 1.0);
    }
}
