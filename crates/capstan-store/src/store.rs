use std::path::{Path, PathBuf};

use capstan_io::sha256_hex;

use crate::backend::Backend;
use crate::util::normalize_sha256;
use crate::{ArtifactRef, NewRun, Run, RunSummary, StoreError};

/// A Capstan store: runs, artifacts, the model registry, API keys and the prediction log.
/// Either a directory holding SQLite (WAL) and artifact files, or a PostgreSQL database
/// (`postgres://...`) holding everything, artifacts included.
/// Cheap to open; any number of handles (threads or processes) may share one store.
#[derive(Debug)]
pub struct Store {
    pub(crate) backend: Box<dyn Backend>,
    location: String,
    root: Option<PathBuf>,
}

impl Store {
    /// Opens the SQLite store in directory `root`, creating it and upgrading its schema.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Box::new(crate::sqlite::Sqlite::open(root)?),
            location: root.display().to_string(),
            root: Some(root.to_path_buf()),
        })
    }

    /// Opens `postgres://...` / `postgresql://...` as PostgreSQL, anything else as a directory.
    pub fn open_location(location: &str) -> Result<Store, StoreError> {
        if is_postgres_url(location) {
            Ok(Store {
                backend: Box::new(crate::postgres::Postgres::open(location)?),
                location: crate::postgres::redact_password(location),
                root: None,
            })
        } else {
            Store::open(Path::new(location))
        }
    }

    /// Where the store is, for messages (a directory, or a URL without its password).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The store directory of a SQLite store.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// Records a finished run and returns its id; all or nothing.
    pub fn record_run(&self, run: &NewRun) -> Result<String, StoreError> {
        let label = run.name.clone().unwrap_or_else(|| "(unnamed)".to_string());
        for (name, a) in &run.artifacts {
            let Some(sha) = normalize_sha256(&a.sha256) else {
                return Err(StoreError::InvalidHash(a.sha256.clone()));
            };
            let size = self.backend.artifact_size(&sha)?;
            if size != Some(a.size) {
                let found = size.map_or("nothing".to_string(), |s| format!("{s} bytes"));
                return Err(StoreError::InvalidRun {
                    name: label,
                    message: format!(
                        "artifact '{name}' ({sha}, {} bytes) is not in the store {}: found {found}; put_artifact it first",
                        a.size, self.location
                    ),
                });
            }
        }
        self.backend.record_run(run)
    }

    /// Runs, newest first; at most `limit` when given.
    pub fn list_runs(&self, limit: Option<usize>) -> Result<Vec<RunSummary>, StoreError> {
        self.backend.list_runs(limit)
    }

    /// The run with this id, or with the only id starting with this prefix
    /// (at least 4 hex characters).
    pub fn get_run(&self, id_or_prefix: &str) -> Result<Run, StoreError> {
        let query = id_or_prefix.trim().to_ascii_lowercase();
        if query.is_empty() || !query.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::RunNotFound(id_or_prefix.to_string()));
        }
        self.backend.get_run(&query).map_err(|e| match e {
            // Name the input as the user typed it.
            StoreError::RunNotFound(_) => StoreError::RunNotFound(id_or_prefix.to_string()),
            StoreError::PrefixTooShort(_) => StoreError::PrefixTooShort(id_or_prefix.to_string()),
            other => other,
        })
    }

    /// Stores `bytes` under their sha256 (no-op when already stored intact).
    pub fn put_artifact(&self, bytes: &[u8]) -> Result<ArtifactRef, StoreError> {
        self.backend.put_artifact(&sha256_hex(bytes), bytes)
    }

    /// Reads an artifact and checks that its content still has the expected hash.
    pub fn read_artifact(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let Some(expected) = normalize_sha256(sha256) else {
            return Err(StoreError::InvalidHash(sha256.to_string()));
        };
        let bytes = self.backend.read_artifact(&expected)?;
        let found = sha256_hex(&bytes);
        if found != expected {
            return Err(StoreError::ArtifactCorrupt {
                location: self.location.clone(),
                expected,
                found,
            });
        }
        Ok(bytes)
    }
}

/// Whether a store location names PostgreSQL rather than a directory.
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}
