//! Dataset versions in PostgreSQL: `dataset_versions`, `dataset_version_runs` and
//! `file_signatures` rows.

use capstan_io::utc_now_rfc3339;
use postgres::GenericClient;

use super::{Postgres, col, snapshot, to_i64, to_u64};
use crate::datasets::ambiguous_version;
use crate::runs::MAX_CANDIDATES;
use crate::{DatasetVersionRecord, FileSignature, NewDatasetVersion, StoreError};

const COLUMNS: &str =
    "version, source, n_rows, n_cols, schema_json, chunks_json, profile_json, created_at";

/// Inserts the version unless present, fills in a missing profile, links the run.
pub(super) fn put_dataset_version(db: &Postgres, v: &NewDatasetVersion) -> Result<(), StoreError> {
    let profile = v.profile.as_ref().map(|p| p.to_string());
    let (schema, chunks) = (v.schema.to_string(), v.chunk_hashes.to_string());
    db.with_client(|client, commit| {
        let err = db.err("recording dataset version");
        let mut tx = client.transaction().map_err(&err)?;
        if let Some(run_id) = &v.run_id {
            let known = tx
                .query_opt("SELECT 1 FROM runs WHERE id = $1", &[run_id])
                .map_err(&err)?
                .is_some();
            if !known {
                return Err(StoreError::RunNotFound(run_id.clone()));
            }
        }
        tx.execute(
            "INSERT INTO dataset_versions (version, source, n_rows, n_cols, schema_json,
                chunks_json, profile_json, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (version) DO UPDATE
                SET profile_json = COALESCE(dataset_versions.profile_json, excluded.profile_json)",
            &[
                &v.version,
                &v.source,
                &to_i64(v.n_rows),
                &to_i64(v.n_cols),
                &schema,
                &chunks,
                &profile,
                &utc_now_rfc3339(),
            ],
        )
        .map_err(&err)?;
        if let Some(run_id) = &v.run_id {
            tx.execute(
                "INSERT INTO dataset_version_runs (version, run_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&v.version, run_id],
            )
            .map_err(&err)?;
        }
        commit.commit(tx, db, "committing dataset version")
    })
}

/// The exact version, else the only one starting with `prefix`.
pub(super) fn get_dataset_version(
    db: &Postgres,
    prefix: &str,
) -> Result<DatasetVersionRecord, StoreError> {
    db.with_client(|client, _| {
        let err = db.err("looking up dataset version");
        let mut tx = snapshot(db, client)?;
        // `prefix` is validated hex, so it holds no LIKE wildcards.
        let matches = tx
            .query(
                "SELECT version, source FROM dataset_versions WHERE version LIKE $1 || '%'
                 ORDER BY created_at DESC, seq DESC LIMIT $2",
                &[&prefix, &(MAX_CANDIDATES as i64 + 1)],
            )
            .map_err(&err)?
            .iter()
            .map(|r| Ok((col::<String, _>(r, 0, &err)?, col::<String, _>(r, 1, &err)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let version = match matches.as_slice() {
            [] => return Err(StoreError::DatasetVersionNotFound(prefix.to_string())),
            [(v, _)] => v.clone(),
            many if many.iter().any(|(v, _)| v == prefix) => prefix.to_string(),
            many => return Err(ambiguous_version(prefix, many)),
        };
        load(db, &mut tx, Some(&version))?
            .pop()
            .ok_or_else(|| StoreError::DatasetVersionNotFound(prefix.to_string()))
    })
}

pub(super) fn list_dataset_versions(
    db: &Postgres,
) -> Result<Vec<DatasetVersionRecord>, StoreError> {
    db.with_client(|client, _| {
        let mut tx = snapshot(db, client)?;
        load(db, &mut tx, None)
    })
}

/// One version, or all of them, newest first, with their runs.
fn load(
    db: &Postgres,
    tx: &mut impl GenericClient,
    version: Option<&str>,
) -> Result<Vec<DatasetVersionRecord>, StoreError> {
    let err = db.err("reading dataset versions");
    let rows = tx
        .query(
            &format!(
                "SELECT {COLUMNS} FROM dataset_versions WHERE $1::text IS NULL OR version = $1
                 ORDER BY created_at DESC, seq DESC"
            ),
            &[&version],
        )
        .map_err(&err)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let version: String = col(row, 0, &err)?;
        let json = |field, text: &str| {
            serde_json::from_str(text).map_err(|source| StoreError::BadVersionJson {
                version: version.clone(),
                field,
                source,
            })
        };
        let schema: String = col(row, 4, &err)?;
        let chunks: String = col(row, 5, &err)?;
        let profile: Option<String> = col(row, 6, &err)?;
        let run_ids = tx
            .query(
                "SELECT l.run_id FROM dataset_version_runs l JOIN runs r ON r.id = l.run_id
                 WHERE l.version = $1 ORDER BY r.created_at DESC, r.seq DESC",
                &[&version],
            )
            .map_err(&err)?
            .iter()
            .map(|r| col(r, 0, &err))
            .collect::<Result<Vec<String>, StoreError>>()?;
        out.push(DatasetVersionRecord {
            source: col(row, 1, &err)?,
            n_rows: to_u64(col(row, 2, &err)?),
            n_cols: to_u64(col(row, 3, &err)?),
            schema: json("schema_json", &schema)?,
            chunk_hashes: json("chunks_json", &chunks)?,
            profile: profile
                .as_deref()
                .map(|p| json("profile_json", p))
                .transpose()?,
            created_at: col(row, 7, &err)?,
            version,
            run_ids,
        });
    }
    Ok(out)
}

pub(super) fn find_file_signature(
    db: &Postgres,
    sig: &FileSignature,
) -> Result<Option<String>, StoreError> {
    db.with_client(|client, _| {
        let err = db.err("looking up file signature");
        let row = client
            .query_opt(
                "SELECT version FROM file_signatures
                 WHERE path = $1 AND options = $2 AND size_bytes = $3 AND mtime_ns = $4",
                &[&sig.path, &sig.options, &to_i64(sig.size), &sig.mtime_ns],
            )
            .map_err(&err)?;
        row.map(|r| col(&r, 0, &err)).transpose()
    })
}

pub(super) fn record_file_signature(
    db: &Postgres,
    sig: &FileSignature,
    version: &str,
) -> Result<(), StoreError> {
    db.with_client(|client, _| {
        client
            .execute(
                "INSERT INTO file_signatures
                    (path, options, size_bytes, mtime_ns, version, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (path, options) DO UPDATE SET size_bytes = excluded.size_bytes,
                    mtime_ns = excluded.mtime_ns, version = excluded.version,
                    recorded_at = excluded.recorded_at",
                &[
                    &sig.path,
                    &sig.options,
                    &to_i64(sig.size),
                    &sig.mtime_ns,
                    &version,
                    &utc_now_rfc3339(),
                ],
            )
            .map(drop)
            .map_err(db.err("recording file signature"))
    })
}
