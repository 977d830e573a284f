//! What the report shows, computed from the log and the experiment: the data summary and action
//! funnel, frequent patterns and "A then B" rules over every user's sequence, and each model's results.
//! `cartseq report` fills a [`ReportData`](super::ReportData) from these and renders it.

use cartseq_data::{token_sequences, Dictionary, EventLog, TokenWindow};
use cartseq_mining::rules::pattern::then_rules;
use cartseq_mining::{CollectSink, Miner, PrefixSpan};
use cartseq_models::Classifier;

use super::{DataSummary, ModelResult, PatternLine};
use crate::behaviour::SeqTokens;
use crate::experiment::ModelRun;
use crate::tasks::{format_time, roles, Role, UserIndex};

/// Frequent patterns (length ≥ 2) and `A then B` rules over every user's whole sequence.
pub fn patterns_and_rules(
    log: &EventLog,
    dict: &Dictionary,
    tokens: SeqTokens,
    top: usize,
) -> anyhow::Result<(Vec<PatternLine>, Vec<PatternLine>)> {
    let idx = UserIndex::by_user(log);
    let window = TokenWindow {
        token: tokens.token(),
        max_len: None,
    };
    let seqs = token_sequences(log, dict, &idx, &idx.every_key(), &window)?;
    let names = seqs.names.names();
    let db = seqs.to_sequence_db()?;
    let n = db.len().max(1) as f64;
    let miner = PrefixSpan::params()
        .top_k(20 * top.max(1))
        .max_len(3)
        .check()?;
    let mut sink = CollectSink::new();
    let stats = miner.mine(&db, &mut sink)?;
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
    let rules = then_rules(&pats, db.len(), stats.min_count)?;
    let rules: Vec<PatternLine> = rules
        .rules
        .iter()
        .take(top)
        .map(|r| PatternLine {
            text: format!(
                "{} ⇒ {}",
                names[r.antecedent[0][0].index()],
                names[r.consequent[0][0].index()]
            ),
            support: u64::from(r.support),
            rel_support: f64::from(r.support) / n,
            confidence: Some(r.confidence()),
        })
        .collect();
    Ok((frequent, rules))
}

impl DataSummary {
    /// Counts (events, users, products, categories), time span and the action funnel of a log.
    pub fn of(log: &EventLog, dict: &Dictionary, input: &str) -> DataSummary {
        // Data summary and funnel (actions in funnel order, then the rest by count).
        let mut per_action = vec![0u64; 256];
        for &a in &log.action {
            per_action[a as usize] += 1;
        }
        let rl = roles(dict);
        let rank = |r: Role| match r {
            Role::View => 0,
            Role::Cart => 1,
            Role::Fav => 2,
            Role::Buy => 3,
            Role::Other => 4,
        };
        let mut funnel: Vec<(usize, String, u64)> = (0..dict.actions.len())
            .filter(|&a| per_action[a] > 0)
            .map(|a| {
                (
                    rank(rl[a]),
                    dict.actions.name(a as u32).into_owned(),
                    per_action[a],
                )
            })
            .collect();
        funnel.sort_by(|x, y| x.0.cmp(&y.0).then(y.2.cmp(&x.2)));
        let (tmin, tmax) = log
            .time
            .iter()
            .fold((i64::MAX, i64::MIN), |(a, b), t| (a.min(t.0), b.max(t.0)));
        let distinct = |v: Vec<u32>| -> u64 {
            let mut v = v;
            v.sort_unstable();
            v.dedup();
            v.len() as u64
        };
        let mut counts = vec![
            ("events".to_owned(), log.len() as u64),
            (
                "users".to_owned(),
                distinct(log.user.iter().map(|u| u.0).collect()),
            ),
            (
                "products".to_owned(),
                distinct(log.item.iter().map(|i| i.0).collect()),
            ),
        ];
        if let Some(c) = &log.category {
            counts.push((
                "categories".to_owned(),
                distinct(c.iter().map(|c| c.0).filter(|&c| c != u32::MAX).collect()),
            ));
        }
        DataSummary {
            input: input.to_owned(),
            counts,
            span: (format_time(tmin), format_time(tmax)),
            funnel: funnel.into_iter().map(|(_, n, c)| (n, c)).collect(),
        }
    }
}

impl ModelResult {
    /// The report's view of a fitted and scored model (`feature_names`: the columns it was fitted on).
    pub fn of(run: &ModelRun, feature_names: &[String]) -> ModelResult {
        let m = run.metrics.as_ref();
        let model = run.model.as_ref();
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
            history: model.and_then(|m| m.training_history()).map(|h| {
                h.iter()
                    .map(|h| (h.epoch as f64, h.train_loss, h.valid_loss))
                    .collect()
            }),
            error: run.error.clone(),
        }
    }
}
