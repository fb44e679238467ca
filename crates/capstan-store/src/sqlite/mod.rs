//! SQLite backend: a directory holding `capstan.db` (WAL) and the artifact files.

mod artifacts;
mod datasets;
mod keys;
mod prediction_log;
mod registry;
mod runs;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::Connection;

pub use schema::SCHEMA_VERSION;

use crate::StoreError;
use crate::backend::Backend;
use crate::{
    ApiKey, ArtifactRef, AuditEntry, Change, DatasetVersionRecord, FileSignature, LogQuery,
    ModelVersion, NewDatasetVersion, NewRun, PredictionRecord, RegisteredModel, RegistryUpdate,
    Run, RunSummary,
};

/// A store directory: the database and the artifact directory.
/// One connection per handle; handles in other threads or processes open their own.
#[derive(Debug)]
pub(crate) struct Sqlite {
    root: PathBuf,
    db_path: PathBuf,
    conn: Mutex<Connection>,
}

impl Sqlite {
    /// Opens the store at `root`, creating the directory, database and artifact directory
    /// as needed and upgrading an older database schema.
    pub(crate) fn open(root: &Path) -> Result<Sqlite, StoreError> {
        let artifacts = root.join("artifacts").join("sha256");
        std::fs::create_dir_all(&artifacts).map_err(|source| StoreError::Io {
            path: artifacts.clone(),
            source,
        })?;
        let db_path = root.join("capstan.db");
        let db = |context| {
            let path = db_path.clone();
            move |source| StoreError::Db {
                path,
                context,
                source,
            }
        };
        let mut conn = Connection::open(&db_path).map_err(db("opening database"))?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(db("setting busy timeout"))?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(db("enabling write-ahead logging"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Io {
                path: db_path,
                source: std::io::Error::other(format!("expected journal mode wal, found {mode}")),
            });
        }
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(db("enabling foreign keys"))?;
        schema::migrate(&mut conn, &db_path)?;
        Ok(Sqlite {
            root: root.to_path_buf(),
            db_path,
            conn: Mutex::new(conn),
        })
    }

    /// The SQLite database file.
    pub(crate) fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// The store directory, for messages.
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-done transaction behind
        // (it rolls back on drop), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Maps a database error, naming the database file and what was being done.
    fn db_err(&self, context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError + use<> {
        let path = self.db_path().to_path_buf();
        move |source| StoreError::Db {
            path: path.clone(),
            context,
            source,
        }
    }
}

/// A stored value that does not parse (an enum name, JSON), as a row-mapping error.
fn bad_value(column: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, message.into())
}

impl Backend for Sqlite {
    fn record_run(&self, run: &NewRun) -> Result<String, StoreError> {
        runs::record_run(self, run)
    }

    fn list_runs(&self, limit: Option<usize>) -> Result<Vec<RunSummary>, StoreError> {
        runs::list_runs(self, limit)
    }

    fn get_run(&self, id_or_prefix: &str) -> Result<Run, StoreError> {
        runs::get_run(self, id_or_prefix)
    }

    fn put_artifact(&self, sha256: &str, bytes: &[u8]) -> Result<ArtifactRef, StoreError> {
        artifacts::put_artifact(self, sha256, bytes)
    }

    fn read_artifact(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        artifacts::read_artifact(self, sha256)
    }

    fn artifact_size(&self, sha256: &str) -> Result<Option<u64>, StoreError> {
        Ok(artifacts::artifact_size(self, sha256))
    }

    fn register_version(
        &self,
        model: &str,
        bundle: &ArtifactRef,
        run_id: Option<&str>,
        description: &str,
        change: &Change,
    ) -> Result<ModelVersion, StoreError> {
        registry::register_version(self, model, bundle, run_id, description, change)
    }

    fn list_models(&self) -> Result<Vec<RegisteredModel>, StoreError> {
        registry::list_models(self)
    }

    fn get_model(&self, name: &str) -> Result<Option<RegisteredModel>, StoreError> {
        registry::get_model(self, name)
    }

    fn update_registry(
        &self,
        model: &str,
        update: &RegistryUpdate,
        change: &Change,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        registry::update_registry(self, model, update, change)
    }

    fn audit_log(&self, model: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        registry::audit_log(self, model, limit)
    }

    fn insert_api_key(&self, key: &ApiKey, secret_sha256: &str) -> Result<(), StoreError> {
        keys::insert_api_key(self, key, secret_sha256)
    }

    fn api_key_by_hash(&self, secret_sha256: &str) -> Result<Option<ApiKey>, StoreError> {
        keys::api_key_by_hash(self, secret_sha256)
    }

    fn list_api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        keys::list_api_keys(self)
    }

    fn revoke_api_key(&self, name: &str) -> Result<bool, StoreError> {
        keys::revoke_api_key(self, name)
    }

    fn append_predictions(&self, records: &[PredictionRecord]) -> Result<(), StoreError> {
        prediction_log::append_predictions(self, records)
    }

    fn query_predictions(&self, query: &LogQuery) -> Result<Vec<PredictionRecord>, StoreError> {
        prediction_log::query_predictions(self, query)
    }

    fn put_dataset_version(&self, v: &NewDatasetVersion) -> Result<(), StoreError> {
        datasets::put_dataset_version(self, v)
    }

    fn get_dataset_version(&self, prefix: &str) -> Result<DatasetVersionRecord, StoreError> {
        datasets::get_dataset_version(self, prefix)
    }

    fn list_dataset_versions(&self) -> Result<Vec<DatasetVersionRecord>, StoreError> {
        datasets::list_dataset_versions(self)
    }

    fn find_file_signature(&self, sig: &FileSignature) -> Result<Option<String>, StoreError> {
        datasets::find_file_signature(self, sig)
    }

    fn record_file_signature(&self, sig: &FileSignature, version: &str) -> Result<(), StoreError> {
        datasets::record_file_signature(self, sig, version)
    }
}
