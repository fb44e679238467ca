//! Small helpers shared by the capstan crates: atomic file writes, RFC 3339 UTC
//! timestamps, sha256 as lowercase hex, the seeded PRNG, and connection URLs with the
//! password redacted.

mod atomic;
mod hash;
pub mod rng;
mod time;
mod url;

pub use atomic::write_atomic;
pub use hash::{hex, sha256_hex};
pub use time::{format_unix_micros, utc_now_rfc3339};
pub use url::redact_password;
