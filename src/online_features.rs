//! Online features: the feature row of one user at a time `at`, from the events a server holds for
//! that user, computed by the **same code** as the offline table of `cartseq task` — so a classifier
//! from `cartseq train` scores a live user exactly as `cartseq eval` scores the same user's row.
//!
//! What the offline table reads besides the user's own events is recorded once, by `task`, in a
//! [`FeatureContext`] (the CSV manifest's `online_features`, copied by `train` into the model file):
//! the task's horizon (the "last horizon" counts and the open-cart look-back), the raw item and
//! category counts of the statistics window (events before the earliest training cutoff, stored as
//! counts so the smoothed statistics are rebuilt bit for bit by [`ItemStats::from_counts`]), which
//! optional columns the log had, and the token options of sequence models.
//!
//! [`OnlineFeaturizer::dataset`] turns a user's events into a one-user [`EventLog`] with its own
//! dictionary and runs the offline pipeline on it: [`Extractor::row`] for the behaviour columns,
//! [`FittedFeaturizer::transform`] for the pattern columns and [`Extractor::sequences`] +
//! [`SeqVocab::encode`](crate::tasks::table::SeqVocab::encode) for the token sequence. The features
//! equal the offline row when the server holds every event of the user before `at` (it keeps the last
//! `--max-events`).
//!
//! Cost per call: `O(e log e)` for the user's `e` held events plus the model's scoring; the context
//! holds one name and three counts per item and category of the statistics window.

use std::collections::HashMap;

use anyhow::Context;
use cartseq_data::event_log::UNKNOWN_CATEGORY;
use cartseq_data::{
    canonical_action, ActionId, CategoryId, Dictionary, Event, EventLog, KeyId, ProductId,
    Timestamp,
};
use cartseq_models::Dataset;
use ndarray::{concatenate, Array1, Axis};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::behaviour::{Extractor, FeatureSet, ItemStats, SeqTokens, StatCounts};
use crate::featurizer::{FittedFeaturizer, RowSequences};
use crate::tasks::table::SeqOptions;
use crate::tasks::{roles, windows, Row, Split, TaskKind, TaskRows, TaskSpec, UserIndex, Window};
use crate::trained::ModelHeader;

/// Format version of [`FeatureContext`].
pub const CONTEXT_FORMAT: u32 = 1;

/// Names with `[events, views, buys]` counts (only names with at least one event).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCounts {
    /// Names, in the log's id order.
    pub names: Vec<String>,
    /// Counts of each name.
    pub counts: Vec<[u64; 3]>,
}

impl NamedCounts {
    fn of(counts: &[[u64; 3]], name: impl Fn(u32) -> String) -> Self {
        let mut out = NamedCounts::default();
        for (i, c) in counts.iter().enumerate() {
            if c[0] > 0 {
                out.names.push(name(i as u32));
                out.counts.push(*c);
            }
        }
        out
    }

    fn index(&self) -> HashMap<String, [u64; 3]> {
        self.names
            .iter()
            .cloned()
            .zip(self.counts.iter().copied())
            .collect()
    }
}

/// Token options of the per-row sequences (sequence models).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeqContext {
    /// Token kind.
    pub tokens: SeqTokens,
    /// Last this many events.
    pub max_len: usize,
}

/// What the offline feature table reads besides a user's own events (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureContext {
    /// [`CONTEXT_FORMAT`].
    pub format: u32,
    /// The task.
    pub task: TaskKind,
    /// Class names, index = label.
    pub class_names: Vec<String>,
    /// Horizon in ms.
    pub horizon_ms: i64,
    /// The statistics read events before this time (ms).
    pub stats_end: i64,
    /// The log had session ids.
    pub sessions: bool,
    /// The log had categories.
    pub categories: bool,
    /// The table has the quantity and spend columns.
    pub money: bool,
    /// Token options of the `seq` column, when the table has one.
    pub seq: Option<SeqContext>,
    /// Item counts of the statistics window.
    pub items: NamedCounts,
    /// Category counts of the statistics window.
    pub category_counts: NamedCounts,
    /// Views in the statistics window.
    pub views: u64,
    /// Buys in the statistics window.
    pub buys: u64,
}

/// An item, session or user name: a JSON string or integer (`214536502` and `"214536502"` are the
/// same item).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Name(pub String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Name;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a name (string or integer)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Name, E> {
                if v.len() > 1024 {
                    return Err(E::custom("a name of at most 1024 bytes"));
                }
                Ok(Name(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Name, E> {
                Ok(Name(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Name, E> {
                Ok(Name(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// One event as a client sends it (`POST /v1/events`, `/v1/score`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveEvent {
    /// Milliseconds since the Unix epoch.
    pub time: i64,
    /// Item name.
    pub item: Name,
    /// Action name (`view`, `cart_add`, `fav`, `buy`, or a spelling such as `pv`/`cart`, mapped as the
    /// log readers map it).
    pub action: Name,
    /// Category name.
    pub category: Option<Name>,
    /// Session id (for logs with sessions).
    pub session: Option<Name>,
    /// Quantity.
    pub quantity: Option<f32>,
    /// Unit price.
    pub price: Option<f32>,
}

/// Why a user cannot be scored.
#[derive(Debug, thiserror::Error)]
pub enum OnlineFeatureError {
    /// No held event is before the scoring time (offline, such a user has no row).
    #[error("no event of this user before {at} ms")]
    NoEvents {
        /// The scoring time.
        at: i64,
    },
    /// The model's feature columns are not the ones this context computes.
    #[error("the model's feature columns differ from the ones computed online: {0}")]
    Columns(String),
    /// Anything else (a model that cannot score, a vocabulary overflow).
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

impl FeatureContext {
    /// The context of a task built from `log` with `spec` at `test_cutoff` (the statistics window of
    /// `build_rows`: events before the earliest cutoff).
    pub fn of_task(
        log: &EventLog,
        dict: &Dictionary,
        spec: &TaskSpec,
        test_cutoff: i64,
        seq: Option<SeqOptions>,
    ) -> Self {
        let stats_end = windows(spec, test_cutoff)
            .iter()
            .map(|w| w.cutoff)
            .min()
            .unwrap_or(test_cutoff);
        let c = StatCounts::count(log, &roles(dict), stats_end);
        FeatureContext {
            format: CONTEXT_FORMAT,
            task: spec.kind,
            class_names: spec.kind.class_names(),
            horizon_ms: spec.horizon_ms,
            stats_end,
            sessions: log.session.is_some(),
            categories: log.category.is_some(),
            money: log.quantity.is_some() && log.price.is_some(),
            seq: seq.map(|s| SeqContext {
                tokens: s.tokens,
                max_len: s.max_len,
            }),
            items: NamedCounts::of(&c.items, |i| dict.products.name(i).into_owned()),
            category_counts: NamedCounts::of(&c.cats, |i| dict.categories.name(i).into_owned()),
            views: c.views,
            buys: c.buys,
        }
    }

    /// Checks the context against a model header: format, classes and the feature columns it computes.
    pub fn check(&self, header: &ModelHeader) -> Result<(), OnlineFeatureError> {
        if self.format != CONTEXT_FORMAT {
            return Err(OnlineFeatureError::Columns(format!(
                "online feature context format {} (expected {CONTEXT_FORMAT})",
                self.format
            )));
        }
        let names = self.feature_names(header.featurizer.as_ref());
        if names != header.feature_names {
            let k = names
                .iter()
                .zip(&header.feature_names)
                .position(|(a, b)| a != b)
                .unwrap_or(names.len().min(header.feature_names.len()));
            return Err(OnlineFeatureError::Columns(format!(
                "column {k}: online {:?}, model {:?}",
                names.get(k),
                header.feature_names.get(k)
            )));
        }
        if header.seq_vocab.is_some() && self.seq.is_none() {
            return Err(OnlineFeatureError::Columns(
                "the model reads token sequences but the table recorded no sequence options".into(),
            ));
        }
        if header.n_classes != self.class_names.len() {
            return Err(OnlineFeatureError::Columns(format!(
                "the model has {} classes, the task {}",
                header.n_classes,
                self.class_names.len()
            )));
        }
        Ok(())
    }

    /// The feature columns computed online: behaviour columns, then the pattern columns.
    pub fn feature_names(&self, featurizer: Option<&FittedFeaturizer>) -> Vec<String> {
        let mut names = FeatureSet::with_money(self.money).names().to_vec();
        if let Some(f) = featurizer {
            names.extend(f.pattern_columns());
        }
        names
    }
}

/// A [`FeatureContext`] with its name lookups built (once per loaded model).
pub struct OnlineFeaturizer {
    /// The context.
    pub ctx: FeatureContext,
    items: HashMap<String, [u64; 3]>,
    cats: HashMap<String, [u64; 3]>,
}

impl OnlineFeaturizer {
    /// Builds the name lookups of `ctx`.
    pub fn new(ctx: FeatureContext) -> Self {
        OnlineFeaturizer {
            items: ctx.items.index(),
            cats: ctx.category_counts.index(),
            ctx,
        }
    }

    /// The one-row [`Dataset`] of a user with `events` (any order; ties keep the given order) at time
    /// `at`, for the model described by `header`: features read events strictly before `at`.
    pub fn dataset(
        &self,
        header: &ModelHeader,
        events: &[LiveEvent],
        at: i64,
    ) -> Result<Dataset, OnlineFeatureError> {
        let ctx = &self.ctx;
        if !events.iter().any(|e| e.time < at) {
            return Err(OnlineFeatureError::NoEvents { at });
        }
        let (log, dict) = self.user_log(events)?;
        let idx = UserIndex::by_user(&log);
        let task = TaskRows {
            windows: vec![Window {
                cutoff: at,
                horizon_ms: ctx.horizon_ms,
                split: Some(Split::Test),
            }],
            rows: vec![Row {
                user: 0,
                window: 0,
                split: Split::Test,
                label: 0,
            }],
            n_classes: ctx.class_names.len(),
            class_names: ctx.class_names.clone(),
            stats_end: ctx.stats_end,
        };
        // The statistics window's counts, re-indexed by this log's ids.
        let lookup =
            |m: &HashMap<String, [u64; 3]>, name: &str| m.get(name).copied().unwrap_or([0; 3]);
        let counts = StatCounts {
            items: dict
                .products
                .names()
                .iter()
                .map(|n| lookup(&self.items, n))
                .collect(),
            cats: dict
                .categories
                .names()
                .iter()
                .map(|n| lookup(&self.cats, n))
                .collect(),
            views: ctx.views,
            buys: ctx.buys,
        };
        let stats = ItemStats::from_counts(&counts);
        let roles = roles(&dict);
        let set = FeatureSet::with_money(ctx.money);
        let ex = Extractor {
            log: &log,
            idx: &idx,
            roles: &roles,
            stats: &stats,
            set: &set,
        };
        let mut x = ex.matrix(&task);
        if let Some(f) = header
            .featurizer
            .as_ref()
            .filter(|f| !f.patterns.is_empty())
        {
            let rows = RowSequences::of_rows(&task, &log, &dict, &idx, &f.params)?;
            let px = f.transform(&rows)?;
            x = concatenate(Axis(1), &[x.view(), px.view()]).context("pattern columns")?;
        }
        if x.ncols() != header.feature_names.len() {
            return Err(OnlineFeatureError::Columns(format!(
                "{} columns online, {} in the model",
                x.ncols(),
                header.feature_names.len()
            )));
        }
        let mut ds = Dataset::new(x, Array1::zeros(1), header.n_classes).context("feature row")?;
        ds.feature_names = header.feature_names.clone();
        if let (Some(vocab), Some(s)) = (&header.seq_vocab, ctx.seq) {
            let seqs = ex
                .sequences(&task, s.tokens, s.max_len, &dict)
                .context("token sequence")?;
            ds.seqs = Some(vocab.encode(&seqs, &[0]));
        }
        Ok(ds)
    }

    /// The events as a one-user log (user id 0) with its own dictionary, with the optional columns
    /// the offline log had (so the same columns exist for the same code).
    fn user_log(&self, events: &[LiveEvent]) -> anyhow::Result<(EventLog, Dictionary)> {
        let ctx = &self.ctx;
        let mut dict = Dictionary::new();
        let mut log = EventLog::new();
        let user = KeyId(dict.users.intern("user").context("user vocabulary")?);
        for e in events {
            let action = canonical_action(&e.action.0).map_or(e.action.0.trim(), |a| a.name());
            let action = dict.actions.intern(action).context("action vocabulary")?;
            anyhow::ensure!(action < 255, "more than 254 distinct actions");
            let item = ProductId(dict.products.intern(&e.item.0).context("item vocabulary")?);
            let category = match &e.category {
                Some(c) => Some(CategoryId(
                    dict.categories
                        .intern(&c.0)
                        .context("category vocabulary")?,
                )),
                None => None,
            };
            let session = match &e.session {
                Some(s) => Some(KeyId(
                    dict.sessions.intern(&s.0).context("session vocabulary")?,
                )),
                None => None,
            };
            log.push(&Event {
                user,
                session,
                time: Timestamp(e.time),
                item,
                category,
                action: ActionId(action),
                quantity: e.quantity,
                price: e.price,
            });
        }
        let n = log.len();
        if ctx.sessions && log.session.is_none() {
            log.session = Some(vec![KeyId(u32::MAX); n]);
        }
        if !ctx.sessions {
            log.session = None;
        }
        if ctx.categories && log.category.is_none() {
            log.category = Some(vec![UNKNOWN_CATEGORY; n]);
        }
        if !ctx.categories {
            log.category = None;
        }
        if ctx.money {
            log.quantity.get_or_insert_with(|| vec![f32::NAN; n]);
            log.price.get_or_insert_with(|| vec![f32::NAN; n]);
        } else {
            log.quantity = None;
            log.price = None;
        }
        Ok((log, dict))
    }
}
