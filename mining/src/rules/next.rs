//! "What comes next": which tokens follow a given sequence of tokens, ranked with count, confidence
//! and lift.
//!
//! A sequence *matches* the query A1 … Ak when the tokens occur in that order in strictly later
//! itemsets. A token t *follows* in a matching sequence when it occurs in an itemset after some
//! occurrence of Ak that completes a match, within the window (the next N itemsets, or N seconds of the
//! itemset's timestamp, or anywhere after). Each sequence counts once.
//!
//! * count(t) — matching sequences in which t follows;
//! * confidence(t) = count(t) / matching sequences ("N% buy it within the session");
//! * lift(t) = confidence(t) / (sequences containing t / all sequences).
//!
//! Exactness of "some occurrence": A1 … Ak−1 are matched greedily at their earliest positions, which
//! leaves every possible position of Ak available, and the union of the windows after each of them is
//! taken. Cost: one pass over the items of every sequence; memory: one counter per distinct token per
//! worker. Parallel over chunks of sequences with rayon, summed in a fixed order.

use rayon::prelude::*;

use cartseq_data::{ItemId, SequenceDb};

use super::RuleError;

/// How far after the query a follow-up may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Within {
    /// Anywhere later in the sequence.
    #[default]
    Anywhere,
    /// In the next `n` itemsets (steps).
    Steps(usize),
    /// At most this long after, in the unit of the database's timestamps (milliseconds for event
    /// logs); needs timestamps.
    Duration(i64),
}

/// One follow-up token.
#[derive(Clone, Debug, PartialEq)]
pub struct FollowUp {
    /// The token.
    pub item: ItemId,
    /// Matching sequences in which it follows.
    pub count: u32,
    /// Sequences containing it anywhere (the baseline for lift).
    pub item_sequences: u32,
    /// count / matching sequences.
    pub confidence: f64,
    /// confidence / (item_sequences / n).
    pub lift: f64,
}

/// The answer to a "what comes next" query.
#[derive(Clone, Debug, PartialEq)]
pub struct FollowUps {
    /// Number of sequences.
    pub n: usize,
    /// Sequences matching the query.
    pub matched: u32,
    /// Every token that follows at least once, by count descending, then confidence, then token.
    pub rows: Vec<FollowUp>,
}

const CHUNK: usize = 2048;

/// Answers the query `after` (one or more tokens, in order) on `db`.
pub fn follow_ups(
    db: &SequenceDb,
    after: &[ItemId],
    within: Within,
) -> Result<FollowUps, RuleError> {
    if after.is_empty() {
        return Err(RuleError::Param("give at least one --after token".into()));
    }
    if let Within::Duration(_) = within {
        if db.times().is_none() {
            return Err(RuleError::Input(
                "--within with a duration needs timestamps, and this input has none; use --within N (itemsets) instead"
                    .into(),
            ));
        }
    }
    if within == Within::Steps(0) {
        return Err(RuleError::Param(
            "--within 0 leaves no room for a follow-up".into(),
        ));
    }
    let bound = db.item_bound();
    let n = db.len();
    let nchunks = n.div_ceil(CHUNK);
    struct Acc {
        matched: u32,
        follow: Vec<u32>,
        seen: Vec<u32>,
        stamp: Vec<u32>,
    }
    // Three counters per token and thread, before allocating them.
    let need = (bound as u64 * 12).saturating_mul(rayon::current_num_threads() as u64 + 1);
    cartseq_data::memory::check_estimate(need)
        .map_err(|memory| RuleError::MemoryLimit { found: 0, memory })?;
    let new_acc = || Acc {
        matched: 0,
        follow: vec![0; bound],
        seen: vec![0; bound],
        stamp: vec![u32::MAX; bound],
    };
    let acc = (0..nchunks)
        .into_par_iter()
        .fold(new_acc, |mut acc, ch| {
            for i in ch * CHUNK..((ch + 1) * CHUNK).min(n) {
                scan(
                    db,
                    i,
                    after,
                    within,
                    &mut acc.matched,
                    &mut acc.follow,
                    &mut acc.seen,
                    &mut acc.stamp,
                );
            }
            acc
        })
        .reduce(new_acc, |mut a, b| {
            a.matched += b.matched;
            for (x, y) in a.follow.iter_mut().zip(&b.follow) {
                *x += y;
            }
            for (x, y) in a.seen.iter_mut().zip(&b.seen) {
                *x += y;
            }
            a
        });
    let mut rows: Vec<FollowUp> = (0..bound)
        .filter(|&t| acc.follow[t] > 0)
        .map(|t| {
            let confidence = f64::from(acc.follow[t]) / f64::from(acc.matched);
            FollowUp {
                item: ItemId(t as u32),
                count: acc.follow[t],
                item_sequences: acc.seen[t],
                confidence,
                lift: confidence / (f64::from(acc.seen[t]) / n as f64),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.lift.total_cmp(&a.lift))
            .then(a.item.cmp(&b.item))
    });
    Ok(FollowUps {
        n,
        matched: acc.matched,
        rows,
    })
}

#[allow(clippy::too_many_arguments)]
fn scan(
    db: &SequenceDb,
    i: usize,
    after: &[ItemId],
    within: Within,
    matched: &mut u32,
    follow: &mut [u32],
    seen: &mut [u32],
    stamp: &mut [u32],
) {
    let s = db.sequence(i);
    let tag = i as u32;
    // Baseline: sequences containing each token (stamp value 2i marks "seen").
    for &it in s.items() {
        if stamp[it.index()] != 2 * tag {
            stamp[it.index()] = 2 * tag;
            seen[it.index()] += 1;
        }
    }
    let len = s.len();
    // Greedy earliest match of all but the last query token.
    let (last, head) = match after.split_last() {
        Some(x) => x,
        None => return,
    };
    let mut k = 0usize;
    for &tok in head {
        while k < len && s.itemset(k).binary_search(&tok).is_err() {
            k += 1;
        }
        if k == len {
            return;
        }
        k += 1;
    }
    let times = s.times();
    let mut covered = 0usize; // itemsets < covered already collected
    let mut any = false;
    for e in k..len {
        if s.itemset(e).binary_search(last).is_err() {
            continue;
        }
        any = true;
        let end = match within {
            Within::Anywhere => len,
            Within::Steps(m) => (e + 1 + m).min(len),
            Within::Duration(sec) => {
                let t = times.unwrap_or(&[]);
                let limit = t[e].saturating_add(sec);
                let mut j = e + 1;
                while j < len && t[j] <= limit {
                    j += 1;
                }
                j
            }
        };
        for j in covered.max(e + 1)..end {
            for &it in s.itemset(j) {
                if stamp[it.index()] != 2 * tag + 1 {
                    stamp[it.index()] = 2 * tag + 1;
                    follow[it.index()] += 1;
                }
            }
        }
        covered = covered.max(end);
        if within == Within::Anywhere {
            break;
        }
    }
    if any {
        *matched += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cartseq_data::sequence_db::from_nested;

    #[test]
    fn counts_once_per_sequence() {
        let db = from_nested(&[
            vec![vec![1], vec![2], vec![3], vec![2]],
            vec![vec![1], vec![3]],
            vec![vec![2], vec![1]],
            vec![vec![4]],
        ]);
        let f = follow_ups(&db, &[ItemId(1)], Within::Anywhere).unwrap();
        assert_eq!(f.matched, 3);
        let row = |t: u32| f.rows.iter().find(|r| r.item == ItemId(t)).cloned();
        assert_eq!(row(3).unwrap().count, 2);
        assert_eq!(row(2).unwrap().count, 1);
        assert!((row(3).unwrap().confidence - 2.0 / 3.0).abs() < 1e-12);
        assert!((row(3).unwrap().lift - (2.0 / 3.0) / (2.0 / 4.0)).abs() < 1e-12);
        let w = follow_ups(&db, &[ItemId(1)], Within::Steps(1)).unwrap();
        assert_eq!(
            w.rows.iter().find(|r| r.item == ItemId(3)).unwrap().count,
            1
        );
        let two = follow_ups(&db, &[ItemId(1), ItemId(2)], Within::Anywhere).unwrap();
        assert_eq!(two.matched, 1);
        assert_eq!(two.rows.len(), 2);
    }
}
