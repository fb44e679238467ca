//! Dataset versions on both backends: idempotent put, profile filled in later, runs linked,
//! unique-prefix lookup with clear errors, newest-first listing, the file-signature cache.
#![allow(clippy::unwrap_used)]

mod common;

use capstan_store::{FileSignature, NewDatasetVersion, SCHEMA_VERSION, Store, StoreError};
use common::{TempDir, each_backend, record};
use serde_json::json;

/// A version with the given hash; the JSON is shaped like `capstan_quality::version`'s.
fn version(hash: &str, source: &str) -> NewDatasetVersion {
    NewDatasetVersion {
        version: hash.to_string(),
        source: source.to_string(),
        n_rows: 48842,
        n_cols: 2,
        schema: json!({"fields": [
            {"name": "age", "type": "integer", "nullable": false},
            {"name": "workclass", "type": "string", "nullable": true}
        ]}),
        chunk_hashes: json!([
            {"name": "age", "chunks": ["11".repeat(32)]},
            {"name": "workclass", "chunks": ["22".repeat(32)]}
        ]),
        profile: None,
        run_id: None,
    }
}

fn sig(path: &str, size: u64, mtime_ns: i64) -> FileSignature {
    FileSignature {
        path: path.to_string(),
        size,
        mtime_ns,
        options: "ordered".to_string(),
    }
}

#[test]
fn put_is_idempotent_and_fills_in_the_profile() {
    each_backend("dv_put", |store| {
        let hash = "ab".repeat(32);
        let v = version(&hash, "data/adult.csv");
        store.put_dataset_version(&v).unwrap();
        store.put_dataset_version(&v).unwrap();
        let got = store.get_dataset_version(&hash).unwrap();
        assert_eq!(got.version, hash);
        assert_eq!(got.source, "data/adult.csv");
        assert_eq!((got.n_rows, got.n_cols), (48842, 2));
        assert_eq!(got.schema, v.schema);
        assert_eq!(got.chunk_hashes, v.chunk_hashes);
        assert_eq!(got.profile, None);
        assert!(got.run_ids.is_empty());
        assert!(got.created_at.ends_with('Z'), "{}", got.created_at);

        // Recorded again from another source with a profile: the first source stays, the
        // missing profile is filled in; a later profile does not replace it.
        let profile = json!({"n_rows": 48842, "columns": []});
        let mut again = version(&hash.to_ascii_uppercase(), "data/adult.parquet");
        again.profile = Some(profile.clone());
        store.put_dataset_version(&again).unwrap();
        let got = store.get_dataset_version(&hash[..8]).unwrap();
        assert_eq!(got.source, "data/adult.csv");
        assert_eq!(got.profile.as_ref(), Some(&profile));
        again.profile = Some(json!({"other": true}));
        store.put_dataset_version(&again).unwrap();
        assert_eq!(
            store.get_dataset_version(&hash).unwrap().profile,
            Some(profile)
        );
        assert_eq!(store.list_dataset_versions().unwrap().len(), 1);

        let e = store
            .put_dataset_version(&version("not-a-hash", "x"))
            .unwrap_err();
        assert!(matches!(e, StoreError::InvalidHash(_)), "{e}");
    });
}

#[test]
fn runs_are_linked_newest_first() {
    each_backend("dv_runs", |store| {
        let hash = "cd".repeat(32);
        let first = record(store, "first", b"model one");
        let second = record(store, "second", b"model two");
        for run in [&first, &second, &first] {
            let mut v = version(&hash, "adult.csv");
            v.run_id = Some(run.clone());
            store.put_dataset_version(&v).unwrap();
        }
        let got = store.get_dataset_version(&hash).unwrap();
        assert_eq!(got.run_ids, vec![second.clone(), first.clone()]);

        // An unknown run is refused and nothing is written.
        let other = "ef".repeat(32);
        let mut v = version(&other, "adult.csv");
        v.run_id = Some("000000000000".to_string());
        let e = store.put_dataset_version(&v).unwrap_err();
        assert!(matches!(e, StoreError::RunNotFound(_)), "{e}");
        assert!(matches!(
            store.get_dataset_version(&other),
            Err(StoreError::DatasetVersionNotFound(_))
        ));
    });
}

#[test]
fn prefix_lookup_and_listing() {
    each_backend("dv_prefix", |store| {
        let a = format!("abcd1{}", "0".repeat(59));
        let b = format!("abcd2{}", "0".repeat(59));
        let c = format!("99{}", "1".repeat(62));
        for (h, src) in [(&a, "a.csv"), (&b, "b.csv"), (&c, "c.csv")] {
            store.put_dataset_version(&version(h, src)).unwrap();
        }
        let listed: Vec<String> = store
            .list_dataset_versions()
            .unwrap()
            .into_iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(listed, vec![c.clone(), b.clone(), a.clone()]);

        assert_eq!(store.get_dataset_version("ABCD1").unwrap().version, a);
        assert_eq!(store.get_dataset_version(" 9911 ").unwrap().version, c);
        let e = store.get_dataset_version("abcd").unwrap_err();
        assert!(
            matches!(&e, StoreError::AmbiguousDatasetVersion { candidates, .. } if candidates.len() == 2),
            "{e}"
        );
        let text = e.to_string();
        assert!(text.contains("'abcd' is ambiguous"), "{text}");
        assert!(text.contains("abcd20000000 (b.csv)"), "{text}");
        assert!(text.contains("abcd10000000 (a.csv)"), "{text}");
        let e = store.get_dataset_version("abc").unwrap_err();
        assert!(matches!(e, StoreError::DatasetPrefixTooShort(_)), "{e}");
        let e = store.get_dataset_version("beef").unwrap_err();
        assert_eq!(
            e.to_string(),
            "no dataset version matches 'beef' (see `capstan data versions`)"
        );
        let e = store.get_dataset_version("adult.csv").unwrap_err();
        assert!(matches!(e, StoreError::DatasetVersionNotFound(_)), "{e}");
    });
}

#[test]
fn file_signatures_match_exactly() {
    each_backend("dv_sig", |store| {
        let hash = "12".repeat(32);
        store
            .put_dataset_version(&version(&hash, "/data/adult.csv"))
            .unwrap();
        let s = sig("/data/adult.csv", 5_000_000, 1_700_000_000_123_456_789);
        assert_eq!(store.find_file_signature(&s).unwrap(), None);
        store.record_file_signature(&s, &hash).unwrap();
        assert_eq!(store.find_file_signature(&s).unwrap(), Some(hash.clone()));
        // Any change of size, time or options misses.
        let mut other = s.clone();
        other.mtime_ns += 1;
        assert_eq!(store.find_file_signature(&other).unwrap(), None);
        let mut other = s.clone();
        other.size += 1;
        assert_eq!(store.find_file_signature(&other).unwrap(), None);
        let mut other = s.clone();
        other.options = "unordered".to_string();
        assert_eq!(store.find_file_signature(&other).unwrap(), None);

        // The file changed: the new signature replaces the old one for that path.
        let newer = "34".repeat(32);
        store
            .put_dataset_version(&version(&newer, "/data/adult.csv"))
            .unwrap();
        let changed = sig("/data/adult.csv", 5_000_100, 1_700_000_999_000_000_000);
        store.record_file_signature(&changed, &newer).unwrap();
        assert_eq!(store.find_file_signature(&changed).unwrap(), Some(newer));
        assert_eq!(store.find_file_signature(&s).unwrap(), None);

        let e = store.record_file_signature(&s, "nope").unwrap_err();
        assert!(matches!(e, StoreError::InvalidHash(_)), "{e}");
    });
}

#[test]
fn a_version_2_database_gains_the_dataset_tables() {
    let dir = TempDir::new("dv_migrate");
    let root = dir.root();
    let run_id = {
        let store = Store::open(&root).unwrap();
        let id = record(&store, "before", b"model");
        drop(store);
        // Back to version 2: drop what step 3 added.
        let conn = rusqlite::Connection::open(root.join("capstan.db")).unwrap();
        conn.execute_batch(
            "DROP TABLE file_signatures; DROP TABLE dataset_version_runs;
             DROP TABLE dataset_versions; PRAGMA user_version = 2;",
        )
        .unwrap();
        id
    };
    assert_eq!(SCHEMA_VERSION, 3);
    let store = Store::open(&root).unwrap();
    assert_eq!(
        store.get_run(&run_id).unwrap().name.as_deref(),
        Some("before")
    );
    let mut v = version(&"56".repeat(32), "adult.csv");
    v.run_id = Some(run_id.clone());
    store.put_dataset_version(&v).unwrap();
    assert_eq!(
        store.list_dataset_versions().unwrap()[0].run_ids,
        vec![run_id]
    );
}

#[test]
fn a_postgres_schema_at_step_1_gains_the_dataset_tables() {
    let Some(pg) = common::pg::PgSchema::new("dv_migrate") else {
        return;
    };
    let run_id = record(&pg.open(), "before", b"model");
    pg.client()
        .batch_execute(
            "DROP TABLE file_signatures; DROP TABLE dataset_version_runs;
             DROP TABLE dataset_versions; UPDATE capstan_schema SET version = 1;",
        )
        .unwrap();
    let store = pg.open();
    let version_row: i32 = pg
        .client()
        .query_one("SELECT version FROM capstan_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(version_row, 2);
    let mut v = version(&"78".repeat(32), "adult.csv");
    v.run_id = Some(run_id.clone());
    store.put_dataset_version(&v).unwrap();
    assert_eq!(
        store.get_dataset_version("7878").unwrap().run_ids,
        vec![run_id]
    );
}
