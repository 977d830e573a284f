//! Partially-ordered sequential rules, as RuleGrowth (Fournier-Viger, Nkambou & Tseng, SAC 2011) and
//! ERMiner (Fournier-Viger et al., PAKDD 2014) define them, with the optional window of TRuleGrowth
//! (Fournier-Viger et al., 2012).
//!
//! A rule X ⇒ Y (X, Y non-empty disjoint itemsets, each unordered) *occurs* in a sequence when some
//! split point puts every item of X in an itemset before every item of Y: with `first(i)` and
//! `last(i)` the first and last itemset holding item i, exactly when
//! `max_{x∈X} first(x) < min_{y∈Y} last(y)`. Its support is the number of sequences where it occurs
//! (each sequence counts once); its confidence is support / sup(X), where sup(X) counts the sequences
//! containing all of X in any order. Rules with support ≥ min support and confidence ≥ min confidence
//! are returned — the same set and the same numbers as SPMF's RuleGrowth and ERMiner.
//!
//! With a window of w itemsets (TRuleGrowth), the rule must occur inside w consecutive itemsets: some
//! a ≤ m have X ⊆ s[a..=m] and Y ⊆ s[m+1..a+w). sup(X) stays the unconstrained count.
//!
//! Search (RuleGrowth's): start from every pair {i} ⇒ {j} of frequent items, then grow the right side
//! with items larger than its largest item, and the left side likewise; after a left growth only left
//! growths follow, so every rule is generated once. Support only shrinks when a side grows, so a branch
//! stops at the first infrequent rule. Each rule keeps, per sequence where it occurs, the pair
//! (max first(X), min last(Y)) — growing a side updates it in O(1) from a per-sequence table of
//! (item, first, last), with no rescan of the itemsets.
//!
//! Cost: per expansion, one pass over the item tables of the sequences where the rule occurs; memory is
//! the tables (three u32 per distinct frequent item per sequence) plus the occurrence lists along one
//! recursion path per thread. Parallelism: the first item of X is distributed over rayon workers; the
//! result is sorted, so identical for any thread count.

use rayon::prelude::*;

use cartseq_data::{ItemId, SequenceDb};

use super::{Rule, RuleBudget, RuleError, RuleFilter, RuleKind, RuleParams, RuleSet};
use crate::itemsets::MinSupport;

/// What sequential-rule mining adds to the shared [`RuleParams`]: the minimum support and the
/// optional window.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequential {
    min_support: MinSupport,
    window: Option<usize>,
}

/// Validated parameters of sequential-rule mining.
pub type SequentialParams = RuleParams<Sequential>;

impl SequentialParams {
    /// Rules with at least `min_support` and confidence at least `min_confidence` (in [0, 1]).
    pub fn new(min_support: MinSupport, min_confidence: f64) -> Result<Self, RuleError> {
        let kind = Sequential {
            min_support,
            window: None,
        };
        Self::checked(min_confidence, kind)
    }

    /// Requires the rule inside `w` consecutive itemsets (TRuleGrowth); `w` ≥ 2.
    pub fn window(mut self, w: usize) -> Result<Self, RuleError> {
        if w < 2 {
            return Err(RuleError::Param(format!(
                "window {w}: a rule needs at least 2 consecutive itemsets"
            )));
        }
        self.kind.window = Some(w);
        Ok(self)
    }
}

const INF: u32 = u32::MAX;

/// Per-sequence tables of the frequent items, in rank order (ranks follow item numbers).
struct Tables {
    rank_item: Vec<u32>,
    start: Vec<u32>,
    item: Vec<u32>,
    first: Vec<u32>,
    last: Vec<u32>,
    /// All positions of each table entry (window mode only).
    pos_start: Vec<u32>,
    pos: Vec<u32>,
    /// Sorted sequence ids containing each rank.
    sids: Vec<Vec<u32>>,
}

impl Tables {
    fn build(db: &SequenceDb, minsup: u32, with_pos: bool) -> Tables {
        let bound = db.item_bound();
        let mut seen = vec![INF; bound];
        let mut cnt = vec![0u32; bound];
        for s in db.iter() {
            for &it in s.items() {
                if seen[it.index()] != s.index() as u32 {
                    seen[it.index()] = s.index() as u32;
                    cnt[it.index()] += 1;
                }
            }
        }
        let rank_item: Vec<u32> = (0..bound as u32)
            .filter(|&i| cnt[i as usize] >= minsup)
            .collect();
        let mut rank = vec![INF; bound];
        for (r, &i) in rank_item.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        let mut t = Tables {
            rank_item,
            start: vec![0],
            item: Vec::new(),
            first: Vec::new(),
            last: Vec::new(),
            pos_start: vec![0],
            pos: Vec::new(),
            sids: Vec::new(),
        };
        t.sids = vec![Vec::new(); t.rank_item.len()];
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for s in db.iter() {
            pairs.clear();
            for (k, set) in s.itemsets().enumerate() {
                for &it in set {
                    let r = rank[it.index()];
                    if r != INF {
                        pairs.push((r, k as u32));
                    }
                }
            }
            pairs.sort_unstable();
            let mut i = 0;
            while i < pairs.len() {
                let r = pairs[i].0;
                let mut j = i;
                while j < pairs.len() && pairs[j].0 == r {
                    if with_pos {
                        t.pos.push(pairs[j].1);
                    }
                    j += 1;
                }
                t.item.push(r);
                t.first.push(pairs[i].1);
                t.last.push(pairs[j - 1].1);
                t.pos_start.push(t.pos.len() as u32);
                t.sids[r as usize].push(s.index() as u32);
                i = j;
            }
            t.start.push(t.item.len() as u32);
        }
        t
    }

    #[inline]
    fn range(&self, sid: u32) -> std::ops::Range<usize> {
        self.start[sid as usize] as usize..self.start[sid as usize + 1] as usize
    }

    #[inline]
    fn entry(&self, sid: u32, r: u32) -> Option<usize> {
        let rg = self.range(sid);
        self.item[rg.clone()]
            .binary_search(&r)
            .ok()
            .map(|k| rg.start + k)
    }

    #[inline]
    fn positions(&self, e: usize) -> &[u32] {
        &self.pos[self.pos_start[e] as usize..self.pos_start[e + 1] as usize]
    }

    /// Whether X ⇒ Y occurs in sequence `sid` inside `w` consecutive itemsets.
    fn occurs_in_window(&self, sid: u32, x: &[u32], y: &[u32], w: u32) -> bool {
        let px: Vec<&[u32]> = x
            .iter()
            .filter_map(|&r| self.entry(sid, r).map(|e| self.positions(e)))
            .collect();
        let py: Vec<&[u32]> = y
            .iter()
            .filter_map(|&r| self.entry(sid, r).map(|e| self.positions(e)))
            .collect();
        if px.len() != x.len() || py.len() != y.len() {
            return false;
        }
        // Candidate split points: the itemsets where some item of X occurs.
        let mut splits: Vec<u32> = px.iter().flat_map(|p| p.iter().copied()).collect();
        splits.sort_unstable();
        splits.dedup();
        for &m in &splits {
            // Latest occurrence at or before m of each x (the window start may be as late as their min).
            let mut lo = INF;
            let mut ok = true;
            for p in &px {
                let k = p.partition_point(|&v| v <= m);
                if k == 0 {
                    ok = false;
                    break;
                }
                lo = lo.min(p[k - 1]);
            }
            if !ok {
                continue;
            }
            // Earliest occurrence after m of each y.
            let mut hi = 0u32;
            for p in &py {
                let k = p.partition_point(|&v| v <= m);
                if k == p.len() {
                    return false; // no later split can help this y either
                }
                hi = hi.max(p[k]);
            }
            if hi - lo < w {
                return true;
            }
        }
        false
    }
}

/// One occurrence: sequence, max first(X), min last(Y).
type Occ = (u32, u32, u32);

struct Miner<'a> {
    t: &'a Tables,
    minsup: u32,
    minconf: f64,
    window: Option<u32>,
    filter: &'a RuleFilter,
    max_ant: usize,
    max_cons: usize,
    n: usize,
    budget: &'a RuleBudget,
}

struct Scratch {
    cnt: Vec<u32>,
    slot: Vec<u32>,
    touched: Vec<u32>,
}

fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

impl Miner<'_> {
    fn stop(&self) -> bool {
        self.budget.exceeded()
    }

    /// Candidates for growing one side: counts per rank, then occurrence lists of the frequent ones.
    /// `left`: grow X (need first(c) < q); else grow Y (need last(c) > p).
    fn grow(
        &self,
        occ: &[Occ],
        x: &[u32],
        y: &[u32],
        left: bool,
        sc: &mut Scratch,
    ) -> Vec<(u32, Vec<Occ>)> {
        let t = self.t;
        let min_c = if left {
            x.last().map_or(0, |&m| m + 1)
        } else {
            y.last().map_or(0, |&m| m + 1)
        };
        let other = if left { y } else { x };
        for &(sid, p, q) in occ {
            let rg = t.range(sid);
            let lo = rg.start + t.item[rg.clone()].partition_point(|&r| r < min_c);
            for e in lo..rg.end {
                let c = t.item[e];
                let ok = if left { t.first[e] < q } else { t.last[e] > p };
                if ok && other.binary_search(&c).is_err() {
                    if sc.cnt[c as usize] == 0 {
                        sc.touched.push(c);
                    }
                    sc.cnt[c as usize] += 1;
                }
            }
        }
        sc.touched.sort_unstable();
        let mut lists: Vec<(u32, Vec<Occ>)> = Vec::new();
        for &c in &sc.touched {
            if sc.cnt[c as usize] >= self.minsup {
                sc.slot[c as usize] = lists.len() as u32;
                lists.push((c, Vec::with_capacity(sc.cnt[c as usize] as usize)));
            }
        }
        if !lists.is_empty() {
            for &(sid, p, q) in occ {
                let rg = t.range(sid);
                let lo = rg.start + t.item[rg.clone()].partition_point(|&r| r < min_c);
                for e in lo..rg.end {
                    let c = t.item[e];
                    if sc.cnt[c as usize] < self.minsup {
                        continue;
                    }
                    let ok = if left { t.first[e] < q } else { t.last[e] > p };
                    if ok && other.binary_search(&c).is_err() {
                        let o = if left {
                            (sid, p.max(t.first[e]), q)
                        } else {
                            (sid, p, q.min(t.last[e]))
                        };
                        lists[sc.slot[c as usize] as usize].1.push(o);
                    }
                }
            }
        }
        for &c in &sc.touched {
            sc.cnt[c as usize] = 0;
        }
        sc.touched.clear();
        if let Some(w) = self.window {
            for (c, l) in lists.iter_mut() {
                let mut nx = x.to_vec();
                let mut ny = y.to_vec();
                if left {
                    nx.push(*c);
                } else {
                    ny.push(*c);
                }
                l.retain(|o| t.occurs_in_window(o.0, &nx, &ny, w));
            }
            lists.retain(|(_, l)| l.len() as u32 >= self.minsup);
        }
        lists
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(&self, x: &[u32], y: &[u32], sup: usize, sx: usize, sy: usize, out: &mut Vec<Rule>) {
        self.budget.candidate();
        let conf = sup as f64 / sx as f64;
        if conf < self.minconf {
            return;
        }
        let map = |s: &[u32]| -> Vec<ItemId> {
            s.iter()
                .map(|&r| ItemId(self.t.rank_item[r as usize]))
                .collect()
        };
        let r = Rule::of_itemsets(map(x), map(y), sup as u32, sx as u32, sy as u32);
        if self.filter.keep(&r, self.n) {
            self.budget.add(1);
            out.push(r);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn expand_left(
        &self,
        x: &mut Vec<u32>,
        y: &[u32],
        occ: &[Occ],
        tids_x: &[u32],
        sy: usize,
        sc: &mut Scratch,
        out: &mut Vec<Rule>,
    ) {
        if x.len() >= self.max_ant || self.stop() {
            return;
        }
        for (c, l) in self.grow(occ, x, y, true, sc) {
            let tx = intersect(tids_x, &self.t.sids[c as usize]);
            x.push(c);
            self.emit(x, y, l.len(), tx.len(), sy, out);
            self.expand_left(x, y, &l, &tx, sy, sc, out);
            x.pop();
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn expand_right(
        &self,
        x: &mut Vec<u32>,
        y: &mut Vec<u32>,
        occ: &[Occ],
        tids_x: &[u32],
        tids_y: Option<&[u32]>,
        sc: &mut Scratch,
        out: &mut Vec<Rule>,
    ) {
        if y.len() >= self.max_cons || self.stop() {
            return;
        }
        for (c, l) in self.grow(occ, x, y, false, sc) {
            let ty = match tids_y {
                Some(t) => intersect(t, &self.t.sids[c as usize]),
                None => self.t.sids[c as usize].clone(),
            };
            y.push(c);
            self.emit(x, y, l.len(), tids_x.len(), ty.len(), out);
            self.expand_left(x, y, &l, tids_x, ty.len(), sc, out);
            self.expand_right(x, y, &l, tids_x, Some(&ty), sc, out);
            y.pop();
        }
    }
}

/// Mines every sequential rule of `db` passing `params` (RuleGrowth semantics), sorted by lift.
pub fn sequential_rules(db: &SequenceDb, params: &SequentialParams) -> Result<RuleSet, RuleError> {
    let n = db.len();
    let minsup = params.kind.min_support.absolute(n);
    let t = Tables::build(db, minsup, params.kind.window.is_some());
    let budget = RuleBudget::new(params.max_rules);
    let miner = Miner {
        t: &t,
        minsup,
        minconf: params.min_confidence,
        window: params
            .kind
            .window
            .map(|w| u32::try_from(w).unwrap_or(u32::MAX)),
        filter: &params.filter,
        max_ant: params.filter.max_antecedent.unwrap_or(usize::MAX),
        max_cons: params.filter.max_consequent.unwrap_or(usize::MAX),
        n,
        budget: &budget,
    };
    let nr = t.rank_item.len();
    let per_item: Vec<Vec<Rule>> = (0..nr as u32)
        .into_par_iter()
        .map(|i| {
            let mut sc = Scratch {
                cnt: vec![0; nr],
                slot: vec![0; nr],
                touched: Vec::new(),
            };
            let occ: Vec<Occ> = t.sids[i as usize]
                .iter()
                .map(|&sid| {
                    let e = t.entry(sid, i).unwrap_or(0);
                    (sid, t.first[e], INF)
                })
                .collect();
            let mut out = Vec::new();
            let mut x = vec![i];
            let mut y = Vec::new();
            if miner.max_ant >= 1 && miner.max_cons >= 1 {
                miner.expand_right(
                    &mut x,
                    &mut y,
                    &occ,
                    &t.sids[i as usize],
                    None,
                    &mut sc,
                    &mut out,
                );
            }
            out
        })
        .collect();
    budget.finish(RuleKind::Sequential, per_item, n, minsup)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cartseq_data::sequence_db::from_nested;

    #[test]
    fn context_prefixspan_example() {
        // SPMF's contextPrefixSpan.txt.
        let db = from_nested(&[
            vec![vec![1], vec![1, 2, 3], vec![1, 3], vec![4], vec![3, 6]],
            vec![vec![1, 4], vec![3], vec![2, 3], vec![1, 5]],
            vec![vec![5, 6], vec![1, 2], vec![4, 6], vec![3], vec![2]],
            vec![vec![5], vec![7], vec![1, 6], vec![3], vec![2], vec![3]],
        ]);
        let p = SequentialParams::new(MinSupport::parse("0.5").unwrap(), 0.6).unwrap();
        let rs = sequential_rules(&db, &p).unwrap();
        assert_eq!(rs.len(), 59);
        let one = rs
            .rules
            .iter()
            .find(|r| {
                r.antecedent == vec![vec![ItemId(1), ItemId(2)]]
                    && r.consequent == vec![vec![ItemId(3)]]
            })
            .unwrap();
        assert_eq!((one.support, one.antecedent_support), (3, 4));
    }

    #[test]
    fn window_restricts() {
        let db = from_nested(&[
            vec![vec![1], vec![9], vec![9], vec![2]],
            vec![vec![1], vec![2]],
        ]);
        let p = SequentialParams::new(MinSupport::Count(1), 0.0).unwrap();
        let all = sequential_rules(&db, &p).unwrap();
        let r12 = |rs: &RuleSet| {
            rs.rules
                .iter()
                .find(|r| {
                    r.antecedent == vec![vec![ItemId(1)]] && r.consequent == vec![vec![ItemId(2)]]
                })
                .map(|r| r.support)
        };
        assert_eq!(r12(&all), Some(2));
        let w2 = sequential_rules(&db, &p.clone().window(2).unwrap()).unwrap();
        assert_eq!(r12(&w2), Some(1));
        let w4 = sequential_rules(&db, &p.window(4).unwrap()).unwrap();
        assert_eq!(r12(&w4), Some(2));
    }
}
