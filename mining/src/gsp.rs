//! GSP: Generalized Sequential Patterns (Srikant & Agrawal, "Mining Sequential Patterns: Generalizations
//! and Performance Improvements", EDBT 1996), level-wise.
//!
//! **What it computes**: the same frequent patterns as [`crate::prefixspan`], under the same options.
//!
//! **How**: level `k+1` candidates are generated from the frequent `k`-item patterns `L_k` by the GSP join
//! (`s1` and `s2` join when `s1` without its first item equals `s2` without its last item; the last item of
//! `s2` is appended as a new itemset if it was alone in its itemset, else added to the last itemset), then
//! pruned when a `k`-item sub-pattern is not in `L_k` (with a max gap only the *contiguous* sub-patterns
//! are used, as in the paper: deleting an item from an inner one-item itemset could break the gap). Each
//! level is counted in one pass over the database (rayon over sequences; per sequence only candidates
//! whose items all occur are checked, by a greedy left-most match, or by tracking every occurrence end and
//! its latest start under gap/span constraints).
//!
//! **AprioriAll** (Agrawal & Srikant, "Mining Sequential Patterns", ICDE 1995) first finds the frequent
//! itemsets ("litemsets"), maps each sequence to sequences of litemset ids, and then runs the same
//! level-wise generate-and-count over litemset ids. Its answer is the same set of frequent sequential
//! patterns (its maximal phase aside, which [`crate::params::Condense::Maximal`] provides): a pattern is
//! frequent iff its itemsets are litemsets and it is contained in enough sequences, and GSP's level 1-2
//! candidates (`<(x)(y)>` and `<(x y)>`) enumerate exactly the litemsets' building blocks. So `--algo
//! aprioriall` is accepted as a name for GSP; the litemset phase is not a separate step because it would
//! not change the output.
//!
//! **Cost**: one database pass per level; memory O(|L_k| + |C_{k+1}|) patterns. Candidate explosion is
//! bounded by `max_patterns` (an error with advice, not an out-of-memory).

use hashbrown::{HashMap, HashSet};
use rayon::prelude::*;

use crate::dense::{Dense, Guard, Occ};
use crate::error::MiningError;
use crate::miner::{FrequentRun, Miner};
use crate::params::{FromOptions, Options, Params};
use crate::pattern::Pattern;

/// The GSP miner (build it with [`Gsp::params`]).
#[derive(Debug, Clone)]
pub struct Gsp {
    opts: Options,
}

impl Gsp {
    /// The parameter builder: `Gsp::params().min_count(2).check()?`.
    pub fn params() -> Params<Gsp> {
        Params::default()
    }

    pub(crate) fn with(opts: Options) -> Self {
        Gsp { opts }
    }
}

impl FromOptions for Gsp {
    fn from_options(opts: Options) -> Self {
        Gsp { opts }
    }
}

/// A candidate coded as `rank << 1 | starts_new_itemset` per item (the first item always starts one).
type Code = Vec<u32>;

#[inline]
fn starts(c: u32) -> bool {
    c & 1 == 1
}

/// `code` without item `i` (the next item inherits the itemset start flag if `i` began an itemset).
fn delete(code: &[u32], i: usize) -> Code {
    let mut out = Vec::with_capacity(code.len() - 1);
    for (k, &c) in code.iter().enumerate() {
        if k == i {
            continue;
        }
        if k == i + 1 && starts(code[i]) {
            out.push(c | 1);
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether deleting item `i` keeps a contiguous sub-pattern (first or last itemset, or an itemset with
/// at least two items).
fn contiguous_delete(code: &[u32], i: usize) -> bool {
    let set_start = (0..=i).rev().find(|&k| starts(code[k])).unwrap_or(0);
    let set_end = (i + 1..code.len())
        .find(|&k| starts(code[k]))
        .unwrap_or(code.len());
    set_start == 0 || set_end == code.len() || set_end - set_start >= 2
}

fn decode(code: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let mut items = Vec::with_capacity(code.len());
    let mut ends = Vec::new();
    for (k, &c) in code.iter().enumerate() {
        if k > 0 && starts(c) {
            ends.push(k as u32);
        }
        items.push(c >> 1);
    }
    ends.push(code.len() as u32);
    (items, ends)
}

impl Miner for Gsp {
    fn mine_frequent(&self, run: FrequentRun<'_>) -> Result<u64, MiningError> {
        let Some((d, filter)) = run.dense() else {
            return Ok(0);
        };
        let (opts, min_count) = (run.opts, run.min_count);
        let occ = Occ::new(opts);
        let constrained = opts.has_occurrence_constraints();
        let gap_mode = opts.max_gap.is_set();
        let mut emitted = 0u64;
        let guard = Guard::new(opts.max_patterns);
        let mut level: Vec<(Code, u32)> = (0..d.n_ranks() as u32)
            .map(|r| (vec![(r << 1) | 1], d.rank_support[r as usize]))
            .collect();
        let mut k = 1usize;
        loop {
            let mut pats: Vec<Pattern> = Vec::new();
            for (code, sup) in &level {
                let (items, ends) = decode(code);
                if filter.wants(&items, &ends) {
                    pats.push(d.to_pattern(&items, &ends, *sup));
                }
            }
            pats.sort_unstable_by(|a, b| a.cmp_pattern(b));
            for p in pats {
                guard.add()?;
                emitted += 1;
                run.sink.accept(p)?;
            }
            if level.is_empty() || k >= filter.max_items {
                break;
            }
            let cands = generate(&level, k, gap_mode, filter.max_itemsets);
            if cands.len() as u64 > opts.max_patterns {
                return Err(MiningError::TooManyCandidates {
                    candidates: cands.len() as u64,
                    size: k + 1,
                    limit: opts.max_patterns,
                });
            }
            guard.check_memory()?;
            let counts = count(&d, &cands, occ, constrained);
            guard.check_memory()?;
            level = cands
                .into_iter()
                .zip(counts)
                .filter(|(_, c)| *c >= min_count)
                .collect();
            k += 1;
        }
        Ok(emitted)
    }

    fn name(&self) -> &'static str {
        "gsp"
    }

    fn options(&self) -> &Options {
        &self.opts
    }
}

/// Candidates of `k + 1` items from the frequent `k`-item patterns.
fn generate(level: &[(Code, u32)], k: usize, gap_mode: bool, max_itemsets: usize) -> Vec<Code> {
    let n_sets = |c: &[u32]| c.iter().filter(|&&x| starts(x)).count();
    let mut out: Vec<Code> = Vec::new();
    if k == 1 {
        let items: Vec<u32> = level.iter().map(|(c, _)| c[0] >> 1).collect();
        for &x in &items {
            for &y in &items {
                if max_itemsets >= 2 {
                    out.push(vec![(x << 1) | 1, (y << 1) | 1]);
                }
                if y > x {
                    out.push(vec![(x << 1) | 1, y << 1]);
                }
            }
        }
        return out;
    }
    let frequent: HashSet<&[u32]> = level.iter().map(|(c, _)| c.as_slice()).collect();
    let mut by_tail: HashMap<Code, Vec<usize>> = HashMap::new();
    for (i, (c, _)) in level.iter().enumerate() {
        by_tail.entry(delete(c, 0)).or_default().push(i);
    }
    let mut seen: HashSet<Code> = HashSet::new();
    for (s2, _) in level {
        let head = delete(s2, s2.len() - 1);
        let Some(partners) = by_tail.get(&head) else {
            continue;
        };
        let last = s2[s2.len() - 1];
        for &i in partners {
            let s1 = &level[i].0;
            let mut cand = s1.clone();
            if starts(last) {
                cand.push(last);
            } else {
                if (s1[s1.len() - 1] >> 1) >= (last >> 1) {
                    continue;
                }
                cand.push(last & !1);
            }
            if n_sets(&cand) > max_itemsets {
                continue;
            }
            let ok = (0..cand.len()).all(|j| {
                (gap_mode && !contiguous_delete(&cand, j))
                    || frequent.contains(delete(&cand, j).as_slice())
            });
            if ok && seen.insert(cand.clone()) {
                out.push(cand);
            }
        }
    }
    out.sort_unstable();
    out
}

/// Support of every candidate: one parallel pass over the sequences.
fn count(d: &Dense, cands: &[Code], occ: Occ, constrained: bool) -> Vec<u32> {
    let mut by_first: Vec<Vec<u32>> = vec![Vec::new(); d.n_ranks()];
    for (i, c) in cands.iter().enumerate() {
        by_first[(c[0] >> 1) as usize].push(i as u32);
    }
    let decoded: Vec<(Vec<u32>, Vec<u32>)> = cands.iter().map(|c| decode(c)).collect();
    let n = d.n_seqs();
    let chunk = 256;
    (0..n.div_ceil(chunk))
        .into_par_iter()
        .fold(
            || (vec![0u32; cands.len()], vec![u32::MAX; d.n_ranks()]),
            |(mut counts, mut present), ci| {
                for sid in ci * chunk..((ci + 1) * chunk).min(n) {
                    let r = d.seq(sid);
                    let items =
                        &d.items[d.set_starts[r.start] as usize..d.set_starts[r.end] as usize];
                    for &y in items {
                        present[y as usize] = sid as u32;
                    }
                    let mut firsts: Vec<u32> = items.to_vec();
                    firsts.sort_unstable();
                    firsts.dedup();
                    for &x in &firsts {
                        for &c in &by_first[x as usize] {
                            let (pi, pe) = &decoded[c as usize];
                            if pi.iter().all(|&y| present[y as usize] == sid as u32)
                                && occurs(d, sid, pi, pe, occ, constrained)
                            {
                                counts[c as usize] += 1;
                            }
                        }
                    }
                }
                (counts, present)
            },
        )
        .map(|(c, _)| c)
        .reduce(
            || vec![0u32; cands.len()],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        )
}

/// Whether sequence `sid` contains the pattern (some occurrence satisfying the constraints).
pub(crate) fn occurs(
    d: &Dense,
    sid: usize,
    items: &[u32],
    ends: &[u32],
    occ: Occ,
    constrained: bool,
) -> bool {
    let r = d.seq(sid);
    let set_of = |k: usize| {
        let s = if k == 0 { 0 } else { ends[k - 1] as usize };
        &items[s..ends[k] as usize]
    };
    if !constrained {
        let mut q = r.start;
        for k in 0..ends.len() {
            let need = set_of(k);
            loop {
                if q >= r.end {
                    return false;
                }
                let ok = crate::pattern::is_subset(need, d.set(q));
                q += 1;
                if ok {
                    break;
                }
            }
        }
        return true;
    }
    let times = d.times.as_deref();
    // (end, latest start) of every occurrence of the first k itemsets.
    let mut cur: Vec<(usize, usize)> = r
        .clone()
        .filter(|&q| crate::pattern::is_subset(set_of(0), d.set(q)))
        .map(|q| (q, q))
        .collect();
    for k in 1..ends.len() {
        if cur.is_empty() {
            return false;
        }
        let need = set_of(k);
        let mut next: Vec<(usize, usize)> = Vec::new();
        for q in r.clone() {
            if !crate::pattern::is_subset(need, d.set(q)) {
                continue;
            }
            let best = cur
                .iter()
                .filter(|&&(p, s)| p < q && occ.allows(times, s, p, q))
                .map(|&(_, s)| s)
                .max();
            if let Some(s) = best {
                next.push((q, s));
            }
        }
        cur = next;
    }
    !cur.is_empty()
}
