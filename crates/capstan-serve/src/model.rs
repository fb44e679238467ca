//! A loaded model version and what scoring it returns.

use capstan_bundle::Bundle;
use capstan_learn::Task;
use serde::Serialize;

/// One registered version, loaded and checked once at load time.
#[derive(Debug)]
pub struct LoadedModel {
    pub name: String,
    pub version: u32,
    pub bundle_sha256: String,
    pub bundle: Bundle,
}

/// What the model says about one row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Prediction {
    /// Classification: the predicted class label.
    Label(String),
    /// Regression: the predicted value.
    Value(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RowOutput {
    pub prediction: Prediction,
    /// Class probabilities in `Scored::classes` order; `None` for regression.
    pub probabilities: Option<Vec<f64>>,
    /// One number per row to compare two models: P(positive class) for binary, the
    /// predicted class's probability for multiclass, the value for regression.
    pub score: f64,
}

/// The outputs for a batch of rows, in request order.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub task: Task,
    /// Class labels; empty for regression.
    pub classes: Vec<String>,
    pub rows: Vec<RowOutput>,
}
