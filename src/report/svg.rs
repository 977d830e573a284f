//! Small hand-written SVG charts for the HTML report: line charts (ROC, PR, calibration, training
//! curves) and horizontal bar charts (funnel, importances). Plain SVG 1.1 text, no scripts, no fonts to
//! download, so the report stays one self-contained file.

use std::fmt::Write;

/// Series colours (Okabe–Ito, readable for colour-blind readers).
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
];

/// Escapes text for HTML/SVG.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One line of a line chart.
pub struct Series {
    /// Legend name.
    pub name: String,
    /// Points `(x, y)`.
    pub points: Vec<(f64, f64)>,
}

/// Axis ranges of a line chart.
pub struct Axes {
    /// x range.
    pub x: (f64, f64),
    /// y range.
    pub y: (f64, f64),
    /// x label.
    pub x_label: String,
    /// y label.
    pub y_label: String,
    /// Draw the y = x diagonal (ROC, calibration).
    pub diagonal: bool,
    /// Draw markers at the points (calibration, training curves).
    pub markers: bool,
    /// The x axis counts whole units (epochs): ticks only at whole numbers.
    pub x_whole: bool,
}

/// A line chart of `series`, 420 × 320 pixels.
pub fn line_chart(title: &str, axes: &Axes, series: &[Series]) -> String {
    let (w, h) = (420.0, 320.0);
    let (l, r, t, b) = (52.0, 12.0, 28.0, 44.0);
    let (pw, ph) = (w - l - r, h - t - b);
    let span = |a: (f64, f64)| if a.1 > a.0 { a.1 - a.0 } else { 1.0 };
    let sx = |x: f64| l + (x - axes.x.0) / span(axes.x) * pw;
    let sy = |y: f64| t + ph - (y - axes.y.0) / span(axes.y) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">"#
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="16" text-anchor="middle" font-size="13" font-weight="bold">{}</text>"#,
        w / 2.0,
        esc(title)
    );
    let _ = write!(
        s,
        r##"<rect x="{l}" y="{t}" width="{pw}" height="{ph}" fill="#fff" stroke="#999"/>"##
    );
    let x_ticks: Vec<f64> = if axes.x_whole {
        let (a, b) = (axes.x.0.ceil() as i64, axes.x.1.floor() as i64);
        let step = ((b - a) as f64 / 4.0).ceil().max(1.0) as usize;
        (a..=b).step_by(step).map(|v| v as f64).collect()
    } else {
        (0..=4)
            .map(|i| axes.x.0 + i as f64 / 4.0 * span(axes.x))
            .collect()
    };
    for xv in x_ticks {
        let x = sx(xv);
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{t}" x2="{x:.1}" y2="{:.1}" stroke="#eee"/>"##,
            t + ph
        );
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            t + ph + 14.0,
            fmt_tick(xv)
        );
    }
    for i in 0..=4 {
        let f = i as f64 / 4.0;
        let yv = axes.y.0 + f * span(axes.y);
        let y = sy(yv);
        let _ = write!(
            s,
            r##"<line x1="{l}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/>"##,
            l + pw
        );
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            l - 4.0,
            y + 4.0,
            fmt_tick(yv)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        l + pw / 2.0,
        h - 8.0,
        esc(&axes.x_label)
    );
    let _ = write!(
        s,
        r#"<text x="12" y="{:.1}" text-anchor="middle" transform="rotate(-90 12 {:.1})">{}</text>"#,
        t + ph / 2.0,
        t + ph / 2.0,
        esc(&axes.y_label)
    );
    if axes.diagonal {
        let _ = write!(
            s,
            r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#bbb" stroke-dasharray="4 3"/>"##,
            sx(axes.x.0),
            sy(axes.y.0),
            sx(axes.x.1),
            sy(axes.y.1)
        );
    }
    for (k, se) in series.iter().enumerate() {
        let c = PALETTE[k % PALETTE.len()];
        let pts: Vec<String> = se
            .points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{c}" stroke-width="1.8" points="{}"/>"#,
            pts.join(" ")
        );
        if axes.markers {
            for p in &pts {
                let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
                let _ = write!(s, r#"<circle cx="{x}" cy="{y}" r="2.6" fill="{c}"/>"#);
            }
        }
        // Legend, top-left inside the plot, one line per series.
        let ly = t + 14.0 + 14.0 * k as f64;
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="10" height="3" fill="{c}"/>"#,
            l + 8.0,
            ly - 4.0
        );
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{ly:.1}">{}</text>"#,
            l + 22.0,
            esc(&se.name)
        );
    }
    s.push_str("</svg>");
    s
}

fn fmt_tick(v: f64) -> String {
    if v.abs() >= 100.0 || (v.fract() == 0.0 && v.abs() >= 1.0) {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// One bar of a horizontal bar chart.
pub struct Bar {
    /// Label left of the bar.
    pub label: String,
    /// Value (non-negative).
    pub value: f64,
    /// Drawn in the highlight colour (pattern features).
    pub highlight: bool,
    /// Text right of the bar (defaults to the value).
    pub note: Option<String>,
}

/// A horizontal bar chart, 640 pixels wide, 20 pixels per bar.
pub fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let label_w = 230.0;
    let (w, row) = (640.0, 20.0);
    let h = 30.0 + row * bars.len() as f64 + 8.0;
    let max = bars
        .iter()
        .map(|b| b.value)
        .fold(0.0f64, f64::max)
        .max(1e-12);
    let bw = w - label_w - 190.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">"#
    );
    let _ = write!(
        s,
        r#"<text x="4" y="16" font-size="13" font-weight="bold">{}</text>"#,
        esc(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 28.0 + row * i as f64;
        let len = (b.value / max * bw).max(0.0);
        let fill = if b.highlight { "#D55E00" } else { "#0072B2" };
        let mut label = b.label.clone();
        if label.chars().count() > 38 {
            label = label.chars().take(37).collect::<String>() + "…";
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            label_w - 6.0,
            y + 13.0,
            esc(&label)
        );
        let _ = write!(
            s,
            r#"<rect x="{label_w}" y="{:.1}" width="{len:.1}" height="{:.1}" fill="{fill}"/>"#,
            y + 3.0,
            row - 6.0
        );
        let note = b.note.clone().unwrap_or_else(|| format!("{:.4}", b.value));
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            label_w + len + 4.0,
            y + 13.0,
            esc(&note)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_plain_svg_with_escaped_text() {
        let a = Axes {
            x: (0.0, 1.0),
            y: (0.0, 1.0),
            x_label: "x".into(),
            y_label: "y".into(),
            diagonal: true,
            markers: true,
            x_whole: false,
        };
        let s = line_chart(
            "a<b",
            &a,
            &[Series {
                name: "m&n".into(),
                points: vec![(0.0, 0.0), (1.0, 1.0)],
            }],
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(
            s.contains("a&lt;b")
                && s.contains("m&amp;n")
                && !s.contains("http://www.w3.org/1999/xlink")
        );
        let b = bar_chart(
            "t",
            &[Bar {
                label: "pat00_count".into(),
                value: 2.0,
                highlight: true,
                note: None,
            }],
        );
        assert!(b.contains("#D55E00") && b.contains("2.0000"));
    }
}
