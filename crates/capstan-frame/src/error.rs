use std::path::PathBuf;

/// Errors from reading, writing and checking tables. Messages name the input.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the file is empty (expected a header row and at least one data row)")]
    Empty { path: PathBuf },
    #[error("{path}: row {row}: expected {expected} fields as in the header, found {found}")]
    Ragged {
        path: PathBuf,
        row: usize,
        expected: usize,
        found: usize,
    },
    #[error("{path}: row {row}, column '{column}': expected {expected}, found '{value}'")]
    BadValue {
        path: PathBuf,
        row: usize,
        column: String,
        expected: String,
        value: String,
    },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("column '{0}' not found")]
    MissingColumn(String),
    #[error("column '{column}': expected {expected}, found {found}")]
    WrongType {
        column: String,
        expected: String,
        found: String,
    },
    #[error("{0}")]
    Invalid(String),
}
