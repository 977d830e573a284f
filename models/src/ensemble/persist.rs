//! Saving and loading fitted ensembles: a model file whose body nests its members' model files.
//!
//! `{"magic": "cartseq-model", "format_version": 1, "kind": "stack", "model": {"fields": {...},
//! "bases": [<model file>, …], "meta": [<model file>]}}`. Members are written by their own
//! [`Classifier::save_json`] straight into the output (no intermediate copy), and read back with
//! [`crate::persist::from_value`], so any savable model (the neural ones included) can be a member
//! and a member that cannot be saved makes the whole save fail with its own error.

use std::io::Write;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::persist::{from_value, FORMAT_VERSION, MAGIC};
use crate::{Classifier, ModelError};

fn io(e: std::io::Error) -> ModelError {
    ModelError::Io(e)
}

/// Writes an ensemble model file: `fields` (small scalars) plus named groups of member models.
pub(crate) fn write_ensemble<F: Serialize>(
    w: &mut dyn Write,
    kind: &str,
    fields: &F,
    groups: &[(&str, Vec<&dyn Classifier>)],
) -> Result<(), ModelError> {
    write!(
        w,
        "{{\"magic\":{},\"format_version\":{FORMAT_VERSION},\"kind\":{},\"model\":{{\"fields\":",
        json(MAGIC)?,
        json(kind)?
    )
    .map_err(io)?;
    serde_json::to_writer(&mut *w, fields)
        .map_err(|e| ModelError::Data(format!("cannot serialize `{kind}`: {e}")))?;
    for (name, members) in groups {
        write!(w, ",{}:[", json(*name)?).map_err(io)?;
        for (i, m) in members.iter().enumerate() {
            if i > 0 {
                w.write_all(b",").map_err(io)?;
            }
            m.save_json(w)?;
        }
        w.write_all(b"]").map_err(io)?;
    }
    w.write_all(b"}}").map_err(io)?;
    w.flush().map_err(io)?;
    Ok(())
}

/// The parts of an ensemble body read back: its fields and its member groups.
pub(crate) struct EnsembleBody {
    body: serde_json::Map<String, Value>,
    kind: String,
}

impl EnsembleBody {
    /// Checks that `body` is an ensemble body of `kind`.
    pub(crate) fn new(kind: &str, body: Value) -> Result<Self, ModelError> {
        match body {
            Value::Object(body) => Ok(EnsembleBody {
                body,
                kind: kind.to_string(),
            }),
            _ => Err(ModelError::BadFile(format!(
                "corrupt `{kind}` model: body is not a JSON object"
            ))),
        }
    }

    /// The small fields.
    pub(crate) fn fields<F: DeserializeOwned>(&mut self) -> Result<F, ModelError> {
        let v = self.body.remove("fields").unwrap_or(Value::Null);
        serde_json::from_value(v)
            .map_err(|e| ModelError::BadFile(format!("corrupt `{}` model: {e}", self.kind)))
    }

    /// The member models of group `name`, loaded.
    pub(crate) fn members(&mut self, name: &str) -> Result<Vec<Box<dyn Classifier>>, ModelError> {
        match self.body.remove(name) {
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|v| {
                    from_value(v).map_err(|e| {
                        ModelError::BadFile(format!("`{}` member in `{name}`: {e}", self.kind))
                    })
                })
                .collect(),
            _ => Err(ModelError::BadFile(format!(
                "corrupt `{}` model: no `{name}` member list",
                self.kind
            ))),
        }
    }
}

/// JSON text of a small value (the strings of the header).
fn json<T: Serialize + ?Sized>(v: &T) -> Result<String, ModelError> {
    serde_json::to_string(v).map_err(|e| ModelError::Data(e.to_string()))
}
