//! The training config: everything the `train` flags can say, as TOML.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use capstan_features::PipelineSpec;
use capstan_learn::gbdt::GbdtParams;
use capstan_learn::linear::LinearParams;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Gbdt,
    Linear,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Gbdt => "gbdt",
            ModelKind::Linear => "linear",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum TaskName {
    Binary,
    Multiclass,
    Regression,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "snake_case")]
pub enum SplitMethod {
    /// Seeded random holdout, stratified for classification.
    #[default]
    Random,
    /// The last rows (in file order, or sorted by `time_column`) are the test set.
    Time,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SplitConfig {
    pub method: SplitMethod,
    /// Fraction of rows held out for the test metrics.
    pub test_fraction: f64,
    /// Sort rows by this column before a time split.
    pub time_column: Option<String>,
    /// Also run k-fold cross-validation on the training part (0 = off).
    pub cv_folds: usize,
    /// Fraction of the training part used as the early-stopping validation set
    /// (only when `gbdt.early_stopping_rounds` is set).
    pub valid_fraction: f64,
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig {
            method: SplitMethod::Random,
            test_fraction: 0.2,
            time_column: None,
            cv_folds: 0,
            valid_fraction: 0.1,
        }
    }
}

/// A whole training job. Flags given on the command line override the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// A file, a directory of files, or a PostgreSQL URL (with `query`).
    pub data: Option<PathBuf>,
    /// The SQL query whose result is the data, for a PostgreSQL `data` URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub target: Option<String>,
    pub model: ModelKind,
    /// Inferred from the target when absent.
    pub task: Option<TaskName>,
    pub seed: u64,
    /// Binary classification: predict the positive class when P(positive) >= threshold.
    pub threshold: f64,
    /// A schema file (JSON) forcing column types when reading the data.
    pub schema: Option<PathBuf>,
    /// A rules file (TOML, as `capstan data validate` reads): the data must pass it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<PathBuf>,
    pub delimiter: Option<char>,
    pub name: Option<String>,
    /// Sensitive columns: bias checks before training, fairness metrics on the test split.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    /// A numeric column of row weights (gbdt): not a feature, not needed to predict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_column: Option<String>,
    pub split: SplitConfig,
    pub features: PipelineSpec,
    pub gbdt: GbdtParams,
    /// GBDT constraints by feature name (the alternative to `gbdt`'s by-index lists).
    #[serde(skip_serializing_if = "ConstraintsConfig::is_empty")]
    pub constraints: ConstraintsConfig,
    pub linear: LinearParams,
}

/// Monotone and interaction constraints of a GBDT, naming the features the pipeline outputs
/// (an input column's own name for a numeric or ordinal column).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConstraintsConfig {
    /// Feature -> 1 (the prediction never falls as it grows) or -1 (never rises); others free.
    pub monotone: BTreeMap<String, i8>,
    /// Groups of features; each branch of a tree splits on features of one group only.
    pub interaction: Vec<Vec<String>>,
}

impl ConstraintsConfig {
    pub fn is_empty(&self) -> bool {
        self.monotone.is_empty() && self.interaction.is_empty()
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            data: None,
            query: None,
            target: None,
            model: ModelKind::Gbdt,
            task: None,
            seed: 42,
            threshold: crate::evaluation::DEFAULT_THRESHOLD,
            schema: None,
            rules: None,
            delimiter: None,
            name: None,
            sensitive: Vec::new(),
            weight_column: None,
            split: SplitConfig::default(),
            features: PipelineSpec::default(),
            gbdt: GbdtParams::default(),
            constraints: ConstraintsConfig::default(),
            linear: LinearParams::default(),
        }
    }
}

impl TrainConfig {
    pub fn from_file(path: &Path) -> Result<TrainConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).map_err(|e| {
            crate::exit::input_error(format!("{}: invalid config: {e}", path.display()))
        })
    }

    /// The config as canonical JSON (what is hashed and stored as lineage).
    /// A password in a PostgreSQL `data` URL is redacted: it never reaches lineage or runs.
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = serde_json::to_value(self).expect("config is plain data");
        if let Some(serde_json::Value::String(data)) = json.get_mut("data") {
            *data = capstan_io::redact_password(data);
        }
        json
    }
}
