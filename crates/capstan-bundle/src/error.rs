use std::path::PathBuf;

use capstan_features::FeatureError;

/// Errors from writing, reading and using a bundle. `what` names the input (a path or
/// "input" for in-memory bytes).
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} is empty (expected a capstan model bundle)")]
    Empty { what: String },
    #[error("{what} is not a capstan model bundle (expected magic {expected:?}, found {found:?})")]
    NotABundle {
        what: String,
        expected: String,
        found: String,
    },
    #[error(
        "{what}: format version {version} is newer than this capstan supports (max {max}); upgrade capstan"
    )]
    NewerFormat {
        what: String,
        version: u32,
        max: u32,
    },
    #[error("{what}: format version {version} is not a valid bundle format version")]
    InvalidVersion { what: String, version: u32 },
    #[error("{what} is truncated: expected {expected} bytes, found {found}")]
    Truncated {
        what: String,
        expected: u64,
        found: u64,
    },
    #[error("{what}: expected {expected} bytes, found {found} (unexpected trailing data)")]
    TrailingData {
        what: String,
        expected: u64,
        found: u64,
    },
    #[error("{what} is corrupt: checksum mismatch (expected sha256 {expected}, found {found})")]
    ChecksumMismatch {
        what: String,
        expected: String,
        found: String,
    },
    #[error("{what}: invalid bundle payload (expected the json of a bundle): {source}")]
    InvalidPayload {
        what: String,
        source: serde_json::Error,
    },
    #[error("{what}: header says format version {header} but the manifest says {manifest}")]
    VersionMismatch {
        what: String,
        header: u32,
        manifest: u32,
    },
    #[error("{what}: inconsistent bundle: {message}")]
    Inconsistent { what: String, message: String },
    #[error("cannot serialize bundle: {0}")]
    Serialize(serde_json::Error),
    #[error(
        "cannot serialize bundle: it does not read back identically ({0}); non-finite numbers (nan, inf) cannot be stored in a model or pipeline"
    )]
    NotRoundTrip(String),
    #[error("cannot transform input: {0}")]
    Feature(#[from] FeatureError),
    #[error("cannot predict: {0}")]
    Predict(String),
}
