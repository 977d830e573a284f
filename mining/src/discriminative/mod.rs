//! Discriminative sequential patterns: the patterns that best separate the classes of a prediction
//! task, and where they occur. One-pass matching of many patterns against every sequence ([`matcher`]:
//! occurs, non-overlapping count, time since the last occurrence) and the discrimination measures that
//! choose which mined patterns to keep ([`measures`]).
//!
//! The pipeline (driven from the binary crate's `pattern_features`): mine patterns per class on the
//! training sequences only, take their union as candidates, count each candidate's support per class
//! with one [`PatternMatcher`] pass over the training sequences, keep the top-k by a [`Measure`]
//! ([`select_discriminative`]), then match the kept patterns against every sequence to get the
//! occurs / count / time-since-last features.

pub mod matcher;
pub mod measures;

pub use matcher::{PatternMatcher, PatternMatches, Reference, SeqPattern};
pub use measures::{top_k, Measure};

use crate::params::Limit;
use cartseq_data::SequenceDb;

/// Rows of a group (a class of a prediction task, a segment) a pattern must occur in to describe it,
/// and so the floor of the per-group mining. A pattern of one row is that row's own history, and when a
/// small group's top-k threshold falls to support 1 its ties are every subsequence of its rows: the
/// Taobao sample's pattern features at `--pattern-max-len 4` took 0.76 GB of candidates, and
/// `segment --k 150` on its 200 rows 127 s and 3.9 GB (with the floor: 0.06 s and 0.4 s).
pub const MIN_GROUP_ROWS: u32 = 2;

/// An error while compiling patterns or selecting the discriminative ones.
#[derive(Debug, thiserror::Error)]
pub enum DiscriminativeError {
    /// A pattern with no itemsets or an empty itemset.
    #[error("a pattern must have at least one itemset and no empty itemset")]
    EmptyPattern,
    /// Inconsistent options or inputs; the message says which and what is expected.
    #[error("{0}")]
    Option(String),
}

/// A candidate kept by [`select_discriminative`], with its score and per-class support.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredPattern {
    /// The pattern.
    pub pattern: SeqPattern,
    /// Its score under the chosen measure.
    pub score: f64,
    /// Number of training sequences of each class that contain it.
    pub class_support: Vec<u64>,
}

/// Chooses the `k` candidates that best separate the classes of the **training** sequences `train`
/// (`labels[i]` is the class of sequence `i`, `< n_classes`). Candidates are de-duplicated first; the
/// result is ordered by score descending, ties by the pattern's order (deterministic).
pub fn select_discriminative(
    candidates: &[SeqPattern],
    train: &SequenceDb,
    labels: &[usize],
    n_classes: usize,
    measure: Measure,
    gap: Limit,
    k: usize,
) -> Result<Vec<ScoredPattern>, DiscriminativeError> {
    if labels.len() != train.len() {
        return Err(DiscriminativeError::Option(format!(
            "{} labels for {} training sequences",
            labels.len(),
            train.len()
        )));
    }
    if let Some(&bad) = labels.iter().find(|&&c| c >= n_classes) {
        return Err(DiscriminativeError::Option(format!(
            "label {bad} is not below {n_classes} classes"
        )));
    }
    let mut cands = candidates.to_vec();
    cands.sort();
    cands.dedup();
    let matcher = PatternMatcher::new(&cands, gap, Reference::SequenceEnd)?;
    let m = matcher.match_db(train);
    let mut class_sizes = vec![0u64; n_classes];
    for &c in labels {
        class_sizes[c] += 1;
    }
    let mut per_class = vec![vec![0u64; n_classes]; cands.len()];
    for (i, &c) in labels.iter().enumerate() {
        for (p, _, _) in m.row(i) {
            per_class[p][c] += 1;
        }
    }
    let scores: Vec<f64> = per_class
        .iter()
        .map(|w| measure.score(w, &class_sizes))
        .collect();
    Ok(top_k(&scores, k)
        .into_iter()
        .map(|p| ScoredPattern {
            pattern: cands[p].clone(),
            score: scores[p],
            class_support: per_class[p].clone(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cartseq_data::sequence_db::from_nested;
    use cartseq_data::{ItemId, KeyId, SequenceDbBuilder};
    use proptest::prelude::*;

    /// Naive oracle: enumerate every occurrence (j₁ < … < j_m) of one pattern, then derive the three
    /// features independently of the matcher (interval scheduling for the count).
    fn naive(
        sets: &[Vec<u32>],
        times: Option<&[i64]>,
        pat: &[Vec<u32>],
        gap: Limit,
    ) -> Option<(u32, usize)> {
        #[allow(clippy::too_many_arguments)] // a recursive oracle carries its whole state
        fn rec(
            sets: &[Vec<u32>],
            times: Option<&[i64]>,
            pat: &[Vec<u32>],
            gap: Limit,
            k: usize,
            prev: Option<usize>,
            start: usize,
            out: &mut Vec<(usize, usize)>,
        ) {
            if k == pat.len() {
                out.push((start, prev.unwrap_or(0)));
                return;
            }
            let from = prev.map_or(0, |p| p + 1);
            for j in from..sets.len() {
                if let Some(p) = prev {
                    if gap.positions.is_some_and(|g| (j - p) as u32 > g) {
                        break;
                    }
                    if let (Some(g), Some(t)) = (gap.time, times) {
                        if t[j] - t[p] > g {
                            break;
                        }
                    }
                }
                if pat[k].iter().all(|x| sets[j].contains(x)) {
                    let s = if k == 0 { j } else { start };
                    rec(sets, times, pat, gap, k + 1, Some(j), s, out);
                }
            }
        }
        let mut occ = Vec::new();
        rec(sets, times, pat, gap, 0, None, 0, &mut occ);
        if occ.is_empty() {
            return None;
        }
        let last = occ.iter().map(|o| o.1).max().unwrap_or(0);
        occ.sort_by_key(|o| (o.1, o.0));
        let mut count = 0;
        let mut end: Option<usize> = None;
        for (s, e) in occ {
            if end.map_or(true, |x| s > x) {
                count += 1;
                end = Some(e);
            }
        }
        Some((count, last))
    }

    fn build(seqs: &[(Vec<Vec<u32>>, Vec<i64>)]) -> SequenceDb {
        let mut b = SequenceDbBuilder::new(true);
        for (i, (sets, ts)) in seqs.iter().enumerate() {
            for (set, &t) in sets.iter().zip(ts) {
                let v: Vec<ItemId> = set.iter().map(|&x| ItemId(x)).collect();
                b.push_itemset(&v, Some(t)).unwrap();
            }
            b.end_sequence(KeyId(i as u32)).unwrap();
        }
        b.build()
    }

    fn p(sets: &[&[u32]]) -> SeqPattern {
        SeqPattern::new(
            sets.iter()
                .map(|s| s.iter().map(|&x| ItemId(x)).collect())
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn documented_examples() {
        let db = from_nested(&[
            vec![vec![1], vec![1], vec![2], vec![2]],
            vec![vec![1], vec![2], vec![1], vec![2]],
            vec![vec![1, 2], vec![3]],
        ]);
        let pats = [
            p(&[&[1], &[2]]),
            p(&[&[1, 2]]),
            p(&[&[2], &[3]]),
            p(&[&[3], &[1]]),
        ];
        let m = PatternMatcher::new(&pats, Limit::default(), Reference::SequenceEnd)
            .unwrap()
            .match_db(&db);
        let rows: Vec<Vec<(usize, u32, f64)>> = (0..3).map(|i| m.row(i).collect()).collect();
        assert_eq!(rows[0], vec![(0, 1, 0.0)]);
        assert_eq!(rows[1], vec![(0, 2, 0.0)]);
        // ⟨(1 2)⟩ occurs at 0 (1 itemset before the end), ⟨2 3⟩ ends at the last itemset.
        assert_eq!(rows[2], vec![(1, 1, 1.0), (2, 1, 0.0)]);
        assert_eq!(m.support(|_| true), vec![2, 1, 1, 0]);
    }

    #[test]
    fn gaps_in_positions_and_seconds() {
        let db = build(&[(
            vec![vec![1], vec![5], vec![5], vec![2]],
            vec![0, 10, 20, 100],
        )]);
        let pats = [p(&[&[1], &[2]])];
        let run = |gap| {
            PatternMatcher::new(&pats, gap, Reference::Fixed(160))
                .unwrap()
                .match_db(&db)
                .row(0)
                .collect::<Vec<_>>()
        };
        assert_eq!(run(Limit::default()), vec![(0, 1, 60.0)]);
        assert!(run(Limit {
            positions: Some(2),
            time: None
        })
        .is_empty());
        assert_eq!(
            run(Limit {
                positions: Some(3),
                time: None
            })
            .len(),
            1
        );
        assert!(run(Limit {
            positions: None,
            time: Some(99)
        })
        .is_empty());
        assert!(PatternMatcher::new(
            &pats,
            Limit {
                positions: Some(0),
                time: None
            },
            Reference::SequenceEnd
        )
        .is_err());
    }

    #[test]
    fn selection_prefers_the_separating_pattern() {
        // Class 1 sequences contain 1 → 2; class 0 contain 2 → 1; item 3 is everywhere.
        let mut seqs = Vec::new();
        let mut labels = Vec::new();
        for i in 0..40 {
            if i % 2 == 0 {
                seqs.push(vec![vec![3], vec![1], vec![2]]);
                labels.push(1);
            } else {
                seqs.push(vec![vec![2], vec![3], vec![1]]);
                labels.push(0);
            }
        }
        let db = from_nested(&seqs);
        let cands = vec![p(&[&[3]]), p(&[&[1], &[2]]), p(&[&[2], &[1]]), p(&[&[3]])];
        for m in [Measure::InfoGain, Measure::ChiSquare, Measure::SupportDiff] {
            let s = select_discriminative(&cands, &db, &labels, 2, m, Limit::default(), 2).unwrap();
            assert_eq!(s.len(), 2);
            assert_eq!(s[0].pattern, p(&[&[1], &[2]]), "{m:?}");
            assert_eq!(s[1].pattern, p(&[&[2], &[1]]), "{m:?}");
            assert_eq!(s[0].class_support, vec![0, 20]);
        }
    }

    fn arb_db() -> impl Strategy<Value = Vec<(Vec<Vec<u32>>, Vec<i64>)>> {
        let set = prop::collection::btree_set(0u32..5, 1..3)
            .prop_map(|s| s.into_iter().collect::<Vec<_>>());
        let seq = prop::collection::vec((set, 0i64..4), 1..9).prop_map(|v| {
            let mut t = 0;
            let mut sets = Vec::new();
            let mut ts = Vec::new();
            for (s, dt) in v {
                t += dt;
                sets.push(s);
                ts.push(t);
            }
            (sets, ts)
        });
        prop::collection::vec(seq, 1..12)
    }

    fn arb_patterns() -> impl Strategy<Value = Vec<Vec<Vec<u32>>>> {
        let set = prop::collection::btree_set(0u32..6, 1..3)
            .prop_map(|s| s.into_iter().collect::<Vec<_>>());
        prop::collection::vec(prop::collection::vec(set, 1..4), 1..12)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]
        #[test]
        fn matcher_agrees_with_naive_scan(
            seqs in arb_db(),
            pats in arb_patterns(),
            max_gap in prop::option::of(1u32..4),
            max_gap_secs in prop::option::of(0i64..6),
            fixed in any::<bool>(),
        ) {
            let db = build(&seqs);
            let gap = Limit { positions: max_gap, time: max_gap_secs };
            let reference = if fixed { Reference::Fixed(50) } else { Reference::SequenceEnd };
            let compiled: Vec<SeqPattern> = pats
                .iter()
                .map(|ps| SeqPattern::new(
                    ps.iter().map(|s| s.iter().map(|&x| ItemId(x)).collect()).collect()).unwrap())
                .collect();
            let m = PatternMatcher::new(&compiled, gap, reference).unwrap().match_db(&db);
            prop_assert_eq!(m.len(), seqs.len());
            for (i, (sets, ts)) in seqs.iter().enumerate() {
                let got: Vec<(usize, u32, f64)> = m.row(i).collect();
                let mut want = Vec::new();
                for (k, pat) in pats.iter().enumerate() {
                    if let Some((count, last)) = naive(sets, Some(ts), pat, gap) {
                        let r = if fixed { 50 } else { *ts.last().unwrap() };
                        want.push((k, count, (r - ts[last]) as f64));
                    }
                }
                prop_assert_eq!(got, want, "sequence {}", i);
            }
        }
    }
}
