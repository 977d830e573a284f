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
use crate::featurizer::describe_itemsets;
use crate::stats::event_stats;
use crate::tasks::{Role, UserIndex};

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
    let frequent: Vec<PatternLine> = pats
        .iter()
        .filter(|p| p.num_itemsets() >= 2)
        .take(top)
        .map(|p| PatternLine {
            text: describe_itemsets(p.itemsets(), names),
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
                describe_itemsets(r.antecedent.iter().map(Vec::as_slice), names),
                describe_itemsets(r.consequent.iter().map(Vec::as_slice), names)
            ),
            support: u64::from(r.support),
            rel_support: f64::from(r.support) / n,
            confidence: Some(r.confidence()),
        })
        .collect();
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
        let stage = |a: &str| Role::of_name(a).stage();
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
            history: model.and_then(|m| m.training_history()).map(<[_]>::to_vec),
            error: run.error.clone(),
        }
    }
}
