//! A segmentation as the user sees it: the summary object (`--json`, and the text table printed
//! otherwise), `segments.csv` (id, segment, 2-D coordinates), the SVG scatter coloured by segment, and
//! the "Segments" section of the HTML report. Every float is written with Rust's shortest round-trip
//! formatting, every text cell of the CSV is spreadsheet-safe.

use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

use super::profile::Profile;
use super::silhouette::EXACT_LIMIT;
use super::{KScore, Matrix, SegmentParams, Segmentation, TsneMap};
use crate::charts::{scatter_svg, Curve, FILE_SIZE};
use crate::output::spreadsheet_safe;
use crate::report::esc;

/// The PCA part of the summary.
#[derive(Clone, Debug, Serialize)]
pub struct PcaSummary {
    /// Columns in.
    pub columns: usize,
    /// Components kept.
    pub dims: usize,
    /// Explained-variance ratio of each kept component.
    pub explained_variance_ratio: Vec<f64>,
    /// Their sum.
    pub explained_variance_kept: f64,
}

/// The silhouette of the chosen segmentation, and how it was computed.
#[derive(Clone, Debug, Serialize)]
pub struct SilhouetteSummary {
    /// Mean silhouette (`null` when undefined).
    pub score: Option<f64>,
    /// Rows scored.
    pub rows: usize,
    /// `exact` (every row) or `sample` (a seeded sample of [`EXACT_LIMIT`] rows).
    pub computed: String,
}

/// Everything `--json` prints.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Rows segmented.
    pub rows: usize,
    /// How the rows were represented.
    pub represent: String,
    /// Columns that are constant (0 after standardisation).
    pub constant_columns: Vec<String>,
    /// PCA.
    pub pca: PcaSummary,
    /// The algorithm.
    pub method: String,
    /// The number of segments chosen.
    pub k: usize,
    /// How k was chosen.
    pub chosen_by: String,
    /// Silhouette of the chosen segmentation.
    pub silhouette: SilhouetteSummary,
    /// Every k tried.
    pub per_k: Vec<KScore>,
    /// Rows per segment (segment 0 is the largest).
    pub sizes: Vec<usize>,
    /// Rows in no segment (DBSCAN noise).
    pub noise: usize,
    /// t-SNE map: rows embedded, perplexity, or why there is none.
    pub tsne: String,
    /// Per-segment profiles.
    pub segments: Vec<Profile>,
}

/// Builds the summary of a fitted segmentation.
pub fn summary(s: &Segmentation, p: &SegmentParams, profiles: Vec<Profile>) -> Summary {
    let (sizes, noise) = s.sizes();
    let pca = &s.model.pca;
    let sil = &s.silhouette;
    Summary {
        rows: s.labels.len(),
        represent: s.model.recipe.represent.name().to_owned(),
        constant_columns: s.constant_columns.clone(),
        pca: PcaSummary {
            columns: pca.mean.len(),
            dims: pca.dims(),
            explained_variance_ratio: pca.explained_variance_ratio.clone(),
            explained_variance_kept: pca.explained_variance_ratio.iter().sum(),
        },
        method: p.method.name().to_owned(),
        k: s.model.k,
        chosen_by: if s.per_k.len() > 1 {
            "highest silhouette over --k (ties: the smaller k)".to_owned()
        } else {
            "the only k tried".to_owned()
        },
        silhouette: SilhouetteSummary {
            score: sil.score,
            rows: sil.rows,
            computed: if sil.sampled {
                format!("sample of {EXACT_LIMIT} rows (seeded)")
            } else {
                "exact".to_owned()
            },
        },
        per_k: s.per_k.clone(),
        sizes,
        noise,
        tsne: match (&s.tsne, &s.tsne_note) {
            (Some(t), _) => format!(
                "{} rows{}, perplexity {:.1}",
                t.rows.len(),
                if t.rows.len() < s.labels.len() {
                    " (seeded sample)"
                } else {
                    ""
                },
                t.perplexity
            ),
            (None, Some(n)) => n.clone(),
            (None, None) => "not computed (--tsne-sample 0)".to_owned(),
        },
        segments: profiles,
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.4}"))
}

/// A row of the per-k table: k, silhouette and inertia (`none` where the method has no inertia).
fn per_k_cells(row: &KScore, none: &str) -> [String; 3] {
    let inertia = row
        .inertia
        .map_or_else(|| none.to_owned(), |v| format!("{v:.1}"));
    [row.k.to_string(), opt(row.silhouette), inertia]
}

/// An HTML table cell listing the first `n` of `items`, each written by `show`, joined by `sep`.
fn cell<T>(items: &[T], n: usize, sep: &str, show: impl Fn(&T) -> String) -> String {
    let shown: Vec<String> = items.iter().take(n).map(show).collect();
    esc(&shown.join(sep))
}

fn seg_name(s: Option<u32>) -> String {
    s.map_or_else(|| "noise".to_owned(), |s| s.to_string())
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{:.1}%", 100.0 * v))
}

/// The summary as text (what `segment` prints without `--json`).
pub fn text(s: &Summary) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{} rows, {} ({} columns{}); PCA keeps {} component(s), {:.1}% of the variance",
        s.rows,
        s.represent,
        s.pca.columns,
        if s.constant_columns.is_empty() {
            String::new()
        } else {
            format!(", constant: {}", s.constant_columns.join(" "))
        },
        s.pca.dims,
        100.0 * s.pca.explained_variance_kept
    );
    let _ = writeln!(
        t,
        "{}: k = {} ({}); silhouette {} ({}, {} rows); t-SNE: {}",
        s.method,
        s.k,
        s.chosen_by,
        opt(s.silhouette.score),
        s.silhouette.computed,
        s.silhouette.rows,
        s.tsne
    );
    let _ = writeln!(
        t,
        "{:>4}  {:>10}  {:>14}  {:>7}",
        "k", "silhouette", "inertia", "seconds"
    );
    for row in &s.per_k {
        let [k, silhouette, inertia] = per_k_cells(row, "-");
        let _ = writeln!(
            t,
            "{k:>4}  {silhouette:>10}  {inertia:>14}  {:>7.3}",
            row.fit_seconds
        );
    }
    for p in &s.segments {
        let _ = writeln!(
            t,
            "\nsegment {}: {} rows ({:.1}%)",
            seg_name(p.segment),
            p.size,
            100.0 * p.share
        );
        if let Some(f) = &p.funnel {
            let _ = writeln!(
                t,
                "  funnel: view→cart {}, cart→buy {}, view→buy {} ({} viewed pairs)",
                pct(f.view_to_cart),
                pct(f.cart_to_buy),
                pct(f.view_to_buy),
                f.viewed_pairs
            );
        }
        let feats: Vec<String> = p
            .separating
            .iter()
            .map(|f| format!("{} {:+.2}", f.feature, f.smd))
            .collect();
        let _ = writeln!(t, "  separating features (SMD): {}", feats.join(", "));
        for (what, counts) in [("items", &p.top_items), ("categories", &p.top_categories)] {
            if !counts.is_empty() {
                let named: Vec<String> = counts
                    .iter()
                    .map(|c| format!("{} ({})", c.name, c.events))
                    .collect();
                let _ = writeln!(t, "  top {what}: {}", named.join(", "));
            }
        }
        for q in &p.patterns {
            let _ = writeln!(
                t,
                "  pattern {}: {:.1}% here vs {:.1}% elsewhere",
                q.pattern,
                100.0 * q.support_in,
                100.0 * q.support_out
            );
        }
        for r in &p.rules {
            let _ = writeln!(
                t,
                "  rule {}: lift {:.2}, confidence {:.2}, {} rows",
                r.rule, r.lift, r.confidence, r.support
            );
        }
    }
    t
}

/// Writes the rows as they enter standardisation, `id,<column>,…` (ids spreadsheet-safe; values as
/// f32 in shortest round-trip form, so another tool reads exactly the numbers cartseq segments).
pub fn write_matrix_csv<W: Write>(w: W, m: &Matrix, id_column: &str) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    let mut head = vec![id_column.to_owned()];
    head.extend(m.names.iter().map(|n| spreadsheet_safe(n).into_owned()));
    out.write_record(&head)?;
    let mut rec: Vec<String> = Vec::with_capacity(m.names.len() + 1);
    for (id, row) in m.ids.iter().zip(m.x.rows()) {
        rec.clear();
        rec.push(spreadsheet_safe(id).into_owned());
        rec.extend(row.iter().map(|v| v.to_string()));
        out.write_record(&rec)?;
    }
    out.flush()?;
    Ok(())
}

/// Writes `id,segment,pc1,pc2,tsne_x,tsne_y` for a fitted segmentation (see [`write_labels_csv`]).
pub fn write_csv<W: Write>(
    w: W,
    m: &Matrix,
    s: &Segmentation,
    id_column: &str,
) -> anyhow::Result<()> {
    write_labels_csv(w, m, &s.labels, &s.y, s.tsne.as_ref(), id_column)
}

/// Writes `id,segment,pc1,pc2,tsne_x,tsne_y` (ids spreadsheet-safe; `noise` for DBSCAN noise; the
/// t-SNE cells are empty for rows outside its sample or without a map; `pc2` empty with a
/// one-component PCA).
pub fn write_labels_csv<W: Write>(
    w: W,
    m: &Matrix,
    labels: &[Option<u32>],
    y: &ndarray::Array2<f32>,
    tsne: Option<&TsneMap>,
    id_column: &str,
) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record([id_column, "segment", "pc1", "pc2", "tsne_x", "tsne_y"])?;
    let mut tsne_of = vec![None; m.ids.len()];
    if let Some(t) = tsne {
        for (j, &r) in t.rows.iter().enumerate() {
            tsne_of[r] = Some((t.coords[[j, 0]], t.coords[[j, 1]]));
        }
    }
    for (i, id) in m.ids.iter().enumerate() {
        let pc = |c: usize| {
            if c < y.ncols() {
                y[[i, c]].to_string()
            } else {
                String::new()
            }
        };
        let (tx, ty) = tsne_of[i].map_or((String::new(), String::new()), |(x, y)| {
            (x.to_string(), y.to_string())
        });
        out.write_record([
            spreadsheet_safe(id).as_ref(),
            &seg_name(labels[i]),
            &pc(0),
            &pc(1),
            &tx,
            &ty,
        ])?;
    }
    out.flush()?;
    Ok(())
}

/// The 2-D picture: t-SNE coordinates when there are, otherwise the first two principal components.
pub fn scatter(s: &Segmentation, size: (u32, u32)) -> anyhow::Result<String> {
    let (sizes, noise) = s.sizes();
    let mut groups: Vec<Curve> = sizes
        .iter()
        .enumerate()
        .map(|(c, n)| Curve {
            name: format!("segment {c} ({n} rows)"),
            points: Vec::new(),
        })
        .collect();
    if noise > 0 {
        groups.push(Curve {
            name: format!("noise ({noise} rows)"),
            points: Vec::new(),
        });
    }
    let k = sizes.len();
    let group = |l: Option<u32>| l.map_or(k, |c| c as usize);
    let (title, xl, yl) = match &s.tsne {
        Some(t) => {
            for (j, &r) in t.rows.iter().enumerate() {
                groups[group(s.labels[r])]
                    .points
                    .push((t.coords[[j, 0]], t.coords[[j, 1]]));
            }
            (
                format!("Segments on a t-SNE map ({} rows)", t.rows.len()),
                "t-SNE 1",
                "t-SNE 2",
            )
        }
        None => {
            for (i, l) in s.labels.iter().enumerate() {
                let y = if s.y.ncols() > 1 { s.y[[i, 1]] } else { 0.0 };
                groups[group(*l)]
                    .points
                    .push((f64::from(s.y[[i, 0]]), f64::from(y)));
            }
            (
                "Segments on the first two principal components".to_owned(),
                "PC 1",
                "PC 2",
            )
        }
    };
    scatter_svg(size, &title, xl, yl, &groups)
}

/// The scatter as its own SVG file.
pub fn scatter_file(s: &Segmentation) -> anyhow::Result<String> {
    scatter(s, FILE_SIZE)
}

/// The "Segments" section of the HTML report: the choice of k, the scatter, and a table per segment.
pub fn html_section(s: &Summary, svg: anyhow::Result<String>, number: usize) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<h2>{number}. Segments</h2><p class=muted>{} rows ({}), standardised, PCA to {} component(s) \
         ({:.1}% of the variance), {} with k = {} ({}); silhouette {} ({}, {} rows). t-SNE: {}.</p>",
        s.rows,
        esc(&s.represent),
        s.pca.dims,
        100.0 * s.pca.explained_variance_kept,
        esc(&s.method),
        s.k,
        esc(&s.chosen_by),
        opt(s.silhouette.score),
        esc(&s.silhouette.computed),
        s.silhouette.rows,
        esc(&s.tsne)
    );
    h.push_str(
        "<div class=grid><div><table><tr><th>k</th><th>silhouette</th><th>inertia</th></tr>",
    );
    for row in &s.per_k {
        let [k, silhouette, inertia] = per_k_cells(row, "–");
        let _ = write!(
            h,
            "<tr><td>{k}</td><td>{silhouette}</td><td>{inertia}</td></tr>"
        );
    }
    h.push_str("</table></div><div>");
    h.push_str(&svg.unwrap_or_else(|e| format!("<p class=muted>{}</p>", esc(&format!("{e:#}")))));
    h.push_str("</div></div>");
    h.push_str(
        "<table><tr><th class=l>segment</th><th>rows</th><th>share</th><th>view→cart</th>\
         <th>cart→buy</th><th class=l>separating features (SMD)</th><th class=l>top categories</th>\
         <th class=l>discriminative patterns (here vs elsewhere)</th><th class=l>A then B (lift)</th></tr>",
    );
    for p in &s.segments {
        let (vc, cb) = p
            .funnel
            .as_ref()
            .map_or(("n/a".to_owned(), "n/a".to_owned()), |f| {
                (pct(f.view_to_cart), pct(f.cart_to_buy))
            });
        let feats = cell(&p.separating, 4, "; ", |f| {
            format!("{} {:+.2}", f.feature, f.smd)
        });
        let cats = cell(&p.top_categories, 3, ", ", |c| c.name.clone());
        let pats = cell(&p.patterns, 3, "; ", |q| {
            format!(
                "{} ({:.0}% vs {:.0}%)",
                q.pattern,
                100.0 * q.support_in,
                100.0 * q.support_out
            )
        });
        let rules = cell(&p.rules, 3, "; ", |r| format!("{} ({:.1})", r.rule, r.lift));
        let _ = write!(
            h,
            "<tr><td class=l>{}</td><td>{}</td><td>{:.1}%</td><td>{vc}</td><td>{cb}</td><td class=l>{}</td>\
             <td class=l>{}</td><td class=l>{}</td><td class=l>{}</td></tr>",
            seg_name(p.segment),
            p.size,
            100.0 * p.share,
            feats,
            cats,
            pats,
            rules
        );
    }
    h.push_str("</table>");
    h
}
