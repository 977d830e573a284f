//! `cartseq report INPUT --preset P --task T [task options] [--models M,M,..] -o report.html` — one
//! self-contained HTML file (inline CSS and SVG, no scripts, no network) with: data summary and action
//! funnel, the most frequent sequential patterns and "A then B" rules, the discriminative patterns
//! chosen as features, the leaderboard with ROC, precision–recall and calibration plots, feature
//! importances (pattern features marked), training curves of the neural models and the
//! with/without-patterns ablation with paired-bootstrap 95% intervals.
//!
//! The task is built exactly as `cartseq task` builds it; pattern features default to K = 10 here when
//! `--pattern-features` is not given. Cost: one leaderboard run (every model fitted twice for the
//! ablation) plus a top-k PrefixSpan run over all users' sequences; memory the event log, the feature
//! matrix and one model at a time.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use cartseq_data::{Dictionary, EventLog, ItemId, KeyId, SequenceDbBuilder};
use cartseq_mining::{CollectSink, Miner, PrefixSpan};
use cartseq_models::metrics;
use cartseq_models::nn::{CellKind, SeqClassifierParams};
use cartseq_models::{registry, Classifier, Dataset};
use hashbrown::HashMap;

use crate::cmd::task::{id_column, summary, TaskArgs};
use crate::cmd::train::{is_sequence_model, splits, with_seed};
use crate::cmd::Global;
use crate::ensemble_cli::EnsembleArgs;
use crate::features::SeqTokens;
use crate::input_args::InputArgs;
use crate::output::AtomicFile;
use crate::report::{render, DataSummary, ModelResult, PatternLine, ReportData};
use crate::tasks::table::build_table;
use crate::tasks::{format_time, roles, Role, UserIndex};

/// Arguments of `report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The log.
    #[command(flatten)]
    pub input: InputArgs,
    /// The task.
    #[command(flatten)]
    pub task: TaskArgs,
    /// Models of the leaderboard (registry names, ensembles, lstm/gru/rnn).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "prior,logreg,rf,gbdt,stack,lstm",
        value_name = "M,M,.."
    )]
    pub models: Vec<String>,
    /// Ensemble options.
    #[command(flatten)]
    pub ensemble: EnsembleArgs,
    /// Epochs of the neural models.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub epochs: usize,
    /// Bootstrap replicates of the ablation.
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub bootstrap: usize,
    /// Rows of the pattern and rule tables.
    #[arg(long, default_value_t = 15, value_name = "N")]
    pub top: usize,
    /// Output HTML file (written atomically).
    #[arg(short, long)]
    pub output: PathBuf,
}

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
fn patterns_and_rules(
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

fn fit_one(name: &str, args: &Args, train: &Dataset, test: &Dataset) -> ModelResult {
    let mut r = ModelResult {
        name: name.to_owned(),
        metrics: [f64::NAN; 5],
        fit_seconds: 0.0,
        scores: None,
        importances: None,
        history: None,
        error: None,
    };
    let t = Instant::now();
    let fitted: anyhow::Result<Box<dyn Classifier>> = (|| {
        if is_sequence_model(name) {
            let cell = match name {
                "lstm" => CellKind::Lstm,
                "gru" => CellKind::Gru,
                _ => CellKind::Rnn,
            };
            let m = SeqClassifierParams::new(cell)
                .epochs(args.epochs)
                .seed(args.task.seed)
                .check()?
                .fit(train)?;
            r.history = Some(
                m.history
                    .iter()
                    .map(|h| (h.epoch as f64, h.train_loss, h.valid_loss))
                    .collect(),
            );
            return Ok(Box::new(m) as Box<dyn Classifier>);
        }
        let learner = match args.ensemble.learner(name, args.task.seed)? {
            Some(l) => l,
            None => registry::learner(name, &with_seed(name, &[] as &[String], args.task.seed))?,
        };
        Ok(learner.fit_boxed(train)?)
    })();
    match fitted {
        Ok(m) => {
            r.fit_seconds = t.elapsed().as_secs_f64();
            let p = m.predict_proba(test);
            let rep = metrics::report(test.y.as_slice().unwrap_or(&[]), p.view());
            r.metrics = [
                rep.roc_auc.unwrap_or(f64::NAN),
                rep.pr_auc.unwrap_or(f64::NAN),
                rep.f1,
                rep.accuracy,
                rep.log_loss,
            ];
            if p.ncols() == 2 {
                r.scores = Some(p.column(1).to_vec());
            }
            r.importances = m
                .feature_importances()
                .filter(|v| v.len() == train.feature_names.len())
                .map(|v| train.feature_names.iter().cloned().zip(v).collect());
        }
        Err(e) => r.error = Some(e.to_string()),
    }
    r
}

/// Runs `report`.
pub fn run(mut args: Args, global: &Global) -> anyhow::Result<()> {
    for n in &args.models {
        anyhow::ensure!(
            registry::info(n).is_some() || crate::ensemble_cli::is_ensemble(n) || is_sequence_model(n),
            "unknown model {n:?}; use registry names (see `cartseq train --help`), stack/vote/vote-hard/bag or lstm/gru/rnn"
        );
    }
    if args.task.patterns.pattern_features == 0 {
        args.task.patterns.pattern_features = 10;
    }
    let quiet = global.quiet;
    let spec = args.task.spec()?;
    let (log, dict, _) = args.input.load_events(quiet)?;
    let with_seq = args
        .models
        .iter()
        .any(|m| is_sequence_model(m) || args.ensemble.needs_seq(m));
    let mut built = build_table(
        &log,
        &dict,
        &spec,
        id_column(&args.input),
        with_seq.then(|| args.task.seq_options()),
    )
    .with_context(|| format!("building the {} task", spec.kind.name()))?;
    let chosen =
        crate::pattern_features::apply(&args.task.patterns, &mut built, &log, &dict, &spec, quiet)?;
    if !quiet {
        eprint!("{}", summary(&built, &spec));
    }
    // Data summary and funnel (actions in funnel order, then the rest by count).
    let mut per_action = vec![0u64; 256];
    for &a in &log.action {
        per_action[a as usize] += 1;
    }
    let rl = roles(&dict);
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
    let (frequent, rules) =
        patterns_and_rules(&log, &dict, args.task.patterns.pattern_tokens, args.top)
            .context("mining the report's patterns")?;

    // Leaderboard.
    let n_classes = built.class_names.len();
    let sp = splits(&built.table, n_classes)?;
    let mut models = Vec::new();
    for name in &args.models {
        if !quiet {
            eprintln!("fitting {name} …");
        }
        models.push(fit_one(name, &args, &sp.train, &sp.test));
    }
    let ablation = if n_classes == 2 {
        let with: Vec<(String, Vec<f64>)> = models
            .iter()
            .filter_map(|m| m.scores.clone().map(|s| (m.name.clone(), s)))
            .collect();
        let make = |name: &str| -> anyhow::Result<Box<dyn cartseq_models::Learner>> {
            if is_sequence_model(name) {
                anyhow::bail!("sequence models do not read the feature columns: unchanged by pattern features");
            }
            Ok(match args.ensemble.learner(name, args.task.seed)? {
                Some(l) => l,
                None => {
                    registry::learner(name, &with_seed(name, &[] as &[String], args.task.seed))?
                }
            })
        };
        if !quiet {
            eprintln!("ablation: refitting without pattern features …");
        }
        Some(crate::ablation::ablate(
            &with,
            &make,
            &sp.train,
            &sp.test,
            args.bootstrap,
            args.task.seed,
        )?)
    } else {
        None
    };
    let data = ReportData {
        title: format!("cartseq report — {} task", spec.kind.name()),
        task_lines: vec![
            format!(
                "test cutoff {}, horizon {} h, {} rows × {} features ({} pattern features), classes: {}",
                format_time(built.test_cutoff),
                spec.horizon_ms as f64 / crate::tasks::HOUR_MS as f64,
                built.table.len(),
                built.table.feature_names.len(),
                3 * chosen.len(),
                built.class_names.join(", ")
            ),
            format!(
                "rows: train {}, valid {}, test {}",
                sp.train.nrows(),
                sp.valid.nrows(),
                sp.test.nrows()
            ),
        ],
        data: DataSummary {
            input: args.input.input.display().to_string(),
            counts,
            span: (format_time(tmin), format_time(tmax)),
            funnel: funnel.into_iter().map(|(_, n, c)| (n, c)).collect(),
        },
        frequent,
        rules,
        chosen,
        class_names: built.class_names.clone(),
        y_test: sp.test.y.to_vec(),
        models,
        ablation,
        bootstrap: args.bootstrap,
    };
    let html = render(&data);
    let mut out = AtomicFile::create(&args.output)?;
    out.write_all(html.as_bytes())
        .with_context(|| format!("writing {}", args.output.display()))?;
    out.flush()?;
    out.commit()?;
    if !quiet {
        eprintln!("report: {}", args.output.display());
    }
    Ok(())
}
