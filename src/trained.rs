//! The trained-model file of `cartseq train`: what `eval` needs besides the fitted model — the model
//! name and parameters, the feature columns, the classes, the sequence models' token vocabulary and the
//! fitted featurizer of the table it was trained on — followed by the models crate's versioned model
//! file. [`TrainedModel::check_table`] is the one place that decides whether a feature table can be
//! scored by a model.
//!
//! Layout: a one-line JSON `cartseq-trained` header, a newline, then the model file (streamed both ways,
//! never a second in-memory copy of a large forest).

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use cartseq_models::FittedModel;
use serde::{Deserialize, Serialize};

use crate::feature_table::FeatureTable;
use crate::featurizer::FittedFeaturizer;
use crate::output::AtomicFile;
use crate::tasks::table::SeqVocab;

/// Magic string of a trained-model file.
pub const TRAINED_MAGIC: &str = "cartseq-trained";
/// Format version of a trained-model file.
pub const TRAINED_VERSION: u64 = 1;

/// What `eval` needs besides the model: how to turn a feature CSV into the model's input.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelHeader {
    /// `cartseq-trained`.
    pub magic: String,
    /// Format version.
    pub format_version: u64,
    /// Model name as given to `--model`.
    pub model: String,
    /// Parameters applied (`key=value`).
    pub params: Vec<String>,
    /// Feature columns, in order.
    pub feature_names: Vec<String>,
    /// Number of classes.
    pub n_classes: usize,
    /// Token vocabulary of sequence models.
    pub seq_vocab: Option<SeqVocab>,
    /// The fitted featurizer of the feature table the model was trained on (absent in files written
    /// before it was recorded, and for tables that came without a manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub featurizer: Option<FittedFeaturizer>,
    /// What the table read besides each user's events (item statistics, horizon, columns), so that
    /// `cartseq serve` computes a live user's features as `task` did (absent in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<crate::online_features::FeatureContext>,
}

/// A trained model with its header.
pub struct TrainedModel {
    /// The header.
    pub header: ModelHeader,
    /// The fitted model.
    pub model: FittedModel,
}

impl TrainedModel {
    /// Writes `{header…, "body": <models-crate model file>}`.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        // Streamed: header line, then the model file, never a second in-memory copy of a large forest.
        let mut out = AtomicFile::create(path)?;
        serde_json::to_writer(&mut out, &self.header)?;
        out.write_all(b"\n")?;
        self.model
            .save(&mut out)
            .with_context(|| format!("saving the {} model", self.header.model))?;
        out.flush()?;
        out.commit()
    }

    /// Reads a file written by [`TrainedModel::save`]; a wrong or corrupt file is a clear error.
    pub fn load(path: &Path) -> anyhow::Result<TrainedModel> {
        let p = path.display();
        let f = std::fs::File::open(path).with_context(|| format!("cannot open {p}"))?;
        let mut r = std::io::BufReader::with_capacity(1 << 20, f);
        let mut first = Vec::new();
        // The header is one line (with the item statistics of the online features, up to some MiB); a
        // foreign file without a newline is cut at 256 MiB.
        std::io::BufRead::read_until(&mut std::io::Read::take(&mut r, 1 << 28), b'\n', &mut first)
            .with_context(|| format!("cannot read {p}"))?;
        let header: ModelHeader = serde_json::from_slice(&first).map_err(|e| {
            anyhow::anyhow!("{p}: not a cartseq model file written by `cartseq train` ({e})")
        })?;
        if header.magic != TRAINED_MAGIC {
            bail!(
                "{p}: not a cartseq model file (magic {:?}, expected {TRAINED_MAGIC:?})",
                header.magic
            );
        }
        if header.format_version != TRAINED_VERSION {
            bail!(
                "{p}: model file format {} is not supported (expected {TRAINED_VERSION}); retrain with this version",
                header.format_version
            );
        }
        let model = cartseq_models::load_any(r).with_context(|| format!("{p}"))?;
        check_consistent(&header, &model).map_err(|e| anyhow::anyhow!("{p}: {e}"))?;
        Ok(TrainedModel { header, model })
    }
}

/// The header and the model inside must describe the same model: its classes, its feature count
/// (for a model reading features), a vocabulary for a sequence model. A hand-edited file where they
/// disagree would otherwise fail deep inside scoring, or score the wrong columns.
fn check_consistent(h: &ModelHeader, model: &cartseq_models::FittedModel) -> anyhow::Result<()> {
    use cartseq_models::Input;
    let Some(sig) = model.signature() else {
        return Ok(());
    };
    if h.n_classes < 2 || sig.n_classes != h.n_classes {
        bail!(
            "inconsistent model file: the header says {} classes, the {} model inside has {}",
            h.n_classes,
            h.model,
            sig.n_classes
        );
    }
    match sig.input {
        Input::Features(d) if d != h.feature_names.len() => bail!(
            "inconsistent model file: the header lists {} features, the {} model inside reads {d}",
            h.feature_names.len(),
            h.model
        ),
        Input::Sequences if h.seq_vocab.is_none() => bail!(
            "inconsistent model file: the {} model reads token sequences but the header has no vocabulary",
            h.model
        ),
        _ => Ok(()),
    }
}

impl TrainedModel {
    /// Checks that `table` (read from `path`) can be scored by this model: same feature columns in the
    /// same order, labels within the model's classes, a `seq` column for sequence models, and — when
    /// both sides know it — the same fitted featurizer (same input, task options and pattern set).
    /// `csv_featurizer` is the featurizer recorded in the table's manifest.
    pub fn check_table(
        &self,
        table: &FeatureTable,
        path: &Path,
        csv_featurizer: Option<&FittedFeaturizer>,
    ) -> anyhow::Result<()> {
        let h = &self.header;
        let p = path.display();
        if let (Some(m), Some(c)) = (&h.featurizer, csv_featurizer) {
            if m.fingerprint != c.fingerprint {
                bail!(
                    "{p}: built with another featurizer than the model — {}; the model's is {}, the CSV's is \
                     {}; evaluate on a CSV from the same `cartseq task` run the model was trained on",
                    m.difference(c),
                    m.summary(),
                    c.summary()
                );
            }
        }
        if table.feature_names != h.feature_names {
            let k = table
                .feature_names
                .iter()
                .zip(&h.feature_names)
                .position(|(a, b)| a != b)
                .unwrap_or(table.feature_names.len().min(h.feature_names.len()));
            let name = |n: Option<&String>| n.map_or("no column".to_string(), |s| format!("{s:?}"));
            bail!(
                "{p}: feature columns differ from the model's at column {}: the CSV has {}, the model \
                 {}; export the CSV with the same task options",
                k + 4,
                name(table.feature_names.get(k)),
                name(h.feature_names.get(k))
            );
        }
        if let Some(&bad) = table.label.iter().find(|&&l| l >= h.n_classes) {
            bail!("{p}: label {bad} but the model has {} classes", h.n_classes);
        }
        if h.seq_vocab.is_some() && table.seqs.is_none() {
            bail!(
                "{p}: no `seq` column; this {} model reads token sequences (export with `cartseq task … --seq`)",
                h.model
            );
        }
        Ok(())
    }
}
