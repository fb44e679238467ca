//! API keys in SQLite: the `api_keys` table (secret hashes only).

use capstan_io::utc_now_rfc3339;
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use super::{Sqlite, bad_value};
use crate::{ApiKey, Role, StoreError};

const COLUMNS: &str = "name, role, prefix, created_at, revoked_at";

/// Inserts a key; a name already used by any key, revoked or not, is refused.
pub(super) fn insert_api_key(
    db: &Sqlite,
    key: &ApiKey,
    secret_sha256: &str,
) -> Result<(), StoreError> {
    let err = db.db_err("creating api key");
    let mut conn = db.conn();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(&err)?;
    let taken = tx
        .query_row(
            "SELECT 1 FROM api_keys WHERE name = ?1",
            [&key.name],
            |_| Ok(()),
        )
        .optional()
        .map_err(&err)?
        .is_some();
    if taken {
        return Err(StoreError::KeyExists(key.name.clone()));
    }
    tx.execute(
        "INSERT INTO api_keys (name, role, prefix, secret_sha256, created_at, revoked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            key.name,
            key.role.name(),
            key.prefix,
            secret_sha256,
            key.created_at,
            key.revoked_at
        ],
    )
    .map_err(&err)?;
    tx.commit().map_err(&err)
}

pub(super) fn api_key_by_hash(
    db: &Sqlite,
    secret_sha256: &str,
) -> Result<Option<ApiKey>, StoreError> {
    let conn = db.conn();
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM api_keys WHERE secret_sha256 = ?1 AND revoked_at IS NULL"),
        [secret_sha256],
        key_from_row,
    )
    .optional()
    .map_err(db.db_err("checking api key"))
}

/// Every key, revoked ones included, newest first.
pub(super) fn list_api_keys(db: &Sqlite) -> Result<Vec<ApiKey>, StoreError> {
    let err = db.db_err("listing api keys");
    let conn = db.conn();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM api_keys ORDER BY created_at DESC, rowid DESC"
        ))
        .map_err(&err)?;
    stmt.query_map([], key_from_row)
        .map_err(&err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(&err)
}

pub(super) fn revoke_api_key(db: &Sqlite, name: &str) -> Result<bool, StoreError> {
    let conn = db.conn();
    let changed = conn
        .execute(
            "UPDATE api_keys SET revoked_at = ?1 WHERE name = ?2 AND revoked_at IS NULL",
            params![utc_now_rfc3339(), name],
        )
        .map_err(db.db_err("revoking api key"))?;
    Ok(changed > 0)
}

fn key_from_row(r: &Row<'_>) -> rusqlite::Result<ApiKey> {
    let role: String = r.get(1)?;
    Ok(ApiKey {
        name: r.get(0)?,
        role: Role::parse(&role).ok_or_else(|| bad_value(1, format!("unknown role '{role}'")))?,
        prefix: r.get(2)?,
        created_at: r.get(3)?,
        revoked_at: r.get(4)?,
    })
}
