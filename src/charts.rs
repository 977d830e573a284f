//! SVG charts (plotters, no fonts or network needed at view time): ROC curves, precision–recall curves
//! and metric bars. Each function returns the SVG document as a string, so the leaderboard writes files
//! and an HTML report can inline the same markup.
//!
//! Cost: linear in the number of curve points; curves longer than [`MAX_POINTS`] are thinned (every k-th
//! point, endpoints kept) so a million-row test set still gives a small file.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Most points drawn per curve.
pub const MAX_POINTS: usize = 2_000;

/// Chart size in pixels.
const SIZE: (u32, u32) = (720, 540);

/// A named curve: `(x, y)` points in drawing order.
#[derive(Clone, Debug, Default)]
pub struct Curve {
    /// Legend label.
    pub name: String,
    /// Points.
    pub points: Vec<(f64, f64)>,
}

fn thin(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points.to_vec();
    }
    let step = points.len().div_ceil(MAX_POINTS);
    let mut v: Vec<(f64, f64)> = points.iter().step_by(step).copied().collect();
    if let Some(&last) = points.last() {
        if v.last() != Some(&last) {
            v.push(last);
        }
    }
    v
}

fn color(i: usize) -> RGBColor {
    const P: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    P[i % P.len()]
}

/// Line chart of curves on the unit square, with an optional diagonal (chance line).
pub fn curves_svg(
    title: &str,
    x_label: &str,
    y_label: &str,
    curves: &[Curve],
    diagonal: bool,
) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1f64, 0f64..1.02f64)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()
            .map_err(plot_err)?;
        if diagonal {
            chart
                .draw_series(LineSeries::new(
                    [(0.0, 0.0), (1.0, 1.0)],
                    ShapeStyle::from(&RGBColor(180, 180, 180)).stroke_width(1),
                ))
                .map_err(plot_err)?;
        }
        for (i, c) in curves.iter().enumerate() {
            let col = color(i);
            chart
                .draw_series(LineSeries::new(
                    thin(&c.points),
                    ShapeStyle::from(&col).stroke_width(2),
                ))
                .map_err(plot_err)?
                .label(c.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(
                        vec![(x, y), (x + 18, y)],
                        ShapeStyle::from(&col).stroke_width(2),
                    )
                });
        }
        if !curves.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(plot_err)?;
        }
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

/// ROC curves (false-positive rate → true-positive rate).
pub fn roc_svg(title: &str, curves: &[Curve]) -> anyhow::Result<String> {
    curves_svg(
        title,
        "false positive rate",
        "true positive rate",
        curves,
        true,
    )
}

/// Precision–recall curves (recall → precision).
pub fn pr_svg(title: &str, curves: &[Curve]) -> anyhow::Result<String> {
    curves_svg(title, "recall", "precision", curves, false)
}

/// Horizontal-free vertical bar chart of one metric per model; `None` values are drawn as missing.
pub fn bars_svg(
    title: &str,
    metric: &str,
    bars: &[(String, Option<f64>)],
) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let top = bars
            .iter()
            .filter_map(|b| b.1)
            .filter(|v| v.is_finite())
            .fold(0f64, f64::max);
        let top = if top <= 1.0 { 1.0 } else { top * 1.1 };
        // A segmented `0..k` axis has k + 1 segments; one bar still needs a non-empty range.
        let n = bars.len().max(1) as u32;
        let names: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((0u32..(n - 1).max(1)).into_segmented(), 0f64..top)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n as usize + 1)
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) => names.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_desc(metric)
            .draw()
            .map_err(plot_err)?;
        for (i, (_, v)) in bars.iter().enumerate() {
            let Some(v) = v.filter(|v| v.is_finite()) else {
                continue;
            };
            let i = i as u32;
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), v),
                ],
                color(i as usize).filled(),
            );
            bar.set_margin(0, 0, 6, 6);
            chart.draw_series(std::iter::once(bar)).map_err(plot_err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{v:.3}"),
                    (SegmentValue::CenterOf(i), v + top * 0.01),
                    ("sans-serif", 13)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Bottom)),
                )))
                .map_err(plot_err)?;
        }
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing a chart: {e:?}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg() {
        let c = Curve {
            name: "rf".into(),
            points: (0..5000)
                .map(|i| (i as f64 / 5000.0, (i as f64 / 5000.0).sqrt()))
                .collect(),
        };
        let s = roc_svg("ROC", &[c]).unwrap();
        assert!(s.starts_with("<svg") && s.contains("rf"));
        assert!(s.len() < 400_000, "thinned: {}", s.len());
        let b = bars_svg(
            "AUC",
            "ROC-AUC",
            &[("rf".into(), Some(0.8)), ("nb".into(), None)],
        )
        .unwrap();
        assert!(b.contains("0.800"));
    }
}
