//! Runs in PostgreSQL: `runs`, `metrics`, `tags` and `artifacts` rows.

use std::collections::BTreeMap;

use capstan_io::utc_now_rfc3339;
use postgres::{GenericClient, Row};

use super::{Postgres, col, snapshot, to_i64, to_u32, to_u64};
use crate::runs::{MAX_CANDIDATES, MIN_PREFIX_LEN, ambiguous_prefix, candidate_run_id};
use crate::{ArtifactRef, MetricRecord, NewRun, Run, RunSummary, StoreError};

/// Writes all rows of a run in one transaction: after a crash or an error the run is
/// either fully there or absent.
pub(super) fn record_run(db: &Postgres, run: &NewRun) -> Result<String, StoreError> {
    let params_json = run.params.to_string();
    let lineage_json = run.lineage.to_string();
    db.with_client(|client, commit| {
        let mut tx = client
            .transaction()
            .map_err(db.err("starting transaction to record run"))?;
        let id = fresh_run_id(db, &mut tx, run)?;
        tx.execute(
            "INSERT INTO runs (id, name, created_at, started_at, finished_at, status, task,
                model_kind, dataset_sha256, params_json, lineage_json)
             VALUES ($1, $2, $3, $4, $5, 'finished', $6, $7, $8, $9, $10)",
            &[
                &id,
                &run.name,
                &utc_now_rfc3339(),
                &run.started_at,
                &run.finished_at,
                &run.task,
                &run.model_kind,
                &run.dataset_sha256,
                &params_json,
                &lineage_json,
            ],
        )
        .map_err(db.err("recording run"))?;
        if !run.metrics.is_empty() {
            let err = db.err("recording run metrics");
            let stmt = tx
                .prepare(
                    "INSERT INTO metrics (run_id, split, fold, name, value)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .map_err(&err)?;
            for m in &run.metrics {
                let fold = m.fold.map(i64::from);
                let value = (!m.value.is_nan()).then_some(m.value);
                tx.execute(&stmt, &[&id, &m.split, &fold, &m.name, &value])
                    .map_err(&err)?;
            }
        }
        if !run.tags.is_empty() {
            let err = db.err("recording run tags");
            let stmt = tx
                .prepare("INSERT INTO tags (run_id, key, value) VALUES ($1, $2, $3)")
                .map_err(&err)?;
            for (key, value) in &run.tags {
                tx.execute(&stmt, &[&id, key, value]).map_err(&err)?;
            }
        }
        if !run.artifacts.is_empty() {
            let err = db.err("recording run artifacts");
            let stmt = tx
                .prepare(
                    "INSERT INTO artifacts (run_id, name, sha256, size_bytes)
                     VALUES ($1, $2, $3, $4)",
                )
                .map_err(&err)?;
            for (name, a) in &run.artifacts {
                let sha = a.sha256.to_ascii_lowercase();
                tx.execute(&stmt, &[&id, name, &sha, &to_i64(a.size)])
                    .map_err(&err)?;
            }
        }
        commit.commit(tx, db, "committing run")?;
        Ok(id)
    })
}

/// Runs newest first, each with its whole-split metrics.
pub(super) fn list_runs(
    db: &Postgres,
    limit: Option<usize>,
) -> Result<Vec<RunSummary>, StoreError> {
    let limit = limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let err = db.err("listing runs");
    db.with_client(|client, _| {
        let mut tx = snapshot(db, client)?;
        let rows = tx
            .query(
                "SELECT id, name, created_at, status, task, model_kind, dataset_sha256 FROM runs
                 ORDER BY created_at DESC, seq DESC LIMIT $1",
                &[&limit],
            )
            .map_err(&err)?;
        let mut runs = rows
            .iter()
            .map(|r| {
                Ok(RunSummary {
                    id: col(r, 0, &err)?,
                    name: col(r, 1, &err)?,
                    created_at: col(r, 2, &err)?,
                    status: col(r, 3, &err)?,
                    task: col(r, 4, &err)?,
                    model_kind: col(r, 5, &err)?,
                    dataset_sha256: col(r, 6, &err)?,
                    metrics: BTreeMap::new(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        let rows = tx
            .query(
                "SELECT run_id, split, name, value FROM metrics
                 WHERE run_id = ANY($1) AND fold IS NULL",
                &[&ids],
            )
            .map_err(&err)?;
        let mut metrics: BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>> =
            BTreeMap::new();
        for r in &rows {
            let value: Option<f64> = col(r, 3, &err)?;
            metrics
                .entry(col(r, 0, &err)?)
                .or_default()
                .entry(col(r, 1, &err)?)
                .or_default()
                .insert(col(r, 2, &err)?, value.unwrap_or(f64::NAN));
        }
        for run in &mut runs {
            run.metrics = metrics.remove(&run.id).unwrap_or_default();
        }
        Ok(runs)
    })
}

/// The run with this exact id, else the only run whose id starts with `query`
/// (lowercase hex, at least [`MIN_PREFIX_LEN`] characters).
pub(super) fn get_run(db: &Postgres, query: &str) -> Result<Run, StoreError> {
    db.with_client(|client, _| {
        let mut tx = snapshot(db, client)?;
        if let Some(run) = load_run(db, &mut tx, query)? {
            return Ok(run);
        }
        if query.len() < MIN_PREFIX_LEN {
            return Err(StoreError::PrefixTooShort(query.to_string()));
        }
        let matches = ids_with_prefix(db, &mut tx, query)?;
        match matches.as_slice() {
            [] => Err(StoreError::RunNotFound(query.to_string())),
            [(id, _)] => {
                load_run(db, &mut tx, id)?.ok_or_else(|| StoreError::RunNotFound(query.to_string()))
            }
            many => Err(ambiguous_prefix(query, many)),
        }
    })
}

/// Ids and names of runs whose id starts with `prefix`, newest first, at most
/// `MAX_CANDIDATES + 1`.
fn ids_with_prefix(
    db: &Postgres,
    tx: &mut impl GenericClient,
    prefix: &str,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let err = db.err("looking up run id prefix");
    // `prefix` is validated hex, so it holds no LIKE wildcards.
    let rows = tx
        .query(
            "SELECT id, name FROM runs WHERE id LIKE $1 || '%'
             ORDER BY created_at DESC, seq DESC LIMIT $2",
            &[&prefix, &(MAX_CANDIDATES as i64 + 1)],
        )
        .map_err(&err)?;
    rows.iter()
        .map(|r| Ok((col(r, 0, &err)?, col(r, 1, &err)?)))
        .collect()
}

fn load_run(
    db: &Postgres,
    tx: &mut impl GenericClient,
    id: &str,
) -> Result<Option<Run>, StoreError> {
    let err = db.err("reading run");
    let row = tx
        .query_opt(
            "SELECT id, name, created_at, started_at, finished_at, status, task, model_kind,
                dataset_sha256, params_json, lineage_json FROM runs WHERE id = $1",
            &[&id],
        )
        .map_err(&err)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let run_id: String = col(&row, 0, &err)?;
    let json = |field, idx| {
        let text: String = col(&row, idx, &err)?;
        serde_json::from_str(&text).map_err(|source| StoreError::BadJson {
            run_id: run_id.clone(),
            field,
            source,
        })
    };
    let params = json("params_json", 9)?;
    let lineage = json("lineage_json", 10)?;

    // NULLS FIRST: the whole-split value before the folds, as in SQLite.
    let metrics = tx
        .query(
            "SELECT split, fold, name, value FROM metrics WHERE run_id = $1
             ORDER BY split, fold NULLS FIRST, name",
            &[&id],
        )
        .map_err(&err)?
        .iter()
        .map(|r| metric_from_row(r, &err))
        .collect::<Result<Vec<_>, _>>()?;
    let tags = tx
        .query("SELECT key, value FROM tags WHERE run_id = $1", &[&id])
        .map_err(&err)?
        .iter()
        .map(|r| Ok((col(r, 0, &err)?, col(r, 1, &err)?)))
        .collect::<Result<BTreeMap<_, _>, StoreError>>()?;
    let artifacts = tx
        .query(
            "SELECT name, sha256, size_bytes FROM artifacts WHERE run_id = $1",
            &[&id],
        )
        .map_err(&err)?
        .iter()
        .map(|r| {
            let a = ArtifactRef {
                sha256: col(r, 1, &err)?,
                size: to_u64(col(r, 2, &err)?),
            };
            Ok((col(r, 0, &err)?, a))
        })
        .collect::<Result<BTreeMap<_, _>, StoreError>>()?;
    Ok(Some(Run {
        name: col(&row, 1, &err)?,
        created_at: col(&row, 2, &err)?,
        started_at: col(&row, 3, &err)?,
        finished_at: col(&row, 4, &err)?,
        status: col(&row, 5, &err)?,
        task: col(&row, 6, &err)?,
        model_kind: col(&row, 7, &err)?,
        dataset_sha256: col(&row, 8, &err)?,
        id: run_id,
        params,
        lineage,
        metrics,
        tags,
        artifacts,
    }))
}

fn metric_from_row(
    r: &Row,
    err: &impl Fn(postgres::Error) -> StoreError,
) -> Result<MetricRecord, StoreError> {
    let fold: Option<i64> = col(r, 1, err)?;
    let value: Option<f64> = col(r, 3, err)?;
    Ok(MetricRecord {
        split: col(r, 0, err)?,
        fold: fold.map(to_u32),
        name: col(r, 2, err)?,
        value: value.unwrap_or(f64::NAN),
    })
}

/// A fresh run id not yet in the database.
fn fresh_run_id(
    db: &Postgres,
    tx: &mut impl GenericClient,
    run: &NewRun,
) -> Result<String, StoreError> {
    loop {
        let id = candidate_run_id(run);
        let taken = tx
            .query_opt("SELECT 1 FROM runs WHERE id = $1", &[&id])
            .map_err(db.err("choosing run id"))?
            .is_some();
        if !taken {
            return Ok(id);
        }
    }
}
