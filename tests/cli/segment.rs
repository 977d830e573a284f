//! End-to-end: `cartseq segment` on the shipped Taobao sample — runs, is byte-identical for a seed
//! whatever `--threads`, `--apply` gives back the fitted segments, reads the matrix it exports, and
//! refuses bad input with one line.

use crate::support::{assert_contains_all, cartseq, read, temp_file, tempdir, u64s, Csv};

const SAMPLE: &str = "segment data/samples/taobao_sample.csv --preset taobao -q --tsne-iter 300";

#[test]
fn segments_the_sample_and_profiles_every_segment() {
    let dir = tempdir();
    let out = dir.path().join("seg.csv");
    let svg = dir.path().join("seg.svg");
    let run = cartseq(SAMPLE)
        .words("--k 2..5 --json -o")
        .arg(&out)
        .arg("--svg")
        .arg(&svg)
        .success();
    let j = run.json();
    let k = j["k"].as_u64().unwrap() as usize;
    assert!((2..=5).contains(&k));
    // A silhouette for every k tried, exact on 200 rows; k is the best one.
    let per_k = j["per_k"].as_array().unwrap();
    assert_eq!(per_k.len(), 4);
    let best = per_k
        .iter()
        .map(|r| r["silhouette"].as_f64().unwrap())
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(j["silhouette"]["score"].as_f64().unwrap(), best);
    assert_eq!(j["silhouette"]["computed"], "exact");
    let sizes = u64s(&j["sizes"]);
    assert_eq!(sizes.iter().sum::<u64>(), j["rows"].as_u64().unwrap());
    assert!(
        sizes.windows(2).all(|w| w[0] >= w[1]),
        "segments numbered by size"
    );
    // PCA keeps at least 90 % of the variance.
    assert!(j["pca"]["explained_variance_kept"].as_f64().unwrap() >= 0.9);
    for seg in j["segments"].as_array().unwrap() {
        assert!(seg["funnel"]["viewed_pairs"].as_u64().unwrap() > 0);
        assert!(!seg["separating"].as_array().unwrap().is_empty());
        assert!(!seg["top_items"].as_array().unwrap().is_empty());
        for p in seg["patterns"].as_array().unwrap() {
            assert!(p["support_in"].as_f64().unwrap() > p["support_out"].as_f64().unwrap());
        }
    }
    let csv = Csv::read(&out);
    assert_eq!(
        csv.header,
        ["user_id", "segment", "pc1", "pc2", "tsne_x", "tsne_y"]
    );
    assert_eq!(csv.rows.len() as u64, j["rows"].as_u64().unwrap());
    assert!(read(&dir.path().join("seg.csv.manifest.json")).contains("\"command\": \"segment\""));
    let svg = read(&svg);
    assert!(svg.starts_with("<svg") && svg.contains("segment 0 ("));
}

#[test]
fn patterns_and_rules_describe_two_rows_or_more_at_any_k() {
    // With --k 60 on 200 rows many segments hold one row. Their patterns were that row's own history:
    // at support 1 the top-k's ties are every subsequence of it, rules "supported by 1 row" had lifts of
    // 13, and --k 150 took 127 s and 3.9 GB. A pattern or rule now needs two rows of its segment.
    let j = cartseq(SAMPLE).words("--k 60 --json").success().json();
    let segments = j["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 60);
    let mut singletons = 0;
    for seg in segments {
        let size = seg["size"].as_u64().unwrap();
        let rules = seg["rules"].as_array().unwrap();
        for r in rules {
            assert!(r["support"].as_u64().unwrap() >= 2, "{r}");
        }
        for p in seg["patterns"].as_array().unwrap() {
            let rows_in = p["support_in"].as_f64().unwrap() * size as f64;
            assert!(rows_in >= 1.5, "{p} in a segment of {size}");
        }
        if size == 1 {
            singletons += 1;
            assert!(rules.is_empty() && seg["patterns"].as_array().unwrap().is_empty());
        }
    }
    assert!(singletons > 0, "the case needs one-row segments");
}

#[test]
fn same_seed_same_bytes_for_any_thread_count_and_apply_gives_the_same_segments() {
    let dir = tempdir();
    let path = |n: &str| dir.path().join(n);
    for (t, name) in [("1", "a.csv"), ("3", "b.csv")] {
        cartseq(SAMPLE)
            .words("--k 2..4 --seed 7 --threads")
            .arg(t)
            .arg("-o")
            .arg(path(name))
            .arg("--save-model")
            .arg(path(&format!("{name}.model.json")))
            .success();
    }
    let (a, b) = (read(&path("a.csv")), read(&path("b.csv")));
    assert_eq!(
        a, b,
        "t-SNE coordinates and segments identical for 1 and 3 threads"
    );
    cartseq("segment data/samples/taobao_sample.csv --preset taobao -q --apply")
        .arg(path("a.csv.model.json"))
        .arg("-o")
        .arg(path("applied.csv"))
        .success();
    let fitted = Csv::read(&path("a.csv"));
    let applied = Csv::read(&path("applied.csv"));
    assert_eq!(fitted.rows.len(), applied.rows.len());
    for (f, a) in fitted.rows.iter().zip(&applied.rows) {
        assert_eq!(f[..4], a[..4], "id, segment and PCA coordinates");
    }
}

#[test]
fn feature_csv_input_and_other_methods() {
    let dir = tempdir();
    let m = dir.path().join("m.csv");
    cartseq("segment data/samples/taobao_sample.csv --preset taobao -q --k 3 --tsne-sample 0 --matrix-out")
        .arg(&m)
        .success();
    // The exported matrix segments to the same answer as the log (same rows, same numbers).
    let from_log = cartseq(
        "segment data/samples/taobao_sample.csv --preset taobao -q --k 3 --tsne-sample 0 --json",
    )
    .success()
    .json();
    let from_csv = cartseq("segment -q --k 3 --tsne-sample 0 --json")
        .arg(&m)
        .success()
        .json();
    assert_eq!(from_log["sizes"], from_csv["sizes"]);
    assert_eq!(
        from_log["per_k"][0]["inertia"],
        from_csv["per_k"][0]["inertia"]
    );
    let gmm = cartseq("segment -q --method gmm --k 2..3 --tsne-sample 0 --json")
        .arg(&m)
        .success()
        .json();
    assert_eq!(gmm["per_k"].as_array().unwrap().len(), 2);
    let db = cartseq("segment -q --method dbscan --eps 4 --min-points 5 --tsne-sample 0 --json")
        .arg(&m)
        .success()
        .json();
    let total = u64s(&db["sizes"]).iter().sum::<u64>() + db["noise"].as_u64().unwrap();
    assert_eq!(total, db["rows"].as_u64().unwrap());
    let pats = cartseq(SAMPLE)
        .words("--represent features+patterns --patterns 5 --k 2 --tsne-sample 0 --json")
        .success()
        .json();
    assert_eq!(pats["pca"]["columns"].as_u64().unwrap(), 56 + 15);
}

#[test]
fn bad_input_is_one_line_and_no_panic() {
    let one_line = |stderr: &str| {
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    };
    // NaN in an embedding CSV: file, line, column.
    let (_d, nan) = temp_file("e.csv", "split,session,e0,e1\ntrain,a,1,2\ntrain,b,NaN,3\n");
    let r = cartseq("segment -q --k 2").arg(&nan).failure();
    one_line(&r.stderr);
    assert_contains_all(&r.stderr, &["e.csv:3:3", "finite"]);
    let (_d2, inf) = temp_file("f.csv", "id,x\na,1\nb,inf\nc,2\n");
    let r = cartseq("segment -q --k 2").arg(&inf).failure();
    one_line(&r.stderr);
    // Fewer rows than k.
    let (_d3, few) = temp_file("few.csv", "id,x,y\na,1,2\nb,2,1\nc,3,5\n");
    let r = cartseq("segment -q --k 2..8").arg(&few).failure();
    one_line(&r.stderr);
    assert!(
        r.stderr.contains("3 rows cannot form 8 segments"),
        "{}",
        r.stderr
    );
    // Identical rows: every column constant.
    let (_d4, same) = temp_file("same.csv", "id,x,y\na,1,2\nb,1,2\nc,1,2\nd,1,2\n");
    let r = cartseq("segment -q --k 2").arg(&same).failure();
    one_line(&r.stderr);
    assert!(r.stderr.contains("constant"), "{}", r.stderr);
    // Options are checked before anything is read.
    let r = cartseq("segment no-such-file.csv -q --k 5..2").failure();
    one_line(&r.stderr);
    assert!(r.stderr.contains("--k"), "{}", r.stderr);
    let r = cartseq("segment data/samples/taobao_sample.csv --preset taobao -q --pca-var 1.5")
        .failure();
    assert!(r.stderr.contains("--pca-var"), "{}", r.stderr);
    // A model applied to other columns.
    let dir = tempdir();
    let model = dir.path().join("m.json");
    cartseq("segment -q --k 2 --tsne-sample 0 --save-model")
        .arg(&model)
        .arg(&few)
        .success();
    let (_d5, other) = temp_file("other.csv", "id,a\nx,1\ny,2\n");
    let r = cartseq("segment -q --apply")
        .arg(&model)
        .arg(&other)
        .failure();
    one_line(&r.stderr);
    assert!(r.stderr.contains("columns"), "{}", r.stderr);
}

#[test]
fn inconsistent_saved_models_are_refused_when_read() {
    // Found while adding the `segment_model` fuzz target: `--apply` trusted the file's shapes and
    // panicked (index out of bounds, ndarray shape mismatch) on a hand-edited or damaged model. Each
    // mutation of the committed seed model (k-means, 2 segments, 9 columns, 6 PCA components) must be
    // a one-line error naming the file.
    let seed = crate::support::repo_root().join("fuzz/corpus/segment_model/kmeans");
    let model: serde_json::Value = serde_json::from_str(&read(&seed)).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 5] = [
        ("scaler means", |m| {
            m["scaler"]["mean"].as_array_mut().unwrap().pop();
        }),
        ("segments", |m| m["k"] = serde_json::json!(3)),
        ("k-means centres", |m| {
            m["cluster"]["centroids"]["dim"] = serde_json::json!([3, 4]);
            m["cluster"]["centroids"]["data"] = serde_json::Value::from(vec![0.0; 12]);
        }),
        ("PCA", |m| {
            m["pca"]["components"]["dim"] = serde_json::json!([1, 54]);
        }),
        ("no segments", |m| {
            m["k"] = serde_json::json!(0);
            m["cluster"]["centroids"]["dim"] = serde_json::json!([0, 6]);
            m["cluster"]["centroids"]["data"] = serde_json::json!([]);
        }),
    ];
    for (what, edit) in edits {
        let mut m = model.clone();
        edit(&mut m);
        let (_dir, path) = temp_file("m.json", m.to_string());
        let r = cartseq("segment data/samples/taobao_sample.csv --preset taobao -q --apply")
            .arg(&path)
            .failure();
        assert_eq!(r.code, Some(2), "{what}: {}", r.stderr);
        assert!(r.stderr.contains("m.json"), "{what}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
    }
}
