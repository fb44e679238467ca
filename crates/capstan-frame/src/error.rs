use std::path::PathBuf;

/// Errors from reading, writing and checking tables. Messages name the input.
///
/// In `Ragged` and `BadValue`, `row` is the 1-based line number in the file where the
/// record starts (for CSV the header is line 1, so the first data row is line 2).
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// No data: an empty file, or a header without data rows.
    #[error("{path}: no data (expected a header row and at least one data row)")]
    Empty { path: PathBuf },
    /// A record with a different number of fields than the header.
    #[error("{path}: row {row}: expected {expected} fields as in the header, found {found}")]
    Ragged {
        path: PathBuf,
        /// 1-based line number in the file (the header is line 1).
        row: usize,
        expected: usize,
        found: usize,
    },
    /// A value that does not parse as the type the schema asks for.
    #[error("{path}: row {row}, column '{column}': expected {expected}, found '{value}'")]
    BadValue {
        path: PathBuf,
        /// 1-based line number in the file (the header is line 1).
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
    /// A database source: `location` is its URL with the password redacted.
    #[error("{location}: {message}")]
    Database { location: String, message: String },
}

impl FrameError {
    /// An IO error on `path`.
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> FrameError {
        FrameError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A format problem in `path`.
    pub(crate) fn format(path: &std::path::Path, message: impl Into<String>) -> FrameError {
        FrameError::Format {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}
