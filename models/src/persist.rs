//! Saving and loading fitted models as versioned JSON.
//!
//! A model file is one JSON object `{"magic": "cartseq-model", "format_version": 1, "kind": "rf",
//! "model": {...}}`. Loading checks the magic, the version and the kind before reading the body, so a
//! wrong, truncated or foreign file fails with [`ModelError::BadFile`] naming what was wrong. Floats are
//! written shortest-round-trip and parsed exactly (serde_json `float_roundtrip`), so a loaded model
//! predicts bit-identically.
//!
//! [`load_any`] reads any kind into a [`FittedModel`] (the enum of every fitted type, which is also the
//! file's serde form); [`Persist::load`] reads one known type. Both check what the file holds
//! ([`Fitted::check_loaded`]) before the model can be used.

use std::io::{Read, Write};
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::fitted::{Fitted, FittedModel};
use crate::ModelError;

/// The magic string at the head of every model file.
pub const MAGIC: &str = "cartseq-model";
/// The current file-format version.
pub const FORMAT_VERSION: u64 = 1;

/// A model type that can be written to and read from a model file: every [`Fitted`] type with serde.
pub trait Persist: Serialize + DeserializeOwned + Fitted {
    /// Writes the model file.
    fn save<W: Write>(&self, w: W) -> Result<(), ModelError> {
        write_envelope(w, self.kind(), self)
    }

    /// Reads a model file of this kind, checking what it holds.
    fn load<R: Read>(r: R) -> Result<Self, ModelError> {
        let (kind, body) = read_envelope(r)?;
        if kind != Self::KIND {
            return Err(ModelError::BadFile(format!(
                "holds a `{kind}` model, expected `{}`",
                Self::KIND
            )));
        }
        let mut m: Self = body_to(body, Self::KIND)?;
        m.check_loaded()?;
        Ok(m)
    }
}

impl<M: Serialize + DeserializeOwned + Fitted> Persist for M {}

/// Writes `{"magic", "format_version", "kind", "model"}`.
pub fn write_envelope<W: Write, M: Serialize + ?Sized>(
    mut w: W,
    kind: &str,
    model: &M,
) -> Result<(), ModelError> {
    #[derive(Serialize)]
    struct Envelope<'a, M: ?Sized> {
        magic: &'a str,
        format_version: u64,
        kind: &'a str,
        model: &'a M,
    }
    let env = Envelope {
        magic: MAGIC,
        format_version: FORMAT_VERSION,
        kind,
        model,
    };
    serde_json::to_writer(&mut w, &env).map_err(|e| match e.io_error_kind() {
        Some(k) => ModelError::Io(std::io::Error::new(k, e.to_string())),
        None => ModelError::Data(format!("cannot serialize model: {e}")),
    })?;
    w.flush()?;
    Ok(())
}

/// Reads and checks the header; returns the kind and the model body.
pub fn read_envelope<R: Read>(r: R) -> Result<(String, Value), ModelError> {
    let v: Value = serde_json::from_reader(std::io::BufReader::new(r)).map_err(|e| {
        if e.is_io() {
            ModelError::Io(std::io::Error::other(e.to_string()))
        } else {
            ModelError::BadFile(format!("not a cartseq model file (not valid JSON: {e})"))
        }
    })?;
    check_envelope(v)
}

/// Checks the header of a parsed model file; returns the kind and the model body.
pub fn check_envelope(mut v: Value) -> Result<(String, Value), ModelError> {
    let obj = v.as_object_mut().ok_or_else(|| {
        ModelError::BadFile("not a cartseq model file (not a JSON object)".into())
    })?;
    match obj.get("magic").and_then(Value::as_str) {
        Some(MAGIC) => {}
        Some(other) => {
            return Err(ModelError::BadFile(format!(
                "not a cartseq model file (magic `{other}`, expected `{MAGIC}`)"
            )))
        }
        None => {
            return Err(ModelError::BadFile(format!(
                "not a cartseq model file (no `magic: {MAGIC}` header)"
            )))
        }
    }
    match obj.get("format_version").and_then(Value::as_u64) {
        Some(FORMAT_VERSION) => {}
        Some(v) => {
            return Err(ModelError::BadFile(format!(
            "format version {v} is not supported by this cartseq (reads version {FORMAT_VERSION})"
        )))
        }
        None => return Err(ModelError::BadFile("missing format_version".into())),
    }
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| ModelError::BadFile("missing model kind".into()))?
        .to_string();
    let body = obj
        .remove("model")
        .ok_or_else(|| ModelError::BadFile(format!("`{kind}` model has no body")))?;
    Ok((kind, body))
}

/// Deserializes a model body, mapping errors to [`ModelError::BadFile`].
pub fn body_to<M: DeserializeOwned>(body: Value, kind: &str) -> Result<M, ModelError> {
    serde_json::from_value(body)
        .map_err(|e| ModelError::BadFile(format!("corrupt `{kind}` model: {e}")))
}

/// Saves a fitted model (the same as [`FittedModel::save`]).
pub fn save_any<W: Write>(model: &FittedModel, w: W) -> Result<(), ModelError> {
    model.save(std::io::BufWriter::new(w))
}

/// Saves a model to `path` (written whole or not at all is the caller's business: wrap with an
/// atomic file when that matters).
pub fn save_any_file(model: &FittedModel, path: &Path) -> Result<(), ModelError> {
    let f = std::fs::File::create(path)?;
    save_any(model, f)
}

/// Loads a model file of any known kind (the same as [`FittedModel::load`]).
pub fn load_any<R: Read>(r: R) -> Result<FittedModel, ModelError> {
    FittedModel::load(r)
}

/// Loads a model file of any known kind from `path`, naming the path in errors.
pub fn load_any_file(path: &Path) -> Result<FittedModel, ModelError> {
    let f = std::fs::File::open(path).map_err(|e| {
        ModelError::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    })?;
    load_any(f).map_err(|e| match e {
        ModelError::BadFile(m) => ModelError::BadFile(format!("{}: {m}", path.display())),
        other => other,
    })
}
