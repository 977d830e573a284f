//! The one chart layer of cartseq: every chart it draws — the leaderboard's SVG files, the HTML report's
//! inline charts, `nextitem --curve` — is drawn here with plotters' SVG backend. Line charts are
//! [`Panel`]s (curves on fixed axes, an optional diagonal, markers, a legend, or a note when there is
//! nothing to draw) laid out side by side by [`panels_svg`]; bar charts are vertical ([`bars_svg`], one
//! metric per model) or horizontal ([`hbars_svg`], long labels: funnel, importances).
//!
//! Each function returns the SVG document as a string. `SVGBackend::with_string` (plotters-svg 0.3.7)
//! writes one bare `<svg width height viewBox xmlns>` element — no XML prolog, no DOCTYPE, no element
//! ids, no scripts, fonts by family name only, text escaped — so the same string is a file on its own
//! and can be pasted into an HTML page; the report inlines it and stays one self-contained file.
//!
//! Cost: linear in the number of curve points; curves longer than [`MAX_POINTS`] are thinned (every k-th
//! point, endpoints kept) so a million-row test set still gives a small file.

use std::path::Path;

use cartseq_models::metrics::{self, MetricReport};
use cartseq_models::nn::EpochRecord;
use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::write_file;

/// Most points drawn per curve.
pub const MAX_POINTS: usize = 2_000;

/// Size in pixels of a chart written to its own file.
pub const FILE_SIZE: (u32, u32) = (720, 540);

/// Size in pixels of one chart in the HTML report's grid.
pub const REPORT_SIZE: (u32, u32) = (420, 320);

/// Series colours (Okabe–Ito, readable for colour-blind readers).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xF0, 0xE4, 0x42),
    RGBColor(0x00, 0x00, 0x00),
];

/// Colour of a highlighted bar (pattern features; the report's `.pat` text colour).
const HIGHLIGHT: RGBColor = RGBColor(0xD5, 0x5E, 0x00);

/// Colour of the diagonal (chance line, perfect calibration).
const GUIDE: RGBColor = RGBColor(180, 180, 180);

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A named curve: `(x, y)` points in drawing order.
#[derive(Clone, Debug, Default)]
pub struct Curve {
    /// Legend label.
    pub name: String,
    /// Points.
    pub points: Vec<(f64, f64)>,
}

/// Whether a panel has a legend. A legend is drawn in a strip of its own under the plot area (as many
/// rows as the names need), never inside it: wherever a corner legend is put, some model's curve runs
/// through that corner (a PR curve ends in the lower right, a good ROC curve hugs the upper left).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Legend {
    /// Under the plot area.
    Below,
    /// No legend (a single, captioned curve).
    Hidden,
}

/// Font size of tick labels, axis descriptions and legends, as given to plotters (which writes
/// `size / 1.24` into the SVG: 17 → 13.7 px; its default of 12 → 9.7 px reads small once an SVG is
/// scaled down into the report's grid).
const TICK_FONT: u32 = 17;

/// Height of one legend row in pixels.
const LEGEND_ROW: u32 = 20;

/// The legend's entries packed into rows that fit `width` pixels: (row, x offset) per entry, and the
/// number of rows. Text width is estimated at 0.6 em per character of the drawn size.
fn legend_layout(names: &[&str], width: u32) -> (Vec<(u32, u32)>, u32) {
    let mut at = Vec::with_capacity(names.len());
    let (mut row, mut x) = (0u32, 0u32);
    for n in names {
        let w = 30 + (n.chars().count() as u32 * TICK_FONT * 6).div_ceil(12) + 16;
        if x > 0 && x + w > width {
            row += 1;
            x = 0;
        }
        at.push((row, x));
        x += w;
    }
    (at, if names.is_empty() { 0 } else { row + 1 })
}

/// One line chart: curves on fixed axes.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Caption above the plot.
    pub title: String,
    /// x-axis description.
    pub x_label: String,
    /// y-axis description.
    pub y_label: String,
    /// x range.
    pub x: (f64, f64),
    /// y range.
    pub y: (f64, f64),
    /// The x axis counts whole units (epochs): only whole numbers are labelled.
    pub whole_x: bool,
    /// Draw the diagonal from `(x.0, y.0)` to `(x.1, y.1)` (ROC chance line, perfect calibration).
    pub diagonal: bool,
    /// Draw a marker at every point (few points: calibration bins, epochs).
    pub markers: bool,
    /// Legend position.
    pub legend: Legend,
    /// The curves.
    pub curves: Vec<Curve>,
    /// Text in the middle of the plot, e.g. why a curve is undefined and not drawn.
    pub note: Option<String>,
}

impl Panel {
    /// An empty panel on the unit square (rates and probabilities), legend below it.
    pub fn unit(title: &str, x_label: &str, y_label: &str) -> Panel {
        Panel {
            title: title.to_owned(),
            x_label: x_label.to_owned(),
            y_label: y_label.to_owned(),
            x: (0.0, 1.0),
            y: (0.0, 1.02),
            whole_x: false,
            diagonal: false,
            markers: false,
            legend: Legend::Below,
            curves: Vec::new(),
            note: None,
        }
    }

    /// A panel over epochs `1..=epochs` with markers, the y range fitted to the curves.
    pub fn epochs(title: &str, y_label: &str, epochs: usize, curves: Vec<Curve>) -> Panel {
        Panel {
            x: (0.5, epochs.max(1) as f64 + 0.5),
            y: padded_range(&curves, 0.05),
            whole_x: true,
            markers: true,
            legend: if curves.len() > 1 {
                Legend::Below
            } else {
                Legend::Hidden
            },
            curves,
            ..Panel::unit(title, "epoch", y_label)
        }
    }
}

/// The y range of the curves' finite points, widened by `pad` × its span on both sides; `(0, 1)` when
/// there is no point.
fn padded_range(curves: &[Curve], pad: f64) -> (f64, f64) {
    let (lo, hi) = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.1))
        .filter(|y| y.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
            (a.min(y), b.max(y))
        });
    if lo > hi {
        return (0.0, 1.0);
    }
    let d = pad * (hi - lo).max(1e-3);
    (lo - d, hi + d)
}

fn thin(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    if points.len() <= MAX_POINTS {
        return points.iter().filter(finite).copied().collect();
    }
    let step = points.len().div_ceil(MAX_POINTS);
    let mut v: Vec<(f64, f64)> = points
        .iter()
        .step_by(step)
        .filter(finite)
        .copied()
        .collect();
    if let Some(&last) = points.last().filter(finite) {
        if v.last() != Some(&last) {
            v.push(last);
        }
    }
    v
}

fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing a chart: {e:?}")
}

/// Draws an SVG of `size` pixels with `draw` and returns its text.
fn svg_string(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

fn draw_panel(area: &DrawingArea<SVGBackend, Shift>, p: &Panel) -> anyhow::Result<()> {
    let caption = if area.dim_in_pixel().0 >= 600 { 20 } else { 15 };
    let names: Vec<&str> = match p.legend {
        Legend::Below => p.curves.iter().map(|c| c.name.as_str()).collect(),
        Legend::Hidden => Vec::new(),
    };
    let (w, h) = area.dim_in_pixel();
    let (slots, rows) = legend_layout(&names, w.saturating_sub(60));
    let strip = if rows > 0 { rows * LEGEND_ROW + 6 } else { 0 };
    let (plot_area, legend_area) = area.split_vertically(h.saturating_sub(strip));
    let span = |r: (f64, f64)| if r.1 > r.0 { r } else { (r.0, r.0 + 1.0) };
    let ((x0, x1), (y0, y1)) = (span(p.x), span(p.y));
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(&p.title, ("sans-serif", caption))
        .margin(10)
        .x_label_area_size(44)
        .y_label_area_size(58)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(plot_err)?;
    let whole = |v: &f64| {
        if (v - v.round()).abs() < 1e-9 {
            format!("{}", v.round())
        } else {
            String::new()
        }
    };
    let mut mesh = chart.configure_mesh();
    // Grid lines at the labelled ticks only: the finer grid doubles the file and adds nothing to read.
    mesh.x_desc(p.x_label.as_str())
        .y_desc(p.y_label.as_str())
        .label_style(("sans-serif", TICK_FONT))
        .axis_desc_style(("sans-serif", TICK_FONT))
        .light_line_style(TRANSPARENT);
    if p.whole_x {
        // Ask for at most one tick per whole unit, so no tick falls between two epochs (plotters
        // picks steps of 1, 2 or 5 × 10^k under that bound).
        let units = ((x1 - x0).round() as usize).clamp(1, 10);
        mesh.x_labels(units).x_label_formatter(&whole);
    }
    mesh.draw().map_err(plot_err)?;
    if p.diagonal {
        chart
            .draw_series(DashedLineSeries::new(
                [(x0, y0), (x1, y1)],
                6,
                4,
                ShapeStyle::from(&GUIDE).stroke_width(1),
            ))
            .map_err(plot_err)?;
    }
    for (i, c) in p.curves.iter().enumerate() {
        let col = color(i);
        let pts = thin(&c.points);
        chart
            .draw_series(LineSeries::new(
                pts.iter().copied(),
                ShapeStyle::from(&col).stroke_width(2),
            ))
            .map_err(plot_err)?;
        if p.markers {
            chart
                .draw_series(pts.iter().map(|&q| Circle::new(q, 3, col.filled())))
                .map_err(plot_err)?;
        }
    }
    if let Some(note) = &p.note {
        chart
            .draw_series(std::iter::once(Text::new(
                note.clone(),
                ((x0 + x1) / 2.0, (y0 + y1) / 2.0),
                ("sans-serif", 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            )))
            .map_err(plot_err)?;
    }
    for (i, (name, (row, x))) in names.iter().zip(slots).enumerate() {
        let col = color(i);
        let (x, y) = (60 + x as i32, (row * LEGEND_ROW + LEGEND_ROW / 2) as i32);
        legend_area
            .draw(&PathElement::new(
                vec![(x, y), (x + 22, y)],
                ShapeStyle::from(&col).stroke_width(3),
            ))
            .map_err(plot_err)?;
        legend_area
            .draw(&Text::new(
                name.to_string(),
                (x + 28, y),
                ("sans-serif", TICK_FONT)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(plot_err)?;
    }
    Ok(())
}

/// Panels side by side in one SVG of `size` pixels, under an optional overall title.
pub fn panels_svg(
    size: (u32, u32),
    title: Option<&str>,
    panels: &[Panel],
) -> anyhow::Result<String> {
    svg_string(size, |root| {
        let area = match title {
            Some(t) => root.titled(t, ("sans-serif", 20)).map_err(plot_err)?,
            None => root.clone(),
        };
        for (a, p) in area
            .split_evenly((1, panels.len().max(1)))
            .iter()
            .zip(panels)
        {
            draw_panel(a, p)?;
        }
        Ok(())
    })
}

/// Most points drawn per group of a scatter plot (a seeded sample is the caller's job; beyond this the
/// group is thinned to every k-th point, so the file stays small).
pub const MAX_SCATTER_POINTS: usize = 5_000;

/// A scatter plot of named groups of points, one colour per group, with a legend (segments on a 2-D
/// map). Points are small filled circles; the ranges fit the points with 3 % padding.
pub fn scatter_svg(
    size: (u32, u32),
    title: &str,
    x_label: &str,
    y_label: &str,
    groups: &[Curve],
) -> anyhow::Result<String> {
    let all = || groups.iter().flat_map(|g| g.points.iter().copied());
    let fit = |f: &dyn Fn((f64, f64)) -> f64| {
        let (lo, hi) = all()
            .map(f)
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        if lo > hi {
            return (0.0, 1.0);
        }
        let d = 0.03 * (hi - lo).max(1e-9);
        (lo - d, hi + d)
    };
    let (x0, x1) = fit(&|p| p.0);
    let (y0, y1) = fit(&|p| p.1);
    svg_string(size, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(38)
            .y_label_area_size(52)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(plot_err)?;
        for (i, g) in groups.iter().enumerate() {
            // Rows in no group (DBSCAN noise) are grey.
            let col = if g.name.starts_with("noise") {
                GUIDE
            } else {
                color(i)
            };
            let step = g.points.len().div_ceil(MAX_SCATTER_POINTS).max(1);
            chart
                .draw_series(
                    g.points
                        .iter()
                        .step_by(step)
                        .map(|&q| Circle::new(q, 2, col.mix(0.75).filled())),
                )
                .map_err(plot_err)?
                .label(g.name.clone())
                .legend(move |(x, y)| Circle::new((x + 6, y), 4, col.filled()));
        }
        if !groups.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(plot_err)?;
        }
        Ok(())
    })
}

/// ROC panel (false-positive rate → true-positive rate, chance diagonal).
pub fn roc_panel(title: &str, curves: Vec<Curve>) -> Panel {
    Panel {
        diagonal: true,
        curves,
        ..Panel::unit(title, "false positive rate", "true positive rate")
    }
}

/// Precision–recall panel (recall → precision).
pub fn pr_panel(title: &str, curves: Vec<Curve>) -> Panel {
    Panel {
        curves,
        ..Panel::unit(title, "recall", "precision")
    }
}

/// Calibration panel (mean predicted probability → observed rate per bin, perfect-calibration
/// diagonal, a marker per bin).
pub fn calibration_panel(title: &str, curves: Vec<Curve>) -> Panel {
    Panel {
        diagonal: true,
        markers: true,
        curves,
        ..Panel::unit(
            title,
            "mean predicted P(positive)",
            "observed positive rate",
        )
    }
}

/// ROC curves of models scored on the same binary truth (`scores`: name, P(positive) per row). Empty
/// when the truth has a single class: the curve is undefined then (no line is drawn, not a flat one).
pub fn roc_curves(positive: &[bool], scores: &[(&str, &[f64])]) -> Vec<Curve> {
    scores
        .iter()
        .filter_map(|&(name, s)| {
            let c = metrics::roc_curve(positive, s)?;
            Some(Curve {
                name: name.to_owned(),
                points: c.fpr.into_iter().zip(c.tpr).collect(),
            })
        })
        .collect()
}

/// Precision–recall curves of models scored on the same binary truth. Empty when no row is positive
/// (recall is undefined then).
pub fn pr_curves(positive: &[bool], scores: &[(&str, &[f64])]) -> Vec<Curve> {
    if !positive.contains(&true) {
        return Vec::new();
    }
    scores
        .iter()
        .map(|&(name, s)| {
            let c = metrics::pr_curve(positive, s);
            Curve {
                name: name.to_owned(),
                points: c.recall.into_iter().zip(c.precision).collect(),
            }
        })
        .collect()
}

/// ROC curves (false-positive rate → true-positive rate) as a stand-alone chart.
pub fn roc_svg(title: &str, curves: &[Curve]) -> anyhow::Result<String> {
    panels_svg(FILE_SIZE, None, &[roc_panel(title, curves.to_vec())])
}

/// Precision–recall curves (recall → precision) as a stand-alone chart.
pub fn pr_svg(title: &str, curves: &[Curve]) -> anyhow::Result<String> {
    panels_svg(FILE_SIZE, None, &[pr_panel(title, curves.to_vec())])
}

/// Training curves of a network from its per-epoch history: a loss panel (training loss, and
/// validation loss when recorded) and, with `metric`, a second panel of the validation metric under
/// that name (e.g. `valid Recall@20`). One panel is captioned `title`; two share it as a heading.
pub fn training_svg(
    size: (u32, u32),
    title: &str,
    history: &[EpochRecord],
    metric: Option<&str>,
) -> anyhow::Result<String> {
    let curve = |name: &str, get: &dyn Fn(&EpochRecord) -> Option<f64>| Curve {
        name: name.to_owned(),
        points: history
            .iter()
            .filter_map(|r| get(r).map(|v| (r.epoch as f64, v)))
            .collect(),
    };
    let mut losses = vec![curve("train loss", &|r| Some(r.train_loss))];
    let valid = curve("validation loss", &|r| r.valid_loss);
    if !valid.points.is_empty() {
        losses.push(valid);
    }
    let n = history.len();
    match metric {
        None => panels_svg(size, None, &[Panel::epochs(title, "loss", n, losses)]),
        Some(m) => {
            let panels = [
                Panel::epochs("train loss", "train loss", n, losses),
                Panel::epochs(m, m, n, vec![curve(m, &|r| r.valid_metric)]),
            ];
            panels_svg(size, Some(title), &panels)
        }
    }
}

/// Vertical bar chart of one metric per model; `None` values are drawn as missing.
pub fn bars_svg(
    title: &str,
    metric: &str,
    bars: &[(String, Option<f64>)],
) -> anyhow::Result<String> {
    svg_string(FILE_SIZE, |root| {
        let top = bars
            .iter()
            .filter_map(|b| b.1)
            .filter(|v| v.is_finite())
            .fold(0f64, f64::max);
        let top = if top <= 1.0 { 1.0 } else { top * 1.1 };
        // A segmented `0..k` axis has k + 1 segments; one bar still needs a non-empty range.
        let n = bars.len().max(1) as u32;
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((0u32..(n - 1).max(1)).into_segmented(), 0f64..top)
            .map_err(plot_err)?;
        let label = |x: &SegmentValue<u32>| match x {
            SegmentValue::CenterOf(i) => bars
                .get(*i as usize)
                .map(|b| b.0.clone())
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n as usize + 1)
            .x_label_formatter(&label)
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
        Ok(())
    })
}

/// One bar of a horizontal bar chart.
#[derive(Clone, Debug)]
pub struct Bar {
    /// Label left of the bar (cut to 38 characters).
    pub label: String,
    /// Value (non-negative).
    pub value: f64,
    /// Drawn in the highlight colour (pattern features).
    pub highlight: bool,
    /// Text right of the bar (default: the value with four decimals).
    pub note: Option<String>,
}

/// Horizontal bar chart, `width` pixels wide and 20 pixels per bar, first bar on top: long labels
/// (feature names, actions) read left of their bars, a note right of each.
pub fn hbars_svg(title: &str, width: u32, bars: &[Bar]) -> anyhow::Result<String> {
    let n = bars.len().max(1) as u32;
    svg_string((width, 56 + 20 * n), |root| {
        let max = bars
            .iter()
            .map(|b| b.value)
            .filter(|v| v.is_finite())
            .fold(0f64, f64::max)
            .max(1e-12);
        // The longest bar leaves 190 pixels of the plot for its note.
        let plot_w = f64::from(width.saturating_sub(242).max(200));
        let x_end = max * plot_w / (plot_w - 190.0).max(10.0);
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 15))
            .margin(6)
            .x_label_area_size(0)
            .y_label_area_size(230)
            .build_cartesian_2d(0f64..x_end, (0u32..(n - 1).max(1)).into_segmented())
            .map_err(plot_err)?;
        // Bar i sits in segment n - 1 - i, so the first bar is drawn on top.
        let row = |i: usize| n - 1 - i as u32;
        let label = |y: &SegmentValue<u32>| match y {
            SegmentValue::CenterOf(j) if *j < n => bars
                .get((n - 1 - j) as usize)
                .map(|b| short_label(&b.label))
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(n as usize + 1)
            .y_label_formatter(&label)
            .draw()
            .map_err(plot_err)?;
        for (i, b) in bars.iter().enumerate() {
            let v = if b.value.is_finite() {
                b.value.max(0.0)
            } else {
                0.0
            };
            let fill = if b.highlight { HIGHLIGHT } else { PALETTE[0] };
            let mut rect = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(row(i))),
                    (v, SegmentValue::Exact(row(i) + 1)),
                ],
                fill.filled(),
            );
            rect.set_margin(3, 3, 0, 0);
            let note = b.note.clone().unwrap_or_else(|| format!("{:.4}", b.value));
            chart.draw_series(std::iter::once(rect)).map_err(plot_err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    note,
                    (v + max * 0.02, SegmentValue::CenterOf(row(i))),
                    ("sans-serif", 13)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                )))
                .map_err(plot_err)?;
        }
        Ok(())
    })
}

fn short_label(s: &str) -> String {
    if s.chars().count() > 38 {
        s.chars().take(37).collect::<String>() + "…"
    } else {
        s.to_owned()
    }
}

/// The leaderboard's charts, written to `dir`: `roc.svg` and `pr.svg` for a binary task (from
/// `probas`: name and class probabilities on the test rows `y`), and one bar chart per metric
/// (`bars_roc_auc.svg`, `bars_pr_auc.svg` for a binary task, `bars_f1.svg`) over `models` (name and
/// test metrics, `None` for a failed model). Returns the paths written.
pub fn leaderboard_charts(
    dir: &Path,
    title: &str,
    models: &[(&str, Option<&MetricReport>)],
    probas: &[(String, Array2<f64>)],
    y: &[usize],
) -> anyhow::Result<Vec<String>> {
    let mut written = Vec::new();
    let mut save = |name: &str, svg: String| -> anyhow::Result<()> {
        let p = dir.join(name);
        write_file(&p, |f| Ok(std::io::Write::write_all(f, svg.as_bytes())?))?;
        written.push(p.display().to_string());
        Ok(())
    };
    let binary = probas.first().is_some_and(|(_, p)| p.ncols() == 2);
    if binary {
        let pos: Vec<bool> = y.iter().map(|&c| c == 1).collect();
        let cols: Vec<(&str, Vec<f64>)> = probas
            .iter()
            .map(|(name, p)| (name.as_str(), p.column(1).to_vec()))
            .collect();
        let scores: Vec<(&str, &[f64])> = cols.iter().map(|(n, s)| (*n, s.as_slice())).collect();
        let roc = roc_curves(&pos, &scores);
        let pr = pr_curves(&pos, &scores);
        save("roc.svg", roc_svg(&format!("ROC — {title}"), &roc)?)?;
        save(
            "pr.svg",
            pr_svg(&format!("Precision–recall — {title}"), &pr)?,
        )?;
    }
    type Get = fn(&MetricReport) -> Option<f64>;
    let bars: [(&str, &str, Get); 3] = [
        ("bars_roc_auc.svg", "ROC-AUC", |m| m.roc_auc),
        ("bars_pr_auc.svg", "PR-AUC", |m| m.pr_auc),
        ("bars_f1.svg", "F1", |m| Some(m.f1)),
    ];
    for (file, label, get) in bars {
        if label == "PR-AUC" && !binary {
            continue;
        }
        let vals: Vec<(String, Option<f64>)> = models
            .iter()
            .map(|(name, m)| ((*name).to_owned(), m.and_then(get)))
            .collect();
        save(file, bars_svg(&format!("{label} — {title}"), label, &vals)?)?;
    }
    Ok(written)
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

    /// The report pastes these strings into HTML: a bare `<svg>` element, text escaped, and no URL
    /// but the SVG namespace.
    #[test]
    fn svg_can_be_inlined_in_html() {
        let p = Panel {
            curves: vec![Curve {
                name: "m&n".into(),
                points: vec![(0.0, 0.0), (1.0, 1.0)],
            }],
            ..calibration_panel("a<b", Vec::new())
        };
        let s = panels_svg(REPORT_SIZE, None, &[p]).unwrap();
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert!(!s.contains("<?xml") && !s.contains("<!DOCTYPE") && !s.contains(" id="));
        assert!(s.contains("a&lt;b") && s.contains("m&amp;n"));
        assert_eq!(s.matches("http").count(), 1);
        let b = hbars_svg(
            "t",
            640,
            &[Bar {
                label: "pat00_count".into(),
                value: 2.0,
                highlight: true,
                note: None,
            }],
        )
        .unwrap();
        assert!(b.contains("#D55E00") && b.contains("2.0000") && b.contains("pat00_count"));
    }

    /// The `y` of the SVG text element that reads `text`.
    fn text_y(svg: &str, text: &str) -> f64 {
        let end = svg
            .find(&format!(">\n{text}\n</text>"))
            .expect("the text is drawn");
        let start = svg[..end].rfind("<text").expect("a text element");
        let y = &svg[start..end][svg[start..end].find(" y=\"").expect("y") + 4..];
        y[..y.find('"').expect("quote")].parse().expect("a number")
    }

    #[test]
    fn legends_sit_under_the_plot_not_on_the_lines() {
        let curve = |name: &str| Curve {
            name: name.into(),
            points: vec![(0.0, 0.0), (0.5, 0.9), (1.0, 1.0)],
        };
        for panel in [
            roc_panel("roc", vec![curve("alpha"), curve("beta")]),
            pr_panel("pr", vec![curve("alpha"), curve("beta")]),
            calibration_panel("cal", vec![curve("alpha"), curve("beta")]),
        ] {
            let svg = panels_svg(FILE_SIZE, None, &[panel]).unwrap();
            // The legend strip is the bottom 26 pixels (one row), under the x axis.
            for name in ["alpha", "beta"] {
                assert!(
                    text_y(&svg, name) > FILE_SIZE.1 as f64 - 30.0,
                    "{name} in {svg}"
                );
            }
        }
    }

    /// `epochs` records with train loss `1 / epoch` and `valid(epoch)` = (valid loss, valid metric).
    fn history(
        epochs: usize,
        valid: impl Fn(f64) -> (Option<f64>, Option<f64>),
    ) -> Vec<EpochRecord> {
        (1..=epochs)
            .map(|e| {
                let (valid_loss, valid_metric) = valid(e as f64);
                EpochRecord {
                    epoch: e,
                    lr: 1e-3,
                    train_loss: 1.0 / e as f64,
                    valid_loss,
                    valid_metric,
                    seconds: 0.0,
                }
            })
            .collect()
    }

    #[test]
    fn epoch_axes_have_whole_ticks_only() {
        let h = history(3, |e| (Some(1.2 / e), None));
        let svg = training_svg(FILE_SIZE, "t", &h, None).unwrap();
        for k in ["1", "2", "3"] {
            text_y(&svg, k);
        }
        // Blank labels would mean ticks between epochs (at 0.5, 1.5, …).
        assert!(!svg.contains(">\n\n</text>"), "{svg}");
        assert!(svg.contains("font-size=\"13.7"), "readable tick labels");
    }

    #[test]
    fn one_class_truth_has_no_roc_curve() {
        let s = [0.2, 0.7, 0.4];
        let scores = [("m", &s[..])];
        assert!(roc_curves(&[false, false, false], &scores).is_empty());
        assert!(roc_curves(&[true, true, true], &scores).is_empty());
        assert!(pr_curves(&[false, false, false], &scores).is_empty());
        assert_eq!(pr_curves(&[true, true, true], &scores).len(), 1);
        let both = roc_curves(&[false, true, false], &scores);
        assert_eq!(both[0].points.first(), Some(&(0.0, 0.0)));
        assert_eq!(both[0].points.last(), Some(&(1.0, 1.0)));
    }

    #[test]
    fn training_curves_have_one_or_two_panels() {
        let h = history(3, |e| (None, Some(0.1 * e)));
        let two = training_svg((900, 400), "gru training", &h, Some("valid Recall@20")).unwrap();
        assert!(two.contains("gru training") && two.contains("valid Recall@20"));
        let one = training_svg(REPORT_SIZE, "lstm training", &h, None).unwrap();
        assert!(one.contains("lstm training") && !one.contains("Recall"));
    }
}
