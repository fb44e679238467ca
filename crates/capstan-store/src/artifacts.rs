//! Content-addressed, immutable artifact files.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::util::{normalize_sha256, sha256_hex};
use crate::{Store, StoreError};

/// A stored artifact: its lowercase hex sha256 and size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRef {
    pub sha256: String,
    pub size: u64,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Store {
    /// Stores `bytes` under their sha256 (no-op when already stored) and returns the reference.
    pub fn put_artifact(&self, bytes: &[u8]) -> Result<ArtifactRef, StoreError> {
        let sha256 = sha256_hex(bytes);
        let size = bytes.len() as u64;
        let path = self.artifact_path(&sha256);
        // Already stored and intact: nothing to do. A damaged file is replaced.
        if fs::read(&path).is_ok_and(|old| sha256_hex(&old) == sha256) {
            return Ok(ArtifactRef { sha256, size });
        }
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
            path: dir.clone(),
            source,
        })?;
        write_atomic(&dir, &path, bytes)?;
        Ok(ArtifactRef { sha256, size })
    }

    /// Where the artifact with this sha256 lives:
    /// `<root>/artifacts/sha256/<first 2 hex>/<64 hex>`. A malformed hash maps to a path
    /// that never exists (and never leaves the artifact directory).
    pub fn artifact_path(&self, sha256: &str) -> PathBuf {
        let base = self.root.join("artifacts").join("sha256");
        match normalize_sha256(sha256) {
            Some(h) => base.join(&h[..2]).join(&h),
            None => base.join("not-a-sha256"),
        }
    }

    /// Reads an artifact and checks that its content still has the expected hash.
    pub fn read_artifact(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let Some(expected) = normalize_sha256(sha256) else {
            return Err(StoreError::InvalidHash(sha256.to_string()));
        };
        let path = self.artifact_path(&expected);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::ArtifactMissing {
                    sha256: expected,
                    path,
                });
            }
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        let found = sha256_hex(&bytes);
        if found != expected {
            return Err(StoreError::ArtifactCorrupt {
                path,
                expected,
                found,
            });
        }
        Ok(bytes)
    }
}

/// Temp file in `dir`, fsync, read-only, rename onto `path`, fsync `dir`.
fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".tmp-{}-{n}", std::process::id()));
    let io_err = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(io_err)?;
    let result = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            let mut perms = file.metadata()?.permissions();
            perms.set_readonly(true);
            fs::set_permissions(&tmp, perms)
        })
        .and_then(|()| {
            drop(file);
            fs::rename(&tmp, path)
        });
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(e));
    }
    // Persist the rename; not every platform can open a directory, so best effort.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
