//! The model bundle: one checksummed file holding everything needed to predict.
//!
//! A bundle is plain data (JSON inside a binary envelope, see [`envelope`]); loading it checks
//! magic, format version and checksum and never executes code. Old format versions are
//! upgraded on read by [`migrate`].

mod bundle;
pub mod envelope;
mod error;
mod manifest;

pub use bundle::Bundle;
pub use envelope::{FORMAT_VERSION, MAGIC, migrate};
pub use error::BundleError;
pub use manifest::{Lineage, Manifest, TargetInfo};
