//! The HTTP endpoints: request and response types, validation with errors that name the field, and
//! the calls into the models (scoring runs on tokio's blocking pool, never on the async workers).
//!
//! Every error is `{"error": {"status": 400, "field": "k", "message": "…"}}` with a 4xx status: bad
//! JSON and wrong types name the JSON path (`items[3]`), limits name the field and the limit. Item
//! names the model does not know are ignored and counted (`unknown_items` in the answer and in
//! `/metrics`), as the batch protocol drops them.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cartseq_models::nextitem::top_k;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::metrics::Gauges;
use super::state::{AppState, Models};
use crate::next_query::{self, NextQuery, NextSort};
use crate::online_features::{LiveEvent, Name, OnlineFeatureError};

/// An error answered as JSON with a 4xx (or, for a caught failure, 500) status.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The request field at fault, when there is one.
    pub field: Option<String>,
    /// What is wrong, in one line.
    pub message: String,
}

impl ApiError {
    /// A 400 naming `field`.
    pub fn bad(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    /// An error with a status and no field.
    pub fn status(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            field: None,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "status": self.status.as_u16(),
            "field": self.field,
            "message": self.message,
        }});
        (self.status, Json(body)).into_response()
    }
}

/// Parses a JSON body, mapping every failure to an error naming the field (or the body).
fn parse<T: for<'de> Deserialize<'de>>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|r| ApiError {
        status: r.status(),
        field: Some("body".into()),
        message: if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "the request body is larger than the limit (--max-body)".into()
        } else {
            r.body_text()
        },
    })?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." || path.is_empty() || inner.is_syntax() || inner.is_eof() {
            "body".to_owned()
        } else {
            path
        };
        ApiError::bad(&field, format!("{inner}"))
    })?;
    de.end()
        .map_err(|e| ApiError::bad("body", format!("trailing data after the JSON value: {e}")))?;
    Ok(value)
}

/// The session key of `session` or `user` (exactly one).
fn key_of(session: &Option<Name>, user: &Option<Name>) -> Result<Option<String>, ApiError> {
    match (session, user) {
        (Some(s), None) => Ok(Some(format!("s:{}", s.0))),
        (None, Some(u)) => Ok(Some(format!("u:{}", u.0))),
        (Some(_), Some(_)) => Err(ApiError::bad(
            "user",
            "give either `session` or `user`, not both",
        )),
        (None, None) => Ok(None),
    }
}

fn check_len(field: &str, n: usize, max: usize) -> Result<(), ApiError> {
    if n > max {
        return Err(ApiError::bad(
            field,
            format!("{n} items, more than the limit of {max} (--max-request-items)"),
        ));
    }
    Ok(())
}

/// Body of `POST /v1/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsRequest {
    /// Session the clicks belong to.
    pub session: Option<Name>,
    /// Or the user they belong to.
    pub user: Option<Name>,
    /// Clicked items, oldest first.
    pub items: Option<Vec<Name>>,
    /// Or full events (time, item, action, …), oldest first: what `/v1/score` computes features
    /// from (their items are also the session's clicks).
    pub events: Option<Vec<LiveEvent>>,
}

/// Answer of `POST /v1/events`.
#[derive(Debug, Serialize)]
pub struct EventsResponse {
    /// Events accepted.
    pub accepted: usize,
    /// Of which the model does not know.
    pub unknown_items: usize,
    /// Clicks now held for the session.
    pub held: usize,
    /// Clicks learnt by the online model.
    pub learnt: usize,
}

/// `POST /v1/events`: append clicks to a session's (or user's) state.
pub async fn events(
    State(st): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EventsResponse>, ApiError> {
    let req: EventsRequest = parse(body)?;
    let key = key_of(&req.session, &req.user)?
        .ok_or_else(|| ApiError::bad("session", "give `session` (or `user`)"))?;
    let (items, events): (Vec<String>, Vec<LiveEvent>) = match (req.items, req.events) {
        (Some(items), None) => {
            check_len("items", items.len(), st.config.max_request_items)?;
            (items.into_iter().map(|n| n.0).collect(), Vec::new())
        }
        (None, Some(events)) => {
            check_len("events", events.len(), st.config.max_request_items)?;
            (events.iter().map(|e| e.item.0.clone()).collect(), events)
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad(
                "events",
                "give either `items` or `events`, not both",
            ))
        }
        (None, None) => return Err(ApiError::bad("items", "give `items` or `events`")),
    };
    let (before, held) = st.sessions.append(&key, &items, &events, Instant::now());
    let models = st.models();
    let mut unknown = 0;
    let mut learnt = 0;
    if let Some(nx) = &models.nextitem {
        let vocab = &nx.file.items;
        unknown = items.iter().filter(|i| vocab.id(i).is_none()).count();
        if let Some(online) = &nx.online {
            // The session's recent known clicks, then each known click in turn at its time (the
            // event's, else now), appended to them (unknown items are dropped, as the batch
            // protocol drops them).
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            let times = events.iter().map(|e| e.time as f64 / 1000.0);
            let times = times.chain(std::iter::repeat(now));
            let mut o = online.write().unwrap_or_else(|p| p.into_inner());
            let keep = o.recent_clicks();
            let mut recent: Vec<u32> = before
                .iter()
                .rev()
                .filter_map(|i| vocab.id(i))
                .take(keep)
                .collect();
            recent.reverse();
            for (id, time) in items.iter().map(|i| vocab.id(i)).zip(times) {
                let Some(id) = id else { continue };
                if o.click(&key, &recent, id, time) {
                    learnt += 1;
                }
                recent.push(id);
            }
        }
    }
    st.metrics
        .events
        .fetch_add(items.len() as u64, Ordering::Relaxed);
    st.metrics
        .unknown_items
        .fetch_add(unknown as u64, Ordering::Relaxed);
    Ok(Json(EventsResponse {
        accepted: items.len(),
        unknown_items: unknown,
        held,
        learnt,
    }))
}

/// Body of `POST /v1/recommend`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecommendRequest {
    /// A session whose held clicks are the input.
    pub session: Option<Name>,
    /// Or a user.
    pub user: Option<Name>,
    /// Or an explicit click list, oldest first.
    pub items: Option<Vec<Name>>,
    /// How many items to return (default 20).
    pub k: Option<usize>,
    /// Items never to return.
    #[serde(default)]
    pub exclude: Vec<Name>,
    /// Also exclude the items of the click list.
    #[serde(default)]
    pub exclude_seen: bool,
}

/// One recommended item.
#[derive(Debug, Serialize)]
pub struct Scored {
    /// Item name.
    pub item: String,
    /// The model's score (higher is better).
    pub score: f32,
}

/// Answer of `POST /v1/recommend`.
#[derive(Debug, Serialize)]
pub struct RecommendResponse {
    /// Model kind.
    pub model: String,
    /// Model version (changes with every reload).
    pub model_version: u64,
    /// Weight precision.
    pub precision: &'static str,
    /// Known clicks the scores are based on.
    pub clicks_used: usize,
    /// Clicks ignored because the model does not know them.
    pub unknown_items: usize,
    /// The top items, best first (ties: lower model id first).
    pub items: Vec<Scored>,
}

/// `POST /v1/recommend`: top-k next items for a session or a click list.
pub async fn recommend(
    State(st): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RecommendResponse>, ApiError> {
    let req: RecommendRequest = parse(body)?;
    let k = req.k.unwrap_or(20);
    if k == 0 || k > st.config.max_k {
        return Err(ApiError::bad(
            "k",
            format!("expected 1 to {}, found {k}", st.config.max_k),
        ));
    }
    check_len("exclude", req.exclude.len(), st.config.max_request_items)?;
    let clicks = held_or_given(
        &st,
        (&req.session, &req.user),
        ("items", req.items),
        |key, now| st.sessions.clicks(key, now),
        |n| n.0,
    )?;
    let exclude: Vec<String> = req.exclude.into_iter().map(|n| n.0).collect();
    let models = st.models();
    let exclude_seen = req.exclude_seen;
    let answer = tokio::task::spawn_blocking(move || {
        recommend_blocking(&models, &clicks, &exclude, exclude_seen, k)
    })
    .await
    .map_err(|e| {
        ApiError::status(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("scoring failed: {e}"),
        )
    })??;
    st.metrics
        .unknown_items
        .fetch_add(answer.unknown_items as u64, Ordering::Relaxed);
    Ok(Json(answer))
}

/// Maps names to ids, scores and ranks (on a blocking thread).
fn recommend_blocking(
    models: &Models,
    clicks: &[String],
    exclude: &[String],
    exclude_seen: bool,
    k: usize,
) -> Result<RecommendResponse, ApiError> {
    let nx = models
        .nextitem
        .as_ref()
        .ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, "no next-item model is loaded"))?;
    let vocab = &nx.file.items;
    let ids: Vec<u32> = clicks.iter().filter_map(|c| vocab.id(c)).collect();
    let unknown_items = clicks.len() - ids.len();
    let mut items = Vec::new();
    if !ids.is_empty() {
        let mut ex: Vec<u32> = exclude.iter().filter_map(|c| vocab.id(c)).collect();
        if exclude_seen {
            ex.extend_from_slice(&ids);
        }
        ex.sort_unstable();
        ex.dedup();
        let mut scores = Vec::new();
        nx.score(&ids, &mut scores);
        items = top_k(&scores, k, &ex)
            .into_iter()
            .map(|(i, s)| Scored {
                item: vocab.name(i).to_owned(),
                score: s,
            })
            .collect();
    }
    Ok(RecommendResponse {
        model: nx.kind(),
        model_version: models.version,
        precision: nx.file.model.precision(),
        clicks_used: ids.len(),
        unknown_items,
        items,
    })
}

/// Body of `POST /v1/score`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreRequest {
    /// A user whose held events are the input.
    pub user: Option<Name>,
    /// Or a session.
    pub session: Option<Name>,
    /// Or an explicit event list.
    pub events: Option<Vec<LiveEvent>>,
    /// Scoring time in ms since the Unix epoch: features read events strictly before it (default:
    /// now).
    pub at: Option<i64>,
}

/// Answer of `POST /v1/score`.
#[derive(Debug, Serialize)]
pub struct ScoreResponse {
    /// Model name as given to `train --model`.
    pub model: String,
    /// Model version (changes with every reload).
    pub model_version: u64,
    /// The task.
    pub task: &'static str,
    /// Class names, index = class.
    pub classes: Vec<String>,
    /// Class probabilities, in `classes` order.
    pub probabilities: Vec<f64>,
    /// The most probable class (ties: the first).
    pub predicted: String,
    /// Events before `at` the features were computed from.
    pub events_used: usize,
    /// The scoring time used.
    pub at: i64,
}

/// `POST /v1/score`: class probabilities for a user from their recent events.
pub async fn score(
    State(st): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ScoreResponse>, ApiError> {
    let req: ScoreRequest = parse(body)?;
    let events = held_or_given(
        &st,
        (&req.session, &req.user),
        ("events", req.events),
        |key, now| st.sessions.events(key, now),
        |e| e,
    )?;
    let at = req.at.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    });
    let models = st.models();
    tokio::task::spawn_blocking(move || score_blocking(&models, &events, at))
        .await
        .map_err(|e| {
            ApiError::status(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("scoring failed: {e}"),
            )
        })?
        .map(Json)
}

/// A request's input list: what the store holds for its `session` or `user` (read by `held`), or the
/// explicit list `given.1` (the field `given.0`, converted by `convert`); exactly one of them.
fn held_or_given<G, T>(
    st: &AppState,
    (session, user): (&Option<Name>, &Option<Name>),
    given: (&str, Option<Vec<G>>),
    held: impl FnOnce(&str, Instant) -> Option<Vec<T>>,
    convert: impl Fn(G) -> T,
) -> Result<Vec<T>, ApiError> {
    let (field, list) = given;
    match (key_of(session, user)?, list) {
        (Some(_), Some(_)) => Err(ApiError::bad(
            field,
            format!("give either a session/user or an explicit `{field}` list, not both"),
        )),
        (Some(key), None) => {
            held(&key, Instant::now()).ok_or_else(|| held_nothing(session.is_some()))
        }
        (None, Some(list)) => {
            check_len(field, list.len(), st.config.max_request_items)?;
            Ok(list.into_iter().map(convert).collect())
        }
        (None, None) => Err(ApiError::bad(
            "session",
            format!("give `session`, `user` or an `{field}` list"),
        )),
    }
}

/// The 404 of a session or user the store does not hold.
fn held_nothing(session: bool) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        field: Some(if session { "session" } else { "user" }.into()),
        message: "no events held for it (never sent, expired or evicted)".into(),
    }
}

/// Computes the features and the probabilities (on a blocking thread).
fn score_blocking(
    models: &Models,
    events: &[LiveEvent],
    at: i64,
) -> Result<ScoreResponse, ApiError> {
    use cartseq_models::Classifier;
    let c = models.classifier.as_ref().ok_or_else(|| {
        ApiError::status(
            StatusCode::NOT_FOUND,
            "no classifier is loaded (--classifier)",
        )
    })?;
    let h = &c.model.header;
    let ds = c.features.dataset(h, events, at).map_err(|e| match e {
        OnlineFeatureError::NoEvents { .. } => ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            field: Some("at".into()),
            message: format!("{e}: a user needs an event before the scoring time"),
        },
        OnlineFeatureError::Other(e) => ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            field: Some("events".into()),
            message: format!("the events cannot be turned into features: {e:#}"),
        },
        columns @ OnlineFeatureError::Columns(_) => {
            ApiError::status(StatusCode::INTERNAL_SERVER_ERROR, columns.to_string())
        }
    })?;
    let proba = c.model.model.predict_proba(&ds).map_err(|e| {
        ApiError::status(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("scoring failed: {e}"),
        )
    })?;
    let probabilities: Vec<f64> = proba.row(0).to_vec();
    let best = probabilities
        .iter()
        .enumerate()
        .fold(0, |b, (i, p)| if *p > probabilities[b] { i } else { b });
    let classes = c.features.ctx.class_names.clone();
    Ok(ScoreResponse {
        model: h.model.clone(),
        model_version: models.version,
        task: c.features.ctx.task.name(),
        predicted: classes.get(best).cloned().unwrap_or_default(),
        classes,
        probabilities,
        events_used: events.iter().filter(|e| e.time < at).count(),
        at,
    })
}

/// `GET /v1/next?after=A&after=B[&within=5|1h][&top=20][&sort=count][&min_count=1]`: what follows
/// the tokens, as `cartseq next` answers it.
pub async fn next(
    State(st): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut q = NextQuery {
        after: Vec::new(),
        within: cartseq_mining::rules::next::Within::Anywhere,
        min_count: 1,
        sort: NextSort::Count,
        top: 20,
    };
    // Repeated keys (`after=A&after=B`) keep their order: decoded with the url crate family's
    // `form_urlencoded` (axum's own query decoder) rather than into a struct.
    let pairs = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()).into_owned();
    for (k, v) in pairs {
        match k.as_str() {
            "after" => q.after.push(v),
            "within" => {
                q.within = next_query::parse_within(Some(&v)).map_err(|e| {
                    ApiError::bad("within", e.to_string().replace("--within", "within"))
                })?
            }
            "top" => {
                q.top = v
                    .parse()
                    .map_err(|_| ApiError::bad("top", format!("expected a count, found {v:?}")))?
            }
            "min_count" => {
                q.min_count = v.parse().map_err(|_| {
                    ApiError::bad("min_count", format!("expected a count, found {v:?}"))
                })?
            }
            "sort" => q.sort = v.parse().map_err(|e: String| ApiError::bad("sort", e))?,
            other => {
                return Err(ApiError::bad(
                    other,
                    "unknown parameter (after, within, top, sort, min_count)",
                ))
            }
        }
    }
    if q.after.is_empty() {
        return Err(ApiError::bad("after", "give at least one `after` token"));
    }
    check_len("after", q.after.len(), st.config.max_request_items)?;
    let models = st.models();
    tokio::task::spawn_blocking(move || next_blocking(&models, &q))
        .await
        .map_err(|e| {
            ApiError::status(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the query failed: {e}"),
            )
        })?
        .map(Json)
}

/// Answers a follow-up query (on a blocking thread).
fn next_blocking(models: &Models, q: &NextQuery) -> Result<serde_json::Value, ApiError> {
    let n = models.next.as_ref().ok_or_else(|| {
        ApiError::status(
            StatusCode::NOT_FOUND,
            "no sequences are loaded for /v1/next (give serve `-- INPUT --preset P --token T`)",
        )
    })?;
    let a =
        next_query::answer(&n.loaded, q).map_err(|e| ApiError::bad("after", format!("{e:#}")))?;
    let f = &a.follow;
    let dict = &n.loaded.dict;
    let rows: Vec<serde_json::Value> = f
        .rows
        .iter()
        .enumerate()
        .map(|(k, r)| {
            json!({
                "rank": k + 1, "token": dict.tokens.name(r.item.0), "count": r.count,
                "sequences_with_token": r.item_sequences,
                "confidence": r.confidence, "lift": r.lift,
            })
        })
        .collect();
    let conversions: Vec<serde_json::Value> = a
        .conversions
        .iter()
        .map(|(t, c, conf)| json!({"token": t, "count": c, "confidence": conf}))
        .collect();
    Ok(json!({
        "after": q.after,
        "sequences": f.n,
        "matched": f.matched,
        "rows": rows,
        "conversions": conversions,
        "model_version": models.version,
    }))
}

/// `GET /healthz`: liveness and what is loaded.
pub async fn healthz(State(st): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let m = st.models();
    let nextitem = m.nextitem.as_ref().map(|nx| {
        json!({
            "path": nx.path.display().to_string(),
            "kind": nx.kind(),
            "precision": nx.file.model.precision(),
            "items": nx.file.items.len(),
            "bytes": nx.bytes,
            "online": nx.online.is_some(),
        })
    });
    let classifier = m.classifier.as_ref().map(|c| {
        json!({
            "path": c.path.display().to_string(),
            "model": c.model.header.model,
            "task": c.features.ctx.task.name(),
            "classes": c.features.ctx.class_names,
            "features": c.model.header.feature_names.len(),
        })
    });
    let next = m.next.as_ref().map(|n| {
        json!({
            "path": n.loaded.path.display().to_string(),
            "sequences": n.loaded.db.len(),
            "tokens": n.loaded.dict.tokens.len(),
        })
    });
    Json(json!({
        "status": "ok",
        "model_version": m.version,
        "loaded_at_unix": m.loaded_at,
        "models": {"nextitem": nextitem, "classifier": classifier, "next": next},
        "sessions": st.sessions.len(),
        "last_reload_error": st.last_reload_error(),
    }))
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    let m = st.models();
    let mut models = Vec::new();
    let mut learnt = 0;
    if let Some(nx) = &m.nextitem {
        models.push((
            "nextitem",
            nx.kind(),
            nx.file.model.precision(),
            m.version,
            nx.file.items.len(),
        ));
        if let Some(o) = &nx.online {
            learnt = o.read().unwrap_or_else(|p| p.into_inner()).clicks_learnt();
        }
    }
    if let Some(c) = &m.classifier {
        models.push((
            "classifier",
            c.model.header.model.clone(),
            "f64",
            m.version,
            c.model.header.feature_names.len(),
        ));
    }
    if let Some(n) = &m.next {
        models.push((
            "next",
            "follow-ups".to_owned(),
            "counts",
            m.version,
            n.loaded.dict.tokens.len(),
        ));
    }
    let g = Gauges {
        sessions: st.sessions.len(),
        evicted: st.sessions.evicted.load(Ordering::Relaxed),
        expired: st.sessions.expired.load(Ordering::Relaxed),
        models,
        learnt,
    };
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(&g),
    )
        .into_response()
}

/// The OpenAPI document, kept by hand next to this file (a test checks it against the routes).
pub const OPENAPI: &str = include_str!("openapi.json");

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// `POST /admin/reload`: reload every model (loopback clients only).
pub async fn reload(
    State(st): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !peer.ip().is_loopback() {
        return Err(ApiError::status(
            StatusCode::FORBIDDEN,
            "reloading is allowed from the loopback interface only",
        ));
    }
    match st.reload().await {
        Ok(version) => Ok(Json(json!({"reloaded": true, "model_version": version}))),
        Err(e) => Err(ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            field: None,
            message: format!("kept model version {}: {e}", st.models().version),
        }),
    }
}

/// Any unknown path.
pub async fn not_found() -> ApiError {
    ApiError::status(
        StatusCode::NOT_FOUND,
        "no such endpoint (see /openapi.json)",
    )
}

/// A known path with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::status(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this endpoint (see /openapi.json)",
    )
}
