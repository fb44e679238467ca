//! Hash validation and the clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// The lowercase form of `s` if it is a sha256 in hex, else `None`.
pub(crate) fn normalize_sha256(s: &str) -> Option<String> {
    (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// Nanoseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_hashes() {
        assert_eq!(normalize_sha256(&"AB".repeat(32)), Some("ab".repeat(32)));
        assert_eq!(normalize_sha256("../../etc/passwd"), None);
        assert_eq!(normalize_sha256(&"g".repeat(64)), None);
    }
}
