//! Messages a user can act on, one support syntax, RFC 4180 CSV and the cosmetic fixes of issue 17:
//! each test is named after the bug it pins and failed before its fix.

use crate::support::{assert_contains_all, cartseq, read, stats_json, temp_file, tempdir, Csv};

const TAOBAO: &str = "data/samples/taobao_sample.csv";

/// The one `error:` line of a failed run's stderr.
fn error_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line in:\n{stderr}"))
}

#[test]
fn a_missing_input_names_the_os_reason_once() {
    for words in [
        "stats /nonexistent/x.csv",
        "stats /nonexistent/x.csv --preset taobao",
    ] {
        let r = cartseq(words).failure();
        let line = error_line(&r.stderr);
        assert_eq!(
            line, "error: /nonexistent/x.csv: No such file or directory (os error 2)",
            "{words}"
        );
    }
    let r = cartseq("stats data --preset taobao").failure();
    assert_eq!(
        error_line(&r.stderr).matches("Is a directory").count(),
        1,
        "{}",
        r.stderr
    );
}

/// A tiny feature CSV: a header, then `rows` train/test rows of two features; `bad` replaces the
/// given physical line (1-based) when set.
fn feature_csv(rows: usize, bad: Option<(usize, &str)>) -> String {
    let mut lines = vec!["user_id,split,label,n_view,n_cart".to_string()];
    for i in 0..rows {
        let split = if i % 3 == 0 { "test" } else { "train" };
        lines.push(format!("u{i},{split},{},{},{}", i % 2, i % 7, i % 5));
    }
    if let Some((line, text)) = bad {
        lines[line - 1] = text.to_string();
    }
    lines.join("\n") + "\n"
}

#[test]
fn feature_csv_errors_name_the_physical_line() {
    // CRLF line ends (pandas on Windows): the line above the bad one was named.
    let crlf = feature_csv(120, Some((101, "u,train,0,1,x"))).replace('\n', "\r\n");
    let (dir, csv) = temp_file("f.csv", crlf);
    let r = cartseq("train --model prior -o")
        .arg(dir.path().join("m.json"))
        .arg(&csv)
        .failure();
    assert!(
        error_line(&r.stderr).contains("f.csv:101: column 5 (n_cart)"),
        "{}",
        r.stderr
    );
    // A short row too.
    std::fs::write(&csv, feature_csv(50, Some((40, "u,train,0,1")))).unwrap();
    let r = cartseq("train --model prior -o")
        .arg(dir.path().join("m.json"))
        .arg(&csv)
        .failure();
    assert!(error_line(&r.stderr).contains("f.csv:40"), "{}", r.stderr);
}

#[test]
fn eval_names_what_it_cannot_read_without_debug_formatting() {
    let dir = tempdir();
    let csv = dir.path().join("features.csv");
    std::fs::write(&csv, feature_csv(60, None)).unwrap();
    let model = dir.path().join("m.json");
    cartseq("train --model prior -q -o")
        .arg(&model)
        .arg(&csv)
        .success();
    // A folder given as the model file: its path is in the message.
    let r = cartseq("eval").arg(dir.path()).arg(&csv).failure();
    assert!(
        error_line(&r.stderr).contains(&dir.path().display().to_string()),
        "{}",
        r.stderr
    );
    // Other feature columns: named plainly, no `Some("…")`.
    let other = dir.path().join("other.csv");
    std::fs::write(&other, feature_csv(60, None).replace("n_cart", "n_fav")).unwrap();
    let r = cartseq("eval").arg(&model).arg(&other).failure();
    let line = error_line(&r.stderr);
    assert!(!line.contains("Some("), "{line}");
    assert_contains_all(line, &["\"n_fav\"", "\"n_cart\""]);
}

#[test]
fn options_are_blamed_by_the_names_the_user_typed() {
    cartseq(
        "nextitem --train data/samples/yoochoose_train_tr_sample.txt --test data/samples/yoochoose_valid_sample.txt \
         --preset yoochoose --model gru --hidden 0",
    )
    .fails_with("--hidden");
    let dir = tempdir();
    let csv = dir.path().join("features.csv");
    std::fs::write(&csv, feature_csv(60, None)).unwrap();
    let r = cartseq("train --model bag --base prior --bag-size 0 -o")
        .arg(dir.path().join("m.json"))
        .arg(&csv)
        .failure();
    assert!(
        error_line(&r.stderr).contains("--bag-size") && !r.stderr.contains("n_estimators"),
        "{}",
        r.stderr
    );
    // The explosion advice names the flag that bounds a pattern's length.
    let r = cartseq("mine data/samples/SIGN.txt --min-support 0.3 --max-patterns 10 -q").failure();
    assert!(
        r.stderr.contains("--max-items") && !r.stderr.contains("--max-len"),
        "{}",
        r.stderr
    );
    let r = cartseq(
        "rules data/samples/SIGN.txt --kind pattern --min-support 0.3 --min-confidence 0 --max-patterns 10 -q",
    )
    .failure();
    assert!(r.stderr.contains("--max-size"), "{}", r.stderr);
}

#[test]
fn one_support_syntax_with_exponents_in_every_command() {
    let mine = |support: &str| {
        cartseq("mine data/samples/contextPrefixSpan.txt -q --format spmf --min-support")
            .arg(support)
            .success()
            .stdout
    };
    let by_count =
        cartseq("mine data/samples/contextPrefixSpan.txt -q --format spmf --min-count 3")
            .success()
            .stdout;
    assert_eq!(mine("#3"), by_count);
    assert_eq!(mine("5e-1"), mine("0.5"));
    assert_eq!(mine("50%"), mine("0.5"));
    // A tiny fraction is a threshold of one sequence, not an error.
    assert_eq!(
        mine("1e-12"),
        cartseq("mine data/samples/contextPrefixSpan.txt -q --format spmf --min-count 1")
            .success()
            .stdout
    );
    for cmd in ["itemsets", "rules"] {
        for support in ["#3", "1e-2", "1%"] {
            cartseq(cmd)
                .words("data/samples/retail_basket_sample.txt --preset basket -q --min-support")
                .arg(support)
                .success();
        }
    }
    cartseq("mine data/samples/contextPrefixSpan.txt --min-support 2e0")
        .fails_with("a count such as #50");
}

#[test]
fn quoted_fields_with_line_breaks_are_read_by_every_csv_preset() {
    let text = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\r\n\
                536365,85123A,\"WHITE HANGING\r\nHEART, \"\"T-LIGHT\"\"\",6,12/1/2010 8:26,2.55,17850,United Kingdom\r\n\
                536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom\r\n";
    let (_d, path) = temp_file("retail.csv", text);
    let s = stats_json(&path, "--preset online-retail");
    assert_eq!(s["log"]["events"], 2, "{s}");
    let generic = "user,item,action\n\"u\n1\",a,view\nu2,\"b\nc\",buy\n";
    let (_d, path) = temp_file("g.csv", generic);
    let s = stats_json(
        &path,
        "--preset generic --user-col user --item-col item --action-col action",
    );
    assert_eq!(s["log"]["events"], 2, "{s}");
    assert_eq!(s["log"]["users"], 2, "{s}");
}

#[test]
fn stats_lists_actions_in_funnel_order_and_counts_in_words() {
    // Actions first met as view, fav, buy, cart_add; one buy; one stamp far before the rest.
    let mut log = String::new();
    for i in 0..2000u64 {
        let action = ["pv", "fav", "pv", "cart"][(i % 4) as usize];
        log.push_str(&format!(
            "{},{},1,{action},{}\n",
            i % 50,
            100 + i % 3,
            1_511_000_000 + i * 60
        ));
    }
    log.push_str("7,100,1,buy,1505000000\n");
    let (_d, path) = temp_file("t.csv", log);
    let out = cartseq("stats --preset taobao").arg(&path).success().stdout;
    let actions: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("events per action"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(actions, ["view", "cart_add", "fav", "buy"], "{out}");
    assert!(out.contains(" 1 buy ") || out.contains(" 1 buy\n"), "{out}");
    assert!(!out.contains(" 1 buys"), "{out}");
    // The lone September stamp is pointed out.
    assert_contains_all(&out, &["1 event outside", "--from/--to"]);
}

#[test]
fn convert_numbers_spmf_items_from_one_and_names_stay_attached() {
    let dir = tempdir();
    let spmf = dir.path().join("t.txt");
    cartseq("convert")
        .arg(TAOBAO)
        .words("--preset taobao --token action:item -q -o")
        .arg(&spmf)
        .success();
    let text = read(&spmf);
    let min = text
        .split_whitespace()
        .filter_map(|t| t.parse::<i64>().ok())
        .filter(|&v| v >= 0)
        .min()
        .unwrap();
    assert_eq!(min, 1, "SPMF items are positive integers");
    // Mining the converted file gives the same named patterns as mining the log.
    let direct = cartseq("mine")
        .arg(TAOBAO)
        .words("--preset taobao --token action:item --min-count 3 -q")
        .success()
        .stdout;
    let converted = cartseq("mine")
        .arg(&spmf)
        .words("--min-count 3 -q")
        .success()
        .stdout;
    assert_eq!(Csv::parse(&converted).rows, Csv::parse(&direct).rows);
    assert!(
        direct.contains("cart_add:") || direct.contains("view:"),
        "{direct}"
    );
}

#[test]
fn rules_csv_prints_equal_measures_equally() {
    let r = cartseq("rules")
        .arg(TAOBAO)
        .words("--preset taobao --kind association --min-support #2 --min-confidence 0 -q")
        .success();
    let t = Csv::parse(&r.stdout);
    assert!(!t.rows.is_empty());
    for row in &t.rows {
        for cell in &row[7..] {
            // No binary noise such as 756.7500000000001 or 0.30000000000000004.
            let digits = cell.trim_start_matches('-').replace('.', "");
            let digits = digits.split('e').next().unwrap().trim_start_matches('0');
            assert!(digits.len() <= 15, "{cell} in {row:?}");
        }
    }
}

#[test]
fn train_prints_no_empty_parentheses_and_param_help_needs_no_output() {
    let dir = tempdir();
    let csv = dir.path().join("features.csv");
    std::fs::write(&csv, feature_csv(60, None)).unwrap();
    let r = cartseq("train --model dt --param help").arg(&csv).success();
    assert!(r.stdout.contains("max_depth"), "{}", r.stdout);
    let r = cartseq("train --model stack --base prior,nb --meta logreg -o")
        .arg(dir.path().join("s.json"))
        .arg(&csv)
        .success();
    assert!(!r.stderr.contains("()"), "{}", r.stderr);
    let r = cartseq("train --model logreg --param max_iter=1 --json -o")
        .arg(dir.path().join("l.json"))
        .arg(&csv)
        .success();
    assert_eq!(r.json()["converged"], false);
}

#[test]
fn render_report_refuses_a_missing_report_instead_of_rendering_nothing() {
    let dir = tempdir();
    let r = crate::support::bash(
        &format!(
            "bash '{}' report.html out.png",
            crate::support::repo_root()
                .join("benches/render_report.sh")
                .display()
        ),
        dir.path(),
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&dir.path().join("report.html").display().to_string()),
        "{}",
        r.stderr
    );
}
