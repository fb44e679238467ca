//! The prediction log: batched appends, filtered reads, order, atomicity.
#![allow(clippy::unwrap_used)]

mod common;

use capstan_store::{LogQuery, PredictionRecord, Store, StoreError};
use common::each_backend;
use serde_json::json;

/// Ten scored rows of two models, one second apart.
fn records() -> Vec<PredictionRecord> {
    (0..10u32)
        .map(|i| PredictionRecord {
            id: format!("req-{i:02}"),
            at: format!("2024-05-01T12:00:{i:02}.000000Z"),
            model: if i % 2 == 0 { "fraud" } else { "churn" }.to_string(),
            version: 1 + i % 3,
            role: if i < 7 { "champion" } else { "shadow" }.to_string(),
            inputs: json!({"amount": 12.5 * f64::from(i), "country": "FR", "age": null}),
            outputs: json!({"prediction": i % 2, "probabilities": [0.25, 0.75]}),
            latency_us: 150 + u64::from(i),
        })
        .collect()
}

fn ids(store: &Store, query: &LogQuery) -> Vec<String> {
    store
        .query_predictions(query)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

#[test]
fn append_then_query_with_filters() {
    each_backend("log_query", |store| {
        let all = records();
        store.append_predictions(&[]).unwrap();
        store.append_predictions(&all[..4]).unwrap();
        store.append_predictions(&all[4..]).unwrap();

        assert_eq!(store.query_predictions(&LogQuery::default()).unwrap(), all);
        let fraud = LogQuery {
            model: Some("fraud".into()),
            ..LogQuery::default()
        };
        assert_eq!(
            ids(store, &fraud),
            ["req-00", "req-02", "req-04", "req-06", "req-08"]
        );
        let v2 = LogQuery {
            version: Some(2),
            ..LogQuery::default()
        };
        assert_eq!(ids(store, &v2), ["req-01", "req-04", "req-07"]);
        let shadow = LogQuery {
            role: Some("shadow".into()),
            ..LogQuery::default()
        };
        assert_eq!(ids(store, &shadow), ["req-07", "req-08", "req-09"]);
        let since = LogQuery {
            since: Some("2024-05-01T12:00:05.000000Z".into()),
            ..LogQuery::default()
        };
        assert_eq!(
            ids(store, &since),
            ["req-05", "req-06", "req-07", "req-08", "req-09"]
        );
        let combined = LogQuery {
            model: Some("fraud".into()),
            role: Some("champion".into()),
            since: Some("2024-05-01T12:00:03Z".into()),
            ..LogQuery::default()
        };
        assert_eq!(ids(store, &combined), ["req-04", "req-06"]);
        let limited = LogQuery {
            model: Some("churn".into()),
            limit: Some(2),
            ..LogQuery::default()
        };
        assert_eq!(ids(store, &limited), ["req-01", "req-03"]);
        let none = LogQuery {
            model: Some("nope".into()),
            ..LogQuery::default()
        };
        assert!(ids(store, &none).is_empty());
        let zero = LogQuery {
            limit: Some(0),
            ..LogQuery::default()
        };
        assert!(ids(store, &zero).is_empty());
    });
}

#[test]
fn order_is_append_order() {
    each_backend("log_order", |store| {
        let mut all = records();
        all.reverse(); // Later times appended first.
        for r in &all {
            store.append_predictions(std::slice::from_ref(r)).unwrap();
        }
        let got = ids(store, &LogQuery::default());
        let expected: Vec<String> = all.iter().map(|r| r.id.clone()).collect();
        assert_eq!(got, expected);
    });
}

#[test]
fn a_duplicate_id_rejects_the_whole_batch() {
    each_backend("log_duplicate", |store| {
        let all = records();
        store.append_predictions(&all[..1]).unwrap();
        let batch = vec![all[1].clone(), all[0].clone(), all[2].clone()];
        let e = store.append_predictions(&batch).unwrap_err();
        assert!(
            matches!(e, StoreError::Db { .. } | StoreError::Postgres { .. }),
            "{e}"
        );
        let within = vec![all[3].clone(), all[3].clone()];
        store.append_predictions(&within).unwrap_err();
        assert_eq!(ids(store, &LogQuery::default()), ["req-00"]);
        // The log still takes appends.
        store.append_predictions(&all[1..3]).unwrap();
        assert_eq!(
            ids(store, &LogQuery::default()),
            ["req-00", "req-01", "req-02"]
        );
    });
}
