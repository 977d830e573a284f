//! End-to-end tests of `cartseq serve` (and `cartseq compress`): every test starts the built binary on
//! an ephemeral loopback port (`--addr 127.0.0.1:0`; the bound address is read from its stdout), talks
//! HTTP to it and stops it with SIGTERM (graceful shutdown, exit 0). Covered: offline = online parity
//! (a test log replayed through `/v1/events` + `/v1/recommend` gives the batch Recall@k and MRR@k of
//! `cartseq nextitem`, for every kind from pop to srgnn and a hybrid), classifier scores equal to
//! `cartseq eval --predictions` (the Taobao sample replayed as full events), `/v1/next` equal to
//! `cartseq next`, hot reload with a bad file (kept model) and SIGHUP, LRU eviction and TTL expiry,
//! the JSON error shapes, online learning (pop, markov, sknn, vsknn, sr) against a batch fit, and int8
//! compression.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::nextitem::metric;
use crate::support::{assert_contains_all, cartseq, tempdir, BIN};

const TRAIN: &str = "data/samples/yoochoose_train_tr_sample.txt";
const TEST: &str = "data/samples/yoochoose_valid_sample.txt";

/// A running server, stopped (SIGTERM) when dropped if the test did not stop it.
struct Server {
    child: Option<Child>,
    base: String,
    agent: ureq::Agent,
}

impl Server {
    /// Starts `cartseq serve --addr 127.0.0.1:0 -q ARGS…` and waits for its address.
    fn start<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> Server {
        let mut child = Command::new(BIN)
            .current_dir(crate::support::repo_root())
            .args(["serve", "--addr", "127.0.0.1:0", "-q"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cartseq serve");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the address");
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let out = child.wait_with_output().expect("exit");
            panic!(
                "serve did not start: {line:?}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        assert!(addr.starts_with("http://127.0.0.1:"), "{addr}");
        Server {
            child: Some(child),
            base: addr.to_owned(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
        }
    }

    /// Starts `cartseq serve FLAG MODEL EXTRA…` on a saved model (`--nextitem` or `--classifier`).
    fn with_model(flag: &str, model: &Path, extra: &[&str]) -> Server {
        let mut args = vec![OsString::from(flag), model.into()];
        args.extend(extra.iter().map(OsString::from));
        Server::start(args)
    }

    /// Sends a request; returns the status and the body.
    fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        let req = self.agent.request(method, &format!("{}{path}", self.base));
        let res = match body {
            Some(b) => req.set("content-type", "application/json").send_string(b),
            None => req.call(),
        };
        match res {
            Ok(r) => (r.status(), r.into_string().expect("body")),
            Err(ureq::Error::Status(code, r)) => (code, r.into_string().expect("body")),
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    /// POSTs JSON; returns the status and the parsed answer.
    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (code, text) = self.call("POST", path, Some(&body.to_string()));
        (code, parse(&text))
    }

    /// Sends a signal to the server.
    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("run kill");
        assert!(ok.success());
    }

    /// Stops the server with SIGTERM and expects a clean exit within 10 s.
    fn stop(mut self) {
        self.signal("-TERM");
        let mut child = self.child.take().expect("running");
        let t0 = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                assert!(status.success(), "serve exited with {status}");
                return;
            }
            assert!(t0.elapsed() < Duration::from_secs(10), "serve did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `nextitem --save-model` of one model kind on the sample; returns the batch report.
fn save_model(model: &str, train: &Path, test: &Path, out: &Path) -> Value {
    cartseq(&format!(
        "nextitem --preset yoochoose --model {model} --epochs 2 --hidden 16 --k 10,20 --json -q"
    ))
    .arg("--train")
    .arg(train)
    .arg("--test")
    .arg(test)
    .arg("--save-model")
    .arg(out)
    .json()
}

/// A server of `model` ([`save_model`] on the training sample, tested on the first 200 lines of the
/// test sample) started with `serve --nextitem MODEL EXTRA…`, and the directory holding the file.
fn serve_sample_model(model: &str, extra: &[&str]) -> (tempfile::TempDir, Server) {
    let s = Sample::new(200);
    let (path, _) = s.save(model, &format!("{model}.json"));
    let server = Server::with_model("--nextitem", &path, extra);
    (s.dir, server)
}

/// A fresh directory holding `test.txt`, the first lines of the test sample, and the models saved
/// from the training sample.
struct Sample {
    /// The folder.
    dir: tempfile::TempDir,
    /// The training sample.
    train: PathBuf,
    /// `DIR/test.txt`.
    test: PathBuf,
}

impl Sample {
    /// A sample whose test file holds the first `test_lines` lines of the test sample.
    fn new(test_lines: usize) -> Sample {
        let dir = tempdir();
        let root = crate::support::repo_root();
        let text = std::fs::read_to_string(root.join(TEST)).expect("sample");
        let mut out: String = text.lines().take(test_lines).collect::<Vec<_>>().join("\n");
        out.push('\n');
        let test = dir.path().join("test.txt");
        std::fs::write(&test, out).expect("write");
        Sample {
            dir,
            train: root.join(TRAIN),
            test,
        }
    }

    /// `DIR/name`.
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// [`save_model`] of `model` on this sample into `DIR/file`: that path and the batch report.
    fn save(&self, model: &str, file: &str) -> (PathBuf, Value) {
        let path = self.path(file);
        let report = save_model(model, &self.train, &self.test, &path);
        (path, report)
    }
}

/// The sessions of a `SessionId ItemId Time` file, clicks ordered by time (stable).
fn sessions(path: &Path) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(path).expect("test log");
    let clicks = text.lines().skip(1).enumerate().map(|(n, line)| {
        let f: Vec<&str> = line.split('\t').collect();
        let t: f64 = f[2].parse().expect("time");
        (f[0].to_owned(), (t, n, f[1].to_owned()))
    });
    group_in_order(clicks)
        .into_iter()
        .map(|(s, mut c)| {
            c.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            (s, c.into_iter().map(|x| x.2).collect())
        })
        .collect()
}

/// `(key, value)` pairs grouped by key: keys in the order of their first pair, values in input order.
fn group_in_order<T>(pairs: impl IntoIterator<Item = (String, T)>) -> Vec<(String, Vec<T>)> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: std::collections::HashMap<String, Vec<T>> = Default::default();
    for (key, value) in pairs {
        let group = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            Vec::new()
        });
        group.push(value);
    }
    order
        .into_iter()
        .map(|key| {
            let group = groups.remove(&key).expect("group");
            (key, group)
        })
        .collect()
}

/// Pessimistic rank of `target` from a served top list (1 + others scoring at least as high), or
/// `None` when it is not in the list. The list must be long enough to hold every item tied with the
/// target (asserted), which is why the test asks for 200 items to decide ranks up to 20.
fn rank_in(list: &[Value], target: &str) -> Option<usize> {
    let pos = list.iter().position(|x| x["item"] == target)?;
    let s = list[pos]["score"].as_f64().expect("score");
    let last = list[list.len() - 1]["score"].as_f64().expect("score");
    if pos < 20 {
        assert!(
            last < s,
            "a tie group at the target's score runs past the served list"
        );
    }
    Some(
        1 + list
            .iter()
            .enumerate()
            .filter(|(j, x)| *j != pos && x["score"].as_f64().expect("score") >= s)
            .count(),
    )
}

/// Offline = online: replaying the test log click by click through `/v1/events` and asking
/// `/v1/recommend` after each click gives the Recall@k and MRR@k that `cartseq nextitem` computed in
/// batch for the same saved model, for every model kind whose scores do not tie at the cut-off.
#[test]
fn replaying_a_log_online_gives_the_batch_metrics() {
    let s = Sample::new(1200);
    for model in [
        "gru",
        "sknn",
        "iknn",
        "markov",
        "vsknn",
        "sr",
        "srgnn",
        "hybrid:markov+sknn",
    ] {
        let (path, batch) = s.save(model, &format!("{model}.json"));
        let server = Server::with_model("--nextitem", &path, &[]);
        let (mut hits, mut rr) = ([0u64; 2], [0f64; 2]);
        let mut predictions = 0u64;
        for (session, clicks) in sessions(&s.test) {
            let mut pending: Option<Vec<Value>> = None;
            for c in clicks {
                let (code, ev) =
                    server.post("/v1/events", &json!({"session": session, "items": [c]}));
                assert_eq!(code, 200, "{ev}");
                if ev["unknown_items"] == 1 {
                    continue;
                }
                if let Some(list) = pending.take() {
                    predictions += 1;
                    if let Some(r) = rank_in(&list, &c) {
                        for (i, k) in [10, 20].into_iter().enumerate() {
                            if r <= k {
                                hits[i] += 1;
                                rr[i] += 1.0 / r as f64;
                            }
                        }
                    }
                }
                let (code, rec) =
                    server.post("/v1/recommend", &json!({"session": session, "k": 200}));
                assert_eq!(code, 200, "{rec}");
                assert_eq!(rec["model"], model);
                pending = Some(rec["items"].as_array().expect("items").clone());
            }
        }
        server.stop();
        assert_eq!(
            predictions,
            batch["predictions"].as_u64().expect("n"),
            "{model}"
        );
        for (i, k) in [10u64, 20].into_iter().enumerate() {
            let recall = hits[i] as f64 / predictions as f64;
            let mrr = rr[i] / predictions as f64;
            let (br, bm) = (
                metric(&batch, model, "recall", k),
                metric(&batch, model, "mrr", k),
            );
            assert!(
                (recall - br).abs() < 1e-12,
                "{model} Recall@{k}: online {recall}, batch {br}"
            );
            assert!(
                (mrr - bm).abs() < 1e-9,
                "{model} MRR@{k}: online {mrr}, batch {bm}"
            );
        }
    }
}

/// A truncated file, a foreign kind and a missing file keep the old model (422 with the reason); a
/// good file is swapped in by POST /admin/reload and by SIGHUP, and the version goes up.
#[test]
fn hot_reload_keeps_the_old_model_on_a_bad_file() {
    let s = Sample::new(400);
    let (live, _) = s.save("pop", "live.json");
    let (markov, _) = s.save("markov", "markov.json");
    let server = Server::with_model("--nextitem", &live, &[]);
    let ask = json!({"items": ["214716935"], "k": 3});
    let (code, first) = server.post("/v1/recommend", &ask);
    assert_eq!(code, 200, "{first}");
    assert_eq!(
        (first["model"].as_str(), first["model_version"].as_u64()),
        (Some("pop"), Some(1))
    );

    let good = std::fs::read(&live).expect("model");
    let bad_files: Vec<(Vec<u8>, &str)> = vec![
        (good[..good.len() / 2].to_vec(), "truncated"),
        (
            br#"{"magic":"cartseq-model","format_version":1,"kind":"nextitem-foo","model":{}}"#.to_vec(),
            "unknown variant `nextitem-foo`",
        ),
        (b"not json".to_vec(), "not valid JSON"),
        (
            br#"{"magic":"cartseq-model","format_version":1,"kind":"nextitem-pop","model":{"next":{"start":[0,5],"item":[],"weight":[]},"base":[1.0]}}"#.to_vec(),
            "row starts",
        ),
    ];
    for (bytes, why) in bad_files {
        std::fs::write(&live, bytes).expect("write");
        let (code, err) = server.post("/admin/reload", &json!({}));
        assert_eq!(code, 422, "{err}");
        let msg = err["error"]["message"].as_str().expect("message");
        assert_contains_all(msg, &["kept model version 1", why]);
        let (code, again) = server.post("/v1/recommend", &ask);
        assert_eq!(code, 200);
        assert_eq!(again["items"], first["items"]);
        assert_eq!(again["model_version"], 1);
    }
    std::fs::remove_file(&live).expect("remove");
    let (code, err) = server.post("/admin/reload", &json!({}));
    assert_eq!(code, 422, "{err}");
    let (_, health) = server.call("GET", "/healthz", None);
    assert!(parse(&health)["last_reload_error"].is_string(), "{health}");

    std::fs::copy(&markov, &live).expect("copy");
    let (code, ok) = server.post("/admin/reload", &json!({}));
    assert_eq!((code, &ok["model_version"]), (200, &json!(2)), "{ok}");
    let (_, now) = server.post("/v1/recommend", &ask);
    assert_eq!(
        (now["model"].as_str(), now["model_version"].as_u64()),
        (Some("markov"), Some(2))
    );

    // SIGHUP does the same.
    server.signal("-HUP");
    let t0 = Instant::now();
    loop {
        let (_, h) = server.call("GET", "/healthz", None);
        if parse(&h)["model_version"] == 3 {
            assert!(parse(&h)["last_reload_error"].is_null());
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "SIGHUP did not reload: {h}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_, metrics) = server.call("GET", "/metrics", None);
    assert!(
        metrics.contains("cartseq_reloads_total{result=\"failed\"} 5"),
        "{metrics}"
    );
    assert!(
        metrics.contains("cartseq_reloads_total{result=\"ok\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("cartseq_model_version{model=\"nextitem\",kind=\"markov\""));
    server.stop();
}

/// Beyond `--max-sessions` the least recently used session is dropped; an idle session expires after
/// `--session-ttl`; the gauges say so.
#[test]
fn sessions_are_evicted_beyond_the_cap_and_expire() {
    let (_dir, server) = serve_sample_model("pop", &["--max-sessions", "3", "--session-ttl", "1s"]);
    for s in ["a", "b", "c", "d"] {
        let (code, _) = server.post("/v1/events", &json!({"session": s, "items": ["214716935"]}));
        assert_eq!(code, 200);
    }
    let (code, err) = server.post("/v1/recommend", &json!({"session": "a"}));
    assert_eq!(code, 404, "{err}");
    assert_eq!(err["error"]["field"], "session");
    for s in ["b", "c", "d"] {
        assert_eq!(server.post("/v1/recommend", &json!({"session": s})).0, 200);
    }
    let (_, m) = server.call("GET", "/metrics", None);
    assert!(m.contains("\ncartseq_sessions 3\n"), "{m}");
    assert!(m.contains("\ncartseq_sessions_evicted_total 1\n"), "{m}");
    std::thread::sleep(Duration::from_millis(1600));
    assert_eq!(
        server.post("/v1/recommend", &json!({"session": "d"})).0,
        404
    );
    let (_, h) = server.call("GET", "/healthz", None);
    assert_eq!(parse(&h)["sessions"], 0, "{h}");
    server.stop();
}

/// Every refusal is JSON `{"error": {"status", "field", "message"}}` with a 4xx status naming the
/// field; unknown items are ignored and counted; the OpenAPI document lists exactly the routes.
#[test]
fn errors_are_json_and_name_the_field() {
    let (_dir, server) = serve_sample_model(
        "markov",
        &["--max-body", "2000", "--max-request-items", "50"],
    );
    let huge = format!("{{\"items\": [{}]}}", vec!["\"1\""; 600].join(","));
    let many = format!("{{\"items\": [{}]}}", vec!["1"; 60].join(","));
    let many_events = format!(
        "{{\"session\": 1, \"items\": [{}]}}",
        vec!["1"; 60].join(",")
    );
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("POST", "/v1/recommend", "{\"items\": [".into(), 400, "body"),
        ("POST", "/v1/recommend", "".into(), 400, "body"),
        ("POST", "/v1/recommend", "[1, 2]".into(), 400, "body"),
        (
            "POST",
            "/v1/recommend",
            "{\"items\": [\"1\"], \"k\": \"x\"}".into(),
            400,
            "k",
        ),
        (
            "POST",
            "/v1/recommend",
            "{\"items\": [\"1\"], \"k\": 0}".into(),
            400,
            "k",
        ),
        (
            "POST",
            "/v1/recommend",
            "{\"items\": [\"1\"], \"k\": -3}".into(),
            400,
            "k",
        ),
        (
            "POST",
            "/v1/recommend",
            "{\"items\": [\"1\", true]}".into(),
            400,
            "items[1]",
        ),
        (
            "POST",
            "/v1/recommend",
            "{\"items\": [\"1\"], \"colour\": 1}".into(),
            400,
            "colour",
        ),
        (
            "POST",
            "/v1/recommend",
            "{\"session\": \"s\", \"items\": [\"1\"]}".into(),
            400,
            "items",
        ),
        ("POST", "/v1/recommend", "{}".into(), 400, "session"),
        (
            "POST",
            "/v1/recommend",
            "{\"session\": \"never\"}".into(),
            404,
            "session",
        ),
        ("POST", "/v1/recommend", huge.clone(), 413, "body"),
        ("POST", "/v1/recommend", many.clone(), 400, "items"),
        (
            "POST",
            "/v1/events",
            "{\"items\": [\"1\"]}".into(),
            400,
            "session",
        ),
        (
            "POST",
            "/v1/events",
            "{\"session\": {\"a\": 1}, \"items\": []}".into(),
            400,
            "session",
        ),
        (
            "POST",
            "/v1/events",
            "{\"session\": \"s\", \"user\": \"u\", \"items\": []}".into(),
            400,
            "user",
        ),
        (
            "POST",
            "/v1/events",
            "{\"session\": \"s\", \"items\": \"214716935\"}".into(),
            400,
            "items",
        ),
        ("POST", "/v1/events", huge, 413, "body"),
        ("POST", "/v1/events", many_events, 400, "items"),
    ];
    for (method, path, body, status, field) in cases {
        let (code, text) = server.call(method, path, Some(&body));
        let v = parse(&text);
        assert_eq!(code, status, "{path} {body:.80}: {text}");
        assert_eq!(v["error"]["status"], status, "{text}");
        assert_eq!(v["error"]["field"], field, "{path} {body:.80}: {text}");
        assert!(v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    for (method, path, status) in [
        ("GET", "/v1/nothing", 404),
        ("GET", "/v1/recommend", 405),
        ("DELETE", "/healthz", 405),
    ] {
        let (code, text) = server.call(method, path, None);
        assert_eq!(code, status, "{method} {path}: {text}");
        assert!(parse(&text)["error"]["message"].is_string());
    }
    // Unknown items are ignored and counted; integers and strings name the same item.
    let (code, v) = server.post(
        "/v1/recommend",
        &json!({"items": [214716935, "no-such-item"], "k": 5}),
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        (v["clicks_used"].as_u64(), v["unknown_items"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["items"].as_array().map(Vec::len), Some(5));
    let (code, v) = server.post("/v1/recommend", &json!({"items": ["no-such-item"]}));
    assert_eq!(code, 200);
    assert_eq!(v["items"], json!([]));
    let (_, m) = server.call("GET", "/metrics", None);
    assert!(m.contains("\ncartseq_unknown_items_total 2\n"), "{m}");
    assert!(m.contains("cartseq_requests_total{route=\"/v1/recommend\",code=\"4xx\"}"));
    assert!(m.contains("cartseq_panics_total 0"));
    // The OpenAPI document names exactly the routes served, and each answers its method.
    let (code, doc) = server.call("GET", "/openapi.json", None);
    assert_eq!(code, 200);
    let doc = parse(&doc);
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/admin/reload",
            "/healthz",
            "/metrics",
            "/openapi.json",
            "/v1/events",
            "/v1/next",
            "/v1/recommend",
            "/v1/score"
        ]
    );
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for method in ops.as_object().expect("ops").keys() {
            let body = (method == "post").then_some("{}");
            let (code, text) = server.call(&method.to_uppercase(), path, body);
            assert!(
                code != 404 && code != 405 && code < 500,
                "{method} {path}: {code} {text}"
            );
        }
    }
    server.stop();
}

/// `--learn-online`: counts (the sknn and vsknn indexes, the sr rules) updated from /v1/events give
/// the same recommendations as a batch fit on the training log plus the same events, sent as full
/// events with their times (vsknn ranks neighbours by the time of their last click).
#[test]
fn online_counts_equal_a_batch_fit_on_the_same_events() {
    let s = Sample::new(200);
    // New sessions replaying clicks of the first training sessions (items the model knows), the
    // j-th click of each at 1.5e9 + j seconds.
    let extra = sessions(&s.train).into_iter().take(150).collect::<Vec<_>>();
    let time = |j: usize| 1_500_000_000 + j as u64;
    let mut both = std::fs::read_to_string(&s.train).expect("train");
    for (i, (_, clicks)) in extra.iter().enumerate() {
        for (j, c) in clicks.iter().enumerate() {
            both.push_str(&format!("{}\t{c}\t{}.0\n", 90_000_000 + i, time(j)));
        }
    }
    let both_path = s.path("both.txt");
    std::fs::write(&both_path, both).expect("write");
    for model in ["markov", "pop", "sknn", "vsknn", "sr"] {
        let (start, _) = s.save(model, &format!("{model}-start.json"));
        let batch = s.path(&format!("{model}-batch.json"));
        save_model(model, &both_path, &s.test, &batch);
        let online = Server::with_model("--nextitem", &start, &["--learn-online"]);
        let offline = Server::with_model("--nextitem", &batch, &[]);
        let mut learnt = 0;
        for (i, (_, clicks)) in extra.iter().enumerate() {
            let events: Vec<Value> = clicks
                .iter()
                .enumerate()
                .map(|(j, c)| json!({"time": time(j) * 1000, "item": c, "action": "view"}))
                .collect();
            // Half the sessions in one request, half click by click.
            let chunks: Vec<&[Value]> = if i % 2 == 0 {
                vec![&events[..]]
            } else {
                events.chunks(1).collect()
            };
            for events in chunks {
                let (code, v) = online.post(
                    "/v1/events",
                    &json!({"session": format!("n{i}"), "events": events}),
                );
                assert_eq!(code, 200, "{v}");
                learnt += v["learnt"].as_u64().expect("learnt");
            }
        }
        let clicks = extra.iter().map(|s| s.1.len() as u64).sum::<u64>();
        assert_eq!(learnt, clicks);
        let (_, metrics) = online.call("GET", "/metrics", None);
        assert!(
            metrics.contains(&format!("cartseq_online_clicks_learnt_total {clicks}")),
            "{model}: {metrics}"
        );
        for (_, clicks) in sessions(&s.test).iter().take(40) {
            let ask = json!({"items": clicks, "k": 25});
            let (a, b) = (
                online.post("/v1/recommend", &ask),
                offline.post("/v1/recommend", &ask),
            );
            assert_eq!(a.0, 200);
            assert_eq!(a.1["items"], b.1["items"], "{model} after {clicks:?}");
        }
        online.stop();
        offline.stop();
    }
}

/// `compress --int8`: a file ≥ 3.5× smaller that states its precision, close in Recall@20, and
/// served like any model; a non-network model is refused with the reason.
#[test]
fn int8_compression_is_smaller_close_and_servable() {
    let s = Sample::new(1500);
    let (gru, _) = s.save("gru", "gru.json");
    let small = s.path("gru8.json");
    let v = cartseq("compress --int8 --prune 0.2 --json -q --timed-requests 50")
        .arg(&gru)
        .arg("-o")
        .arg(&small)
        .arg("--test")
        .arg(&s.test)
        .json();
    assert!(v["ratio"].as_f64().expect("ratio") >= 3.5, "{v}");
    let c = &v["comparison"];
    let diff = (c["original"]["recall"].as_f64().expect("r")
        - c["compressed"]["recall"].as_f64().expect("r"))
    .abs();
    assert!(diff < 0.03, "{v}");
    // floor(16 × 0.2) = 3 of every 16 weights of a row are pruned, at least.
    assert!(
        v["zero_weights"].as_u64().expect("zeros") * 16 >= 3 * v["weights"].as_u64().expect("w")
    );
    let text = std::fs::read_to_string(&small).expect("small");
    assert_contains_all(
        &text,
        &["\"precision\":\"int8\"", "\"kind\":\"nextitem-int8\""],
    );
    let server = Server::with_model("--nextitem", &small, &[]);
    let (code, r) = server.post(
        "/v1/recommend",
        &json!({"items": ["214716935", "214832672"], "k": 5}),
    );
    assert_eq!(code, 200, "{r}");
    assert_eq!(
        (r["precision"].as_str(), r["model"].as_str()),
        (Some("int8"), Some("gru-int8"))
    );
    assert_eq!(r["items"].as_array().map(Vec::len), Some(5));
    server.stop();
    let (pop, _) = s.save("pop", "pop.json");
    let run = cartseq("compress --int8 -q")
        .arg(&pop)
        .arg("-o")
        .arg(&small)
        .run();
    assert!(
        !run.ok() && run.stderr.contains("only networks"),
        "{}",
        run.stderr
    );
}

/// The Taobao sample's events (`user,item,category,behavior,unix_seconds`) grouped by user, in file
/// order, as `/v1/events` event objects (times in ms).
fn taobao_events() -> Vec<(String, Vec<Value>)> {
    let text = std::fs::read_to_string(crate::support::repo_root().join(TAOBAO)).expect("sample");
    group_in_order(text.lines().map(|line| {
        let f: Vec<&str> = line.split(',').collect();
        let secs: i64 = f[4].parse().expect("time");
        let event = json!({"time": secs * 1000, "item": f[1], "category": f[2], "action": f[3]});
        (f[0].to_owned(), event)
    }))
}

const TAOBAO: &str = "data/samples/taobao_sample.csv";

/// The numbers of the JSON array `"key":[…]` in a response body, parsed from their text (so the test
/// compares the exact shortest round-trip digits the server wrote).
fn raw_numbers(body: &str, key: &str) -> Vec<f64> {
    let start = body
        .find(&format!("\"{key}\":["))
        .unwrap_or_else(|| panic!("no {key} in {body}"))
        + key.len()
        + 4;
    let end = start + body[start..].find(']').expect("array end");
    body[start..end]
        .split(',')
        .map(|x| x.parse().expect("number"))
        .collect()
}

/// Offline = online for classifiers: the Taobao sample's events replayed through `/v1/events` and
/// scored by `/v1/score` at the test cutoff give `cartseq eval --predictions`' probabilities for every
/// test row — bit for bit for a logistic regression and a stack (f64 paths), within 1e-6 for a GRU
/// over the token sequences (f32). The table has pattern columns, so the fitted featurizer runs
/// online too.
#[test]
fn online_scores_equal_eval_predictions() {
    let dir = tempdir();
    let feats = dir.path().join("features.csv");
    cartseq(&format!(
        "task {TAOBAO} --preset taobao --task purchase --horizon 1d --cutoff 2017-12-02 --seq \
         --pattern-features 3 -q -o"
    ))
    .arg(&feats)
    .success();
    let cutoff: i64 = 1_512_172_800_000; // 2017-12-02T00:00:00Z
    let models = [
        ("logreg", "--model logreg", 0.0),
        ("stack", "--model stack --base logreg,dt --meta logreg", 0.0),
        ("gru", "--model gru --param hidden=8 --param epochs=2", 1e-6),
    ];
    let events = taobao_events();
    for (name, args, tol) in models {
        let model = dir.path().join(format!("{name}.json"));
        let preds = dir.path().join(format!("{name}.csv"));
        cartseq(&format!("train {args} -q -o"))
            .arg(&model)
            .arg(&feats)
            .success();
        cartseq("eval -q")
            .arg(&model)
            .arg(&feats)
            .arg("--predictions")
            .arg(&preds)
            .success();
        let server = Server::with_model("--classifier", &model, &["--max-events", "100000"]);
        for (user, ev) in &events {
            let (code, r) = server.post("/v1/events", &json!({"user": user, "events": ev}));
            assert_eq!(code, 200, "{r}");
        }
        let text = std::fs::read_to_string(&preds).expect("predictions");
        let mut rows = 0;
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let offline: Vec<f64> = f[2..].iter().map(|x| x.parse().expect("p")).collect();
            let body = json!({"user": f[0], "at": cutoff}).to_string();
            let (code, answer) = server.call("POST", "/v1/score", Some(&body));
            assert_eq!(code, 200, "{answer}");
            let online = raw_numbers(&answer, "probabilities");
            assert_eq!(online.len(), offline.len(), "{answer}");
            for (a, b) in online.iter().zip(&offline) {
                if tol == 0.0 {
                    assert_eq!(
                        a.to_bits(),
                        b.to_bits(),
                        "{name} user {}: online {a}, eval {b}",
                        f[0]
                    );
                } else {
                    assert!(
                        (a - b).abs() <= tol,
                        "{name} user {}: online {a}, eval {b}",
                        f[0]
                    );
                }
            }
            rows += 1;
        }
        assert!(rows >= 20, "{name}: only {rows} test rows");
        // A user with no event before the time, and an unknown user: errors naming the field.
        let (code, e) = server.post(
            "/v1/score",
            &json!({"events": [{"time": cutoff + 5, "item": "1", "action": "pv"}], "at": cutoff}),
        );
        assert_eq!((code, &e["error"]["field"]), (422, &json!("at")), "{e}");
        let (code, e) = server.post("/v1/score", &json!({"user": "no such user"}));
        assert_eq!((code, &e["error"]["field"]), (404, &json!("user")), "{e}");
        server.stop();
    }
}

/// `GET /v1/next` gives `cartseq next`'s rows (same sequences, same query function) for several
/// queries, and errors name the parameter.
#[test]
fn next_answers_equal_the_next_command() {
    let server = Server::start(["--", TAOBAO, "--preset", "taobao", "--token", "action"]);
    for (query, words) in [
        ("after=view&after=cart_add", "--after view --after cart_add"),
        (
            "after=fav&within=5&sort=lift&top=0",
            "--after fav --within 5 --sort lift --top 0",
        ),
        (
            "after=view&within=1h&sort=confidence",
            "--after view --within 1h --sort confidence",
        ),
    ] {
        let batch = cartseq(&format!(
            "next {TAOBAO} --preset taobao --token action {words} --format jsonl -q"
        ))
        .success()
        .jsonl();
        let (code, text) = server.call("GET", &format!("/v1/next?{query}"), None);
        assert_eq!(code, 200, "{text}");
        let online = parse(&text);
        let rows = online["rows"].as_array().expect("rows");
        assert_eq!(rows.len(), batch.len(), "{query}: {text}");
        assert!(!rows.is_empty(), "{query}");
        for (o, b) in rows.iter().zip(&batch) {
            for k in [
                "rank",
                "token",
                "count",
                "sequences_with_token",
                "confidence",
                "lift",
            ] {
                assert_eq!(o[k], b[k], "{query}: {k}");
            }
            assert_eq!(online["matched"], b["matched"]);
            assert_eq!(online["sequences"], b["sequences"]);
        }
    }
    for (query, field) in [
        ("", "after"),
        ("after=nosuchtoken", "after"),
        ("after=view&top=x", "top"),
        ("after=view&sort=best", "sort"),
        ("after=view&within=0", "within"),
        ("after=view&colour=red", "colour"),
    ] {
        let (code, text) = server.call("GET", &format!("/v1/next?{query}"), None);
        let e = parse(&text);
        assert_eq!(
            (code, &e["error"]["field"]),
            (400, &json!(field)),
            "{query}: {text}"
        );
    }
    server.stop();
}
