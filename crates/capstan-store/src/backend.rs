//! The seam between the store's API and a database: SQLite (default) or PostgreSQL.
//! Every method is one transaction: after an error or a crash nothing of it is left behind.

use std::fmt::Debug;

use crate::{
    ApiKey, ArtifactRef, AuditEntry, Change, DatasetVersionRecord, FileSignature, LogQuery,
    ModelVersion, NewDatasetVersion, NewRun, PredictionRecord, RegisteredModel, RegistryUpdate,
    Run, RunSummary, StoreError,
};

pub(crate) trait Backend: Send + Sync + Debug {
    // Runs.
    fn record_run(&self, run: &NewRun) -> Result<String, StoreError>;
    fn list_runs(&self, limit: Option<usize>) -> Result<Vec<RunSummary>, StoreError>;
    /// `id_or_prefix` is already lowercased and checked to be hex.
    fn get_run(&self, id_or_prefix: &str) -> Result<Run, StoreError>;

    // Content-addressed artifacts.
    fn put_artifact(&self, sha256: &str, bytes: &[u8]) -> Result<ArtifactRef, StoreError>;
    /// Bytes as stored; the façade checks the hash.
    fn read_artifact(&self, sha256: &str) -> Result<Vec<u8>, StoreError>;
    /// Size in bytes when stored, `None` when absent.
    fn artifact_size(&self, sha256: &str) -> Result<Option<u64>, StoreError>;

    // Model registry.
    /// Creates the model on its first version; the version number is max + 1.
    fn register_version(
        &self,
        model: &str,
        bundle: &ArtifactRef,
        run_id: Option<&str>,
        description: &str,
        change: &Change,
    ) -> Result<ModelVersion, StoreError>;
    fn list_models(&self) -> Result<Vec<RegisteredModel>, StoreError>;
    /// `None` when no model has this exact name.
    fn get_model(&self, name: &str) -> Result<Option<RegisteredModel>, StoreError>;
    /// Applies alias and rollout changes together, with one audit entry per change.
    fn update_registry(
        &self,
        model: &str,
        update: &RegistryUpdate,
        change: &Change,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// Newest first.
    fn audit_log(&self, model: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;

    // API keys (only hashes are stored).
    fn insert_api_key(&self, key: &ApiKey, secret_sha256: &str) -> Result<(), StoreError>;
    /// The active (not revoked) key with this secret hash.
    fn api_key_by_hash(&self, secret_sha256: &str) -> Result<Option<ApiKey>, StoreError>;
    fn list_api_keys(&self) -> Result<Vec<ApiKey>, StoreError>;
    /// Returns false when no active key has this name.
    fn revoke_api_key(&self, name: &str) -> Result<bool, StoreError>;

    // Prediction log.
    fn append_predictions(&self, records: &[PredictionRecord]) -> Result<(), StoreError>;
    /// Oldest first, at most `query.limit`.
    fn query_predictions(&self, query: &LogQuery) -> Result<Vec<PredictionRecord>, StoreError>;

    // Dataset versions.
    /// Inserts the version (or fills in a missing profile) and links `run_id`; a run that
    /// does not exist is `RunNotFound`.
    fn put_dataset_version(&self, v: &NewDatasetVersion) -> Result<(), StoreError>;
    /// `prefix` is lowercase hex of at least `MIN_PREFIX_LEN` characters.
    fn get_dataset_version(&self, prefix: &str) -> Result<DatasetVersionRecord, StoreError>;
    /// Newest first.
    fn list_dataset_versions(&self) -> Result<Vec<DatasetVersionRecord>, StoreError>;
    fn find_file_signature(&self, sig: &FileSignature) -> Result<Option<String>, StoreError>;
    fn record_file_signature(&self, sig: &FileSignature, version: &str) -> Result<(), StoreError>;
}
