//! Saving and loading fitted models as versioned JSON.
//!
//! A model file is one JSON object `{"magic": "cartseq-model", "format_version": 1, "kind": "rf",
//! "model": {...}}`. Loading checks the magic, the version and the kind before reading the body, so a
//! wrong, truncated or foreign file fails with [`ModelError::BadFile`] naming what was wrong. Floats are
//! written shortest-round-trip and parsed exactly (serde_json `float_roundtrip`), so a loaded model
//! predicts bit-identically.
//!
//! Files are read in one streaming pass (the header first, then the body straight into its type), never
//! through an intermediate JSON value tree: for a forest of millions of nodes that tree took ~10× the
//! model's own memory.
//!
//! [`load_any`] reads any kind into a [`FittedModel`] (the enum of every fitted type, which is also the
//! file's serde form); [`Persist::load`] reads one known type. Both check what the file holds
//! ([`Fitted::check_loaded`]) before the model can be used.

use std::io::{Read, Write};
use std::path::Path;

use std::cell::RefCell;

use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::error::Category;
use serde_json::Value;

use crate::fitted::{corrupt, Fitted, FittedModel};
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
        read_streaming(r, &OneKind::<Self>(std::marker::PhantomData))
    }
}

impl<M: Serialize + DeserializeOwned + Fitted> Persist for M {}

/// Writes `{"magic", "format_version", "kind", "model"}`.
pub fn write_envelope<W: Write, M: Serialize + ?Sized>(
    w: W,
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
    write_model_json(w, &env, "cannot serialize model")
}

/// Writes `value` as one JSON document and flushes `w`: a failed write is [`ModelError::Io`] (of the
/// writer's kind), a value JSON cannot hold is [`ModelError::Data`] `"{failure}: {reason}"`.
pub(crate) fn write_model_json<W: Write, T: Serialize + ?Sized>(
    mut w: W,
    value: &T,
    failure: &str,
) -> Result<(), ModelError> {
    serde_json::to_writer(&mut w, value).map_err(|e| match e.io_error_kind() {
        Some(k) => ModelError::Io(std::io::Error::new(k, e.to_string())),
        None => ModelError::Data(format!("{failure}: {e}")),
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
    let obj = v.as_object_mut().ok_or_else(not_an_object)?;
    let kind = check_head(obj.get("magic"), obj.get("format_version"), obj.get("kind"))?;
    let body = obj
        .remove("model")
        .ok_or_else(|| ModelError::BadFile(format!("`{kind}` model has no body")))?;
    Ok((kind, body))
}

fn not_an_object() -> ModelError {
    ModelError::BadFile("not a cartseq model file (not a JSON object)".into())
}

/// Checks the three header fields in this order (magic, version, kind); returns the kind.
fn check_head(
    magic: Option<&Value>,
    version: Option<&Value>,
    kind: Option<&Value>,
) -> Result<String, ModelError> {
    match magic.and_then(Value::as_str) {
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
    match version.and_then(Value::as_u64) {
        Some(FORMAT_VERSION) => {}
        Some(v) => {
            return Err(ModelError::BadFile(format!(
            "format version {v} is not supported by this cartseq (reads version {FORMAT_VERSION})"
        )))
        }
        None => return Err(ModelError::BadFile("missing format_version".into())),
    }
    kind.and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ModelError::BadFile("missing model kind".into()))
}

/// How a model body is read once its kind is known: straight from the file (the usual case, as
/// [`write_envelope`] puts the header first) or from a buffered [`Value`] (a file whose `model` comes
/// before its header). The outer `Result` is the deserializer's error (bad JSON, a field of the wrong
/// type); the inner one what the model's checks say.
pub(crate) trait BodyReader {
    /// What a body becomes.
    type Out;
    /// Reads the body of a `kind` model from `d` (skipping it when this reader does not take `kind`).
    fn read<'de, D: Deserializer<'de>>(
        &self,
        kind: &str,
        d: D,
    ) -> Result<Result<Self::Out, ModelError>, D::Error>;
}

/// Reads one fitted type `M` and refuses every other kind ([`Persist::load`]).
struct OneKind<M>(std::marker::PhantomData<M>);

impl<M: DeserializeOwned + Fitted> BodyReader for OneKind<M> {
    type Out = M;
    fn read<'de, D: Deserializer<'de>>(
        &self,
        kind: &str,
        d: D,
    ) -> Result<Result<M, ModelError>, D::Error> {
        if kind != M::KIND {
            IgnoredAny::deserialize(d)?;
            return Ok(Err(ModelError::BadFile(format!(
                "holds a `{kind}` model, expected `{}`",
                M::KIND
            ))));
        }
        read_checked(d, std::convert::identity)
    }
}

/// Loads a fitted `M`: deserializes it and runs [`Fitted::check_loaded`] (inner error), wrapped by `wrap`.
pub(crate) fn read_checked<'de, M, D, T>(
    d: D,
    wrap: fn(M) -> T,
) -> Result<Result<T, ModelError>, D::Error>
where
    M: Fitted + Deserialize<'de>,
    D: Deserializer<'de>,
{
    let mut m = M::deserialize(d)?;
    Ok(m.check_loaded().map(|()| wrap(m)))
}

/// Where a file's body went while its fields were read.
enum Body<T> {
    /// Read straight into its type.
    Read(Result<T, ModelError>),
    /// Kept as a value: the header was not complete yet.
    Buffered(Value),
    /// Skipped: the header is already known to be wrong.
    Skipped,
}

/// Visits a model file's object field by field, so that a forest of millions of nodes is read
/// straight into its nodes instead of through a [`Value`] tree (which takes ~10× the model's memory).
/// `streaming` holds the kind while a body is being read, so a deserializer error there can be told
/// apart from one in the envelope.
pub(crate) struct EnvelopeVisitor<'a, B> {
    pub reader: &'a B,
    pub streaming: &'a RefCell<Option<String>>,
}

impl<'de, B: BodyReader> Visitor<'de> for EnvelopeVisitor<'_, B> {
    type Value = Result<B::Out, ModelError>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a cartseq model file (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut magic, mut version, mut kind) = (None::<Value>, None::<Value>, None::<Value>);
        let mut body = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "magic" => magic = Some(map.next_value()?),
                "format_version" => version = Some(map.next_value()?),
                "kind" => kind = Some(map.next_value()?),
                "model" => {
                    let head = check_head(magic.as_ref(), version.as_ref(), kind.as_ref());
                    body = Some(match head {
                        Ok(k) => {
                            *self.streaming.borrow_mut() = Some(k.clone());
                            let r = map.next_value_seed(BodySeed {
                                reader: self.reader,
                                kind: &k,
                            })?;
                            *self.streaming.borrow_mut() = None;
                            Body::Read(r)
                        }
                        Err(_) if magic.is_some() && version.is_some() && kind.is_some() => {
                            map.next_value::<IgnoredAny>()?;
                            Body::Skipped
                        }
                        Err(_) => Body::Buffered(map.next_value()?),
                    });
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let kind = match check_head(magic.as_ref(), version.as_ref(), kind.as_ref()) {
            Ok(k) => k,
            Err(e) => return Ok(Err(e)),
        };
        Ok(match body {
            Some(Body::Read(r)) => r,
            Some(Body::Buffered(v)) => self
                .reader
                .read(&kind, v)
                .unwrap_or_else(|e| Err(corrupt(&kind, e))),
            Some(Body::Skipped) | None => {
                Err(ModelError::BadFile(format!("`{kind}` model has no body")))
            }
        })
    }
}

struct BodySeed<'a, B> {
    reader: &'a B,
    kind: &'a str,
}

impl<'de, B: BodyReader> DeserializeSeed<'de> for BodySeed<'_, B> {
    type Value = Result<B::Out, ModelError>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.reader.read(self.kind, d)
    }
}

/// Reads a model file from `r` in one streaming pass with `reader` for its body, mapping JSON errors
/// as [`read_envelope`] does (not JSON, not an object, a corrupt body of a named kind).
pub(crate) fn read_streaming<R: Read, B: BodyReader>(
    r: R,
    reader: &B,
) -> Result<B::Out, ModelError> {
    let streaming = RefCell::new(None);
    let mut de =
        serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, r));
    let visitor = EnvelopeVisitor {
        reader,
        streaming: &streaming,
    };
    match de
        .deserialize_map(visitor)
        .and_then(|v| de.end().map(|()| v))
    {
        Ok(r) => r,
        Err(e) => Err(match e.classify() {
            Category::Io => ModelError::Io(std::io::Error::other(e.to_string())),
            Category::Data => match streaming.into_inner() {
                Some(kind) => corrupt(&kind, e),
                None => not_an_object(),
            },
            Category::Syntax | Category::Eof => {
                ModelError::BadFile(format!("not a cartseq model file (not valid JSON: {e})"))
            }
        }),
    }
}

/// Deserializes a model body, mapping errors to [`ModelError::BadFile`].
pub fn body_to<M: DeserializeOwned>(body: Value, kind: &str) -> Result<M, ModelError> {
    serde_json::from_value(body).map_err(|e| corrupt(kind, e))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forest::RandomForest;
    use crate::{Classifier, Dataset, WithShared};
    use ndarray::Array2;

    fn forest_file() -> (Dataset, RandomForest, Vec<u8>) {
        let x = Array2::from_shape_fn((60, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f64);
        let y = (0..60).map(|i| usize::from(i % 11 > 4)).collect();
        let ds = Dataset::new(x, y, 2).unwrap();
        let m = RandomForest::params().n_trees(3).seed(2).fit(&ds).unwrap();
        let mut buf = Vec::new();
        m.save(&mut buf).unwrap();
        (ds, m, buf)
    }

    #[test]
    fn streamed_and_buffered_bodies_load_the_same_model() {
        let (ds, m, buf) = forest_file();
        let want = m.predict_proba(&ds).unwrap();
        let streamed = load_any(&buf[..]).unwrap();
        assert_eq!(streamed.predict_proba(&ds).unwrap(), want);
        assert_eq!(RandomForest::load(&buf[..]).unwrap(), m);
        // The body before the header (a hand-edited file) is read through a buffered value.
        let v: Value = serde_json::from_slice(&buf).unwrap();
        let reordered = format!(
            "{{\"model\":{},\"kind\":\"rf\",\"format_version\":1,\"magic\":\"{MAGIC}\"}}",
            v["model"]
        );
        let buffered = load_any(reordered.as_bytes()).unwrap();
        assert_eq!(buffered.predict_proba(&ds).unwrap(), want);
    }

    #[test]
    fn envelope_errors_name_what_is_wrong() {
        let msg = |bytes: &[u8]| match load_any(bytes) {
            Err(ModelError::BadFile(m)) => m,
            other => panic!("expected BadFile, got {:?}", other.map(|_| ())),
        };
        assert!(msg(b"[1, 2]").contains("not a JSON object"));
        assert!(msg(b"{\"magic\":\"cartseq-model\"} trailing").contains("not valid JSON"));
        let (_, _, buf) = forest_file();
        let text = String::from_utf8(buf).unwrap();
        assert!(msg(text.replace("cartseq-model", "x").as_bytes()).contains("magic `x`"));
        let no_body = format!("{{\"magic\":\"{MAGIC}\",\"format_version\":1,\"kind\":\"rf\"}}");
        assert!(msg(no_body.as_bytes()).contains("no body"));
        let bad_node = text.replacen("\"feature\":", "\"feature\":\"x\",\"f\":", 1);
        assert!(msg(bad_node.as_bytes()).contains("corrupt `rf` model"));
        assert!(msg(text
            .replace("\"kind\":\"rf\"", "\"kind\":\"dt\"")
            .as_bytes())
        .contains("corrupt `dt` model"));
    }
}
