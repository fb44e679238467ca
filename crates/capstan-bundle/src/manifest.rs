use std::collections::BTreeMap;

use capstan_frame::Schema;
use capstan_learn::Task;
use serde::{Deserialize, Serialize};

/// What a bundle is: its inputs, target, metrics and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    /// Version of the capstan that wrote the bundle.
    pub capstan_version: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The columns a caller must provide, with types and nullability.
    pub input_schema: Schema,
    pub target: TargetInfo,
    /// split -> metric -> value, e.g. `test -> auc -> 0.91`.
    pub metrics: BTreeMap<String, BTreeMap<String, f64>>,
    pub lineage: Lineage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetInfo {
    pub name: String,
    pub task: Task,
    /// Class index -> label; empty for regression.
    pub classes: Vec<String>,
}

/// How the model was made: enough to reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    pub dataset_path: String,
    pub dataset_sha256: String,
    /// The training config as given.
    pub config: serde_json::Value,
    pub config_sha256: String,
    pub seed: u64,
    pub git_commit: Option<String>,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC.
    pub finished_at: String,
}
