//! Errors of the data layer: every one names where in which file it happened and what was expected.

use std::fmt;
use std::path::PathBuf;

/// Where in an input a problem was found: file, 1-based line and, when known, 1-based column (field).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The input's path as the user gave it (`-` for standard input).
    pub file: PathBuf,
    /// 1-based line number; 0 when the problem concerns the whole file.
    pub line: u64,
    /// 1-based column (field) number, when the problem is in one field.
    pub column: Option<usize>,
}

impl Location {
    /// A location naming a whole file.
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Location {
            file: file.into(),
            line: 0,
            column: None,
        }
    }

    /// A location naming one line.
    pub fn line(file: impl Into<PathBuf>, line: u64) -> Self {
        Location {
            file: file.into(),
            line,
            column: None,
        }
    }

    /// The same location narrowed to a column.
    pub fn with_column(mut self, column: usize) -> Self {
        self.column = Some(column);
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(c) = self.column {
            write!(f, ":{c}")?;
        }
        Ok(())
    }
}

/// An error while reading, converting or writing data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// An input/output error on a named file. The OS error is part of this message and deliberately
    /// not exposed as a `source`, so a printed error chain does not repeat it.
    #[error("{path}: {error}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// A malformed row or field: what was expected and what was found.
    #[error("{location}: expected {expected}, found {found}")]
    Parse {
        /// File, line and column.
        location: Location,
        /// What the reader expected, e.g. "an integer user id".
        expected: String,
        /// What it found (quoted and shortened).
        found: String,
    },
    /// The input holds no data rows at all (empty or header only).
    #[error("{location}: {what}")]
    Empty {
        /// The file.
        location: Location,
        /// "empty file" or "header only, no data rows".
        what: String,
    },
    /// An option that makes no sense for this input or preset.
    #[error("invalid option: {0}")]
    Option(String),
}

impl DataError {
    /// A parse error at `location`; `found` is shortened to at most 60 characters so a 100 MB line
    /// never ends up in a terminal.
    pub fn parse(location: Location, expected: impl Into<String>, found: &str) -> Self {
        DataError::Parse {
            location,
            expected: expected.into(),
            found: quote_short(found),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            error: source,
        }
    }
}

/// Quotes `s` for an error message, cut to 60 characters (on a char boundary) with an ellipsis.
pub fn quote_short(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        format!("{s:?}")
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut:?}… ({} bytes)", s.len())
    }
}

/// What a reader does with a malformed row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    /// Stop at the first bad row with a located error (the default).
    #[default]
    Fail,
    /// Skip bad rows, counting them per reason in a [`SkipReport`].
    Skip,
}

crate::named_enum!(OnError, "an error policy", ["fail" => OnError::Fail, "skip" => OnError::Skip]);

/// Rows skipped under [`OnError::Skip`], counted per reason, with the first example of each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SkipReport {
    /// reason → (count, first error message).
    pub reasons: std::collections::BTreeMap<String, (u64, String)>,
}

impl SkipReport {
    /// Records one skipped row.
    pub fn add(&mut self, err: &DataError) {
        let reason = match err {
            DataError::Parse { expected, .. } => format!("expected {expected}"),
            other => other.to_string(),
        };
        let e = self
            .reasons
            .entry(reason)
            .or_insert_with(|| (0, err.to_string()));
        e.0 += 1;
    }

    /// Total rows skipped.
    pub fn total(&self) -> u64 {
        self.reasons.values().map(|v| v.0).sum()
    }

    /// Applies `policy` to a row error: `Ok(())` after recording it when skipping, the error otherwise.
    /// I/O errors and whole-file errors are never skippable.
    pub fn handle(&mut self, policy: OnError, err: DataError) -> Result<(), DataError> {
        match (policy, &err) {
            (OnError::Skip, DataError::Parse { .. }) => {
                self.add(&err);
                Ok(())
            }
            _ => Err(err),
        }
    }
}

impl fmt::Display for SkipReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "skipped {} row(s)", self.total())?;
        for (reason, (n, first)) in &self.reasons {
            write!(f, "\n  {n} × {reason} (first: {first})")?;
        }
        Ok(())
    }
}
