//! Content hashes of files (dataset versions).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::FrameError;

/// The SHA-256 of a file's bytes as lowercase hex, read in chunks.
pub fn file_sha256(path: &Path) -> Result<String, FrameError> {
    let mut file = File::open(path).map_err(|e| FrameError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(FrameError::io(path, e)),
        };
        hasher.update(&buf[..n]);
    }
    Ok(capstan_io::hex(&hasher.finalize()))
}
