//! What each segment is: its size and share; its view → cart → buy funnel over distinct (user, item)
//! pairs counted exactly as `cartseq stats` counts it (the stats module's `event_stats` on the
//! segment's events before the cutoff), its top items and categories; the features that most separate
//! it from the other rows (standardised mean difference); its **discriminative sequential patterns**
//! and its top "A then B" rules by lift.
//!
//! * Standardised mean difference of a feature: `(mean_in − mean_out) / sqrt((var_in + var_out) / 2)`
//!   (sample variances; Cohen's d with the average variance), 0 when both sides are constant.
//! * Patterns: PrefixSpan (top-k by support, ties included, at most 3 events, in at least two rows) on
//!   each segment's row sequences gives candidates of two or more events (a one-row segment has none);
//!   one pass of the multi-pattern matcher (`cartseq_mining::discriminative`) counts every candidate
//!   in every segment, and a segment keeps the candidates whose support in it most exceeds their
//!   support in the other segments (the support difference of
//!   `cartseq_mining::discriminative::measures`, signed) and that occur in two of its rows or more.
//! * Rules: `cartseq_mining::rules::pattern::then_rules` over the segment's mined patterns, sorted by
//!   lift (`RuleSort::Lift`).
//!
//! Cost: one pass over the log, one mining run per segment, one matcher pass over every row.

use cartseq_data::{EventLog, ItemId, SequenceDb};
use cartseq_mining::discriminative::measures::support_difference;
use cartseq_mining::discriminative::{
    top_k, PatternMatcher, Reference, SeqPattern, MIN_GROUP_ROWS,
};
use cartseq_mining::rules::pattern::then_rules;
use cartseq_mining::rules::RuleSort;
use cartseq_mining::Limit;
use cartseq_mining::{CollectSink, Miner, Pattern, PrefixSpan};
use serde::Serialize;

use super::input::LogRows;
use super::Matrix;
use crate::featurizer::describe_itemsets;
use crate::stats::{event_stats, Funnel};

/// A feature that separates a segment from the rest.
#[derive(Clone, Debug, Serialize)]
pub struct Separating {
    /// Column name.
    pub feature: String,
    /// Mean in the segment.
    pub mean_in: f64,
    /// Mean over the other rows.
    pub mean_out: f64,
    /// Standardised mean difference.
    pub smd: f64,
}

/// A name and a count.
#[derive(Clone, Debug, Serialize)]
pub struct Count {
    /// Item or category name.
    pub name: String,
    /// Events.
    pub events: u64,
}

/// A discriminative pattern of a segment.
#[derive(Clone, Debug, Serialize)]
pub struct SegmentPattern {
    /// The pattern in words (`view:cat1 > cart_add:cat1`).
    pub pattern: String,
    /// Share of the segment's rows containing it.
    pub support_in: f64,
    /// Share of the other rows containing it.
    pub support_out: f64,
    /// `support_in − support_out`.
    pub support_difference: f64,
}

/// An "A then B" rule of a segment.
#[derive(Clone, Debug, Serialize)]
pub struct SegmentRule {
    /// `A ⇒ B`.
    pub rule: String,
    /// Rows where B follows A.
    pub support: u32,
    /// support / rows containing A.
    pub confidence: f64,
    /// confidence / share of rows containing B.
    pub lift: f64,
}

/// One segment's profile.
#[derive(Debug, Serialize)]
pub struct Profile {
    /// Segment number (0 = largest), `None` for DBSCAN noise.
    pub segment: Option<u32>,
    /// Rows.
    pub size: usize,
    /// Share of all rows.
    pub share: f64,
    /// The funnel of its events before the cutoff (log input).
    pub funnel: Option<Funnel>,
    /// Features with the largest |standardised mean difference|.
    pub separating: Vec<Separating>,
    /// Top items by events.
    pub top_items: Vec<Count>,
    /// Top categories by events.
    pub top_categories: Vec<Count>,
    /// Discriminative sequential patterns.
    pub patterns: Vec<SegmentPattern>,
    /// "A then B" rules by lift.
    pub rules: Vec<SegmentRule>,
}

/// Standardised mean differences of every column of `m` between `inside` rows and the others, the
/// `top` largest in magnitude (ties: column order).
pub fn separating(m: &Matrix, inside: &[bool], top: usize) -> Vec<Separating> {
    let d = m.x.ncols();
    let mut out: Vec<Separating> = Vec::with_capacity(d);
    for j in 0..d {
        let col = m.x.column(j);
        let (mut s, mut n) = ([0.0f64; 2], [0usize; 2]);
        for (v, &i) in col.iter().zip(inside) {
            s[usize::from(i)] += f64::from(*v);
            n[usize::from(i)] += 1;
        }
        let mean = [0, 1].map(|g| if n[g] > 0 { s[g] / n[g] as f64 } else { 0.0 });
        let mut ss = [0.0f64; 2];
        for (v, &i) in col.iter().zip(inside) {
            let g = usize::from(i);
            ss[g] += (f64::from(*v) - mean[g]).powi(2);
        }
        let var = [0, 1].map(|g| {
            if n[g] > 1 {
                ss[g] / (n[g] - 1) as f64
            } else {
                0.0
            }
        });
        let pooled = ((var[0] + var[1]) / 2.0).sqrt();
        let smd = if pooled > 0.0 {
            (mean[1] - mean[0]) / pooled
        } else {
            0.0
        };
        out.push(Separating {
            feature: m.names[j].clone(),
            mean_in: mean[1],
            mean_out: mean[0],
            smd,
        });
    }
    let scores: Vec<f64> = out.iter().map(|s| s.smd.abs()).collect();
    top_k(&scores, top)
        .into_iter()
        .map(|j| out[j].clone())
        .collect()
}

fn counts(per: &[u64], name: impl Fn(u32) -> String, top: usize) -> Vec<Count> {
    let scores: Vec<f64> = per.iter().map(|&c| c as f64).collect();
    top_k(&scores, top)
        .into_iter()
        .filter(|&i| per[i] > 0)
        .map(|i| Count {
            name: name(i as u32),
            events: per[i],
        })
        .collect()
}

/// Patterns mined per segment (top-k by support, ties included).
const PER_SEGMENT: usize = 200;

/// Mines a segment's patterns (top-k by support, ties included, in at least [`MIN_GROUP_ROWS`] rows,
/// ≤ 3 events).
fn mine(db: &SequenceDb, k: usize) -> anyhow::Result<(Vec<Pattern>, u32)> {
    let miner = PrefixSpan::params()
        .min_count(MIN_GROUP_ROWS)
        .top_k(k)
        .max_len(3)
        .check()?;
    let mut sink = CollectSink::new();
    let stats = miner.mine(db, &mut sink)?;
    Ok((sink.into_sorted(), stats.min_count))
}

/// Profiles of every segment (and of the noise rows, when there are any). `features` is the matrix
/// whose columns are compared (the behaviour features for a log); `rows` adds what only a log has.
pub fn profiles(
    labels: &[Option<u32>],
    k: usize,
    features: &Matrix,
    rows: Option<&LogRows>,
    top: usize,
) -> anyhow::Result<Vec<Profile>> {
    let n = labels.len();
    let mut groups: Vec<Option<u32>> = (0..k as u32).map(Some).collect();
    if labels.iter().any(Option::is_none) {
        groups.push(None);
    }
    let mut out = Vec::with_capacity(groups.len());
    let mined = match rows {
        Some(r) => Some(segment_patterns(labels, k, r, top)?),
        None => None,
    };
    let logs = rows.map(|r| segment_logs(labels, k, r));
    for (gi, g) in groups.iter().enumerate() {
        let inside: Vec<bool> = labels.iter().map(|l| l == g).collect();
        let size = inside.iter().filter(|&&b| b).count();
        let mut p = Profile {
            segment: *g,
            size,
            share: size as f64 / n.max(1) as f64,
            funnel: None,
            separating: separating(features, &inside, top),
            top_items: Vec::new(),
            top_categories: Vec::new(),
            patterns: Vec::new(),
            rules: Vec::new(),
        };
        if let (Some(r), Some(logs)) = (rows, &logs) {
            let sub = &logs[gi];
            let (stats, _) = event_stats(sub, &r.dict, 0);
            p.funnel = Some(stats.funnel);
            let mut per_item = vec![0u64; r.dict.products.len()];
            for it in &sub.item {
                if let Some(c) = per_item.get_mut(it.index()) {
                    *c += 1;
                }
            }
            p.top_items = counts(&per_item, |i| r.dict.products.name(i).into_owned(), top);
            if let Some(cats) = &sub.category {
                let mut per_cat = vec![0u64; r.dict.categories.len()];
                for c in cats {
                    if let Some(x) = per_cat.get_mut(c.0 as usize) {
                        *x += 1;
                    }
                }
                p.top_categories =
                    counts(&per_cat, |i| r.dict.categories.name(i).into_owned(), top);
            }
        }
        if let (Some(g), Some((pats, rules))) = (g, &mined) {
            p.patterns = pats[*g as usize].clone();
            p.rules = rules[*g as usize].clone();
        }
        out.push(p);
    }
    Ok(out)
}

/// The events of each group's rows before the cutoff (groups: segments, then noise).
fn segment_logs(labels: &[Option<u32>], k: usize, r: &LogRows) -> Vec<EventLog> {
    let mut group_of_user = vec![usize::MAX; r.dict.users.len().max(1)];
    for (row, &u) in r.users.iter().enumerate() {
        if let Some(slot) = group_of_user.get_mut(u as usize) {
            *slot = labels[row].map_or(k, |c| c as usize);
        }
    }
    let mut logs: Vec<EventLog> = (0..=k).map(|_| EventLog::new()).collect();
    for i in 0..r.log.len() {
        if r.log.time[i].0 >= r.cutoff {
            continue;
        }
        let g = group_of_user
            .get(r.log.user[i].index())
            .copied()
            .unwrap_or(usize::MAX);
        if g <= k {
            logs[g].push(&r.log.get(i));
        }
    }
    logs
}

type Mined = (Vec<Vec<SegmentPattern>>, Vec<Vec<SegmentRule>>);

/// Discriminative patterns and rules of every segment.
fn segment_patterns(
    labels: &[Option<u32>],
    k: usize,
    r: &LogRows,
    top: usize,
) -> anyhow::Result<Mined> {
    let db = &r.sequences;
    let names = &r.token_names;
    let seg_of_seq: Vec<Option<u32>> = db.keys().iter().map(|key| labels[key.index()]).collect();
    let mut cands: Vec<SeqPattern> = Vec::new();
    let mut rules = Vec::with_capacity(k);
    for s in 0..k as u32 {
        let sub = db.filter(|q| labels[q.key().index()] == Some(s));
        if sub.len() < MIN_GROUP_ROWS as usize {
            rules.push(Vec::new());
            continue;
        }
        let (pats, min_count) = mine(&sub, PER_SEGMENT)?;
        for p in pats.iter().filter(|p| p.num_items() >= 2) {
            cands.push(SeqPattern::new(p.itemsets().map(|s| s.to_vec()).collect())?);
        }
        let mut set = then_rules(&pats, sub.len(), min_count)?;
        set.sort(RuleSort::Lift);
        let name = |side: &[Vec<ItemId>]| describe_itemsets(side.iter().map(Vec::as_slice), names);
        rules.push(
            set.rules
                .iter()
                .take(top)
                .map(|rule| {
                    let m = rule.measures(set.n);
                    SegmentRule {
                        rule: format!("{} ⇒ {}", name(&rule.antecedent), name(&rule.consequent)),
                        support: rule.support,
                        confidence: m.confidence,
                        lift: m.lift,
                    }
                })
                .collect(),
        );
    }
    cands.sort();
    cands.dedup();
    let mut per_seg = vec![vec![0u64; k]; cands.len()];
    let mut size = vec![0u64; k];
    for s in seg_of_seq.iter().flatten() {
        size[*s as usize] += 1;
    }
    if !cands.is_empty() {
        let m = PatternMatcher::new(&cands, Limit::default(), Reference::SequenceEnd)?.match_db(db);
        for (i, s) in seg_of_seq.iter().enumerate() {
            if let Some(s) = s {
                for (p, _, _) in m.row(i) {
                    per_seg[p][*s as usize] += 1;
                }
            }
        }
    }
    let total: u64 = size.iter().sum();
    let mut patterns = Vec::with_capacity(k);
    for s in 0..k {
        let mut signed = Vec::with_capacity(cands.len());
        let mut rows = Vec::with_capacity(cands.len());
        for c in &per_seg {
            let inside = c[s];
            let outside: u64 = c.iter().sum::<u64>() - inside;
            let rest = total - size[s];
            let rate_in = if size[s] > 0 {
                inside as f64 / size[s] as f64
            } else {
                0.0
            };
            let rate_out = if rest > 0 {
                outside as f64 / rest as f64
            } else {
                0.0
            };
            // The measure is one-vs-rest and unsigned; its sign is the segment's side.
            let diff = support_difference(&[outside, inside], &[rest, size[s]]);
            let signed_diff = if rate_in >= rate_out { diff } else { -diff };
            // A pattern in fewer than MIN_GROUP_ROWS of the segment's rows is not one of its traits.
            signed.push(if inside >= u64::from(MIN_GROUP_ROWS) {
                signed_diff
            } else {
                f64::NEG_INFINITY
            });
            rows.push((rate_in, rate_out, signed_diff));
        }
        patterns.push(
            top_k(&signed, top)
                .into_iter()
                .filter(|&p| signed[p] > 0.0)
                .map(|p| SegmentPattern {
                    pattern: describe_itemsets(cands[p].itemsets.iter().map(Vec::as_slice), names),
                    support_in: rows[p].0,
                    support_out: rows[p].1,
                    support_difference: rows[p].2,
                })
                .collect(),
        );
    }
    Ok((patterns, rules))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn standardised_mean_difference_by_hand() {
        // Column a: inside 1, 3 (mean 2, var 2); outside 5, 7, 9 (mean 7, var 4) → (2 − 7)/sqrt(3).
        let m = Matrix {
            ids: (0..5).map(|i| i.to_string()).collect(),
            names: vec!["a".into(), "flat".into()],
            x: Array2::from_shape_vec((5, 2), vec![1., 0., 3., 0., 5., 0., 7., 0., 9., 0.])
                .unwrap(),
        };
        let inside = [true, true, false, false, false];
        let s = separating(&m, &inside, 2);
        assert_eq!(s[0].feature, "a");
        assert!((s[0].smd - (-5.0 / 3f64.sqrt())).abs() < 1e-12);
        assert_eq!((s[0].mean_in, s[0].mean_out), (2.0, 7.0));
        assert_eq!(s[1].smd, 0.0);
    }
}
