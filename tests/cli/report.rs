//! End-to-end: `cartseq report` on the shipped Taobao sample writes one self-contained HTML file.

use crate::support::{cartseq, read, tempdir};

#[test]
fn report_is_self_contained_and_complete() {
    let dir = tempdir();
    let out = dir.path().join("report.html");
    cartseq(
        "report data/samples/taobao_sample.csv --preset taobao --task purchase \
         --pattern-features 5 --pattern-tokens action --models prior,logreg,rf,stack,lstm \
         --base rf,logreg --epochs 2 --bootstrap 50 --quiet -o",
    )
    .arg(&out)
    .success();
    let html = read(&out);
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    for section in [
        "1. Data",
        "2. Patterns and rules",
        "3. Leaderboard",
        "4. Feature importances",
        "5. Training curves",
        "6. Do the pattern features help?",
    ] {
        assert!(html.contains(section), "missing section {section}");
    }
    for chart in [
        "ROC curve",
        "Precision–recall",
        "Calibration",
        "Action funnel",
        "lstm training",
        "pat00",
    ] {
        assert!(html.contains(chart), "missing {chart}");
    }
    // No scripts and no external resources: the only URL is the SVG namespace.
    assert!(!html.contains("<script"));
    let urls = html.matches("http").count();
    assert_eq!(urls, html.matches("http://www.w3.org/2000/svg").count());
}
