//! The Capstan store: runs, content-addressed artifacts, the model registry, API keys and
//! the prediction log and dataset versions, behind one API with two backends.
//!
//! SQLite (default) keeps a directory (usually `.capstan/`):
//!
//! ```text
//! capstan.db                      SQLite (WAL), schema versioned by PRAGMA user_version
//! artifacts/sha256/<2 hex>/<64 hex>   immutable artifact files, named by their sha256
//! ```
//!
//! PostgreSQL (`postgres://...`) keeps the same tables, artifacts as `bytea` rows.

mod artifacts;
mod backend;
mod datasets;
mod error;
mod keys;
mod postgres;
mod prediction_log;
mod registry;
mod runs;
mod sqlite;
mod store;
mod util;

pub use artifacts::ArtifactRef;
pub use datasets::{DatasetVersionRecord, FileSignature, NewDatasetVersion};
pub use error::StoreError;
pub use keys::{ApiKey, Role};
pub use postgres::redact_password;
pub use prediction_log::{LogQuery, PredictionRecord};
pub use registry::{
    AuditEntry, Change, ModelVersion, RegisteredModel, RegistryUpdate, Rollout, RolloutMode,
    check_alias_name, check_model_name,
};
pub use runs::{MIN_PREFIX_LEN, MetricRecord, NewRun, Run, RunSummary};
pub use sqlite::SCHEMA_VERSION;
pub use store::{Store, is_postgres_url};
