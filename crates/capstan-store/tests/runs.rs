//! Runs: record, read back, look up, list; atomicity; several handles; migrations.
#![allow(clippy::unwrap_used)]

mod common;

use capstan_store::{SCHEMA_VERSION, Store, StoreError};
use common::{TempDir, count, db_path, metric, new_run, record};

#[test]
fn open_creates_the_layout() {
    let dir = TempDir::new("open");
    let root = dir.root();
    let store = Store::open(&root).unwrap();
    assert!(root.join("capstan.db").is_file());
    assert!(root.join("artifacts").is_dir());
    assert_eq!(store.root(), Some(root.as_path()));
    assert_eq!(store.location(), root.display().to_string());
    assert_eq!(db_path(&store), root.join("capstan.db"));
    let conn = rusqlite::Connection::open(db_path(&store)).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    assert!(store.list_runs(None).unwrap().is_empty());
}

#[test]
fn store_is_shareable_across_threads() {
    fn check<T: Send + Sync>() {}
    check::<Store>();
}

#[test]
fn record_and_read_back_everything() {
    let dir = TempDir::new("record");
    let store = Store::open(&dir.root()).unwrap();
    let model = store.put_artifact(b"bundle bytes").unwrap();
    let report = store.put_artifact(b"<html>report</html>").unwrap();
    let mut run = new_run(
        "baseline",
        vec![
            ("model".into(), model.clone()),
            ("report".into(), report.clone()),
        ],
    );
    run.metrics.push(metric("valid", None, "auc", f64::NAN));
    let id = store.record_run(&run).unwrap();
    assert_eq!(id.len(), 12);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );

    let got = store.get_run(&id).unwrap();
    assert_eq!(got.id, id);
    assert_eq!(got.name.as_deref(), Some("baseline"));
    assert_eq!(got.status, "finished");
    assert_eq!(
        (got.task.as_str(), got.model_kind.as_str()),
        ("binary", "gbdt")
    );
    assert_eq!(got.dataset_sha256, run.dataset_sha256);
    assert_eq!(got.params, run.params);
    assert_eq!(got.lineage, run.lineage);
    assert_eq!(got.started_at, run.started_at);
    assert_eq!(got.finished_at.as_deref(), Some(run.finished_at.as_str()));
    assert!(
        got.created_at.ends_with('Z') && got.created_at.len() == 27,
        "{}",
        got.created_at
    );
    assert_eq!(got.tags, run.tags);
    assert_eq!(got.artifact("model"), Some(&model));
    assert_eq!(got.artifact("report"), Some(&report));
    assert_eq!(got.artifact("nope"), None);
    assert_eq!(
        store
            .read_artifact(&got.artifact("model").unwrap().sha256)
            .unwrap(),
        b"bundle bytes"
    );

    // Sorted by split, fold (whole split first), name; NaN survives.
    let keys: Vec<(&str, Option<u32>)> = got
        .metrics
        .iter()
        .map(|m| (m.split.as_str(), m.fold))
        .collect();
    assert_eq!(
        keys,
        [
            ("cv", None),
            ("cv", Some(0)),
            ("cv", Some(1)),
            ("test", None),
            ("train", None),
            ("valid", None)
        ]
    );
    assert_eq!(got.metric("cv", "auc"), Some(0.91));
    assert_eq!(got.metrics[1].value, 0.90);
    assert!(got.metric("valid", "auc").unwrap().is_nan());

    // The CLI prints runs as JSON.
    let text = serde_json::to_string(&got).unwrap();
    assert!(text.contains("\"baseline\""), "{text}");
}

#[test]
fn list_is_newest_first_with_whole_split_metrics() {
    let dir = TempDir::new("list");
    let store = Store::open(&dir.root()).unwrap();
    let ids: Vec<String> = (0..5)
        .map(|i| record(&store, &format!("run{i}"), b"m"))
        .collect();
    let all = store.list_runs(None).unwrap();
    let listed: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    let expected: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
    assert_eq!(listed, expected);
    assert_eq!(store.list_runs(Some(2)).unwrap().len(), 2);
    assert_eq!(store.list_runs(Some(2)).unwrap()[0].id, ids[4]);
    let s = &all[0];
    assert_eq!(s.name.as_deref(), Some("run4"));
    assert_eq!(s.metrics["test"]["auc"], 0.91);
    assert_eq!(s.metrics["cv"]["auc"], 0.91);
    assert_eq!(
        s.metrics["cv"].len(),
        1,
        "fold values are not in the summary"
    );
    serde_json::to_string(&all).unwrap();
}

#[test]
fn lookup_by_prefix() {
    let dir = TempDir::new("prefix");
    let store = Store::open(&dir.root()).unwrap();
    let id = record(&store, "only", b"m");
    assert_eq!(store.get_run(&id[..4]).unwrap().id, id);
    assert_eq!(store.get_run(&id[..7].to_uppercase()).unwrap().id, id);
    assert_eq!(store.get_run(&format!(" {id} ")).unwrap().id, id);

    let e = store.get_run(&id[..3]).unwrap_err();
    assert!(matches!(e, StoreError::PrefixTooShort(_)), "{e}");
    assert!(e.to_string().contains("at least 4"), "{e}");
    let absent = if id.starts_with('f') {
        "eeeeeeeeeeee"
    } else {
        "ffffffffffff"
    };
    for missing in [absent, "zzzz", "", "%", "ab_d"] {
        let e = store.get_run(missing).unwrap_err();
        assert!(matches!(e, StoreError::RunNotFound(_)), "{missing}: {e}");
    }
}

#[test]
fn ambiguous_prefix_lists_candidates() {
    let dir = TempDir::new("ambiguous");
    let store = Store::open(&dir.root()).unwrap();
    // Ids are random; plant two that share a prefix.
    let conn = rusqlite::Connection::open(db_path(&store)).unwrap();
    for (id, name) in [
        ("abcd00000001", "first"),
        ("abcd00000002", "second"),
        ("abce00000003", "third"),
    ] {
        conn.execute(
            "INSERT INTO runs (id, name, created_at, started_at, status, task, model_kind,
                dataset_sha256, params_json, lineage_json)
             VALUES (?1, ?2, '2024-01-01T00:00:00.000000Z', 'x', 'finished', 'binary', 'gbdt', '', '{}', '{}')",
            [id, name],
        )
        .unwrap();
    }
    let e = store.get_run("abcd").unwrap_err();
    let StoreError::AmbiguousRun { candidates, .. } = &e else {
        panic!("expected ambiguous, found {e}");
    };
    assert_eq!(candidates.len(), 2);
    let text = e.to_string();
    assert!(
        text.contains("abcd00000001 (first)") && text.contains("abcd00000002 (second)"),
        "{text}"
    );
    assert_eq!(
        store.get_run("abcd00000002").unwrap().name.as_deref(),
        Some("second")
    );
    assert_eq!(
        store.get_run("abce").unwrap().name.as_deref(),
        Some("third")
    );
}

#[test]
fn failure_mid_record_leaves_nothing() {
    let dir = TempDir::new("atomic");
    let store = Store::open(&dir.root()).unwrap();
    let a = store.put_artifact(b"m").unwrap();
    // The duplicate artifact name fails on the last insert, after the run, metrics and tags.
    let run = new_run(
        "dup",
        vec![("model".into(), a.clone()), ("model".into(), a.clone())],
    );
    let e = store.record_run(&run).unwrap_err();
    assert!(matches!(e, StoreError::Db { .. }), "{e}");
    assert!(e.to_string().contains("recording run artifacts"), "{e}");
    assert!(e.to_string().contains("UNIQUE"), "{e}");

    let mut run = new_run("dup metric", vec![]);
    run.metrics.push(metric("cv", Some(1), "auc", 0.5));
    assert!(store.record_run(&run).is_err());

    for table in ["runs", "metrics", "tags", "artifacts"] {
        assert_eq!(count(&store, table), 0, "{table}");
    }
    // The store still works afterwards.
    record(&store, "ok", b"m");
    assert_eq!(count(&store, "runs"), 1);
}

#[test]
fn artifacts_must_be_stored_before_the_run() {
    let dir = TempDir::new("unstored");
    let store = Store::open(&dir.root()).unwrap();
    let ghost = capstan_store::ArtifactRef {
        sha256: "0".repeat(64),
        size: 3,
    };
    let e = store
        .record_run(&new_run("ghost", vec![("model".into(), ghost)]))
        .unwrap_err();
    assert!(matches!(e, StoreError::InvalidRun { .. }), "{e}");
    assert!(e.to_string().contains("put_artifact it first"), "{e}");
    let bad = capstan_store::ArtifactRef {
        sha256: "../x".into(),
        size: 3,
    };
    let e = store
        .record_run(&new_run("bad", vec![("model".into(), bad)]))
        .unwrap_err();
    assert!(matches!(e, StoreError::InvalidHash(_)), "{e}");
    assert_eq!(count(&store, "runs"), 0);
}

#[test]
fn two_handles_see_each_others_runs() {
    let dir = TempDir::new("handles");
    let a = Store::open(&dir.root()).unwrap();
    let b = Store::open(&dir.root()).unwrap();
    let from_a = record(&a, "from a", b"1");
    let from_b = record(&b, "from b", b"2");
    for store in [&a, &b] {
        assert_eq!(
            store.get_run(&from_a).unwrap().name.as_deref(),
            Some("from a")
        );
        assert_eq!(
            store.get_run(&from_b).unwrap().name.as_deref(),
            Some("from b")
        );
        assert_eq!(store.list_runs(None).unwrap().len(), 2);
    }
}

#[test]
fn concurrent_writers_get_unique_ids() {
    let dir = TempDir::new("concurrent");
    let root = dir.root();
    Store::open(&root).unwrap();
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let root = root.clone();
                s.spawn(move || {
                    let store = Store::open(&root).unwrap();
                    (0..10)
                        .map(|i| record(&store, &format!("t{t}-{i}"), &[t, i]))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 40);
    assert_eq!(
        Store::open(&root).unwrap().list_runs(None).unwrap().len(),
        40
    );
}

#[test]
fn reopening_keeps_data() {
    let dir = TempDir::new("reopen");
    let id = {
        let store = Store::open(&dir.root()).unwrap();
        record(&store, "kept", b"model")
    };
    let store = Store::open(&dir.root()).unwrap();
    let run = store.get_run(&id).unwrap();
    assert_eq!(run.name.as_deref(), Some("kept"));
    assert_eq!(
        store
            .read_artifact(&run.artifact("model").unwrap().sha256)
            .unwrap(),
        b"model"
    );
}

#[test]
fn migrates_from_user_version_zero() {
    let dir = TempDir::new("migrate");
    let root = dir.root();
    std::fs::create_dir_all(&root).unwrap();
    {
        let conn = rusqlite::Connection::open(root.join("capstan.db")).unwrap();
        conn.execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('hi');")
            .unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 0);
    }
    let store = Store::open(&root).unwrap();
    let conn = rusqlite::Connection::open(db_path(&store)).unwrap();
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    let kept: String = conn
        .query_row("SELECT text FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, "hi");
    record(&store, "after migration", b"m");
    assert_eq!(count(&store, "runs"), 1);
}

#[test]
fn newer_schema_is_refused() {
    let dir = TempDir::new("newer");
    let root = dir.root();
    drop(Store::open(&root).unwrap());
    {
        let conn = rusqlite::Connection::open(root.join("capstan.db")).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let e = Store::open(&root).unwrap_err();
    assert!(
        matches!(e, StoreError::NewerSchema { found: 99, .. }),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("schema version 99 is newer than this capstan supports"),
        "{e}"
    );
}

#[test]
fn open_errors_name_the_path() {
    let dir = TempDir::new("blocked");
    let file = dir.0.join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let e = Store::open(&file.join(".capstan")).unwrap_err();
    assert!(e.to_string().contains("not-a-dir"), "{e}");
}
