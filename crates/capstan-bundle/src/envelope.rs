//! The file envelope around the JSON payload:
//!
//! ```text
//! offset  size  field
//! 0       8     magic b"CAPSTAN\0"
//! 8       4     format version, u32 little-endian
//! 12      8     payload length in bytes, u64 little-endian
//! 20      n     payload: UTF-8 JSON of the bundle
//! 20+n    32    sha256 of bytes 0..20+n
//! ```
//!
//! Decoding never executes anything: it checks magic, version, length and checksum, then
//! parses JSON into plain data.

use capstan_io::hex;
use sha2::{Digest, Sha256};

use crate::BundleError;

pub const MAGIC: &[u8; 8] = b"CAPSTAN\0";
/// The newest format this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

const HEADER_LEN: usize = 8 + 4 + 8;
const CHECKSUM_LEN: usize = 32;

/// Wraps `payload` in the envelope at the current format version.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len() + CHECKSUM_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(payload);
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

/// Checks the envelope and returns `(format_version, payload)`; `what` names the input.
pub fn decode<'a>(bytes: &'a [u8], what: &str) -> Result<(u32, &'a [u8]), BundleError> {
    let what_s = || what.to_string();
    if bytes.is_empty() {
        return Err(BundleError::Empty { what: what_s() });
    }
    let found = bytes.len() as u64;
    let min_len = (HEADER_LEN + CHECKSUM_LEN) as u64;
    if bytes.len() < MAGIC.len() && MAGIC.starts_with(bytes) {
        return Err(BundleError::Truncated {
            what: what_s(),
            expected: min_len,
            found,
        });
    }
    if bytes.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        let found = &bytes[..bytes.len().min(MAGIC.len())];
        return Err(BundleError::NotABundle {
            what: what_s(),
            expected: String::from_utf8_lossy(MAGIC).into_owned(),
            found: String::from_utf8_lossy(found).into_owned(),
        });
    }
    let (Some(version), Some(payload_len)) = (read_u32(bytes, 8), read_u64(bytes, 12)) else {
        return Err(BundleError::Truncated {
            what: what_s(),
            expected: min_len,
            found,
        });
    };
    if version > FORMAT_VERSION {
        return Err(BundleError::NewerFormat {
            what: what_s(),
            version,
            max: FORMAT_VERSION,
        });
    }
    if version == 0 {
        return Err(BundleError::InvalidVersion {
            what: what_s(),
            version,
        });
    }
    let expected = payload_len.saturating_add(min_len);
    if found < expected {
        return Err(BundleError::Truncated {
            what: what_s(),
            expected,
            found,
        });
    }
    if found > expected {
        return Err(BundleError::TrailingData {
            what: what_s(),
            expected,
            found,
        });
    }
    // `found == expected` fits in usize, so these casts are exact.
    let body_end = HEADER_LEN + payload_len as usize;
    let stored = &bytes[body_end..];
    let actual = Sha256::digest(&bytes[..body_end]);
    if stored != actual.as_slice() {
        return Err(BundleError::ChecksumMismatch {
            what: what_s(),
            expected: hex(stored),
            found: hex(&actual),
        });
    }
    Ok((version, &bytes[HEADER_LEN..body_end]))
}

/// Upgrades the JSON of a bundle written at `version` to the current format.
/// Each step maps version `n` to `n + 1`; v1 is current, so there are no steps yet.
pub fn migrate(version: u32, json: serde_json::Value) -> Result<serde_json::Value, BundleError> {
    match version {
        FORMAT_VERSION => Ok(json),
        // Future: `1 => migrate(2, v1_to_v2(json)?)`, and so on.
        _ => Err(BundleError::InvalidVersion {
            what: "payload".to_string(),
            version,
        }),
    }
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..at + 8)?;
    Some(u64::from_le_bytes(b.try_into().ok()?))
}
