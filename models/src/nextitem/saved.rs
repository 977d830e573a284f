//! Saved next-item models: one serde-tagged enum, [`SavedNextItem`], for every model `cartseq nextitem
//! --save-model` can write and `cartseq serve` can load, plus the item vocabulary that maps the model's
//! dense ids back to the item names of the log.
//!
//! File layout (the models crate's versioned envelope, see [`crate::persist`]):
//!
//! ```text
//! {"magic": "cartseq-model", "format_version": 1, "kind": "nextitem-gru", "model": {…},
//!  "precision": "f32", "items": ["214536502", "214840483", …]}
//! ```
//!
//! `kind` and `model` are the enum's adjacent tag and content, so **adding a model is one variant**
//! (plus one arm in [`SavedNextItem::as_model`] and in `SavedNextItem::check`): a new struct that
//! implements [`NextItemModel`] and serde. Files written before the vocabulary was recorded (networks
//! saved by earlier versions) load with items named by their dense id.
//!
//! Loading validates the header, the kind (an unknown kind names the accepted ones) and the shapes of
//! the body before the model can be used, so a truncated or corrupt file is an error, never a panic at
//! scoring time.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::nextitem::{
    Gru4RecModel, Hybrid, LastItemModel, NextItemModel, Prefixes, QuantizedGru4Rec, SasRecModel,
    ScoreSink, SequentialRules, SessionKnn, SrGnnModel, Stan, VSessionKnn,
};
use crate::nn::CellKind;
use crate::persist::{check_envelope, write_model_json, FORMAT_VERSION, MAGIC};
use crate::ModelError;
use crate::Sequences;

/// Every saved next-item model, tagged by its file `kind`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", content = "model")]
pub enum SavedNextItem {
    /// Most popular items.
    #[serde(rename = "nextitem-pop")]
    Pop(LastItemModel),
    /// First-order Markov chain.
    #[serde(rename = "nextitem-markov")]
    Markov(LastItemModel),
    /// Item-kNN of the last click.
    #[serde(rename = "nextitem-iknn")]
    Iknn(LastItemModel),
    /// Session-kNN.
    #[serde(rename = "nextitem-sknn")]
    Sknn(SessionKnn),
    /// Elman RNN network.
    #[serde(rename = "nextitem-rnn")]
    Rnn(Gru4RecModel),
    /// LSTM network.
    #[serde(rename = "nextitem-lstm")]
    Lstm(Gru4RecModel),
    /// GRU4Rec network.
    #[serde(rename = "nextitem-gru")]
    Gru(Gru4RecModel),
    /// A network compressed to int8 by `cartseq compress`.
    #[serde(rename = "nextitem-int8")]
    Int8(QuantizedGru4Rec),
    /// V-SKNN.
    #[serde(rename = "nextitem-vsknn")]
    Vsknn(VSessionKnn),
    /// STAN.
    #[serde(rename = "nextitem-stan")]
    Stan(Stan),
    /// VSTAN.
    #[serde(rename = "nextitem-vstan")]
    Vstan(Stan),
    /// Sequential rules.
    #[serde(rename = "nextitem-sr")]
    Sr(SequentialRules),
    /// SR-GNN (the same body as its own network file, so those files load too).
    #[serde(rename = "nextitem-srgnn")]
    SrGnn(Box<SrGnnModel>),
    /// SASRec (the same body as its own network file, so those files load too).
    #[serde(rename = "nextitem-sasrec")]
    SasRec(Box<SasRecModel>),
    /// A hybrid of saved models (`--model hybrid:…`, `stack:…`).
    #[serde(rename = "nextitem-hybrid")]
    Hybrid(Hybrid<SavedNextItem>),
}

impl SavedNextItem {
    /// The network variant of a trained network (by its cell).
    pub fn network(m: Gru4RecModel) -> Self {
        match m.params.cell {
            CellKind::Rnn => SavedNextItem::Rnn(m),
            CellKind::Lstm => SavedNextItem::Lstm(m),
            CellKind::Gru => SavedNextItem::Gru(m),
        }
    }

    /// The model behind the tag, to score with.
    pub fn as_model(&self) -> &dyn NextItemModel {
        match self {
            SavedNextItem::Pop(m) | SavedNextItem::Markov(m) | SavedNextItem::Iknn(m) => m,
            SavedNextItem::Sknn(m) => m,
            SavedNextItem::Rnn(m) | SavedNextItem::Lstm(m) | SavedNextItem::Gru(m) => m,
            SavedNextItem::Int8(m) => m,
            SavedNextItem::Vsknn(m) => m,
            SavedNextItem::Stan(m) | SavedNextItem::Vstan(m) => m,
            SavedNextItem::Sr(m) => m,
            SavedNextItem::SrGnn(m) => m.as_ref(),
            SavedNextItem::SasRec(m) => m.as_ref(),
            SavedNextItem::Hybrid(m) => m,
        }
    }

    /// Whether this is a trained network (its history and embeddings exist).
    pub fn is_network(&self) -> bool {
        matches!(
            self,
            SavedNextItem::Rnn(_)
                | SavedNextItem::Lstm(_)
                | SavedNextItem::Gru(_)
                | SavedNextItem::SrGnn(_)
                | SavedNextItem::SasRec(_)
        )
    }

    /// The weights' precision as stated in the file (`f32` or `int8`).
    pub fn precision(&self) -> &'static str {
        match self {
            SavedNextItem::Int8(_) => "int8",
            _ => "f32",
        }
    }

    /// Checks a loaded body: names the table name from the tag and validates every shape.
    fn check(self) -> Result<Self, String> {
        Ok(match self {
            SavedNextItem::Pop(m) => SavedNextItem::Pop(checked_last(m, "pop")?),
            SavedNextItem::Markov(m) => SavedNextItem::Markov(checked_last(m, "markov")?),
            SavedNextItem::Iknn(m) => SavedNextItem::Iknn(checked_last(m, "iknn")?),
            SavedNextItem::Sknn(m) => {
                m.check_loaded()?;
                SavedNextItem::Sknn(m)
            }
            SavedNextItem::Rnn(m) => SavedNextItem::Rnn(checked_net(m, CellKind::Rnn)?),
            SavedNextItem::Lstm(m) => SavedNextItem::Lstm(checked_net(m, CellKind::Lstm)?),
            SavedNextItem::Gru(m) => SavedNextItem::Gru(checked_net(m, CellKind::Gru)?),
            SavedNextItem::Int8(m) => {
                m.check_loaded()?;
                SavedNextItem::Int8(m)
            }
            SavedNextItem::Vsknn(m) => {
                m.check_loaded()?;
                SavedNextItem::Vsknn(m)
            }
            SavedNextItem::Stan(m) => {
                m.check_loaded(false)?;
                SavedNextItem::Stan(m)
            }
            SavedNextItem::Vstan(m) => {
                m.check_loaded(true)?;
                SavedNextItem::Vstan(m)
            }
            SavedNextItem::Sr(m) => {
                m.check_loaded()?;
                SavedNextItem::Sr(m)
            }
            SavedNextItem::SrGnn(mut m) => {
                m.check_loaded()?;
                SavedNextItem::SrGnn(m)
            }
            SavedNextItem::SasRec(mut m) => {
                m.check_loaded()?;
                SavedNextItem::SasRec(m)
            }
            SavedNextItem::Hybrid(m) => SavedNextItem::Hybrid(
                m.map_members(|x| x.check().map_err(ModelError::BadFile))
                    .map_err(|e| format!("hybrid: {e}"))?,
            ),
        })
    }
}

/// A saved model scores as the model behind its tag (so a fitted model is held once, in this form).
impl NextItemModel for SavedNextItem {
    fn name(&self) -> String {
        self.as_model().name()
    }
    fn n_items(&self) -> usize {
        self.as_model().n_items()
    }
    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        self.as_model().score_prefixes(sessions, rows, sink)
    }
    fn score_timed(&self, q: &Prefixes<'_>, sink: ScoreSink<'_>) {
        self.as_model().score_timed(q, sink)
    }
    fn score_session(&self, clicks: &[u32], scores: &mut Vec<f32>) {
        self.as_model().score_session(clicks, scores)
    }
}

fn checked_last(m: LastItemModel, name: &'static str) -> Result<LastItemModel, String> {
    m.check_loaded()?;
    Ok(m.named(name))
}

fn checked_net(mut m: Gru4RecModel, cell: CellKind) -> Result<Gru4RecModel, String> {
    if m.params.cell != cell {
        return Err(format!(
            "the file's kind says {} but the network is a {}",
            cell.name(),
            m.params.cell.name()
        ));
    }
    m.check_shapes()?;
    m.reset_grads();
    Ok(m)
}

/// Item names of a model's dense ids (`names[id]`), and the reverse lookup.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemVocab {
    names: Vec<String>,
    ids: std::collections::HashMap<String, u32>,
}

impl ItemVocab {
    /// The vocabulary of `names` (dense id = position). Duplicate names keep their first id.
    pub fn new(names: Vec<String>) -> Self {
        let mut ids = std::collections::HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            ids.entry(n.clone()).or_insert(i as u32);
        }
        ItemVocab { names, ids }
    }

    /// Items named `0..n` (files that did not record names).
    pub fn numbered(n: usize) -> Self {
        Self::new((0..n).map(|i| i.to_string()).collect())
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Dense id of a name.
    pub fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// Name of a dense id.
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }

    /// All names in id order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// A saved next-item model with its item names: what a `--save-model` file holds.
#[derive(Clone, Debug, PartialEq)]
pub struct NextItemFile {
    /// The model.
    pub model: SavedNextItem,
    /// Names of its items.
    pub items: ItemVocab,
}

impl NextItemFile {
    /// Writes the file (see the module docs for the layout).
    pub fn save<W: Write>(&self, w: W) -> Result<(), ModelError> {
        Self::save_parts(&self.model, self.items.names(), w)
    }

    /// Writes a file of `model` with item names `items` (what [`NextItemFile::save`] writes, from
    /// borrowed parts: a model shared elsewhere is not copied to be saved).
    pub fn save_parts<W: Write>(
        model: &SavedNextItem,
        items: &[String],
        w: W,
    ) -> Result<(), ModelError> {
        #[derive(Serialize)]
        struct Out<'a> {
            magic: &'a str,
            format_version: u64,
            #[serde(flatten)]
            model: &'a SavedNextItem,
            precision: &'a str,
            items: &'a [String],
        }
        let out = Out {
            magic: MAGIC,
            format_version: FORMAT_VERSION,
            model,
            precision: model.precision(),
            items,
        };
        write_model_json(w, &out, "cannot serialize model")
    }

    /// Reads and checks a file written by [`NextItemFile::save`] (or a network saved by an earlier
    /// version, without item names).
    pub fn load<R: Read>(r: R) -> Result<Self, ModelError> {
        let mut v: Value = serde_json::from_reader(std::io::BufReader::new(r)).map_err(|e| {
            if e.is_io() {
                ModelError::Io(std::io::Error::other(e.to_string()))
            } else if e.is_eof() {
                ModelError::BadFile(format!("truncated model file ({e})"))
            } else {
                ModelError::BadFile(format!("not a cartseq model file (not valid JSON: {e})"))
            }
        })?;
        let (items, precision) = match v.as_object_mut() {
            Some(o) => (o.remove("items"), o.remove("precision")),
            None => (None, None),
        };
        let (kind, body) = check_envelope(v)?;
        let tagged = serde_json::json!({ "kind": kind, "model": body });
        let model: SavedNextItem = serde_json::from_value(tagged).map_err(|e| {
            if e.to_string().starts_with("unknown variant") {
                ModelError::BadFile(format!("not a next-item model: {e}"))
            } else {
                ModelError::BadFile(format!("corrupt `{kind}` model: {e}"))
            }
        })?;
        let model = model
            .check()
            .map_err(|e| ModelError::BadFile(format!("corrupt `{kind}` model: {e}")))?;
        if let Some(p) = precision {
            if p.as_str() != Some(model.precision()) {
                return Err(ModelError::BadFile(format!(
                    "`{kind}` model states precision {p}, expected {:?}",
                    model.precision()
                )));
            }
        }
        let n = model.as_model().n_items();
        let items = match items {
            Some(names) => {
                let names: Vec<String> = serde_json::from_value(names)
                    .map_err(|e| ModelError::BadFile(format!("corrupt item names: {e}")))?;
                if names.len() != n {
                    return Err(ModelError::BadFile(format!(
                        "{} item names for a model of {n} items",
                        names.len()
                    )));
                }
                ItemVocab::new(names)
            }
            None => ItemVocab::numbered(n),
        };
        Ok(NextItemFile { model, items })
    }

    /// Reads a file from `path`, naming the path in errors.
    pub fn load_file(path: &std::path::Path) -> Result<Self, ModelError> {
        let f = std::fs::File::open(path).map_err(|e| {
            ModelError::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            ))
        })?;
        Self::load(f).map_err(|e| match e {
            ModelError::BadFile(m) => ModelError::BadFile(format!("{}: {m}", path.display())),
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nextitem::{
        Combiner, CompressOptions, Gru4RecParams, ItemKnn, MarkovChain, MostPopular, SasRecParams,
        SessionKnn, SrGnnParams, StanParams, VsknnParams,
    };
    use crate::Sequences;

    fn train() -> Sequences {
        let rows: [&[u32]; 4] = [&[0, 1, 2], &[2, 3, 1], &[1, 4, 0, 2], &[3, 4]];
        crate::nextitem::testing::seqs(&rows, 5)
    }

    fn every_kind() -> Vec<SavedNextItem> {
        let t = train();
        let mut p = Gru4RecParams::new(CellKind::Gru);
        p.embed_dim = 4;
        p.hidden = vec![4];
        p.epochs = 1;
        let gru = p
            .check()
            .expect("params")
            .fit(&t, None, &mut |_| {})
            .expect("fit");
        let int8 = QuantizedGru4Rec::compress(&gru, CompressOptions { prune: 0.25 }).expect("q");
        let times: Vec<f64> = (0..t.tokens.len()).map(|i| i as f64 * 10.0).collect();
        let one_epoch = |t| crate::nextitem::NetTraining { epochs: 1, ..t };
        let (srgnn, sasrec) = (SrGnnParams::default(), SasRecParams::default());
        let srgnn = SrGnnParams {
            dim: 4,
            training: one_epoch(srgnn.training),
            ..srgnn
        };
        let srgnn = srgnn.check().expect("p").fit(&t, None, &mut |_| {});
        let sasrec = SasRecParams {
            dim: 4,
            training: one_epoch(sasrec.training),
            ..sasrec
        };
        let sasrec = sasrec.check().expect("p").fit(&t, None, &mut |_| {});
        let rules: Vec<Vec<(u32, f64)>> = (0..5u32).map(|a| vec![((a + 1) % 5, 0.5)]).collect();
        let pop = SavedNextItem::Pop(MostPopular::fit(&t));
        let markov = SavedNextItem::Markov(MarkovChain::fit(&t));
        let hybrid = Hybrid::new(
            "hybrid:pop+markov".into(),
            vec![pop.clone(), markov.clone()],
            Combiner::Weighted {
                weights: vec![0.25, 0.75],
            },
        )
        .expect("hybrid");
        vec![
            pop,
            markov,
            SavedNextItem::Iknn(ItemKnn::fit(&t, 10, 20.0)),
            SavedNextItem::Sknn(SessionKnn::fit(&t, 10, 50)),
            SavedNextItem::network(gru),
            SavedNextItem::Int8(int8),
            SavedNextItem::Vsknn(
                VSessionKnn::fit(&t, Some(&times), VsknnParams::default()).expect("vsknn"),
            ),
            SavedNextItem::Stan(Stan::fit(&t, Some(&times), StanParams::stan()).expect("stan")),
            SavedNextItem::Vstan(Stan::fit(&t, None, StanParams::vstan()).expect("vstan")),
            SavedNextItem::Sr(SequentialRules::from_rules(&t, &rules).expect("sr")),
            SavedNextItem::SrGnn(Box::new(srgnn.expect("srgnn"))),
            SavedNextItem::SasRec(Box::new(sasrec.expect("sasrec"))),
            SavedNextItem::Hybrid(hybrid),
        ]
    }

    /// Every kind saves and loads back to the same model, scoring bit-identically; every truncation
    /// of the file is an error, never a panic.
    #[test]
    fn every_kind_round_trips_and_truncations_fail_cleanly() {
        let names: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        for model in every_kind() {
            let file = NextItemFile {
                model,
                items: ItemVocab::new(names.clone()),
            };
            let mut buf = Vec::new();
            file.save(&mut buf).expect("save");
            let back = NextItemFile::load(&buf[..]).expect("load");
            assert_eq!(back.items.id("c"), Some(2));
            let (mut x, mut y) = (Vec::new(), Vec::new());
            file.model.as_model().score_session(&[1, 2], &mut x);
            back.model.as_model().score_session(&[1, 2], &mut y);
            assert_eq!(x, y, "{}", file.model.as_model().name());
            assert_eq!(back.model.as_model().name(), file.model.as_model().name());
            for cut in (0..buf.len()).step_by(buf.len() / 37 + 1) {
                assert!(NextItemFile::load(&buf[..cut]).is_err());
            }
        }
    }

    #[test]
    fn an_unknown_kind_names_the_known_ones() {
        let f =
            br#"{"magic":"cartseq-model","format_version":1,"kind":"nextitem-bert4rec","model":{}}"#;
        let e = NextItemFile::load(&f[..])
            .expect_err("unknown kind")
            .to_string();
        assert!(
            e.contains("nextitem-bert4rec")
                && e.contains("nextitem-gru")
                && e.contains("nextitem-stan"),
            "{e}"
        );
    }
}
