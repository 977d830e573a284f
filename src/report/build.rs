//! What the report shows, computed from the log and the experiment: the data summary and action
//! funnel, frequent patterns and "A then B" rules over every user's sequence, and each model's results.
//! `cartseq report` fills a [`ReportData`](super::ReportData) from these and renders it.

use cartseq_data::{Dictionary, EventLog, ItemId, KeyId, SequenceDbBuilder};
use cartseq_mining::{CollectSink, Miner, PrefixSpan};
use hashbrown::HashMap;

use super::{DataSummary, ModelResult, PatternLine};
use crate::behaviour::SeqTokens;
use crate::experiment::ModelRun;
use crate::stats::event_stats;
use crate::tasks::{Role, UserIndex};

fn token_name(log: &EventLog, dict: &Dictionary, e: usize, tokens: SeqTokens) -> String {
    let a = dict.actions.name(u32::from(log.action[e])).into_owned();
    match (tokens, log.category.as_deref()) {
        (SeqTokens::ActionCategory, Some(cs)) if cs[e].0 != u32::MAX => {
            format!("{a}:{}", dict.categories.name(cs[e].0))
        }
        _ => a,
    }
}

/// Frequent patterns (length ≥ 2) and `A then B` rules over every user's whole sequence.
pub fn patterns_and_rules(
    log: &EventLog,
    dict: &Dictionary,
    tokens: SeqTokens,
    top: usize,
) -> anyhow::Result<(Vec<PatternLine>, Vec<PatternLine>)> {
    let idx = UserIndex::new(log);
    let mut tok: HashMap<String, u32> = HashMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut b = SequenceDbBuilder::new(true);
    for u in 0..idx.n_users() {
        let r = idx.starts[u]..idx.starts[u + 1];
        for (&e, &t) in idx.order[r.clone()].iter().zip(&idx.times[r]) {
            let n = token_name(log, dict, e as usize, tokens);
            let id = *tok.entry(n.clone()).or_insert_with(|| {
                names.push(n);
                (names.len() - 1) as u32
            });
            b.push_itemset(&[ItemId(id)], Some(t))?;
        }
        b.end_sequence(KeyId(u as u32))?;
    }
    let db = b.build();
    let n = db.len().max(1) as f64;
    let miner = PrefixSpan::params()
        .top_k(20 * top.max(1))
        .max_len(3)
        .check()?;
    let mut sink = CollectSink::new();
    miner.mine(&db, &mut sink)?;
    let pats = sink.into_sorted();
    let text = |p: &cartseq_mining::Pattern| -> String {
        p.itemsets()
            .map(|s| {
                s.iter()
                    .map(|i| names[i.index()].as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join(" > ")
    };
    let single: HashMap<u32, u32> = pats
        .iter()
        .filter(|p| p.num_items() == 1)
        .map(|p| (p.items()[0].0, p.support))
        .collect();
    let frequent: Vec<PatternLine> = pats
        .iter()
        .filter(|p| p.num_itemsets() >= 2)
        .take(top)
        .map(|p| PatternLine {
            text: text(p),
            support: u64::from(p.support),
            rel_support: f64::from(p.support) / n,
            confidence: None,
        })
        .collect();
    let mut rules: Vec<PatternLine> = pats
        .iter()
        .filter(|p| p.num_itemsets() == 2 && p.num_items() == 2)
        .filter_map(|p| {
            let a = single.get(&p.items()[0].0)?;
            Some(PatternLine {
                text: format!(
                    "{} ⇒ {}",
                    names[p.items()[0].index()],
                    names[p.items()[1].index()]
                ),
                support: u64::from(p.support),
                rel_support: f64::from(p.support) / n,
                confidence: Some(f64::from(p.support) / f64::from(*a)),
            })
        })
        .collect();
    rules.sort_by(|x, y| {
        y.confidence
            .unwrap_or(0.0)
            .total_cmp(&x.confidence.unwrap_or(0.0))
            .then(y.support.cmp(&x.support))
    });
    rules.truncate(top);
    Ok((frequent, rules))
}

impl DataSummary {
    /// Counts (events, users, products, categories), time span and the action funnel of a log, from
    /// the same pass `cartseq stats` makes ([`crate::stats::event_stats`]).
    pub fn of(log: &EventLog, dict: &Dictionary, input: &str) -> DataSummary {
        let (s, _) = event_stats(log, dict, 0);
        let mut counts = vec![
            ("events".to_owned(), s.events),
            ("users".to_owned(), s.users),
            ("products".to_owned(), s.items),
        ];
        counts.extend(s.categories.map(|c| ("categories".to_owned(), c)));
        // Actions in funnel order (view, cart, favourite, buy, the rest), then by count.
        let stage = |a: &str| match Role::of_name(a) {
            Role::View => 0,
            Role::Cart => 1,
            Role::Fav => 2,
            Role::Buy => 3,
            Role::Other => 4,
        };
        let mut per_action: Vec<(String, u64)> = s
            .per_action
            .into_iter()
            .map(|a| (a.action, a.events))
            .collect();
        per_action.sort_by(|x, y| stage(&x.0).cmp(&stage(&y.0)).then(y.1.cmp(&x.1)));
        DataSummary {
            input: input.to_owned(),
            counts,
            span: (s.first_time, s.last_time),
            funnel: per_action,
            pairs: s.funnel,
        }
    }
}

impl ModelResult {
    /// The report's view of a fitted and scored model (`feature_names`: the columns it was fitted on).
    pub fn of(run: &ModelRun, feature_names: &[String]) -> ModelResult {
        let m = run.metrics.as_ref();
        let model = run.model.as_deref();
        ModelResult {
            name: run.name.clone(),
            metrics: m.map_or([f64::NAN; 5], |r| {
                [
                    r.roc_auc.unwrap_or(f64::NAN),
                    r.pr_auc.unwrap_or(f64::NAN),
                    r.f1,
                    r.accuracy,
                    r.log_loss,
                ]
            }),
            fit_seconds: run.fit_seconds,
            scores: run.positive_scores(),
            importances: model
                .and_then(|m| m.feature_importances())
                .filter(|v| v.len() == feature_names.len())
                .map(|v| feature_names.iter().cloned().zip(v).collect()),
            history: model.and_then(|m| m.training_history()).map(<[_]>::to_vec),
            error: run.error.clone(),
        }
    }
}
