//! Content-addressed, immutable artifacts.

use serde::{Deserialize, Serialize};

/// A stored artifact: its lowercase hex sha256 and size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRef {
    pub sha256: String,
    pub size: u64,
}
