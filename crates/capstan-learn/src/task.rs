use serde::{Deserialize, Serialize};

/// What is predicted. Classification targets are class indices `0..n_classes` stored as f64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "task")]
pub enum Task {
    Regression,
    Binary,
    Multiclass { n_classes: usize },
}

impl Task {
    /// Number of values predicted per row: 1 for regression and binary (P(class 1)),
    /// `n_classes` probabilities for multiclass.
    pub fn n_outputs(self) -> usize {
        match self {
            Task::Regression | Task::Binary => 1,
            Task::Multiclass { n_classes } => n_classes,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Task::Regression => "regression",
            Task::Binary => "binary",
            Task::Multiclass { .. } => "multiclass",
        }
    }
}
