//! Artifact files: `<root>/artifacts/sha256/<first 2 hex>/<64 hex>`, written once, read-only.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use capstan_io::{sha256_hex, write_atomic};

use super::Sqlite;
use crate::util::normalize_sha256;
use crate::{ArtifactRef, StoreError};

/// Where the artifact with this sha256 lives. The façade passes validated hashes; anything
/// else maps to a path that never exists (and never leaves the artifact directory).
fn artifact_path(db: &Sqlite, sha256: &str) -> PathBuf {
    let base = db.root.join("artifacts").join("sha256");
    match normalize_sha256(sha256) {
        Some(h) => base.join(&h[..2]).join(&h),
        None => base.join("not-a-sha256"),
    }
}

/// Stores `bytes` under `sha256` (their hash); no-op when already stored intact,
/// a damaged file is replaced.
pub(super) fn put_artifact(
    db: &Sqlite,
    sha256: &str,
    bytes: &[u8],
) -> Result<ArtifactRef, StoreError> {
    let done = ArtifactRef {
        sha256: sha256.to_string(),
        size: bytes.len() as u64,
    };
    let path = artifact_path(db, sha256);
    if fs::read(&path).is_ok_and(|old| sha256_hex(&old) == sha256) {
        return Ok(done);
    }
    let dir = path.parent().unwrap_or(&db.root).to_path_buf();
    fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
        path: dir.clone(),
        source,
    })?;
    write_read_only(&path, bytes)?;
    Ok(done)
}

pub(super) fn read_artifact(db: &Sqlite, sha256: &str) -> Result<Vec<u8>, StoreError> {
    let path = artifact_path(db, sha256);
    match fs::read(&path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::ArtifactMissing {
            sha256: sha256.to_string(),
            location: db.location(),
        }),
        Err(source) => Err(StoreError::Io { path, source }),
    }
}

pub(super) fn artifact_size(db: &Sqlite, sha256: &str) -> Option<u64> {
    fs::metadata(artifact_path(db, sha256))
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len())
}

/// Writes `bytes` atomically (temp file, fsync, rename) as a read-only file.
fn write_read_only(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let io_err = |source: std::io::Error| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    write_atomic(
        path,
        |out| {
            out.write_all(bytes)
                .and_then(|()| {
                    let file = out.get_ref();
                    let mut perms = file.metadata()?.permissions();
                    perms.set_readonly(true);
                    file.set_permissions(perms)
                })
                .map_err(io_err)
        },
        io_err,
    )
}
