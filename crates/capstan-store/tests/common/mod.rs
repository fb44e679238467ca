//! Shared helpers: temp stores, sample runs, and running a test on every backend.
#![allow(dead_code, clippy::unwrap_used)]

pub mod pg;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use capstan_store::{ArtifactRef, MetricRecord, NewRun, Store};
use serde_json::json;

/// A fresh directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "capstan-store-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    /// The `.capstan` root inside this directory (not created).
    pub fn root(&self) -> PathBuf {
        self.0.join(".capstan")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Artifacts are read-only; make them writable so removal works everywhere.
        make_writable(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn make_writable(path: &std::path::Path) {
    if let Ok(entries) = std::fs::read_dir(path) {
        for e in entries.flatten() {
            make_writable(&e.path());
        }
    }
    if let Ok(m) = std::fs::metadata(path) {
        let mut p = m.permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        p.set_readonly(false);
        let _ = std::fs::set_permissions(path, p);
    }
}

pub fn metric(split: &str, fold: Option<u32>, name: &str, value: f64) -> MetricRecord {
    MetricRecord {
        split: split.to_string(),
        fold,
        name: name.to_string(),
        value,
    }
}

pub fn new_run(name: &str, artifacts: Vec<(String, ArtifactRef)>) -> NewRun {
    NewRun {
        name: Some(name.to_string()),
        task: "binary".to_string(),
        model_kind: "gbdt".to_string(),
        dataset_sha256: "ab".repeat(32),
        params: json!({"n_trees": 100, "learning_rate": 0.1}),
        lineage: json!({"dataset_path": "data/adult.csv", "seed": 7}),
        metrics: vec![
            metric("test", None, "auc", 0.91),
            metric("cv", Some(0), "auc", 0.90),
            metric("cv", Some(1), "auc", 0.92),
            metric("cv", None, "auc", 0.91),
            metric("train", None, "log_loss", 0.25),
        ],
        tags: BTreeMap::from([("owner".to_string(), "fraud-team".to_string())]),
        artifacts,
        started_at: "2024-05-01T12:00:00Z".to_string(),
        finished_at: "2024-05-01T12:01:00Z".to_string(),
    }
}

/// Records a run with one "model" artifact made from `model_bytes`.
pub fn record(store: &Store, name: &str, model_bytes: &[u8]) -> String {
    let a = store.put_artifact(model_bytes).unwrap();
    store
        .record_run(&new_run(name, vec![("model".to_string(), a)]))
        .unwrap()
}

/// The SQLite database file of a directory store.
pub fn db_path(store: &Store) -> PathBuf {
    store
        .root()
        .expect("a sqlite store has a root")
        .join("capstan.db")
}

/// Where a directory store keeps the artifact with this (lowercase) sha256.
pub fn artifact_path(root: &Path, sha256: &str) -> PathBuf {
    root.join("artifacts")
        .join("sha256")
        .join(&sha256[..2])
        .join(sha256)
}

/// Rows in `table` of a SQLite store.
pub fn count(store: &Store, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(db_path(store)).unwrap();
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// Runs `f` on a fresh SQLite store, then on a fresh PostgreSQL store when one is
/// configured for tests (see `pg.rs`).
pub fn each_backend(test: &str, f: impl Fn(&Store)) {
    let dir = TempDir::new(test);
    let store = Store::open(&dir.root()).unwrap();
    f(&store);
    drop(store);
    if let Some(store) = pg::fresh_store(test) {
        f(&store);
    }
}
