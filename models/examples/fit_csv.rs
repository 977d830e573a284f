//! Fits one model (`ModelSpec::from_cli`) on a cartseq feature CSV and prints test metrics and timings as one JSON
//! line — the cartseq side of `benches/peers/sklearn_baselines.py` (same models, same hyper-parameters,
//! same output fields).
//!
//! Input: `id,split,label,feature…` (what `cartseq task` exports); trains on `split = train` rows, scores
//! `split = test` rows. Labels are mapped to classes in sorted order (numerically when they are all
//! integers), as scikit-learn's `classes_`. The CSV is parsed by hand: the models crate has no CSV
//! dependency.
//!
//! ```sh
//! cargo run --release -p cartseq-models --example fit_csv -- FEATURES.csv --model rf [--param k=v …] [--bench-params]
//! ```
//! `--bench-params` applies the benchmark hyper-parameters of [`bench_params`] (those of the sklearn
//! script) before any `--param`.

use std::io::BufRead;
use std::time::Instant;

use cartseq_models::{metrics, Classifier, Dataset, ModelSpec};
use ndarray::Array2;

/// The hyper-parameters both sides of the benchmark use.
fn bench_params(model: &str) -> &'static [&'static str] {
    match model {
        "logreg" => &["c=1", "max_iter=200"],
        "dt" => &["max_depth=12", "min_samples_leaf=5"],
        "rf" => &[
            "n_trees=100",
            "max_depth=16",
            "min_samples_leaf=5",
            "max_features=sqrt",
        ],
        "ada" => &["n_estimators=100", "max_depth=1", "learning_rate=1"],
        "gbdt" => &[
            "n_estimators=100",
            "learning_rate=0.1",
            "max_leaves=31",
            "min_samples_leaf=20",
            "l2=0",
            "max_bins=255",
            "early_stopping=false",
        ],
        "linsvm" => &["c=1", "max_iter=1000", "tol=1e-3"],
        "svm" => &["c=1", "gamma=scale"],
        _ => &[],
    }
}

/// RBF-SVM training rows (first rows of the train split), as the sklearn script.
const SVM_MAX_ROWS: usize = 20_000;

struct Table {
    train_x: Vec<f64>,
    train_y: Vec<String>,
    test_x: Vec<f64>,
    test_y: Vec<String>,
    names: Vec<String>,
}

fn read(path: &str) -> Result<Table, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut lines = std::io::BufReader::with_capacity(1 << 20, f).lines();
    let header = lines
        .next()
        .ok_or(format!("{path}: empty file"))?
        .map_err(|e| e.to_string())?;
    let cols: Vec<String> = header.split(',').map(|s| s.trim().to_string()).collect();
    if cols.len() < 4 || cols[1] != "split" || cols[2] != "label" {
        return Err(format!(
            "{path}: expected columns id,split,label,features…; found {:?}",
            &cols[..cols.len().min(4)]
        ));
    }
    let d = cols.len() - 3;
    let mut t = Table {
        train_x: vec![],
        train_y: vec![],
        test_x: vec![],
        test_y: vec![],
        names: cols[3..].to_vec(),
    };
    for (ln, line) in lines.enumerate() {
        let line = line.map_err(|e| e.to_string())?;
        let mut it = line.split(',');
        let _id = it.next();
        let split = it.next().unwrap_or("");
        let label = it.next().unwrap_or("").to_string();
        let (xs, ys) = match split {
            "train" => (&mut t.train_x, &mut t.train_y),
            "test" => (&mut t.test_x, &mut t.test_y),
            _ => continue,
        };
        let before = xs.len();
        for (j, v) in it.enumerate() {
            let v = if v.is_empty() {
                Ok(f64::NAN)
            } else {
                v.parse::<f64>()
            };
            xs.push(v.map_err(|_| {
                format!("{path}:{}: column {} is not a number", ln + 2, cols[j + 3])
            })?);
        }
        if xs.len() - before != d {
            return Err(format!(
                "{path}:{}: expected {d} features, found {}",
                ln + 2,
                xs.len() - before
            ));
        }
        ys.push(label);
    }
    Ok(t)
}

fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("fit_csv: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut path = None;
    let mut model = "rf".to_string();
    let mut params: Vec<String> = Vec::new();
    let mut bench = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--model" => {
                i += 1;
                model = args.get(i).cloned().ok_or("--model needs a value")?;
            }
            "--param" => {
                i += 1;
                params.push(args.get(i).cloned().ok_or("--param needs k=v")?);
            }
            "--bench-params" => bench = true,
            p => path = Some(p.to_string()),
        }
        i += 1;
    }
    let path =
        path.ok_or("usage: fit_csv FEATURES.csv --model NAME [--param k=v …] [--bench-params]")?;
    let mut all: Vec<String> = if bench {
        bench_params(&model).iter().map(|s| s.to_string()).collect()
    } else {
        vec![]
    };
    all.extend(params);
    let spec = ModelSpec::from_cli(&model, &all).map_err(|e| e.to_string())?;

    let t = read(&path)?;
    let d = t.names.len();
    // Classes: sorted, numerically when every label is an integer (scikit-learn's np.unique).
    let mut labels: Vec<String> = t.train_y.iter().chain(&t.test_y).cloned().collect();
    labels.sort_by(|a, b| match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    });
    labels.dedup();
    let class = |s: &String| labels.iter().position(|l| l == s).unwrap_or(0);
    let k = labels.len().max(2);
    let mut n_train = t.train_y.len();
    if model == "svm" && n_train > SVM_MAX_ROWS {
        n_train = SVM_MAX_ROWS;
    }
    let xtr = Array2::from_shape_vec((n_train, d), t.train_x[..n_train * d].to_vec())
        .map_err(|e| e.to_string())?;
    let ytr = t.train_y[..n_train].iter().map(class).collect();
    let mut train = Dataset::new(xtr, ytr, k).map_err(|e| e.to_string())?;
    train.feature_names = t.names.clone();
    let n_test = t.test_y.len();
    let xte = Array2::from_shape_vec((n_test, d), t.test_x).map_err(|e| e.to_string())?;
    let yte: Vec<usize> = t.test_y.iter().map(class).collect();
    let test = Dataset::new(xte, yte.clone().into(), k).map_err(|e| e.to_string())?;

    let t0 = Instant::now();
    let fitted = spec.fit(&train).map_err(|e| e.to_string())?;
    let fit_s = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let proba = fitted.predict_proba(&test).map_err(|e| e.to_string())?;
    let predict_s = t0.elapsed().as_secs_f64();
    let r = metrics::report(&yte, proba.view());
    let out = serde_json::json!({
        "tool": "cartseq",
        "model": model,
        "params": all,
        "roc_auc": r.roc_auc.map(|v| (v * 1e6).round() / 1e6),
        "f1": (r.f1 * 1e6).round() / 1e6,
        "fit_s": (fit_s * 1e4).round() / 1e4,
        "predict_s": (predict_s * 1e4).round() / 1e4,
        "peak_mb": (peak_mb() * 10.0).round() / 10.0,
        "n_train": n_train,
        "n_test": n_test,
        "threads": rayon::current_num_threads(),
    });
    println!("{out}");
    Ok(())
}
