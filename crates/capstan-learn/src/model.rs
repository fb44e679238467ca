use capstan_frame::Matrix;
use serde::{Deserialize, Serialize};

use crate::{Task, gbdt::GbdtModel, linear::LinearModel};

/// Predictions for `n_rows` rows, `n_outputs` values each, row-major.
/// Regression: the value. Binary: P(class 1). Multiclass: one probability per class.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    pub n_rows: usize,
    pub n_outputs: usize,
    pub values: Vec<f64>,
}

impl Predictions {
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.n_outputs..(i + 1) * self.n_outputs]
    }
}

/// Any fitted model; serializable into a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Model {
    Linear(LinearModel),
    Gbdt(GbdtModel),
}

impl Model {
    pub fn task(&self) -> Task {
        match self {
            Model::Linear(m) => m.task(),
            Model::Gbdt(m) => m.task(),
        }
    }

    pub fn predict(&self, x: &Matrix) -> Predictions {
        match self {
            Model::Linear(m) => m.predict(x),
            Model::Gbdt(m) => m.predict(x),
        }
    }
}
