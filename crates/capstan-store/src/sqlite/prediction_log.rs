//! The prediction log in SQLite: the `predictions` table, ordered by `seq`.

use rusqlite::types::Value;
use rusqlite::{Row, params, params_from_iter};

use super::{Sqlite, bad_value};
use crate::{LogQuery, PredictionRecord, StoreError};

/// Appends `records` in one transaction; a duplicate id fails the whole batch.
pub(super) fn append_predictions(
    db: &Sqlite,
    records: &[PredictionRecord],
) -> Result<(), StoreError> {
    let err = db.db_err("appending to the prediction log");
    let mut conn = db.conn();
    let tx = conn.transaction().map_err(&err)?;
    {
        let mut stmt = tx
            .prepare(
                "INSERT INTO predictions (id, at, model, version, role, inputs_json,
                    outputs_json, latency_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(&err)?;
        for r in records {
            stmt.execute(params![
                r.id,
                r.at,
                r.model,
                r.version,
                r.role,
                r.inputs.to_string(),
                r.outputs.to_string(),
                i64::try_from(r.latency_us).unwrap_or(i64::MAX)
            ])
            .map_err(&err)?;
        }
    }
    tx.commit().map_err(&err)
}

/// Records matching every filter of `query`, oldest first, at most `query.limit`.
pub(super) fn query_predictions(
    db: &Sqlite,
    query: &LogQuery,
) -> Result<Vec<PredictionRecord>, StoreError> {
    let err = db.db_err("reading the prediction log");
    let mut sql = String::from(
        "SELECT id, at, model, version, role, inputs_json, outputs_json, latency_us
         FROM predictions WHERE 1 = 1",
    );
    let mut args: Vec<Value> = Vec::new();
    let mut filter = |column: &str, op: &str, value: Value| {
        args.push(value);
        sql.push_str(&format!(" AND {column} {op} ?{}", args.len()));
    };
    if let Some(model) = &query.model {
        filter("model", "=", Value::Text(model.clone()));
    }
    if let Some(version) = query.version {
        filter("version", "=", Value::Integer(i64::from(version)));
    }
    if let Some(role) = &query.role {
        filter("role", "=", Value::Text(role.clone()));
    }
    if let Some(since) = &query.since {
        filter("at", ">=", Value::Text(since.clone()));
    }
    let limit = query
        .limit
        .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
    args.push(Value::Integer(limit));
    sql.push_str(&format!(" ORDER BY seq LIMIT ?{}", args.len()));

    let conn = db.conn();
    let mut stmt = conn.prepare(&sql).map_err(&err)?;
    stmt.query_map(params_from_iter(args), record_from_row)
        .map_err(&err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(&err)
}

fn record_from_row(r: &Row<'_>) -> rusqlite::Result<PredictionRecord> {
    let json = |idx: usize| -> rusqlite::Result<serde_json::Value> {
        let text: String = r.get(idx)?;
        serde_json::from_str(&text).map_err(|e| bad_value(idx, format!("invalid json: {e}")))
    };
    let latency: i64 = r.get(7)?;
    Ok(PredictionRecord {
        id: r.get(0)?,
        at: r.get(1)?,
        model: r.get(2)?,
        version: r.get(3)?,
        role: r.get(4)?,
        inputs: json(5)?,
        outputs: json(6)?,
        latency_us: u64::try_from(latency).unwrap_or(0),
    })
}
