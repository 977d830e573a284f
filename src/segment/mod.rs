//! Customer segmentation (`cartseq segment`): rows (users or sessions at a cutoff, or the rows of a
//! feature/embedding CSV) → standardised matrix → PCA → clusters → a 2-D picture → per-segment profiles.
//!
//! ```text
//! log ──snapshot_table (task's features at --cutoff) [+ pattern columns]──┐
//! feature / embedding CSV ──────────────────────────────────────────────────┴─▶ Matrix (f32)
//!   ──Scaler (fitted, saved)──▶ z ──Pca (--pca-var / --pca-dims)──▶ y
//!   ──k-means for every k in --k, best silhouette │ Gaussian mixture │ DBSCAN──▶ labels
//!   ──t-SNE (linfa-tsne, Barnes–Hut) on a seeded sample──▶ 2-D coordinates
//!   ──profile (funnel, separating features, top items, discriminative patterns, rules)
//! ```
//!
//! Clustering runs on the PCA coordinates; everything is seeded, and every parallel sum is taken over
//! fixed chunks in order, so the same input, options and `--seed` give byte-identical outputs for any
//! `--threads`. The fitted pipeline ([`SegmentModel`]) is saved as JSON and assigns new rows
//! (`segment --apply`).
//!
//! Missing values: the behaviour and pattern features use −1 for "never happened" (`recency_buy_h`,
//! `pat00_since_h`, …) — a value like any other here, standardised with the rest. A feature or
//! embedding CSV must hold finite numbers only: an empty cell, `NaN` or `inf` is refused with its line
//! and column. Constant columns are kept at 0 after standardisation and named in the output.

pub mod input;
pub mod kmeans;
pub mod pca;
pub mod profile;
pub mod render;
pub mod scale;
pub mod silhouette;
pub mod tsne;

use std::time::Instant;

use anyhow::{bail, ensure, Context};
use hashbrown::HashSet;
use ndarray::{Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use self::kmeans::{KMeansFit, KMeansParams};
use self::pca::{Pca, PcaChoice};
use self::scale::Scaler;
use self::silhouette::Silhouette;

/// What each row becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Represent {
    /// The behaviour features `task` computes (a log), or every numeric column (a CSV).
    Features,
    /// Occurrence features of the most frequent sequential patterns (a log).
    Patterns,
    /// The numeric columns of an embedding CSV (`nextitem --embeddings`).
    Embeddings,
    /// Behaviour features and pattern features side by side (a log).
    FeaturesPatterns,
}

cartseq_data::named_enum!(Represent, "a row representation", [
    "features" => Represent::Features,
    "patterns" => Represent::Patterns,
    "embeddings" => Represent::Embeddings,
    "features+patterns" => Represent::FeaturesPatterns,
]);

impl Represent {
    /// Whether pattern columns are part of it.
    pub fn has_patterns(self) -> bool {
        matches!(self, Represent::Patterns | Represent::FeaturesPatterns)
    }
}

/// The clustering algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// k-means (k chosen by silhouette over the `--k` range).
    Kmeans,
    /// Gaussian mixture with full covariances (linfa-clustering; k chosen by silhouette).
    Gmm,
    /// DBSCAN (linfa-clustering): `--eps`, `--min-points`; rows in no cluster are noise.
    Dbscan,
}

cartseq_data::named_enum!(Method, "a clustering method", [
    "kmeans" | "k-means" => Method::Kmeans,
    "gmm" => Method::Gmm,
    "dbscan" => Method::Dbscan,
]);

/// Which k-means implementation runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// cartseq's Lloyd k-means ([`kmeans`]).
    Cartseq,
    /// linfa-clustering's k-means, for comparison.
    Linfa,
}

cartseq_data::named_enum!(Engine, "an engine", ["cartseq" => Engine::Cartseq, "linfa" => Engine::Linfa]);

/// The segmentation options, validated by [`SegmentParams::check`] before anything is allocated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentParams {
    /// The algorithm.
    pub method: Method,
    /// Smallest k tried (k-means, Gaussian mixture).
    pub k_min: usize,
    /// Largest k tried.
    pub k_max: usize,
    /// DBSCAN radius (in standardised PCA units).
    pub eps: f64,
    /// DBSCAN: rows within `eps` (the row included) that make a core row.
    pub min_points: usize,
    /// Components kept by PCA.
    pub pca: PcaChoice,
    /// t-SNE on at most this many rows (a seeded sample; 0 = no t-SNE).
    pub tsne_sample: usize,
    /// t-SNE perplexity (lowered to `(rows − 1) / 3` for few rows).
    pub perplexity: f64,
    /// t-SNE iterations.
    pub tsne_iter: usize,
    /// Seed of k-means++, the Gaussian mixture, the silhouette sample and t-SNE.
    pub seed: u64,
    /// k-means implementation.
    pub engine: Engine,
    /// t-SNE implementation (`Linfa`: linfa-tsne, not reproducible; for comparison).
    pub tsne_engine: Engine,
}

impl Default for SegmentParams {
    fn default() -> Self {
        SegmentParams {
            method: Method::Kmeans,
            k_min: 2,
            k_max: 8,
            eps: 0.5,
            min_points: 5,
            pca: PcaChoice::Variance(0.9),
            tsne_sample: 2000,
            perplexity: 30.0,
            tsne_iter: 1000,
            seed: 42,
            engine: Engine::Cartseq,
            tsne_engine: Engine::Cartseq,
        }
    }
}

impl SegmentParams {
    /// Checks every range once, naming the command-line option.
    pub fn check(&self) -> anyhow::Result<()> {
        ensure!(
            self.k_min >= 1 && self.k_min <= self.k_max && self.k_max <= 1000,
            "--k must be a range 1..=1000 such as 2..12 (or one number), found {}..{}",
            self.k_min,
            self.k_max
        );
        ensure!(
            self.eps.is_finite() && self.eps > 0.0,
            "--eps must be a positive number, found {}",
            self.eps
        );
        ensure!(
            self.min_points >= 1,
            "--min-points must be at least 1, found {}",
            self.min_points
        );
        match self.pca {
            PcaChoice::Variance(f) => ensure!(
                f > 0.0 && f <= 1.0,
                "--pca-var must be in (0, 1], found {f}"
            ),
            PcaChoice::Dims(p) => ensure!(p >= 1, "--pca-dims must be at least 1, found {p}"),
        }
        ensure!(
            self.perplexity.is_finite() && self.perplexity > 0.0,
            "--perplexity must be positive, found {}",
            self.perplexity
        );
        ensure!(
            (1..=100_000).contains(&self.tsne_iter),
            "--tsne-iter must be 1..=100000, found {}",
            self.tsne_iter
        );
        ensure!(
            self.tsne_sample <= 50_000,
            "--tsne-sample must be at most 50000 (the neighbour search is quadratic), found {}",
            self.tsne_sample
        );
        Ok(())
    }
}

/// The rows to segment: an id and a numeric vector each.
#[derive(Clone, Debug)]
pub struct Matrix {
    /// Row ids (user or session names).
    pub ids: Vec<String>,
    /// Column names.
    pub names: Vec<String>,
    /// Values (`rows × columns`), finite.
    pub x: Array2<f32>,
}

/// A fitted clustering in PCA coordinates.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
#[allow(clippy::large_enum_variant)] // one model per file: size does not matter
pub enum ClusterModel {
    /// k-means centres.
    Kmeans {
        /// One row per segment.
        centroids: Array2<f64>,
    },
    /// A Gaussian mixture.
    Gmm {
        /// linfa's fitted model.
        model: linfa_clustering::GaussianMixtureModel<f64>,
        /// Segment of each mixture component (segments are numbered by size).
        relabel: Vec<u32>,
    },
    /// DBSCAN: a new row joins the segment of its nearest core row within `eps`, else noise.
    Dbscan {
        /// The radius.
        eps: f64,
        /// Core rows.
        core: Array2<f64>,
        /// Segment of each core row.
        core_labels: Vec<u32>,
    },
}

impl ClusterModel {
    /// The segment of each row of `y` (PCA coordinates); `None` = noise (DBSCAN).
    pub fn assign(&self, y: ArrayView2<'_, f32>) -> Vec<Option<u32>> {
        match self {
            ClusterModel::Kmeans { centroids } => kmeans::assign(y, centroids)
                .0
                .into_iter()
                .map(Some)
                .collect(),
            ClusterModel::Gmm { model, relabel } => {
                use linfa::traits::Predict;
                let labels: ndarray::Array1<usize> = model.predict(&y.mapv(f64::from));
                labels.iter().map(|&l| Some(relabel[l])).collect()
            }
            ClusterModel::Dbscan {
                eps,
                core,
                core_labels,
            } => {
                if core.nrows() == 0 {
                    return vec![None; y.nrows()];
                }
                let (near, dist) = kmeans::assign(y, core);
                near.iter()
                    .zip(dist)
                    .map(|(&c, d)| {
                        (f64::from(d).sqrt() <= *eps * (1.0 + 1e-6))
                            .then(|| core_labels[c as usize])
                    })
                    .collect()
            }
        }
    }
}

/// The score of one k.
#[derive(Clone, Debug, Serialize)]
pub struct KScore {
    /// Number of segments.
    pub k: usize,
    /// Silhouette of its labels.
    pub silhouette: Option<f64>,
    /// k-means inertia (sum of squared distances to the centres).
    pub inertia: Option<f64>,
    /// Seconds to fit.
    pub fit_seconds: f64,
}

/// 2-D t-SNE coordinates of a sample of rows.
#[derive(Clone, Debug)]
pub struct TsneMap {
    /// Rows embedded (ascending).
    pub rows: Vec<usize>,
    /// Their coordinates.
    pub coords: Array2<f64>,
    /// Perplexity used.
    pub perplexity: f64,
    /// Seconds.
    pub seconds: f64,
}

/// The fitted, saved pipeline: what `segment --apply` needs to assign new rows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SegmentModel {
    /// File type marker.
    pub format: String,
    /// cartseq version that wrote it.
    pub version: String,
    /// How rows were represented (and, for a log, built: see [`input::Recipe`]).
    pub recipe: input::Recipe,
    /// The fitted scaler (its names are the expected columns).
    pub scaler: Scaler,
    /// The fitted PCA.
    pub pca: Pca,
    /// The clustering.
    pub cluster: ClusterModel,
    /// Number of segments.
    pub k: usize,
}

/// The marker of a segment model file.
pub const MODEL_FORMAT: &str = "cartseq-segment-model";

impl SegmentModel {
    /// Assigns the rows of `m` (columns as fitted) to segments; also returns their PCA coordinates.
    pub fn apply(&self, m: &Matrix) -> anyhow::Result<(Vec<Option<u32>>, Array2<f32>)> {
        if m.names != self.scaler.names {
            let first = m
                .names
                .iter()
                .zip(&self.scaler.names)
                .position(|(a, b)| a != b)
                .unwrap_or(m.names.len().min(self.scaler.names.len()));
            bail!(
                "the model was fitted on {} columns, the input has {}; first difference at column {}: \
                 model {:?}, input {:?}",
                self.scaler.names.len(),
                m.names.len(),
                first + 1,
                self.scaler.names.get(first),
                m.names.get(first)
            );
        }
        let mut z = m.x.clone();
        self.scaler.transform_inplace(&mut z);
        let y = self.pca.transform(z.view());
        Ok((self.cluster.assign(y.view()), y))
    }

    /// Reads a model file, checking its marker.
    pub fn read(path: &std::path::Path) -> anyhow::Result<SegmentModel> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let m: SegmentModel = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not a segment model written by `cartseq segment --save-model`",
                path.display()
            )
        })?;
        ensure!(
            m.format == MODEL_FORMAT,
            "{}: expected a {MODEL_FORMAT} file, found {:?}",
            path.display(),
            m.format
        );
        m.check()
            .with_context(|| format!("{}: corrupt segment model", path.display()))?;
        Ok(m)
    }

    /// Checks that the parts fit together — scaler, PCA and clustering agree on their dimensions, and
    /// every segment number is below `k` — so a hand-edited or damaged file is refused when it is read,
    /// never a panic when rows are assigned.
    pub fn check(&self) -> anyhow::Result<()> {
        let sc = &self.scaler;
        let d = sc.names.len();
        ensure!(d >= 1, "the scaler has no columns");
        for (what, n) in [
            ("means", sc.mean.len()),
            ("scales", sc.scale.len()),
            ("constant flags", sc.constant.len()),
        ] {
            ensure!(n == d, "the scaler has {d} columns but {n} {what}");
        }
        let pca = &self.pca;
        let p = pca.dims();
        ensure!(p >= 1, "the PCA keeps no component");
        ensure!(
            pca.components.ncols() == d && pca.mean.len() == d,
            "the PCA is {}×{} with {} means, for {d} columns",
            p,
            pca.components.ncols(),
            pca.mean.len()
        );
        let k = self.k;
        let labels_below_k = |labels: &[u32], what: &str| -> anyhow::Result<()> {
            if let Some(&l) = labels.iter().find(|&&l| l as usize >= k) {
                bail!("{what} names segment {l}, but the model has {k} segments");
            }
            Ok(())
        };
        match &self.cluster {
            ClusterModel::Kmeans { centroids } => {
                ensure!(
                    centroids.nrows() == k && k >= 1 && centroids.ncols() == p,
                    "{} k-means centres of {} coordinates, for {k} segments of {p} PCA components",
                    centroids.nrows(),
                    centroids.ncols()
                );
            }
            ClusterModel::Gmm { model, relabel } => {
                let c = model.means().nrows();
                ensure!(
                    c >= 1 && model.means().ncols() == p,
                    "the mixture has {c} means of {} coordinates, for {p} PCA components",
                    model.means().ncols()
                );
                ensure!(
                    model.weights().len() == c && relabel.len() == c,
                    "the mixture has {c} components, {} weights and {} segment numbers",
                    model.weights().len(),
                    relabel.len()
                );
                // The Cholesky factors are private to linfa; their shape is read from the serde form.
                let v = serde_json::to_value(model)?;
                for key in ["covariances", "precisions", "precisions_chol"] {
                    let dim: Vec<usize> = v
                        .get(key)
                        .and_then(|a| a.get("dim"))
                        .and_then(|d| serde_json::from_value(d.clone()).ok())
                        .unwrap_or_default();
                    ensure!(
                        dim == [c, p, p],
                        "the mixture's {key} are {dim:?}, expected [{c}, {p}, {p}]"
                    );
                }
                ensure!(k <= c, "{k} segments from {c} mixture components");
                labels_below_k(relabel, "the mixture")?;
            }
            ClusterModel::Dbscan {
                eps,
                core,
                core_labels,
            } => {
                ensure!(
                    eps.is_finite() && *eps >= 0.0,
                    "DBSCAN radius {eps} is not a finite non-negative number"
                );
                ensure!(
                    core_labels.len() == core.nrows(),
                    "{} DBSCAN core rows but {} core segment numbers",
                    core.nrows(),
                    core_labels.len()
                );
                ensure!(
                    core.nrows() == 0 || core.ncols() == p,
                    "DBSCAN core rows of {} coordinates, for {p} PCA components",
                    core.ncols()
                );
                ensure!(
                    k <= core.nrows(),
                    "{k} segments from {} DBSCAN core rows",
                    core.nrows()
                );
                labels_below_k(core_labels, "a DBSCAN core row")?;
            }
        }
        Ok(())
    }
}

/// A fitted segmentation of the rows of a matrix.
pub struct Segmentation {
    /// The fitted pipeline.
    pub model: SegmentModel,
    /// Segment of each row (`None` = DBSCAN noise).
    pub labels: Vec<Option<u32>>,
    /// Scores of every k tried (one entry for DBSCAN).
    pub per_k: Vec<KScore>,
    /// Silhouette of the chosen labels.
    pub silhouette: Silhouette,
    /// The PCA coordinates of every row (`rows × p`).
    pub y: Array2<f32>,
    /// t-SNE map of a sample (when asked for and possible).
    pub tsne: Option<TsneMap>,
    /// Why there is no t-SNE map, when there is none.
    pub tsne_note: Option<String>,
    /// Constant columns (0 after standardisation).
    pub constant_columns: Vec<String>,
}

impl Segmentation {
    /// Rows in each segment (index = segment), and the noise rows.
    pub fn sizes(&self) -> (Vec<usize>, usize) {
        let mut s = vec![0usize; self.model.k];
        let mut noise = 0;
        for l in &self.labels {
            match l {
                Some(c) => s[*c as usize] += 1,
                None => noise += 1,
            }
        }
        (s, noise)
    }
}

/// Number of distinct rows of `x` (bitwise), stopping once `limit` is reached.
fn distinct_rows(x: ArrayView2<'_, f32>, limit: usize) -> usize {
    let mut seen: HashSet<Vec<u32>> = HashSet::new();
    for r in x.rows() {
        seen.insert(r.iter().map(|v| v.to_bits()).collect());
        if seen.len() >= limit {
            break;
        }
    }
    seen.len()
}

/// Relabels clusters by decreasing size (ties: the smaller old label first), so segment 0 is the
/// largest and labels do not depend on an algorithm's internal numbering.
fn by_size(labels: &mut [Option<u32>], k: usize) -> Vec<u32> {
    let mut size = vec![0usize; k];
    for c in labels.iter().flatten() {
        size[*c as usize] += 1;
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| size[b].cmp(&size[a]).then(a.cmp(&b)));
    let mut new_of = vec![0u32; k];
    for (new, &old) in order.iter().enumerate() {
        new_of[old] = new as u32;
    }
    for c in labels.iter_mut().flatten() {
        *c = new_of[*c as usize];
    }
    new_of
}

/// Permutes the rows of a per-cluster array to the new labels.
fn permute_rows(a: &Array2<f64>, new_of: &[u32]) -> Array2<f64> {
    let mut out = a.clone();
    for (old, &new) in new_of.iter().enumerate() {
        out.row_mut(new as usize).assign(&a.row(old));
    }
    out
}

/// Fits one k-means with the chosen engine.
fn fit_kmeans(y: ArrayView2<'_, f32>, k: usize, p: &SegmentParams) -> anyhow::Result<KMeansFit> {
    let kp = KMeansParams::new(k, p.seed);
    match p.engine {
        Engine::Cartseq => Ok(kmeans::fit(y, &kp)),
        Engine::Linfa => kmeans::fit_linfa(y, &kp),
    }
}

/// Fits a Gaussian mixture (full covariances, k-means start, seeded).
fn fit_gmm(
    y: ArrayView2<'_, f32>,
    k: usize,
    seed: u64,
) -> anyhow::Result<linfa_clustering::GaussianMixtureModel<f64>> {
    use linfa::traits::Fit;
    let ds = linfa::DatasetBase::from(y.mapv(f64::from));
    linfa_clustering::GaussianMixtureModel::params_with_rng(k, ChaCha8Rng::seed_from_u64(seed))
        .n_runs(1)
        .tolerance(1e-3)
        .reg_covariance(1e-6)
        .max_n_iterations(100)
        .fit(&ds)
        .map_err(|e| anyhow::anyhow!("Gaussian mixture with k = {k}: {e}"))
}

/// Segments the rows of `m` as `p` asks; `recipe` says how `m` was built (saved in the model).
pub fn fit(m: &Matrix, p: &SegmentParams, recipe: input::Recipe) -> anyhow::Result<Segmentation> {
    p.check()?;
    let (n, d) = m.x.dim();
    ensure!(d >= 1, "the input has no numeric column to segment");
    ensure!(n >= 2, "segmentation needs at least 2 rows, found {n}");
    let scaler = Scaler::fit(m.x.view(), &m.names);
    let constant_columns = scaler.constant_columns();
    ensure!(
        constant_columns.len() < d,
        "every one of the {d} columns is constant over the {n} rows: nothing tells the rows apart"
    );
    if p.method != Method::Dbscan {
        ensure!(
            n >= p.k_max,
            "--k {}..{}: {n} rows cannot form {} segments; lower --k",
            p.k_min,
            p.k_max,
            p.k_max
        );
        let distinct = distinct_rows(m.x.view(), p.k_max);
        ensure!(
            distinct >= p.k_max,
            "--k {}..{}: the {n} rows have only {distinct} distinct value(s), so at most {distinct} \
             segment(s); lower --k",
            p.k_min,
            p.k_max
        );
    }
    let mut z = m.x.clone();
    scaler.transform_inplace(&mut z);
    let pca = Pca::fit(z.view(), p.pca)?;
    let y = pca.transform(z.view());
    drop(z);
    let (mut labels, k, cluster, per_k) = cluster(y.view(), p)?;
    let new_of = by_size(&mut labels, k);
    let cluster = match cluster {
        ClusterModel::Kmeans { centroids } => ClusterModel::Kmeans {
            centroids: permute_rows(&centroids, &new_of),
        },
        ClusterModel::Dbscan {
            eps,
            core,
            core_labels,
        } => ClusterModel::Dbscan {
            eps,
            core,
            core_labels: core_labels.iter().map(|&c| new_of[c as usize]).collect(),
        },
        // The mixture keeps its component order; its components are mapped to segments.
        ClusterModel::Gmm { model, relabel } => ClusterModel::Gmm {
            model,
            relabel: relabel.iter().map(|&c| new_of[c as usize]).collect(),
        },
    };
    let silhouette = silhouette::silhouette(y.view(), &labels, p.seed);
    let (tsne, tsne_note) = match tsne_map(y.view(), p) {
        Ok(t) => (t, None),
        Err(e) => (None, Some(format!("{e:#}"))),
    };
    let model = SegmentModel {
        format: MODEL_FORMAT.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        recipe,
        scaler,
        pca,
        cluster,
        k,
    };
    Ok(Segmentation {
        model,
        labels,
        per_k,
        silhouette,
        y,
        tsne,
        tsne_note,
        constant_columns,
    })
}

type Clustered = (Vec<Option<u32>>, usize, ClusterModel, Vec<KScore>);

/// Runs the chosen algorithm on the PCA coordinates.
fn cluster(y: ArrayView2<'_, f32>, p: &SegmentParams) -> anyhow::Result<Clustered> {
    match p.method {
        Method::Kmeans | Method::Gmm => {
            let mut best: Option<(f64, Vec<Option<u32>>, usize, ClusterModel)> = None;
            let mut per_k = Vec::new();
            for k in p.k_min..=p.k_max {
                let t = Instant::now();
                let (labels, model, inertia) = if p.method == Method::Kmeans {
                    let f = fit_kmeans(y, k, p)?;
                    let labels: Vec<Option<u32>> = f.labels.iter().map(|&l| Some(l)).collect();
                    let inertia = f.inertia;
                    (
                        labels,
                        ClusterModel::Kmeans {
                            centroids: f.centroids,
                        },
                        Some(inertia),
                    )
                } else {
                    let g = fit_gmm(y, k, p.seed)?;
                    let model = ClusterModel::Gmm {
                        model: g,
                        relabel: (0..k as u32).collect(),
                    };
                    (model.assign(y), model, None)
                };
                let fit_seconds = t.elapsed().as_secs_f64();
                let s = silhouette::silhouette(y, &labels, p.seed);
                // k = 1 has no silhouette: it only wins when it is the only k tried.
                let score = s.score.unwrap_or(f64::NEG_INFINITY);
                per_k.push(KScore {
                    k,
                    silhouette: s.score,
                    inertia,
                    fit_seconds,
                });
                if best.as_ref().map_or(true, |b| score > b.0) {
                    best = Some((score, labels, k, model));
                }
            }
            let (_, labels, k, model) = best.context("internal: no k was tried")?;
            Ok((labels, k, model, per_k))
        }
        Method::Dbscan => {
            use linfa::traits::Transformer;
            let t = Instant::now();
            let yf = y.mapv(f64::from);
            let raw = linfa_clustering::Dbscan::params(p.min_points)
                .tolerance(p.eps)
                .transform(&yf)
                .map_err(|e| anyhow::anyhow!("DBSCAN: {e}"))?;
            let labels: Vec<Option<u32>> = raw.iter().map(|l| l.map(|c| c as u32)).collect();
            let k = labels
                .iter()
                .flatten()
                .map(|&c| c as usize + 1)
                .max()
                .unwrap_or(0);
            ensure!(
                k >= 1,
                "DBSCAN found no cluster: every row is noise at --eps {} --min-points {}; raise --eps \
                 or lower --min-points",
                p.eps,
                p.min_points
            );
            let core = core_rows(yf.view(), p.eps, p.min_points);
            let core_labels: Vec<u32> = core.iter().filter_map(|&i| labels[i]).collect();
            let core_m = yf.select(Axis(0), &core);
            let s = silhouette::silhouette(y, &labels, p.seed);
            let per_k = vec![KScore {
                k,
                silhouette: s.score,
                inertia: None,
                fit_seconds: t.elapsed().as_secs_f64(),
            }];
            Ok((
                labels,
                k,
                ClusterModel::Dbscan {
                    eps: p.eps,
                    core: core_m,
                    core_labels,
                },
                per_k,
            ))
        }
    }
}

/// Segments the rows of `m` and profiles the segments (with what only a log has when `rows` is
/// given): the one pipeline behind `cartseq segment` and `cartseq report --segments`.
pub fn run(
    m: &Matrix,
    rows: Option<&input::LogRows>,
    p: &SegmentParams,
    recipe: input::Recipe,
    top: usize,
) -> anyhow::Result<(Segmentation, render::Summary)> {
    let s = fit(m, p, recipe)?;
    let features = rows.map_or(m, |r| &r.features);
    let profiles = profile::profiles(&s.labels, s.model.k, features, rows, top)
        .context("profiling the segments")?;
    let summary = render::summary(&s, p, profiles);
    Ok((s, summary))
}

/// The report's "Segments" section for an already loaded log: the behaviour features at `cutoff`,
/// k-means over `k` 2..8 by silhouette, seeded; a failure becomes a sentence in the section.
pub fn report_section(
    log: &cartseq_data::EventLog,
    dict: &cartseq_data::Dictionary,
    input: &crate::input::InputSpec,
    cutoff: i64,
    horizon_ms: i64,
    seed: u64,
    number: usize,
) -> String {
    let p = SegmentParams {
        seed,
        ..SegmentParams::default()
    };
    let opts = input::LogOptions {
        cutoff: Some(cutoff),
        horizon_ms,
        represent: Represent::Features,
        patterns: 20,
        pattern_tokens: crate::behaviour::SeqTokens::ActionCategory,
        pattern_max_len: 3,
        history: 200,
    };
    let result =
        input::from_events(log.clone(), dict.clone(), input, &opts, None).and_then(|rows| {
            let (s, summary) = run(&rows.matrix, Some(&rows), &p, rows.recipe.clone(), 5)?;
            Ok(render::html_section(
                &summary,
                render::scatter(&s, (560, 420)),
                number,
            ))
        });
    result.unwrap_or_else(|e| {
        format!(
            "<h2>{number}. Segments</h2><p class=muted>{}</p>",
            crate::report::esc(&format!("no segmentation: {e:#}"))
        )
    })
}

/// Rows with at least `min_points` rows (themselves included) within `eps`: DBSCAN's core rows.
fn core_rows(y: ArrayView2<'_, f64>, eps: f64, min_points: usize) -> Vec<usize> {
    use linfa_nn::{distance::L2Dist, CommonNearestNeighbour, NearestNeighbour};
    let Ok(index) = CommonNearestNeighbour::KdTree.from_batch(&y, L2Dist) else {
        return Vec::new();
    };
    (0..y.nrows())
        .filter(|&i| {
            index
                .within_range(y.row(i), eps)
                .is_ok_and(|v| v.len() >= min_points)
        })
        .collect()
}

/// The t-SNE map of a seeded sample of at most `p.tsne_sample` rows of `y`.
fn tsne_map(y: ArrayView2<'_, f32>, p: &SegmentParams) -> anyhow::Result<Option<TsneMap>> {
    use linfa::traits::Transformer;
    if p.tsne_sample == 0 {
        return Ok(None);
    }
    let n = y.nrows();
    let rows = cartseq_models::sample::sorted_sample(n, p.tsne_sample, p.seed ^ 0x75E5);
    let m = rows.len();
    ensure!(
        m >= 5,
        "t-SNE needs at least 5 rows, found {m}: no map drawn"
    );
    let perplexity = p.perplexity.min((m as f64 - 1.0) / 3.0 - 1e-9);
    let data = y.select(Axis(0), &rows).mapv(f64::from);
    let t = Instant::now();
    let coords = match p.tsne_engine {
        Engine::Cartseq => tsne::embed(
            data.view(),
            &tsne::TsneParams {
                perplexity,
                iterations: p.tsne_iter,
                theta: 0.5,
            },
        ),
        Engine::Linfa => {
            let mut data = data;
            if data.ncols() < 2 {
                let zeros = Array2::<f64>::zeros((m, 1));
                data = ndarray::concatenate(Axis(1), &[data.view(), zeros.view()])?;
            }
            linfa_tsne::TSneParams::embedding_size_with_rng(2, ChaCha8Rng::seed_from_u64(p.seed))
                .perplexity(perplexity)
                .approx_threshold(0.5)
                .max_iter(p.tsne_iter)
                .transform(data)
                .map_err(|e| anyhow::anyhow!("t-SNE: {e}"))?
        }
    };
    Ok(Some(TsneMap {
        rows,
        coords,
        perplexity,
        seconds: t.elapsed().as_secs_f64(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: Vec<Vec<f32>>) -> Matrix {
        let n = rows.len();
        let d = rows[0].len();
        Matrix {
            ids: (0..n).map(|i| format!("u{i}")).collect(),
            names: (0..d).map(|j| format!("c{j}")).collect(),
            x: Array2::from_shape_vec((n, d), rows.concat()).unwrap(),
        }
    }

    fn recipe() -> input::Recipe {
        input::Recipe::csv(Represent::Features)
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let p = SegmentParams {
            tsne_sample: 0,
            ..SegmentParams::default()
        };
        let identical = matrix(vec![vec![1.0, 2.0]; 20]);
        let e = fit(&identical, &p, recipe()).err().unwrap().to_string();
        assert!(e.contains("constant"), "{e}");
        let few = matrix(vec![vec![1.0, 2.0], vec![2.0, 1.0], vec![3.0, 0.0]]);
        let e = fit(&few, &p, recipe()).err().unwrap().to_string();
        assert!(e.contains("3 rows cannot form 8 segments"), "{e}");
        let mut dup = vec![vec![0.0, 0.0]; 10];
        dup.extend(vec![vec![1.0, 1.0]; 10]);
        let e = fit(&matrix(dup), &p, recipe()).err().unwrap().to_string();
        assert!(e.contains("only 2 distinct"), "{e}");
        let bad = SegmentParams {
            k_min: 5,
            k_max: 2,
            ..p.clone()
        };
        assert!(bad.check().is_err());
    }

    #[test]
    fn a_constant_column_is_reported_and_ignored() {
        let rows: Vec<Vec<f32>> = (0..60)
            .map(|i| vec![if i < 30 { 0.0 } else { 9.0 } + (i % 7) as f32 * 0.1, 3.0])
            .collect();
        let p = SegmentParams {
            k_min: 2,
            k_max: 3,
            tsne_sample: 0,
            ..SegmentParams::default()
        };
        let s = fit(&matrix(rows), &p, recipe()).unwrap();
        assert_eq!(s.constant_columns, vec!["c1".to_string()]);
        assert_eq!(s.model.k, 2);
        assert_eq!(s.sizes().0, vec![30, 30]);
    }
}
