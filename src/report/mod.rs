//! The self-contained HTML report of `cartseq report`: one file, inline CSS and SVG, no scripts and no
//! network. Sections: data summary and action funnel; frequent patterns and "A then B" rules; the
//! discriminative patterns chosen as features; the leaderboard with ROC, precision–recall and
//! calibration plots; feature importances (pattern features in orange); training curves of the neural
//! models; the with/without-patterns ablation with bootstrap intervals.
//!
//! [`build`] computes the data sections from the log and the experiment; this module renders them.

pub mod build;
pub mod svg;

use std::fmt::Write;

use svg::{bar_chart, esc, line_chart, Axes, Bar, Series};

use crate::ablation::{is_pattern_column, AblationRow};
use crate::featurizer::ChosenPattern;

/// Data summary.
pub struct DataSummary {
    /// Input file name.
    pub input: String,
    /// Events, users, products, categories.
    pub counts: Vec<(String, u64)>,
    /// First and last event time (formatted).
    pub span: (String, String),
    /// Funnel: action name and number of events.
    pub funnel: Vec<(String, u64)>,
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
    /// Training curve: (epoch, train loss, valid loss).
    pub history: Option<Vec<(f64, f64, Option<f64>)>>,
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
}

const CSS: &str = "body{font-family:sans-serif;max-width:1180px;margin:24px auto;padding:0 16px;color:#222}\
h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;border-bottom:2px solid #0072B2;padding-bottom:3px;margin-top:32px}\
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}\
th{background:#f0f4f8}td.l,th.l{text-align:left}.muted{color:#666;font-size:13px}.grid{display:flex;flex-wrap:wrap;gap:12px}\
.sig{font-weight:bold;color:#009E73}.pat{color:#D55E00;font-weight:bold}";

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

fn roc_points(y: &[usize], s: &[f64]) -> Vec<(f64, f64)> {
    let mut idx: Vec<usize> = (0..y.len()).collect();
    idx.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    let p = y.iter().filter(|&&c| c == 1).count().max(1) as f64;
    let n = (y.len() as f64 - p).max(1.0);
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut out = vec![(0.0, 0.0)];
    for (k, &i) in idx.iter().enumerate() {
        if y[i] == 1 {
            tp += 1.0
        } else {
            fp += 1.0
        }
        if k + 1 == idx.len() || s[idx[k + 1]] != s[i] {
            out.push((fp / n, tp / p));
        }
    }
    out
}

fn pr_points(y: &[usize], s: &[f64]) -> Vec<(f64, f64)> {
    let mut idx: Vec<usize> = (0..y.len()).collect();
    idx.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    let p = y.iter().filter(|&&c| c == 1).count().max(1) as f64;
    let mut tp = 0.0;
    let mut out = Vec::new();
    for (k, &i) in idx.iter().enumerate() {
        if y[i] == 1 {
            tp += 1.0;
        }
        if k + 1 == idx.len() || s[idx[k + 1]] != s[i] {
            out.push((tp / p, tp / (k + 1) as f64));
        }
    }
    out
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
    let bars: Vec<Bar> = d
        .data
        .funnel
        .iter()
        .map(|(a, n)| Bar {
            label: a.clone(),
            value: *n as f64,
            highlight: false,
            note: Some(format!(
                "{n} ({:.2}% of {})",
                100.0 * *n as f64 / first,
                d.data.funnel[0].0
            )),
        })
        .collect();
    let _ = write!(
        h,
        "<div>{}</div></div>",
        bar_chart("Action funnel (events per action)", &bars)
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
    let pos = d.y_test.iter().filter(|&&c| c == 1).count();
    let _ = write!(
        h,
        "<h2>3. Leaderboard</h2><p class=muted>{} test rows ({} positive). Every model is fitted on the same training rows.</p>",
        d.y_test.len(),
        pos
    );
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
    let scored: Vec<&ModelResult> = d.models.iter().filter(|m| m.scores.is_some()).collect();
    if !scored.is_empty() {
        let unit = |xl: &str, yl: &str, diagonal: bool, markers: bool| Axes {
            x: (0.0, 1.0),
            y: (0.0, 1.0),
            x_label: xl.into(),
            y_label: yl.into(),
            diagonal,
            markers,
            x_whole: false,
        };
        #[allow(clippy::type_complexity)] // a curve function per model
        let series = |f: &dyn Fn(&[f64]) -> Vec<(f64, f64)>| -> Vec<Series> {
            scored
                .iter()
                .map(|m| Series {
                    name: m.name.clone(),
                    points: f(m.scores.as_deref().unwrap_or(&[])),
                })
                .collect()
        };
        h.push_str("<div class=grid>");
        h.push_str(&line_chart(
            "ROC curve (test)",
            &unit("false positive rate", "true positive rate", true, false),
            &series(&|s| roc_points(&d.y_test, s)),
        ));
        h.push_str(&line_chart(
            "Precision–recall (test)",
            &unit("recall", "precision", false, false),
            &series(&|s| pr_points(&d.y_test, s)),
        ));
        h.push_str(&line_chart(
            "Calibration: observed vs predicted",
            &unit(
                "mean predicted P(positive)",
                "observed positive rate",
                true,
                true,
            ),
            &series(&|s| calibration(&d.y_test, s)),
        ));
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
        h.push_str(&bar_chart(
            &format!("{} — top 20 (pattern features in orange)", m.name),
            &bars,
        ));
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
            let mut series = vec![Series {
                name: "train loss".into(),
                points: hist.iter().map(|&(e, t, _)| (e, t)).collect(),
            }];
            let valid: Vec<(f64, f64)> = hist
                .iter()
                .filter_map(|&(e, _, v)| v.map(|v| (e, v)))
                .collect();
            if !valid.is_empty() {
                series.push(Series {
                    name: "validation loss".into(),
                    points: valid,
                });
            }
            let ys = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
            let (lo, hi) = ys.fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(y), b.max(y)));
            let pad = ((hi - lo) * 0.1).max(1e-3);
            let axes = Axes {
                x: (1.0, hist.len().max(2) as f64),
                y: ((lo - pad).max(0.0), hi + pad),
                x_label: "epoch".into(),
                y_label: "loss".into(),
                diagonal: false,
                markers: true,
                x_whole: true,
            };
            h.push_str(&line_chart(&format!("{} training", m.name), &axes, &series));
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
    h.push_str("<p class=muted>Generated by cartseq. Self-contained: no scripts, no external resources.</p></body></html>\n");
    h
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
        let roc = roc_points(&y, &p);
        assert_eq!(roc.first(), Some(&(0.0, 0.0)));
        assert_eq!(roc.last(), Some(&(1.0, 1.0)));
        let pr = pr_points(&y, &p);
        assert_eq!(pr[0], (0.5, 1.0));
    }
}
