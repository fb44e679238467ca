//! The model registry in SQLite: `models`, `model_versions`, `aliases`, `rollouts`, `audit`.

use std::collections::BTreeMap;

use capstan_io::utc_now_rfc3339;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use serde_json::json;

use super::{Sqlite, bad_value};
use crate::{
    ArtifactRef, AuditEntry, Change, ModelVersion, RegisteredModel, RegistryUpdate, Rollout,
    RolloutMode, StoreError,
};

pub(super) fn register_version(
    db: &Sqlite,
    model: &str,
    bundle: &ArtifactRef,
    run_id: Option<&str>,
    description: &str,
    change: &Change,
) -> Result<ModelVersion, StoreError> {
    let err = db.db_err("registering model version");
    let now = utc_now_rfc3339();
    let mut conn = db.conn();
    // The write lock first, so concurrent registrations get distinct numbers.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(&err)?;
    tx.execute(
        "INSERT OR IGNORE INTO models (name, created_at) VALUES (?1, ?2)",
        params![model, now],
    )
    .map_err(&err)?;
    let version: u32 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model = ?1",
            [model],
            |r| r.get(0),
        )
        .map_err(&err)?;
    let mv = ModelVersion {
        model: model.to_string(),
        version,
        bundle_sha256: bundle.sha256.clone(),
        bundle_size: bundle.size,
        run_id: run_id.map(str::to_string),
        description: description.to_string(),
        created_at: now.clone(),
        created_by: change.actor.clone(),
    };
    tx.execute(
        "INSERT INTO model_versions (model, version, bundle_sha256, bundle_size, run_id,
            description, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            mv.model,
            mv.version,
            mv.bundle_sha256,
            mv.bundle_size,
            mv.run_id,
            mv.description,
            mv.created_at,
            mv.created_by
        ],
    )
    .map_err(&err)?;
    let entry = audit_entry(
        &now,
        model,
        "register",
        change,
        json!({"bundle_sha256": mv.bundle_sha256, "run_id": mv.run_id}),
    );
    insert_audit(
        &tx,
        AuditEntry {
            to_version: Some(version),
            ..entry
        },
    )
    .map_err(&err)?;
    tx.commit().map_err(&err)?;
    Ok(mv)
}

pub(super) fn list_models(db: &Sqlite) -> Result<Vec<RegisteredModel>, StoreError> {
    let err = db.db_err("listing models");
    let mut conn = db.conn();
    // One read transaction: a consistent snapshot of every model.
    let tx = conn.transaction().map_err(&err)?;
    let names = model_names(&tx).map_err(&err)?;
    let mut models = Vec::with_capacity(names.len());
    for name in names {
        if let Some(m) = load_model(&tx, &name).map_err(&err)? {
            models.push(m);
        }
    }
    Ok(models)
}

pub(super) fn get_model(db: &Sqlite, name: &str) -> Result<Option<RegisteredModel>, StoreError> {
    let err = db.db_err("reading model");
    let mut conn = db.conn();
    let tx = conn.transaction().map_err(&err)?;
    load_model(&tx, name).map_err(&err)
}

pub(super) fn update_registry(
    db: &Sqlite,
    model: &str,
    update: &RegistryUpdate,
    change: &Change,
) -> Result<Vec<AuditEntry>, StoreError> {
    let err = db.db_err("updating registry");
    let now = utc_now_rfc3339();
    let mut conn = db.conn();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(&err)?;
    let exists = tx
        .query_row("SELECT 1 FROM models WHERE name = ?1", [model], |_| Ok(()))
        .optional()
        .map_err(&err)?
        .is_some();
    if !exists {
        return Err(StoreError::ModelNotFound {
            name: model.to_string(),
            known: model_names(&tx).map_err(&err)?,
        });
    }
    let mut entries = Vec::new();
    // Any early return drops `tx`, which rolls everything back.
    for (alias, target) in &update.aliases {
        let from: Option<u32> = tx
            .query_row(
                "SELECT version FROM aliases WHERE model = ?1 AND alias = ?2",
                [model, alias],
                |r| r.get(0),
            )
            .optional()
            .map_err(&err)?;
        match target {
            Some(version) => {
                let known = tx
                    .query_row(
                        "SELECT 1 FROM model_versions WHERE model = ?1 AND version = ?2",
                        params![model, version],
                        |_| Ok(()),
                    )
                    .optional()
                    .map_err(&err)?
                    .is_some();
                if !known {
                    let latest: Option<u32> = tx
                        .query_row(
                            "SELECT MAX(version) FROM model_versions WHERE model = ?1",
                            [model],
                            |r| r.get(0),
                        )
                        .map_err(&err)?;
                    return Err(StoreError::VersionNotFound {
                        model: model.to_string(),
                        version: *version,
                        latest,
                    });
                }
                tx.execute(
                    "INSERT INTO aliases (model, alias, version) VALUES (?1, ?2, ?3)
                     ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version",
                    params![model, alias, version],
                )
                .map_err(&err)?;
            }
            None => {
                if from.is_none() {
                    return Err(StoreError::AliasNotFound {
                        model: model.to_string(),
                        alias: alias.clone(),
                    });
                }
                tx.execute(
                    "DELETE FROM aliases WHERE model = ?1 AND alias = ?2",
                    [model, alias],
                )
                .map_err(&err)?;
            }
        }
        let entry = audit_entry(&now, model, &update.action, change, json!({}));
        let entry = AuditEntry {
            alias: Some(alias.clone()),
            from_version: from,
            to_version: *target,
            ..entry
        };
        entries.push(insert_audit(&tx, entry).map_err(&err)?);
    }
    if let Some(r) = &update.rollout {
        tx.execute(
            "INSERT INTO rollouts (model, mode, canary_percent, max_error_rate, max_p99_ms,
                min_requests)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (model) DO UPDATE SET mode = excluded.mode,
                canary_percent = excluded.canary_percent,
                max_error_rate = excluded.max_error_rate,
                max_p99_ms = excluded.max_p99_ms,
                min_requests = excluded.min_requests",
            params![
                model,
                mode_name(r.mode),
                r.canary_percent,
                r.max_error_rate,
                r.max_p99_ms,
                r.min_requests
            ],
        )
        .map_err(&err)?;
        let details = serde_json::to_value(r).unwrap_or_default();
        let entry = audit_entry(&now, model, &update.action, change, details);
        entries.push(insert_audit(&tx, entry).map_err(&err)?);
    }
    tx.commit().map_err(&err)?;
    Ok(entries)
}

pub(super) fn audit_log(
    db: &Sqlite,
    model: Option<&str>,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let err = db.db_err("reading audit log");
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let conn = db.conn();
    let mut stmt = conn
        .prepare(
            "SELECT id, at, actor, model, action, alias, from_version, to_version, reason,
                details_json
             FROM audit WHERE (?1 IS NULL OR model = ?1) ORDER BY id DESC LIMIT ?2",
        )
        .map_err(&err)?;
    stmt.query_map(params![model, limit], audit_from_row)
        .map_err(&err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(&err)
}

fn model_names(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM models ORDER BY name")?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

/// The model with its versions (oldest first), aliases and rollout.
fn load_model(conn: &Connection, name: &str) -> rusqlite::Result<Option<RegisteredModel>> {
    let created_at: Option<String> = conn
        .query_row(
            "SELECT created_at FROM models WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    let Some(created_at) = created_at else {
        return Ok(None);
    };
    let mut stmt = conn.prepare(
        "SELECT model, version, bundle_sha256, bundle_size, run_id, description, created_at,
            created_by
         FROM model_versions WHERE model = ?1 ORDER BY version",
    )?;
    let versions = stmt
        .query_map([name], |r| {
            Ok(ModelVersion {
                model: r.get(0)?,
                version: r.get(1)?,
                bundle_sha256: r.get(2)?,
                bundle_size: r.get(3)?,
                run_id: r.get(4)?,
                description: r.get(5)?,
                created_at: r.get(6)?,
                created_by: r.get(7)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut stmt = conn.prepare("SELECT alias, version FROM aliases WHERE model = ?1")?;
    let aliases = stmt
        .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<BTreeMap<String, u32>, _>>()?;
    let rollout = conn
        .query_row(
            "SELECT mode, canary_percent, max_error_rate, max_p99_ms, min_requests
             FROM rollouts WHERE model = ?1",
            [name],
            |r| {
                let mode: String = r.get(0)?;
                Ok(Rollout {
                    mode: parse_mode(&mode)
                        .ok_or_else(|| bad_value(0, format!("unknown rollout mode '{mode}'")))?,
                    canary_percent: r.get(1)?,
                    max_error_rate: r.get(2)?,
                    max_p99_ms: r.get(3)?,
                    min_requests: r.get(4)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default();
    Ok(Some(RegisteredModel {
        name: name.to_string(),
        created_at,
        versions,
        aliases,
        rollout,
    }))
}

/// An audit entry with no alias or versions yet (`id` is set on insert).
fn audit_entry(
    at: &str,
    model: &str,
    action: &str,
    change: &Change,
    details: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        id: 0,
        at: at.to_string(),
        actor: change.actor.clone(),
        model: model.to_string(),
        action: action.to_string(),
        alias: None,
        from_version: None,
        to_version: None,
        reason: change.reason.clone(),
        details,
    }
}

/// Writes `entry` and returns it with its id.
fn insert_audit(tx: &Transaction<'_>, entry: AuditEntry) -> rusqlite::Result<AuditEntry> {
    tx.execute(
        "INSERT INTO audit (at, actor, model, action, alias, from_version, to_version, reason,
            details_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            entry.at,
            entry.actor,
            entry.model,
            entry.action,
            entry.alias,
            entry.from_version,
            entry.to_version,
            entry.reason,
            entry.details.to_string()
        ],
    )?;
    Ok(AuditEntry {
        id: tx.last_insert_rowid(),
        ..entry
    })
}

fn audit_from_row(r: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    let details: String = r.get(9)?;
    Ok(AuditEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        model: r.get(3)?,
        action: r.get(4)?,
        alias: r.get(5)?,
        from_version: r.get(6)?,
        to_version: r.get(7)?,
        reason: r.get(8)?,
        details: serde_json::from_str(&details)
            .map_err(|e| bad_value(9, format!("audit details are not valid json: {e}")))?,
    })
}

fn mode_name(mode: RolloutMode) -> &'static str {
    match mode {
        RolloutMode::Off => "off",
        RolloutMode::Shadow => "shadow",
        RolloutMode::Canary => "canary",
    }
}

fn parse_mode(s: &str) -> Option<RolloutMode> {
    match s {
        "off" => Some(RolloutMode::Off),
        "shadow" => Some(RolloutMode::Shadow),
        "canary" => Some(RolloutMode::Canary),
        _ => None,
    }
}
