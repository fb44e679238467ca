//! Runs in SQLite: `runs`, `metrics`, `tags` and `artifacts` rows.

use std::collections::BTreeMap;

use capstan_io::utc_now_rfc3339;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::Sqlite;
use crate::runs::{MAX_CANDIDATES, MIN_PREFIX_LEN, ambiguous_prefix, candidate_run_id};
use crate::{ArtifactRef, MetricRecord, NewRun, Run, RunSummary, StoreError};

/// Writes all rows of a run in one transaction: after a crash or an error the run is
/// either fully there or absent.
pub(super) fn record_run(db: &Sqlite, run: &NewRun) -> Result<String, StoreError> {
    let params_json = run.params.to_string();
    let lineage_json = run.lineage.to_string();
    let mut conn = db.conn();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db.db_err("starting transaction to record run"))?;
    let id = fresh_run_id(db, &tx, run)?;
    tx.execute(
        "INSERT INTO runs (id, name, created_at, started_at, finished_at, status, task,
            model_kind, dataset_sha256, params_json, lineage_json)
         VALUES (?1, ?2, ?3, ?4, ?5, 'finished', ?6, ?7, ?8, ?9, ?10)",
        params![
            id,
            run.name,
            utc_now_rfc3339(),
            run.started_at,
            run.finished_at,
            run.task,
            run.model_kind,
            run.dataset_sha256,
            params_json,
            lineage_json
        ],
    )
    .map_err(db.db_err("recording run"))?;
    for m in &run.metrics {
        let value = (!m.value.is_nan()).then_some(m.value);
        tx.execute(
            "INSERT INTO metrics (run_id, split, fold, name, value) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, m.split, m.fold, m.name, value],
        )
        .map_err(db.db_err("recording run metrics"))?;
    }
    for (key, value) in &run.tags {
        tx.execute(
            "INSERT INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)",
            params![id, key, value],
        )
        .map_err(db.db_err("recording run tags"))?;
    }
    for (name, a) in &run.artifacts {
        tx.execute(
            "INSERT INTO artifacts (run_id, name, sha256, size_bytes) VALUES (?1, ?2, ?3, ?4)",
            params![id, name, a.sha256.to_ascii_lowercase(), a.size],
        )
        .map_err(db.db_err("recording run artifacts"))?;
    }
    tx.commit().map_err(db.db_err("committing run"))?;
    Ok(id)
}

pub(super) fn list_runs(db: &Sqlite, limit: Option<usize>) -> Result<Vec<RunSummary>, StoreError> {
    let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
    let conn = db.conn();
    let err = db.db_err("listing runs");
    let mut stmt = conn
        .prepare(
            "SELECT id, name, created_at, status, task, model_kind, dataset_sha256 FROM runs
             ORDER BY created_at DESC, rowid DESC LIMIT ?1",
        )
        .map_err(&err)?;
    let mut runs = stmt
        .query_map([limit], |r| {
            Ok(RunSummary {
                id: r.get(0)?,
                name: r.get(1)?,
                created_at: r.get(2)?,
                status: r.get(3)?,
                task: r.get(4)?,
                model_kind: r.get(5)?,
                dataset_sha256: r.get(6)?,
                metrics: BTreeMap::new(),
            })
        })
        .map_err(&err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(&err)?;
    let mut stmt = conn
        .prepare("SELECT split, name, value FROM metrics WHERE run_id = ?1 AND fold IS NULL")
        .map_err(&err)?;
    for run in &mut runs {
        let rows = stmt
            .query_map([&run.id], |r| {
                let value: Option<f64> = r.get(2)?;
                Ok((r.get(0)?, r.get(1)?, value.unwrap_or(f64::NAN)))
            })
            .map_err(&err)?;
        for row in rows {
            let (split, name, value): (String, String, f64) = row.map_err(&err)?;
            run.metrics.entry(split).or_default().insert(name, value);
        }
    }
    Ok(runs)
}

/// The run with this exact id, else the only run whose id starts with `query`
/// (lowercase hex, at least [`MIN_PREFIX_LEN`] characters).
pub(super) fn get_run(db: &Sqlite, query: &str) -> Result<Run, StoreError> {
    let conn = db.conn();
    if let Some(run) = load_run(db, &conn, query)? {
        return Ok(run);
    }
    if query.len() < MIN_PREFIX_LEN {
        return Err(StoreError::PrefixTooShort(query.to_string()));
    }
    let matches = ids_with_prefix(db, &conn, query)?;
    match matches.as_slice() {
        [] => Err(StoreError::RunNotFound(query.to_string())),
        [(id, _)] => {
            load_run(db, &conn, id)?.ok_or_else(|| StoreError::RunNotFound(query.to_string()))
        }
        many => Err(ambiguous_prefix(query, many)),
    }
}

/// Ids and names of runs whose id starts with `prefix`, newest first, at most
/// `MAX_CANDIDATES + 1`.
fn ids_with_prefix(
    db: &Sqlite,
    conn: &Connection,
    prefix: &str,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let err = db.db_err("looking up run id prefix");
    // `prefix` is validated hex, so it holds no LIKE wildcards.
    let mut stmt = conn
        .prepare(
            "SELECT id, name FROM runs WHERE id LIKE ?1 || '%'
             ORDER BY created_at DESC, rowid DESC LIMIT ?2",
        )
        .map_err(&err)?;
    stmt.query_map(params![prefix, MAX_CANDIDATES as i64 + 1], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .map_err(&err)?
    .collect::<Result<Vec<_>, _>>()
    .map_err(&err)
}

fn load_run(db: &Sqlite, conn: &Connection, id: &str) -> Result<Option<Run>, StoreError> {
    let err = db.db_err("reading run");
    let row = conn
        .query_row(
            "SELECT id, name, created_at, started_at, finished_at, status, task, model_kind,
                dataset_sha256, params_json, lineage_json FROM runs WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    RunRow::from_row(r)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, String>(10)?,
                ))
            },
        )
        .optional()
        .map_err(&err)?;
    let Some((row, params_json, lineage_json)) = row else {
        return Ok(None);
    };
    let json = |field, text: &str| {
        serde_json::from_str(text).map_err(|source| StoreError::BadJson {
            run_id: row.id.clone(),
            field,
            source,
        })
    };
    let params = json("params_json", &params_json)?;
    let lineage = json("lineage_json", &lineage_json)?;

    let mut stmt = conn
        .prepare(
            "SELECT split, fold, name, value FROM metrics WHERE run_id = ?1
             ORDER BY split, fold, name",
        )
        .map_err(&err)?;
    let metrics = stmt
        .query_map([id], |r| {
            let value: Option<f64> = r.get(3)?;
            Ok(MetricRecord {
                split: r.get(0)?,
                fold: r.get(1)?,
                name: r.get(2)?,
                value: value.unwrap_or(f64::NAN),
            })
        })
        .map_err(&err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(&err)?;
    let mut stmt = conn
        .prepare("SELECT key, value FROM tags WHERE run_id = ?1")
        .map_err(&err)?;
    let tags = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(&err)?
        .collect::<Result<BTreeMap<_, _>, _>>()
        .map_err(&err)?;
    let mut stmt = conn
        .prepare("SELECT name, sha256, size_bytes FROM artifacts WHERE run_id = ?1")
        .map_err(&err)?;
    let artifacts = stmt
        .query_map([id], |r| {
            let a = ArtifactRef {
                sha256: r.get(1)?,
                size: r.get(2)?,
            };
            Ok((r.get(0)?, a))
        })
        .map_err(&err)?
        .collect::<Result<BTreeMap<_, _>, _>>()
        .map_err(&err)?;
    Ok(Some(Run {
        id: row.id,
        name: row.name,
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
        status: row.status,
        task: row.task,
        model_kind: row.model_kind,
        dataset_sha256: row.dataset_sha256,
        params,
        lineage,
        metrics,
        tags,
        artifacts,
    }))
}

/// The plain columns of a `runs` row.
struct RunRow {
    id: String,
    name: Option<String>,
    created_at: String,
    started_at: String,
    finished_at: Option<String>,
    status: String,
    task: String,
    model_kind: String,
    dataset_sha256: String,
}

impl RunRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<RunRow> {
        Ok(RunRow {
            id: r.get(0)?,
            name: r.get(1)?,
            created_at: r.get(2)?,
            started_at: r.get(3)?,
            finished_at: r.get(4)?,
            status: r.get(5)?,
            task: r.get(6)?,
            model_kind: r.get(7)?,
            dataset_sha256: r.get(8)?,
        })
    }
}

/// A fresh run id not yet in the database.
fn fresh_run_id(
    db: &Sqlite,
    tx: &rusqlite::Transaction<'_>,
    run: &NewRun,
) -> Result<String, StoreError> {
    loop {
        let id = candidate_run_id(run);
        let taken = tx
            .query_row("SELECT 1 FROM runs WHERE id = ?1", [&id], |_| Ok(()))
            .optional()
            .map_err(db.db_err("choosing run id"))?
            .is_some();
        if !taken {
            return Ok(id);
        }
    }
}
