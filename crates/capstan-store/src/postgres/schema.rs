//! Database schema, upgraded step by step; the `capstan_schema` table holds the applied step.
//! Tables mirror the SQLite schema (PostgreSQL step 2 is SQLite step 3: SQLite's first two
//! steps are PostgreSQL's first); artifacts live in `artifact_blobs`. Text that is sorted or
//! compared by range uses the "C" collation, so order is byte order whatever the database's
//! locale (as in SQLite).

use std::path::PathBuf;

use postgres::Client;

use super::{Commit, Postgres, col};
use crate::StoreError;

/// Held (per transaction) while migrating, so two processes starting together take turns.
/// The bytes of "capstan1".
const MIGRATION_LOCK: i64 = 0x6361_7073_7461_6e31;

/// Each entry upgrades the schema from version `i` to `i + 1`. Append only; never edit.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: runs, artifacts, model registry, audit trail, api keys, prediction log.
    r#"CREATE TABLE runs (
        id text COLLATE "C" PRIMARY KEY,
        seq bigserial NOT NULL UNIQUE,
        name text,
        created_at text COLLATE "C" NOT NULL,
        started_at text NOT NULL,
        finished_at text,
        status text NOT NULL,
        task text NOT NULL,
        model_kind text NOT NULL,
        dataset_sha256 text NOT NULL,
        params_json text NOT NULL,
        lineage_json text NOT NULL
    );
    CREATE INDEX runs_created_at ON runs (created_at, seq);
    CREATE TABLE metrics (
        run_id text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        split text COLLATE "C" NOT NULL,
        fold bigint,
        name text COLLATE "C" NOT NULL,
        value double precision -- NULL stores NaN
    );
    CREATE UNIQUE INDEX metrics_key ON metrics (run_id, split, COALESCE(fold, -1), name);
    CREATE TABLE tags (
        run_id text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key text NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (run_id, key)
    );
    CREATE TABLE artifacts (
        run_id text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        name text NOT NULL,
        sha256 text NOT NULL,
        size_bytes bigint NOT NULL,
        PRIMARY KEY (run_id, name)
    );
    CREATE INDEX artifacts_sha256 ON artifacts (sha256);
    CREATE TABLE artifact_blobs (
        sha256 text PRIMARY KEY,
        size bigint NOT NULL,
        bytes bytea NOT NULL
    );
    -- Bundles are compressed already: store them out of line without trying again.
    ALTER TABLE artifact_blobs ALTER COLUMN bytes SET STORAGE EXTERNAL;
    CREATE TABLE models (
        name text COLLATE "C" PRIMARY KEY,
        created_at text NOT NULL
    );
    CREATE TABLE model_versions (
        model text COLLATE "C" NOT NULL REFERENCES models (name),
        version bigint NOT NULL,
        bundle_sha256 text NOT NULL,
        bundle_size bigint NOT NULL,
        run_id text COLLATE "C" REFERENCES runs (id),
        description text NOT NULL,
        created_at text NOT NULL,
        created_by text NOT NULL,
        PRIMARY KEY (model, version)
    );
    CREATE INDEX model_versions_bundle ON model_versions (bundle_sha256);
    CREATE TABLE aliases (
        model text COLLATE "C" NOT NULL REFERENCES models (name),
        alias text COLLATE "C" NOT NULL,
        version bigint NOT NULL,
        PRIMARY KEY (model, alias),
        FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
    );
    CREATE TABLE rollouts (
        model text COLLATE "C" PRIMARY KEY REFERENCES models (name),
        mode text NOT NULL,
        canary_percent double precision NOT NULL,
        max_error_rate double precision,
        max_p99_ms double precision,
        min_requests bigint NOT NULL
    );
    CREATE TABLE audit (
        id bigserial PRIMARY KEY,
        at text NOT NULL,
        actor text NOT NULL,
        model text COLLATE "C" NOT NULL,
        action text NOT NULL,
        alias text,
        from_version bigint,
        to_version bigint,
        reason text NOT NULL,
        details_json text NOT NULL
    );
    CREATE INDEX audit_model ON audit (model, id);
    CREATE TABLE api_keys (
        name text PRIMARY KEY,
        seq bigserial NOT NULL UNIQUE,
        role text NOT NULL,
        prefix text NOT NULL,
        secret_sha256 text NOT NULL UNIQUE,
        created_at text COLLATE "C" NOT NULL,
        revoked_at text
    );
    CREATE TABLE predictions (
        seq bigserial PRIMARY KEY,
        id text NOT NULL UNIQUE,
        at text COLLATE "C" NOT NULL,
        model text COLLATE "C" NOT NULL,
        version bigint NOT NULL,
        role text NOT NULL,
        inputs_json text NOT NULL,
        outputs_json text NOT NULL,
        latency_us bigint NOT NULL
    );
    CREATE INDEX predictions_model_at ON predictions (model, at);"#,
    // 1 -> 2: dataset versions, the runs that used them, the file-signature cache.
    r#"CREATE TABLE dataset_versions (
        version text COLLATE "C" PRIMARY KEY,
        seq bigserial NOT NULL UNIQUE,
        source text NOT NULL,
        n_rows bigint NOT NULL,
        n_cols bigint NOT NULL,
        schema_json text NOT NULL,
        chunks_json text NOT NULL,
        profile_json text,
        created_at text COLLATE "C" NOT NULL
    );
    CREATE INDEX dataset_versions_created_at ON dataset_versions (created_at, seq);
    CREATE TABLE dataset_version_runs (
        version text COLLATE "C" NOT NULL REFERENCES dataset_versions (version),
        run_id text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        PRIMARY KEY (version, run_id)
    );
    CREATE INDEX dataset_version_runs_run ON dataset_version_runs (run_id);
    CREATE TABLE file_signatures (
        path text NOT NULL,
        options text NOT NULL,
        size_bytes bigint NOT NULL,
        mtime_ns bigint NOT NULL,
        version text COLLATE "C" NOT NULL REFERENCES dataset_versions (version),
        recorded_at text NOT NULL,
        PRIMARY KEY (path, options)
    );"#,
];

/// The schema version this code creates and understands.
const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Brings the schema up to [`SCHEMA_VERSION`], all steps in one transaction.
pub(super) fn migrate(
    db: &Postgres,
    client: &mut Client,
    commit: &Commit,
) -> Result<(), StoreError> {
    let err = db.err("reading schema version");
    if applied_version(client, &err)? == Some(SCHEMA_VERSION) {
        return Ok(());
    }
    let mut tx = client.transaction().map_err(db.err("starting migration"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(db.err("waiting for the migration lock"))?;
    // Under the lock, and in a statement started after it was granted: what another
    // process committed meanwhile is seen here.
    tx.batch_execute("CREATE TABLE IF NOT EXISTS capstan_schema (version integer NOT NULL)")
        .map_err(db.err("creating the schema version table"))?;
    let row = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM capstan_schema", &[])
        .map_err(&err)?;
    let found: i32 = col(&row, 0, &err)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: PathBuf::from(&db.location),
            found: i64::from(found),
            max: i64::from(SCHEMA_VERSION),
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    for step in MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(0)) {
        tx.batch_execute(step).map_err(db.err("migrating schema"))?;
    }
    let set = db.err("setting schema version");
    tx.execute("DELETE FROM capstan_schema", &[])
        .map_err(&set)?;
    tx.execute(
        "INSERT INTO capstan_schema (version) VALUES ($1)",
        &[&SCHEMA_VERSION],
    )
    .map_err(&set)?;
    commit.commit(tx, db, "committing migration")
}

/// The applied version, `None` before the first migration.
fn applied_version(
    client: &mut Client,
    err: &impl Fn(postgres::Error) -> StoreError,
) -> Result<Option<i32>, StoreError> {
    let row = client
        .query_one("SELECT to_regclass('capstan_schema') IS NOT NULL", &[])
        .map_err(err)?;
    if !col::<bool, _>(&row, 0, err)? {
        return Ok(None);
    }
    let row = client
        .query_one("SELECT COALESCE(MAX(version), 0) FROM capstan_schema", &[])
        .map_err(err)?;
    Ok(Some(col(&row, 0, err)?))
}
