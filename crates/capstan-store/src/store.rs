use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::Connection;

use crate::{StoreError, schema};

/// A `.capstan` workspace: the run database and the artifact directory.
/// Cheap to open; any number of handles (threads or processes) may share one root.
#[derive(Debug)]
pub struct Store {
    pub(crate) root: PathBuf,
    pub(crate) db_path: PathBuf,
    pub(crate) conn: Mutex<Connection>,
}

impl Store {
    /// Opens the store at `root`, creating the directory, database and artifact directory
    /// as needed and upgrading an older database schema.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
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
        Ok(Store {
            root: root.to_path_buf(),
            db_path,
            conn: Mutex::new(conn),
        })
    }

    /// The store directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The SQLite database file.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-done transaction behind
        // (it rolls back on drop), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Maps a database error, naming the database file and what was being done.
    pub(crate) fn db_err(&self, context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
        let path = self.db_path.clone();
        move |source| StoreError::Db {
            path: path.clone(),
            context,
            source,
        }
    }
}
