//! Tracking store: runs in SQLite, artifacts in a content-addressed directory.
//!
//! Layout of a store root (usually `.capstan/`):
//!
//! ```text
//! capstan.db                      SQLite (WAL), schema versioned by PRAGMA user_version
//! artifacts/sha256/<2 hex>/<64 hex>   immutable artifact files, named by their sha256
//! ```

mod artifacts;
mod error;
mod runs;
mod schema;
mod store;
mod util;

pub use artifacts::ArtifactRef;
pub use error::StoreError;
pub use runs::{MIN_PREFIX_LEN, MetricRecord, NewRun, Run, RunSummary};
pub use schema::SCHEMA_VERSION;
pub use store::Store;
