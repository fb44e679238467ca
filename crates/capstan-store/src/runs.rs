//! Runs: what was trained, on what, with which results and artifacts.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use capstan_io::{sha256_hex, utc_now_rfc3339};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::util::{normalize_sha256, unix_nanos};
use crate::{ArtifactRef, Store, StoreError};

/// Shortest run id prefix accepted by [`Store::get_run`].
pub const MIN_PREFIX_LEN: usize = 4;
const RUN_ID_LEN: usize = 12;
const MAX_CANDIDATES: usize = 10;

/// One metric value; `fold` is `None` for a whole split and `Some(k)` for fold `k` of CV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRecord {
    pub split: String,
    pub fold: Option<u32>,
    pub name: String,
    /// NaN is stored and read back as NaN (JSON shows it as null).
    pub value: f64,
}

/// A finished run to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    pub name: Option<String>,
    pub task: String,
    pub model_kind: String,
    pub dataset_sha256: String,
    pub params: serde_json::Value,
    pub lineage: serde_json::Value,
    pub metrics: Vec<MetricRecord>,
    pub tags: BTreeMap<String, String>,
    /// (name, artifact), e.g. `("model", ..)`; each must already be in the store.
    pub artifacts: Vec<(String, ArtifactRef)>,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC.
    pub finished_at: String,
}

/// One line of `list_runs`; `metrics` holds whole-split values only (split -> name -> value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: String,
    pub name: Option<String>,
    pub created_at: String,
    pub status: String,
    pub task: String,
    pub model_kind: String,
    pub dataset_sha256: String,
    pub metrics: BTreeMap<String, BTreeMap<String, f64>>,
}

/// A recorded run with everything attached to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    pub name: Option<String>,
    /// When the run was recorded, RFC 3339 UTC with microseconds.
    pub created_at: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub task: String,
    pub model_kind: String,
    pub dataset_sha256: String,
    pub params: serde_json::Value,
    pub lineage: serde_json::Value,
    /// Ordered by split, then fold (whole split first), then name.
    pub metrics: Vec<MetricRecord>,
    pub tags: BTreeMap<String, String>,
    pub artifacts: BTreeMap<String, ArtifactRef>,
}

impl Run {
    pub fn artifact(&self, name: &str) -> Option<&ArtifactRef> {
        self.artifacts.get(name)
    }

    /// The whole-split value of a metric, if recorded.
    pub fn metric(&self, split: &str, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|m| m.split == split && m.fold.is_none() && m.name == name)
            .map(|m| m.value)
    }
}

impl Store {
    /// Records a finished run and returns its id. All rows are written in one transaction:
    /// after a crash or an error the run is either fully there or absent.
    pub fn record_run(&self, run: &NewRun) -> Result<String, StoreError> {
        self.check_artifacts(run)?;
        let params_json = run.params.to_string();
        let lineage_json = run.lineage.to_string();
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.db_err("starting transaction to record run"))?;
        let id = fresh_run_id(&tx, run, self)?;
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
        .map_err(self.db_err("recording run"))?;
        for m in &run.metrics {
            let value = (!m.value.is_nan()).then_some(m.value);
            tx.execute(
                "INSERT INTO metrics (run_id, split, fold, name, value) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, m.split, m.fold, m.name, value],
            )
            .map_err(self.db_err("recording run metrics"))?;
        }
        for (key, value) in &run.tags {
            tx.execute(
                "INSERT INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)",
                params![id, key, value],
            )
            .map_err(self.db_err("recording run tags"))?;
        }
        for (name, a) in &run.artifacts {
            tx.execute(
                "INSERT INTO artifacts (run_id, name, sha256, size_bytes) VALUES (?1, ?2, ?3, ?4)",
                params![id, name, a.sha256.to_ascii_lowercase(), a.size],
            )
            .map_err(self.db_err("recording run artifacts"))?;
        }
        tx.commit().map_err(self.db_err("committing run"))?;
        Ok(id)
    }

    /// Runs, newest first; at most `limit` when given.
    pub fn list_runs(&self, limit: Option<usize>) -> Result<Vec<RunSummary>, StoreError> {
        let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let conn = self.conn();
        let err = self.db_err("listing runs");
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

    /// The run with this id, or with the only id starting with this prefix
    /// (at least 4 hex characters).
    pub fn get_run(&self, id_or_prefix: &str) -> Result<Run, StoreError> {
        let query = id_or_prefix.trim().to_ascii_lowercase();
        if query.is_empty() || !query.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::RunNotFound(id_or_prefix.to_string()));
        }
        if let Some(run) = self.load_run(&query)? {
            return Ok(run);
        }
        if query.len() < MIN_PREFIX_LEN {
            return Err(StoreError::PrefixTooShort(id_or_prefix.to_string()));
        }
        let matches = self.ids_with_prefix(&query)?;
        match matches.as_slice() {
            [] => Err(StoreError::RunNotFound(id_or_prefix.to_string())),
            [(id, _)] => self
                .load_run(id)?
                .ok_or_else(|| StoreError::RunNotFound(id_or_prefix.to_string())),
            many => Err(StoreError::AmbiguousRun {
                prefix: id_or_prefix.to_string(),
                candidates: many
                    .iter()
                    .take(MAX_CANDIDATES)
                    .map(|(id, name)| match name {
                        Some(n) => format!("{id} ({n})"),
                        None => id.clone(),
                    })
                    .chain((many.len() > MAX_CANDIDATES).then(|| "...".to_string()))
                    .collect(),
            }),
        }
    }

    /// Every artifact must be a valid hash already in the store, with the right size.
    fn check_artifacts(&self, run: &NewRun) -> Result<(), StoreError> {
        let label = run.name.clone().unwrap_or_else(|| "(unnamed)".to_string());
        for (name, a) in &run.artifacts {
            let Some(sha) = normalize_sha256(&a.sha256) else {
                return Err(StoreError::InvalidHash(a.sha256.clone()));
            };
            let path = self.artifact_path(&sha);
            let size = std::fs::metadata(&path)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len());
            if size != Some(a.size) {
                let found = size.map_or("no file".to_string(), |s| format!("{s} bytes"));
                return Err(StoreError::InvalidRun {
                    name: label,
                    message: format!(
                        "artifact '{name}' ({sha}, {} bytes) is not in the store: found {found} at {}; put_artifact it first",
                        a.size,
                        path.display()
                    ),
                });
            }
        }
        Ok(())
    }

    fn ids_with_prefix(&self, prefix: &str) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let conn = self.conn();
        let err = self.db_err("looking up run id prefix");
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

    fn load_run(&self, id: &str) -> Result<Option<Run>, StoreError> {
        let conn = self.conn();
        let err = self.db_err("reading run");
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

/// A fresh run id not yet in the database: 12 hex chars of
/// sha256(time in nanoseconds, process id, counter, run content).
fn fresh_run_id(
    tx: &rusqlite::Transaction<'_>,
    run: &NewRun,
    store: &Store,
) -> Result<String, StoreError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let content = serde_json::to_vec(run).unwrap_or_default();
    loop {
        let mut seed = Vec::with_capacity(40 + content.len());
        seed.extend_from_slice(&unix_nanos().to_le_bytes());
        seed.extend_from_slice(&std::process::id().to_le_bytes());
        seed.extend_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        seed.extend_from_slice(&content);
        let id = sha256_hex(&seed)[..RUN_ID_LEN].to_string();
        let taken = tx
            .query_row("SELECT 1 FROM runs WHERE id = ?1", [&id], |_| Ok(()))
            .optional()
            .map_err(store.db_err("choosing run id"))?
            .is_some();
        if !taken {
            return Ok(id);
        }
    }
}
