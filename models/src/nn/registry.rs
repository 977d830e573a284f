//! `name + key=value` → a validated sequence-classifier learner, for `cartseq train --model lstm
//! --param hidden=128+64 …` and the leaderboard, mirroring [`crate::registry`] for the tabular models.
//!
//! Keys (defaults in [`NN_PARAMS`]): `embed_dim`, `hidden` (layer widths bottom first, joined by `+`,
//! e.g. `128+64`), `dropout`, `epochs`, `batch_size`, `lr`, `optimizer=adam|sgd`, `momentum`,
//! `lr_decay` (exponential per epoch, 1 = constant), `lr_step` (with `lr_decay`: decay every N epochs
//! instead), `weight_decay`, `clip_norm`, `valid_fraction`, `patience`, `max_len`, `seed`.

use super::classifier::{SeqClassifier, SeqClassifierModel, SeqClassifierParams};
use super::optim::{LrSchedule, OptimizerKind};
use super::recurrent::CellKind;
use crate::ModelError;

/// Parameter keys with their defaults, `key=default`.
pub const NN_PARAMS: &[&str] = &[
    "embed_dim=32",
    "hidden=64",
    "dropout=0.1",
    "epochs=10",
    "batch_size=64",
    "lr=0.001",
    "optimizer=adam",
    "momentum=0.9",
    "lr_decay=1",
    "lr_step=0",
    "weight_decay=0",
    "clip_norm=5",
    "valid_fraction=0.1",
    "patience=3",
    "max_len=200",
    "seed=42",
];

/// Whether `name` is a sequence model of this module (`rnn`, `lstm`, `gru`).
pub fn is_nn_model(name: &str) -> bool {
    CellKind::parse(name).is_some()
}

fn bad(key: &str, value: &str, expected: &'static str) -> ModelError {
    ModelError::InvalidParam {
        name: "param",
        value: format!("{key}={value}"),
        expected,
    }
}

fn num<T: std::str::FromStr>(key: &str, v: &str, expected: &'static str) -> Result<T, ModelError> {
    v.trim().parse().map_err(|_| bad(key, v, expected))
}

/// The learner for `name` (`rnn`, `lstm`, `gru`) with `key=value` parameters applied and validated.
pub fn learner(name: &str, params: &[String]) -> Result<SeqClassifier, ModelError> {
    let cell = CellKind::parse(name).ok_or_else(|| ModelError::InvalidParam {
        name: "model",
        value: name.to_string(),
        expected: "rnn, lstm or gru",
    })?;
    let mut p = SeqClassifierParams::new(cell);
    let (mut decay, mut step, mut momentum, mut opt) = (1.0f64, 0usize, 0.9f64, "adam".to_string());
    for kv in params {
        let (k, v) = kv.split_once('=').ok_or_else(|| bad(kv, "", "key=value"))?;
        match k.trim() {
            "embed_dim" => p.embed_dim = num(k, v, "a positive integer")?,
            "hidden" => {
                p.hidden = v
                    .split(['+', ','])
                    .map(|w| num(k, w, "layer widths joined by +, e.g. 128+64"))
                    .collect::<Result<_, _>>()?
            }
            "dropout" => p.dropout = num(k, v, "a number in [0, 1)")?,
            "epochs" => p.epochs = num(k, v, "a positive integer")?,
            "batch_size" => p.batch_size = num(k, v, "a positive integer")?,
            "lr" => p.lr = num(k, v, "a positive number")?,
            "optimizer" => opt = v.trim().to_string(),
            "momentum" => momentum = num(k, v, "a number in [0, 1)")?,
            "lr_decay" => decay = num(k, v, "a number in (0, 1]")?,
            "lr_step" => step = num(k, v, "a non-negative integer")?,
            "weight_decay" => p.weight_decay = num(k, v, "a number ≥ 0")?,
            "clip_norm" => p.clip_norm = num(k, v, "a number ≥ 0")?,
            "valid_fraction" => p.valid_fraction = num(k, v, "a number in [0, 0.9)")?,
            "patience" => p.patience = num(k, v, "a positive integer")?,
            "max_len" => p.max_len = num(k, v, "a positive integer")?,
            "seed" => p.seed = num(k, v, "an integer")?,
            _ => {
                return Err(ModelError::InvalidParam {
                    name: "param",
                    value: k.to_string(),
                    expected: "one of embed_dim, hidden, dropout, epochs, batch_size, lr, optimizer, momentum, lr_decay, lr_step, weight_decay, clip_norm, valid_fraction, patience, max_len, seed",
                })
            }
        }
    }
    p.optimizer = match opt.as_str() {
        "adam" => OptimizerKind::adam(),
        "sgd" => OptimizerKind::Sgd { momentum },
        _ => return Err(bad("optimizer", &opt, "adam or sgd")),
    };
    p.schedule = if decay == 1.0 {
        LrSchedule::Constant
    } else if step == 0 {
        LrSchedule::Exponential { gamma: decay }
    } else {
        LrSchedule::Step {
            every: step,
            gamma: decay,
        }
    };
    p.check()
}

/// A fitted sequence classifier from the `kind` and `model` body of a model file (for
/// `load_any`: kinds `rnn`, `lstm`, `gru`).
pub fn from_body(kind: &str, body: serde_json::Value) -> Result<SeqClassifierModel, ModelError> {
    if !is_nn_model(kind) {
        return Err(ModelError::BadFile(format!(
            "holds a `{kind}` model, expected `rnn`, `lstm` or `gru`"
        )));
    }
    let mut m: SeqClassifierModel = serde_json::from_value(body)
        .map_err(|e| ModelError::BadFile(format!("corrupt `{kind}` model: {e}")))?;
    m.net.zero_grad();
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_and_refuses_bad_ones() {
        let l = learner(
            "lstm",
            &[
                "hidden=128+64".into(),
                "lr_decay=0.5".into(),
                "lr_step=2".into(),
            ],
        )
        .expect("valid");
        assert_eq!(l.params().hidden, vec![128, 64]);
        assert_eq!(
            l.params().schedule,
            LrSchedule::Step {
                every: 2,
                gamma: 0.5
            }
        );
        assert!(learner("lstm", &["hidden=0".into()]).is_err());
        assert!(learner("lstm", &["nope=1".into()]).is_err());
        assert!(learner("cnn", &[]).is_err());
        assert!(learner("gru", &["optimizer=rmsprop".into()]).is_err());
    }
}
