//! Counters and latency histograms, rendered in the Prometheus text format for `GET /metrics`.
//!
//! Written by hand on atomics rather than with a metrics crate: the set is small and fixed (requests
//! by route and status class, one latency histogram per route, a few counters and gauges), recording
//! is two relaxed atomic adds, and the exposition format is a dozen lines of text.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Routes with their own series (anything else is `other`).
pub const ROUTES: &[&str] = &[
    "/v1/events",
    "/v1/recommend",
    "/healthz",
    "/metrics",
    "/openapi.json",
    "/admin/reload",
    "other",
];

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

const CLASSES: &[&str] = &["2xx", "3xx", "4xx", "5xx"];

/// One route's series.
#[derive(Default)]
struct RouteSeries {
    by_class: [AtomicU64; 4],
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// Every series the server exports.
pub struct Metrics {
    routes: Vec<RouteSeries>,
    /// Items in requests that the model does not know (ignored).
    pub unknown_items: AtomicU64,
    /// Events accepted by `/v1/events`.
    pub events: AtomicU64,
    /// Successful reloads.
    pub reloads_ok: AtomicU64,
    /// Reloads that kept the old model.
    pub reloads_failed: AtomicU64,
    /// Panics caught (answered with a JSON 500).
    pub panics: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            routes: ROUTES.iter().map(|_| RouteSeries::default()).collect(),
            unknown_items: AtomicU64::new(0),
            events: AtomicU64::new(0),
            reloads_ok: AtomicU64::new(0),
            reloads_failed: AtomicU64::new(0),
            panics: AtomicU64::new(0),
        }
    }
}

/// Gauges read at render time.
pub struct Gauges<'a> {
    /// Sessions held.
    pub sessions: usize,
    /// Sessions evicted by the LRU cap.
    pub evicted: u64,
    /// Sessions expired by the TTL.
    pub expired: u64,
    /// `(model, kind, precision, version, items)` of every loaded model.
    pub models: Vec<(&'a str, String, &'a str, u64, usize)>,
    /// Clicks learnt online by the loaded model.
    pub learnt: u64,
}

impl Metrics {
    /// Records one answered request.
    pub fn record(&self, route: &str, status: u16, elapsed: Duration) {
        let i = ROUTES
            .iter()
            .position(|r| *r == route)
            .unwrap_or(ROUTES.len() - 1);
        let s = &self.routes[i];
        let class = usize::from(status / 100).clamp(2, 5) - 2;
        s.by_class[class].fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        for (b, &le) in s.buckets.iter().zip(BUCKETS) {
            if secs <= le {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        s.count.fetch_add(1, Ordering::Relaxed);
        s.sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self, g: &Gauges<'_>) -> String {
        let mut o = String::new();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        o.push_str("# HELP cartseq_requests_total Requests answered, by route and status class.\n");
        o.push_str("# TYPE cartseq_requests_total counter\n");
        for (r, s) in ROUTES.iter().zip(&self.routes) {
            for (c, n) in CLASSES.iter().zip(&s.by_class) {
                let _ = writeln!(
                    o,
                    "cartseq_requests_total{{route=\"{r}\",code=\"{c}\"}} {}",
                    get(n)
                );
            }
        }
        o.push_str("# HELP cartseq_request_duration_seconds Time to answer a request, by route.\n");
        o.push_str("# TYPE cartseq_request_duration_seconds histogram\n");
        for (r, s) in ROUTES.iter().zip(&self.routes) {
            for (b, le) in s.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    o,
                    "cartseq_request_duration_seconds_bucket{{route=\"{r}\",le=\"{le}\"}} {}",
                    get(b)
                );
            }
            let count = get(&s.count);
            let _ = writeln!(
                o,
                "cartseq_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                o,
                "cartseq_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                get(&s.sum_micros) as f64 / 1e6
            );
            let _ = writeln!(
                o,
                "cartseq_request_duration_seconds_count{{route=\"{r}\"}} {count}"
            );
        }
        let mut simple = |name: &str, kind: &str, help: &str, v: u64| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        };
        simple(
            "cartseq_sessions",
            "gauge",
            "Sessions and users held.",
            g.sessions as u64,
        );
        simple(
            "cartseq_sessions_evicted_total",
            "counter",
            "Sessions dropped because the store was full (LRU).",
            g.evicted,
        );
        simple(
            "cartseq_sessions_expired_total",
            "counter",
            "Sessions dropped after being idle for longer than the TTL.",
            g.expired,
        );
        simple(
            "cartseq_events_total",
            "counter",
            "Events accepted by /v1/events.",
            get(&self.events),
        );
        simple(
            "cartseq_unknown_items_total",
            "counter",
            "Items in requests that the model does not know (ignored).",
            get(&self.unknown_items),
        );
        simple(
            "cartseq_online_clicks_learnt_total",
            "counter",
            "Clicks learnt online by the current model (--learn-online).",
            g.learnt,
        );
        simple(
            "cartseq_panics_total",
            "counter",
            "Panics caught and answered with a JSON 500.",
            get(&self.panics),
        );
        o.push_str("# HELP cartseq_reloads_total Model reloads, by result.\n");
        o.push_str("# TYPE cartseq_reloads_total counter\n");
        let _ = writeln!(
            o,
            "cartseq_reloads_total{{result=\"ok\"}} {}\ncartseq_reloads_total{{result=\"failed\"}} {}",
            get(&self.reloads_ok),
            get(&self.reloads_failed)
        );
        o.push_str("# HELP cartseq_model_version Version of each loaded model (1 at start, +1 per reload).\n");
        o.push_str("# TYPE cartseq_model_version gauge\n");
        for (model, kind, precision, version, items) in &g.models {
            let _ = writeln!(
                o,
                "cartseq_model_version{{model=\"{model}\",kind=\"{kind}\",precision=\"{precision}\",items=\"{items}\"}} {version}"
            );
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.record("/v1/recommend", 200, Duration::from_micros(300));
        m.record("/v1/recommend", 422, Duration::from_millis(30));
        m.record("/nowhere", 404, Duration::from_millis(1));
        let g = Gauges {
            sessions: 3,
            evicted: 0,
            expired: 0,
            models: vec![("nextitem", "gru".into(), "f32", 2, 10)],
            learnt: 0,
        };
        let t = m.render(&g);
        assert!(t.contains("cartseq_requests_total{route=\"/v1/recommend\",code=\"2xx\"} 1"));
        assert!(t.contains("cartseq_requests_total{route=\"/v1/recommend\",code=\"4xx\"} 1"));
        assert!(t.contains("cartseq_requests_total{route=\"other\",code=\"4xx\"} 1"));
        assert!(t.contains("route=\"/v1/recommend\",le=\"0.0005\"} 1"));
        assert!(t.contains("route=\"/v1/recommend\",le=\"0.05\"} 2"));
        assert!(t.contains("route=\"/v1/recommend\",le=\"+Inf\"} 2"));
        assert!(t.contains("cartseq_sessions 3"));
        assert!(t.contains("kind=\"gru\",precision=\"f32\",items=\"10\"} 2"));
    }
}
