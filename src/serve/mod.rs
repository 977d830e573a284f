//! `cartseq serve`: real-time next-item recommendation over HTTP, on axum and tokio.
//!
//! * [`state`] — the loaded models behind an atomically swapped pointer (hot reload: load and check
//!   aside, then swap; a bad file keeps the old model) and the bounded session store (LRU cap + TTL).
//! * [`handlers`] — `POST /v1/events`, `POST /v1/recommend`, `POST /v1/score` (classifier
//!   probabilities, features by [`crate::online_features`]), `GET /v1/next` (follow-ups by
//!   [`crate::next_query`]), `GET /healthz`, `GET /metrics`, `GET /openapi.json`, `POST /admin/reload`
//!   (loopback only); JSON errors naming the field.
//! * [`metrics`] — request counters and latency histograms in the Prometheus text format.
//!
//! Scoring is CPU-bound and runs on tokio's blocking pool (`spawn_blocking`), so the async workers
//! only parse, route and write. The scores are computed by the same model code as the batch
//! evaluation (`NextItemModel::score_session`, whose default is the batch path on one session), so a
//! replayed log gives the same rankings online as offline (tested in `tests/cli/serve.rs`).
//!
//! Robustness: request bodies over `max_body` are refused with 413 before they are read whole; lists
//! over `max_request_items` with 400; a panic anywhere in a handler is caught and answered with a JSON
//! 500 (and counted) instead of dropping the connection. Shutdown (SIGINT/SIGTERM) stops accepting,
//! lets the requests in flight finish, then returns.

pub mod handlers;
pub mod metrics;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

pub use state::{AppState, ServeConfig};

use handlers::ApiError;

/// The application: every route with its limits, metrics and panic guard.
pub fn router(state: Arc<AppState>) -> Router {
    let panic_state = state.clone();
    let on_panic = move |_: Box<dyn std::any::Any + Send + 'static>| -> Response {
        panic_state.metrics.panics.fetch_add(1, Ordering::Relaxed);
        ApiError::status(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal error while answering this request (logged and counted)",
        )
        .into_response()
    };
    Router::new()
        .route("/v1/events", post(handlers::events))
        .route("/v1/recommend", post(handlers::recommend))
        .route("/v1/score", post(handlers::score))
        .route("/v1/next", get(handlers::next))
        .route("/healthz", get(handlers::healthz))
        .route("/metrics", get(handlers::metrics))
        .route("/openapi.json", get(handlers::openapi))
        .route("/admin/reload", post(handlers::reload))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.max_body))
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// Records every answered request in the metrics, by matched route.
async fn track(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |p| p.as_str().to_owned());
    let resp = next.run(req).await;
    st.metrics
        .record(&route, resp.status().as_u16(), start.elapsed());
    resp
}

/// Serves `state` on `listener` until `shutdown` resolves, then drains the requests in flight.
/// Also sweeps expired sessions every quarter TTL (at most every minute) and reloads the models on
/// SIGHUP (Unix).
pub async fn run(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper = {
        let st = state.clone();
        let every =
            (st.config.session_ttl / 4).clamp(Duration::from_millis(100), Duration::from_secs(60));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                st.sessions.sweep(Instant::now());
            }
        })
    };
    let hup = tokio::spawn(reload_on_sighup(state.clone()));
    let app = router(state);
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    sweeper.abort();
    hup.abort();
    result
}

/// Reloads the models on every SIGHUP, printing the outcome on stderr.
async fn reload_on_sighup(state: Arc<AppState>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            match state.reload().await {
                Ok(v) => eprintln!("serve: SIGHUP: reloaded, model version {v}"),
                Err(e) => eprintln!(
                    "serve: SIGHUP: reload failed, kept model version {}: {e}",
                    state.models().version
                ),
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = state;
        std::future::pending::<()>().await;
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
