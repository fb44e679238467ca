//! Shared helpers: where the real datasets live, and scratch directories.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `shared/data` beside the clone (see shared/data/INDEX.md).
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// `shared/data/NAME/NAME.csv`.
pub fn dataset(name: &str) -> PathBuf {
    data_dir().join(name).join(format!("{name}.csv"))
}

/// The copy bundled in the repository at `data/telco_churn.csv`.
pub fn bundled_telco() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/telco_churn.csv")
}

/// A fresh, empty directory for one test.
pub fn scratch_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("capstan-frame")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

/// File names in `dir`, sorted.
pub fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}
