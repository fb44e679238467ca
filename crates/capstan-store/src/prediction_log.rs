//! The prediction log: one record per scored row, appended in batches.

use serde::{Deserialize, Serialize};

use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRecord {
    /// Unique id returned to the client.
    pub id: String,
    /// RFC 3339 UTC with microseconds.
    pub at: String,
    pub model: String,
    pub version: u32,
    /// `champion`, `shadow` or `canary` (or `direct` when a version was asked for by number).
    pub role: String,
    /// The row as received (column -> value).
    pub inputs: serde_json::Value,
    /// What the model returned for it (prediction, probabilities).
    pub outputs: serde_json::Value,
    pub latency_us: u64,
}

/// Filters for reading the log; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogQuery {
    pub model: Option<String>,
    pub version: Option<u32>,
    pub role: Option<String>,
    /// Records at or after this RFC 3339 time.
    pub since: Option<String>,
    pub limit: Option<usize>,
}

impl Store {
    /// Appends records in one transaction (all or none).
    pub fn append_predictions(&self, records: &[PredictionRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.backend.append_predictions(records)
    }

    /// Records matching `query`, oldest first.
    pub fn query_predictions(&self, query: &LogQuery) -> Result<Vec<PredictionRecord>, StoreError> {
        self.backend.query_predictions(query)
    }
}
