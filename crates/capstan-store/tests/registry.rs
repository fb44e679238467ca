//! Model registry: versions, aliases, rollouts, the audit trail; on every backend.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use capstan_store::{
    AuditEntry, Change, RegistryUpdate, Rollout, RolloutMode, SCHEMA_VERSION, Store, StoreError,
};
use common::{TempDir, count, db_path, each_backend, record};

fn change(actor: &str, reason: &str) -> Change {
    Change {
        actor: actor.to_string(),
        reason: reason.to_string(),
    }
}

/// Stores `bytes` as a bundle and registers it as the next version of `model`.
fn register(store: &Store, model: &str, bytes: &[u8]) -> u32 {
    let a = store.put_artifact(bytes).unwrap();
    store
        .register_version(model, &a.sha256, None, "", &change("alice", "trained"))
        .unwrap()
        .version
}

fn canary() -> Rollout {
    Rollout {
        mode: RolloutMode::Canary,
        canary_percent: 10.0,
        max_error_rate: Some(0.05),
        max_p99_ms: Some(250.0),
        min_requests: 100,
    }
}

#[test]
fn versions_increment_per_model() {
    each_backend("reg_versions", |store| {
        let a = store.put_artifact(b"fraud bundle v1").unwrap();
        let b = store.put_artifact(b"fraud bundle v2").unwrap();
        let who = change("alice", "first model");
        let v1 = store
            .register_version("fraud", &a.sha256.to_uppercase(), None, "baseline", &who)
            .unwrap();
        let v2 = store
            .register_version("fraud", &b.sha256, None, "more trees", &who)
            .unwrap();
        assert_eq!((v1.version, v2.version), (1, 2));
        assert_eq!(v1.bundle_sha256, a.sha256, "hashes are stored lowercase");
        assert_eq!(v1.bundle_size, a.size);
        assert_eq!(v1.created_by, "alice");
        assert_eq!(v1.run_id, None);
        assert!(v1.created_at.ends_with('Z'), "{}", v1.created_at);
        assert_eq!(register(store, "churn", b"churn bundle"), 1);

        let m = store.get_model("fraud").unwrap();
        assert_eq!(m.name, "fraud");
        assert_eq!(m.versions, vec![v1.clone(), v2.clone()]);
        assert_eq!(m.version(2), Some(&v2));
        assert_eq!(m.version(3), None);
        assert!(m.aliases.is_empty());
        assert_eq!(m.rollout, Rollout::default());
        assert_eq!(m.versions[1].description, "more trees");

        let names: BTreeSet<String> = store
            .list_models()
            .unwrap()
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(names, BTreeSet::from(["churn".into(), "fraud".into()]));

        let log = store.audit_log(Some("fraud"), 10).unwrap();
        let seen: Vec<(&str, Option<u32>, Option<u32>)> = log
            .iter()
            .map(|e| (e.action.as_str(), e.from_version, e.to_version))
            .collect();
        assert_eq!(
            seen,
            [("register", None, Some(2)), ("register", None, Some(1))]
        );
        assert!(log.iter().all(|e| e.actor == "alice"
            && e.reason == "first model"
            && e.model == "fraud"
            && e.alias.is_none()));
        assert_eq!(store.audit_log(None, 10).unwrap().len(), 3);
        assert_eq!(store.audit_log(None, 1).unwrap()[0].model, "churn");
    });
}

#[test]
fn register_needs_a_stored_bundle() {
    each_backend("reg_missing", |store| {
        let who = change("alice", "");
        let e = store
            .register_version("fraud", &"0".repeat(64), None, "", &who)
            .unwrap_err();
        assert!(matches!(e, StoreError::ArtifactMissing { .. }), "{e}");
        assert!(e.to_string().contains(&"0".repeat(64)), "{e}");
        let e = store
            .register_version("fraud", "not-a-hash", None, "", &who)
            .unwrap_err();
        assert!(matches!(e, StoreError::InvalidHash(_)), "{e}");
        assert!(store.list_models().unwrap().is_empty());
        assert!(store.audit_log(None, 10).unwrap().is_empty());
    });
}

#[test]
fn register_resolves_a_run_prefix() {
    each_backend("reg_run", |store| {
        let run_id = record(store, "trained", b"bundle from a run");
        let bundle = store.get_run(&run_id).unwrap().artifacts["model"].clone();
        let who = change("ci", "from run");
        let v = store
            .register_version(
                "fraud",
                &bundle.sha256,
                Some(&run_id[..6].to_uppercase()),
                "",
                &who,
            )
            .unwrap();
        assert_eq!(v.run_id.as_deref(), Some(run_id.as_str()));
        assert_eq!(
            store.get_model("fraud").unwrap().versions[0].run_id,
            Some(run_id.clone())
        );
        let absent = if run_id.starts_with('f') {
            "eeeeeeeeeeee"
        } else {
            "ffffffffffff"
        };
        let e = store
            .register_version("fraud", &bundle.sha256, Some(absent), "", &who)
            .unwrap_err();
        assert!(matches!(e, StoreError::RunNotFound(_)), "{e}");
        assert_eq!(store.get_model("fraud").unwrap().versions.len(), 1);
    });
}

#[test]
fn aliases_set_move_and_remove_with_audit() {
    each_backend("reg_alias", |store| {
        register(store, "fraud", b"v1");
        register(store, "fraud", b"v2");
        let set = store
            .set_alias("fraud", "champion", Some(1), &change("bob", "first deploy"))
            .unwrap();
        assert_eq!(set.len(), 1);
        let e = &set[0];
        assert_eq!(
            (e.action.as_str(), e.alias.as_deref()),
            ("alias", Some("champion"))
        );
        assert_eq!((e.from_version, e.to_version), (None, Some(1)));
        assert_eq!(
            (e.actor.as_str(), e.reason.as_str()),
            ("bob", "first deploy")
        );
        assert_eq!(e.model, "fraud");

        let moved = store
            .set_alias("fraud", "champion", Some(2), &change("carol", "better auc"))
            .unwrap();
        assert_eq!(
            (moved[0].from_version, moved[0].to_version),
            (Some(1), Some(2))
        );
        let m = store.get_model("fraud").unwrap();
        assert_eq!(m.aliases.get("champion"), Some(&2));
        assert_eq!(
            m.alias("champion").unwrap().bundle_sha256,
            m.versions[1].bundle_sha256
        );

        let removed = store
            .set_alias("fraud", "champion", None, &change("dave", "retire"))
            .unwrap();
        assert_eq!(
            (removed[0].from_version, removed[0].to_version),
            (Some(2), None)
        );
        assert!(store.get_model("fraud").unwrap().aliases.is_empty());
        let e = store
            .set_alias("fraud", "champion", None, &change("dave", "again"))
            .unwrap_err();
        assert!(matches!(e, StoreError::AliasNotFound { .. }), "{e}");
        assert!(e.to_string().contains("champion"), "{e}");

        // Newest first, each change with its actor and reason.
        let log = store.audit_log(Some("fraud"), 3).unwrap();
        assert_eq!(
            log,
            vec![removed[0].clone(), moved[0].clone(), set[0].clone()]
        );
        assert!(log[0].id > log[1].id && log[1].id > log[2].id);
    });
}

#[test]
fn promote_is_one_audit_batch() {
    each_backend("reg_promote", |store| {
        for bytes in [b"v1", b"v2", b"v3"] {
            register(store, "fraud", bytes);
        }
        store
            .set_alias("fraud", "champion", Some(1), &change("bob", ""))
            .unwrap();
        let start = RegistryUpdate {
            action: "rollout".to_string(),
            aliases: vec![("challenger".to_string(), Some(2))],
            rollout: Some(canary()),
        };
        store
            .update_registry("fraud", &start, &change("bob", "canary v2"))
            .unwrap();
        let m = store.get_model("fraud").unwrap();
        assert_eq!(m.rollout, canary());
        assert_eq!(m.aliases.get("challenger"), Some(&2));

        let promote = RegistryUpdate {
            action: "promote".to_string(),
            aliases: vec![
                ("champion".to_string(), Some(2)),
                ("challenger".to_string(), None),
            ],
            rollout: Some(Rollout::default()),
        };
        let entries = store
            .update_registry("fraud", &promote, &change("erin", "canary healthy"))
            .unwrap();
        assert_eq!(entries.len(), 3);
        assert!(entries.iter().all(|e| e.action == "promote"
            && e.actor == "erin"
            && e.reason == "canary healthy"
            && e.at == entries[0].at));
        assert!(entries.windows(2).all(|w| w[1].id > w[0].id));
        let changes: Vec<(Option<&str>, Option<u32>, Option<u32>)> = entries
            .iter()
            .map(|e| (e.alias.as_deref(), e.from_version, e.to_version))
            .collect();
        assert_eq!(
            changes,
            [
                (Some("champion"), Some(1), Some(2)),
                (Some("challenger"), Some(2), None),
                (None, None, None)
            ]
        );
        assert_eq!(
            entries[2].details,
            serde_json::to_value(Rollout::default()).unwrap()
        );

        let m = store.get_model("fraud").unwrap();
        assert_eq!(m.aliases.len(), 1);
        assert_eq!(m.aliases.get("champion"), Some(&2));
        assert_eq!(m.rollout, Rollout::default());
        let newest: Vec<AuditEntry> = store.audit_log(Some("fraud"), 3).unwrap();
        assert_eq!(newest, entries.iter().rev().cloned().collect::<Vec<_>>());
    });
}

#[test]
fn unknown_models_and_versions_are_named() {
    each_backend("reg_unknown", |store| {
        let e = store.get_model("fraud").unwrap_err();
        assert!(matches!(e, StoreError::ModelNotFound { .. }), "{e}");
        assert!(e.to_string().contains("registry is empty"), "{e}");

        register(store, "fraud", b"v1");
        register(store, "churn", b"c1");
        let e = store.get_model("frad").unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("'frad'") && text.contains("fraud") && text.contains("churn"),
            "{text}"
        );
        let e = store
            .set_alias("frad", "champion", Some(1), &change("bob", ""))
            .unwrap_err();
        assert!(matches!(e, StoreError::ModelNotFound { .. }), "{e}");

        let e = store
            .set_alias("fraud", "champion", Some(7), &change("bob", ""))
            .unwrap_err();
        assert!(
            matches!(
                e,
                StoreError::VersionNotFound {
                    version: 7,
                    latest: Some(1),
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("latest is 1"), "{e}");
        assert!(store.get_model("fraud").unwrap().aliases.is_empty());
    });
}

#[test]
fn invalid_names_are_refused() {
    each_backend("reg_names", |store| {
        let a = store.put_artifact(b"v1").unwrap();
        let who = change("alice", "");
        let long = "m".repeat(65);
        for bad in [
            "",
            "-fraud",
            ".hidden",
            "a b",
            "../etc",
            "fraud/v2",
            long.as_str(),
        ] {
            let e = store
                .register_version(bad, &a.sha256, None, "", &who)
                .unwrap_err();
            assert!(
                matches!(
                    e,
                    StoreError::InvalidName {
                        what: "model name",
                        ..
                    }
                ),
                "{bad:?}: {e}"
            );
        }
        assert!(store.list_models().unwrap().is_empty());
        let ok = "Fraud.v2_eu-1";
        assert_eq!(
            store
                .register_version(ok, &a.sha256, None, "", &who)
                .unwrap()
                .version,
            1
        );
        for bad in ["123", "", "a b", "-x"] {
            let e = store.set_alias(ok, bad, Some(1), &who).unwrap_err();
            assert!(
                matches!(e, StoreError::InvalidName { what: "alias", .. }),
                "{bad:?}: {e}"
            );
        }
        let e = store.set_alias(ok, "42", Some(1), &who).unwrap_err();
        assert!(e.to_string().contains("not all digits"), "{e}");
        store.set_alias(ok, "v42", Some(1), &who).unwrap();
    });
}

#[test]
fn invalid_rollouts_are_refused() {
    each_backend("reg_rollout", |store| {
        register(store, "fraud", b"v1");
        let bad = [
            (
                "canary_percent",
                Rollout {
                    canary_percent: 101.0,
                    ..canary()
                },
            ),
            (
                "canary_percent",
                Rollout {
                    canary_percent: -1.0,
                    ..canary()
                },
            ),
            (
                "canary_percent",
                Rollout {
                    canary_percent: f64::NAN,
                    ..canary()
                },
            ),
            (
                "max_error_rate",
                Rollout {
                    max_error_rate: Some(1.5),
                    ..canary()
                },
            ),
            (
                "max_error_rate",
                Rollout {
                    max_error_rate: Some(-0.1),
                    ..canary()
                },
            ),
            (
                "max_p99_ms",
                Rollout {
                    max_p99_ms: Some(0.0),
                    ..canary()
                },
            ),
            (
                "max_p99_ms",
                Rollout {
                    max_p99_ms: Some(f64::INFINITY),
                    ..canary()
                },
            ),
        ];
        for (field, rollout) in bad {
            let update = RegistryUpdate {
                action: "rollout".to_string(),
                aliases: vec![("challenger".to_string(), Some(1))],
                rollout: Some(rollout),
            };
            let e = store
                .update_registry("fraud", &update, &change("bob", ""))
                .unwrap_err();
            match &e {
                StoreError::InvalidRollout { field: f, .. } => assert_eq!(*f, field, "{e}"),
                other => panic!("expected invalid rollout, found {other}"),
            }
        }
        let m = store.get_model("fraud").unwrap();
        assert_eq!(m.rollout, Rollout::default());
        assert!(m.aliases.is_empty());
        assert_eq!(store.audit_log(None, 10).unwrap().len(), 1);
    });
}

#[test]
fn a_failing_update_leaves_nothing() {
    each_backend("reg_atomic", |store| {
        register(store, "fraud", b"v1");
        register(store, "fraud", b"v2");
        store
            .set_alias("fraud", "champion", Some(1), &change("bob", ""))
            .unwrap();
        // The last change fails in the database, after the first one and the rollout
        // were checked.
        let update = RegistryUpdate {
            action: "promote".to_string(),
            aliases: vec![
                ("champion".to_string(), Some(2)),
                ("challenger".to_string(), None),
            ],
            rollout: Some(canary()),
        };
        let e = store
            .update_registry("fraud", &update, &change("bob", ""))
            .unwrap_err();
        assert!(matches!(e, StoreError::AliasNotFound { .. }), "{e}");
        let m = store.get_model("fraud").unwrap();
        assert_eq!(m.aliases.get("champion"), Some(&1));
        assert_eq!(m.rollout, Rollout::default());
        // Two registrations and the first alias.
        assert_eq!(store.audit_log(None, 100).unwrap().len(), 3);
    });
}

#[test]
fn two_handles_registering_at_once_get_distinct_versions() {
    let dir = TempDir::new("reg_concurrent");
    let root = dir.root();
    Store::open(&root).unwrap();
    let versions: Vec<u32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2u8)
            .map(|t| {
                let root = root.clone();
                s.spawn(move || {
                    let store = Store::open(&root).unwrap();
                    (0..10u8)
                        .map(|i| register(&store, "fraud", &[t, i]))
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
    let store = Store::open(&root).unwrap();
    assert_eq!(store.get_model("fraud").unwrap().versions.len(), 20);
    assert_eq!(count(&store, "audit"), 20);
}

/// The schema of version 1 as shipped, to build an old database by hand.
const SCHEMA_V1: &str = "CREATE TABLE runs (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT,
        created_at TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        task TEXT NOT NULL,
        model_kind TEXT NOT NULL,
        dataset_sha256 TEXT NOT NULL,
        params_json TEXT NOT NULL,
        lineage_json TEXT NOT NULL
    );
    CREATE INDEX runs_created_at ON runs (created_at);
    CREATE TABLE metrics (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        split TEXT NOT NULL,
        fold INTEGER,
        name TEXT NOT NULL,
        value REAL -- NULL stores NaN
    );
    CREATE UNIQUE INDEX metrics_key ON metrics (run_id, split, IFNULL(fold, -1), name);
    CREATE TABLE tags (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
    );
    CREATE TABLE artifacts (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        PRIMARY KEY (run_id, name)
    );
    CREATE INDEX artifacts_sha256 ON artifacts (sha256);";

#[test]
fn upgrades_a_schema_version_1_database() {
    let dir = TempDir::new("reg_upgrade");
    let root = dir.root();
    std::fs::create_dir_all(&root).unwrap();
    {
        let conn = rusqlite::Connection::open(root.join("capstan.db")).unwrap();
        conn.execute_batch(SCHEMA_V1).unwrap();
        conn.execute(
            "INSERT INTO runs (id, name, created_at, started_at, finished_at, status, task,
                model_kind, dataset_sha256, params_json, lineage_json)
             VALUES ('0123456789ab', 'old run', '2024-01-01T00:00:00.000000Z',
                '2024-01-01T00:00:00Z', '2024-01-01T00:01:00Z', 'finished', 'binary', 'gbdt',
                '', '{\"n_trees\":10}', '{}')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO metrics (run_id, split, fold, name, value)
             VALUES ('0123456789ab', 'test', NULL, 'auc', 0.8)",
            [],
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
    }
    let store = Store::open(&root).unwrap();
    let conn = rusqlite::Connection::open(db_path(&store)).unwrap();
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    const { assert!(SCHEMA_VERSION >= 2) };

    let run = store.get_run("0123").unwrap();
    assert_eq!(run.name.as_deref(), Some("old run"));
    assert_eq!(run.metric("test", "auc"), Some(0.8));
    assert_eq!(run.params["n_trees"], 10);

    let a = store.put_artifact(b"bundle of the old run").unwrap();
    let v = store
        .register_version("fraud", &a.sha256, Some("0123"), "", &change("alice", ""))
        .unwrap();
    assert_eq!((v.version, v.run_id.as_deref()), (1, Some("0123456789ab")));
    store
        .set_alias("fraud", "champion", Some(1), &change("alice", ""))
        .unwrap();
    drop(store);
    // Reopening does not migrate again.
    let store = Store::open(&root).unwrap();
    assert_eq!(
        store.get_model("fraud").unwrap().aliases.get("champion"),
        Some(&1)
    );
    assert_eq!(store.list_runs(None).unwrap().len(), 1);
}
