//! A loaded model version and what scoring it returns.

use capstan_bundle::Bundle;
use capstan_learn::Task;
use capstan_quality::rules::{RowRules, RuleSet};
use serde::Serialize;

/// One registered version, loaded and checked once at load time.
#[derive(Debug)]
pub struct LoadedModel {
    pub name: String,
    pub version: u32,
    pub bundle_sha256: String,
    pub bundle: Bundle,
    /// The bundle's row rules, compiled once; violations on live traffic are counted.
    pub rules: Option<RowRules>,
}

impl LoadedModel {
    pub fn new(name: String, version: u32, bundle_sha256: String, bundle: Bundle) -> LoadedModel {
        let rules = compile_rules(&name, version, &bundle);
        LoadedModel {
            name,
            version,
            bundle_sha256,
            bundle,
            rules,
        }
    }
}

/// The row rules a bundle carries. Rules that do not compile are reported and skipped:
/// they are only counted, so they never keep a model from serving.
fn compile_rules(name: &str, version: u32, bundle: &Bundle) -> Option<RowRules> {
    let json = bundle.manifest.rules.as_ref()?;
    let compiled = serde_json::from_value::<RuleSet>(json.clone())
        .map_err(|e| e.to_string())
        .and_then(|spec| RowRules::compile(&spec).map_err(|e| e.to_string()));
    match compiled {
        Ok(rules) if !rules.is_empty() => Some(rules),
        Ok(_) => None,
        Err(e) => {
            eprintln!("capstan serve: model '{name}' version {version}: ignoring its rules: {e}");
            None
        }
    }
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
