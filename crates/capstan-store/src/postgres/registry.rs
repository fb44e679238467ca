//! The model registry in PostgreSQL: `models`, `model_versions`, `aliases`, `rollouts`,
//! `audit`. Every write locks the model's row first, so writers to one model take turns
//! across connections and processes.

use std::collections::BTreeMap;

use capstan_io::utc_now_rfc3339;
use postgres::{GenericClient, Row};
use serde_json::json;

use super::{Postgres, col, snapshot, to_i64, to_u32, to_u64};
use crate::{
    ArtifactRef, AuditEntry, Change, ModelVersion, RegisteredModel, RegistryUpdate, Rollout,
    RolloutMode, StoreError,
};

type ErrFn<'a> = dyn Fn(postgres::Error) -> StoreError + 'a;

pub(super) fn register_version(
    db: &Postgres,
    model: &str,
    bundle: &ArtifactRef,
    run_id: Option<&str>,
    description: &str,
    change: &Change,
) -> Result<ModelVersion, StoreError> {
    let err = db.err("registering model version");
    db.with_client(|client, commit| {
        let now = utc_now_rfc3339();
        let mut tx = client.transaction().map_err(&err)?;
        tx.execute(
            "INSERT INTO models (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&model, &now],
        )
        .map_err(&err)?;
        // Concurrent registrations wait here, then see the version committed before them.
        tx.execute("SELECT 1 FROM models WHERE name = $1 FOR UPDATE", &[&model])
            .map_err(&err)?;
        let row = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model = $1",
                &[&model],
            )
            .map_err(&err)?;
        let version = to_u32(col(&row, 0, &err)?);
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &mv.model,
                &i64::from(mv.version),
                &mv.bundle_sha256,
                &to_i64(mv.bundle_size),
                &mv.run_id,
                &mv.description,
                &mv.created_at,
                &mv.created_by,
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
        let entry = AuditEntry {
            to_version: Some(version),
            ..entry
        };
        insert_audit(&mut tx, entry, &err)?;
        commit.commit(tx, db, "committing model version")?;
        Ok(mv)
    })
}

pub(super) fn list_models(db: &Postgres) -> Result<Vec<RegisteredModel>, StoreError> {
    let err = db.err("listing models");
    db.with_client(|client, _| {
        // One snapshot of every model.
        let mut tx = snapshot(db, client)?;
        let names = model_names(&mut tx, &err)?;
        let mut models = Vec::with_capacity(names.len());
        for name in names {
            if let Some(m) = load_model(db, &mut tx, &name, &err)? {
                models.push(m);
            }
        }
        Ok(models)
    })
}

pub(super) fn get_model(db: &Postgres, name: &str) -> Result<Option<RegisteredModel>, StoreError> {
    let err = db.err("reading model");
    db.with_client(|client, _| {
        let mut tx = snapshot(db, client)?;
        load_model(db, &mut tx, name, &err)
    })
}

pub(super) fn update_registry(
    db: &Postgres,
    model: &str,
    update: &RegistryUpdate,
    change: &Change,
) -> Result<Vec<AuditEntry>, StoreError> {
    let err = db.err("updating registry");
    db.with_client(|client, commit| {
        let now = utc_now_rfc3339();
        let mut tx = client.transaction().map_err(&err)?;
        let exists = tx
            .query_opt("SELECT 1 FROM models WHERE name = $1 FOR UPDATE", &[&model])
            .map_err(&err)?
            .is_some();
        if !exists {
            return Err(StoreError::ModelNotFound {
                name: model.to_string(),
                known: model_names(&mut tx, &err)?,
            });
        }
        let mut entries = Vec::new();
        // Any early return drops `tx`, which rolls everything back.
        for (alias, target) in &update.aliases {
            let from: Option<u32> = tx
                .query_opt(
                    "SELECT version FROM aliases WHERE model = $1 AND alias = $2",
                    &[&model, alias],
                )
                .map_err(&err)?
                .map(|r| col::<i64, _>(&r, 0, &err).map(to_u32))
                .transpose()?;
            match target {
                Some(version) => {
                    let v = i64::from(*version);
                    let known = tx
                        .query_opt(
                            "SELECT 1 FROM model_versions WHERE model = $1 AND version = $2",
                            &[&model, &v],
                        )
                        .map_err(&err)?
                        .is_some();
                    if !known {
                        let row = tx
                            .query_one(
                                "SELECT MAX(version) FROM model_versions WHERE model = $1",
                                &[&model],
                            )
                            .map_err(&err)?;
                        let latest: Option<i64> = col(&row, 0, &err)?;
                        return Err(StoreError::VersionNotFound {
                            model: model.to_string(),
                            version: *version,
                            latest: latest.map(to_u32),
                        });
                    }
                    tx.execute(
                        "INSERT INTO aliases (model, alias, version) VALUES ($1, $2, $3)
                         ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version",
                        &[&model, alias, &v],
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
                        "DELETE FROM aliases WHERE model = $1 AND alias = $2",
                        &[&model, alias],
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
            entries.push(insert_audit(&mut tx, entry, &err)?);
        }
        if let Some(r) = &update.rollout {
            tx.execute(
                "INSERT INTO rollouts (model, mode, canary_percent, max_error_rate, max_p99_ms,
                    min_requests)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (model) DO UPDATE SET mode = excluded.mode,
                    canary_percent = excluded.canary_percent,
                    max_error_rate = excluded.max_error_rate,
                    max_p99_ms = excluded.max_p99_ms,
                    min_requests = excluded.min_requests",
                &[
                    &model,
                    &mode_name(r.mode),
                    &r.canary_percent,
                    &r.max_error_rate,
                    &r.max_p99_ms,
                    &i64::from(r.min_requests),
                ],
            )
            .map_err(&err)?;
            let details = serde_json::to_value(r).unwrap_or_default();
            let entry = audit_entry(&now, model, &update.action, change, details);
            entries.push(insert_audit(&mut tx, entry, &err)?);
        }
        commit.commit(tx, db, "committing registry update")?;
        Ok(entries)
    })
}

/// Newest first, for one model or all.
pub(super) fn audit_log(
    db: &Postgres,
    model: Option<&str>,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let err = db.err("reading audit log");
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = db.with_client(|client, _| {
        client
            .query(
                "SELECT id, at, actor, model, action, alias, from_version, to_version, reason,
                    details_json
                 FROM audit WHERE ($1::text IS NULL OR model = $1) ORDER BY id DESC LIMIT $2",
                &[&model, &limit],
            )
            .map_err(&err)
    })?;
    rows.iter().map(|r| audit_from_row(db, r, &err)).collect()
}

fn model_names(tx: &mut impl GenericClient, err: &ErrFn<'_>) -> Result<Vec<String>, StoreError> {
    tx.query("SELECT name FROM models ORDER BY name", &[])
        .map_err(err)?
        .iter()
        .map(|r| col(r, 0, err))
        .collect()
}

/// The model with its versions (oldest first), aliases and rollout.
fn load_model(
    db: &Postgres,
    tx: &mut impl GenericClient,
    name: &str,
    err: &ErrFn<'_>,
) -> Result<Option<RegisteredModel>, StoreError> {
    let Some(row) = tx
        .query_opt("SELECT created_at FROM models WHERE name = $1", &[&name])
        .map_err(err)?
    else {
        return Ok(None);
    };
    let created_at: String = col(&row, 0, err)?;
    let versions = tx
        .query(
            "SELECT model, version, bundle_sha256, bundle_size, run_id, description,
                created_at, created_by
             FROM model_versions WHERE model = $1 ORDER BY version",
            &[&name],
        )
        .map_err(err)?
        .iter()
        .map(|r| {
            Ok(ModelVersion {
                model: col(r, 0, err)?,
                version: to_u32(col(r, 1, err)?),
                bundle_sha256: col(r, 2, err)?,
                bundle_size: to_u64(col(r, 3, err)?),
                run_id: col(r, 4, err)?,
                description: col(r, 5, err)?,
                created_at: col(r, 6, err)?,
                created_by: col(r, 7, err)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let aliases = tx
        .query(
            "SELECT alias, version FROM aliases WHERE model = $1",
            &[&name],
        )
        .map_err(err)?
        .iter()
        .map(|r| Ok((col(r, 0, err)?, to_u32(col(r, 1, err)?))))
        .collect::<Result<BTreeMap<String, u32>, StoreError>>()?;
    let rollout = tx
        .query_opt(
            "SELECT mode, canary_percent, max_error_rate, max_p99_ms, min_requests
             FROM rollouts WHERE model = $1",
            &[&name],
        )
        .map_err(err)?;
    let rollout = match rollout {
        None => Rollout::default(),
        Some(r) => {
            let mode: String = col(&r, 0, err)?;
            Rollout {
                mode: parse_mode(&mode).ok_or_else(|| {
                    db.corrupt(format!("model '{name}': unknown rollout mode '{mode}'"))
                })?,
                canary_percent: col(&r, 1, err)?,
                max_error_rate: col(&r, 2, err)?,
                max_p99_ms: col(&r, 3, err)?,
                min_requests: to_u32(col(&r, 4, err)?),
            }
        }
    };
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
fn insert_audit(
    tx: &mut impl GenericClient,
    entry: AuditEntry,
    err: &ErrFn<'_>,
) -> Result<AuditEntry, StoreError> {
    let row = tx
        .query_one(
            "INSERT INTO audit (at, actor, model, action, alias, from_version, to_version,
                reason, details_json)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[
                &entry.at,
                &entry.actor,
                &entry.model,
                &entry.action,
                &entry.alias,
                &entry.from_version.map(i64::from),
                &entry.to_version.map(i64::from),
                &entry.reason,
                &entry.details.to_string(),
            ],
        )
        .map_err(err)?;
    Ok(AuditEntry {
        id: col(&row, 0, err)?,
        ..entry
    })
}

fn audit_from_row(db: &Postgres, r: &Row, err: &ErrFn<'_>) -> Result<AuditEntry, StoreError> {
    let id: i64 = col(r, 0, err)?;
    let details: String = col(r, 9, err)?;
    let from_version: Option<i64> = col(r, 6, err)?;
    let to_version: Option<i64> = col(r, 7, err)?;
    Ok(AuditEntry {
        id,
        at: col(r, 1, err)?,
        actor: col(r, 2, err)?,
        model: col(r, 3, err)?,
        action: col(r, 4, err)?,
        alias: col(r, 5, err)?,
        from_version: from_version.map(to_u32),
        to_version: to_version.map(to_u32),
        reason: col(r, 8, err)?,
        details: serde_json::from_str(&details).map_err(|e| {
            db.corrupt(format!("audit entry {id}: details are not valid json: {e}"))
        })?,
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
