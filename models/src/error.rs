//! Errors of the models crate.

/// An error while validating parameters, fitting, predicting, saving or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A hyper-parameter out of range; names the parameter, the value and what is allowed.
    #[error("invalid parameter {name} = {value}: {expected}")]
    InvalidParam {
        /// Parameter name as the user writes it (`max_depth`).
        name: &'static str,
        /// The offending value, formatted.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
    /// The dataset cannot be used (no rows, one class only, shape mismatch, missing sequences…).
    #[error("invalid dataset: {0}")]
    Data(String),
    /// The rows to predict do not match the model: another number of feature columns than it was
    /// fitted on, or no token sequences for a sequence model.
    #[error("input does not match the model: {0}")]
    Input(String),
    /// A saved model file that cannot be read: wrong magic, version, model kind or corrupt contents.
    #[error("bad model file: {0}")]
    BadFile(String),
    /// An unknown model name, unknown parameter key or unparsable value given to [`crate::ModelSpec::from_cli`].
    #[error("{0}")]
    Registry(String),
    /// The parameters would need more memory than `--max-memory` allows (checked before allocating).
    #[error(
        "{param} = {value} would need about {} of memory, above the limit {} (--max-memory): lower {param} \
         or raise --max-memory", crate::memory::human(*need), crate::memory::human(*limit)
    )]
    Memory {
        /// The parameter as the user typed it (`n_trees`, `--hidden`).
        param: String,
        /// Its value.
        value: String,
        /// Estimated bytes.
        need: u64,
        /// The limit.
        limit: u64,
    },
    /// The periodic memory check of a long fit found the process above `--max-memory`
    /// ([`crate::memory::FitGuard`]): the work done so far and the parameter that bounds the loop.
    #[error(
        "memory use {} reached the limit --max-memory {} after {done} {unit}: lower {param} (or \
         use fewer rows or features) or raise --max-memory", crate::memory::human(*used), crate::memory::human(*limit)
    )]
    MemoryDuringFit {
        /// Units done when the guard fired (trees, boosting rounds, epochs).
        done: usize,
        /// The unit, plural (`trees`).
        unit: &'static str,
        /// The parameter that bounds the loop, as the user types it (`n_trees`).
        param: &'static str,
        /// Resident bytes when the guard fired.
        used: u64,
        /// The limit.
        limit: u64,
    },
    /// An I/O error while saving or loading.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl ModelError {
    /// [`ModelError::InvalidParam`] for parameter `name` with the offending `value` (formatted) and
    /// what is allowed.
    pub fn invalid(
        name: &'static str,
        value: impl std::fmt::Display,
        expected: &'static str,
    ) -> ModelError {
        ModelError::InvalidParam {
            name,
            value: value.to_string(),
            expected,
        }
    }
}
