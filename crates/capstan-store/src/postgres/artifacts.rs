//! Artifacts in PostgreSQL: `artifact_blobs` rows keyed by sha256, written once.

use super::{Postgres, col, to_i64, to_u64};
use crate::{ArtifactRef, StoreError};

/// Stores `bytes` under `sha256` (their hash). A blob already stored intact is left alone
/// (and not sent again); a damaged one is replaced, as the SQLite backend replaces a
/// damaged file.
pub(super) fn put_artifact(
    db: &Postgres,
    sha256: &str,
    bytes: &[u8],
) -> Result<ArtifactRef, StoreError> {
    let done = ArtifactRef {
        sha256: sha256.to_string(),
        size: bytes.len() as u64,
    };
    let err = db.err("storing artifact");
    db.with_client(|client, commit| {
        let intact = client
            .query_opt(
                "SELECT 1 FROM artifact_blobs
                 WHERE sha256 = $1 AND encode(sha256(bytes), 'hex') = sha256",
                &[&sha256],
            )
            .map_err(&err)?
            .is_some();
        if intact {
            return Ok(());
        }
        let mut tx = client.transaction().map_err(&err)?;
        tx.execute(
            "INSERT INTO artifact_blobs (sha256, size, bytes) VALUES ($1, $2, $3)
             ON CONFLICT (sha256) DO UPDATE SET size = excluded.size, bytes = excluded.bytes
             WHERE encode(sha256(artifact_blobs.bytes), 'hex') <> artifact_blobs.sha256",
            &[&sha256, &to_i64(done.size), &bytes],
        )
        .map_err(&err)?;
        commit.commit(tx, db, "committing artifact")
    })?;
    Ok(done)
}

pub(super) fn read_artifact(db: &Postgres, sha256: &str) -> Result<Vec<u8>, StoreError> {
    let err = db.err("reading artifact");
    let row = db.with_client(|client, _| {
        client
            .query_opt(
                "SELECT bytes FROM artifact_blobs WHERE sha256 = $1",
                &[&sha256],
            )
            .map_err(&err)
    })?;
    match row {
        Some(row) => col(&row, 0, &err),
        None => Err(StoreError::ArtifactMissing {
            sha256: sha256.to_string(),
            location: db.location.clone(),
        }),
    }
}

pub(super) fn artifact_size(db: &Postgres, sha256: &str) -> Result<Option<u64>, StoreError> {
    let err = db.err("reading artifact size");
    let row = db.with_client(|client, _| {
        client
            .query_opt(
                "SELECT size FROM artifact_blobs WHERE sha256 = $1",
                &[&sha256],
            )
            .map_err(&err)
    })?;
    row.map(|r| col::<i64, _>(&r, 0, &err).map(to_u64))
        .transpose()
}
