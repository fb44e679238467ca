//! Content-addressed artifacts: layout, dedup, verification.
#![allow(clippy::unwrap_used)]

mod common;

use capstan_store::{Store, StoreError};
use common::{TempDir, artifact_path};
use sha2::{Digest, Sha256};

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn put_stores_under_the_hash_and_dedups() {
    let dir = TempDir::new("put");
    let store = Store::open(&dir.root()).unwrap();
    let bytes = b"a model, say".to_vec();
    let a = store.put_artifact(&bytes).unwrap();
    let expected: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(a.sha256, expected);
    assert_eq!(a.size, bytes.len() as u64);
    let path = dir
        .root()
        .join("artifacts/sha256")
        .join(&expected[..2])
        .join(&expected);
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    // Artifacts are immutable: written read-only.
    assert!(std::fs::metadata(&path).unwrap().permissions().readonly());

    assert_eq!(store.put_artifact(&bytes).unwrap(), a);
    let other = store.put_artifact(b"").unwrap();
    assert_ne!(other, a);
    let files = files_under(&dir.root().join("artifacts"));
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(store.read_artifact(&a.sha256).unwrap(), bytes);
    assert_eq!(
        store.read_artifact(&a.sha256.to_uppercase()).unwrap(),
        bytes
    );
    assert_eq!(store.read_artifact(&other.sha256).unwrap(), b"");
}

#[test]
fn corrupt_artifact_is_detected_and_repaired_by_put() {
    let dir = TempDir::new("corrupt");
    let store = Store::open(&dir.root()).unwrap();
    let bytes = b"immutable bytes".to_vec();
    let a = store.put_artifact(&bytes).unwrap();
    let path = artifact_path(&dir.root(), &a.sha256);
    common::make_writable(&path);
    std::fs::write(&path, b"immutable bytez").unwrap();

    let e = store.read_artifact(&a.sha256).unwrap_err();
    assert!(matches!(e, StoreError::ArtifactCorrupt { .. }), "{e}");
    assert!(e.to_string().contains("is corrupt: expected sha256"), "{e}");

    store.put_artifact(&bytes).unwrap();
    assert_eq!(store.read_artifact(&a.sha256).unwrap(), bytes);
}

#[test]
fn missing_and_malformed_hashes() {
    let dir = TempDir::new("missing");
    let store = Store::open(&dir.root()).unwrap();
    let e = store.read_artifact(&"0".repeat(64)).unwrap_err();
    assert!(matches!(e, StoreError::ArtifactMissing { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains(&"0".repeat(64)) && text.contains(&dir.root().display().to_string()),
        "{text}"
    );
    for bad in ["", "abc", "../../../etc/passwd", &"z".repeat(64)] {
        let e = store.read_artifact(bad).unwrap_err();
        assert!(matches!(e, StoreError::InvalidHash(_)), "{e}");
    }
}

#[test]
fn no_temp_files_left_behind() {
    let dir = TempDir::new("tmp");
    let store = Store::open(&dir.root()).unwrap();
    for i in 0..20u32 {
        store.put_artifact(&i.to_le_bytes()).unwrap();
    }
    let files = files_under(&dir.root().join("artifacts"));
    assert_eq!(files.len(), 20);
    assert!(files.iter().all(|p| {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        name.len() == 64 && !name.starts_with('.')
    }));
}
