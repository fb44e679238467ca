//! Database schema, upgraded step by step; `PRAGMA user_version` holds the applied step.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// Each entry upgrades the schema from version `i` to `i + 1`. Append only; never edit.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: runs, metrics, tags, artifacts.
    "CREATE TABLE runs (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT,
        created_at TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        task TEXT NOT NULL,
        model_kind TEXT NOT NULL,
        dataset_sha256 TEXT NOT NULL,
        params_json TEXT NOT NULL,
        lineage_json TEXT NOT NULL
    );
    CREATE INDEX runs_created_at ON runs (created_at);
    CREATE TABLE metrics (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        split TEXT NOT NULL,
        fold INTEGER,
        name TEXT NOT NULL,
        value REAL -- NULL stores NaN
    );
    CREATE UNIQUE INDEX metrics_key ON metrics (run_id, split, IFNULL(fold, -1), name);
    CREATE TABLE tags (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
    );
    CREATE TABLE artifacts (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        PRIMARY KEY (run_id, name)
    );
    CREATE INDEX artifacts_sha256 ON artifacts (sha256);",
    // 1 -> 2: model registry, audit trail, api keys, prediction log.
    "CREATE TABLE models (
        name TEXT PRIMARY KEY NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE model_versions (
        model TEXT NOT NULL REFERENCES models (name),
        version INTEGER NOT NULL,
        bundle_sha256 TEXT NOT NULL,
        bundle_size INTEGER NOT NULL,
        run_id TEXT REFERENCES runs (id),
        description TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        PRIMARY KEY (model, version)
    );
    CREATE INDEX model_versions_bundle ON model_versions (bundle_sha256);
    CREATE TABLE aliases (
        model TEXT NOT NULL REFERENCES models (name),
        alias TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (model, alias),
        FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
    );
    CREATE TABLE rollouts (
        model TEXT PRIMARY KEY NOT NULL REFERENCES models (name),
        mode TEXT NOT NULL,
        canary_percent REAL NOT NULL,
        max_error_rate REAL,
        max_p99_ms REAL,
        min_requests INTEGER NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        model TEXT NOT NULL,
        action TEXT NOT NULL,
        alias TEXT,
        from_version INTEGER,
        to_version INTEGER,
        reason TEXT NOT NULL,
        details_json TEXT NOT NULL
    );
    CREATE INDEX audit_model ON audit (model, id);
    CREATE TABLE api_keys (
        name TEXT PRIMARY KEY NOT NULL,
        role TEXT NOT NULL,
        prefix TEXT NOT NULL,
        secret_sha256 TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE predictions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        at TEXT NOT NULL,
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        role TEXT NOT NULL,
        inputs_json TEXT NOT NULL,
        outputs_json TEXT NOT NULL,
        latency_us INTEGER NOT NULL
    );
    CREATE INDEX predictions_model_at ON predictions (model, at);",
    // 2 -> 3: dataset versions, the runs that used them, the file-signature cache.
    "CREATE TABLE dataset_versions (
        version TEXT PRIMARY KEY NOT NULL,
        source TEXT NOT NULL,
        n_rows INTEGER NOT NULL,
        n_cols INTEGER NOT NULL,
        schema_json TEXT NOT NULL,
        chunks_json TEXT NOT NULL,
        profile_json TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX dataset_versions_created_at ON dataset_versions (created_at);
    CREATE TABLE dataset_version_runs (
        version TEXT NOT NULL REFERENCES dataset_versions (version),
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        PRIMARY KEY (version, run_id)
    );
    CREATE INDEX dataset_version_runs_run ON dataset_version_runs (run_id);
    CREATE TABLE file_signatures (
        path TEXT NOT NULL,
        options TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        version TEXT NOT NULL REFERENCES dataset_versions (version),
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (path, options)
    );",
];

/// The schema version this code creates and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database at `path` up to [`SCHEMA_VERSION`], all steps in one transaction.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let db = |context| {
        move |source| StoreError::Db {
            path: path.to_path_buf(),
            context,
            source,
        }
    };
    if user_version(conn).map_err(db("reading schema version"))? == SCHEMA_VERSION {
        return Ok(());
    }
    // Take the write lock first so two processes do not migrate at once.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db("starting migration"))?;
    let found = user_version(&tx).map_err(db("reading schema version"))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found,
            max: SCHEMA_VERSION,
        });
    }
    for step in MIGRATIONS.iter().skip(found.max(0) as usize) {
        tx.execute_batch(step).map_err(db("migrating schema"))?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(db("setting schema version"))?;
    tx.commit().map_err(db("committing migration"))
}

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}
