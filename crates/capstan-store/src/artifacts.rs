//! Content-addressed, immutable artifact files.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use capstan_io::{sha256_hex, write_atomic};
use serde::{Deserialize, Serialize};

use crate::util::normalize_sha256;
use crate::{Store, StoreError};

/// A stored artifact: its lowercase hex sha256 and size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRef {
    pub sha256: String,
    pub size: u64,
}

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
        write_read_only(&path, bytes)?;
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
