//! The prediction log in PostgreSQL: the `predictions` table, ordered by `seq`.

use postgres::Row;
use postgres::types::ToSql;

use super::{Postgres, col, to_i64, to_u32, to_u64};
use crate::{LogQuery, PredictionRecord, StoreError};

/// Appends `records` in one transaction and one statement (the batch travels as arrays);
/// a duplicate id fails the whole batch.
pub(super) fn append_predictions(
    db: &Postgres,
    records: &[PredictionRecord],
) -> Result<(), StoreError> {
    let err = db.err("appending to the prediction log");
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    let ats: Vec<&str> = records.iter().map(|r| r.at.as_str()).collect();
    let models: Vec<&str> = records.iter().map(|r| r.model.as_str()).collect();
    let versions: Vec<i64> = records.iter().map(|r| i64::from(r.version)).collect();
    let roles: Vec<&str> = records.iter().map(|r| r.role.as_str()).collect();
    let inputs: Vec<String> = records.iter().map(|r| r.inputs.to_string()).collect();
    let outputs: Vec<String> = records.iter().map(|r| r.outputs.to_string()).collect();
    let latencies: Vec<i64> = records.iter().map(|r| to_i64(r.latency_us)).collect();
    db.with_client(|client, commit| {
        let mut tx = client.transaction().map_err(&err)?;
        // WITH ORDINALITY + ORDER BY: `seq` follows the order of the batch.
        tx.execute(
            "INSERT INTO predictions (id, at, model, version, role, inputs_json, outputs_json,
                latency_us)
             SELECT id, at, model, version, role, inputs_json, outputs_json, latency_us
             FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[],
                    $6::text[], $7::text[], $8::bigint[])
                 WITH ORDINALITY AS t (id, at, model, version, role, inputs_json,
                    outputs_json, latency_us, n)
             ORDER BY n",
            &[
                &ids, &ats, &models, &versions, &roles, &inputs, &outputs, &latencies,
            ],
        )
        .map_err(&err)?;
        commit.commit(tx, db, "committing to the prediction log")
    })
}

/// Records matching every filter of `query`, oldest first, at most `query.limit`.
pub(super) fn query_predictions(
    db: &Postgres,
    query: &LogQuery,
) -> Result<Vec<PredictionRecord>, StoreError> {
    let err = db.err("reading the prediction log");
    let version = query.version.map(i64::from);
    let limit = query.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let mut sql = String::from(
        "SELECT id, at, model, version, role, inputs_json, outputs_json, latency_us
         FROM predictions WHERE TRUE",
    );
    let mut args: Vec<&(dyn ToSql + Sync)> = Vec::new();
    if let Some(model) = &query.model {
        args.push(model);
        sql.push_str(&format!(" AND model = ${}", args.len()));
    }
    if let Some(version) = &version {
        args.push(version);
        sql.push_str(&format!(" AND version = ${}", args.len()));
    }
    if let Some(role) = &query.role {
        args.push(role);
        sql.push_str(&format!(" AND role = ${}", args.len()));
    }
    if let Some(since) = &query.since {
        args.push(since);
        sql.push_str(&format!(" AND at >= ${}", args.len()));
    }
    args.push(&limit);
    sql.push_str(&format!(" ORDER BY seq LIMIT ${}", args.len()));
    let rows = db.with_client(|client, _| client.query(&sql, &args).map_err(&err))?;
    rows.iter().map(|r| record_from_row(db, r, &err)).collect()
}

fn record_from_row(
    db: &Postgres,
    r: &Row,
    err: &impl Fn(postgres::Error) -> StoreError,
) -> Result<PredictionRecord, StoreError> {
    let id: String = col(r, 0, err)?;
    let json = |idx: usize, what: &str| -> Result<serde_json::Value, StoreError> {
        let text: String = col(r, idx, err)?;
        serde_json::from_str(&text)
            .map_err(|e| db.corrupt(format!("prediction '{id}': {what} are not valid json: {e}")))
    };
    let inputs = json(5, "inputs")?;
    let outputs = json(6, "outputs")?;
    Ok(PredictionRecord {
        at: col(r, 1, err)?,
        model: col(r, 2, err)?,
        version: to_u32(col(r, 3, err)?),
        role: col(r, 4, err)?,
        inputs,
        outputs,
        latency_us: to_u64(col(r, 7, err)?),
        id,
    })
}
