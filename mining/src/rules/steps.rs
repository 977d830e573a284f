//! Step-window sequential rules a → b with distance weights: the "SR" model of Kamehkhosh, Jannach &
//! Ludewig ("A comparison of frequent pattern techniques and a deep learning method for
//! session-based recommendation", TempRec workshop at RecSys 2017), as session-rec's
//! `baselines/sr.py` mines them.
//!
//! Every click of `a` at position `p` of a session, followed by a click of `b` at position
//! `p + d` with `1 ≤ d ≤ steps`, adds `weight(d)` to the rule a → b (session-rec's default weight is
//! `1 / d`; repeated clicks count each time, and a → a is a rule like any other). The rule's
//! confidence is its weight divided by the number of clicks of `a` followed by at least one click —
//! the expected weighted number of times `b` follows one click of `a` within the window. Per
//! antecedent only the `keep` rules of highest weight are kept (session-rec's `pruning = 20`), ties by
//! consequent id.
//!
//! Unlike [`super::sequential`] (RuleGrowth semantics: each sequence counts once, any distance,
//! itemsets on both sides), these rules count occurrences, weigh them by distance and relate single
//! items — what a next-click predictor needs, and why they have their own miner.
//!
//! Cost: one pass over the clicks of each antecedent's occurrences, `O(clicks × steps)` time; memory
//! an occurrence index (one entry per click) and one dense accumulator per worker. Parallel over
//! antecedents with rayon; each antecedent's sums are taken in (session, position) order, so the
//! result does not depend on the number of threads.

use rayon::prelude::*;

use super::RuleError;

/// One rule a → b.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepRule {
    /// b.
    pub consequent: u32,
    /// Σ weight(d) over every occurrence.
    pub weight: f64,
    /// weight / clicks of a with a successor.
    pub confidence: f64,
}

/// The rules of every antecedent.
#[derive(Clone, Debug, PartialEq)]
pub struct StepRules {
    /// Clicks of each item that have at least one following click (the confidence denominator).
    pub occurrences: Vec<u64>,
    /// Rules of each antecedent, by weight descending, then consequent.
    pub rules: Vec<Vec<StepRule>>,
}

/// Validated parameters of [`step_rules`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepRuleParams {
    steps: usize,
    keep: usize,
}

impl StepRuleParams {
    /// Rules within `steps ≥ 1` clicks, keeping the `keep ≥ 1` strongest per antecedent
    /// (`usize::MAX`: all).
    pub fn new(steps: usize, keep: usize) -> Result<Self, RuleError> {
        if steps == 0 {
            return Err(RuleError::Param("steps must be at least 1".into()));
        }
        if keep == 0 {
            return Err(RuleError::Param(
                "keep (rules per antecedent) must be at least 1".into(),
            ));
        }
        Ok(StepRuleParams { steps, keep })
    }
}

/// Mines the step-window rules of the token sequences `rows` (tokens `< n_items`), weighting a
/// distance of `d` steps by `weight(d)`.
pub fn step_rules(
    rows: &[&[u32]],
    n_items: usize,
    params: StepRuleParams,
    weight: impl Fn(usize) -> f64 + Sync,
) -> Result<StepRules, RuleError> {
    // Occurrences (row, position) of every item that has a successor, grouped by item.
    let mut start = vec![0usize; n_items + 1];
    for row in rows {
        for &a in row.iter().take(row.len().saturating_sub(1)) {
            if a as usize >= n_items {
                return Err(RuleError::Input(format!(
                    "token {a} is not below the number of items {n_items}"
                )));
            }
            start[a as usize + 1] += 1;
        }
        if let Some(&last) = row.last() {
            if last as usize >= n_items {
                return Err(RuleError::Input(format!(
                    "token {last} is not below the number of items {n_items}"
                )));
            }
        }
    }
    for i in 0..n_items {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut occ = vec![(0u32, 0u32); start[n_items]];
    for (r, row) in rows.iter().enumerate() {
        for (p, &a) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
            occ[fill[a as usize]] = (r as u32, p as u32);
            fill[a as usize] += 1;
        }
    }
    let weights: Vec<f64> = (1..=params.steps).map(&weight).collect();
    let rules: Vec<Vec<StepRule>> = (0..n_items)
        .into_par_iter()
        .map_init(
            || (vec![0.0f64; n_items], Vec::<u32>::new()),
            |(acc, touched), a| {
                let n_occ = (start[a + 1] - start[a]) as f64;
                for &(r, p) in &occ[start[a]..start[a + 1]] {
                    let row = rows[r as usize];
                    let end = row.len().min(p as usize + 1 + params.steps);
                    for (d, &b) in row[p as usize + 1..end].iter().enumerate() {
                        if acc[b as usize] == 0.0 {
                            touched.push(b);
                        }
                        acc[b as usize] += weights[d];
                    }
                }
                let mut out: Vec<StepRule> = touched
                    .iter()
                    .filter(|&&b| acc[b as usize] > 0.0)
                    .map(|&b| StepRule {
                        consequent: b,
                        weight: acc[b as usize],
                        confidence: acc[b as usize] / n_occ,
                    })
                    .collect();
                for &b in touched.iter() {
                    acc[b as usize] = 0.0;
                }
                touched.clear();
                out.sort_unstable_by(|x, y| {
                    y.weight
                        .total_cmp(&x.weight)
                        .then(x.consequent.cmp(&y.consequent))
                });
                out.dedup_by_key(|x| x.consequent);
                out.truncate(params.keep);
                out
            },
        )
        .collect();
    let occurrences = (0..n_items)
        .map(|a| (start[a + 1] - start[a]) as u64)
        .collect();
    Ok(StepRules { occurrences, rules })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The brute-force definition: every pair of positions within the window.
    fn brute(rows: &[&[u32]], n: usize, steps: usize) -> Vec<Vec<(u32, f64)>> {
        let mut w = vec![vec![0.0; n]; n];
        for row in rows {
            for i in 0..row.len() {
                for j in i + 1..row.len().min(i + 1 + steps) {
                    w[row[i] as usize][row[j] as usize] += 1.0 / (j - i) as f64;
                }
            }
        }
        w.iter()
            .map(|r| {
                let mut v: Vec<(u32, f64)> = r
                    .iter()
                    .enumerate()
                    .filter(|x| *x.1 > 0.0)
                    .map(|(b, &x)| (b as u32, x))
                    .collect();
                v.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
                v
            })
            .collect()
    }

    #[test]
    fn hand_computed_weights_and_confidence() {
        // [0, 1, 2, 1] with steps 2 and weight 1/d:
        // 0 → 1: 1 (d=1); 0 → 2: 1/2; 1 → 2: 1 (pos 1→2); 1 → 1: 1/2 (pos 1→3); 2 → 1: 1.
        // Clicks with a successor: 0 once, 1 once (the last click has none), 2 once.
        let rows: [&[u32]; 1] = [&[0, 1, 2, 1]];
        let p = StepRuleParams::new(2, usize::MAX).expect("params");
        let r = step_rules(&rows, 3, p, |d| 1.0 / d as f64).expect("mined");
        assert_eq!(r.occurrences, vec![1, 1, 1]);
        let pairs = |a: usize| -> Vec<(u32, f64)> {
            r.rules[a]
                .iter()
                .map(|x| (x.consequent, x.weight))
                .collect()
        };
        assert_eq!(pairs(0), vec![(1, 1.0), (2, 0.5)]);
        assert_eq!(pairs(1), vec![(2, 1.0), (1, 0.5)]);
        assert_eq!(pairs(2), vec![(1, 1.0)]);
        assert_eq!(r.rules[1][1].confidence, 0.5);
    }

    #[test]
    fn matches_brute_force_on_random_sessions() {
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let data: Vec<Vec<u32>> = (0..200)
            .map(|_| (0..1 + next() % 9).map(|_| next() % 12).collect())
            .collect();
        let rows: Vec<&[u32]> = data.iter().map(|r| r.as_slice()).collect();
        for steps in [1, 3, 10] {
            let p = StepRuleParams::new(steps, usize::MAX).expect("params");
            let r = step_rules(&rows, 12, p, |d| 1.0 / d as f64).expect("mined");
            let b = brute(&rows, 12, steps);
            assert_eq!(r.rules.len(), b.len());
            for (rules, expected) in r.rules.iter().zip(&b) {
                let got: Vec<(u32, f64)> = rules.iter().map(|x| (x.consequent, x.weight)).collect();
                assert_eq!(got.len(), expected.len());
                for (g, e) in got.iter().zip(expected) {
                    assert_eq!(g.0, e.0);
                    assert!((g.1 - e.1).abs() < 1e-9);
                }
            }
        }
    }

    #[test]
    fn keeps_the_strongest_and_checks_input() {
        let rows: [&[u32]; 2] = [&[0, 1, 2], &[0, 1]];
        let p = StepRuleParams::new(3, 1).expect("params");
        let r = step_rules(&rows, 3, p, |_| 1.0).expect("mined");
        assert_eq!(r.rules[0].len(), 1);
        assert_eq!(r.rules[0][0].consequent, 1);
        assert_eq!(r.rules[0][0].confidence, 1.0);
        assert!(StepRuleParams::new(0, 1).is_err());
        assert!(step_rules(&[&[0, 5]], 3, p, |_| 1.0).is_err());
    }
}
