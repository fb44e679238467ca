//! Data quality: profiles (statistics and an HTML report), validation rules, bias checks
//! and dataset versions (content hashes). Knows frames, not models or HTTP.

pub mod bias;
pub mod diff;
mod error;
pub mod label;
pub mod profile;
pub mod psi;
pub mod rules;
pub mod version;

pub use error::QualityError;
pub use profile::Profile;
