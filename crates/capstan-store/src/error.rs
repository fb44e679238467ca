use std::path::PathBuf;

/// Errors from the tracking store; messages name the file or run involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {context}: {source}", path = path.display())]
    Db {
        path: PathBuf,
        context: &'static str,
        source: rusqlite::Error,
    },
    #[error(
        "{path}: database schema version {found} is newer than this capstan supports (max {max}); upgrade capstan",
        path = path.display()
    )]
    NewerSchema { path: PathBuf, found: i64, max: i64 },
    #[error("invalid sha256 '{0}': expected 64 hex characters")]
    InvalidHash(String),
    #[error("artifact {sha256} not found (expected {path})", path = path.display())]
    ArtifactMissing { sha256: String, path: PathBuf },
    #[error("{path} is corrupt: expected sha256 {expected}, found {found}", path = path.display())]
    ArtifactCorrupt {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("run '{name}': {message}")]
    InvalidRun { name: String, message: String },
    #[error("no run matches '{0}'")]
    RunNotFound(String),
    #[error("run id prefix '{0}' is too short: expected at least 4 characters")]
    PrefixTooShort(String),
    #[error("run id prefix '{prefix}' is ambiguous; it matches: {}", candidates.join(", "))]
    AmbiguousRun {
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("run {run_id}: stored {field} is not valid json: {source}")]
    BadJson {
        run_id: String,
        field: &'static str,
        source: serde_json::Error,
    },
}
