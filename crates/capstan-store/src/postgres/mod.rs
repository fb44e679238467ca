//! PostgreSQL backend (`postgres://...`): every table in one database, in the first schema
//! of the connection's `search_path`, artifacts as `bytea` rows.
//!
//! One connection per handle. When the server dropped it (a restart, an idle timeout), the
//! next call reconnects once and retries, unless the connection was lost while committing
//! (the outcome is then unknown and the error is returned).

mod artifacts;
mod datasets;
mod keys;
mod prediction_log;
mod registry;
mod runs;
mod schema;

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

pub use capstan_io::redact_password;
use postgres::types::FromSql;
use postgres::{Client, IsolationLevel, NoTls, Row, Transaction};

use crate::StoreError;
use crate::backend::Backend;
use crate::{
    ApiKey, ArtifactRef, AuditEntry, Change, DatasetVersionRecord, FileSignature, LogQuery,
    ModelVersion, NewDatasetVersion, NewRun, PredictionRecord, RegisteredModel, RegistryUpdate,
    Run, RunSummary,
};

/// Used when the URL sets no `connect_timeout`: an unreachable host fails in bounded time.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct Postgres {
    /// The URL without its password, for messages.
    location: String,
    config: postgres::Config,
    client: Mutex<Client>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl Postgres {
    /// Connects to `url` and brings the schema up to date.
    pub(crate) fn open(url: &str) -> Result<Postgres, StoreError> {
        let location = redact_password(url);
        let mut config: postgres::Config = url.parse().map_err(|source| StoreError::Postgres {
            location: location.clone(),
            context: "parsing the connection url",
            source,
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("capstan");
        }
        // Notices ("relation already exists, skipping") are not worth a log line.
        config.notice_callback(|_| {});
        let db = Postgres {
            client: Mutex::new(connect(&config, &location, "connecting")?),
            location,
            config,
        };
        db.with_client(|client, commit| schema::migrate(&db, client, commit))?;
        Ok(db)
    }

    /// Runs `op` on the connection, reconnecting first when it is known to be closed, and
    /// once more (with a retry) when it was lost during `op` before anything was committed:
    /// the server rolls back an unfinished transaction, so the retry cannot write twice.
    fn with_client<T>(
        &self,
        mut op: impl FnMut(&mut Client, &Commit) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A panic while holding the lock leaves no open transaction behind (`Transaction`
        // rolls back on drop), so a poisoned lock is safe to reuse.
        let mut client = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        if client.is_closed() {
            *client = connect(&self.config, &self.location, "reconnecting")?;
        }
        let commit = Commit::default();
        match op(&mut client, &commit) {
            Err(e) if !commit.sent.get() && connection_lost(&client, &e) => {
                *client = connect(&self.config, &self.location, "reconnecting")?;
                op(&mut client, &Commit::default())
            }
            result => result,
        }
    }

    /// Maps a database error, naming the location and what was being done.
    fn err(&self, context: &'static str) -> impl Fn(postgres::Error) -> StoreError + '_ {
        move |source| StoreError::Postgres {
            location: self.location.clone(),
            context,
            source,
        }
    }

    /// A stored value that cannot be read back (an unknown enum name, invalid JSON).
    fn corrupt(&self, message: String) -> StoreError {
        StoreError::Io {
            path: PathBuf::from(&self.location),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, message),
        }
    }
}

/// Tracks whether a commit was sent: after that, a lost connection means an unknown outcome.
#[derive(Debug, Default)]
struct Commit {
    sent: Cell<bool>,
}

impl Commit {
    fn commit(
        &self,
        tx: Transaction<'_>,
        db: &Postgres,
        context: &'static str,
    ) -> Result<(), StoreError> {
        self.sent.set(true);
        tx.commit().map_err(db.err(context))
    }
}

fn connect(
    config: &postgres::Config,
    location: &str,
    context: &'static str,
) -> Result<Client, StoreError> {
    config
        .connect(NoTls)
        .map_err(|source| StoreError::Postgres {
            location: location.to_string(),
            context,
            source,
        })
}

/// Whether `e` came from losing the connection (closed socket, server shutting down).
fn connection_lost(client: &Client, e: &StoreError) -> bool {
    if client.is_closed() {
        return true;
    }
    let StoreError::Postgres { source, .. } = e else {
        return false;
    };
    source.is_closed()
        // Class 57P: admin_shutdown, crash_shutdown, cannot_connect_now, database_dropped.
        || source.code().is_some_and(|c| c.code().starts_with("57P"))
        || std::error::Error::source(source).is_some_and(|s| s.is::<std::io::Error>())
}

/// A read-only snapshot: every query of one read sees the same committed state.
fn snapshot<'a>(db: &Postgres, client: &'a mut Client) -> Result<Transaction<'a>, StoreError> {
    client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(db.err("starting a read transaction"))
}

/// Column `idx` of `row`, with type errors mapped like query errors.
fn col<'a, T, E>(row: &'a Row, idx: usize, err: &E) -> Result<T, StoreError>
where
    T: FromSql<'a>,
    E: Fn(postgres::Error) -> StoreError + ?Sized,
{
    row.try_get(idx).map_err(err)
}

/// Numbers are written from `u32`/`u64` into `bigint`, so reading back always fits.
fn to_u32(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Backend for Postgres {
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
        artifacts::artifact_size(self, sha256)
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
