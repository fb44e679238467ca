//! API keys in PostgreSQL: the `api_keys` table (secret hashes only).

use capstan_io::utc_now_rfc3339;
use postgres::Row;

use super::{Postgres, col};
use crate::{ApiKey, Role, StoreError};

const COLUMNS: &str = "name, role, prefix, created_at, revoked_at";

/// Inserts a key; a name already used by any key, revoked or not, is refused.
pub(super) fn insert_api_key(
    db: &Postgres,
    key: &ApiKey,
    secret_sha256: &str,
) -> Result<(), StoreError> {
    let err = db.err("creating api key");
    db.with_client(|client, commit| {
        let mut tx = client.transaction().map_err(&err)?;
        let inserted = tx
            .execute(
                "INSERT INTO api_keys (name, role, prefix, secret_sha256, created_at, revoked_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
                &[
                    &key.name,
                    &key.role.name(),
                    &key.prefix,
                    &secret_sha256,
                    &key.created_at,
                    &key.revoked_at,
                ],
            )
            .map_err(&err)?;
        if inserted == 0 {
            return Err(StoreError::KeyExists(key.name.clone()));
        }
        commit.commit(tx, db, "committing api key")
    })
}

/// The active key with this secret hash.
pub(super) fn api_key_by_hash(
    db: &Postgres,
    secret_sha256: &str,
) -> Result<Option<ApiKey>, StoreError> {
    let err = db.err("checking api key");
    let row = db.with_client(|client, _| {
        client
            .query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM api_keys
                     WHERE secret_sha256 = $1 AND revoked_at IS NULL"
                ),
                &[&secret_sha256],
            )
            .map_err(&err)
    })?;
    row.map(|r| key_from_row(db, &r, &err)).transpose()
}

/// Every key, revoked ones included, newest first.
pub(super) fn list_api_keys(db: &Postgres) -> Result<Vec<ApiKey>, StoreError> {
    let err = db.err("listing api keys");
    let rows = db.with_client(|client, _| {
        client
            .query(
                &format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at DESC, seq DESC"),
                &[],
            )
            .map_err(&err)
    })?;
    rows.iter().map(|r| key_from_row(db, r, &err)).collect()
}

/// Returns false when no active key has this name.
pub(super) fn revoke_api_key(db: &Postgres, name: &str) -> Result<bool, StoreError> {
    let err = db.err("revoking api key");
    db.with_client(|client, commit| {
        let mut tx = client.transaction().map_err(&err)?;
        let changed = tx
            .execute(
                "UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
                &[&utc_now_rfc3339(), &name],
            )
            .map_err(&err)?;
        commit.commit(tx, db, "committing api key revocation")?;
        Ok(changed > 0)
    })
}

fn key_from_row(
    db: &Postgres,
    r: &Row,
    err: &impl Fn(postgres::Error) -> StoreError,
) -> Result<ApiKey, StoreError> {
    let name: String = col(r, 0, err)?;
    let role: String = col(r, 1, err)?;
    Ok(ApiKey {
        role: Role::parse(&role)
            .ok_or_else(|| db.corrupt(format!("api key '{name}': unknown role '{role}'")))?,
        name,
        prefix: col(r, 2, err)?,
        created_at: col(r, 3, err)?,
        revoked_at: col(r, 4, err)?,
    })
}
