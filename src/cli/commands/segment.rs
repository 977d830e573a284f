//! `cartseq segment INPUT [--preset P …] [--represent features|patterns|features+patterns] [--k 2..12 |
//! --method gmm | --method dbscan --eps E --min-points N] [--pca-var 0.9 | --pca-dims N] [-o segments.csv]
//! [--json] [--svg segments.svg] [--save-model model.json]`, or `cartseq segment INPUT --apply model.json
//! -o segments.csv` — customer segmentation: standardise, PCA, cluster, a 2-D t-SNE map, and each
//! segment's funnel, separating features, top items, discriminative patterns and rules.
//!
//! With `--preset` (or generic column options) INPUT is a log and each row is a user (a session for
//! session presets) with the features `task` computes before `--cutoff`; without, INPUT is a feature
//! CSV (`task -o`) or an embedding CSV (`nextitem --embeddings`).
//!
//! Memory: the log (≈ 21 bytes per event) plus 4 bytes × rows × (columns + PCA components); time:
//! one k-means (or mixture) fit and one silhouette per k — the silhouette is exact (`rows²·dims`) up to
//! 20,000 rows and on a seeded 20,000-row sample above — plus t-SNE on at most `--tsne-sample` rows.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use cartseq::behaviour::SeqTokens;
use cartseq::manifest::Manifest;
use cartseq::output::AtomicFile;
use cartseq::segment::input::{from_csv, from_log, LogOptions, LogRows, Recipe};
use cartseq::segment::pca::PcaChoice;
use cartseq::segment::{render, Engine, Matrix, Method, Represent, SegmentModel, SegmentParams};

use crate::cli::args::input::InputArgs;
use crate::cli::args::named;
use crate::cli::args::task::parse_cutoff;
use crate::cli::Global;

fn parse_k(s: &str) -> Result<(usize, usize), String> {
    let num = |t: &str| {
        t.trim()
            .parse::<usize>()
            .map_err(|_| format!("expected a number or a range such as 2..12, found {s:?}"))
    };
    match s.split_once("..") {
        Some((a, b)) => Ok((num(a)?, num(b.trim_start_matches('='))?)),
        None => num(s).map(|k| (k, k)),
    }
}

/// Arguments of `segment`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The log (with --preset) or a feature / embedding CSV (without).
    #[command(flatten)]
    pub input: InputArgs,
    /// Features read events strictly before this time: a date (2017-12-03, UTC), Unix seconds, or
    /// `auto` (task's: the 99.9th percentile of event times minus --horizon, floored to the hour).
    #[arg(
        long,
        default_value = "auto",
        value_name = "DATE|auto",
        help_heading = "Rows"
    )]
    pub cutoff: String,
    /// The "last horizon" window of the behaviour features (n_events_last_h, …), as in task.
    #[arg(long, default_value = "1d", value_parser = cartseq_data::time::parse_duration, value_name = "DURATION", help_heading = "Rows")]
    pub horizon: i64,
    /// What each row becomes: features, patterns, embeddings (a CSV) or features+patterns.
    #[arg(long, default_value = "features", value_parser = named::<Represent>(), value_name = "REPR", help_heading = "Rows")]
    pub represent: Represent,
    /// Pattern representations: the K most frequent patterns of two or more events become columns.
    #[arg(long, default_value_t = 20, value_name = "K", help_heading = "Rows")]
    pub patterns: usize,
    /// Pattern tokens: `action` or `action-category`.
    #[arg(long, value_parser = named::<SeqTokens>(), default_value = "action-category", value_name = "TOKEN", help_heading = "Rows")]
    pub pattern_tokens: SeqTokens,
    /// Longest pattern (columns, profiles), in events.
    #[arg(long, default_value_t = 3, value_name = "N", help_heading = "Rows")]
    pub pattern_max_len: usize,
    /// Each row's sequence for patterns: its last N events before the cutoff.
    #[arg(long, default_value_t = 200, value_name = "N", help_heading = "Rows")]
    pub pattern_history: usize,

    /// Clustering: kmeans, gmm (Gaussian mixture) or dbscan.
    #[arg(long, default_value = "kmeans", value_parser = named::<Method>(), help_heading = "Clustering")]
    pub method: Method,
    /// Number of segments, or a range (2..12): every k is fitted and the best silhouette wins.
    #[arg(long, default_value = "2..8", value_parser = parse_k, value_name = "K|LO..HI", help_heading = "Clustering")]
    pub k: (usize, usize),
    /// DBSCAN radius, in standardised PCA units.
    #[arg(
        long,
        default_value_t = 0.5,
        value_name = "E",
        help_heading = "Clustering"
    )]
    pub eps: f64,
    /// DBSCAN: rows within --eps (the row included) that make a core row.
    #[arg(
        long,
        default_value_t = 5,
        value_name = "N",
        help_heading = "Clustering"
    )]
    pub min_points: usize,
    /// PCA keeps the fewest components explaining this share of the variance.
    #[arg(
        long,
        default_value_t = 0.9,
        value_name = "F",
        conflicts_with = "pca_dims",
        help_heading = "Clustering"
    )]
    pub pca_var: f64,
    /// PCA keeps exactly N components.
    #[arg(long, value_name = "N", help_heading = "Clustering")]
    pub pca_dims: Option<usize>,
    /// k-means implementation: cartseq (Lloyd, default) or linfa (linfa-clustering, for comparison).
    #[arg(long, default_value = "cartseq", value_parser = named::<Engine>(), value_name = "ENGINE", help_heading = "Clustering")]
    pub kmeans_engine: Engine,
    /// Seed of k-means++, the mixture, the silhouette sample and t-SNE.
    #[arg(long, default_value_t = 42, help_heading = "Clustering")]
    pub seed: u64,

    /// t-SNE map of at most N rows (a seeded sample); 0 = none (the picture then shows PC1/PC2).
    #[arg(long, default_value_t = 2000, value_name = "N", help_heading = "Map")]
    pub tsne_sample: usize,
    /// t-SNE perplexity (lowered for very few rows).
    #[arg(long, default_value_t = 30.0, value_name = "P", help_heading = "Map")]
    pub perplexity: f64,
    /// t-SNE iterations.
    #[arg(long, default_value_t = 1000, value_name = "N", help_heading = "Map")]
    pub tsne_iter: usize,
    /// t-SNE implementation: cartseq (Barnes–Hut, reproducible, default) or linfa (linfa-tsne, for
    /// comparison: its maps change from run to run).
    #[arg(long, default_value = "cartseq", value_parser = named::<Engine>(), value_name = "ENGINE", help_heading = "Map")]
    pub tsne_engine: Engine,

    /// Rows of each profile list (features, items, patterns, rules).
    #[arg(long, default_value_t = 5, value_name = "N", help_heading = "Output")]
    pub top: usize,
    /// Write `id,segment,pc1,pc2,tsne_x,tsne_y` (atomically, with OUT.manifest.json).
    #[arg(short, long, help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Print the summary (k, silhouette per k, sizes, profiles) as one JSON object.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// Write the scatter plot coloured by segment (SVG).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub svg: Option<PathBuf>,
    /// Also write the matrix as it enters standardisation (`id,<column>,…`): the input of the
    /// scikit-learn side-by-side (benches/peers/segment_sklearn.py).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub matrix_out: Option<PathBuf>,
    /// Save the fitted pipeline (scaler, PCA, clusters) to assign new rows with --apply.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub save_model: Option<PathBuf>,
    /// Assign the rows of INPUT to the segments of a saved model (no fitting).
    #[arg(
        long,
        value_name = "MODEL",
        conflicts_with = "save_model",
        help_heading = "Output"
    )]
    pub apply: Option<PathBuf>,
}

impl Args {
    fn params(&self) -> SegmentParams {
        SegmentParams {
            method: self.method,
            k_min: self.k.0,
            k_max: self.k.1,
            eps: self.eps,
            min_points: self.min_points,
            pca: match self.pca_dims {
                Some(p) => PcaChoice::Dims(p),
                None => PcaChoice::Variance(self.pca_var),
            },
            tsne_sample: self.tsne_sample,
            perplexity: self.perplexity,
            tsne_iter: self.tsne_iter,
            seed: self.seed,
            engine: self.kmeans_engine,
            tsne_engine: self.tsne_engine,
        }
    }

    fn is_log(&self) -> bool {
        self.input.preset.is_some() || self.input.item_col.is_some()
    }

    fn log_options(&self, represent: Represent) -> anyhow::Result<LogOptions> {
        let cutoff = parse_cutoff(&self.cutoff)?;
        anyhow::ensure!(self.horizon > 0, "--horizon must be positive (e.g. 1d)");
        Ok(LogOptions {
            cutoff,
            horizon_ms: self.horizon,
            represent,
            patterns: self.patterns,
            pattern_tokens: self.pattern_tokens,
            pattern_max_len: self.pattern_max_len,
            history: self.pattern_history,
        })
    }

    /// The rows: a log's (with what profiles need) or a CSV's.
    fn rows(
        &self,
        model: Option<&Recipe>,
        quiet: bool,
    ) -> anyhow::Result<(Matrix, Option<LogRows>, Recipe)> {
        let represent = model.map_or(self.represent, |r| r.represent);
        if self.is_log() {
            if model.is_some_and(|r| r.source != "log") {
                bail!(
                    "the model was fitted on a CSV; give a CSV with the same columns (no --preset)"
                );
            }
            let mut opts = self.log_options(represent)?;
            if let Some(h) = model.and_then(|r| r.horizon_ms) {
                opts.horizon_ms = h;
            }
            let rows = from_log(&self.input.spec()?, &opts, model, quiet)?;
            let recipe = rows.recipe.clone();
            Ok((rows.matrix.clone(), Some(rows), recipe))
        } else {
            if model.is_some_and(|r| r.source == "log") {
                bail!("the model was fitted on a log; give the log with its --preset");
            }
            if represent.has_patterns() {
                bail!(
                    "--represent {} mines patterns from a log: give the log with --preset",
                    represent.name()
                );
            }
            let m = from_csv(&self.input.input)?;
            Ok((m, None, Recipe::csv(represent)))
        }
    }

    fn id_column(&self) -> String {
        if self.is_log() {
            self.input
                .spec()
                .map_or_else(|_| "id".to_owned(), |s| s.id_column().to_owned())
        } else {
            "id".to_owned()
        }
    }
}

/// Runs `segment`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let params = args.params();
    params.check()?;
    anyhow::ensure!(
        args.top <= 1000,
        "--top must be at most 1000, found {}",
        args.top
    );
    if let Some(path) = &args.apply {
        return apply(&args, path, global);
    }
    let (m, rows, recipe) = args.rows(None, global.quiet)?;
    if let Some(path) = &args.matrix_out {
        let mut f = AtomicFile::create(path)?;
        render::write_matrix_csv(&mut f, &m, &args.id_column())
            .with_context(|| format!("writing {}", path.display()))?;
        f.commit()?;
    }
    let (seg, summary) = cartseq::segment::run(&m, rows.as_ref(), &params, recipe, args.top)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &summary)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", render::text(&summary))?;
    }
    out.flush()?;
    if let Some(path) = &args.output {
        let mut f = AtomicFile::create(path)?;
        render::write_csv(&mut f, &m, &seg, &args.id_column())
            .with_context(|| format!("writing {}", path.display()))?;
        f.commit()?;
        let mut man = Manifest::new("segment");
        man.param("represent", args.represent.name())
            .param("segmentation", &params)
            .param("k", seg.model.k)
            .param("silhouette", seg.silhouette)
            .param("sizes", &summary.sizes)
            .count("rows", m.ids.len() as u64)
            .count("columns", m.names.len() as u64);
        if args.input.input.as_os_str() != "-" {
            man.input(&args.input.input)?;
        }
        man.output(path, "csv", m.ids.len() as u64);
        man.write_beside(path)?;
    }
    if let Some(path) = &args.svg {
        let svg = render::scatter_file(&seg)?;
        let mut f = AtomicFile::create(path)?;
        f.write_all(svg.as_bytes())?;
        f.commit()?;
    }
    if let Some(path) = &args.save_model {
        let mut f = AtomicFile::create(path)?;
        serde_json::to_writer(&mut f, &seg.model)?;
        f.commit()?;
    }
    Ok(())
}

/// `--apply`: the model's segments for the rows of INPUT.
fn apply(args: &Args, path: &std::path::Path, global: &Global) -> anyhow::Result<()> {
    let model = SegmentModel::read(path)?;
    let (m, _rows, _) = args.rows(Some(&model.recipe), global.quiet)?;
    let (labels, y) = model.apply(&m)?;
    let mut sizes = vec![0usize; model.k];
    let mut noise = 0usize;
    for l in &labels {
        match l {
            Some(c) => sizes[*c as usize] += 1,
            None => noise += 1,
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let v =
            serde_json::json!({"rows": labels.len(), "k": model.k, "sizes": sizes, "noise": noise});
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} rows assigned to {} segments: sizes {:?}, noise {noise}",
            labels.len(),
            model.k,
            sizes
        )?;
    }
    if let Some(o) = &args.output {
        let mut f = AtomicFile::create(o)?;
        render::write_labels_csv(&mut f, &m, &labels, &y, None, &args.id_column())
            .with_context(|| format!("writing {}", o.display()))?;
        f.commit()?;
        let mut man = Manifest::new("segment");
        man.param("apply", path.display().to_string())
            .count("rows", m.ids.len() as u64);
        if args.input.input.as_os_str() != "-" {
            man.input(&args.input.input)?;
        }
        man.input(path)?;
        man.output(o, "csv", m.ids.len() as u64);
        man.write_beside(o)?;
    }
    Ok(())
}
