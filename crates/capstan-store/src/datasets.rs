//! Dataset versions: content hashes of the data runs were trained on (computed by
//! `capstan_quality::version`; the store keeps them as JSON), which runs used each, and a
//! file-signature cache (path, size, modification time -> version) so an unchanged file's
//! version is known without reading the file again.

use serde::{Deserialize, Serialize};

use crate::runs::MIN_PREFIX_LEN;
use crate::util::normalize_sha256;
use crate::{Store, StoreError};

/// A dataset version to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDatasetVersion {
    /// sha256 of the normalized data, hex.
    pub version: String,
    /// Where the rows came from (a path, or a redacted URL and query).
    pub source: String,
    pub n_rows: u64,
    pub n_cols: u64,
    /// Column names and types.
    pub schema: serde_json::Value,
    /// Chunk hashes per column.
    pub chunk_hashes: serde_json::Value,
    /// A summary profile, when one was computed.
    pub profile: Option<serde_json::Value>,
    /// A run that used this data; linked in the same transaction.
    pub run_id: Option<String>,
}

/// A recorded dataset version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetVersionRecord {
    pub version: String,
    /// The source it was first recorded from.
    pub source: String,
    pub n_rows: u64,
    pub n_cols: u64,
    pub schema: serde_json::Value,
    pub chunk_hashes: serde_json::Value,
    pub profile: Option<serde_json::Value>,
    /// RFC 3339 UTC with microseconds.
    pub created_at: String,
    /// Runs that used it, newest first.
    pub run_ids: Vec<String>,
}

/// What identifies a file's content without reading it: where it is, its size and its
/// modification time. `options` names how it was read (row order ignored, a schema), since
/// the same bytes read differently have another version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSignature {
    /// Absolute path.
    pub path: String,
    pub size: u64,
    /// Nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    pub options: String,
}

impl Store {
    /// Records a dataset version; recording it again is a no-op, except that a profile is
    /// added when the stored row has none and a given run is linked to it.
    pub fn put_dataset_version(&self, v: &NewDatasetVersion) -> Result<(), StoreError> {
        let Some(version) = normalize_sha256(&v.version) else {
            return Err(StoreError::InvalidHash(v.version.clone()));
        };
        let v = NewDatasetVersion {
            version,
            run_id: v.run_id.as_ref().map(|r| r.to_ascii_lowercase()),
            ..v.clone()
        };
        self.backend.put_dataset_version(&v)
    }

    /// The version with this hash, or with the only hash starting with this prefix
    /// (at least 4 hex characters).
    pub fn get_dataset_version(&self, prefix: &str) -> Result<DatasetVersionRecord, StoreError> {
        let query = prefix.trim().to_ascii_lowercase();
        if query.is_empty() || !query.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::DatasetVersionNotFound(prefix.to_string()));
        }
        if query.len() < MIN_PREFIX_LEN {
            return Err(StoreError::DatasetPrefixTooShort(prefix.to_string()));
        }
        self.backend
            .get_dataset_version(&query)
            .map_err(|e| match e {
                StoreError::DatasetVersionNotFound(_) => {
                    StoreError::DatasetVersionNotFound(prefix.to_string())
                }
                other => other,
            })
    }

    /// Every recorded version, newest first.
    pub fn list_dataset_versions(&self) -> Result<Vec<DatasetVersionRecord>, StoreError> {
        self.backend.list_dataset_versions()
    }

    /// The version recorded for a file with exactly this signature, if any.
    pub fn find_file_signature(&self, sig: &FileSignature) -> Result<Option<String>, StoreError> {
        self.backend.find_file_signature(sig)
    }

    /// Remembers that a file with this signature has `version` (already recorded); replaces
    /// what was remembered for the same path and options.
    pub fn record_file_signature(
        &self,
        sig: &FileSignature,
        version: &str,
    ) -> Result<(), StoreError> {
        let Some(version) = normalize_sha256(version) else {
            return Err(StoreError::InvalidHash(version.to_string()));
        };
        self.backend.record_file_signature(sig, &version)
    }
}

/// The error for a prefix matching several versions: `matches` are (version, source),
/// newest first.
pub(crate) fn ambiguous_version(prefix: &str, matches: &[(String, String)]) -> StoreError {
    StoreError::AmbiguousDatasetVersion {
        prefix: prefix.to_string(),
        candidates: matches
            .iter()
            .take(crate::runs::MAX_CANDIDATES)
            .map(|(v, source)| format!("{} ({source})", &v[..v.len().min(12)]))
            .chain((matches.len() > crate::runs::MAX_CANDIDATES).then(|| "...".to_string()))
            .collect(),
    }
}
