//! The self-contained HTML report of `cartseq report`: one file, inline CSS and SVG, no scripts and no
//! network. Sections: data summary and action funnel; frequent patterns and "A then B" rules; the
//! discriminative patterns chosen as features; the leaderboard with ROC, precision–recall and
//! calibration plots; feature importances (pattern features in orange); training curves of the neural
//! models; the with/without-patterns ablation with bootstrap intervals.
//!
//! [`build`] computes the data sections from the log and the experiment; this module renders them.
//! Every chart comes from [`crate::charts`] (plotters' SVG backend, the same code that draws the
//! leaderboard's files), pasted inline: plotters writes a bare `<svg>` element with no XML prolog, so
//! no hand-written SVG is needed here.

pub mod build;

use std::fmt::Write;

use cartseq_models::nn::EpochRecord;

use crate::ablation::{is_pattern_column, AblationRow};
use crate::charts::{self, Bar, Curve, REPORT_SIZE};
use crate::featurizer::ChosenPattern;
use crate::stats::Funnel;

/// Data summary.
pub struct DataSummary {
    /// Input file name.
    pub input: String,
    /// Events, users, products, categories.
    pub counts: Vec<(String, u64)>,
    /// First and last event time (formatted).
    pub span: (String, String),
    /// Events per action, in funnel order (view, cart, favourite, buy, others).
    pub funnel: Vec<(String, u64)>,
    /// The view → cart → buy funnel over distinct (user, item) pairs, as `cartseq stats` counts it.
    pub pairs: Funnel,
}

/// A frequent pattern or rule line.
pub struct PatternLine {
    /// The pattern or rule in words.
    pub text: String,
    /// Support (sequences).
    pub support: u64,
    /// Relative support.
    pub rel_support: f64,
    /// Confidence (rules only).
    pub confidence: Option<f64>,
}

/// One model's results.
pub struct ModelResult {
    /// Name.
    pub name: String,
    /// ROC-AUC, PR-AUC, F1, accuracy, log loss (missing = NaN).
    pub metrics: [f64; 5],
    /// Fit seconds.
    pub fit_seconds: f64,
    /// P(positive) on the test rows (binary tasks).
    pub scores: Option<Vec<f64>>,
    /// Feature importances (by feature name), when the model has them.
    pub importances: Option<Vec<(String, f64)>>,
    /// Training history of a neural model, one record per epoch.
    pub history: Option<Vec<EpochRecord>>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// Everything the report shows.
pub struct ReportData {
    /// Title line.
    pub title: String,
    /// Task description lines.
    pub task_lines: Vec<String>,
    /// Data summary.
    pub data: DataSummary,
    /// Frequent sequential patterns.
    pub frequent: Vec<PatternLine>,
    /// Rules.
    pub rules: Vec<PatternLine>,
    /// Discriminative patterns used as features.
    pub chosen: Vec<ChosenPattern>,
    /// Class names.
    pub class_names: Vec<String>,
    /// Test labels.
    pub y_test: Vec<usize>,
    /// Models.
    pub models: Vec<ModelResult>,
    /// Ablation rows.
    pub ablation: Option<Vec<AblationRow>>,
    /// Bootstrap replicates of the ablation.
    pub bootstrap: usize,
    /// The "Segments" section (`report --segments`), already rendered by `segment::report_section`.
    pub segments: Option<String>,
}

const CSS: &str = "body{font-family:sans-serif;max-width:1180px;margin:24px auto;padding:0 16px;color:#222}\
h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;border-bottom:2px solid #0072B2;padding-bottom:3px;margin-top:32px}\
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}\
th{background:#f0f4f8}td.l,th.l{text-align:left}.muted{color:#666;font-size:13px}.warn{color:#a15c00;font-size:13px}.grid{display:flex;flex-wrap:wrap;gap:12px}\
.sig{font-weight:bold;color:#009E73}.pat{color:#D55E00;font-weight:bold}";

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An inline chart, or the error that prevented drawing it, as HTML.
fn chart_html(svg: anyhow::Result<String>) -> String {
    svg.unwrap_or_else(|e| format!("<p class=muted>{}</p>", esc(&format!("{e:#}"))))
}

fn f4(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4}")
    } else {
        "n/a".into()
    }
}

/// Calibration points: 10 equal-width bins of predicted probability, (mean predicted, observed rate).
pub fn calibration(y: &[usize], p: &[f64]) -> Vec<(f64, f64)> {
    let mut sum = [0.0f64; 10];
    let mut pos = [0.0f64; 10];
    let mut n = [0usize; 10];
    for (&c, &v) in y.iter().zip(p) {
        let b = ((v * 10.0) as usize).min(9);
        sum[b] += v;
        pos[b] += f64::from(u8::from(c == 1));
        n[b] += 1;
    }
    (0..10)
        .filter(|&b| n[b] > 0)
        .map(|b| (sum[b] / n[b] as f64, pos[b] / n[b] as f64))
        .collect()
}

fn pattern_table(h: &mut String, title: &str, rows: &[PatternLine], rules: bool) {
    let _ = write!(h, "<h3>{}</h3>", esc(title));
    if rows.is_empty() {
        h.push_str("<p class=muted>none found</p>");
        return;
    }
    h.push_str("<table><tr><th class=l>");
    h.push_str(if rules { "rule" } else { "pattern" });
    h.push_str("</th><th>support</th><th>rel. support</th>");
    if rules {
        h.push_str("<th>confidence</th>");
    }
    h.push_str("</tr>");
    for r in rows {
        let _ = write!(
            h,
            "<tr><td class=l>{}</td><td>{}</td><td>{:.3}</td>",
            esc(&r.text),
            r.support,
            r.rel_support
        );
        if let Some(c) = r.confidence {
            let _ = write!(h, "<td>{c:.3}</td>");
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
}

/// The leaderboard's ROC, precision–recall and calibration panels of the models' test scores. A
/// curve that is undefined on these rows (ROC with one class, precision–recall without a positive
/// row) is not drawn; its panel says why instead.
fn score_panels(y: &[usize], scores: &[(&str, &[f64])]) -> [charts::Panel; 3] {
    let positive: Vec<bool> = y.iter().map(|&c| c == 1).collect();
    let mut roc = charts::roc_panel("ROC curve (test)", charts::roc_curves(&positive, scores));
    if roc.curves.is_empty() {
        roc.note = Some("undefined: the test rows have one class".into());
    }
    let mut pr = charts::pr_panel(
        "Precision–recall (test)",
        charts::pr_curves(&positive, scores),
    );
    if pr.curves.is_empty() {
        pr.note = Some("undefined: no positive test row".into());
    }
    let calibration = scores
        .iter()
        .map(|&(name, s)| Curve {
            name: name.to_owned(),
            points: calibration(y, s),
        })
        .collect();
    [
        roc,
        pr,
        charts::calibration_panel("Calibration: observed vs predicted", calibration),
    ]
}

/// The view → cart → buy funnel over distinct (user, item) pairs, with conversion rates.
fn pair_funnel_table(f: &Funnel) -> String {
    let pct = |r: Option<f64>| r.map_or("n/a".to_owned(), |r| format!("{:.2}%", 100.0 * r));
    let rows = [
        ("viewed", f.viewed_pairs, String::new()),
        (
            "added to cart",
            f.carted_pairs,
            format!("view→cart {}", pct(f.view_to_cart)),
        ),
        (
            "bought",
            f.bought_pairs,
            format!(
                "cart→buy {}, view→buy {}",
                pct(f.cart_to_buy),
                pct(f.view_to_buy)
            ),
        ),
        (
            "carted, never bought",
            f.carted_never_bought,
            format!("{} of carted", pct(f.carted_never_bought_share())),
        ),
    ];
    let mut h = String::from(
        "<table><tr><th class=l>funnel (distinct user–item pairs)</th><th>pairs</th><th class=l>conversion</th></tr>",
    );
    for (stage, n, rate) in rows {
        let _ = write!(
            h,
            "<tr><td class=l>{stage}</td><td>{n}</td><td class=l>{}</td></tr>",
            esc(&rate)
        );
    }
    h.push_str("</table>");
    h
}

/// Renders the report.
pub fn render(d: &ReportData) -> String {
    let mut h = String::with_capacity(200_000);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{}</title><style>{CSS}</style></head><body>",
        esc(&d.title)
    );
    let _ = write!(h, "<h1>{}</h1>", esc(&d.title));
    for l in &d.task_lines {
        let _ = write!(h, "<div class=muted>{}</div>", esc(l));
    }

    // 1. Data.
    h.push_str("<h2>1. Data</h2><div class=grid><div><table>");
    let _ = write!(
        h,
        "<tr><th class=l>input</th><td class=l>{}</td></tr>",
        esc(&d.data.input)
    );
    for (k, v) in &d.data.counts {
        let _ = write!(h, "<tr><th class=l>{}</th><td>{v}</td></tr>", esc(k));
    }
    let _ = write!(
        h,
        "<tr><th class=l>from</th><td class=l>{}</td></tr><tr><th class=l>to</th><td class=l>{}</td></tr></table></div>",
        esc(&d.data.span.0),
        esc(&d.data.span.1)
    );
    let first = d.data.funnel.first().map_or(1, |f| f.1).max(1) as f64;
    let first_name = d.data.funnel.first().map_or("", |f| f.0.as_str());
    let bars: Vec<Bar> = d
        .data
        .funnel
        .iter()
        .map(|(a, n)| Bar {
            label: a.clone(),
            value: *n as f64,
            highlight: false,
            note: Some(format!(
                "{n} ({:.2}% of {first_name})",
                100.0 * *n as f64 / first
            )),
        })
        .collect();
    let _ = write!(
        h,
        "<div>{}{}</div></div>",
        chart_html(charts::hbars_svg(
            "Action funnel (events per action)",
            640,
            &bars
        )),
        pair_funnel_table(&d.data.pairs)
    );

    // 2. Patterns and rules.
    h.push_str("<h2>2. Patterns and rules</h2><div class=grid><div>");
    pattern_table(
        &mut h,
        "Most frequent sequential patterns (users)",
        &d.frequent,
        false,
    );
    h.push_str("</div><div>");
    pattern_table(&mut h, "\"A then B\" rules", &d.rules, true);
    h.push_str("</div></div>");
    if !d.chosen.is_empty() {
        h.push_str("<h3>Discriminative patterns used as features (chosen on training rows only)</h3><table><tr><th class=l>column</th><th class=l>pattern</th><th>score</th>");
        for c in &d.class_names {
            let _ = write!(h, "<th>train rows with it: {}</th>", esc(c));
        }
        h.push_str("</tr>");
        for c in &d.chosen {
            let _ = write!(
                h,
                "<tr><td class='l pat'>{}</td><td class=l>{}</td><td>{:.4}</td>",
                esc(&c.column),
                esc(&c.pattern),
                c.score
            );
            for s in &c.class_support {
                let _ = write!(h, "<td>{s}</td>");
            }
            h.push_str("</tr>");
        }
        h.push_str("</table>");
    }

    // 3. Leaderboard.
    let _ = write!(
        h,
        "<h2>3. Leaderboard</h2><p class=muted>{} test rows ({}). Every model is fitted on the same training rows.</p>",
        d.y_test.len(),
        esc(&class_counts(&d.y_test, &d.class_names))
    );
    for w in cartseq_models::metrics::sample_warnings(&d.y_test, d.class_names.len().max(2)) {
        let _ = write!(h, "<p class=warn>warning: test split: {}</p>", esc(&w));
    }
    h.push_str("<table><tr><th class=l>model</th><th>ROC-AUC</th><th>PR-AUC</th><th>F1</th><th>accuracy</th><th>log loss</th><th>fit s</th></tr>");
    let best = d
        .models
        .iter()
        .map(|m| m.metrics[0])
        .filter(|v| v.is_finite())
        .fold(f64::MIN, f64::max);
    for m in &d.models {
        if let Some(e) = &m.error {
            let _ = write!(
                h,
                "<tr><td class=l>{}</td><td class=l colspan=6>failed: {}</td></tr>",
                esc(&m.name),
                esc(e)
            );
            continue;
        }
        let style = if m.metrics[0] == best {
            " style='font-weight:bold'"
        } else {
            ""
        };
        let _ = write!(h, "<tr{style}><td class=l>{}</td>", esc(&m.name));
        for v in &m.metrics {
            let _ = write!(h, "<td>{}</td>", f4(*v));
        }
        let _ = write!(h, "<td>{:.3}</td></tr>", m.fit_seconds);
    }
    h.push_str("</table>");
    let scores: Vec<(&str, &[f64])> = d
        .models
        .iter()
        .filter_map(|m| Some((m.name.as_str(), m.scores.as_deref()?)))
        .collect();
    if !scores.is_empty() {
        h.push_str("<div class=grid>");
        for panel in score_panels(&d.y_test, &scores) {
            h.push_str(&chart_html(charts::panels_svg(REPORT_SIZE, None, &[panel])));
        }
        h.push_str("</div><p class=muted>Calibration: test rows in 10 equal-width bins of predicted probability; points on the dashed diagonal are perfectly calibrated.</p>");
    }

    // 4. Importances.
    h.push_str("<h2>4. Feature importances</h2>");
    let mut any = false;
    h.push_str("<div class=grid>");
    for m in &d.models {
        let Some(imp) = &m.importances else { continue };
        any = true;
        let mut v: Vec<&(String, f64)> = imp.iter().collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let bars: Vec<Bar> = v
            .iter()
            .take(20)
            .map(|(n, x)| Bar {
                label: n.clone(),
                value: *x,
                highlight: is_pattern_column(n),
                note: None,
            })
            .collect();
        h.push_str(&chart_html(charts::hbars_svg(
            &format!("{} — top 20 (pattern features in orange)", m.name),
            640,
            &bars,
        )));
    }
    h.push_str("</div>");
    if !any {
        h.push_str("<p class=muted>No model in this run reports importances (trees, forests and boosting do).</p>");
    }

    // 5. Neural training curves.
    h.push_str("<h2>5. Training curves of the neural models</h2>");
    let curves: Vec<&ModelResult> = d.models.iter().filter(|m| m.history.is_some()).collect();
    if curves.is_empty() {
        h.push_str("<p class=muted>No neural model in this run (add lstm or gru to --models).</p>");
    } else {
        h.push_str("<div class=grid>");
        for m in curves {
            let hist = m.history.as_deref().unwrap_or(&[]);
            let title = format!("{} training", m.name);
            h.push_str(&chart_html(charts::training_svg(
                REPORT_SIZE,
                &title,
                hist,
                None,
            )));
        }
        h.push_str("</div>");
    }

    // 6. Ablation.
    h.push_str("<h2>6. Do the pattern features help? (ablation)</h2>");
    match &d.ablation {
        None => h.push_str(
            "<p class=muted>Not run (needs a binary task and --pattern-features K &gt; 0).</p>",
        ),
        Some(rows) => {
            let _ = write!(
                h,
                "<p class=muted>Each model fitted with and without the pattern columns on the same split; differences are with − without on the test rows, with paired-bootstrap 95% intervals ({} replicates). <span class=sig>Green</span>: the interval excludes 0.</p>",
                d.bootstrap
            );
            h.push_str("<table><tr><th class=l>model</th><th>ROC-AUC with</th><th>without</th><th>difference</th><th>95% CI</th><th>F1 with</th><th>without</th><th>difference</th><th>95% CI</th></tr>");
            for r in rows {
                if r.diffs.len() < 2 {
                    let _ = write!(
                        h,
                        "<tr><td class=l>{}</td><td class=l colspan=8>{}</td></tr>",
                        esc(&r.model),
                        esc(r.error.as_deref().unwrap_or("n/a"))
                    );
                    continue;
                }
                let _ = write!(h, "<tr><td class=l>{}</td>", esc(&r.model));
                for c in &r.diffs[..2] {
                    let cls = if c.significant() { " class=sig" } else { "" };
                    let _ = write!(
                        h,
                        "<td>{}</td><td>{}</td><td{cls}>{:+.4}</td><td{cls}>[{:+.4}, {:+.4}]</td>",
                        f4(c.a),
                        f4(c.b),
                        c.diff,
                        c.lo,
                        c.hi
                    );
                }
                h.push_str("</tr>");
            }
            h.push_str("</table>");
        }
    }
    if let Some(seg) = &d.segments {
        h.push_str(seg);
    }
    h.push_str("<p class=muted>Generated by cartseq. Self-contained: no scripts, no external resources.</p></body></html>\n");
    h
}

/// `12 positive` for a binary task (class 1 is the positive one), `view 40, cart 6, …` for more
/// classes: a multi-class task has no "positive" class.
pub fn class_counts(y: &[usize], class_names: &[String]) -> String {
    let k = class_names.len().max(2);
    let mut counts = vec![0usize; k];
    for &c in y {
        if c < k {
            counts[c] += 1;
        }
    }
    if k == 2 {
        return format!("{} positive", counts[1]);
    }
    counts
        .iter()
        .enumerate()
        .map(|(c, n)| {
            let name = class_names
                .get(c)
                .map_or_else(|| c.to_string(), String::clone);
            format!("{name} {n}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_bins_and_curves() {
        let y = [0, 1, 0, 1];
        let p = [0.05, 0.95, 0.15, 0.85];
        let c = calibration(&y, &p);
        assert_eq!(c.len(), 4);
        assert_eq!(c[0], (0.05, 0.0));
        let [roc, pr, cal] = score_panels(&y, &[("m", &p)]);
        let roc = &roc.curves[0].points;
        assert_eq!(roc.first(), Some(&(0.0, 0.0)));
        assert_eq!(roc.last(), Some(&(1.0, 1.0)));
        assert!(pr.curves[0].points.contains(&(0.5, 1.0)));
        assert_eq!(cal.curves[0].points, c);
    }

    fn report_with_test_labels(y_test: Vec<usize>) -> ReportData {
        let n = y_test.len();
        ReportData {
            title: "t".into(),
            task_lines: Vec::new(),
            data: DataSummary {
                input: "in.csv".into(),
                counts: vec![("events".into(), 3)],
                span: ("a".into(), "b".into()),
                funnel: vec![("view".into(), 3)],
                pairs: Funnel {
                    view_events: 3,
                    cart_add_events: 0,
                    buy_events: 0,
                    viewed_pairs: 2,
                    carted_pairs: 0,
                    bought_pairs: 0,
                    view_to_cart: Some(0.0),
                    cart_to_buy: None,
                    view_to_buy: Some(0.0),
                    carted_never_bought: 0,
                    users_viewing: 1,
                    users_carting: 0,
                    users_buying: 0,
                },
            },
            frequent: Vec::new(),
            rules: Vec::new(),
            chosen: Vec::new(),
            class_names: vec!["no".into(), "yes".into()],
            y_test,
            models: vec![ModelResult {
                name: "scorer".into(),
                metrics: [f64::NAN; 5],
                fit_seconds: 0.0,
                scores: Some((0..n).map(|i| i as f64 / n as f64).collect()),
                importances: None,
                history: None,
                error: None,
            }],
            ablation: None,
            bootstrap: 0,
            segments: None,
        }
    }

    /// The ROC chart of `scorer` in a rendered report.
    fn roc_chart(html: &str) -> &str {
        let at = html.find("ROC curve (test)").expect("ROC chart");
        let end = at + html[at..].find("</svg>").expect("end of chart");
        &html[at..end]
    }

    /// A test set with one class has no ROC curve: the chart says "undefined" and draws no line
    /// (an earlier version drew a flat line from rates divided by max(count, 1)).
    #[test]
    fn one_class_test_set_has_undefined_roc() {
        let html = render(&report_with_test_labels(vec![0, 0, 0, 0]));
        let roc = roc_chart(&html);
        assert!(roc.contains("undefined: the test rows have one class"));
        assert!(!roc.contains("scorer"), "no curve and no legend entry");
        assert!(html.contains("undefined: no positive test row"));
        // The calibration chart is still defined and shows the model.
        let cal = &html[html.find("Calibration: observed").expect("calibration")..];
        assert!(cal.contains("scorer"));

        let html = render(&report_with_test_labels(vec![0, 1, 0, 1]));
        let roc = roc_chart(&html);
        assert!(roc.contains("scorer") && !roc.contains("undefined"));
    }
}
