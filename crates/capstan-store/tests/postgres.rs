//! What only the PostgreSQL backend has: runs and artifacts as rows, several handles as
//! several server processes, concurrent registration, migrations under a lock, reconnection,
//! and messages that never show the password. Shared behaviour is in the other test files
//! (`each_backend`). Every test skips when no server is reachable (see `common/pg.rs`).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use capstan_store::{Change, LogQuery, PredictionRecord, Store, StoreError};
use common::pg::{PgSchema, admin_client, base_url, with_param};
use common::{TempDir, metric, new_run};
use serde_json::json;

fn change() -> Change {
    Change {
        actor: "alice".to_string(),
        reason: "test".to_string(),
    }
}

fn prediction(id: &str, i: u32) -> PredictionRecord {
    PredictionRecord {
        id: id.to_string(),
        at: format!("2024-05-01T12:00:{:02}.000000Z", i % 60),
        model: "fraud".to_string(),
        version: 1,
        role: "champion".to_string(),
        inputs: json!({"amount": 0.1 + f64::from(i), "note": "é\u{1F600}", "n": null}),
        outputs: json!({"prediction": 1, "probabilities": [0.25, 0.75]}),
        latency_us: 100 + u64::from(i),
    }
}

/// A run as JSON without what differs between two recordings (id, time recorded).
fn comparable(run: &capstan_store::Run) -> serde_json::Value {
    let mut v = serde_json::to_value(run).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("id");
    o.remove("created_at");
    v
}

#[test]
fn runs_round_trip_like_sqlite() {
    let Some(pg) = PgSchema::new("runs_round_trip") else {
        return;
    };
    let store = pg.open();
    let dir = TempDir::new("pg_runs_sqlite");
    let sqlite = Store::open(&dir.root()).unwrap();

    let mut run = new_run("adult", Vec::new());
    run.params = json!({"lr": 0.1, "big": 12345678901234567u64, "x": 1e-300, "s": "ü \"q\"",
        "nested": {"a": [1, 2.5, null, true]}});
    run.metrics.push(metric("test", None, "weird", f64::NAN));
    run.metrics.push(metric("cv", Some(u32::MAX), "auc", 0.5));
    run.metrics.push(metric("a_split", None, "Zeta", -0.0));
    run.metrics
        .push(metric("a_split", None, "alpha", f64::INFINITY));
    for (s, bytes) in [
        (&store, b"model".as_slice()),
        (&sqlite, b"model".as_slice()),
    ] {
        let a = s.put_artifact(bytes).unwrap();
        run.artifacts = vec![("model".to_string(), a)];
        s.record_run(&run).unwrap();
    }
    let pg_id = store.list_runs(None).unwrap()[0].id.clone();
    let sq_id = sqlite.list_runs(None).unwrap()[0].id.clone();
    assert_eq!(pg_id.len(), 12);
    assert!(pg_id.bytes().all(|b| b.is_ascii_hexdigit()));

    let got = store.get_run(&pg_id).unwrap();
    assert_eq!(
        comparable(&got),
        comparable(&sqlite.get_run(&sq_id).unwrap())
    );
    assert_eq!(got.params, run.params);
    assert!(got.metric("test", "weird").unwrap().is_nan());
    assert_eq!(got.metric("a_split", "alpha"), Some(f64::INFINITY));
    assert!(got.metric("a_split", "Zeta").unwrap().is_sign_negative());
    // Whole split before folds, byte order of names.
    let order: Vec<(String, Option<u32>, String)> = got
        .metrics
        .iter()
        .map(|m| (m.split.clone(), m.fold, m.name.clone()))
        .collect();
    assert_eq!(order[0], ("a_split".to_string(), None, "Zeta".to_string()));
    assert_eq!(order[2], ("cv".to_string(), None, "auc".to_string()));
    assert_eq!(order[3], ("cv".to_string(), Some(0), "auc".to_string()));
    assert_eq!(order.last().unwrap().0, "train");
    assert!(order.contains(&("cv".to_string(), Some(u32::MAX), "auc".to_string())));

    // Prefix lookup, upper case included; too short; unknown.
    assert_eq!(store.get_run(&pg_id[..5]).unwrap().id, pg_id);
    assert_eq!(store.get_run(&pg_id[..6].to_uppercase()).unwrap().id, pg_id);
    assert!(matches!(
        store.get_run(&pg_id[..3]),
        Err(StoreError::PrefixTooShort(p)) if p == pg_id[..3]
    ));
    let other = if pg_id.starts_with('f') {
        "0000"
    } else {
        "ffff"
    };
    assert!(matches!(
        store.get_run(other),
        Err(StoreError::RunNotFound(_))
    ));

    // Newest first, whole-split metrics only, limit.
    let second = store.record_run(&new_run("second", Vec::new())).unwrap();
    let list = store.list_runs(None).unwrap();
    assert_eq!(
        list.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [second.as_str(), pg_id.as_str()]
    );
    let summary = &list[1];
    assert_eq!(summary.name.as_deref(), Some("adult"));
    assert_eq!(summary.status, "finished");
    assert_eq!(summary.metrics["cv"].len(), 1);
    assert_eq!(summary.metrics["cv"]["auc"], 0.91);
    assert!(summary.metrics["test"]["weird"].is_nan());
    let sq_list = sqlite.list_runs(None).unwrap();
    assert_eq!(
        serde_json::to_value(&summary.metrics).unwrap(),
        serde_json::to_value(&sq_list[0].metrics).unwrap()
    );
    assert_eq!(store.list_runs(Some(1)).unwrap().len(), 1);
    assert_eq!(store.list_runs(Some(0)).unwrap().len(), 0);
}

#[test]
fn ambiguous_prefix_lists_ten_candidates() {
    let Some(pg) = PgSchema::new("ambiguous") else {
        return;
    };
    let store = pg.open();
    let mut client = pg.client();
    for i in 0..12 {
        client
            .execute(
                "INSERT INTO runs (id, name, created_at, started_at, status, task, model_kind,
                    dataset_sha256, params_json, lineage_json)
                 VALUES ($1, $2, '2024-01-01T00:00:00.000000Z', 'x', 'finished', 'binary',
                    'gbdt', '', '{}', '{}')",
                &[&format!("abcd{i:08}"), &format!("run{i}")],
            )
            .unwrap();
    }
    let e = store.get_run("abcd").unwrap_err();
    let StoreError::AmbiguousRun { candidates, .. } = &e else {
        panic!("expected ambiguous, found {e}");
    };
    assert_eq!(candidates.len(), 11, "{candidates:?}");
    // Same created_at: newest insert first.
    assert_eq!(candidates[0], "abcd00000011 (run11)");
    assert_eq!(candidates[10], "...");
    assert_eq!(
        store.get_run("abcd00000003").unwrap().name.as_deref(),
        Some("run3")
    );
}

#[test]
fn artifacts_round_trip_missing_and_corrupt() {
    let Some(pg) = PgSchema::new("artifacts") else {
        return;
    };
    let store = pg.open();
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let a = store.put_artifact(&bytes).unwrap();
    assert_eq!(a.size, bytes.len() as u64);
    assert_eq!(store.put_artifact(&bytes).unwrap(), a);
    assert_eq!(
        store.read_artifact(&a.sha256.to_uppercase()).unwrap(),
        bytes
    );
    let empty = store.put_artifact(b"").unwrap();
    assert_eq!(store.read_artifact(&empty.sha256).unwrap(), b"");
    let mut client = pg.client();
    let n: i64 = client
        .query_one("SELECT COUNT(*) FROM artifact_blobs", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 2);

    let missing = "0".repeat(64);
    match store.read_artifact(&missing) {
        Err(StoreError::ArtifactMissing { sha256, location }) => {
            assert_eq!(sha256, missing);
            assert_eq!(location, store.location());
        }
        other => panic!("expected missing, found {other:?}"),
    }
    assert!(matches!(
        store.read_artifact("nope"),
        Err(StoreError::InvalidHash(_))
    ));

    // Damage the blob: reading notices, putting again repairs.
    client
        .execute(
            "UPDATE artifact_blobs SET bytes = '\\x00'::bytea WHERE sha256 = $1",
            &[&a.sha256],
        )
        .unwrap();
    match store.read_artifact(&a.sha256) {
        Err(StoreError::ArtifactCorrupt {
            expected, location, ..
        }) => {
            assert_eq!(expected, a.sha256);
            assert_eq!(location, store.location());
        }
        other => panic!("expected corrupt, found {:?}", other.map(|b| b.len())),
    }
    store.put_artifact(&bytes).unwrap();
    assert_eq!(store.read_artifact(&a.sha256).unwrap(), bytes);

    // A run may only name stored artifacts.
    let mut fake = a.clone();
    fake.sha256 = missing;
    let e = store
        .record_run(&new_run("bad", vec![("model".to_string(), fake)]))
        .unwrap_err();
    assert!(matches!(e, StoreError::InvalidRun { .. }), "{e}");
    assert!(store.list_runs(None).unwrap().is_empty());
}

#[test]
fn two_handles_share_aliases_and_the_log() {
    let Some(pg) = PgSchema::new("two_handles") else {
        return;
    };
    let a = pg.open();
    let b = pg.open();
    let bundle = a.put_artifact(b"bundle v1").unwrap();
    let v = a
        .register_version("fraud", &bundle.sha256, None, "first", &change())
        .unwrap();
    assert_eq!(v.version, 1);
    a.set_alias("fraud", "champion", Some(1), &change())
        .unwrap();
    let seen = b.get_model("fraud").unwrap();
    assert_eq!(seen.aliases.get("champion"), Some(&1));
    assert_eq!(seen.alias("champion").unwrap().bundle_sha256, bundle.sha256);
    assert_eq!(b.read_artifact(&bundle.sha256).unwrap(), b"bundle v1");
    b.set_alias("fraud", "champion", None, &change()).unwrap();
    assert!(a.get_model("fraud").unwrap().aliases.is_empty());
    let audit = a.audit_log(Some("fraud"), 10).unwrap();
    assert_eq!(
        audit.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["alias", "alias", "register"]
    );
    assert_eq!(audit[0].from_version, Some(1));
    assert_eq!(audit[0].to_version, None);

    // Both append; each sees all, in append order, round-tripped exactly.
    let first: Vec<_> = (0..3).map(|i| prediction(&format!("a{i}"), i)).collect();
    let second: Vec<_> = (3..6).map(|i| prediction(&format!("b{i}"), i)).collect();
    a.append_predictions(&first).unwrap();
    b.append_predictions(&second).unwrap();
    let all = a.query_predictions(&LogQuery::default()).unwrap();
    assert_eq!(all, [first.clone(), second.clone()].concat());
    assert_eq!(b.query_predictions(&LogQuery::default()).unwrap(), all);
    // A batch with a duplicate id leaves nothing.
    let dup = vec![prediction("c0", 9), prediction("a1", 9)];
    assert!(b.append_predictions(&dup).is_err());
    assert_eq!(a.query_predictions(&LogQuery::default()).unwrap().len(), 6);
}

#[test]
fn big_prediction_batch_keeps_order_and_filters() {
    let Some(pg) = PgSchema::new("log_batch") else {
        return;
    };
    let store = pg.open();
    let records: Vec<_> = (0..5000u32)
        .map(|i| {
            let mut r = prediction(&format!("r{i:05}"), i);
            r.role = if i % 10 == 0 { "shadow" } else { "champion" }.to_string();
            r.version = 1 + i % 2;
            r
        })
        .collect();
    let start = std::time::Instant::now();
    store.append_predictions(&records).unwrap();
    let took = start.elapsed();
    assert!(took.as_secs() < 10, "appending 5000 records took {took:?}");
    let back = store.query_predictions(&LogQuery::default()).unwrap();
    assert_eq!(back, records);
    let q = LogQuery {
        model: Some("fraud".to_string()),
        version: Some(1),
        role: Some("shadow".to_string()),
        since: Some("2024-05-01T12:00:30.000000Z".to_string()),
        limit: Some(3),
    };
    let got = store.query_predictions(&q).unwrap();
    let expected: Vec<_> = records
        .iter()
        .filter(|r| r.version == 1 && r.role == "shadow" && r.at.as_str() >= "2024-05-01T12:00:30")
        .take(3)
        .cloned()
        .collect();
    assert_eq!(got.len(), 3);
    assert_eq!(got, expected);
}

#[test]
fn concurrent_registration_from_two_handles_gets_distinct_versions() {
    let Some(pg) = PgSchema::new("reg_concurrent") else {
        return;
    };
    let setup = pg.open();
    let bundles: Vec<String> = (0..20u8)
        .map(|i| setup.put_artifact(&[i]).unwrap().sha256)
        .collect();
    let versions: Vec<u32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2usize)
            .map(|t| {
                let pg = &pg;
                let bundles = &bundles;
                s.spawn(move || {
                    let store = pg.open();
                    (0..10)
                        .map(|i| {
                            store
                                .register_version(
                                    "fraud",
                                    &bundles[t * 10 + i],
                                    None,
                                    "",
                                    &change(),
                                )
                                .unwrap()
                                .version
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let unique: BTreeSet<u32> = versions.iter().copied().collect();
    assert_eq!(unique, (1..=20).collect::<BTreeSet<u32>>());
    let model = setup.get_model("fraud").unwrap();
    assert_eq!(
        model.versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<_>>()
    );
    assert_eq!(setup.audit_log(None, 100).unwrap().len(), 20);
}

#[test]
fn migrations_are_idempotent_and_locked() {
    let Some(pg) = PgSchema::new("migrate") else {
        return;
    };
    // Four processes starting at once on an empty schema.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| pg.open());
        }
    });
    let store = pg.open();
    let id = store.record_run(&new_run("kept", Vec::new())).unwrap();
    drop(store);
    let store = pg.open();
    assert_eq!(store.get_run(&id).unwrap().name.as_deref(), Some("kept"));
    let mut client = pg.client();
    let rows = client
        .query("SELECT version FROM capstan_schema", &[])
        .unwrap();
    assert_eq!(rows.len(), 1);
    let version: i32 = rows[0].get(0);
    assert!(version >= 1);

    // A newer schema than this code knows is refused.
    client
        .execute("UPDATE capstan_schema SET version = version + 1", &[])
        .unwrap();
    let e = Store::open_location(&pg.url()).unwrap_err();
    assert!(matches!(e, StoreError::NewerSchema { .. }), "{e}");
    assert!(e.to_string().contains("upgrade capstan"), "{e}");
}

#[test]
fn reconnects_after_the_server_drops_the_connection() {
    let Some(pg) = PgSchema::new("reconnect") else {
        return;
    };
    let app = format!("capstan_reconnect_{}", std::process::id());
    let store = Store::open_location(&with_param(&pg.url(), "application_name", &app)).unwrap();
    let id = store.record_run(&new_run("before", Vec::new())).unwrap();
    let mut admin = pg.client();
    let kill = |admin: &mut postgres::Client| {
        let n: i64 = admin
            .query_one(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE application_name = $1",
                &[&app],
            )
            .unwrap()
            .get(0);
        assert_eq!(n, 1);
        // Let the backend exit.
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    kill(&mut admin);
    assert_eq!(store.get_run(&id).unwrap().name.as_deref(), Some("before"));
    kill(&mut admin);
    store.append_predictions(&[prediction("after", 1)]).unwrap();
    assert_eq!(
        store.query_predictions(&LogQuery::default()).unwrap().len(),
        1
    );
    kill(&mut admin);
    store.record_run(&new_run("after", Vec::new())).unwrap();
    assert_eq!(store.list_runs(None).unwrap().len(), 2);
}

#[test]
fn errors_name_the_location_without_the_password() {
    // Nothing listens on port 1: the error names the server, never the secret.
    let url = "postgres://capstan:s3cret@127.0.0.1:1/test?connect_timeout=5";
    let e = Store::open_location(url).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, StoreError::Postgres { .. }), "{text}");
    assert!(
        text.starts_with("postgres://capstan:***@127.0.0.1:1/test?connect_timeout=5: connecting: "),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
    assert!(!format!("{e:?}").contains("s3cret"));

    let Some(pg) = PgSchema::new("location") else {
        return;
    };
    // Trust auth ignores the password; the store's location hides it all the same.
    let (scheme, rest) = base_url()
        .split_once("://")
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap();
    let Some((user, host)) = rest.split_once('@') else {
        return; // a URL without a user: nothing to add a password to
    };
    if user.contains(':') {
        return; // a real password is configured; do not replace it
    }
    let url = with_param(
        &format!("{scheme}://{user}:hunter2@{host}"),
        "options",
        &format!("-csearch_path%3D{}", pg.name),
    );
    let store = Store::open_location(&url).unwrap();
    assert!(store.location().contains(&format!("{user}:***@")));
    assert!(!store.location().contains("hunter2"));
    assert!(!format!("{store:?}").contains("hunter2"));
    let e = store.read_artifact(&"0".repeat(64)).unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert!(admin_client(&pg.url()).is_ok());
}
