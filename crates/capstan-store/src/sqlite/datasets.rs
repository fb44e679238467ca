//! Dataset versions in SQLite: `dataset_versions`, `dataset_version_runs` and
//! `file_signatures` rows.

use capstan_io::utc_now_rfc3339;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::Sqlite;
use crate::datasets::ambiguous_version;
use crate::runs::MAX_CANDIDATES;
use crate::{DatasetVersionRecord, FileSignature, NewDatasetVersion, StoreError};

const COLUMNS: &str =
    "version, source, n_rows, n_cols, schema_json, chunks_json, profile_json, created_at";

/// Inserts the version unless present, fills in a missing profile, links the run.
pub(super) fn put_dataset_version(db: &Sqlite, v: &NewDatasetVersion) -> Result<(), StoreError> {
    let err = db.db_err("recording dataset version");
    let profile = v.profile.as_ref().map(|p| p.to_string());
    let mut conn = db.conn();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(&err)?;
    if let Some(run_id) = &v.run_id {
        let known = tx
            .query_row("SELECT 1 FROM runs WHERE id = ?1", [run_id], |_| Ok(()))
            .optional()
            .map_err(&err)?
            .is_some();
        if !known {
            return Err(StoreError::RunNotFound(run_id.clone()));
        }
    }
    tx.execute(
        "INSERT INTO dataset_versions (version, source, n_rows, n_cols, schema_json,
            chunks_json, profile_json, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (version) DO UPDATE
            SET profile_json = COALESCE(dataset_versions.profile_json, excluded.profile_json)",
        params![
            v.version,
            v.source,
            v.n_rows,
            v.n_cols,
            v.schema.to_string(),
            v.chunk_hashes.to_string(),
            profile,
            utc_now_rfc3339()
        ],
    )
    .map_err(&err)?;
    if let Some(run_id) = &v.run_id {
        tx.execute(
            "INSERT OR IGNORE INTO dataset_version_runs (version, run_id) VALUES (?1, ?2)",
            params![v.version, run_id],
        )
        .map_err(&err)?;
    }
    tx.commit().map_err(&err)
}

/// The exact version, else the only one starting with `prefix`.
pub(super) fn get_dataset_version(
    db: &Sqlite,
    prefix: &str,
) -> Result<DatasetVersionRecord, StoreError> {
    let err = db.db_err("looking up dataset version");
    let conn = db.conn();
    // `prefix` is validated hex, so it holds no LIKE wildcards.
    let mut stmt = conn
        .prepare(
            "SELECT version, source FROM dataset_versions WHERE version LIKE ?1 || '%'
             ORDER BY created_at DESC, rowid DESC LIMIT ?2",
        )
        .map_err(&err)?;
    let matches = stmt
        .query_map(params![prefix, MAX_CANDIDATES as i64 + 1], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(&err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(&err)?;
    let version = match matches.as_slice() {
        [] => return Err(StoreError::DatasetVersionNotFound(prefix.to_string())),
        [(v, _)] => v.clone(),
        many if many.iter().any(|(v, _)| v == prefix) => prefix.to_string(),
        many => return Err(ambiguous_version(prefix, many)),
    };
    load(db, &conn, Some(&version))?
        .pop()
        .ok_or_else(|| StoreError::DatasetVersionNotFound(prefix.to_string()))
}

pub(super) fn list_dataset_versions(db: &Sqlite) -> Result<Vec<DatasetVersionRecord>, StoreError> {
    let conn = db.conn();
    load(db, &conn, None)
}

/// One version, or all of them, newest first, with their runs.
fn load(
    db: &Sqlite,
    conn: &Connection,
    version: Option<&str>,
) -> Result<Vec<DatasetVersionRecord>, StoreError> {
    let err = db.db_err("reading dataset versions");
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM dataset_versions WHERE ?1 IS NULL OR version = ?1
             ORDER BY created_at DESC, rowid DESC"
        ))
        .map_err(&err)?;
    let rows = stmt
        .query_map([version], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u64>(2)?,
                r.get::<_, u64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, String>(7)?,
            ))
        })
        .map_err(&err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(&err)?;
    let mut runs = conn
        .prepare(
            "SELECT l.run_id FROM dataset_version_runs l JOIN runs r ON r.id = l.run_id
             WHERE l.version = ?1 ORDER BY r.created_at DESC, r.rowid DESC",
        )
        .map_err(&err)?;
    let mut out = Vec::with_capacity(rows.len());
    for (version, source, n_rows, n_cols, schema, chunks, profile, created_at) in rows {
        let json = |field, text: &str| {
            serde_json::from_str(text).map_err(|source| StoreError::BadVersionJson {
                version: version.clone(),
                field,
                source,
            })
        };
        let run_ids = runs
            .query_map([&version], |r| r.get::<_, String>(0))
            .map_err(&err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&err)?;
        out.push(DatasetVersionRecord {
            schema: json("schema_json", &schema)?,
            chunk_hashes: json("chunks_json", &chunks)?,
            profile: profile
                .as_deref()
                .map(|p| json("profile_json", p))
                .transpose()?,
            version,
            source,
            n_rows,
            n_cols,
            created_at,
            run_ids,
        });
    }
    Ok(out)
}

pub(super) fn find_file_signature(
    db: &Sqlite,
    sig: &FileSignature,
) -> Result<Option<String>, StoreError> {
    let conn = db.conn();
    conn.query_row(
        "SELECT version FROM file_signatures
         WHERE path = ?1 AND options = ?2 AND size_bytes = ?3 AND mtime_ns = ?4",
        params![sig.path, sig.options, sig.size, sig.mtime_ns],
        |r| r.get(0),
    )
    .optional()
    .map_err(db.db_err("looking up file signature"))
}

pub(super) fn record_file_signature(
    db: &Sqlite,
    sig: &FileSignature,
    version: &str,
) -> Result<(), StoreError> {
    let conn = db.conn();
    conn.execute(
        "INSERT INTO file_signatures (path, options, size_bytes, mtime_ns, version, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (path, options) DO UPDATE SET size_bytes = excluded.size_bytes,
            mtime_ns = excluded.mtime_ns, version = excluded.version,
            recorded_at = excluded.recorded_at",
        params![
            sig.path,
            sig.options,
            sig.size,
            sig.mtime_ns,
            version,
            utc_now_rfc3339()
        ],
    )
    .map(drop)
    .map_err(db.db_err("recording file signature"))
}
