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
    /// A saved model file that cannot be read: wrong magic, version, model kind or corrupt contents.
    #[error("bad model file: {0}")]
    BadFile(String),
    /// An unknown model name, unknown parameter key or unparsable value given to the registry.
    #[error("{0}")]
    Registry(String),
    /// An I/O error while saving or loading.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
