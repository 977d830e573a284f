//! What the server holds: the loaded models behind one atomically swapped pointer, and the bounded
//! in-memory session state.
//!
//! **Models.** [`AppState::models`] hands out an `Arc<Models>`; a request keeps the snapshot it started
//! with, so a reload never changes a model in the middle of a request. A reload loads and checks the new
//! files aside (parse, shape checks, a trial scoring, on a blocking thread) and only then swaps the
//! pointer; a bad file leaves the old models in place and the reason is returned, printed and kept for
//! `/healthz`. Online-learnt counts belong to the model they started from and restart with a reload.
//!
//! **Sessions.** Each session (or user) keeps its last `max_clicks` item names — names, not ids, so a
//! reloaded model with another vocabulary reads them correctly. The store is an LRU cache capped at
//! `max_sessions` entries with a time-to-live: an entry idle for longer than the TTL is dropped when
//! touched or by the periodic sweep (which pops from the least recently used end, so it costs only the
//! expired entries). Large stores are split into 16 shards, each its own LRU with 1/16 of the cap, so
//! that concurrent requests rarely wait on one lock; below 1,024 sessions one shard keeps the LRU order
//! exact. Memory: about `max_sessions × (key + max_clicks × item name)` bytes.

use std::collections::hash_map::DefaultHasher;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cartseq_models::nextitem::{NextItemFile, OnlineModel};
use lru::LruCache;

use crate::online_features::{LiveEvent, OnlineFeaturizer};
use crate::trained::TrainedModel;

use super::metrics::Metrics;

/// How the server is configured (validated by [`ServeConfig::check`]).
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Saved next-item model (`cartseq nextitem --save-model`, `cartseq compress`).
    pub nextitem: Option<PathBuf>,
    /// Classifier from `cartseq train -o` (with the online feature context `task` recorded).
    pub classifier: Option<PathBuf>,
    /// Sequences `GET /v1/next` answers from (loaded and indexed at start-up and on reload).
    pub next: Option<crate::next_query::NextSource>,
    /// Most sessions/users held; the least recently used is evicted beyond it.
    pub max_sessions: usize,
    /// A session idle for longer than this is forgotten.
    pub session_ttl: Duration,
    /// Most recent clicks kept per session.
    pub max_clicks: usize,
    /// Most recent full events kept per user for the classifier's features (held only with a
    /// classifier).
    pub max_events: usize,
    /// Largest request body accepted, in bytes.
    pub max_body: usize,
    /// Most items in one request's list.
    pub max_request_items: usize,
    /// Largest `k` of a recommendation.
    pub max_k: usize,
    /// Update the next-item model (pop, markov, sknn, vsknn, sr) from `/v1/events`.
    pub learn_online: bool,
    /// Most live sessions an online sknn, vsknn or sr learns (its memory bound).
    pub learn_max_sessions: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            nextitem: None,
            classifier: None,
            next: None,
            max_sessions: 100_000,
            session_ttl: Duration::from_secs(30 * 60),
            max_clicks: 200,
            max_events: 1_000,
            max_body: 1 << 20,
            max_request_items: 10_000,
            max_k: 1_000,
            learn_online: false,
            learn_max_sessions: 100_000,
        }
    }
}

impl ServeConfig {
    /// Checks every limit once, naming the option.
    pub fn check(&self) -> Result<(), String> {
        if self.nextitem.is_none() && self.classifier.is_none() && self.next.is_none() {
            return Err(
                "give a model to serve: --nextitem FILE, --classifier FILE or --next-input FILE"
                    .into(),
            );
        }
        if self.learn_online && self.nextitem.is_none() {
            return Err("--learn-online updates a next-item model: give --nextitem FILE".into());
        }
        for (name, v) in [
            ("--max-sessions", self.max_sessions),
            ("--max-clicks", self.max_clicks),
            ("--max-events", self.max_events),
            ("--max-body", self.max_body),
            ("--max-request-items", self.max_request_items),
        ] {
            if v == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if self.session_ttl.is_zero() {
            return Err("--session-ttl must be longer than 0".into());
        }
        Ok(())
    }
}

/// A loaded next-item model with where it came from.
pub struct LoadedNextItem {
    /// The model and its item names.
    pub file: NextItemFile,
    /// The file it was read from.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The model as learnt online (with `--learn-online` and a pop, markov, sknn, vsknn or sr model).
    pub online: Option<RwLock<OnlineModel>>,
}

impl LoadedNextItem {
    /// The model's kind as in the file (`gru`, `markov`, `int8`, …).
    pub fn kind(&self) -> String {
        self.file.model.as_model().name()
    }

    /// Scores every item after `clicks` (dense ids), with the online counts when they are learnt.
    pub fn score(&self, clicks: &[u32], scores: &mut Vec<f32>) {
        match &self.online {
            Some(o) => {
                let o = o.read().unwrap_or_else(|p| p.into_inner());
                o.model().score_session(clicks, scores);
            }
            None => self.file.model.as_model().score_session(clicks, scores),
        }
    }
}

/// Every model the server answers with, at one version.
pub struct Models {
    /// Increases by one with every successful reload (1 = the models loaded at start).
    pub version: u64,
    /// Seconds since the Unix epoch when loaded.
    pub loaded_at: u64,
    /// The next-item model.
    pub nextitem: Option<LoadedNextItem>,
    /// The classifier.
    pub classifier: Option<LoadedClassifier>,
    /// The sequences of `/v1/next`.
    pub next: Option<crate::next_query::NextIndex>,
}

/// A loaded classifier with its online featurizer.
pub struct LoadedClassifier {
    /// The model and its header (the header's feature context moved into `features`).
    pub model: TrainedModel,
    /// Computes a live user's feature row as `task` did.
    pub features: OnlineFeaturizer,
    /// The file it was read from.
    pub path: PathBuf,
}

/// Loads a classifier and checks that its features can be computed online.
fn load_classifier(path: &std::path::Path) -> Result<LoadedClassifier, String> {
    let mut model = TrainedModel::load(path).map_err(|e| format!("{e:#}"))?;
    let ctx = model.header.online.take().ok_or_else(|| {
        format!(
            "{}: the model file has no online feature context (it was trained on a table from an \
             older `cartseq task`, or from another tool); rebuild the table with `cartseq task -o` and \
             retrain",
            path.display()
        )
    })?;
    ctx.check(&model.header)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(LoadedClassifier {
        features: OnlineFeaturizer::new(ctx),
        model,
        path: path.to_path_buf(),
    })
}

/// Loads and checks every configured model (blocking: file reads and a trial scoring).
pub fn load_models(config: &ServeConfig, version: u64) -> Result<Models, String> {
    let nextitem = match &config.nextitem {
        Some(path) => {
            let file = NextItemFile::load_file(path).map_err(|e| e.to_string())?;
            let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            // Trial scoring: a model that cannot score one click must not replace a working one.
            let model = file.model.as_model();
            if model.n_items() == 0 {
                return Err(format!("{}: the model has no items", path.display()));
            }
            let mut scores = Vec::new();
            // A corrupt body that passed the checks must not take the server down: a panic in the
            // trial is an error like any other.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                model.score_session(&[0], &mut scores)
            }))
            .map_err(|_| format!("{}: the model failed its trial scoring", path.display()))?;
            if scores.len() != model.n_items() {
                return Err(format!(
                    "{}: the model scored {} items, expected {}",
                    path.display(),
                    scores.len(),
                    model.n_items()
                ));
            }
            if scores.iter().all(|s| !s.is_finite()) {
                return Err(format!(
                    "{}: the model's scores are not finite",
                    path.display()
                ));
            }
            let online = if config.learn_online {
                match OnlineModel::from_saved(&file.model, config.learn_max_sessions) {
                    Some(o) => Some(RwLock::new(o)),
                    None => {
                        return Err(format!(
                            "{}: --learn-online needs a pop, markov, sknn, vsknn or sr model saved with its counts (older files lack them: save the model again), this is `{}`",
                            path.display(),
                            model.name()
                        ))
                    }
                }
            } else {
                None
            };
            Some(LoadedNextItem {
                file,
                path: path.clone(),
                bytes,
                online,
            })
        }
        None => None,
    };
    let classifier = config
        .classifier
        .as_deref()
        .map(load_classifier)
        .transpose()?;
    let next = config
        .next
        .as_ref()
        .map(|n| n.load().map_err(|e| format!("{e:#}")))
        .transpose()?;
    let loaded_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(Models {
        version,
        loaded_at,
        nextitem,
        classifier,
        next,
    })
}

/// One session's recent clicks.
#[derive(Debug)]
struct Session {
    clicks: VecDeque<String>,
    /// Full events (time, action, category, …), kept only when a classifier is served.
    events: VecDeque<LiveEvent>,
    last_seen: Instant,
}

/// The bounded session store (see the module docs).
pub struct SessionStore {
    shards: Vec<Mutex<LruCache<String, Session>>>,
    ttl: Duration,
    max_clicks: usize,
    max_events: usize,
    /// Sessions dropped because the store was full.
    pub evicted: AtomicU64,
    /// Sessions dropped because they were idle for longer than the TTL.
    pub expired: AtomicU64,
}

impl SessionStore {
    /// A store of at most `max_sessions` sessions of at most `max_clicks` clicks and `max_events`
    /// full events (0: none kept).
    pub fn new(max_sessions: usize, ttl: Duration, max_clicks: usize, max_events: usize) -> Self {
        let n_shards = if max_sessions >= 1024 { 16 } else { 1 };
        let per =
            NonZeroUsize::new(max_sessions.div_ceil(n_shards).max(1)).unwrap_or(NonZeroUsize::MIN);
        SessionStore {
            shards: (0..n_shards)
                .map(|_| Mutex::new(LruCache::new(per)))
                .collect(),
            ttl,
            max_clicks,
            max_events,
            evicted: AtomicU64::new(0),
            expired: AtomicU64::new(0),
        }
    }

    fn shard(&self, key: &str) -> std::sync::MutexGuard<'_, LruCache<String, Session>> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        let i = (h.finish() % self.shards.len() as u64) as usize;
        // A panic while holding the lock cannot leave a session half-written in a way that matters.
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends `items` (and the full `events`, when the store keeps them) to the session `key`
    /// (created when new or expired); returns the clicks it held before and the number held now.
    pub fn append(
        &self,
        key: &str,
        items: &[String],
        events: &[LiveEvent],
        now: Instant,
    ) -> (Vec<String>, usize) {
        let mut shard = self.shard(key);
        let fresh = || Session {
            clicks: VecDeque::new(),
            events: VecDeque::new(),
            last_seen: now,
        };
        let mut session = match shard.pop(key) {
            Some(s) if now.duration_since(s.last_seen) <= self.ttl => s,
            Some(_) => {
                self.expired.fetch_add(1, Ordering::Relaxed);
                fresh()
            }
            None => fresh(),
        };
        let before: Vec<String> = session.clicks.iter().cloned().collect();
        for it in items {
            if session.clicks.len() == self.max_clicks {
                session.clicks.pop_front();
            }
            session.clicks.push_back(it.clone());
        }
        if self.max_events > 0 {
            for e in events {
                if session.events.len() == self.max_events {
                    session.events.pop_front();
                }
                session.events.push_back(e.clone());
            }
        }
        session.last_seen = now;
        let held = session.clicks.len();
        if let Some((old, _)) = shard.push(key.to_owned(), session) {
            if old != key {
                self.evicted.fetch_add(1, Ordering::Relaxed);
            }
        }
        (before, held)
    }

    /// The clicks of session `key`, when held and not expired (touching it).
    pub fn clicks(&self, key: &str, now: Instant) -> Option<Vec<String>> {
        self.read(key, now, |s| s.clicks.iter().cloned().collect())
    }

    /// The full events of session `key`, when held and not expired (touching it).
    pub fn events(&self, key: &str, now: Instant) -> Option<Vec<LiveEvent>> {
        self.read(key, now, |s| s.events.iter().cloned().collect())
    }

    fn read<T>(&self, key: &str, now: Instant, f: impl FnOnce(&Session) -> T) -> Option<T> {
        let mut shard = self.shard(key);
        let expired = match shard.get_mut(key) {
            Some(s) if now.duration_since(s.last_seen) <= self.ttl => {
                s.last_seen = now;
                return Some(f(s));
            }
            Some(_) => true,
            None => false,
        };
        if expired {
            shard.pop(key);
            self.expired.fetch_add(1, Ordering::Relaxed);
        }
        None
    }

    /// Drops every session idle for longer than the TTL; returns how many.
    pub fn sweep(&self, now: Instant) -> usize {
        let mut n = 0;
        for s in &self.shards {
            let mut shard = s.lock().unwrap_or_else(|p| p.into_inner());
            while let Some((_, oldest)) = shard.peek_lru() {
                if now.duration_since(oldest.last_seen) <= self.ttl {
                    break;
                }
                shard.pop_lru();
                n += 1;
            }
        }
        self.expired.fetch_add(n as u64, Ordering::Relaxed);
        n
    }

    /// Sessions held.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Everything the handlers share.
pub struct AppState {
    /// The configuration.
    pub config: ServeConfig,
    models: RwLock<Arc<Models>>,
    reloading: tokio::sync::Mutex<()>,
    last_reload_error: Mutex<Option<String>>,
    /// Session state.
    pub sessions: SessionStore,
    /// Counters and histograms for `/metrics`.
    pub metrics: Metrics,
}

impl AppState {
    /// Loads the models (an error names the file and what is wrong with it) and makes an empty
    /// session store.
    pub fn new(config: ServeConfig) -> Result<Arc<AppState>, String> {
        config.check()?;
        let models = load_models(&config, 1)?;
        Ok(Arc::new(AppState {
            sessions: SessionStore::new(
                config.max_sessions,
                config.session_ttl,
                config.max_clicks,
                if config.classifier.is_some() {
                    config.max_events
                } else {
                    0
                },
            ),
            config,
            models: RwLock::new(Arc::new(models)),
            reloading: tokio::sync::Mutex::new(()),
            last_reload_error: Mutex::new(None),
            metrics: Metrics::default(),
        }))
    }

    /// The current models (a snapshot: a reload does not change it).
    pub fn models(&self) -> Arc<Models> {
        self.models
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The reason the last reload failed, if it did (cleared by a successful one).
    pub fn last_reload_error(&self) -> Option<String> {
        self.last_reload_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reloads every model from its file, aside, and swaps them in when all load and check; on an
    /// error the old models stay and the reason is returned. One reload runs at a time.
    pub async fn reload(self: &Arc<Self>) -> Result<u64, String> {
        let _one = self.reloading.lock().await;
        let next = self.models().version + 1;
        let config = self.config.clone();
        let loaded = tokio::task::spawn_blocking(move || load_models(&config, next))
            .await
            .unwrap_or_else(|e| Err(format!("loading the model failed: {e}")));
        let mut last = self
            .last_reload_error
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match loaded {
            Ok(models) => {
                *self.models.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(models);
                *last = None;
                self.metrics.reloads_ok.fetch_add(1, Ordering::Relaxed);
                Ok(next)
            }
            Err(e) => {
                *last = Some(e.clone());
                self.metrics.reloads_failed.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_least_recently_used_session_is_evicted() {
        let s = SessionStore::new(2, Duration::from_secs(60), 3, 0);
        let t = Instant::now();
        s.append("a", &names(&["1"]), &[], t);
        s.append("b", &names(&["2"]), &[], t);
        assert!(s.clicks("a", t).is_some()); // a is now the most recent
        s.append("c", &names(&["3"]), &[], t);
        assert_eq!(s.len(), 2);
        assert!(s.clicks("b", t).is_none());
        assert_eq!(s.evicted.load(Ordering::Relaxed), 1);
        // Only the last max_clicks clicks are kept.
        let (before, held) = s.append("a", &names(&["4", "5", "6"]), &[], t);
        assert_eq!((before, held), (names(&["1"]), 3));
        assert_eq!(s.clicks("a", t), Some(names(&["4", "5", "6"])));
    }

    #[test]
    fn idle_sessions_expire() {
        let s = SessionStore::new(10, Duration::from_millis(100), 5, 0);
        let t = Instant::now();
        s.append("a", &names(&["1"]), &[], t);
        s.append("b", &names(&["2"]), &[], t + Duration::from_millis(80));
        let later = t + Duration::from_millis(150);
        assert_eq!(s.sweep(later), 1);
        assert!(s.clicks("a", later).is_none());
        assert!(s.clicks("b", later).is_some());
        assert!(s.clicks("b", later + Duration::from_millis(101)).is_none());
        assert!(s.is_empty());
    }
}
