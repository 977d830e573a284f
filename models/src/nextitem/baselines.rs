//! Next-item baselines that are known to be hard to beat (Ludewig & Jannach 2018):
//!
//! * [`MostPopular`] — items by training click count. `O(n_items)` memory.
//! * [`MarkovChain`] — first-order transitions `last → next` counted in training sessions
//!   (Rendle et al. 2010 use it inside FPMC); `O(distinct transitions)` memory.
//! * [`ItemKnn`] — the last item's nearest items by regularised cosine similarity of their session
//!   occurrence vectors, `cooc(i,j) / (√n_i · √n_j + λ)` with `λ = 20`, keeping the top 100
//!   (the "item-kNN" baseline of Hidasi et al. 2016 and session-rec). Build cost
//!   `Σ_sessions |s|²`-ish via an inverted index; `O(n_items × 100)` memory.
//! * [`SessionKnn`] — session-based kNN ("SKNN" of Jannach & Ludewig 2017): the `k = 100` most similar
//!   among the `sample = 500` most recent training sessions sharing an item with the current prefix
//!   (cosine on item sets), each neighbour voting its similarity for its items.
//!
//! The Markov chain and item-kNN differ only in how they build, for every item, a weighted list of
//! next items; both then score a prefix by its last click's list, so both fit into one
//! [`LastItemModel`] (most-popular too: no lists, the counts alone).
//!
//! All break score ties by popularity (a tiny popularity term that never reorders different main
//! scores), so "no evidence" falls back to the most popular items rather than to arbitrary ids.

use serde::{Deserialize, Serialize};

use crate::nextitem::last_click::{self, check_rows_distinct};
use crate::nextitem::{
    best_first, count_click, item_counts, keep_best, scaled_popularity, NextItemModel, ScoreSink,
};
use crate::Sequences;

/// The Markov chain's tie-breaker: half the popularity scaled into `[0, 1)` (shared with online
/// learning, which must give the same scores as a batch fit).
pub(crate) fn markov_base(counts: &[u64]) -> Vec<f32> {
    scaled_popularity(counts, 0.5)
}

/// Items ranked by training click count (fits a [`LastItemModel`] named `pop` whose items have no
/// next-item lists, so every prefix gets the counts).
#[derive(Clone, Copy, Debug)]
pub struct MostPopular;

impl MostPopular {
    /// Counts the clicks of `train`.
    pub fn fit(train: &Sequences) -> LastItemModel {
        let counts = item_counts(train);
        LastItemModel {
            name: "pop",
            next: Csr::with_rows(train.vocab),
            base: counts.iter().map(|&c| c as f32).collect(),
            counts,
        }
    }
}

/// Compressed rows of `(item, weight)` per item.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
struct Csr {
    start: Vec<usize>,
    item: Vec<u32>,
    weight: Vec<f32>,
}

impl Csr {
    /// `n` empty rows, to be filled in row order.
    fn with_rows(n: usize) -> Self {
        Csr {
            start: vec![0; n + 1],
            item: Vec::new(),
            weight: Vec::new(),
        }
    }

    fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.start[i], self.start[i + 1]);
        (&self.item[a..b], &self.weight[a..b])
    }
}

/// A fitted last-click model: every item's weighted list of next items (transition counts for the
/// Markov chain, similarities for item-kNN) plus a popularity tie-breaker. A prefix scores every item
/// by the list of its last click.
///
/// Serialisable (the saved-model file of `pop`, `markov` and `iknn`); the name is not stored but set
/// from the file's kind by [`crate::nextitem::saved`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LastItemModel {
    #[serde(skip)]
    name: &'static str,
    next: Csr,
    base: Vec<f32>,
    /// Training click count of every item (`pop` and `markov`; empty for `iknn`), the state online
    /// learning starts from.
    #[serde(default)]
    counts: Vec<u64>,
}

impl LastItemModel {
    /// The same model under another table name (used when loading a saved file, whose kind names it).
    pub(crate) fn named(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// The training click counts and the next-item lists as `(item, weight)` rows, for online
    /// learning (counts are empty for item-kNN).
    pub(crate) fn parts(&self) -> (&[u64], impl Iterator<Item = (&[u32], &[f32])> + '_) {
        (
            &self.counts,
            (0..self.base.len()).map(move |i| self.next.row(i)),
        )
    }

    /// Checks the shapes of a loaded model: row starts ascending and within the lists, item ids
    /// below the item count, so a corrupt file can never index out of bounds, and no item twice in
    /// one list (scoring sets each listed item's score once, so a repeat would be lost silently).
    pub(crate) fn check_loaded(&self) -> Result<(), String> {
        let n = self.base.len();
        if !self.counts.is_empty() && self.counts.len() != n {
            return Err(format!("{} counts for {n} items", self.counts.len()));
        }
        let c = &self.next;
        if c.start.len() != n + 1 || c.start.first() != Some(&0) {
            return Err(format!("{} row starts for {n} items", c.start.len()));
        }
        if c.start.windows(2).any(|w| w[0] > w[1]) || c.start[n] != c.item.len() {
            return Err("row starts are not ascending up to the list length".into());
        }
        if c.item.len() != c.weight.len() {
            return Err("lists of items and weights differ in length".into());
        }
        if let Some(&bad) = c.item.iter().find(|&&i| i as usize >= n) {
            return Err(format!("item id {bad} is not below the item count {n}"));
        }
        check_rows_distinct(&c.start, &c.item, n)
    }
}

/// The last click's list raises its items above the popularity tie-breaker.
impl last_click::OverlayModel for LastItemModel {
    fn name(&self) -> String {
        self.name.into()
    }

    fn base(&self) -> &[f32] {
        &self.base
    }

    fn overlay(&self, last: u32) -> impl Iterator<Item = (u32, f32)> + Clone + '_ {
        let (items, w) = self.next.row(last as usize);
        let raised = items.iter().zip(w);
        raised.map(|(&j, &c)| (j, self.base[j as usize] + c))
    }
}

/// First-order Markov chain on consecutive clicks (fits a [`LastItemModel`] named `markov`).
#[derive(Clone, Copy, Debug)]
pub struct MarkovChain;

impl MarkovChain {
    /// Counts transitions `a → b` for consecutive clicks of every training session.
    pub fn fit(train: &Sequences) -> LastItemModel {
        let n = train.vocab;
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for r in 0..train.len() {
            pairs.extend(train.row(r).windows(2).map(|w| (w[0], w[1])));
        }
        pairs.sort_unstable();
        let mut next = Csr::with_rows(n);
        let mut i = 0;
        while i < pairs.len() {
            let mut j = i;
            while j < pairs.len() && pairs[j] == pairs[i] {
                j += 1;
            }
            next.start[pairs[i].0 as usize + 1] += 1;
            next.item.push(pairs[i].1);
            next.weight.push((j - i) as f32);
            i = j;
        }
        for k in 0..n {
            next.start[k + 1] += next.start[k];
        }
        // Counts are integers ≥ 1, so half the normalised popularity only breaks ties.
        let counts = item_counts(train);
        LastItemModel {
            name: "markov",
            next,
            base: markov_base(&counts),
            counts,
        }
    }
}

/// Item → training sessions (distinct items per session), both directions.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct Incidence {
    /// Distinct items of each session.
    session_items: Vec<Vec<u32>>,
    /// Sessions of each item, ascending (= oldest first when the training file is in time order).
    item_sessions: Vec<Vec<u32>>,
}

impl Incidence {
    fn new(train: &Sequences) -> Self {
        let mut item_sessions = vec![Vec::new(); train.vocab];
        let mut session_items = Vec::with_capacity(train.len());
        for r in 0..train.len() {
            let mut s = train.row(r).to_vec();
            s.sort_unstable();
            s.dedup();
            for &i in &s {
                item_sessions[i as usize].push(r as u32);
            }
            session_items.push(s);
        }
        Incidence {
            session_items,
            item_sessions,
        }
    }
}

/// Item-to-item nearest neighbours of the last click (fits a [`LastItemModel`] named `iknn`).
#[derive(Clone, Copy, Debug)]
pub struct ItemKnn;

impl ItemKnn {
    /// Builds the top-`k` neighbour lists with regularisation `lambda` (defaults 100 and 20).
    pub fn fit(train: &Sequences, k: usize, lambda: f64) -> LastItemModel {
        let n = train.vocab;
        let inc = Incidence::new(train);
        let supp: Vec<f64> = inc.item_sessions.iter().map(|s| s.len() as f64).collect();
        let mut neigh = Csr::with_rows(n);
        let mut cooc = vec![0u32; n];
        let mut touched: Vec<u32> = Vec::new();
        let mut cand: Vec<(u32, f64)> = Vec::new();
        for i in 0..n {
            for &s in &inc.item_sessions[i] {
                for &j in &inc.session_items[s as usize] {
                    if j as usize != i {
                        if cooc[j as usize] == 0 {
                            touched.push(j);
                        }
                        cooc[j as usize] += 1;
                    }
                }
            }
            cand.clear();
            for &j in &touched {
                let c = f64::from(cooc[j as usize]);
                cand.push((j, c / (supp[i].sqrt() * supp[j as usize].sqrt() + lambda)));
                cooc[j as usize] = 0;
            }
            touched.clear();
            keep_best(&mut cand, k, |a, b| best_first(*a, *b));
            for &(j, s) in &cand {
                neigh.item.push(j);
                neigh.weight.push(s as f32);
            }
            neigh.start[i + 1] = neigh.item.len();
        }
        let base = scaled_popularity(&item_counts(train), SKNN_TIE);
        LastItemModel {
            name: "iknn",
            next: neigh,
            base,
            counts: Vec::new(),
        }
    }
}

/// Session-based k-nearest-neighbours (serialisable: the saved-model file of `sknn` holds the
/// training sessions' item sets; the item → sessions index is rebuilt on load).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SessionKnn {
    inc: Incidence,
    k: usize,
    sample: usize,
    base: Vec<f32>,
    /// Click count of every item, behind `base` (what online learning updates; empty in files
    /// written before it was recorded, which then cannot learn online).
    #[serde(default)]
    counts: Vec<u64>,
}

impl SessionKnn {
    /// Indexes the training sessions; `k` neighbours among the `sample` most recent candidate
    /// sessions (defaults 100 and 500).
    pub fn fit(train: &Sequences, k: usize, sample: usize) -> Self {
        let counts = item_counts(train);
        SessionKnn {
            inc: Incidence::new(train),
            k: k.max(1),
            sample: sample.max(1),
            base: sknn_base(&counts),
            counts,
        }
    }
}

/// SKNN's tie-breaker: a millionth of the popularity scaled into `[0, 1)`, from counts, so that
/// online learning rebuilds it exactly.
fn sknn_base(counts: &[u64]) -> Vec<f32> {
    scaled_popularity(counts, SKNN_TIE)
}

/// The weight of the popularity tie-breaker of SKNN and item-kNN.
const SKNN_TIE: f32 = 1e-6;

impl SessionKnn {
    /// Training sessions indexed.
    pub(crate) fn n_sessions(&self) -> usize {
        self.inc.session_items.len()
    }

    /// Whether the file recorded the click counts online learning needs.
    pub(crate) fn has_counts(&self) -> bool {
        !self.counts.is_empty() && self.counts.len() == self.base.len()
    }

    /// Learns a click on `item` in training session `s` (`s` = [`SessionKnn::n_sessions`] starts a
    /// new session): the index and the tie-breaker become those of a batch fit on the sessions with
    /// this click appended. `false` (nothing learnt) for an unknown item or session.
    pub(crate) fn learn(&mut self, s: usize, item: u32) -> bool {
        let n = self.base.len();
        let i = item as usize;
        if i >= n || !self.has_counts() || s > self.n_sessions() || s > u32::MAX as usize {
            return false;
        }
        if s == self.n_sessions() {
            self.inc.session_items.push(Vec::new());
        }
        let row = &mut self.inc.session_items[s];
        if let Err(p) = row.binary_search(&item) {
            row.insert(p, item);
            let list = &mut self.inc.item_sessions[i];
            let q = list.partition_point(|&x| (x as usize) < s);
            list.insert(q, s as u32);
        }
        count_click(&mut self.counts, &mut self.base, i, SKNN_TIE);
        true
    }
}

impl SessionKnn {
    /// Checks a loaded model: every item and session id within bounds, the two directions of the
    /// index of the same size, so a corrupt file can never index out of bounds.
    pub(crate) fn check_loaded(&self) -> Result<(), String> {
        let n = self.base.len();
        if !self.counts.is_empty() && self.counts.len() != n {
            return Err(format!("{} counts for {n} items", self.counts.len()));
        }
        let inc = &self.inc;
        if inc.item_sessions.len() != n {
            return Err(format!(
                "{} item session lists for {n} items",
                inc.item_sessions.len()
            ));
        }
        if let Some(&bad) = inc
            .session_items
            .iter()
            .flatten()
            .find(|&&i| i as usize >= n)
        {
            return Err(format!("item id {bad} is not below the item count {n}"));
        }
        let sessions = inc.session_items.len();
        if let Some(&bad) = inc
            .item_sessions
            .iter()
            .flatten()
            .find(|&&s| s as usize >= sessions)
        {
            return Err(format!(
                "session id {bad} is not below the session count {sessions}"
            ));
        }
        if self.k == 0 || self.sample == 0 {
            return Err("k and sample must be at least 1".into());
        }
        Ok(())
    }
}

impl NextItemModel for SessionKnn {
    fn name(&self) -> String {
        "sknn".into()
    }
    fn n_items(&self) -> usize {
        self.base.len()
    }
    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        let n = self.base.len();
        let mut scores = self.base.clone();
        let mut in_prefix = vec![u32::MAX; n];
        let mut seen = vec![u32::MAX; self.inc.session_items.len()];
        let mut stamp = 0u32;
        let mut prefix: Vec<u32> = Vec::new();
        let mut cands: Vec<u32> = Vec::new();
        let mut sims: Vec<(f32, u32)> = Vec::new();
        let mut touched: Vec<u32> = Vec::new();
        for &r in rows {
            let s = sessions.row(r);
            for t in 0..s.len().saturating_sub(1) {
                stamp = stamp.wrapping_add(1);
                prefix.clear();
                for &i in &s[..=t] {
                    if in_prefix[i as usize] != stamp {
                        in_prefix[i as usize] = stamp;
                        prefix.push(i);
                    }
                }
                cands.clear();
                for &i in &prefix {
                    for &c in &self.inc.item_sessions[i as usize] {
                        if seen[c as usize] != stamp {
                            seen[c as usize] = stamp;
                            cands.push(c);
                        }
                    }
                }
                // The most recent sessions (highest index) first.
                cands.sort_unstable_by(|a, b| b.cmp(a));
                cands.truncate(self.sample);
                sims.clear();
                let plen = prefix.len() as f32;
                for &c in &cands {
                    let items = &self.inc.session_items[c as usize];
                    let overlap = items
                        .iter()
                        .filter(|&&i| in_prefix[i as usize] == stamp)
                        .count() as f32;
                    sims.push((overlap / (plen * items.len() as f32).sqrt(), c));
                }
                // Sessions are distinct, so the order is strict.
                keep_best(&mut sims, self.k, |a, b| {
                    b.0.total_cmp(&a.0).then(b.1.cmp(&a.1))
                });
                for &(sim, c) in &sims {
                    for &i in &self.inc.session_items[c as usize] {
                        scores[i as usize] += sim;
                        touched.push(i);
                    }
                }
                sink(r, t, &scores);
                for &i in &touched {
                    scores[i as usize] = self.base[i as usize];
                }
                touched.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nextitem::testing::seqs;

    /// A loaded Markov chain whose list of an item names a next item twice is refused, naming both;
    /// scoring would keep the last entry alone instead of their sum.
    #[test]
    fn a_loaded_list_with_a_repeated_item_is_refused() {
        let train = seqs(&[&[0, 1, 2], &[0, 2], &[1, 2]], 3);
        let m = MarkovChain::fit(&train);
        assert_eq!(m.check_loaded(), Ok(()));
        let mut json = serde_json::to_value(&m).expect("json");
        // Item 0 is followed by 1 and 2: make its list [1, 1].
        let items = &mut json["next"]["item"];
        assert_eq!(items[0], 1);
        assert_eq!(items[1], 2);
        items[1] = 1.into();
        let bad: LastItemModel = serde_json::from_value(json).expect("loads");
        let e = bad.check_loaded().expect_err("a repeated item");
        assert!(e.contains("item 0") && e.contains("item 1 twice"), "{e}");
    }
}
