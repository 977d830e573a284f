//! `cartseq serve [--nextitem MODEL.json] [--classifier MODEL.json] [--addr 127.0.0.1:8080]
//! [--max-sessions N] [--session-ttl 30m] [--learn-online] [-- INPUT --preset P --token T]` — answer
//! "this session just clicked X, Y: what next, and will they buy?" over HTTP.
//!
//! After `--`, an input with the input options of `cartseq next` gives `GET /v1/next` the sequences
//! `next` would read (built at start-up and on reload; each query is one pass over them, as the
//! command makes it).
//!
//! Endpoints: `POST /v1/events`, `POST /v1/recommend`, `POST /v1/score`, `GET /v1/next`, `GET /healthz`, `GET /metrics`,
//! `GET /openapi.json`, `POST /admin/reload` (loopback only; SIGHUP does the same). The bound address is
//! printed on stdout (`listening on http://127.0.0.1:PORT`), so `--addr 127.0.0.1:0` picks a free port.
//! SIGINT/SIGTERM stop accepting and drain the requests in flight. The work is in `cartseq::serve`;
//! costs: the model in memory plus about `max-sessions × max-clicks` item names.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Context};
use cartseq::next_query::NextSource;
use cartseq::serve::{self, AppState, ServeConfig};
use cartseq_data::time::parse_duration;
use clap::Parser;

use crate::cli::args::input::InputArgs;
use crate::cli::Global;

/// Arguments of `cartseq serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Next-item model from `cartseq nextitem --save-model` or `cartseq compress`.
    #[arg(long, value_name = "FILE")]
    pub nextitem: Option<PathBuf>,
    /// Classifier from `cartseq train -o` (a table from this version's `cartseq task`): answers
    /// `POST /v1/score` from a user's events, with the features `task` computes.
    #[arg(long, value_name = "FILE")]
    pub classifier: Option<PathBuf>,
    /// After `--`: the input and input options `GET /v1/next` reads, as `cartseq next` takes them
    /// (`-- data.csv --preset taobao --token action`); its sequences are built at start-up.
    #[arg(last = true, value_name = "NEXT_INPUT")]
    pub next: Vec<std::ffi::OsString>,
    /// Address to listen on (loopback by default; port 0 = any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Most sessions/users held in memory; the least recently used is evicted beyond it.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub max_sessions: usize,
    /// Forget a session idle for longer than this (ms, s, m, h, d).
    #[arg(long, default_value = "30m", value_name = "DURATION")]
    pub session_ttl: String,
    /// Most recent clicks kept per session.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub max_clicks: usize,
    /// Most recent full events kept per user for `--classifier` features (a user's features equal
    /// the offline ones while all their events fit).
    #[arg(long, default_value_t = 1_000, value_name = "N")]
    pub max_events: usize,
    /// Largest request body accepted, in bytes (larger: 413).
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    pub max_body: usize,
    /// Most items in one request's list (more: 400).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub max_request_items: usize,
    /// Update a pop, markov, sknn, vsknn or sr model from /v1/events as they arrive (sknn, vsknn:
    /// each live session joins the neighbour index; sr: each click's rules join the unpruned rules).
    #[arg(long)]
    pub learn_online: bool,
    /// Most live sessions an online sknn, vsknn or sr learns (its memory bound; later new sessions
    /// are not).
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub learn_max_sessions: usize,
    /// Async worker threads (default: 2). Scoring runs on a separate blocking pool of `--threads`
    /// threads (default: the cores), so requests queue instead of time-slicing the cores.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub workers: usize,
}

/// The input options after `--` (those of `cartseq next`).
#[derive(Debug, clap::Parser)]
struct NextInputCli {
    #[command(flatten)]
    input: InputArgs,
}

/// Runs `cartseq serve` until SIGINT/SIGTERM.
pub fn run(args: Args, g: &Global) -> anyhow::Result<()> {
    let ttl_ms = parse_duration(&args.session_ttl)
        .map_err(|e| anyhow!("--session-ttl {:?}: expected {e}", args.session_ttl))?;
    let next = if args.next.is_empty() {
        None
    } else {
        let words = std::iter::once(std::ffi::OsString::from("cartseq serve --"))
            .chain(args.next.iter().cloned());
        let parsed = NextInputCli::try_parse_from(words)
            .map_err(|e| anyhow!("the /v1/next input after `--`: {e}"))?;
        Some(NextSource {
            input: parsed.input.spec()?,
        })
    };
    let config = ServeConfig {
        nextitem: args.nextitem.clone(),
        classifier: args.classifier.clone(),
        next,
        max_events: args.max_events,
        max_sessions: args.max_sessions,
        session_ttl: Duration::from_millis(ttl_ms.max(0) as u64),
        max_clicks: args.max_clicks,
        max_body: args.max_body,
        max_request_items: args.max_request_items,
        learn_online: args.learn_online,
        learn_max_sessions: args.learn_max_sessions,
        ..ServeConfig::default()
    };
    let state = AppState::new(config).map_err(|e| anyhow!(e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers.max(1))
        .max_blocking_threads(scoring_threads(g.threads))
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("--addr {}: cannot listen", args.addr))?;
        let bound = listener.local_addr()?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{bound}")?;
        out.flush()?;
        drop(out);
        if !g.quiet {
            let m = state.models();
            if let Some(nx) = &m.nextitem {
                eprintln!(
                    "serve: {} model ({}, {} items) from {}",
                    nx.kind(),
                    nx.file.model.precision(),
                    nx.file.items.len(),
                    nx.path.display()
                );
            }
            if let Some(c) = &m.classifier {
                eprintln!(
                    "serve: {} classifier ({} task, {} features) from {}",
                    c.model.header.model,
                    c.features.ctx.task.name(),
                    c.model.header.feature_names.len(),
                    c.path.display()
                );
            }
            if let Some(n) = &m.next {
                eprintln!(
                    "serve: /v1/next over {} sequences from {}",
                    n.loaded.db.len(),
                    n.loaded.path.display()
                );
            }
        }
        serve::run(listener, state, serve::shutdown_signal()).await?;
        if !g.quiet {
            eprintln!("serve: stopped");
        }
        Ok(())
    })
}

/// Threads scoring requests: `--threads`, or one per core. More than the cores only time-slices them:
/// on 2 cores, 64 blocking threads gave the same throughput with 3× the resident memory and a p99 up
/// to 20× the median (BENCHMARKS.md, "Serving").
fn scoring_threads(threads: Option<usize>) -> usize {
    threads
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(2)
        .max(1)
}
