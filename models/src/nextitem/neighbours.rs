//! The machinery V-SKNN, STAN and VSTAN share: an index of the training sessions (click lists,
//! distinct items with the position of their last click, sessions of every item, the time of each
//! session's last click, inverse document frequencies), the per-session candidate set of
//! session-rec (every training session sharing an item with the prefix, accumulated click by click),
//! its "most recent" sample, the top-k selection, and the conversion of accumulated scores into the
//! score vector handed to the evaluation.
//!
//! Determinism: candidates are sampled by (last-click time, session index) descending and neighbours
//! chosen by (similarity, last-click time, index) descending — total orders, so the neighbour set and
//! the order in which scores are summed do not depend on threads or hash order.
//!
//! Output scale: an item with accumulated score `a > 0` gets `δ + (1 − δ)·a / max a` (so the best
//! is 1) and every other item `δ · pop(i) / (max pop + 1)` with `δ = 10⁻⁴`: items with evidence
//! always rank above items without, which fall back to popularity, and the ranking among items with
//! evidence is exactly the ranking of their scores (what session-rec normalises by the maximum).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::nextitem::{
    count_click, item_counts, keep_best, scaled_popularity, Prefixes, ScoreSink,
};
use crate::{ModelError, Sequences};

/// The floor of scores with evidence, the ceiling of the popularity fallback.
pub(crate) const EVIDENCE_FLOOR: f32 = 1e-4;

/// The popularity fallback `δ · count / (max count + 1)` of every item.
pub(crate) fn fallback_scores(train: &Sequences) -> Vec<f32> {
    scaled_popularity(&item_counts(train), EVIDENCE_FLOOR)
}

/// session-rec's IDF of an item with `clicks` clicks among `sessions` sessions (0 for an unclicked
/// item).
fn idf_of(sessions: usize, clicks: u64) -> f64 {
    if clicks == 0 {
        0.0
    } else {
        (sessions.max(1) as f64 / clicks as f64).ln()
    }
}

/// Training sessions indexed for neighbour search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct SessionIndex {
    /// Distinct items of every session with the 1-based position of their last click, by item.
    distinct: Vec<(u32, u32)>,
    /// Row starts of `distinct` (sessions + 1).
    distinct_start: Vec<usize>,
    /// Sessions containing each item, ascending.
    item_sessions: Vec<u32>,
    /// Row starts of `item_sessions` (items + 1).
    item_start: Vec<usize>,
    /// Time of each session's last click in seconds (its index when the log has no times).
    pub(crate) last_time: Vec<f64>,
    /// `ln(sessions / clicks of the item)`, session-rec's IDF (it counts clicks, not sessions).
    pub(crate) idf: Vec<f64>,
    /// Popularity fallback of every item.
    pub(crate) fallback: Vec<f32>,
    /// Click count of every item, behind `idf` and `fallback` (what online learning updates; empty
    /// in files written before it was recorded, which then cannot learn online).
    #[serde(default)]
    counts: Vec<u64>,
    /// Sessions learnt online, numbered after the indexed ones (never saved).
    #[serde(skip)]
    live: LiveSessions,
}

/// Sessions added to a [`SessionIndex`] after it was built (`cartseq serve --learn-online`): the
/// compressed rows are built once, so new sessions go to this overlay, read together with them. A
/// learnt session costs its distinct items twice (row and item lists, 12 bytes each) plus two
/// vector headers (48 bytes), its click count and its last-click time (12 bytes).
#[derive(Clone, Debug, Default, PartialEq)]
struct LiveSessions {
    /// Distinct items of each live session with the position of their last click, by item.
    rows: Vec<Vec<(u32, u32)>>,
    /// Clicks of each live session.
    clicks: Vec<u32>,
    /// Live sessions containing each item, ascending (numbered as in the index).
    by_item: HashMap<u32, Vec<u32>>,
}

impl SessionIndex {
    /// Indexes `train`; `times` are the click times in seconds aligned with `train.tokens`.
    pub(crate) fn new(train: &Sequences, times: Option<&[f64]>) -> Self {
        let n_items = train.vocab;
        let mut distinct = Vec::with_capacity(train.tokens.len());
        let mut distinct_start = vec![0];
        let mut last_time = Vec::with_capacity(train.len());
        let mut per_item = vec![0usize; n_items + 1];
        let mut row: Vec<(u32, u32)> = Vec::new();
        for r in 0..train.len() {
            row.clear();
            row.extend(
                train
                    .row(r)
                    .iter()
                    .enumerate()
                    .map(|(p, &i)| (i, p as u32 + 1)),
            );
            // Ascending item, last position first, then keep the first of each item.
            row.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            row.dedup_by_key(|x| x.0);
            for &(i, _) in &row {
                per_item[i as usize + 1] += 1;
            }
            distinct.extend_from_slice(&row);
            distinct_start.push(distinct.len());
            let end = train.offsets[r + 1];
            last_time.push(match times {
                Some(t) if end > train.offsets[r] => t[end - 1],
                _ => r as f64,
            });
        }
        for i in 0..n_items {
            per_item[i + 1] += per_item[i];
        }
        let item_start = per_item.clone();
        let mut fill = per_item;
        let mut item_sessions = vec![0u32; distinct.len()];
        for r in 0..train.len() {
            for &(i, _) in &distinct[distinct_start[r]..distinct_start[r + 1]] {
                item_sessions[fill[i as usize]] = r as u32;
                fill[i as usize] += 1;
            }
        }
        let counts = item_counts(train);
        SessionIndex {
            distinct,
            distinct_start,
            item_sessions,
            item_start,
            last_time,
            idf: counts.iter().map(|&c| idf_of(train.len(), c)).collect(),
            fallback: scaled_popularity(&counts, EVIDENCE_FLOOR),
            counts,
            live: LiveSessions::default(),
        }
    }

    /// Sessions indexed, the learnt ones included.
    pub(crate) fn n_sessions(&self) -> usize {
        self.last_time.len()
    }

    /// Whether the file recorded the click counts online learning needs.
    pub(crate) fn can_learn(&self) -> bool {
        self.counts.len() == self.n_items() && !self.counts.is_empty()
    }

    /// Learns a click on `item` at `time` (seconds) in session `s`, a learnt session or
    /// [`SessionIndex::n_sessions`] to start one: afterwards the index is the one a batch
    /// [`SessionIndex::new`] builds on the sessions with this click appended (the session's last-click
    /// time becomes `time`). The IDF weights change with every new session, an `O(items)` update done
    /// only when `idf` is asked for (the model weighs by them). `false` (nothing learnt) for an
    /// unknown item, a training session or a file without counts.
    pub(crate) fn learn(&mut self, s: usize, item: u32, time: f64, idf: bool) -> bool {
        let i = item as usize;
        let first_live = self.distinct_start.len() - 1;
        let sessions = self.n_sessions();
        if i >= self.n_items() || !self.can_learn() || s < first_live || s > sessions {
            return false;
        }
        let Ok(id) = u32::try_from(s) else {
            return false;
        };
        let live = &mut self.live;
        if s == sessions {
            live.rows.push(Vec::new());
            live.clicks.push(0);
            self.last_time.push(time);
        }
        let k = s - first_live;
        live.clicks[k] = live.clicks[k].saturating_add(1);
        let pos = live.clicks[k];
        let row = &mut live.rows[k];
        match row.binary_search_by_key(&item, |x| x.0) {
            Ok(p) => row[p].1 = pos,
            Err(p) => {
                row.insert(p, (item, pos));
                let list = live.by_item.entry(item).or_default();
                list.insert(list.partition_point(|&x| x < id), id);
            }
        }
        self.last_time[s] = time;
        count_click(&mut self.counts, &mut self.fallback, i, EVIDENCE_FLOOR);
        if idf && s == sessions {
            let n = self.n_sessions();
            for (w, &c) in self.idf.iter_mut().zip(&self.counts) {
                *w = idf_of(n, c);
            }
        } else if idf {
            self.idf[i] = idf_of(self.n_sessions(), self.counts[i]);
        }
        true
    }

    /// Number of items.
    pub(crate) fn n_items(&self) -> usize {
        self.fallback.len()
    }

    /// Checks a loaded index: row starts monotone and in bounds, every item and session id below
    /// its count, per-item and per-session arrays of the right length, so a corrupt file can never
    /// index out of bounds.
    pub(crate) fn check_loaded(&self) -> Result<(), String> {
        let n = self.n_items();
        let sessions = self.last_time.len();
        if !super::valid_row_starts(&self.distinct_start, sessions, self.distinct.len()) {
            return Err(format!("session rows do not match {sessions} sessions"));
        }
        if !super::valid_row_starts(&self.item_start, n, self.item_sessions.len()) {
            return Err(format!("item rows do not match {n} items"));
        }
        if self.idf.len() != n {
            return Err(format!("{} idf weights for {n} items", self.idf.len()));
        }
        if !self.counts.is_empty() && self.counts.len() != n {
            return Err(format!("{} counts for {n} items", self.counts.len()));
        }
        if let Some(&(bad, _)) = self.distinct.iter().find(|x| x.0 as usize >= n) {
            return Err(format!("item id {bad} is not below the item count {n}"));
        }
        if let Some(&bad) = self.item_sessions.iter().find(|&&s| s as usize >= sessions) {
            return Err(format!(
                "session id {bad} is not below the session count {sessions}"
            ));
        }
        Ok(())
    }

    /// Distinct items of session `c` with the position of their last click, by item.
    pub(crate) fn items_of(&self, c: u32) -> &[(u32, u32)] {
        let c = c as usize;
        match self.distinct_start.get(c + 1) {
            Some(&end) => &self.distinct[self.distinct_start[c]..end],
            None => &self.live.rows[c + 1 - self.distinct_start.len()],
        }
    }

    /// Sessions containing item `i`, ascending: the indexed ones, then the learnt ones.
    fn sessions_of(&self, i: u32) -> impl Iterator<Item = &u32> {
        let built =
            &self.item_sessions[self.item_start[i as usize]..self.item_start[i as usize + 1]];
        let live = if self.live.by_item.is_empty() {
            None
        } else {
            self.live.by_item.get(&i)
        };
        built.iter().chain(live.into_iter().flatten())
    }

    /// Whether `a` is more recent than `b` (later last click, then later session).
    fn newer(&self, a: u32, b: u32) -> std::cmp::Ordering {
        let (ta, tb) = (self.last_time[a as usize], self.last_time[b as usize]);
        tb.total_cmp(&ta).then(b.cmp(&a))
    }
}

/// Per-worker buffers of one neighbour search.
pub(crate) struct Scratch {
    /// Stamp of the current test session in `seen` (candidate sessions).
    session_stamp: u32,
    seen: Vec<u32>,
    /// Every candidate of the current test session so far.
    all_cands: Vec<u32>,
    /// The sampled candidates of the current prefix.
    pub(crate) cands: Vec<u32>,
    /// Stamp of the current prefix in `weight_stamp`.
    prefix_stamp: u32,
    weight_stamp: Vec<u32>,
    /// Weight of each item of the current prefix (valid where `weight_stamp` matches).
    weight: Vec<f64>,
    /// Distinct items of the current prefix.
    distinct: Vec<u32>,
    /// `(similarity, session)` of the candidates.
    pub(crate) sims: Vec<(f64, u32)>,
    /// Accumulated score of each item and the items touched.
    acc: Vec<f64>,
    touched: Vec<u32>,
    /// The output score vector.
    scores: Vec<f32>,
}

impl Scratch {
    pub(crate) fn new(index: &SessionIndex) -> Self {
        let n = index.n_items();
        Scratch {
            session_stamp: 0,
            seen: vec![0; index.last_time.len()],
            all_cands: Vec::new(),
            cands: Vec::new(),
            prefix_stamp: 0,
            weight_stamp: vec![0; n],
            weight: vec![0.0; n],
            distinct: Vec::new(),
            sims: Vec::new(),
            acc: vec![0.0; n],
            touched: Vec::new(),
            scores: index.fallback.clone(),
        }
    }

    /// Sets the prefix weights: `w(position, length)` of each click (1-based positions, the last
    /// click of an item wins, as session-rec's `pos_map`). Returns the number of distinct items and
    /// the sum of their squared weights.
    pub(crate) fn set_prefix(
        &mut self,
        prefix: &[u32],
        w: impl Fn(usize, usize) -> f64,
    ) -> (usize, f64) {
        self.prefix_stamp = self.prefix_stamp.wrapping_add(1);
        if self.prefix_stamp == 0 {
            self.weight_stamp.iter_mut().for_each(|s| *s = 0);
            self.prefix_stamp = 1;
        }
        let len = prefix.len();
        for (p, &i) in prefix.iter().enumerate() {
            self.weight_stamp[i as usize] = self.prefix_stamp;
            self.weight[i as usize] = w(p + 1, len);
        }
        self.distinct.clear();
        self.distinct.extend_from_slice(prefix);
        self.distinct.sort_unstable();
        self.distinct.dedup();
        let sq = self
            .distinct
            .iter()
            .map(|&i| self.weight[i as usize] * self.weight[i as usize])
            .sum();
        (self.distinct.len(), sq)
    }

    /// The prefix weight of item `i`, if it is in the prefix.
    #[inline]
    pub(crate) fn prefix_weight(&self, i: u32) -> Option<f64> {
        (self.weight_stamp[i as usize] == self.prefix_stamp).then(|| self.weight[i as usize])
    }

    /// Adds `v` to item `i`'s score.
    #[inline]
    pub(crate) fn add(&mut self, i: u32, v: f64) {
        if self.acc[i as usize] == 0.0 {
            self.touched.push(i);
        }
        self.acc[i as usize] += v;
    }
}

/// Checks the neighbour count and the candidate sample (both ≥ 1).
pub(crate) fn check_neighbours(k: usize, sample: usize) -> Result<(), ModelError> {
    if k == 0 {
        return Err(ModelError::invalid("k", k, "at least 1 neighbour"));
    }
    if sample == 0 {
        return Err(ModelError::invalid(
            "sample",
            sample,
            "at least 1 candidate session",
        ));
    }
    Ok(())
}

/// Checks a decay constant or weight `λ`: finite and > 0 (or ≥ 0 when `zero_ok`, meaning off).
pub(crate) fn check_lambda(name: &'static str, v: f64, zero_ok: bool) -> Result<(), ModelError> {
    let ok = v.is_finite() && (v > 0.0 || (zero_ok && v == 0.0));
    if ok {
        Ok(())
    } else if zero_ok {
        Err(ModelError::invalid(
            name,
            v,
            "a finite number ≥ 0 (0 = off)",
        ))
    } else {
        Err(ModelError::invalid(name, v, "a finite number > 0"))
    }
}

/// The `k` nearest candidates of `sc.cands` as `(similarity, session)`, best first (taken out of the
/// scratch; give them back with [`Scratch::sims`] = …). The similarity is the prefix-weighted overlap
/// `Σ_{i∈p∩n} w(i)` divided by `√Σ_{i∈p} w(i)² · √|n|` (`cosine`) or by the number of distinct prefix
/// items (session-rec's "vec"), times `factor(n)`; `stats` is what [`Scratch::set_prefix`] returned.
/// Candidates of similarity 0 are left out (they would vote 0).
pub(crate) fn nearest(
    index: &SessionIndex,
    sc: &mut Scratch,
    stats: (usize, f64),
    cosine: bool,
    k: usize,
    factor: impl Fn(u32) -> f64,
) -> Vec<(f64, u32)> {
    let (n_distinct, sq) = stats;
    let mut sims = std::mem::take(&mut sc.sims);
    sims.clear();
    for &c in &sc.cands {
        let items = index.items_of(c);
        let dot: f64 = items.iter().filter_map(|&(i, _)| sc.prefix_weight(i)).sum();
        let sim = if cosine {
            dot / (sq.sqrt() * (items.len() as f64).sqrt())
        } else {
            dot / n_distinct as f64
        } * factor(c);
        if sim > 0.0 {
            sims.push((sim, c));
        }
    }
    top_k(index, &mut sims, k);
    sims
}

/// The position in `prefix` of its most recent click on an item of the neighbour `items` (its
/// distinct items, ascending): what V-SKNN's vote decay and VSTAN's sequence weight read.
pub(crate) fn last_shared(prefix: &[u32], items: &[(u32, u32)]) -> Option<usize> {
    prefix
        .iter()
        .rposition(|i| items.binary_search_by_key(i, |x| x.0).is_ok())
}

/// Keeps the `k` best `(similarity, session)` of `sims` (similarity, then recency, descending), in
/// that order.
fn top_k(index: &SessionIndex, sims: &mut Vec<(f64, u32)>, k: usize) {
    keep_best(sims, k, |a, b| {
        b.0.total_cmp(&a.0).then(index.newer(a.1, b.1))
    });
}

/// Scores every prefix of every session of `rows`: `neighbours(prefix, now, scratch)` fills the
/// scratch's accumulated scores from `scratch.cands` (the `sample` most recent training sessions
/// sharing an item with the prefix); the result goes to `sink` on the output scale of the module doc.
pub(crate) fn score_sessions(
    index: &SessionIndex,
    sample: usize,
    q: &Prefixes<'_>,
    sink: ScoreSink<'_>,
    mut neighbours: impl FnMut(&[u32], Option<f64>, &mut Scratch),
) {
    let (sessions, times) = (q.sessions, q.times);
    let mut sc = Scratch::new(index);
    for &r in q.rows {
        let s = sessions.row(r);
        sc.session_stamp = sc.session_stamp.wrapping_add(1);
        if sc.session_stamp == 0 {
            sc.seen.iter_mut().for_each(|x| *x = 0);
            sc.session_stamp = 1;
        }
        sc.all_cands.clear();
        for t in 0..s.len().saturating_sub(1) {
            let item = s[t];
            if (item as usize) < index.n_items() {
                for &c in index.sessions_of(item) {
                    if sc.seen[c as usize] != sc.session_stamp {
                        sc.seen[c as usize] = sc.session_stamp;
                        sc.all_cands.push(c);
                    }
                }
            }
            sc.cands.clear();
            sc.cands.extend_from_slice(&sc.all_cands);
            if sc.cands.len() > sample {
                sc.cands
                    .select_nth_unstable_by(sample, |&a, &b| index.newer(a, b));
                sc.cands.truncate(sample);
            }
            sc.cands.sort_unstable();
            let now = times.map(|ts| ts[sessions.offsets[r] + t]);
            neighbours(&s[..=t], now, &mut sc);
            emit(index, &mut sc, r, t, sink);
        }
    }
}

/// Writes the accumulated scores into the output scale, calls the sink, and resets.
fn emit(index: &SessionIndex, sc: &mut Scratch, r: usize, t: usize, sink: ScoreSink<'_>) {
    let max = sc
        .touched
        .iter()
        .map(|&i| sc.acc[i as usize])
        .fold(0.0f64, f64::max);
    if max > 0.0 {
        for &i in &sc.touched {
            let a = sc.acc[i as usize];
            if a > 0.0 {
                sc.scores[i as usize] = EVIDENCE_FLOOR + (1.0 - EVIDENCE_FLOOR) * (a / max) as f32;
            }
        }
    }
    sink(r, t, &sc.scores);
    for &i in &sc.touched {
        sc.acc[i as usize] = 0.0;
        sc.scores[i as usize] = index.fallback[i as usize];
    }
    sc.touched.clear();
}

#[cfg(test)]
mod tests {
    use crate::nextitem::testing::seqs;
    use crate::nextitem::{Stan, StanParams, VSessionKnn, VsknnParams};

    /// Every neighbourhood model refuses a bad neighbour count or decay ([`super::check_neighbours`],
    /// [`super::check_lambda`]) before it indexes anything.
    #[test]
    fn invalid_parameters_are_refused() {
        let train = seqs(&[&[0, 1]], 2);
        let p = StanParams {
            lambda_inh: 0.0,
            ..StanParams::stan()
        };
        assert!(Stan::fit(&train, None, p).is_err());
        let p = StanParams {
            vstan: Some((1.0, f64::NAN)),
            ..StanParams::stan()
        };
        assert!(Stan::fit(&train, None, p).is_err());
        let p = VsknnParams {
            k: 0,
            ..VsknnParams::default()
        };
        assert!(VSessionKnn::fit(&train, None, p).is_err());
    }
}
