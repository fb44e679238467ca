//! Runs: what was trained, on what, with which results and artifacts.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use capstan_io::sha256_hex;
use serde::{Deserialize, Serialize};

use crate::util::unix_nanos;
use crate::{ArtifactRef, StoreError};

/// Shortest run id prefix accepted by [`crate::Store::get_run`].
pub const MIN_PREFIX_LEN: usize = 4;
const RUN_ID_LEN: usize = 12;
/// How many candidates an ambiguous prefix error lists (backends fetch one more).
pub(crate) const MAX_CANDIDATES: usize = 10;

/// One metric value; `fold` is `None` for a whole split and `Some(k)` for fold `k` of CV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRecord {
    pub split: String,
    pub fold: Option<u32>,
    pub name: String,
    /// NaN is stored and read back as NaN (JSON shows it as null).
    pub value: f64,
}

/// A finished run to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    pub name: Option<String>,
    pub task: String,
    pub model_kind: String,
    pub dataset_sha256: String,
    pub params: serde_json::Value,
    pub lineage: serde_json::Value,
    pub metrics: Vec<MetricRecord>,
    pub tags: BTreeMap<String, String>,
    /// (name, artifact), e.g. `("model", ..)`; each must already be in the store.
    pub artifacts: Vec<(String, ArtifactRef)>,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC.
    pub finished_at: String,
}

/// One line of `list_runs`; `metrics` holds whole-split values only (split -> name -> value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: String,
    pub name: Option<String>,
    pub created_at: String,
    pub status: String,
    pub task: String,
    pub model_kind: String,
    pub dataset_sha256: String,
    pub metrics: BTreeMap<String, BTreeMap<String, f64>>,
}

/// A recorded run with everything attached to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    pub name: Option<String>,
    /// When the run was recorded, RFC 3339 UTC with microseconds.
    pub created_at: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub task: String,
    pub model_kind: String,
    pub dataset_sha256: String,
    pub params: serde_json::Value,
    pub lineage: serde_json::Value,
    /// Ordered by split, then fold (whole split first), then name.
    pub metrics: Vec<MetricRecord>,
    pub tags: BTreeMap<String, String>,
    pub artifacts: BTreeMap<String, ArtifactRef>,
}

impl Run {
    pub fn artifact(&self, name: &str) -> Option<&ArtifactRef> {
        self.artifacts.get(name)
    }

    /// The whole-split value of a metric, if recorded.
    pub fn metric(&self, split: &str, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|m| m.split == split && m.fold.is_none() && m.name == name)
            .map(|m| m.value)
    }
}

/// A candidate id for a new run: 12 hex chars of
/// sha256(time in nanoseconds, process id, counter, run content).
/// Backends draw again while the candidate is taken.
pub(crate) fn candidate_run_id(run: &NewRun) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let content = serde_json::to_vec(run).unwrap_or_default();
    let mut seed = Vec::with_capacity(40 + content.len());
    seed.extend_from_slice(&unix_nanos().to_le_bytes());
    seed.extend_from_slice(&std::process::id().to_le_bytes());
    seed.extend_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    seed.extend_from_slice(&content);
    sha256_hex(&seed)[..RUN_ID_LEN].to_string()
}

/// The error for a prefix matching several runs: `matches` are (id, name), newest first,
/// at most `MAX_CANDIDATES + 1` of them.
pub(crate) fn ambiguous_prefix(prefix: &str, matches: &[(String, Option<String>)]) -> StoreError {
    StoreError::AmbiguousRun {
        prefix: prefix.to_string(),
        candidates: matches
            .iter()
            .take(MAX_CANDIDATES)
            .map(|(id, name)| match name {
                Some(n) => format!("{id} ({n})"),
                None => id.clone(),
            })
            .chain((matches.len() > MAX_CANDIDATES).then(|| "...".to_string()))
            .collect(),
    }
}
