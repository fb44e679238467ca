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
    #[error("artifact {sha256} is not in the store {location}")]
    ArtifactMissing { sha256: String, location: String },
    #[error("artifact in {location} is corrupt: expected sha256 {expected}, found {found}")]
    ArtifactCorrupt {
        location: String,
        expected: String,
        found: String,
    },
    #[error("{location}: {context}: {source}")]
    Postgres {
        location: String,
        context: &'static str,
        source: postgres::Error,
    },
    #[error("invalid {what} '{name}': expected {expected}")]
    InvalidName {
        what: &'static str,
        name: String,
        expected: &'static str,
    },
    #[error("no registered model named '{name}'{}", known_list(known))]
    ModelNotFound { name: String, known: Vec<String> },
    #[error("model '{model}' has no version {version}{}", latest.map_or(String::new(), |l| format!(" (latest is {l})")))]
    VersionNotFound {
        model: String,
        version: u32,
        latest: Option<u32>,
    },
    #[error("model '{model}' has no alias '{alias}'")]
    AliasNotFound { model: String, alias: String },
    #[error("invalid rollout {field} {value}: expected {expected}")]
    InvalidRollout {
        field: &'static str,
        expected: &'static str,
        value: f64,
    },
    #[error(
        "model '{0}' has nothing to roll back to: no active rollout and no earlier champion version"
    )]
    NothingToRollBack(String),
    #[error("no active api key named '{0}'")]
    KeyNotFound(String),
    #[error("an api key named '{0}' already exists")]
    KeyExists(String),
    #[error("cannot draw random bytes for a key: {0}")]
    Random(String),
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
    #[error("no dataset version matches '{0}' (see `capstan data versions`)")]
    DatasetVersionNotFound(String),
    #[error("dataset version prefix '{0}' is too short: expected at least 4 characters")]
    DatasetPrefixTooShort(String),
    #[error("dataset version prefix '{prefix}' is ambiguous; it matches: {}", candidates.join(", "))]
    AmbiguousDatasetVersion {
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("dataset version {version}: stored {field} is not valid json: {source}")]
    BadVersionJson {
        version: String,
        field: &'static str,
        source: serde_json::Error,
    },
    #[error("run {run_id}: stored {field} is not valid json: {source}")]
    BadJson {
        run_id: String,
        field: &'static str,
        source: serde_json::Error,
    },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        " (the registry is empty; register one with `capstan models register`)".to_string()
    } else {
        format!("; registered: {}", known.join(", "))
    }
}
